/* vigil.conf parser: every value type, the defaults, and one test per kind
 * of error with its exact FILE:LINE message. */
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
#include "forge.h"
#include "testlib.h"
#include "vigil-error.h"

#define BASE "issuer = https://idp.example\naudience = vigil\njwks_file = /etc/vigil/jwks.json\n"

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

static void defaults(void **state)
{
        vigil_config *c = parse_ok(BASE);
        (void)state;

        assert_string_equal(c->path, "test.conf");
        assert_string_equal(c->issuer, "https://idp.example");
        assert_string_equal(c->audience, "vigil");
        assert_string_equal(c->jwks_file, "/etc/vigil/jwks.json");
        assert_null(c->jwks_uri);
        assert_null(c->client_id);
        assert_null(c->client_secret);
        assert_null(c->ca_file);
        assert_string_equal(c->username_claim, "preferred_username");
        assert_string_equal(c->groups_claim, "groups");
        assert_int_equal(c->max_token_age, 600);
        assert_int_equal(c->clock_skew, 30);
        assert_int_equal(c->algorithms.n, 3);
        assert_string_equal(c->algorithms.v[0], "RS256");
        assert_string_equal(c->algorithms.v[1], "ES256");
        assert_string_equal(c->algorithms.v[2], "EdDSA");
        assert_null(c->algorithms.v[3]);
        assert_false(c->single_use);
        assert_null(c->require_group);
        assert_null(c->sudo_group);
        assert_int_equal(c->session_max, 0);
        assert_string_equal(c->policy, "/etc/vigil/policy.conf");
        assert_string_equal(c->store, "/var/lib/vigil");
        assert_int_equal(c->scopes.n, 1);
        assert_string_equal(c->scopes.v[0], "openid");
        assert_true(vigil_config_is_set(c, VIGIL_CONF_KEY_issuer));
        assert_false(vigil_config_is_set(c, VIGIL_CONF_KEY_store));
        vigil_config_free(c);
}

static void every_key(void **state)
{
        const char *text = "# vigil.conf\r\n"
                           "\n"
                           "   issuer=https://login.example.com/realms/x \r\n"
                           "\taudience =\tvigil-host  \n"
                           "jwks_uri = https://login.example.com/certs\n"
                           "jwks_file = /etc/vigil/jwks.json\n"
                           "client_id = vigil\n"
                           "client_secret = s3cr#t = yes\n"
                           "scopes = openid, profile groups\n"
                           "ca_file = /etc/vigil/ca.pem\n"
                           "username_claim = email\n"
                           "groups_claim = roles\n"
                           "max_token_age = 1h30m\n"
                           "clock_skew = 0s\n"
                           "algorithms = EdDSA,PS512\n"
                           "single_use = yes\n"
                           "require_group = vigil-users\n"
                           "sudo_group = vigil-admins\n"
                           "session_max = token\n"
                           "  # indented comment\n"
                           "policy = /srv/policy.conf\n"
                           "store = /srv/vigil";
        vigil_config *c = parse_ok(text);
        char buf[32];
        (void)state;

        assert_string_equal(c->issuer, "https://login.example.com/realms/x");
        assert_string_equal(c->audience, "vigil-host");
        assert_string_equal(c->jwks_uri, "https://login.example.com/certs");
        assert_string_equal(c->client_secret, "s3cr#t = yes");
        assert_int_equal(c->scopes.n, 3);
        assert_string_equal(c->scopes.v[2], "groups");
        assert_string_equal(c->username_claim, "email");
        assert_string_equal(c->groups_claim, "roles");
        assert_int_equal(c->max_token_age, 5400);
        assert_string_equal(vigil_duration_format(c->max_token_age, buf, sizeof buf), "1h30m");
        assert_int_equal(c->clock_skew, 0);
        assert_int_equal(c->algorithms.n, 2);
        assert_true(vigil_strv_contains(&c->algorithms, "PS512"));
        assert_false(vigil_strv_contains(&c->algorithms, "RS256"));
        assert_true(c->single_use);
        assert_int_equal(c->session_max, VIGIL_CONF_LIMIT_TOKEN);
        assert_string_equal(c->store, "/srv/vigil");
        assert_int_equal(c->line[VIGIL_CONF_KEY_issuer], 3);
        assert_int_equal(c->line[VIGIL_CONF_KEY_store], 22);
        vigil_config_free(c);

        c = parse_ok(BASE "session_max = 8h\n");
        assert_int_equal(c->session_max, 8 * 3600);
        vigil_config_free(c);
}

static void key_names(void **state)
{
        (void)state;
        assert_string_equal(vigil_config_key_name(VIGIL_CONF_KEY_issuer), "issuer");
        assert_string_equal(vigil_config_key_name(VIGIL_CONF_KEY_session_max), "session_max");
        assert_null(vigil_config_key_name(VIGIL_CONF_N_KEYS));
}

static void unknown_key(void **state)
{
        (void)state;
        parse_err(BASE "frobnicate = 1\n", "test.conf:4: unknown key 'frobnicate'");
        parse_err("Issuer = https://idp.example\n", "test.conf:1: unknown key 'Issuer'");
        parse_err(BASE "jwks file = /x\n", "test.conf:4: unknown key 'jwks file'");
}

static void duplicate_key(void **state)
{
        (void)state;
        parse_err(BASE "audience = other\n", "test.conf:4: duplicate key 'audience' (first set on line 2)");
}

static void missing_equals(void **state)
{
        (void)state;
        parse_err(BASE "single_use\n", "test.conf:4: expected 'key = value'");
        parse_err(BASE "= yes\n", "test.conf:4: expected 'key = value'");
}

static void empty_value(void **state)
{
        (void)state;
        parse_err("issuer = https://idp.example\naudience =   \n",
                  "test.conf:2: bad value for 'audience': no value");
}

static void bad_bool(void **state)
{
        (void)state;
        parse_err(BASE "single_use = true\n",
                  "test.conf:4: bad value for 'single_use': 'true' is not yes or no");
        parse_err(BASE "single_use = YES\n",
                  "test.conf:4: bad value for 'single_use': 'YES' is not yes or no");
}

static void bad_duration(void **state)
{
        (void)state;
        parse_err(BASE "max_token_age = 10\n",
                  "test.conf:4: bad value for 'max_token_age': "
                  "'10' is not a duration: each number needs a unit s, m, h or d");
        parse_err(BASE "max_token_age = 10x\n",
                  "test.conf:4: bad value for 'max_token_age': "
                  "'10x' is not a duration: each number needs a unit s, m, h or d");
        parse_err(BASE "clock_skew = -5s\n",
                  "test.conf:4: bad value for 'clock_skew': '-5s' is not a duration (e.g. 30s, 10m, 1h)");
        parse_err(BASE "clock_skew = 5 s\n",
                  "test.conf:4: bad value for 'clock_skew': "
                  "'5 s' is not a duration: each number needs a unit s, m, h or d");
        parse_err(BASE "max_token_age = 400d\n",
                  "test.conf:4: bad value for 'max_token_age': duration '400d' is longer than 366 days");
        parse_err(BASE "max_token_age = 99999999999999999999999s\n",
                  "test.conf:4: bad value for 'max_token_age': "
                  "duration '99999999999999999999999s' is longer than 366 days");
}

static void bad_algorithms(void **state)
{
        (void)state;
        parse_err(BASE "algorithms = RS256 HS256\n",
                  "test.conf:4: bad value for 'algorithms': 'HS256' is not one of: " VIGIL_CONF_ALGORITHMS);
        parse_err(BASE "algorithms = none\n",
                  "test.conf:4: bad value for 'algorithms': 'none' is not one of: " VIGIL_CONF_ALGORITHMS);
        parse_err(BASE "algorithms = ,\n", "test.conf:4: bad value for 'algorithms': the list is empty");
}

static void bad_path_and_url(void **state)
{
        (void)state;
        parse_err("issuer = https://idp.example\naudience = a\njwks_file = jwks.json\n",
                  "test.conf:3: bad value for 'jwks_file': 'jwks.json' is not an absolute path");
        parse_err(BASE "jwks_uri = http://idp.example/certs\n",
                  "test.conf:4: bad value for 'jwks_uri': "
                  "'http://idp.example/certs' is not an https:// URL (no other scheme is used)");
        parse_err(BASE "jwks_uri = https:///certs\n",
                  "test.conf:4: bad value for 'jwks_uri': 'https:///certs' is not a valid https:// URL");
        parse_err(BASE "store = var/lib/vigil\n",
                  "test.conf:4: bad value for 'store': 'var/lib/vigil' is not an absolute path");
}

static void bad_session_max(void **state)
{
        (void)state;
        parse_err(BASE "session_max = forever\n", "test.conf:4: bad value for 'session_max': "
                                                  "'forever' is neither 'token' nor a duration (e.g. 8h)");
        parse_err(BASE "session_max = 0s\n", "test.conf:4: bad value for 'session_max': "
                                             "a zero duration would end every session at once");
}

static void missing_required(void **state)
{
        (void)state;
        parse_err("audience = a\njwks_file = /x\n", "test.conf:2: missing required key 'issuer'");
        parse_err("issuer = https://idp.example\n# no audience\n",
                  "test.conf:2: missing required key 'audience'");
        parse_err("", "test.conf:1: missing required key 'issuer'");
        /* No key source: discovery needs an https issuer. */
        parse_err("issuer = idp.example\naudience = a\n",
                  "test.conf:2: missing required key: set 'jwks_file' or 'jwks_uri', "
                  "or make 'issuer' an https:// URL so its discovery document can be fetched");
        /* An https issuer alone is enough: keys come by discovery. */
        vigil_config_free(parse_ok("issuer = https://idp.example\naudience = a\n"));
        vigil_config_free(parse_ok(
                "issuer = gitlab\naudience = a\njwks_uri = https://gitlab.example/oauth/discovery/keys\n"));
}

static void bad_bytes(void **state)
{
        static const char nul[] = "issuer = https://idp.example\naudience = a\0b\njwks_file = /x\n";
        vigil_config *c = NULL;
        char *err = NULL, *big, *longline;
        (void)state;

        parse_err(BASE "audience2\x1b[31m = x\n", "test.conf:4: control character 0x1b in line");
        assert_int_equal(vigil_config_parse(nul, sizeof nul - 1, "test.conf", &c, &err), VIGIL_E_PARSE);
        assert_string_equal(err, "test.conf:2: NUL byte in line");
        free(err);

        longline = malloc(5000);
        memset(longline, 'a', 4999);
        longline[4999] = '\0';
        memcpy(longline, "issuer = ", 9);
        parse_err(longline, "test.conf:1: line longer than 4096 bytes");
        free(longline);

        big = calloc(1, VIGIL_CONF_MAX_FILE + 2);
        memset(big, '\n', VIGIL_CONF_MAX_FILE + 1);
        err = NULL;
        assert_int_equal(vigil_config_parse(big, VIGIL_CONF_MAX_FILE + 1, "test.conf", &c, &err),
                         VIGIL_E_TOO_BIG);
        assert_string_equal(err, "test.conf: larger than 65536 bytes");
        assert_null(c);
        free(err);
        free(big);
}

static void load_file(void **state)
{
        const char *dir = test_tmpdir("config");
        char path[4096], *err = NULL, *expect = NULL;
        vigil_config *c = NULL;
        (void)state;

        snprintf(path, sizeof path, "%s/vigil.conf", dir);
        forge_write_file(path, BASE, 0644);
        assert_int_equal(vigil_config_load(path, &c, &err), 0);
        assert_string_equal(c->path, path);
        c = vigil_config_free(c);

        /* Anyone who can write it picks the identity provider: refused. */
        forge_write_file(path, BASE, 0666);
        assert_int_equal(vigil_config_load(path, &c, &err), -EPERM);
        assert_true(asprintf(&expect, "%s: unsafe file: must be owned by root and writable by no one else",
                             path) > 0);
        assert_string_equal(err, expect);
        free(expect);
        free(err);

        forge_write_file(path, BASE "bogus = 1\n", 0600);
        assert_int_equal(vigil_config_load(path, &c, &err), VIGIL_E_PARSE);
        assert_true(asprintf(&expect, "%s:4: unknown key 'bogus'", path) > 0);
        assert_string_equal(err, expect);
        free(expect);
        free(err);

        assert_int_equal(vigil_config_load(dir, &c, &err), -EISDIR);
        assert_true(asprintf(&expect, "%s: cannot read: Is a directory", dir) > 0);
        assert_string_equal(err, expect);
        free(expect);
        free(err);

        snprintf(path, sizeof path, "%s/missing.conf", dir);
        assert_int_equal(vigil_config_load(path, &c, &err), -ENOENT);
        assert_true(asprintf(&expect, "%s: cannot read: No such file or directory", path) > 0);
        assert_string_equal(err, expect);
        free(expect);
        free(err);
        assert_null(c);
        test_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(defaults),         cmocka_unit_test(every_key),
                cmocka_unit_test(key_names),        cmocka_unit_test(unknown_key),
                cmocka_unit_test(duplicate_key),    cmocka_unit_test(missing_equals),
                cmocka_unit_test(empty_value),      cmocka_unit_test(bad_bool),
                cmocka_unit_test(bad_duration),     cmocka_unit_test(bad_algorithms),
                cmocka_unit_test(bad_path_and_url), cmocka_unit_test(bad_session_max),
                cmocka_unit_test(missing_required), cmocka_unit_test(bad_bytes),
                cmocka_unit_test(load_file),
        };

        return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
