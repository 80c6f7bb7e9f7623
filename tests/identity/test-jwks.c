/* JWKS parsing: which keys are usable and why the others are not. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "forge.h"
#include "jwk.h"
#include "vigil-error.h"

static vigil_jwks *parse_ok(const char *text)
{
        vigil_jwks *s = NULL;
        char *why = NULL;
        int r = vigil_jwks_parse(text, strlen(text), &s, &why);

        if (r != 0)
                fail_msg("JWKS refused (%d): %s", r, why ? why : "?");
        return s;
}

static void parse_err(const char *text, const char *reason)
{
        vigil_jwks *s = NULL;
        char *why = NULL;

        assert_int_equal(vigil_jwks_parse(text, strlen(text), &s, &why), VIGIL_E_PARSE);
        assert_null(s);
        assert_string_equal(why, reason);
        free(why);
}

/* The reason a single-key set's key is unusable. */
static void key_unusable(const char *jwk, const char *kid, const char *reason)
{
        char *text = NULL;
        vigil_jwks *s;
        const jwk_key *k;

        assert_true(asprintf(&text, "{\"keys\":[%s]}", jwk) > 0);
        s = parse_ok(text);
        k = vigil_jwks_find(s, kid);
        assert_non_null(k);
        assert_null(k->pkey);
        assert_non_null(k->unusable);
        assert_string_equal(k->unusable, reason);
        vigil_jwks_free(s);
        free(text);
}

static void all_kinds(void **state)
{
        forge_key *k[4] = {
                forge_key_new("RSA2048", "r", "\"use\":\"sig\",\"alg\":\"RS256\",\"key_ops\":[\"verify\"]"),
                forge_key_new("P-256", "e256", NULL),
                forge_key_new("P-384", "e384", NULL),
                forge_key_new("Ed25519", "ed", NULL),
        };
        char *text = forge_jwks(k, 4);
        vigil_jwks *s = parse_ok(text);
        (void)state;

        assert_int_equal(s->n, 4);
        assert_int_equal(vigil_jwks_find(s, "r")->kind, JWK_RSA);
        assert_int_equal(vigil_jwks_find(s, "r")->bits, 2048);
        assert_string_equal(vigil_jwks_find(s, "r")->alg, "RS256");
        assert_int_equal(vigil_jwks_find(s, "e256")->kind, JWK_EC_P256);
        assert_int_equal(vigil_jwks_find(s, "e384")->kind, JWK_EC_P384);
        assert_int_equal(vigil_jwks_find(s, "ed")->kind, JWK_ED25519);
        for (size_t i = 0; i < s->n; i++) {
                assert_non_null(s->keys[i].pkey);
                assert_null(s->keys[i].unusable);
        }
        assert_null(vigil_jwks_find(s, "nope"));
        vigil_jwks_free(s);
        free(text);
        for (size_t i = 0; i < 4; i++)
                forge_key_free(k[i]);
}

static void not_a_jwks(void **state)
{
        (void)state;
        parse_err("", "JWKS is not valid JSON: '[' or '{' expected near end of file");
        parse_err("[]", "JWKS has no \"keys\" array");
        parse_err("{\"keys\":{}}", "JWKS has no \"keys\" array");
        parse_err("{\"keys\":[],\"keys\":[]}",
                  "JWKS is not valid JSON: duplicate object key near '\"keys\"'");
}

static void too_many_or_too_big(void **state)
{
        char *text = malloc(300 * 4 + 32), *p;
        vigil_jwks *s = NULL;
        char *why = NULL;
        (void)state;

        p = text + sprintf(text, "{\"keys\":[");
        for (int i = 0; i < 257; i++)
                p += sprintf(p, "%s{}", i ? "," : "");
        strcpy(p, "]}");
        parse_err(text, "JWKS has more than 256 keys");
        free(text);

        text = calloc(1, VIGIL_JWKS_MAX_SIZE + 2);
        memset(text, ' ', VIGIL_JWKS_MAX_SIZE + 1);
        assert_int_equal(vigil_jwks_parse(text, VIGIL_JWKS_MAX_SIZE + 1, &s, &why), VIGIL_E_TOO_BIG);
        assert_string_equal(why, "JWKS is larger than 1048576 bytes");
        free(why);
        free(text);
}

static void keys_without_kid_are_skipped(void **state)
{
        forge_key *k = forge_key_new("Ed25519", "ed", NULL);
        char *text = NULL;
        vigil_jwks *s;
        (void)state;

        assert_true(asprintf(&text, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"},7,%s]}",
                             k->jwk) > 0);
        s = parse_ok(text);
        assert_int_equal(s->n, 1);
        assert_non_null(vigil_jwks_find(s, "ed")->pkey);
        vigil_jwks_free(s);
        free(text);
        forge_key_free(k);
}

static void duplicate_kid(void **state)
{
        forge_key *k[2] = { forge_key_new("Ed25519", "same", NULL), forge_key_new("P-256", "same", NULL) };
        char *text = forge_jwks(k, 2);
        vigil_jwks *s = parse_ok(text);
        (void)state;

        assert_int_equal(s->n, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_null(s->keys[i].pkey);
                assert_string_equal(s->keys[i].unusable, "kid 'same' names more than one key in the JWKS");
        }
        vigil_jwks_free(s);
        free(text);
        forge_key_free(k[0]);
        forge_key_free(k[1]);
}

static void ec_point_not_on_curve(void **state)
{
        (void)state;
        /* x = 1, y = 1 is not on P-256. */
        key_unusable("{\"kty\":\"EC\",\"kid\":\"bad\",\"crv\":\"P-256\","
                     "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
                     "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
                     "bad", "key 'bad' is not a point on P-256");
        key_unusable("{\"kty\":\"EC\",\"kid\":\"short\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}",
                     "short", "key 'short' has no valid 'x' and 'y' of 32 bytes");
}

static void unsupported_curves_and_types(void **state)
{
        (void)state;
        key_unusable("{\"kty\":\"EC\",\"kid\":\"p521\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}", "p521",
                     "key 'p521' is EC on curve 'P-521'; P-256 or P-384 is required");
        key_unusable("{\"kty\":\"OKP\",\"kid\":\"ed448\",\"crv\":\"Ed448\",\"x\":\"AA\"}", "ed448",
                     "key 'ed448' is OKP on curve 'Ed448'; Ed25519 is required");
        key_unusable("{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}", "hmac",
                     "key 'hmac' has kty 'oct'; only RSA, EC and OKP keys are used");
        key_unusable("{\"kid\":\"nokty\"}", "nokty", "key 'nokty' has no kty");
        key_unusable("{\"kty\":\"OKP\",\"kid\":\"ed-short\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", "ed-short",
                     "key 'ed-short' has no valid 'x' of 32 bytes");
}

static void rsa_rules(void **state)
{
        forge_key *small = forge_key_new("RSA1024", "small", NULL);
        (void)state;

        key_unusable(small->jwk, "small", "key 'small' is RSA with 1024 bits, at least 2048 are required");
        forge_key_free(small);
        key_unusable("{\"kty\":\"RSA\",\"kid\":\"bad-b64\",\"n\":\"a+b/\",\"e\":\"AQAB\"}", "bad-b64",
                     "key 'bad-b64' has no valid base64url 'n' and 'e'");
        /* A 2048-bit modulus with e = 1, e even, e of 40 bits. */
        {
                forge_key *k = forge_key_new("RSA2048", "e", NULL);
                const char *n = strstr(k->jwk, "\"n\":\"") + 5;
                size_t nlen = strcspn(n, "\"");
                const char *es[] = { "AQ", "AQAA", "AQAAAAE" };
                for (size_t i = 0; i < 3; i++) {
                        char *jwk = NULL;
                        assert_true(asprintf(&jwk,
                                             "{\"kty\":\"RSA\",\"kid\":\"e\",\"n\":\"%.*s\",\"e\":\"%s\"}",
                                             (int)nlen, n, es[i]) > 0);
                        key_unusable(jwk, "e", "key 'e' has an RSA exponent vigil does not accept");
                        free(jwk);
                }
                forge_key_free(k);
        }
        /* An even 2048-bit modulus: no RSA key (OpenSSL's own check is not run). */
        key_unusable("{\"kty\":\"RSA\",\"kid\":\"even\",\"e\":\"AQAB\",\"n\":\"_____________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________g\"}", "even",
                     "key 'even' is RSA with an even modulus");
}

static void use_ops_alg(void **state)
{
        forge_key *a = forge_key_new("P-256", "enc", "\"use\":\"enc\"");
        forge_key *b = forge_key_new("P-256", "ops", "\"key_ops\":[\"encrypt\"]");
        forge_key *c = forge_key_new("RSA2048", "oaep", "\"alg\":\"RSA-OAEP\"");
        forge_key *d = forge_key_new("RSA2048", "hs", "\"alg\":\"HS256\"");
        /* x5c is never read, whatever it holds. */
        forge_key *e =
                forge_key_new("Ed25519", "x5c", "\"x5c\":[\"bm90IGEgY2VydA\"],\"x5u\":\"https://evil\"");
        char *text = NULL;
        vigil_jwks *s;
        (void)state;

        key_unusable(a->jwk, "enc", "key 'enc' is not for signatures (use is not 'sig')");
        key_unusable(b->jwk, "ops", "key 'ops' does not allow 'verify' in key_ops");
        key_unusable(c->jwk, "oaep", "key 'oaep' is for alg 'RSA-OAEP', which vigil does not accept");
        key_unusable(d->jwk, "hs", "key 'hs' is for alg 'HS256', which vigil does not accept");
        assert_true(asprintf(&text, "{\"keys\":[%s]}", e->jwk) > 0);
        s = parse_ok(text);
        assert_non_null(vigil_jwks_find(s, "x5c")->pkey);
        vigil_jwks_free(s);
        free(text);
        forge_key_free(a);
        forge_key_free(b);
        forge_key_free(c);
        forge_key_free(d);
        forge_key_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(all_kinds),
                cmocka_unit_test(not_a_jwks),
                cmocka_unit_test(too_many_or_too_big),
                cmocka_unit_test(keys_without_kid_are_skipped),
                cmocka_unit_test(duplicate_kid),
                cmocka_unit_test(ec_point_not_on_curve),
                cmocka_unit_test(unsupported_curves_and_types),
                cmocka_unit_test(rsa_rules),
                cmocka_unit_test(use_ops_alg),
        };

        return cmocka_run_group_tests_name("identity-jwks", tests, NULL, NULL);
}
