/* The lexer, from a table of lines and the tokens (or error) they give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lexer.h"

typedef struct lex_case {
        const char *line;
        const char *want; /* tokens as "key" or "key<op>[value]" joined by " | ", or "ERR col: msg" */
} lex_case;

static const lex_case cases[] = {
        { "", "" },
        { "   ", "" },
        { "# only a comment", "" },
        { "allow", "allow" },
        { "allow exe=/usr/bin/ls", "allow | exe=[/usr/bin/ls]" },
        { "  deny   cmd~'rm -rf'  ", "deny | cmd~[rm -rf]" },
        { "hold arg!~x user!=bob", "hold | arg!~[x] | user!=[bob]" },
        { "\tallow\texe=/x\r", "allow | exe=[/x]" },
        /* quoting */
        { "a='it''s'", "a=[its]" },
        { "a=\"say \\\"hi\\\"\"", "a=[say \"hi\"]" },
        { "a=\"\\\\d\"", "a=[\\d]" },
        { "a=\"\\d\"", "a=[\\d]" },
        { "a='\\d'", "a=[\\d]" },
        { "a=\\bsudo\\b", "a=[\\bsudo\\b]" },
        { "a=x'y z'\"w\"v", "a=[xy zwv]" },
        { "a='#not a comment'", "a=[#not a comment]" },
        { "a=\"'\" b='\"'", "a=['] | b=[\"]" },
        { "a=", "a=[]" },
        { "a='' b=\"\"", "a=[] | b=[]" },
        /* comments start a token */
        { "allow # trailing", "allow" },
        { "a=x#y", "a=[x#y]" },
        { "a=x #y z=1", "a=[x]" },
        /* keys */
        { "on_failure=kill max-x=1 A9=b", "on_failure=[kill] | max-x=[1] | A9=[b]" },
        { "a==b", "a=[=b]" },
        { "a=!b", "a=[!b]" },
        { "a~=b", "a~[=b]" },
        /* errors */
        { "a='x", "ERR 3: unterminated single quote" },
        { "a=\"x", "ERR 3: unterminated double quote" },
        { "a=\"x\\\"", "ERR 3: unterminated double quote" },
        { "ok b=1 c='x y", "ERR 10: unterminated single quote" },
        { "exe:x", "ERR 4: expected '=', '!=', '~' or '!~' after the name" },
        { "allow exe<x", "ERR 10: expected '=', '!=', '~' or '!~' after the name" },
        { "a!x", "ERR 2: expected '=', '!=', '~' or '!~' after the name" },
        { "'x'", "ERR 1: a quoted value needs a NAME= before it (e.g. exe='/opt/my app/*')" },
        { "allow \"x\"", "ERR 7: a quoted value needs a NAME= before it (e.g. exe='/opt/my app/*')" },
        { "=x", "ERR 1: expected a name before the operator" },
        { "allow !~x", "ERR 7: expected a name before the operator" },
        { "/usr/bin", "ERR 1: expected a word or NAME=VALUE" },
        { "allow @x", "ERR 7: expected a word or NAME=VALUE" },
};

static void render(const lex_line *l, char *out, size_t size)
{
        size_t o = 0;

        out[0] = '\0';
        for (size_t i = 0; i < l->n; i++) {
                const lex_token *t = &l->tokens[i];

                o += (size_t)snprintf(out + o, size - o, "%s%.*s", i ? " | " : "", (int)t->key_len, t->key);
                if (t->op != LEX_OP_NONE)
                        o += (size_t)snprintf(out + o, size - o, "%s[%s]", lex_op_str(t->op), t->value);
                assert_true(o < size);
        }
}

static void test_table(void **state)
{
        unsigned bad = 0;

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                lex_line l;
                const char *msg = NULL;
                unsigned col = 0;
                char got[512];
                int r = lex_split(cases[i].line, strlen(cases[i].line), &l, &col, &msg);

                if (r == -EINVAL)
                        snprintf(got, sizeof got, "ERR %u: %s", col, msg);
                else {
                        assert_int_equal(r, 0);
                        render(&l, got, sizeof got);
                }
                lex_line_done(&l);
                if (strcmp(got, cases[i].want) != 0) {
                        print_error("line '%s':\n  got  '%s'\n  want '%s'\n", cases[i].line, got, cases[i].want);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* Columns point at the key and at the value (after any quote). */
static void test_columns(void **state)
{
        const char *s = "allow  exe='/a b' cmd~x";
        const char *msg;
        unsigned col;
        lex_line l;

        (void)state;
        assert_int_equal(lex_split(s, strlen(s), &l, &col, &msg), 0);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.tokens[0].key_col, 1);
        assert_int_equal(l.tokens[1].key_col, 8);
        assert_int_equal(l.tokens[1].value_col, 12);
        assert_int_equal(l.tokens[1].value_len, 4);
        assert_int_equal(l.tokens[2].key_col, 19);
        assert_int_equal(l.tokens[2].value_col, 23);
        assert_true(lex_key_is(&l.tokens[1], "exe"));
        assert_false(lex_key_is(&l.tokens[1], "ex"));
        assert_false(lex_key_is(&l.tokens[1], "exec"));
        lex_line_done(&l);
}

/* The line need not be NUL-terminated: only len bytes are read. */
static void test_not_terminated(void **state)
{
        const char buf[] = { 'a', '=', 'x', 'y', 'Z', 'Z' };
        const char *msg;
        unsigned col;
        lex_line l;

        (void)state;
        assert_int_equal(lex_split(buf, 4, &l, &col, &msg), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.tokens[0].value, "xy");
        lex_line_done(&l);
}

/* Many short tokens fill the value storage to its bound. */
static void test_many_tokens(void **state)
{
        char line[4096];
        const char *msg;
        unsigned col;
        size_t o = 0;
        lex_line l;

        (void)state;
        while (o + 3 < sizeof line) {
                memcpy(line + o, "a= ", 3);
                o += 3;
        }
        assert_int_equal(lex_split(line, o, &l, &col, &msg), 0);
        assert_int_equal(l.n, o / 3);
        lex_line_done(&l);
        memset(line, '=', sizeof line);
        line[0] = 'a';
        assert_int_equal(lex_split(line, sizeof line, &l, &col, &msg), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.tokens[0].value_len, sizeof line - 2);
        lex_line_done(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_columns),
                cmocka_unit_test(test_not_terminated),
                cmocka_unit_test(test_many_tokens),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
