/* claims_json, the verified payload handed on as one line: the signed text
 * itself when it is already compact, else jansson's compact serialization
 * (never a second line, never a blank outside strings). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "forge.h"
#include "identity.h"
#include "testlib.h"

static forge_key *ed;
static vigil_config *cfg;
static char *jwks;

static int setup(void **state)
{
        (void)state;
        ed = forge_key_new("Ed25519", "ed-1", NULL);
        jwks = forge_jwks(&ed, 1);
        cfg = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE
                          "\njwks_file = /nonexistent\n");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        forge_key_free(ed);
        vigil_config_free(cfg);
        free(jwks);
        return 0;
}

/* claims_json of a token whose payload is exactly @payload. */
static char *claims_json_of(const char *payload)
{
        vigil_verifier_options o = { .clock = test_clock, .jwks_text = jwks, .jwks_len = strlen(jwks) };
        vigil_verifier *v = NULL;
        vigil_identity *id = NULL;
        char *t = forge_token("{\"alg\":\"EdDSA\",\"kid\":\"ed-1\"}", payload, "EdDSA", ed, NULL, 0),
             *why = NULL, *out;

        assert_int_equal(vigil_verifier_new(cfg, &o, &v), 0);
        if (vigil_verifier_verify(v, t, strlen(t), "alice", 0, &id, &why) != 0)
                fail_msg("refused: %s", why ? why : "?");
        out = strdup(id->claims_json);
        vigil_identity_free(id);
        vigil_verifier_free(v);
        free(t);
        return out;
}

static void same_object(const char *a, const char *b)
{
        json_t *x = json_loads(a, JSON_REJECT_DUPLICATES, NULL),
               *y = json_loads(b, JSON_REJECT_DUPLICATES, NULL);

        assert_non_null(x);
        assert_non_null(y);
        assert_true(json_equal(x, y));
        json_decref(x);
        json_decref(y);
}

/* test_claims() with @members (JSON text, no braces) spliced in as written. */
static char *claims_with(const char *members)
{
        char *base = test_claims(NULL), *p = NULL;

        assert_true(asprintf(&p, "%.*s,%s}", (int)strlen(base) - 1, base, members) > 0);
        free(base);
        return p;
}

static void compact_text_verbatim(void **state)
{
        /* "\/" and "\u00e9" are escapes jansson would write as "/" and "é":
         * verbatim means the signed spelling is kept. A blank inside a string
         * does not make the text non-compact. */
        char *p = claims_with("\"website\":\"https:\\/\\/example.com\\/a b\",\"name\":\"Ren\\u00e9\""), *c;
        (void)state;

        c = claims_json_of(p);
        assert_string_equal(c, p);
        free(c);
        free(p);
}

static void blanks_are_compacted(void **state)
{
        char *p = test_claims(NULL), *pretty = NULL, *c;
        json_t *o = json_loads(p, 0, NULL);
        (void)state;

        assert_non_null(o);
        pretty = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        assert_non_null(strchr(pretty, '\n'));
        c = claims_json_of(pretty);
        assert_null(strchr(c, '\n'));
        assert_null(strstr(c, "\": "));
        assert_null(strstr(c, ", "));
        same_object(c, p);
        free(c);
        free(pretty);
        json_decref(o);
        free(p);
}

static void tricky_strings(void **state)
{
        /* Quotes, backslashes and blanks inside strings must not confuse the
         * compactness scan: the first text is compact (kept verbatim, so its
         * "\/" shows it was not serialized again); the second has a blank
         * right after a string that ends in an escaped backslash. */
        char *p = claims_with("\"note\":\"a \\\" b \\/ c\\\\\",\"x\":\"\\\\\""),
             *q = claims_with("\"x\":\"\\\\\", \"y\":\"\\\"\""), *c;
        (void)state;

        c = claims_json_of(p);
        assert_string_equal(c, p);
        free(c);
        c = claims_json_of(q);
        assert_null(strstr(c, ", "));
        assert_null(strchr(c, '\n'));
        same_object(c, q);
        free(c);
        free(q);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(compact_text_verbatim),
                cmocka_unit_test(blanks_are_compacted),
                cmocka_unit_test(tricky_strings),
        };

        return cmocka_run_group_tests_name("identity-claims-json", tests, setup, teardown);
}
