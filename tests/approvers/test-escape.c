/* What an approver's terminal receives from a request (tools/escape.c),
 * byte by byte: controls, escape sequences, invalid and overlong UTF-8,
 * C1 and bidirectional controls, NUL inside the text, quoting of argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static char *render(const char *s, size_t len, bool screen)
{
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        assert_non_null(f);
        cli_put_text(f, s, len, screen);
        assert_int_equal(fclose(f), 0);
        return buf;
}

#define CHECK(in, screen, want)                                                                             \
        do {                                                                                                \
                char *got_ = render(in, sizeof(in) - 1, screen);                                            \
                assert_string_equal(got_, want);                                                            \
                free(got_);                                                                                 \
        } while (0)

static void test_text(void **state)
{
        (void)state;
        CHECK("plain text", false, "plain text");
        CHECK("a\nb\tc\rd", false, "a\\nb\\tc\\rd");
        CHECK("nul\0here", false, "nul\\x00here");
        CHECK("\x1b]0;title\x07", false, "\\e]0;title\\x07");
        CHECK("del\x7f", false, "del\\x7f");
        CHECK("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", false,
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        /* invalid, truncated, overlong, surrogate */
        CHECK("\xff\xfe", false, "\\xff\\xfe");
        CHECK("x\xe2\x82", false, "x\\xe2\\x82");
        CHECK("\xc0\xaf", false, "\\xc0\\xaf");
        CHECK("\xe0\x80\xaf", false, "\\xe0\\x80\\xaf");
        CHECK("\xed\xa0\x80", false, "\\xed\\xa0\\x80");
        /* C1 (CSI as U+009B), right-to-left override, line separator */
        CHECK("\xc2\x9b"
              "31m",
              false, "\\u{009b}31m");
        CHECK("rm -rf \xe2\x80\xae/ fdp", false, "rm -rf \\u{202e}/ fdp");
        CHECK("a\xe2\x80\xa8"
              "b",
              false, "a\\u{2028}b");
}

static void test_screen(void **state)
{
        (void)state;
        /* colours and titles are presentation: dropped; line ends stay */
        CHECK("\x1b[01;32muser@host\x1b[0m:~$ ls\r\nfile\r\n", true, "user@host:~$ ls\nfile\n");
        CHECK("\x1b]0;title\x07prompt", true, "prompt");
        CHECK("\x1b]0;title\x1b\\prompt", true, "prompt");
        CHECK("tab\there", true, "tab\there");
        /* a lone CR would overwrite the line: it becomes a line end */
        CHECK("50%\r100%", true, "50%\n100%");
        /* what is not a well-formed sequence is shown, not obeyed */
        CHECK("\x1b[31;", true, "\\e[31;");
        CHECK("\x1bP1$r\x1b\\", true, "\\eP1$r"); /* DCS shown; its ST terminator alone is harmless */
        CHECK("bell\x07", true, "bell\\x07");
        CHECK("\x1b[99999999999999999999999999999999999999999999999999999999999999999999m", true,
              "\\e[99999999999999999999999999999999999999999999999999999999999999999999m");
}

static void test_argv(void **state)
{
        char *argv[] = { (char *)"rm",   (char *)"-rf",       (char *)"/srv/old dir", (char *)"",
                         (char *)"it's", (char *)"$(reboot)", (char *)"a\nb" };
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        (void)state;
        assert_non_null(f);
        cli_put_argv(f, argv, 7);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "rm -rf '/srv/old dir' '' 'it'\\''s' '$(reboot)' 'a\\nb'");
        free(buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text),
                cmocka_unit_test(test_screen),
                cmocka_unit_test(test_argv),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
