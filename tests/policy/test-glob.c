/* Path globs: the match table (glob-cases.txt), the error table
 * (glob-errors.txt), and literal-prefix resolution against a real directory
 * tree with symlinks. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "glob.h"
#include "policy.h"
#include "table.h"

static const char *srcdir;

static void test_match_table(void **state)
{
        char path[PATH_MAX], *buf = NULL;
        unsigned lineno = 0, n = 0, bad = 0;
        size_t cap = 0;
        table_row row;
        FILE *f;

        (void)state;
        snprintf(path, sizeof path, "%s/glob-cases.txt", srcdir);
        f = fopen(path, "re");
        assert_non_null(f);
        while (table_next(f, &buf, &cap, &lineno, &row)) {
                const char *msg;
                glob_pat g;
                size_t off;
                bool want, got;

                assert_int_equal(row.n, 3);
                want = strcmp(row.f[0], "yes") == 0;
                assert_int_equal(glob_check(row.f[1], &msg, &off), 0);
                assert_int_equal(glob_compile(row.f[1], &g), 0);
                got = glob_match(&g, row.f[2]);
                if (got != want) {
                        print_error("glob-cases.txt:%u: '%s' vs '%s': expected %s\n", row.line, row.f[1],
                                    row.f[2], row.f[0]);
                        bad++;
                }
                glob_pat_done(&g);
                n++;
        }
        free(buf);
        fclose(f);
        assert_true(n > 50);
        assert_int_equal(bad, 0);
}

static void test_error_table(void **state)
{
        char path[PATH_MAX], *buf = NULL;
        unsigned lineno = 0, n = 0, bad = 0;
        size_t cap = 0;
        table_row row;
        FILE *f;

        (void)state;
        snprintf(path, sizeof path, "%s/glob-errors.txt", srcdir);
        f = fopen(path, "re");
        assert_non_null(f);
        while (table_next(f, &buf, &cap, &lineno, &row)) {
                const char *msg = NULL;
                size_t off = 0;
                int r;

                assert_int_equal(row.n, 3);
                r = glob_check(row.f[0], &msg, &off);
                if (r != -EINVAL || off != strtoul(row.f[1], NULL, 10) || strcmp(msg, row.f[2]) != 0) {
                        print_error("glob-errors.txt:%u: '%s': got %d at %zu '%s'\n", row.line, row.f[0], r, off,
                                    msg ? msg : "");
                        bad++;
                }
                n++;
        }
        free(buf);
        fclose(f);
        assert_true(n >= 8);
        assert_int_equal(bad, 0);
}

static void test_literal(void **state)
{
        const char *base;
        size_t len;
        glob_pat g;

        (void)state;
        assert_true(glob_is_literal("/usr/bin/ls", 11));
        assert_false(glob_is_literal("/usr/bin/l?", 11));
        assert_false(glob_is_literal("/usr/bin/l\\s", 12));
        assert_false(glob_is_literal("/usr/bin/[l]", 12));

        assert_int_equal(glob_compile("/opt/*/bin/tool", &g), 0);
        assert_true(glob_literal_basename(&g, &base, &len));
        assert_int_equal(len, 4);
        assert_memory_equal(base, "tool", 4);
        glob_pat_done(&g);

        assert_int_equal(glob_compile("**/nc", &g), 0);
        assert_true(glob_literal_basename(&g, &base, &len));
        assert_memory_equal(base, "nc", 2);
        glob_pat_done(&g);

        assert_int_equal(glob_compile("/opt/**", &g), 0);
        assert_false(glob_literal_basename(&g, &base, &len));
        glob_pat_done(&g);

        assert_int_equal(glob_compile("/opt/bin/", &g), 0);
        assert_false(glob_literal_basename(&g, &base, &len));
        glob_pat_done(&g);

        assert_int_equal(glob_compile("/opt/bin/x*", &g), 0);
        assert_false(glob_literal_basename(&g, &base, &len));
        glob_pat_done(&g);
}

static char tmp[PATH_MAX];

static void expect_resolved(const char *pat_rel, const char *want_rel)
{
        char pat[PATH_MAX * 2], want[PATH_MAX * 2], *got = NULL;

        snprintf(pat, sizeof pat, "%s%s", pat_rel[0] == '@' ? tmp : "", pat_rel + (pat_rel[0] == '@'));
        snprintf(want, sizeof want, "%s%s", want_rel[0] == '@' ? tmp : "", want_rel + (want_rel[0] == '@'));
        assert_int_equal(glob_resolve_prefix(pat, &got), 0);
        if (strcmp(got, want) != 0)
                fail_msg("resolve '%s': got '%s', expected '%s'", pat, got, want);
        free(got);
}

static int tree_setup(void **state)
{
        char t[] = "/tmp/vigil-glob-XXXXXX", *real, p[PATH_MAX + 64];

        (void)state;
        if (!mkdtemp(t))
                return -1;
        /* /tmp itself may be a symlink; compare against its real path. */
        real = realpath(t, NULL);
        if (!real)
                return -1;
        snprintf(tmp, sizeof tmp, "%s", real);
        free(real);
#define MK(fmt, fn, ...)                                                                                      \
        do {                                                                                                  \
                snprintf(p, sizeof p, fmt, tmp);                                                              \
                if (fn < 0)                                                                                   \
                        return -1;                                                                            \
        } while (0)
        MK("%s/real", mkdir(p, 0755));
        MK("%s/real/prog", close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0755)));
        MK("%s/link", symlink("real", p));
        MK("%s/alias", symlink("real/prog", p));
        MK("%s/st*r", mkdir(p, 0755));
        MK("%s/starlink", symlink("st*r", p));
        return 0;
}

static int tree_teardown(void **state)
{
        const char *names[] = { "starlink", "st*r", "alias", "link", "real/prog", "real" };
        char p[PATH_MAX + 64];

        (void)state;
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
                snprintf(p, sizeof p, "%s/%s", tmp, names[i]);
                (void)remove(p);
        }
        return rmdir(tmp);
}

/* A leading '@' in these patterns stands for the temporary directory. */
static void test_resolve(void **state)
{
        (void)state;
        expect_resolved("@/link/*", "@/real/*");
        expect_resolved("@/link/**/x", "@/real/**/x");
        expect_resolved("@/link", "@/real");
        expect_resolved("@/link/", "@/real");
        expect_resolved("@/alias", "@/real/prog");
        expect_resolved("@/link/missing/x*", "@/real/missing/x*");
        expect_resolved("@/link/missing", "@/real/missing");
        expect_resolved("@/link/../link/prog", "@/real/prog");
        expect_resolved("@/st*r/x", "@/st*r/x");
        expect_resolved("@/starlink/x", "@/st\\*r/x");
        expect_resolved("@/starlink/*", "@/st\\*r/*");
        expect_resolved("**/x", "**/x");
        expect_resolved("/", "/");
        expect_resolved("/vigil-test-nonexistent/a/*", "/vigil-test-nonexistent/a/*");
}

static void expect_path(const char *rel, const char *want_rel)
{
        char path[PATH_MAX * 2], want[PATH_MAX * 2], *got = NULL;

        snprintf(path, sizeof path, "%s%s", rel[0] == '@' ? tmp : "", rel + (rel[0] == '@'));
        snprintf(want, sizeof want, "%s%s", want_rel[0] == '@' ? tmp : "", want_rel + (want_rel[0] == '@'));
        assert_int_equal(vigil_policy_resolve_path(path, &got), 0);
        if (strcmp(got, want) != 0)
                fail_msg("resolve path '%s': got '%s', expected '%s'", path, got, want);
        free(got);
}

/* Plain paths resolve like the literal prefix of a glob, without escaping. */
static void test_resolve_path(void **state)
{
        char *got = NULL;

        (void)state;
        expect_path("@/link", "@/real");
        expect_path("@/alias", "@/real/prog");
        expect_path("@/link/missing/x", "@/real/missing/x");
        expect_path("@/starlink/x*", "@/st*r/x*");
        expect_path("/", "/");
        expect_path("/vigil-test-nonexistent/x", "/vigil-test-nonexistent/x");
        assert_int_equal(vigil_policy_resolve_path("relative", &got), -EINVAL);
        assert_null(got);
}

/* A resolved pattern still matches what it should, escapes included. */
static void test_resolve_then_match(void **state)
{
        char pat[PATH_MAX + 64], path[PATH_MAX + 64], *res = NULL;
        glob_pat g;

        (void)state;
        snprintf(pat, sizeof pat, "%s/starlink/*", tmp);
        assert_int_equal(glob_resolve_prefix(pat, &res), 0);
        assert_int_equal(glob_compile(res, &g), 0);
        snprintf(path, sizeof path, "%s/st*r/anything", tmp);
        assert_true(glob_match(&g, path));
        snprintf(path, sizeof path, "%s/stxr/anything", tmp);
        assert_false(glob_match(&g, path));
        glob_pat_done(&g);
        free(res);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_match_table),
                cmocka_unit_test(test_error_table),
                cmocka_unit_test(test_literal),
                cmocka_unit_test_setup_teardown(test_resolve, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_resolve_then_match, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(test_resolve_path, tree_setup, tree_teardown),
        };

        srcdir = argc > 1 ? argv[1] : ".";
        return cmocka_run_group_tests(tests, NULL, NULL);
}
