/* Command events as JSON lines, and the command lines shown on the
 * terminal: exact output for known events, every byte class escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "event.h"

static cmd_event *make(const char *const *argv, size_t argc)
{
        cmd_event *e = calloc(1, sizeof(*e));

        e->time_us = 1767225600123456ull; /* 2026-01-01T00:00:00.123456Z */
        e->pid = 42;
        e->ppid = 7;
        e->runas = strdup("alice");
        e->cwd = strdup("/home/alice");
        e->exe = strdup("/usr/bin/git");
        e->rule = strdup("/etc/vigil/policy.conf:12");
        assert_int_equal(strv_copy(argv, argc, &e->argv), 0);
        return e;
}

static char *fmt(const cmd_event *e)
{
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(event_format_json(e, "0190-aa", "alice", &text, &len), 0);
        assert_int_equal(strlen(text), len);
        assert_null(strchr(text, '\n'));
        return text;
}

static void test_exact(void **state)
{
        const char *argv[] = {"git", "push", "--force"};
        cmd_event *e = make(argv, 3);
        char *t;

        (void)state;
        e->decision = CMD_ALLOW;
        e->exec_mono_ns = 1000000000ull;
        e->exited = true;
        e->wait_status = 1 << 8; /* exit 1 */
        e->exit_mono_ns = 1250000000ull;
        t = fmt(e);
        assert_string_equal(
                t, "{\"time\":\"2026-01-01T00:00:00.123Z\",\"session\":\"0190-aa\",\"user\":\"alice\","
                   "\"pid\":42,\"ppid\":7,\"runas\":\"alice\",\"cwd\":\"/home/alice\","
                   "\"exe\":\"/usr/bin/git\",\"argv\":[\"git\",\"push\",\"--force\"],"
                   "\"decision\":\"allow\",\"rule\":\"/etc/vigil/policy.conf:12\",\"exit\":1,"
                   "\"duration_ms\":250}");
        free(t);
        cmd_event_free(e);
}

static void test_denied_and_killed(void **state)
{
        const char *argv[] = {"rm", "-rf", "/"};
        cmd_event *e = make(argv, 3);
        char *t;

        (void)state;
        e->decision = CMD_DENY;
        free(e->rule);
        e->rule = NULL; /* the default decided */
        free(e->exe);
        e->exe = NULL; /* fileless */
        t = fmt(e);
        assert_non_null(strstr(t, "\"exe\":null,"));
        assert_non_null(
                strstr(t, "\"decision\":\"deny\",\"rule\":\"default\",\"exit\":null,\"duration_ms\":null}"));
        free(t);

        e->decision = CMD_KILLED;
        e->exec_mono_ns = 5;
        e->exit_mono_ns = 5;
        e->exited = true;
        e->wait_status = SIGKILL;
        t = fmt(e);
        assert_non_null(strstr(
                t, "\"decision\":\"killed\",\"rule\":\"default\",\"exit\":\"SIGKILL\",\"duration_ms\":0}"));
        free(t);
        cmd_event_free(e);
}

static void test_escaping(void **state)
{
        /* control bytes, quotes, backslashes, UTF-8, invalid UTF-8 (lone
         * continuation, overlong, surrogate, truncated), and DEL */
        const char *argv[] = {"a\"b\\c",
                              "\x01\x1b[31m\n\t",
                              "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
                              "\x80x",
                              "\xc0\xaf",
                              "\xed\xa0\x80",
                              "\xe2\x82",
                              "\x7f"};
        cmd_event *e = make(argv, 8);
        json_error_t err;
        json_t *j, *a;
        char *t;

        (void)state;
        t = fmt(e);
        j = json_loads(t, 0, &err);
        assert_non_null(j);
        a = json_object_get(j, "argv");
        assert_int_equal(json_array_size(a), 8);
        assert_string_equal(json_string_value(json_array_get(a, 0)), "a\"b\\c");
        assert_string_equal(json_string_value(json_array_get(a, 1)), "\x01\x1b[31m\n\t");
        assert_string_equal(json_string_value(json_array_get(a, 2)),
                            "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
        assert_string_equal(json_string_value(json_array_get(a, 3)), "\xef\xbf\xbdx");
        assert_string_equal(json_string_value(json_array_get(a, 4)), "\xef\xbf\xbd\xef\xbf\xbd");
        assert_string_equal(json_string_value(json_array_get(a, 5)), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        assert_string_equal(json_string_value(json_array_get(a, 6)), "\xef\xbf\xbd\xef\xbf\xbd");
        assert_string_equal(json_string_value(json_array_get(a, 7)), "\x7f");
        /* no raw control byte in the line itself */
        for (const char *p = t; *p; p++)
                assert_true((unsigned char)*p >= 0x20);
        json_decref(j);
        free(t);
        cmd_event_free(e);
}

static void test_signal_exit(void **state)
{
        const char *argv[] = {"sleep", "9"};
        cmd_event *e = make(argv, 2);
        char *t;

        (void)state;
        e->exec_mono_ns = 1;
        e->exit_mono_ns = 3000000001ull;
        e->exited = true;
        e->wait_status = SIGTERM;
        t = fmt(e);
        assert_non_null(strstr(t, "\"exit\":\"SIGTERM\",\"duration_ms\":3000}"));
        free(t);
        /* exited, but the exec never happened: still null */
        e->exec_mono_ns = 0;
        t = fmt(e);
        assert_non_null(strstr(t, "\"exit\":null,\"duration_ms\":null}"));
        free(t);
        cmd_event_free(e);
}

static void test_rfc3339(void **state)
{
        char buf[32];

        (void)state;
        assert_string_equal(rfc3339_ms(0, buf), "1970-01-01T00:00:00.000Z");
        assert_string_equal(rfc3339_ms(951782400999999ull, buf), "2000-02-29T00:00:00.999Z");
}

static void check_display(const char *const *argv, size_t n, const char *want)
{
        char *got = NULL;

        assert_int_equal(display_cmdline(argv, n, &got), 0);
        assert_string_equal(got, want);
        free(got);
}

static void test_display(void **state)
{
        const char *a1[] = {"ls", "-la", "/tmp/x_y.z"};
        const char *a2[] = {"echo", "it's", "a b", ""};
        const char *a3[] = {"printf", "\x1b]0;pwned\x07", "\xc2\x9b\x33\x31m", "ok\xc3\xa9", "\xff"};
        char big[3000];
        char *got = NULL;

        (void)state;
        check_display(a1, 3, "ls -la /tmp/x_y.z");
        check_display(a2, 4, "echo 'it'\\''s' 'a b' ''");
        check_display(a3, 5, "printf '\\x1b]0;pwned\\x07' '\\xc2\\x9b31m' 'ok\xc3\xa9' '\\xff'");
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        {
                const char *a4[] = {"x", big};

                assert_int_equal(display_cmdline(a4, 2, &got), 0);
                assert_true(strlen(got) <= DISPLAY_MAX);
                assert_string_equal(got + strlen(got) - 3, "...");
                free(got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exact),    cmocka_unit_test(test_denied_and_killed),
                cmocka_unit_test(test_escaping), cmocka_unit_test(test_signal_exit),
                cmocka_unit_test(test_rfc3339),  cmocka_unit_test(test_display),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
