/* What a parsed policy holds and decides: actions and options, first-match
 * order, defaults, mask and record statements, option values, decision
 * errors, explanations, prefix resolution, and the index agreeing with a
 * plain scan on a generated policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parser.h"
#include "policy.h"
#include "vigil-error.h"

static vigil_policy *parse_ok(const char *text)
{
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        int r = vigil_policy_parse(text, strlen(text), "pol", &p, &d);

        if (r < 0)
                fail_msg("parse: %d %s", r, d.n ? d.items[0].message : "");
        vigil_diags_clear(&d);
        return p;
}

static vigil_decision decide(const vigil_policy *p, const char *user, const char *exe, const char *cmdline)
{
        const char *argv[32];
        char buf[1024];
        vigil_request q = { .user = user, .runas = user, .cwd = "/", .exe = exe, .argv = argv };
        vigil_decision d;

        snprintf(buf, sizeof buf, "%s", cmdline);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && q.argc < 32; t = strtok_r(NULL, " ", &save))
                argv[q.argc++] = t;
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);
        return d;
}

static void test_actions_and_options(void **state)
{
        vigil_policy *p = parse_ok("# comment\n"
                                   "default allow\n"
                                   "\n"
                                   "deny exe=/vtnx/rm message='not here'\n"
                                   "hold exe=/vtnx/reboot approvers=group:sre,local:root timeout=90s remember=session\n"
                                   "hold exe=/vtnx/halt\n"
                                   "audit exe=/vtnx/curl message=\"audited\"\n"
                                   "allow exe=/vtnx/ls\n");
        vigil_decision d;

        (void)state;
        d = decide(p, "u", "/vtnx/rm", "rm");
        assert_int_equal(d.action, VIGIL_ACTION_DENY);
        assert_string_equal(d.file, "pol");
        assert_int_equal(d.line, 4);
        assert_string_equal(d.message, "not here");
        assert_null(d.approvers);
        assert_int_equal(d.timeout_ms, 0);
        assert_false(d.remember_session);

        d = decide(p, "u", "/vtnx/reboot", "reboot");
        assert_int_equal(d.action, VIGIL_ACTION_HOLD);
        assert_int_equal(d.line, 5);
        assert_null(d.message);
        assert_string_equal(d.approvers, "group:sre,local:root");
        assert_int_equal(d.timeout_ms, 90 * 1000);
        assert_true(d.remember_session);

        d = decide(p, "u", "/vtnx/halt", "halt");
        assert_int_equal(d.action, VIGIL_ACTION_HOLD);
        assert_int_equal(d.timeout_ms, 5 * 60 * 1000);
        assert_false(d.remember_session);

        d = decide(p, "u", "/vtnx/curl", "curl");
        assert_int_equal(d.action, VIGIL_ACTION_AUDIT);
        assert_string_equal(d.message, "audited");

        d = decide(p, "u", "/vtnx/ls", "ls");
        assert_int_equal(d.action, VIGIL_ACTION_ALLOW);
        assert_int_equal(d.line, 8);

        d = decide(p, "u", "/vtnx/other", "other");
        assert_int_equal(d.action, VIGIL_ACTION_ALLOW);
        assert_null(d.file);
        assert_int_equal(d.line, 0);
        vigil_policy_free(p);

        p = parse_ok("default deny\n");
        d = decide(p, "u", "/vtnx/ls", "ls");
        assert_int_equal(d.action, VIGIL_ACTION_DENY);
        assert_null(d.file);
        vigil_policy_free(p);

        assert_string_equal(vigil_action_name(VIGIL_ACTION_ALLOW), "allow");
        assert_string_equal(vigil_action_name(VIGIL_ACTION_DENY), "deny");
        assert_string_equal(vigil_action_name(VIGIL_ACTION_HOLD), "hold");
        assert_string_equal(vigil_action_name(VIGIL_ACTION_AUDIT), "audit");
}

/* The first rule whose conditions all hold decides, whatever the index
 * files each rule under. */
static void test_first_match(void **state)
{
        vigil_policy *p = parse_ok("default deny\n"
                                   "deny user=mallory\n"           /* 2: by user */
                                   "audit cmd~--dry-run\n"         /* 3: generic */
                                   "allow exe=/vtnx/bin/git\n"     /* 4: by exe */
                                   "deny exe=/vtnx/*/git\n"        /* 5: by basename */
                                   "hold exe=**/git arg~^push$\n"  /* 6: by basename */
                                   "allow exe=/vtnx/sbin/git\n");  /* 7: by exe */
        vigil_decision d;

        (void)state;
        assert_int_equal(decide(p, "mallory", "/vtnx/bin/git", "git status").line, 2);
        assert_int_equal(decide(p, "bob", "/vtnx/bin/git", "git push --dry-run").line, 3);
        assert_int_equal(decide(p, "bob", "/vtnx/bin/git", "git push").line, 4);
        d = decide(p, "bob", "/vtnx/sbin/git", "git push");
        assert_int_equal(d.line, 5);
        assert_int_equal(d.action, VIGIL_ACTION_DENY);
        assert_int_equal(decide(p, "bob", "/vtnx/a/b/git", "git push").line, 6);
        assert_null(decide(p, "bob", "/vtnx/a/b/git", "git pull").file);
        assert_null(decide(p, "bob", NULL, "git pull").file);
        vigil_policy_free(p);
}

static void test_mask_record(void **state)
{
        vigil_policy *p = parse_ok("default deny\n"
                                   "record input=yes\n"
                                   "mask credit-card\n"
                                   "allow user=a\n"
                                   "mask regex='token=[A-Za-z0-9]+' replace='token=***'\n"
                                   "mask jwt replace=[JWT]\n"
                                   "record input=no output=no on_failure=continue binary=full max_output=64K\n"
                                   "record max_output=2G\n");
        const vigil_record_opts *r;
        const vigil_mask_rule *m;

        (void)state;
        assert_int_equal(vigil_policy_n_masks(p), 3);
        m = vigil_policy_mask(p, 0);
        assert_string_equal(m->detector, "credit-card");
        assert_null(m->regex);
        assert_null(m->replace);
        assert_string_equal(m->file, "pol");
        assert_int_equal(m->line, 3);
        m = vigil_policy_mask(p, 1);
        assert_null(m->detector);
        assert_string_equal(m->regex, "token=[A-Za-z0-9]+");
        assert_string_equal(m->replace, "token=***");
        assert_int_equal(m->line, 5);
        m = vigil_policy_mask(p, 2);
        assert_string_equal(m->detector, "jwt");
        assert_string_equal(m->replace, "[JWT]");
        assert_null(vigil_policy_mask(p, 3));

        r = vigil_policy_record(p);
        assert_false(r->input);
        assert_false(r->output);
        assert_int_equal(r->on_failure, VIGIL_RECORD_FAIL_CONTINUE);
        assert_int_equal(r->binary, VIGIL_RECORD_BINARY_FULL);
        assert_int_equal(r->max_output, 2ull << 30);
        vigil_policy_free(p);

        p = parse_ok("default allow\n");
        r = vigil_policy_record(p);
        assert_false(r->input);
        assert_true(r->output);
        assert_int_equal(r->on_failure, VIGIL_RECORD_FAIL_KILL);
        assert_int_equal(r->binary, VIGIL_RECORD_BINARY_DIGEST);
        assert_int_equal(r->max_output, 0);
        assert_int_equal(vigil_policy_n_masks(p), 0);
        vigil_policy_free(p);

        for (size_t i = 0; vigil_mask_detectors[i]; i++) {
                char t[128];

                snprintf(t, sizeof t, "default deny\nmask %s\n", vigil_mask_detectors[i]);
                p = parse_ok(t);
                assert_string_equal(vigil_policy_mask(p, 0)->detector, vigil_mask_detectors[i]);
                vigil_policy_free(p);
        }
}

static void test_values(void **state)
{
        uint64_t v;

        (void)state;
        assert_int_equal(parse_duration_ms("90s", &v), 0);
        assert_int_equal(v, 90000);
        assert_int_equal(parse_duration_ms("10m", &v), 0);
        assert_int_equal(v, 600000);
        assert_int_equal(parse_duration_ms("1h", &v), 0);
        assert_int_equal(v, 3600000);
        assert_int_equal(parse_duration_ms("0s", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_duration_ms("", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("s", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("10", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("10ms", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("1d", &v), -EINVAL);
        assert_int_equal(parse_duration_ms(" 1s", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("+1s", &v), -EINVAL);
        assert_int_equal(parse_duration_ms("99999999999999999999999s", &v), -ERANGE);

        assert_int_equal(parse_size("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_size("4096", &v), 0);
        assert_int_equal(v, 4096);
        assert_int_equal(parse_size("64K", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(parse_size("64k", &v), 0);
        assert_int_equal(parse_size("100M", &v), 0);
        assert_int_equal(v, 100u << 20);
        assert_int_equal(parse_size("2G", &v), 0);
        assert_int_equal(v, 2ull << 30);
        assert_int_equal(parse_size("18446744073709551615", &v), 0);
        assert_int_equal(parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_size("17179869184G", &v), -ERANGE);
        assert_int_equal(parse_size("", &v), -EINVAL);
        assert_int_equal(parse_size("K", &v), -EINVAL);
        assert_int_equal(parse_size("1KB", &v), -EINVAL);
        assert_int_equal(parse_size("1T", &v), -EINVAL);
        assert_int_equal(parse_size("-1", &v), -EINVAL);

        assert_true(approvers_valid("group:sre"));
        assert_true(approvers_valid("group:sre,user:alice@example.com,local:root"));
        assert_true(approvers_valid("group:Domain Admins"));
        assert_false(approvers_valid(""));
        assert_false(approvers_valid("sre"));
        assert_false(approvers_valid("group:"));
        assert_false(approvers_valid("group:a,"));
        assert_false(approvers_valid(",group:a"));
        assert_false(approvers_valid("group:a,,user:b"));
        assert_false(approvers_valid("Group:a"));
}

static void collect(void *userdata, const char *file, unsigned line, const char *why)
{
        FILE *f = userdata;

        fprintf(f, "%s:%u: %s\n", file, line, why);
}

/* Explanations: one line per rule tried before the deciding one, naming
 * the condition that failed; subject text is cut and made printable. */
static void test_explain(void **state)
{
        vigil_policy *p = parse_ok("default deny\n"
                                   "allow user=bob\n"
                                   "allow user!=alice\n"
                                   "allow runas=root\n"
                                   "allow group=sre\n"
                                   "allow group!=dev\n"
                                   "allow exe=/vtnx/bin/git\n"
                                   "allow exe!=/vtnx/bin/*\n"
                                   "allow cwd=/srv/**\n"
                                   "allow cwd!=/home/**\n"
                                   "allow arg~^--force$\n"
                                   "allow arg!~^-x\n"
                                   "allow cmd~^git\n"
                                   "allow cmd!~tool\n"
                                   "hold user=alice\n"
                                   "allow\n");
        const char *argv[] = { "tool", "-a", "-xz", "\x1b[2J" };
        const char *groups[] = { "dev" };
        vigil_request q = { .user = "alice", .runas = "alice", .groups = groups, .n_groups = 1,
                            .cwd = "/home/alice", .exe = "/vtnx/bin/tool", .argv = argv, .argc = 4 };
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        vigil_decision d;

        (void)state;
        assert_non_null(f);
        assert_int_equal(vigil_policy_decide(p, &q, collect, f, &d), 0);
        fclose(f);
        assert_int_equal(d.action, VIGIL_ACTION_HOLD);
        assert_int_equal(d.line, 15);
        assert_string_equal(out, "pol:2: user 'alice' is not 'bob'\n"
                                 "pol:3: user is 'alice' (user!='alice')\n"
                                 "pol:4: runas 'alice' is not 'root'\n"
                                 "pol:5: not in group 'sre'\n"
                                 "pol:6: in group 'dev' (group!='dev')\n"
                                 "pol:7: exe '/vtnx/bin/tool' does not match '/vtnx/bin/git'\n"
                                 "pol:8: exe '/vtnx/bin/tool' matches '/vtnx/bin/*' (exe!=)\n"
                                 "pol:9: cwd '/home/alice' does not match '/srv/**'\n"
                                 "pol:10: cwd '/home/alice' matches '/home/**' (cwd!=)\n"
                                 "pol:11: no argument matches '^--force$'\n"
                                 "pol:12: argument 2 '-xz' matches '^-x' (arg!~)\n"
                                 "pol:13: cmd 'tool -a -xz \\x1b[2J' does not match '^git'\n"
                                 "pol:14: cmd 'tool -a -xz \\x1b[2J' matches 'tool' (cmd!~)\n");
        free(out);

        /* A fileless exec has no exe to match. */
        q.exe = NULL;
        out = NULL;
        f = open_memstream(&out, &len);
        assert_int_equal(vigil_policy_decide(p, &q, collect, f, &d), 0);
        fclose(f);
        assert_int_equal(d.line, 8);
        assert_non_null(strstr(out, "pol:7: no exe to match against '/vtnx/bin/git'\n"));
        free(out);
        vigil_policy_free(p);
}

/* Fail closed: too long a command line or a regex past its match limit is
 * an error (the caller denies), never a silent non-match. */
static void test_decide_errors(void **state)
{
        vigil_policy *p = parse_ok("default allow\n"
                                   "deny user=nobody\n"
                                   "deny cmd~'^(\\w+\\s?)*$'\n");
        size_t big = VIGIL_POLICY_MAX_CMDLINE;
        char *huge = malloc(big + 1), slow[64];
        const char *argv[2] = { "x", huge };
        vigil_request q = { .user = "u", .runas = "u", .cwd = "/", .exe = "/x", .argv = argv, .argc = 2 };
        struct timespec t0, t1;
        vigil_decision d;

        (void)state;
        assert_non_null(huge);
        memset(huge, 'a', big);
        huge[big] = '\0';
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), VIGIL_E_TOO_BIG);
        /* Even when no cmd~ rule would be reached, so the index cannot change the answer. */
        q.user = "nobody";
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), VIGIL_E_TOO_BIG);
        q.user = "u";
        huge[big - 3] = '\0'; /* "x " + argument + separator is exactly the bound */
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);

        /* Catastrophic backtracking stops at the match limit, quickly. */
        memset(slow, 'a', sizeof slow);
        slow[40] = '!';
        slow[41] = '\0';
        argv[1] = slow;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), VIGIL_E_TOO_BIG);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 2000000000L);

        /* Bad arguments. */
        assert_int_equal(vigil_policy_decide(NULL, &q, NULL, NULL, &d), -EINVAL);
        q.argv = NULL;
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), -EINVAL);
        q.argc = 0;
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);
        q.n_groups = 1;
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), -EINVAL);
        free(huge);
        vigil_policy_free(p);
}

/* exe=/cwd= resolve their literal prefix at load time, the way exe paths
 * are compared: a rule written with a symlinked directory matches the real
 * path. */
static void test_resolution(void **state)
{
        char dir[] = "/tmp/vigil-res-XXXXXX", *real, text[1024], path[PATH_MAX + 32], link[PATH_MAX + 32];
        vigil_policy *p;
        vigil_decision d;

        (void)state;
        assert_non_null(mkdtemp(dir));
        real = realpath(dir, NULL);
        assert_non_null(real);
        snprintf(path, sizeof path, "%s/usr-bin", real);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(link, sizeof link, "%s/bin", real);
        assert_int_equal(symlink("usr-bin", link), 0);

        snprintf(text, sizeof text, "default deny\nallow exe=%s/bin/*\nhold cwd=%s/bin/**\n", dir, dir);
        p = parse_ok(text);
        snprintf(path, sizeof path, "%s/usr-bin/ls", real);
        d = decide(p, "u", path, "ls");
        assert_int_equal(d.action, VIGIL_ACTION_ALLOW);
        {
                const char *argv[] = { "x" };
                vigil_request q = { .user = "u", .runas = "u", .cwd = link, .exe = "/vtnx/x", .argv = argv,
                                    .argc = 1 };

                snprintf(link, sizeof link, "%s/usr-bin/sub/dir", real);
                assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);
                assert_int_equal(d.action, VIGIL_ACTION_HOLD);
                snprintf(link, sizeof link, "%s/bin", real);
        }
        /* --explain shows both the written and the resolved pattern. */
        {
                char *out = NULL, want[PATH_MAX * 3];
                size_t len = 0;
                FILE *f = open_memstream(&out, &len);
                const char *argv[] = { "x" };
                vigil_request q = { .user = "u", .runas = "u", .cwd = "/", .exe = "/vtnx/x", .argv = argv,
                                    .argc = 1 };

                assert_non_null(f);
                assert_int_equal(vigil_policy_decide(p, &q, collect, f, &d), 0);
                fclose(f);
                snprintf(want, sizeof want, "pol:2: exe '/vtnx/x' does not match '%s/bin/*' (resolved '%s/usr-bin/*')\n",
                         dir, real);
                assert_non_null(strstr(out, want));
                free(out);
        }
        vigil_policy_free(p);

        (void)unlink(link);
        snprintf(path, sizeof path, "%s/usr-bin", real);
        (void)rmdir(path);
        (void)rmdir(real);
        free(real);
}

/* A generated policy with every kind of rule; the indexed decision must
 * equal the plain scan on many random requests. */
static unsigned rnd(unsigned *s)
{
        *s = *s * 1103515245u + 12345u;
        return (*s >> 8) & 0xffff;
}

static const char *const users[] = { "alice", "bob", "carol", "root" };
static const char *const dirs[] = { "/vtnx/bin", "/vtnx/sbin", "/vtnx/opt/x/bin", "/vtnx/usr/local/bin" };
static const char *const progs[] = { "git", "rm", "ls", "curl", "psql", "sh", "python3", "tar" };
static const char *const words[] = { "-rf", "--force", "push", "-c", "DROP", "x", "/", "install" };

static void gen_cond(unsigned *s, FILE *f, bool may_negate)
{
        const char *neg = may_negate && rnd(s) % 5 == 0 ? "!" : "";

        switch (rnd(s) % 9) {
        case 0:
        case 1:
                fprintf(f, " exe%s=%s/%s", neg, dirs[rnd(s) % 4], progs[rnd(s) % 8]);
                break;
        case 2:
                fprintf(f, " exe%s=/vtnx/**/%s", neg, progs[rnd(s) % 8]);
                break;
        case 3:
                fprintf(f, " exe%s=%s/*", neg, dirs[rnd(s) % 4]);
                break;
        case 4:
                fprintf(f, " user%s=%s", neg, users[rnd(s) % 4]);
                break;
        case 5:
                fprintf(f, " group%s=g%u", neg, rnd(s) % 3);
                break;
        case 6:
                fprintf(f, " arg%s~'^%s'", neg, words[rnd(s) % 8]);
                break;
        case 7:
                fprintf(f, " cmd%s~'%s\\s'", neg, progs[rnd(s) % 8]);
                break;
        default:
                fprintf(f, " runas%s=%s", neg, users[rnd(s) % 4]);
                break;
        }
}

static void ignore_explain(void *userdata, const char *file, unsigned line, const char *why)
{
        (void)userdata, (void)file, (void)line, (void)why;
}

static void test_index_equals_scan(void **state)
{
        static const char *const actions[] = { "allow", "deny", "hold", "audit" };
        unsigned s = 42, defaults = 0, hits = 0;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;

        (void)state;
        fprintf(f, "default deny\n");
        for (int i = 0; i < 400; i++) {
                unsigned n = rnd(&s) % 4;

                fprintf(f, "%s", actions[rnd(&s) % 4]);
                for (unsigned k = 0; k <= n; k++)
                        gen_cond(&s, f, k > 0);
                fputc('\n', f);
        }
        fclose(f);
        assert_int_equal(vigil_policy_parse(text, len, "gen", &p, &d), 0);
        vigil_diags_clear(&d);

        for (int i = 0; i < 20000; i++) {
                char exe[256];
                const char *argv[4], *groups[2];
                vigil_request q = { .argv = argv, .groups = groups, .cwd = "/" };
                vigil_decision d1, d2;
                int r1, r2;

                snprintf(exe, sizeof exe, "%s/%s", dirs[rnd(&s) % 4], progs[rnd(&s) % 8]);
                q.exe = rnd(&s) % 20 ? exe : NULL;
                q.user = users[rnd(&s) % 4];
                q.runas = users[rnd(&s) % 4];
                argv[q.argc++] = progs[rnd(&s) % 8];
                while (q.argc < 4 && rnd(&s) % 2)
                        argv[q.argc++] = words[rnd(&s) % 8];
                while (q.n_groups < 2 && rnd(&s) % 2) {
                        groups[q.n_groups] = q.n_groups ? "g1" : (rnd(&s) % 2 ? "g0" : "g2");
                        q.n_groups++;
                }
                if (rnd(&s) % 4 == 0) {
                        /* A stranger: only rules made of negations can match. */
                        q.user = q.runas = "zed";
                        q.exe = "/vtnx/elsewhere/zzz";
                        argv[0] = "zzz";
                        q.argc = 1;
                        q.n_groups = 0;
                }
                r1 = vigil_policy_decide(p, &q, NULL, NULL, &d1);
                r2 = vigil_policy_decide(p, &q, ignore_explain, NULL, &d2);
                assert_int_equal(r1, 0);
                assert_int_equal(r2, 0);
                if (d1.action != d2.action || d1.line != d2.line)
                        fail_msg("request %d: indexed %s:%u, scan %s:%u", i, vigil_action_name(d1.action), d1.line,
                                 vigil_action_name(d2.action), d2.line);
                if (d1.file)
                        hits++;
                else
                        defaults++;
        }
        /* The generated mix must exercise both outcomes. */
        print_message("# %u rule decisions, %u defaults\n", hits, defaults);
        assert_true(hits > 1000);
        assert_true(defaults > 100);
        vigil_policy_free(p);
        free(text);
}

/* One policy, two threads deciding at once, each checking its answers. */
typedef struct thread_arg {
        const vigil_policy *p;
        int bad;
} thread_arg;

static void *decide_loop(void *data)
{
        thread_arg *a = data;

        for (int i = 0; i < 20000; i++) {
                const char *argv[] = { "git", i % 2 ? "push" : "status" };
                vigil_request q = { .user = "u", .runas = "u", .cwd = "/", .exe = "/vtnx/git", .argv = argv,
                                    .argc = 2 };
                vigil_decision d;

                if (vigil_policy_decide(a->p, &q, NULL, NULL, &d) != 0 ||
                    d.action != (i % 2 ? VIGIL_ACTION_HOLD : VIGIL_ACTION_ALLOW))
                        a->bad++;
        }
        return NULL;
}

static void test_threads(void **state)
{
        vigil_policy *p = parse_ok("default deny\nhold exe=/vtnx/git arg~'^pu(sh|ll)$'\nallow exe=/vtnx/git\n");
        thread_arg a = { .p = p }, b = { .p = p };
        pthread_t t;

        (void)state;
        assert_int_equal(pthread_create(&t, NULL, decide_loop, &a), 0);
        (void)decide_loop(&b);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(a.bad, 0);
        assert_int_equal(b.bad, 0);
        vigil_policy_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_actions_and_options),
                cmocka_unit_test(test_first_match),
                cmocka_unit_test(test_mask_record),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_explain),
                cmocka_unit_test(test_decide_errors),
                cmocka_unit_test(test_resolution),
                cmocka_unit_test(test_index_equals_scan),
                cmocka_unit_test(test_threads),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
