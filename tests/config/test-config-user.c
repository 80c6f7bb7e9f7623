/* vigil.conf per-user values: `shell.USER = PATH` overrides `shell` for one
 * account; every malformed form is one FILE:LINE message and no
 * configuration. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "vigil-error.h"

#define BASE "issuer = https://idp.example\naudience = vigil\n"

static vigil_config *parse_ok(const char *text)
{
        vigil_config *c = NULL;
        char *err = NULL;
        int r = vigil_config_parse(text, strlen(text), "test.conf", &c, &err);

        if (r != 0)
                fail_msg("parse failed (%d): %s", r, err ? err : "?");
        assert_null(err);
        return c;
}

static void parse_err(const char *text, const char *message)
{
        vigil_config *c = NULL;
        char *err = NULL;
        int r = vigil_config_parse(text, strlen(text), "test.conf", &c, &err);

        assert_int_equal(r, VIGIL_E_PARSE);
        assert_null(c);
        assert_non_null(err);
        assert_string_equal(err, message);
        free(err);
}

static void shell_is(const vigil_config *c, const char *user, const char *want, unsigned want_line)
{
        unsigned line = 12345;
        const char *got = vigil_config_user_value(c, VIGIL_CONF_KEY_shell, user, &line);

        assert_non_null(got);
        assert_string_equal(got, want);
        assert_int_equal(line, want_line);
        /* ret_line is optional */
        assert_ptr_equal(vigil_config_user_value(c, VIGIL_CONF_KEY_shell, user, NULL), got);
}

static void default_shell(void **state)
{
        vigil_config *c = parse_ok(BASE);
        (void)state;

        assert_string_equal(c->shell, "/bin/bash");
        assert_int_equal(c->n_per_user, 0);
        shell_is(c, "alice", "/bin/bash", 0);
        shell_is(c, NULL, "/bin/bash", 0);
        vigil_config_free(c);
}

/* The keys issue 8 adds, with their defaults. */
static void login_keys(void **state)
{
        vigil_config *c = parse_ok(BASE);
        (void)state;

        assert_int_equal(c->login_timeout, 90);
        assert_false(vigil_config_is_set(c, VIGIL_CONF_KEY_login_timeout));
        assert_string_equal(c->shell, "/bin/bash");
        vigil_config_free(c);
        c = parse_ok(BASE "login_timeout = 1m30s\nshell = /usr/bin/zsh\n");
        assert_int_equal(c->login_timeout, 90);
        assert_string_equal(c->shell, "/usr/bin/zsh");
        assert_int_equal(c->line[VIGIL_CONF_KEY_shell], 4);
        vigil_config_free(c);
        parse_err(BASE "login_timeout = 90\n", "test.conf:3: bad value for 'login_timeout': '90' is not a "
                                               "duration: each number needs a unit s, "
                                               "m, h or d");
}

static void override(void **state)
{
        vigil_config *c = parse_ok(BASE "shell = /bin/sh\n"
                                        "shell.alice = /usr/bin/zsh\n"
                                        "  shell.bob\t=\t/usr/bin/fish  \n");
        (void)state;

        assert_string_equal(c->shell, "/bin/sh"); /* the key's own value is untouched */
        assert_int_equal(c->n_per_user, 2);
        shell_is(c, "alice", "/usr/bin/zsh", 4);
        shell_is(c, "bob", "/usr/bin/fish", 5);
        shell_is(c, "carol", "/bin/sh", 3);
        /* names are compared exactly: no case folding, no prefix match */
        shell_is(c, "Alice", "/bin/sh", 3);
        shell_is(c, "alic", "/bin/sh", 3);
        shell_is(c, "alice2", "/bin/sh", 3);
        shell_is(c, "", "/bin/sh", 3);
        assert_int_equal(c->per_user[0].key, VIGIL_CONF_KEY_shell);
        assert_string_equal(c->per_user[0].user, "alice");
        assert_int_equal(c->per_user[1].line, 5);
        vigil_config_free(c);
}

static void override_without_global(void **state)
{
        /* before the key itself, or without it: the default stays for the rest */
        vigil_config *c = parse_ok("shell.alice = /usr/bin/zsh\r\n" BASE);
        (void)state;

        shell_is(c, "alice", "/usr/bin/zsh", 1);
        shell_is(c, "bob", "/bin/bash", 0);
        assert_false(vigil_config_is_set(c, VIGIL_CONF_KEY_shell));
        vigil_config_free(c);
}

static void user_names(void **state)
{
        vigil_config *c = parse_ok(BASE "shell.john.doe = /bin/a\n"
                                        "shell.Build-Bot_1 = /bin/b\n"
                                        "shell.host01$ = /bin/c\n"
                                        "shell._svc = /bin/d\n"
                                        "shell.9lives = /bin/e\n");
        (void)state;

        shell_is(c, "john.doe", "/bin/a", 3);
        shell_is(c, "john", "/bin/bash", 0);
        shell_is(c, "Build-Bot_1", "/bin/b", 4);
        shell_is(c, "host01$", "/bin/c", 5);
        shell_is(c, "host01", "/bin/bash", 0);
        shell_is(c, "_svc", "/bin/d", 6);
        shell_is(c, "9lives", "/bin/e", 7);
        vigil_config_free(c);
}

static void name_rule(void **state)
{
        char longest[VIGIL_CONF_MAX_USER + 2];
        (void)state;

        memset(longest, 'a', sizeof longest);
        assert_true(vigil_config_user_name_valid(longest, VIGIL_CONF_MAX_USER));
        assert_false(vigil_config_user_name_valid(longest, VIGIL_CONF_MAX_USER + 1));
        assert_true(vigil_config_user_name_valid("a", 1));
        assert_true(vigil_config_user_name_valid("a$", 2));
        assert_false(vigil_config_user_name_valid("", 0));
        assert_false(vigil_config_user_name_valid("$", 1));
        assert_false(vigil_config_user_name_valid("a$b", 3));
        assert_false(vigil_config_user_name_valid(".a", 2));
        assert_false(vigil_config_user_name_valid("-a", 2));
        assert_false(vigil_config_user_name_valid("a/b", 3));
        assert_false(vigil_config_user_name_valid("a b", 3));
        assert_false(vigil_config_user_name_valid("a@example.com", 13));
        assert_false(vigil_config_user_name_valid("\xc3\xa9t\xc3\xa9", 6));
        /* a NUL inside the counted name is not a name character */
        assert_false(vigil_config_user_name_valid("ab\0cd", 5));
        assert_true(vigil_config_user_name_valid("ab\0cd", 2));
}

static void errors(void **state)
{
        (void)state;

        parse_err(BASE "shell.alice = /bin/zsh\nshell.alice = /bin/sh\n",
                  "test.conf:4: duplicate key 'shell.alice' (first set on line 3)");
        parse_err(BASE "shell.alice = bin/zsh\n",
                  "test.conf:3: bad value for 'shell.alice': 'bin/zsh' is not an absolute path");
        parse_err(BASE "shell.alice =\n", "test.conf:3: bad value for 'shell.alice': no value");
        parse_err(BASE "shell.alice = \t \n", "test.conf:3: bad value for 'shell.alice': no value");
        parse_err(BASE "shell. = /bin/zsh\n", "test.conf:3: expected a user name after 'shell.'");
        parse_err(
                BASE "shell.-x = /bin/zsh\n",
                "test.conf:3: 'shell.-x': '-x' is not a user name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 255 "
                "characters, optionally ending in $)");
        parse_err(BASE "shell.a b = /bin/zsh\n",
                  "test.conf:3: 'shell.a b': 'a b' is not a user name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most "
                  "255 characters, optionally ending in $)");
        parse_err(BASE "shell.a/b = /bin/zsh\n",
                  "test.conf:3: 'shell.a/b': 'a/b' is not a user name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most "
                  "255 characters, optionally ending in $)");
        parse_err(
                BASE "shell..a = /bin/zsh\n",
                "test.conf:3: 'shell..a': '.a' is not a user name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 255 "
                "characters, optionally ending in $)");
        parse_err(BASE "policy.alice = /etc/vigil/alice.policy\n",
                  "test.conf:3: 'policy' cannot be set per user (only: shell)");
        parse_err(BASE "session_max.alice = 1h\n",
                  "test.conf:3: 'session_max' cannot be set per user (only: shell)");
        parse_err(BASE "shel.alice = /bin/zsh\n", "test.conf:3: unknown key 'shel.alice'");
        parse_err(BASE "Shell.alice = /bin/zsh\n", "test.conf:3: unknown key 'Shell.alice'");
        parse_err(BASE ".alice = /bin/zsh\n", "test.conf:3: unknown key '.alice'");
        /* the key's own value is still checked as before, and still once */
        parse_err(BASE "shell = zsh\n", "test.conf:3: bad value for 'shell': 'zsh' is not an absolute path");
        parse_err(BASE "shell = /bin/sh\nshell.alice = /bin/zsh\nshell = /bin/dash\n",
                  "test.conf:5: duplicate key 'shell' (first set on line 3)");
}

static void long_name(void **state)
{
        char text[1024];
        vigil_config *c;
        char name[VIGIL_CONF_MAX_USER + 2];
        (void)state;

        memset(name, 'u', VIGIL_CONF_MAX_USER);
        name[VIGIL_CONF_MAX_USER] = '\0';
        snprintf(text, sizeof text, BASE "shell.%s = /bin/zsh\n", name);
        c = parse_ok(text);
        shell_is(c, name, "/bin/zsh", 3);
        vigil_config_free(c);

        strcat(name, "u");
        snprintf(text, sizeof text, BASE "shell.%s = /bin/zsh\n", name);
        c = NULL;
        {
                char *err = NULL;

                assert_int_equal(vigil_config_parse(text, strlen(text), "test.conf", &c, &err),
                                 VIGIL_E_PARSE);
                assert_null(c);
                assert_non_null(strstr(err, "test.conf:3: 'shell.uuu"));
                assert_non_null(strstr(err, "is not a user name"));
                free(err);
        }
}

/* As many overrides as a file can hold: all kept, each found. */
static void many(void **state)
{
        size_t cap = VIGIL_CONF_MAX_FILE, len = 0, n = 0;
        char *text = malloc(cap);
        vigil_config *c;
        (void)state;

        assert_non_null(text);
        len += (size_t)snprintf(text, cap, BASE);
        while (len + 64 < cap) {
                len += (size_t)snprintf(text + len, cap - len, "shell.u%zu = /bin/s%zu\n", n, n);
                n++;
        }
        c = NULL;
        {
                char *err = NULL;
                int r = vigil_config_parse(text, len, "test.conf", &c, &err);

                if (r != 0)
                        fail_msg("parse failed (%d): %s", r, err ? err : "?");
        }
        assert_int_equal(c->n_per_user, n);
        for (size_t i = 0; i < n; i += 97) {
                char user[32], want[32];

                snprintf(user, sizeof user, "u%zu", i);
                snprintf(want, sizeof want, "/bin/s%zu", i);
                shell_is(c, user, want, (unsigned)(i + 3));
        }
        shell_is(c, "u", "/bin/bash", 0);
        vigil_config_free(c);
        free(text);
}

static void other_keys(void **state)
{
        vigil_config *c = parse_ok(BASE "shell.alice = /usr/bin/zsh\n");
        (void)state;

        assert_true(vigil_config_key_per_user(VIGIL_CONF_KEY_shell));
        assert_false(vigil_config_key_per_user(VIGIL_CONF_KEY_policy));
        assert_false(vigil_config_key_per_user(VIGIL_CONF_KEY_issuer));
        assert_false(vigil_config_key_per_user(VIGIL_CONF_N_KEYS));
        /* a key that cannot be set per user has no per-user value */
        assert_null(vigil_config_user_value(c, VIGIL_CONF_KEY_policy, "alice", NULL));
        assert_null(vigil_config_user_value(c, VIGIL_CONF_N_KEYS, "alice", NULL));
        vigil_config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(default_shell), cmocka_unit_test(login_keys),
                cmocka_unit_test(override),      cmocka_unit_test(override_without_global),
                cmocka_unit_test(user_names),    cmocka_unit_test(name_rule),
                cmocka_unit_test(errors),        cmocka_unit_test(long_name),
                cmocka_unit_test(many),          cmocka_unit_test(other_keys),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
