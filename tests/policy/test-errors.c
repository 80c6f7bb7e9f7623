/* Every diagnostic the parser can give, with its line and column. A case is
 * policy text and the exact diagnostics, one "LINE:COL: message" per line
 * (warnings say "warning: "). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vigil-error.h"

#define D "default deny\n"

typedef struct err_case {
        const char *text;
        const char *want;
} err_case;

static const err_case cases[] = {
        /* statements and their order */
        { "", "1:1: the file is empty: a policy needs at least 'default deny' or 'default allow'\n" },
        { "# nothing\n\n",
          "1:1: missing 'default' statement: a policy starts with 'default deny' or 'default allow'\n" },
        { "allow exe=/x\ndefault deny\n",
          "1:1: expected 'default allow' or 'default deny' before any other statement\n" },
        { "mask email\n", "1:1: expected 'default allow' or 'default deny' before any other statement\n" },
        { "default deny\ndefault allow\n", "2:1: 'default' given twice (first on line 1)\n" },
        { "default\n", "1:1: 'default' takes 'allow' or 'deny'\n" },
        { "default hold\n", "1:9: 'default' takes 'allow' or 'deny', not 'hold'\n" },
        { "default deny=1\n", "1:9: 'default' takes 'allow' or 'deny'\n" },
        { "default deny now\n", "1:14: unexpected 'now' after 'default deny'\n" },
        { D "frob exe=/x\n",
          "2:1: unknown statement 'frob' (expected default, allow, deny, hold, audit, mask or record)\n" },
        { D "exe=/x\n",
          "2:1: unknown statement 'exe' (expected default, allow, deny, hold, audit, mask or record)\n" },
        { D "Allow\n",
          "2:1: unknown statement 'Allow' (expected default, allow, deny, hold, audit, mask or record)\n" },
        /* lexical */
        { D "allow exe='/x\n", "2:11: unterminated single quote\n" },
        { D "allow exe=\"/x\n", "2:11: unterminated double quote\n" },
        { D "allow exe:/x\n", "2:10: expected '=', '!=', '~' or '!~' after the name\n" },
        { D "allow 'x'\n", "2:7: a quoted value needs a NAME= before it (e.g. exe='/opt/my app/*')\n" },
        { D "allow =x\n", "2:7: expected a name before the operator\n" },
        { D "allow /usr/bin/ls\n", "2:7: expected a word or NAME=VALUE\n" },
        { D "allow exe=/x\x01\n", "2:13: control character 0x01\n" },
        { D "allow message=\"a\x1b[2Jb\"\n", "2:17: control character 0x1b\n" },
        { D "allow exe=/x\x7f\n", "2:13: control character 0x7f\n" },
        { D "allow exe=/x\r\r\n", "2:13: control character 0x0d\n" },
        /* conditions */
        { D "allow git\n", "2:7: expected CONDITION or OPTION=VALUE, got 'git'\n" },
        { D "allow foo=bar\n", "2:7: unknown condition or option 'foo'\n" },
        { D "allow EXE=/x\n", "2:7: unknown condition or option 'EXE'\n" },
        { D "allow exe~x\n", "2:7: 'exe' takes '=' or '!=' and a path glob, not '~'\n" },
        { D "allow cwd!~x\n", "2:7: 'cwd' takes '=' or '!=' and a path glob, not '!~'\n" },
        { D "allow cmd=x\n", "2:7: 'cmd' takes '~' or '!~' and a regex, not '='\n" },
        { D "allow arg!=x\n", "2:7: 'arg' takes '~' or '!~' and a regex, not '!='\n" },
        { D "allow user~x\n", "2:7: 'user' takes '=' or '!=' and a name, not '~'\n" },
        { D "allow exe=\n", "2:11: empty value for 'exe'\n" },
        { D "allow group=''\n", "2:13: empty value for 'group'\n" },
        { D "allow exe=usr/bin/ls\n",
          "2:11: 'exe' needs an absolute path glob (starting with '/' or '**'), got 'usr/bin/ls'\n" },
        { D "allow cwd=*/x\n", "2:11: 'cwd' needs an absolute path glob (starting with '/' or '**'), got '*/x'\n" },
        { D "allow exe=/a/[bc\n", "2:14: bad glob '/a/[bc': unterminated '['\n" },
        { D "allow exe=/a/[[:alpha:]]\n",
          "2:14: bad glob '/a/[[:alpha:]]': character classes like [:alpha:] are not supported\n" },
        { D "allow exe=/a\\\n", "2:13: bad glob '/a\\': '\\' must be followed by a character other than '/'\n" },
        { D "allow cmd~'(abc'\n", "2:11: bad regex '(abc': missing closing parenthesis at offset 4\n" },
        { D "allow arg~\"[z\"\n", "2:11: bad regex '[z': missing terminating ] for character class at offset 2\n" },
        { D "allow cmd~a{2,1}\n", "2:11: bad regex 'a{2,1}': numbers out of order in {} quantifier at offset 5\n" },
        { D "allow cmd~(*UTF)x\n", "2:11: bad regex '(*UTF)x': using UTF is disabled by the application at offset 6\n" },
        /* options */
        { D "deny message\n", "2:6: expected CONDITION or OPTION=VALUE, got 'message'\n" },
        { D "deny message~x\n", "2:6: 'message' is an option: write message=VALUE\n" },
        { D "deny message=\n", "2:14: empty value for 'message'\n" },
        { D "allow message=hi\n", "2:7: option 'message' is only valid on deny, hold or audit, not on allow\n" },
        { D "deny approvers=group:x\n", "2:6: option 'approvers' is only valid on hold, not on deny\n" },
        { D "audit timeout=1m\n", "2:7: option 'timeout' is only valid on hold, not on audit\n" },
        { D "allow remember=session\n", "2:7: option 'remember' is only valid on hold, not on allow\n" },
        { D "hold timeout=1m timeout=2m\n", "2:17: option 'timeout' given twice\n" },
        { D "hold timeout=5\n", "2:14: bad duration '5': expected a number and s, m or h (90s, 10m, 1h)\n" },
        { D "hold timeout=5x\n", "2:14: bad duration '5x': expected a number and s, m or h (90s, 10m, 1h)\n" },
        { D "hold timeout=1h30m\n", "2:14: bad duration '1h30m': expected a number and s, m or h (90s, 10m, 1h)\n" },
        { D "hold timeout=-1s\n", "2:14: bad duration '-1s': expected a number and s, m or h (90s, 10m, 1h)\n" },
        { D "hold timeout=0s\n", "2:14: bad duration '0s': a hold timeout is between 1s and 24h\n" },
        { D "hold timeout=25h\n", "2:14: bad duration '25h': a hold timeout is between 1s and 24h\n" },
        { D "hold timeout=99999999999999999999s\n",
          "2:14: bad duration '99999999999999999999s': expected a number and s, m or h (90s, 10m, 1h)\n" },
        { D "hold approvers=bob\n",
          "2:16: bad approvers 'bob': expected group:NAME, user:NAME or local:NAME, separated by commas\n" },
        { D "hold approvers=group:\n",
          "2:16: bad approvers 'group:': expected group:NAME, user:NAME or local:NAME, separated by commas\n" },
        { D "hold approvers=group:a,\n",
          "2:16: bad approvers 'group:a,': expected group:NAME, user:NAME or local:NAME, separated by commas\n" },
        { D "hold approvers=team:a\n",
          "2:16: bad approvers 'team:a': expected group:NAME, user:NAME or local:NAME, separated by commas\n" },
        { D "hold remember=forever\n", "2:15: bad value 'forever' for 'remember': the only value is 'session'\n" },
        /* several problems on one line are all reported */
        { D "deny foo=1 exe~x approvers=x\n",
          "2:6: unknown condition or option 'foo'\n"
          "2:12: 'exe' takes '=' or '!=' and a path glob, not '~'\n"
          "2:18: option 'approvers' is only valid on hold, not on deny\n" },
        /* mask */
        { D "mask\n", "2:1: mask needs a detector name or regex=REGEX\n" },
        { D "mask bogus\n",
          "2:6: unknown mask detector 'bogus' (known: credit-card, aws-access-key, aws-secret-key, private-key, "
          "jwt, github-token, slack-token, ssn-us, email, iban, password-assignment)\n" },
        { D "mask email jwt\n", "2:12: mask takes one detector or regex=, not both\n" },
        { D "mask email regex=x\n", "2:12: mask takes one detector or regex=, not both\n" },
        { D "mask regex=x email\n", "2:14: mask takes one detector or regex=, not both\n" },
        { D "mask regex=x regex=y\n", "2:14: option 'regex' given twice\n" },
        { D "mask regex=\n", "2:12: empty value for 'regex'\n" },
        { D "mask regex~x\n", "2:6: 'regex' is an option: write regex=VALUE\n" },
        { D "mask regex='(x'\n", "2:12: bad regex '(x': missing closing parenthesis at offset 2\n" },
        { D "mask replace=x\n", "2:1: mask needs a detector name or regex=REGEX\n" },
        { D "mask email color=red\n", "2:12: unknown mask option 'color' (expected regex= or replace=)\n" },
        /* record */
        { D "record\n",
          "2:1: record needs at least one OPTION=VALUE (input, output, on_failure, binary, max_output)\n" },
        { D "record input\n",
          "2:8: 'input' is an option: write input=VALUE\n" },
        { D "record color=red\n",
          "2:8: unknown record option 'color' (expected input, output, on_failure, binary or max_output)\n" },
        { D "record input~yes\n", "2:8: 'input' is an option: write input=VALUE\n" },
        { D "record input=yes input=no\n", "2:18: option 'input' given twice\n" },
        { D "record input=maybe\n", "2:14: bad value 'maybe' for 'input': expected 'yes' or 'no'\n" },
        { D "record output=1\n", "2:15: bad value '1' for 'output': expected 'yes' or 'no'\n" },
        { D "record on_failure=ignore\n",
          "2:19: bad value 'ignore' for 'on_failure': expected 'kill' or 'continue'\n" },
        { D "record binary=raw\n", "2:15: bad value 'raw' for 'binary': expected 'digest' or 'full'\n" },
        { D "record max_output=12Q\n",
          "2:19: bad size '12Q' for 'max_output': expected a size such as 0 (no cap), 4096, 64K, 100M or 2G\n" },
        { D "record max_output=1MB\n",
          "2:19: bad size '1MB' for 'max_output': expected a size such as 0 (no cap), 4096, 64K, 100M or 2G\n" },
        { D "record max_output=99999999999G\n",
          "2:19: bad size '99999999999G' for 'max_output': expected a size such as 0 (no cap), 4096, 64K, 100M or "
          "2G\n" },
        /* warnings */
        { "default deny\nallow user=a exe=/x\nallow exe=/x user=a\n",
          "3:1: warning: rule is never used: the rule on line 2 has the same conditions\n" },
        { "default deny\nallow exe=/vtnx/**\n  deny exe='/vtnx/**' message=x\n",
          "3:3: warning: rule is never used: the rule on line 2 has the same conditions\n" },
        { "default deny\naudit\nallow user=a\nallow\n",
          "3:1: warning: rule is never used: the rule on line 2 matches everything\n"
          "4:1: warning: rule is never used: the rule on line 2 matches everything\n" },
        /* different conditions, negations or values do not shadow */
        { "default deny\nallow user=a\nallow user!=a\nallow user=b\nallow group=a\nallow user=a group=a\n", "" },
        /* errors and warnings together, in line order */
        { "default deny\nallow\nallow foo=1\nallow user=a\n",
          "3:7: unknown condition or option 'foo'\n"
          "4:1: warning: rule is never used: the rule on line 2 matches everything\n" },
        /* file-level */
        { "default deny\nallow exe=/x\0\n", "2:13: NUL byte: this is a binary file, not a policy\n" },
        { "\0", "1:1: NUL byte: this is a binary file, not a policy\n" },
};

static size_t case_len(const err_case *c)
{
        /* Cases may hold a NUL byte: measure up to the final "\n" that every
         * text with a NUL ends with. */
        const char *s = c->text;
        size_t n = strlen(s);

        if (strstr(c->want, "NUL byte"))
                n += 1 + strlen(s + n + 1);
        return n;
}

static char *render(const vigil_diags *d)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        assert_non_null(f);
        for (size_t i = 0; i < d->n; i++)
                fprintf(f, "%u:%u: %s%s\n", d->items[i].line, d->items[i].column,
                        d->items[i].level == VIGIL_DIAG_WARNING ? "warning: " : "", d->items[i].message);
        fclose(f);
        return out;
}

static void test_table(void **state)
{
        unsigned bad = 0;

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                const err_case *c = &cases[i];
                size_t len = case_len(c);
                vigil_diags d = { 0 };
                vigil_policy *p = NULL;
                char *got;
                int r;

                r = vigil_policy_parse(c->text, len, "t.policy", &p, &d);
                got = render(&d);
                if (strcmp(got, c->want) != 0) {
                        print_error("case %zu '%s':\n got:\n%s want:\n%s", i, c->text, got, c->want);
                        bad++;
                }
                /* Errors fail the parse and return no policy; warnings alone do not. */
                if (d.n_errors > 0) {
                        if (r != VIGIL_E_PARSE || p) {
                                print_error("case %zu: errors but r=%d p=%p\n", i, r, (void *)p);
                                bad++;
                        }
                } else if (r != 0 || !p) {
                        print_error("case %zu: no errors but r=%d\n", i, r);
                        bad++;
                }
                vigil_policy_free(p);
                vigil_diags_clear(&d);
                free(got);
        }
        assert_int_equal(bad, 0);
}

/* Problems of size: a too-long line, a too-long regex, too many errors,
 * too many rules, a too-big file, and a file that cannot be read. */
static void expect_one(const char *text, size_t len, int want_r, const char *want)
{
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        char *got;
        int r = vigil_policy_parse(text, len, "t", &p, &d);

        got = render(&d);
        assert_int_equal(r, want_r);
        assert_null(p);
        assert_string_equal(got, want);
        free(got);
        vigil_diags_clear(&d);
}

static void test_bounds(void **state)
{
        size_t big = VIGIL_POLICY_MAX_LINE + 100;
        char *t = malloc(VIGIL_POLICY_MAX_FILE + 2), want[256];
        size_t n;

        (void)state;
        assert_non_null(t);

        n = (size_t)sprintf(t, "default deny\nallow message=");
        memset(t + n, 'x', big);
        n += big;
        n += (size_t)sprintf(t + n, "\nallow foo=1\n");
        snprintf(want, sizeof want,
                 "2:1: line is longer than %u bytes\n3:7: unknown condition or option 'foo'\n",
                 VIGIL_POLICY_MAX_LINE);
        expect_one(t, n, VIGIL_E_PARSE, want);

        n = (size_t)sprintf(t, "default deny\nallow cmd~");
        memset(t + n, 'x', VIGIL_POLICY_MAX_REGEX + 1);
        n += VIGIL_POLICY_MAX_REGEX + 1;
        snprintf(want, sizeof want, "2:11: regex is longer than %u bytes\n", VIGIL_POLICY_MAX_REGEX);
        expect_one(t, n, VIGIL_E_PARSE, want);

        /* A regex of exactly the bound is fine. */
        n = (size_t)sprintf(t, "default deny\nallow cmd~");
        memset(t + n, 'x', VIGIL_POLICY_MAX_REGEX);
        n += VIGIL_POLICY_MAX_REGEX;
        {
                vigil_policy *p = NULL;

                assert_int_equal(vigil_policy_parse(t, n, "t", &p, NULL), 0);
                vigil_policy_free(p);
        }

        memset(t, 0, 1);
        n = (size_t)sprintf(t, "default deny\n");
        for (int i = 0; i < 60; i++)
                n += (size_t)sprintf(t + n, "allow foo=1\n");
        {
                vigil_diags d = { 0 };
                vigil_policy *p = NULL;

                assert_int_equal(vigil_policy_parse(t, n, "t", &p, &d), VIGIL_E_PARSE);
                assert_int_equal(d.n, 51);
                assert_int_equal(d.items[50].line, 51);
                assert_string_equal(d.items[50].message, "too many errors, stopping here");
                vigil_diags_clear(&d);
        }

        memset(t, '#', VIGIL_POLICY_MAX_FILE + 1);
        snprintf(want, sizeof want, "0:0: file is larger than %u bytes\n", VIGIL_POLICY_MAX_FILE);
        expect_one(t, VIGIL_POLICY_MAX_FILE + 1, VIGIL_E_TOO_BIG, want);
        free(t);
}

static void test_max_rules(void **state)
{
        size_t cap = 32 * (VIGIL_POLICY_MAX_RULES + 2), n;
        char *t = malloc(cap), want[128];

        (void)state;
        assert_non_null(t);
        n = (size_t)sprintf(t, "default deny\n");
        for (unsigned i = 0; i <= VIGIL_POLICY_MAX_RULES; i++)
                n += (size_t)sprintf(t + n, "allow user=u%u\n", i);
        snprintf(want, sizeof want, "%u:1: more than %u rules\n", VIGIL_POLICY_MAX_RULES + 2,
                 VIGIL_POLICY_MAX_RULES);
        expect_one(t, n, VIGIL_E_PARSE, want);
        free(t);
}

static void test_load(void **state)
{
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;

        (void)state;
        assert_int_equal(vigil_policy_load("/vigil-test-nonexistent/policy", &p, &d), -ENOENT);
        assert_null(p);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.items[0].line, 0);
        assert_string_equal(d.items[0].message, "cannot read the policy: No such file or directory");
        vigil_diags_clear(&d);

        assert_int_equal(vigil_policy_load("/", &p, &d), -EISDIR);
        assert_string_equal(d.items[0].message, "cannot read the policy: Is a directory");
        vigil_diags_clear(&d);

        /* Diagnostics are optional. */
        assert_int_equal(vigil_policy_load("/", &p, NULL), -EISDIR);
        assert_int_equal(vigil_policy_parse("allow", 5, "t", &p, NULL), VIGIL_E_PARSE);
        assert_null(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_max_rules),
                cmocka_unit_test(test_load),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
