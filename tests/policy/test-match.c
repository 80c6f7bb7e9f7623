/* Matcher cases through the whole engine (match-cases.txt): each becomes a
 * one-rule policy and a request. The indexed decision and the explaining
 * scan must agree on every case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "table.h"
#include "vigil-error.h"

static const char *srcdir;

static void no_explain(void *u, const char *file, unsigned line, const char *why)
{
        (void)u, (void)file, (void)line, (void)why;
}

/* Returns 1 when the rule matched, 0 when not, -1 when the case is broken. */
static int run_case(const table_row *row)
{
        const char *argv[TABLE_MAX_FIELDS], *groups[TABLE_MAX_FIELDS];
        vigil_request q = { .user = "alice", .runas = "alice", .cwd = "/home/alice", .exe = "/vtnx/bin/tool" };
        bool noargv = false;
        vigil_decision d1, d2;
        vigil_diags diags = { 0 };
        vigil_policy *p = NULL;
        char text[4096];
        int r;

        for (size_t i = 2; i < row->n; i++) {
                char *f = row->f[i];

                if (strncmp(f, "exe:", 4) == 0)
                        q.exe = f + 4;
                else if (strcmp(f, "noexe") == 0)
                        q.exe = NULL;
                else if (strncmp(f, "cwd:", 4) == 0)
                        q.cwd = f + 4;
                else if (strncmp(f, "user:", 5) == 0)
                        q.user = f + 5;
                else if (strncmp(f, "runas:", 6) == 0)
                        q.runas = f + 6;
                else if (strncmp(f, "group:", 6) == 0)
                        groups[q.n_groups++] = f + 6;
                else if (strncmp(f, "arg:", 4) == 0)
                        argv[q.argc++] = f + 4;
                else if (strcmp(f, "noargv") == 0)
                        noargv = true;
                else {
                        print_error("match-cases.txt:%u: unknown field '%s'\n", row->line, f);
                        return -1;
                }
        }
        if (q.argc == 0 && !noargv)
                argv[q.argc++] = "tool";
        q.argv = argv;
        q.groups = groups;

        snprintf(text, sizeof text, "default deny\nallow %s\n", row->f[1]);
        r = vigil_policy_parse(text, strlen(text), "t", &p, &diags);
        if (r < 0) {
                print_error("match-cases.txt:%u: policy does not parse: %s\n", row->line,
                            diags.n ? diags.items[0].message : vigil_strerror(r));
                vigil_diags_clear(&diags);
                return -1;
        }
        vigil_diags_clear(&diags);
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d1), 0);
        assert_int_equal(vigil_policy_decide(p, &q, no_explain, NULL, &d2), 0);
        vigil_policy_free(p);
        if (d1.action != d2.action || d1.line != d2.line) {
                print_error("match-cases.txt:%u: indexed and scanning decisions differ\n", row->line);
                return -1;
        }
        return d1.action == VIGIL_ACTION_ALLOW;
}

static void test_table(void **state)
{
        char path[PATH_MAX], *buf = NULL;
        unsigned lineno = 0, n = 0, bad = 0;
        size_t cap = 0;
        table_row row;
        FILE *f;

        (void)state;
        snprintf(path, sizeof path, "%s/match-cases.txt", srcdir);
        f = fopen(path, "re");
        assert_non_null(f);
        while (table_next(f, &buf, &cap, &lineno, &row)) {
                int want, got;

                assert_true(row.n >= 2);
                want = strcmp(row.f[0], "yes") == 0;
                got = run_case(&row);
                if (got != want) {
                        if (got >= 0)
                                print_error("match-cases.txt:%u: '%s': expected %s\n", row.line, row.f[1],
                                            row.f[0]);
                        bad++;
                }
                n++;
        }
        free(buf);
        fclose(f);
        assert_true(n > 80);
        assert_int_equal(bad, 0);
}

/* Regexes see bytes: argv need not be UTF-8, and (*UTF) is refused. */
static void test_bytes(void **state)
{
        const char *text = "default deny\nallow arg~'^\\xff\\xfe$'\n";
        const char *argv[] = { "x", "\xff\xfe" };
        vigil_request q = { .user = "u", .runas = "u", .cwd = "/", .exe = "/x", .argv = argv, .argc = 2 };
        vigil_diags diags = { 0 };
        vigil_policy *p = NULL;
        vigil_decision d;

        (void)state;
        assert_int_equal(vigil_policy_parse(text, strlen(text), "t", &p, NULL), 0);
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);
        assert_int_equal(d.action, VIGIL_ACTION_ALLOW);
        argv[1] = "\xc3\x28"; /* invalid UTF-8 is just bytes */
        assert_int_equal(vigil_policy_decide(p, &q, NULL, NULL, &d), 0);
        assert_int_equal(d.action, VIGIL_ACTION_DENY);
        vigil_policy_free(p);

        text = "default deny\nallow cmd~'(*UTF)x'\n";
        assert_int_equal(vigil_policy_parse(text, strlen(text), "t", &p, &diags), VIGIL_E_PARSE);
        assert_int_equal(diags.n, 1);
        assert_non_null(strstr(diags.items[0].message, "bad regex"));
        vigil_diags_clear(&diags);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_bytes),
        };

        srcdir = argc > 1 ? argv[1] : ".";
        return cmocka_run_group_tests(tests, NULL, NULL);
}
