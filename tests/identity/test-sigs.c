/* The signature step on its own terms: one verifier reusing its prepared
 * contexts across good and bad tokens, ECDSA values whose DER encoding has
 * a stripped zero or an added sign byte, and the Ed25519 rules libsodium
 * enforces (S below the group order, no small-order R, no small-order or
 * mixed-order key). Tokens are signed by OpenSSL (forge.c), so every valid
 * Ed25519 token here is also a cross-check of libsodium against OpenSSL. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "b64url.h"
#include "forge.h"
#include "identity.h"
#include "jwk.h"
#include "testlib.h"
#include "vigil-error.h"

static forge_key *rsa, *ec, *ec384, *ed, *ed_small;
static vigil_config *cfg;
static char *jwks;

/* The identity point (y = 1): small order. With it as the key, R = identity
 * and S = 0 satisfy [S]B = R + [k]A for every message, and OpenSSL 3.0 takes
 * both the key and the signature. */
static const unsigned char identity_point[32] = { 1 };

static int setup(void **state)
{
        forge_key *all[5];
        char *x;

        (void)state;
        rsa = forge_key_new("RSA2048", "rsa-1", NULL);
        ec = forge_key_new("P-256", "ec-1", NULL);
        ec384 = forge_key_new("P-384", "ec384-1", NULL);
        ed = forge_key_new("Ed25519", "ed-1", NULL);
        /* No private key: the JWK alone, as a hostile or broken JWKS would carry it. */
        ed_small = calloc(1, sizeof *ed_small);
        assert_non_null(ed_small);
        ed_small->kid = strdup("ed-small");
        x = forge_b64url(identity_point, sizeof identity_point);
        assert_true(asprintf(&ed_small->jwk,
                             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed-small\",\"x\":\"%s\"}",
                             x) > 0);
        free(x);
        all[0] = rsa, all[1] = ec, all[2] = ec384, all[3] = ed, all[4] = ed_small;
        jwks = forge_jwks(all, 5);
        cfg = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE
                          "\njwks_file = /nonexistent\n"
                          "algorithms = RS256 PS256 ES256 ES384 EdDSA\n");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        forge_key_free(rsa);
        forge_key_free(ec);
        forge_key_free(ec384);
        forge_key_free(ed);
        forge_key_free(ed_small);
        vigil_config_free(cfg);
        free(jwks);
        return 0;
}

static vigil_verifier *verifier(void)
{
        vigil_verifier_options o = { .clock = test_clock, .jwks_text = jwks, .jwks_len = strlen(jwks) };
        vigil_verifier *v = NULL;

        assert_int_equal(vigil_verifier_new(cfg, &o, &v), 0);
        return v;
}

static char *make(const char *alg, const forge_key *key)
{
        char *h = NULL, *p = test_claims(NULL), *t;

        assert_true(asprintf(&h, "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, key->kid) > 0);
        t = forge_token(h, p, alg, key, NULL, 0);
        free(h);
        free(p);
        return t;
}

static void expect(vigil_verifier *v, const char *token, const char *reason)
{
        vigil_identity *id = NULL;
        char *why = NULL;
        int r = vigil_verifier_verify(v, token, strlen(token), "alice", 0, &id, &why);

        if (!reason) {
                if (r != 0)
                        fail_msg("refused: %s (%d)", why ? why : "?", r);
                assert_string_equal(id->sub, "u-1234");
                vigil_identity_free(id);
                return;
        }
        assert_int_equal(r, VIGIL_E_DENIED);
        assert_null(id);
        assert_non_null(why);
        assert_string_equal(why, reason);
        free(why);
}

/* The signature bytes of @token (malloc'd). */
static unsigned char *sig_of(const char *token, size_t *ret_len)
{
        const char *s = strrchr(token, '.') + 1;
        unsigned char *raw = NULL;

        assert_int_equal(b64url_decode(s, strlen(s), &raw, ret_len), 0);
        return raw;
}

/* @token with its signature replaced by @sig. */
static char *with_sig(const char *token, const unsigned char *sig, size_t len)
{
        char *b = forge_b64url(sig, len), *t = NULL;

        assert_true(asprintf(&t, "%.*s.%s", (int)(strrchr(token, '.') - token), token, b) > 0);
        free(b);
        return t;
}

/* @token with one signature bit flipped past the middle (within s for ECDSA,
 * S for EdDSA: still in range, only wrong). */
static char *tampered(const char *token)
{
        size_t len;
        unsigned char *sig = sig_of(token, &len);
        char *t;

        sig[len / 2 + 1] ^= 0x01;
        t = with_sig(token, sig, len);
        free(sig);
        return t;
}

static void one_verifier_many_tokens(void **state)
{
        static const struct {
                const char *alg;
                forge_key **key;
        } cases[] = {
                { "RS256", &rsa },   { "PS256", &rsa }, { "ES256", &ec },
                { "ES384", &ec384 }, { "EdDSA", &ed },
        };
        vigil_verifier *v = verifier();
        (void)state;

        /* Each key and algorithm gets its context on first use; later rounds
         * reuse it after refusals, and one RSA key serves RS256 and PS256. */
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                        char *good = make(cases[i].alg, *cases[i].key), *bad = tampered(good), *why = NULL;

                        assert_true(asprintf(&why, "signature does not verify with key '%s'",
                                             (*cases[i].key)->kid) > 0);
                        expect(v, good, NULL);
                        expect(v, bad, why);
                        expect(v, good, NULL);
                        free(good);
                        free(bad);
                        free(why);
                }
        vigil_verifier_free(v);
}

/* Tokens until each DER case has verified: r and s with a leading zero
 * byte (the INTEGER is shorter) and with the top bit set (a 0x00 sign byte
 * is added). OpenSSL refuses non-canonical DER, so a wrong encoding fails. */
static void ecdsa_der_cases(vigil_verifier *v, const char *alg, const forge_key *key, size_t size)
{
        unsigned seen = 0;

        for (int i = 0; i < 20000 && seen != 0xf; i++) {
                char *t = make(alg, key);
                size_t len;
                unsigned char *sig = sig_of(t, &len);

                assert_int_equal(len, 2 * size);
                seen |= (sig[0] == 0) | (sig[size] == 0) << 1 | (sig[0] >= 0x80) << 2 |
                        (sig[size] >= 0x80) << 3;
                expect(v, t, NULL);
                free(sig);
                free(t);
        }
        assert_int_equal(seen, 0xf);
}

static void ecdsa_der_edge_values(void **state)
{
        vigil_verifier *v = verifier();
        (void)state;

        ecdsa_der_cases(v, "ES256", ec, 32);
        ecdsa_der_cases(v, "ES384", ec384, 48);
        vigil_verifier_free(v);
}

/* L, the order of the Ed25519 base point, little-endian. */
static const unsigned char ed_order[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

static void eddsa_s_not_below_order(void **state)
{
        vigil_verifier *v = verifier();
        char *good = make("EdDSA", ed), *t;
        size_t len;
        unsigned char *sig = sig_of(good, &len);
        unsigned carry = 0;
        (void)state;

        /* S + L is the same scalar modulo L: a second spelling of a valid
         * signature (malleability), refused by RFC 8032 5.1.7. */
        for (size_t i = 0; i < 32; i++) {
                unsigned s = sig[32 + i] + ed_order[i] + carry;
                sig[32 + i] = (unsigned char)s;
                carry = s >> 8;
        }
        assert_int_equal(carry, 0);
        t = with_sig(good, sig, len);
        expect(v, good, NULL);
        expect(v, t, "signature does not verify with key 'ed-1'");
        free(t);
        free(sig);
        free(good);
        vigil_verifier_free(v);
}

static void eddsa_small_order_r(void **state)
{
        vigil_verifier *v = verifier();
        char *good = make("EdDSA", ed), *t;
        size_t len;
        unsigned char *sig = sig_of(good, &len);
        (void)state;

        memcpy(sig, identity_point, 32);
        t = with_sig(good, sig, len);
        expect(v, t, "signature does not verify with key 'ed-1'");
        free(t);
        free(sig);
        free(good);
        vigil_verifier_free(v);
}

static void eddsa_small_order_key_forgery(void **state)
{
        vigil_verifier *v = verifier();
        unsigned char sig[64] = {};
        char *p = test_claims("{\"preferred_username\":\"root\"}"), *t;
        (void)state;

        memcpy(sig, identity_point, 32); /* R = identity, S = 0 */
        t = forge_token_sig("{\"alg\":\"EdDSA\",\"kid\":\"ed-small\"}", p, sig, sizeof sig);
        assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)"x", 1, identity_point),
                         -1);
        {
                vigil_identity *id = NULL;
                char *why = NULL;

                assert_int_equal(vigil_verifier_verify(v, t, strlen(t), "root", 0, &id, &why),
                                 VIGIL_E_DENIED);
                assert_null(id);
                assert_string_equal(why,
                                    "key 'ed-small' is not a valid Ed25519 public key (small order, not "
                                    "canonical, or not in the prime-order subgroup)");
                free(why);
        }
        free(t);
        free(p);
        vigil_verifier_free(v);
}

/* The JWKS refuses each such key, with the same reason. */
static void eddsa_bad_keys_unusable(void **state)
{
        unsigned char keys[5][32] = {}, pub[32], order2[32];
        size_t n = sizeof pub;
        (void)state;

        /* identity; (0, y = 0) of order 4; (0, -1) of order 2; the identity
         * spelled y = p + 1 (not canonical); an honest key plus the order-2
         * point (mixed order: on the curve, not small, not in the subgroup). */
        keys[0][0] = 1;
        memset(order2, 0xff, 32);
        order2[0] = 0xec;
        order2[31] = 0x7f;
        memcpy(keys[2], order2, 32);
        memset(keys[3], 0xff, 32);
        keys[3][0] = 0xee;
        keys[3][31] = 0x7f;
        assert_int_equal(EVP_PKEY_get_raw_public_key(ed->pkey, pub, &n), 1);
        assert_true(sodium_init() >= 0);
        assert_int_equal(crypto_core_ed25519_add(keys[4], pub, order2), 0);
        assert_int_equal(crypto_core_ed25519_is_valid_point(pub), 1);

        for (size_t i = 0; i < 5; i++) {
                char *x = forge_b64url(keys[i], 32), *text = NULL;
                vigil_jwks *s = NULL;
                const jwk_key *k;

                assert_true(asprintf(&text,
                                     "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k\",\"x\":"
                                     "\"%s\"}]}",
                                     x) > 0);
                assert_int_equal(vigil_jwks_parse(text, strlen(text), &s, NULL), 0);
                k = vigil_jwks_find(s, "k");
                assert_non_null(k);
                assert_null(k->pkey);
                assert_string_equal(k->unusable,
                                    "key 'k' is not a valid Ed25519 public key (small order, not "
                                    "canonical, or not in the prime-order subgroup)");
                vigil_jwks_free(s);
                free(text);
                free(x);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(one_verifier_many_tokens),      cmocka_unit_test(ecdsa_der_edge_values),
                cmocka_unit_test(eddsa_s_not_below_order),       cmocka_unit_test(eddsa_small_order_r),
                cmocka_unit_test(eddsa_small_order_key_forgery), cmocka_unit_test(eddsa_bad_keys_unusable),
        };

        return cmocka_run_group_tests_name("identity-sigs", tests, setup, teardown);
}
