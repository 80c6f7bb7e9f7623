/* Predicting what an execve runs: the interpreter line as the kernel reads
 * it, the dynamic loader's options, path resolution for a real process
 * (this one), and whole plans judged by a real policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "policy.h"
#include "resolve.h"

static char dir[] = "/tmp/vigil-resolve-XXXXXX";

static void check_shebang(const char *buf, size_t len, int want, const char *interp, const char *arg)
{
        char *i = NULL, *a = NULL;
        int r = shebang_parse(buf, len, &i, &a);

        assert_int_equal(r, want);
        if (r == 1) {
                assert_string_equal(i, interp);
                if (arg)
                        assert_string_equal(a, arg);
                else
                        assert_null(a);
        }
        free(i);
        free(a);
}

#define SB(s, want, i, a) check_shebang(s, sizeof(s) - 1, want, i, a)

static void test_shebang(void **state)
{
        char longline[EXEC_HEADER_SIZE];

        (void)state;
        SB("#!/bin/sh\necho", 1, "/bin/sh", NULL);
        SB("#! /bin/sh\n", 1, "/bin/sh", NULL);
        SB("#!/usr/bin/env python3\n", 1, "/usr/bin/env", "python3");
        SB("#!/usr/bin/env  -S  a b \t\n", 1, "/usr/bin/env", "-S  a b");
        SB("#!/bin/sh   \n", 1, "/bin/sh", NULL);
        SB("#!\t/bin/bash\t-e\n", 1, "/bin/bash", "-e");
        SB("#!/bin/sh", 1, "/bin/sh", NULL); /* no newline, short file */
        SB("#!\n", -ENOEXEC, NULL, NULL);
        SB("#!\0\0n/sh", 1, "", NULL); /* the kernel takes an empty name (and the exec fails) */
        SB("#!   \n", -ENOEXEC, NULL, NULL);
        SB("#", 0, NULL, NULL);
        SB("\x7f"
           "ELF",
           0, NULL, NULL);
        SB("", 0, NULL, NULL);
        /* a line longer than the buffer with no blank: the name may be cut */
        memset(longline, 'a', sizeof(longline));
        memcpy(longline, "#!/", 3);
        check_shebang(longline, sizeof(longline), -ENOEXEC, NULL, NULL);
        /* ... but with a blank after the name, the name is whole */
        memcpy(longline, "#!/bin/sh ", 10);
        {
                char *i = NULL, *a = NULL;

                assert_int_equal(shebang_parse(longline, sizeof(longline), &i, &a), 1);
                assert_string_equal(i, "/bin/sh");
                assert_int_equal(strlen(a), EXEC_HEADER_SIZE - 1 - 10);
                free(i);
                free(a);
        }
}

static void check_ldso(const char *const *argv, size_t n, int want, size_t idx, const char *argv0)
{
        strv sv = {0};
        const char *a0 = NULL;
        size_t i = 0;

        assert_int_equal(strv_copy(argv, n, &sv), 0);
        assert_int_equal(ldso_find_prog(&sv, &i, &a0), want);
        if (want == 1) {
                assert_int_equal(i, idx);
                if (argv0)
                        assert_string_equal(a0, argv0);
                else
                        assert_null(a0);
        }
        strv_clear(&sv);
}

static void test_ldso(void **state)
{
        const char *a1[] = {"ld.so", "/bin/ls", "-l"};
        const char *a2[] = {"ld.so", "--library-path", "/x",   "--preload",
                            "y.so",  "--argv0",        "name", "/bin/ls"};
        const char *a3[] = {"ld.so", "--list", "--verify", "--inhibit-cache", "/bin/ls"};
        const char *a4[] = {"ld.so", "--help", "/bin/ls"};
        const char *a5[] = {"ld.so"};
        const char *a6[] = {"ld.so", "--audit"};
        const char *a7[] = {"ld.so", "--frob", "/bin/ls"};

        (void)state;
        check_ldso(a1, 3, 1, 1, NULL);
        check_ldso(a2, 8, 1, 7, "name");
        check_ldso(a3, 5, 1, 4, NULL);
        check_ldso(a4, 3, 0, 0, NULL);
        check_ldso(a5, 1, 0, 0, NULL);
        check_ldso(a6, 2, 0, 0, NULL);
        check_ldso(a7, 3, 1, 1, NULL); /* ld.so takes an unknown option as the program */
        assert_true(exec_path_is_loader("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
        assert_true(exec_path_is_loader("/lib/ld-musl-x86_64.so.1"));
        assert_true(exec_path_is_loader("/lib64/ld64.so.2"));
        assert_false(exec_path_is_loader("/usr/bin/ldd"));
        assert_false(exec_path_is_loader("/usr/bin/ld"));
}

static void test_filename(void **state)
{
        char *s = NULL;

        (void)state;
        assert_int_equal(exec_filename(AT_FDCWD, "x/y", &s), 0);
        assert_string_equal(s, "x/y");
        free(s);
        assert_int_equal(exec_filename(5, "/abs", &s), 0);
        assert_string_equal(s, "/abs");
        free(s);
        assert_int_equal(exec_filename(5, "", &s), 0);
        assert_string_equal(s, "/dev/fd/5");
        free(s);
        assert_int_equal(exec_filename(5, "rel", &s), 0);
        assert_string_equal(s, "/dev/fd/5/rel");
        free(s);
}

static void put(const char *name, const char *text, mode_t mode)
{
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
        char path[PATH_MAX];

        (void)state;
        assert_non_null(mkdtemp(dir));
        put("script", "#!/bin/sh -e\necho hi\n", 0755);
        put("nested", "#!SCRIPT\n", 0755); /* replaced below */
        snprintf(path, sizeof(path), "#!%s/script x\n", dir);
        put("nested", path, 0755);
        put("plain", "just text\n", 0755);
        put("bad", "#!\n", 0755);
        put("missing", "#!/nonexistent/interp\n", 0755);
        snprintf(path, sizeof(path), "%s/link", dir);
        assert_int_equal(symlink("/usr/bin/env", path), 0);
        snprintf(path, sizeof(path), "%s/sub", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        return 0;
}

static int teardown(void **state)
{
        char cmd[PATH_MAX + 16];

        (void)state;
        /* test_exec_cache's top-level link, if it stopped half-way */
        snprintf(cmd, sizeof(cmd), "/vigil-test-%d", (int)getpid());
        (void)unlink(cmd);
        snprintf(cmd, sizeof(cmd), "/vigil-test-%d.new", (int)getpid());
        (void)unlink(cmd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_resolve_self(void **state)
{
        exec_ctx c = {.rootfd = -1, .cwdfd = -1};
        exec_file f = {.fd = -1};
        char path[PATH_MAX], cwd[PATH_MAX];
        int fd, mfd;

        (void)state;
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(dir), 0);
        /* without the cwd's name (no cwd= rule): relative paths still
         * resolve from the cwd itself */
        assert_int_equal(exec_ctx_open(getpid(), getpid(), true, false, &c), 0);
        assert_true(c.same_root);
        assert_null(c.cwd);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "./script", 0, &f), 0);
        snprintf(path, sizeof(path), "%s/script", dir);
        assert_string_equal(f.path, path);
        exec_file_done(&f);
        exec_ctx_done(&c);
        c = (exec_ctx){.rootfd = -1, .cwdfd = -1};
        assert_int_equal(exec_ctx_open(getpid(), getpid(), true, true, &c), 0);
        assert_true(c.same_root);
        assert_string_equal(c.cwd, dir);

        /* an absolute path without symlinks: its canonical form */
        if (access("/usr/bin/env", X_OK) == 0) {
                struct stat a;

                assert_int_equal(lstat("/usr/bin/env", &a), 0);
                if (!S_ISLNK(a.st_mode)) {
                        assert_int_equal(exec_resolve(&c, AT_FDCWD, "//usr/./lib/../bin//env", 0, &f), 0);
                        assert_string_equal(f.path, "/usr/bin/env");
                        assert_int_equal(f.st.st_ino, a.st_ino);
                        exec_file_done(&f);
                }
        }
        /* a symlink resolves to its target */
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "link", 0, &f), 0);
        assert_false(f.fileless);
        assert_non_null(strstr(f.path, "/env"));
        exec_file_done(&f);
        /* ... but not with AT_SYMLINK_NOFOLLOW */
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, &f), -ELOOP);
        /* relative to the cwd, and through a directory fd */
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "./script", 0, &f), 0);
        snprintf(path, sizeof(path), "%s/script", dir);
        assert_string_equal(f.path, path);
        exec_file_done(&f);
        fd = open(dir, O_PATH | O_DIRECTORY);
        assert_int_equal(exec_resolve(&c, fd, "script", 0, &f), 0);
        assert_string_equal(f.path, path);
        exec_file_done(&f);
        close(fd);
        /* AT_EMPTY_PATH on a file fd, and /proc/self/fd/N naming our own fd */
        fd = open(path, O_RDONLY);
        assert_int_equal(exec_resolve(&c, fd, "", AT_EMPTY_PATH, &f), 0);
        assert_string_equal(f.path, path);
        exec_file_done(&f);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, path, 0, &f), 0);
        assert_non_null(strstr(f.path, "/script"));
        exec_file_done(&f);
        snprintf(path, sizeof(path), "/dev/fd/%d", fd);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, path, 0, &f), 0);
        exec_file_done(&f);
        close(fd);
        assert_int_equal(exec_resolve(&c, 1000, "", AT_EMPTY_PATH, &f), -EBADF);
        /* what the kernel refuses */
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "nothere", 0, &f), -ENOENT);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "script/x", 0, &f), -ENOTDIR);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "sub", 0, &f), -EACCES);
        assert_int_equal(exec_resolve(&c, AT_FDCWD, "", 0, &f), -ENOENT);
        /* a memfd and a deleted file have no path */
        mfd = memfd_create("x", MFD_CLOEXEC);
        assert_true(mfd >= 0);
        assert_int_equal(exec_resolve(&c, mfd, "", AT_EMPTY_PATH, &f), 0);
        assert_true(f.fileless);
        assert_null(f.path);
        exec_file_done(&f);
        close(mfd);
        put("gone", "x", 0755);
        snprintf(path, sizeof(path), "%s/gone", dir);
        fd = open(path, O_RDONLY);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(exec_resolve(&c, fd, "", AT_EMPTY_PATH, &f), 0);
        assert_true(f.fileless);
        exec_file_done(&f);
        close(fd);
        exec_ctx_done(&c);
        assert_int_equal(chdir(cwd), 0);
}

/* A plan for an execve this process would make, judged by @policy_text. */
static int plan_for(const char *policy_text, const char *path, const char *const *argv, size_t argc,
                    exec_plan *ret, vigil_policy **ret_policy)
{
        exec_ctx c = {.rootfd = -1, .cwdfd = -1};
        exec_input in = {.tid = getpid(), .dirfd = AT_FDCWD, .pidfd = -1};
        uid_names names = {0};
        vigil_policy *p = NULL;
        plan_env env = {.user = "alice", .names = &names};
        int r;

        assert_int_equal(vigil_policy_parse(policy_text, strlen(policy_text), "t.policy", &p, NULL), 0);
        env.policy = p;
        in.st.tgid = getpid();
        in.st.euid = geteuid();
        in.path = strdup(path);
        assert_int_equal(strv_copy(argv, argc, &in.argv), 0);
        /* as the supervisor does: the cwd's name only for cwd= rules */
        assert_int_equal(exec_ctx_open(getpid(), getpid(), true, vigil_policy_uses_cwd(p), &c), 0);
        r = plan_build(&env, &c, &in, ret);
        exec_ctx_done(&c);
        exec_input_done(&in);
        uid_names_done(&names);
        *ret_policy = p;
        return r;
}

static void test_plan_script(void **state)
{
        char script[PATH_MAX], nested[PATH_MAX];
        const char *argv[] = {"myscript", "arg1"};
        vigil_policy *p = NULL;
        exec_plan plan;

        (void)state;
        snprintf(script, sizeof(script), "%s/script", dir);
        snprintf(nested, sizeof(nested), "%s/nested", dir);
        /* script -> /bin/sh -e: both steps, the kernel's argv for the interpreter */
        assert_int_equal(plan_for("default allow\ndeny exe=/usr/bin/dash\n", script, argv, 2, &plan, &p), 0);
        assert_int_equal(plan.error, 0);
        assert_int_equal(plan.n, 2);
        assert_int_equal(plan.image, 1);
        assert_string_equal(plan.steps[0].exe, script);
        assert_string_equal(plan.steps[1].argv.v[0], "/bin/sh");
        assert_string_equal(plan.steps[1].argv.v[1], "-e");
        assert_string_equal(plan.steps[1].argv.v[2], script);
        assert_string_equal(plan.steps[1].argv.v[3], "arg1");
        assert_int_equal(plan.steps[1].argv.n, 4);
        /* the interpreter is denied, so the whole exec is */
        assert_int_equal(plan.action, VIGIL_ACTION_DENY);
        assert_int_equal(plan.deciding, 1);
        exec_plan_done(&plan);
        vigil_policy_free(p);

        /* nested: nested -> script x -> /bin/sh -e */
        assert_int_equal(plan_for("default allow\n", nested, argv, 2, &plan, &p), 0);
        assert_int_equal(plan.n, 3);
        assert_int_equal(plan.action, VIGIL_ACTION_ALLOW);
        {
                const char *want[] = {"/bin/sh", "-e", script, "x", nested, "arg1"};
                const strv *got = &plan.steps[2].argv;

                assert_int_equal(got->n, 6);
                for (size_t i = 0; i < 6; i++)
                        assert_string_equal(got->v[i], want[i]);
        }
        exec_plan_done(&plan);
        vigil_policy_free(p);
}

static void test_plan_errors(void **state)
{
        char path[PATH_MAX];
        const char *argv[] = {"x"};
        vigil_policy *p = NULL;
        exec_plan plan;

        (void)state;
        snprintf(path, sizeof(path), "%s/plain", dir);
        assert_int_equal(plan_for("default allow\n", path, argv, 1, &plan, &p), 0);
        assert_int_equal(plan.error, -ENOEXEC); /* the shell runs it itself */
        exec_plan_done(&plan);
        vigil_policy_free(p);
        snprintf(path, sizeof(path), "%s/bad", dir);
        assert_int_equal(plan_for("default allow\n", path, argv, 1, &plan, &p), 0);
        assert_int_equal(plan.error, -ENOEXEC);
        exec_plan_done(&plan);
        vigil_policy_free(p);
        snprintf(path, sizeof(path), "%s/missing", dir);
        assert_int_equal(plan_for("default allow\n", path, argv, 1, &plan, &p), 0);
        assert_int_equal(plan.error, -ENOENT);
        exec_plan_done(&plan);
        vigil_policy_free(p);
        assert_int_equal(plan_for("default allow\n", "/nonexistent/x", argv, 1, &plan, &p), 0);
        assert_int_equal(plan.error, -ENOENT);
        exec_plan_done(&plan);
        vigil_policy_free(p);
}

static void test_plan_ldso(void **state)
{
        const char *a1[] = {"/lib64/ld-linux-x86-64.so.2", "--argv0", "zz", "/usr/bin/env", "-i"};
        const char *a2[] = {"/lib64/ld-linux-x86-64.so.2", "env"};
        vigil_policy *p = NULL;
        exec_plan plan;

        (void)state;
        if (access(a1[0], X_OK) != 0)
                skip();
        assert_int_equal(plan_for("default allow\ndeny exe=/usr/bin/env\n", a1[0], a1, 5, &plan, &p), 0);
        assert_true(plan.ldso);
        assert_int_equal(plan.n, 2);
        assert_string_equal(plan.steps[1].exe, "/usr/bin/env");
        assert_string_equal(plan.steps[1].argv.v[0], "zz");
        assert_string_equal(plan.steps[1].argv.v[1], "-i");
        assert_int_equal(plan.action, VIGIL_ACTION_DENY);
        exec_plan_done(&plan);
        vigil_policy_free(p);
        /* a program without a slash: the loader would search for it; refused */
        assert_int_equal(plan_for("default allow\n", a2[0], a2, 2, &plan, &p), 0);
        assert_non_null(plan.reason);
        exec_plan_done(&plan);
        vigil_policy_free(p);
}

/* What the supervisor remembers (exec-cache.h) never changes an answer:
 * a top-level symlink is followed as the kernel does, and forgotten when it
 * is replaced; a program's first bytes are read again once it changed. The
 * symlink is made at the top of the file system for the test (as root; it is
 * skipped otherwise) and removed after. */
static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, 0755), 0);
}

static void resolve_both(exec_ctx *c, const char *path, int want, const char *want_path)
{
        exec_cache *cache = c->cache;

        /* without the cache, then with it (twice: learning, then using) */
        for (int round = 0; round < 3; round++) {
                exec_file f = {.fd = -1};

                c->cache = round == 0 ? NULL : cache;
                assert_int_equal(exec_resolve(c, AT_FDCWD, path, 0, &f), want);
                if (want == 0)
                        assert_string_equal(f.path, want_path);
                exec_file_done(&f);
        }
        c->cache = cache;
}

static void test_exec_cache(void **state)
{
        char top[64], a[PATH_MAX], b[PATH_MAX], p[PATH_MAX + 32], want[PATH_MAX + 32], hdr[EXEC_HEADER_SIZE];
        exec_ctx c = {.rootfd = -1, .cwdfd = -1};
        exec_cache cache = {0};
        exec_file f = {.fd = -1};
        size_t len;

        (void)state;
        assert_int_equal(exec_ctx_open(getpid(), getpid(), true, false, &c), 0);
        c.cache = &cache;

        /* the first bytes: read again after a change of the same size */
        snprintf(p, sizeof(p), "%s/hdr", dir);
        write_file(p, "#!/bin/zsh\n");
        assert_int_equal(exec_resolve(&c, AT_FDCWD, p, 0, &f), 0);
        assert_int_equal(exec_header(&cache, &f, hdr, &len), 0);
        assert_int_equal(exec_header(&cache, &f, hdr, &len), 0); /* from the cache */
        assert_int_equal(len, 11);
        assert_memory_equal(hdr, "#!/bin/zsh\n", 11);
        exec_file_done(&f);
        usleep(20000); /* past a coarse clock tick, for file systems without fine-grained times */
        write_file(p, "#!/bin/ksh\n");
        assert_int_equal(exec_resolve(&c, AT_FDCWD, p, 0, &f), 0);
        assert_int_equal(exec_header(&cache, &f, hdr, &len), 0);
        assert_memory_equal(hdr, "#!/bin/ksh\n", 11);
        exec_file_done(&f);

        if (geteuid() != 0) {
                exec_cache_done(&cache);
                exec_ctx_done(&c);
                skip();
        }
        /* /vigil-test-PID -> tmp/.../a (relative, as /bin -> usr/bin) */
        snprintf(a, sizeof(a), "%s/a", dir);
        snprintf(b, sizeof(b), "%s/b", dir);
        assert_int_equal(mkdir(a, 0755), 0);
        assert_int_equal(mkdir(b, 0755), 0);
        snprintf(p, sizeof(p), "%s/prog", a);
        write_file(p, "#!/bin/sh\n");
        snprintf(p, sizeof(p), "%s/prog", b);
        write_file(p, "#!/bin/sh\nexit 1\n");
        snprintf(p, sizeof(p), "%s/deeper", a);
        assert_int_equal(symlink(b, p), 0);
        snprintf(top, sizeof(top), "/vigil-test-%d", (int)getpid());
        assert_int_equal(symlink(a + 1, top), 0);

        snprintf(p, sizeof(p), "%s/prog", top);
        snprintf(want, sizeof(want), "%s/prog", a);
        resolve_both(&c, p, 0, want);
        assert_string_equal(cache.links[0].name, top); /* learned, and used in the third round */
        snprintf(p, sizeof(p), "%s//./prog", top);
        resolve_both(&c, p, 0, want);
        snprintf(p, sizeof(p), "%s/nothere", top);
        resolve_both(&c, p, -ENOENT, NULL);
        snprintf(p, sizeof(p), "%s/prog/x", top);
        resolve_both(&c, p, -ENOTDIR, NULL);
        /* another symlink behind the first: the path the kernel follows */
        snprintf(p, sizeof(p), "%s/deeper/prog", top);
        snprintf(want, sizeof(want), "%s/prog", b);
        resolve_both(&c, p, 0, want);
        /* ".." after the link goes up from its target */
        snprintf(p, sizeof(p), "%s/../b/prog", top);
        resolve_both(&c, p, 0, want);

        /* the link replaced by one to b: the remembered one is not used */
        snprintf(p, sizeof(p), "%s.new", top);
        assert_int_equal(symlink(b, p), 0);
        assert_int_equal(rename(p, top), 0);
        snprintf(p, sizeof(p), "%s/prog", top);
        resolve_both(&c, p, 0, want);
        /* and gone */
        assert_int_equal(unlink(top), 0);
        resolve_both(&c, p, -ENOENT, NULL);
        exec_cache_done(&cache);
        exec_ctx_done(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shebang),     cmocka_unit_test(test_ldso),
                cmocka_unit_test(test_filename),    cmocka_unit_test(test_resolve_self),
                cmocka_unit_test(test_plan_script), cmocka_unit_test(test_plan_errors),
                cmocka_unit_test(test_plan_ldso),   cmocka_unit_test(test_exec_cache),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
