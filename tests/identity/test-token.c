/* Every acceptance and rejection rule of token verification, one test each,
 * with tokens forged by the test (OpenSSL, tests/identity/forge.c) and keys
 * from a jwks_file. Each rejection checks the exact one-line reason. */
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
#include "identity.h"
#include "testlib.h"
#include "vigil-error.h"

static const char *dir;
static char jwks_path[4096], state_dir[4096];
static forge_key *rsa, *ec, *ec384, *ed, *evil, *evil_rsa1, *small, *enc, *ps_only;
static vigil_config *cfg;

static int setup(void **state)
{
        forge_key *all[7];
        char *jwks;

        (void)state;
        dir = strdup(test_tmpdir("token"));
        rsa = forge_key_new("RSA2048", "rsa-1", NULL);
        ec = forge_key_new("P-256", "ec-1", NULL);
        ec384 = forge_key_new("P-384", "ec384-1", NULL);
        ed = forge_key_new("Ed25519", "ed-1", NULL);
        small = forge_key_new("RSA1024", "rsa-small", NULL);
        enc = forge_key_new("RSA2048", "rsa-enc", "\"use\":\"enc\"");
        ps_only = forge_key_new("RSA2048", "rsa-ps", "\"alg\":\"PS256\"");
        /* Not in the JWKS: the attacker's keys. */
        evil = forge_key_new("RSA2048", "evil-1", NULL);
        evil_rsa1 = forge_key_new("RSA2048", "rsa-1", NULL);

        all[0] = rsa, all[1] = ec, all[2] = ec384, all[3] = ed, all[4] = small, all[5] = enc,
        all[6] = ps_only;
        jwks = forge_jwks(all, 7);
        snprintf(jwks_path, sizeof jwks_path, "%s/jwks.json", dir);
        snprintf(state_dir, sizeof state_dir, "%s/state", dir);
        forge_write_file(jwks_path, jwks, 0644);
        free(jwks);
        cfg = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE "\njwks_file = %s\n"
                          "algorithms = RS256 PS256 ES256 ES384 EdDSA\n",
                          jwks_path);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        forge_key_free(rsa);
        forge_key_free(ec);
        forge_key_free(ec384);
        forge_key_free(ed);
        forge_key_free(small);
        forge_key_free(enc);
        forge_key_free(ps_only);
        forge_key_free(evil);
        forge_key_free(evil_rsa1);
        vigil_config_free(cfg);
        test_rm_rf(dir);
        free((char *)dir);
        return 0;
}

static int verify_with(const vigil_config *c, const char *token, const char *user, unsigned flags,
                       vigil_identity **ret, char **reason)
{
        vigil_verifier_options o = { .state_dir = state_dir, .clock = test_clock };
        vigil_verifier *v = NULL;
        int r;

        assert_int_equal(vigil_verifier_new(c, &o, &v), 0);
        r = vigil_verifier_verify(v, token, strlen(token), user, flags, ret, reason);
        vigil_verifier_free(v);
        return r;
}

static void expect_valid(const char *token)
{
        vigil_identity *id = NULL;
        char *why = NULL;
        int r = verify_with(cfg, token, "alice", 0, &id, &why);

        if (r != 0)
                fail_msg("refused: %s (%d)", why ? why : "?", r);
        assert_non_null(id);
        assert_string_equal(id->sub, "u-1234");
        assert_string_equal(id->username, "alice");
        assert_string_equal(id->email, "alice@example.com");
        assert_string_equal(id->jti, "jti-1");
        assert_int_equal(id->n_groups, 2);
        assert_string_equal(id->groups[0], "dev");
        assert_string_equal(id->groups[1], "ops");
        assert_null(id->groups[2]);
        assert_non_null(strstr(id->claims_json, "\"sub\":\"u-1234\""));
        assert_null(strchr(id->claims_json, '\n'));
        vigil_identity_free(id);
        free(why);
}

static void expect_reject_as(const vigil_config *c, const char *token, const char *user, const char *reason)
{
        vigil_identity *id = NULL;
        char *why = NULL;
        int r = verify_with(c, token, user, 0, &id, &why);

        assert_null(id);
        assert_non_null(why);
        assert_string_equal(why, reason);
        assert_int_equal(r, VIGIL_E_DENIED);
        assert_null(strchr(why, '\n'));
        free(why);
}

static void expect_reject(const char *token, const char *reason)
{
        expect_reject_as(cfg, token, "alice", reason);
}

static char *hdr(const char *alg, const char *kid)
{
        char *h;
        assert_true(asprintf(&h, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid) > 0);
        return h;
}

/* A token with default claims plus @override, signed with @key and @alg. */
static char *make(const char *alg, const forge_key *key, const char *override)
{
        char *h = hdr(alg, key->kid), *p = test_claims(override);
        char *t = forge_token(h, p, alg, key, NULL, 0);
        free(h);
        free(p);
        return t;
}

#define TOKEN_TEST(name) static void name(void **state)

/* ---- accepted ---------------------------------------------------------- */

TOKEN_TEST(valid_rs256)
{
        (void)state;
        char *t = make("RS256", rsa, NULL), *why = NULL;
        vigil_identity *id = NULL;

        expect_valid(t);
        assert_int_equal(verify_with(cfg, t, "alice", 0, &id, &why), 0);
        assert_string_equal(id->iss, TEST_ISSUER);
        assert_int_equal(id->exp, TEST_NOW + 600);
        assert_int_equal(id->iat, TEST_NOW - 60);
        vigil_identity_free(id);
        free(t);
}

TOKEN_TEST(valid_es256)
{
        (void)state;
        char *t = make("ES256", ec, NULL);
        expect_valid(t);
        free(t);
}

TOKEN_TEST(valid_eddsa)
{
        (void)state;
        char *t = make("EdDSA", ed, NULL);
        expect_valid(t);
        free(t);
}

TOKEN_TEST(valid_es384)
{
        (void)state;
        char *t = make("ES384", ec384, NULL);
        expect_valid(t);
        free(t);
}

TOKEN_TEST(valid_ps256)
{
        (void)state;
        char *t = make("PS256", rsa, NULL);
        expect_valid(t);
        free(t);
}

TOKEN_TEST(valid_aud_array)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"aud\":[\"other-client\",\"" TEST_AUDIENCE "\"]}");
        expect_valid(t);
        free(t);
}

TOKEN_TEST(valid_within_clock_skew)
{
        (void)state;
        /* Expired 10 s ago, valid from 10 s ahead, issued 10 s ahead: clock_skew is 30 s. */
        char *o = NULL, *t;
        assert_true(asprintf(&o, "{\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld}", TEST_NOW - 10, TEST_NOW + 10,
                             TEST_NOW + 10) > 0);
        t = make("RS256", rsa, o);
        expect_valid(t);
        free(t);
        free(o);
}

TOKEN_TEST(valid_jku_x5u_ignored)
{
        (void)state;
        /* URLs in the header are never fetched; the JWKS key still decides. */
        char *p = test_claims(NULL);
        char *t =
                forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":\"https://attacker.example/jwks\","
                            "\"x5u\":\"https://attacker.example/cert.pem\"}",
                            p, "RS256", rsa, NULL, 0);
        expect_valid(t);
        free(t);
        free(p);
}

TOKEN_TEST(valid_without_user_when_asked)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"preferred_username\":\"somebody-else\"}");
        vigil_identity *id = NULL;
        char *why = NULL;

        assert_int_equal(verify_with(cfg, t, NULL, VIGIL_VERIFY_ANY_USER, &id, &why), 0);
        assert_string_equal(id->username, "somebody-else");
        vigil_identity_free(id);
        /* NULL user without the flag is a caller's mistake, never "any user". */
        assert_int_equal(verify_with(cfg, t, NULL, 0, &id, &why), -EINVAL);
        free(why);
        free(t);
}

/* ---- header and signature -------------------------------------------- */

TOKEN_TEST(alg_none_unsigned)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", p, NULL, NULL, NULL, 0);
        expect_reject(t, "alg 'none' is never accepted (unsigned token)");
        free(t);
        free(p);
}

TOKEN_TEST(alg_none_with_signature)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "alg 'none' is never accepted (unsigned token)");
        free(t);
        t = forge_token("{\"alg\":\"NoNe\",\"kid\":\"rsa-1\"}", p, NULL, NULL, NULL, 0);
        expect_reject(t, "alg 'NoNe' is never accepted (unsigned token)");
        free(t);
        free(p);
}

TOKEN_TEST(hs256_with_rsa_public_key_as_secret)
{
        (void)state;
        /* The classic key-confusion attack: HMAC keyed with the public key. */
        char *pem = forge_public_pem(rsa), *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", p, "HS256", NULL, pem, strlen(pem));
        expect_reject(t, "alg 'HS256' is never accepted (HMAC)");
        free(t);
        free(p);
        free(pem);
}

TOKEN_TEST(attacker_key_in_jwk_header)
{
        (void)state;
        char *p = test_claims(NULL), *h = NULL, *t;
        assert_true(asprintf(&h, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":%s}", evil_rsa1->jwk) > 0);
        t = forge_token(h, p, "RS256", evil_rsa1, NULL, 0);
        expect_reject(t, "signature does not verify with key 'rsa-1'");
        free(t);
        free(h);
        /* And with the attacker's own kid: only the JWKS has keys. */
        assert_true(asprintf(&h, "{\"alg\":\"RS256\",\"kid\":\"evil-1\",\"jwk\":%s}", evil->jwk) > 0);
        t = forge_token(h, p, "RS256", evil, NULL, 0);
        expect_reject(t, "kid 'evil-1' is not in the JWKS");
        free(t);
        free(h);
        free(p);
}

TOKEN_TEST(jku_x5u_pointing_elsewhere)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token(
                "{\"alg\":\"RS256\",\"kid\":\"evil-1\",\"jku\":\"https://attacker.example/jwks.json\","
                "\"x5u\":\"https://attacker.example/evil.pem\"}",
                p, "RS256", evil, NULL, 0);
        expect_reject(t, "kid 'evil-1' is not in the JWKS");
        free(t);
        free(p);
}

TOKEN_TEST(unknown_kid)
{
        (void)state;
        char *h = hdr("RS256", "rsa-2"), *p = test_claims(NULL);
        char *t = forge_token(h, p, "RS256", rsa, NULL, 0);
        expect_reject(t, "kid 'rsa-2' is not in the JWKS");
        free(t);
        free(h);
        free(p);
}

TOKEN_TEST(kid_path_traversal)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"RS256\",\"kid\":\"../../../../../etc/passwd\"}", p, "RS256", rsa,
                              NULL, 0);
        expect_reject(t, "kid '../../../../../etc/passwd' is not in the JWKS");
        free(t);
        t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\\u000a/../x\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "kid 'rsa-1\\x0a/../x' is not in the JWKS");
        free(t);
        /* Long values are cut at 128 bytes in reasons. */
        {
                char kid[301], hdr[400], expect[300];
                memset(kid, 'k', 300);
                kid[300] = '\0';
                snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
                snprintf(expect, sizeof expect, "kid '%.128s...' is not in the JWKS", kid);
                t = forge_token(hdr, p, "RS256", rsa, NULL, 0);
                expect_reject(t, expect);
                free(t);
        }
        free(p);
}

TOKEN_TEST(signature_by_another_key)
{
        (void)state;
        char *t = make("RS256", evil_rsa1, NULL);
        expect_reject(t, "signature does not verify with key 'rsa-1'");
        free(t);
}

TOKEN_TEST(signature_stripped)
{
        (void)state;
        char *t = make("RS256", rsa, NULL);
        *(strrchr(t, '.') + 1) = '\0';
        expect_reject(t, "signature is missing");
        free(t);
}

TOKEN_TEST(signature_truncated)
{
        (void)state;
        char *t = make("RS256", rsa, NULL);
        /* 342 base64url characters for 256 bytes; 340 still decode (to 255). */
        t[strlen(t) - 2] = '\0';
        expect_reject(t, "RS256 signature is 255 bytes, not 256");
        free(t);
        t = make("ES256", ec, NULL);
        t[strlen(t) - 2] = '\0';
        expect_reject(t, "ES256 signature is 63 bytes, not 64");
        free(t);
        t = make("EdDSA", ed, NULL);
        t[strlen(t) - 2] = '\0';
        expect_reject(t, "EdDSA signature is 63 bytes, not 64");
        free(t);
        /* One character less leaves a length base64url cannot have. */
        t = make("RS256", rsa, NULL);
        t[strlen(t) - 1] = '\0';
        expect_reject(t, "signature is not valid base64url");
        free(t);
}

TOKEN_TEST(signature_bit_flipped)
{
        (void)state;
        char *t = make("EdDSA", ed, NULL);
        char *s = strrchr(t, '.') + 5;
        *s = *s == 'A' ? 'B' : 'A';
        expect_reject(t, "signature does not verify with key 'ed-1'");
        free(t);
}

TOKEN_TEST(payload_altered_after_signing)
{
        (void)state;
        char *good = make("RS256", rsa, NULL),
             *other = make("RS256", rsa, "{\"preferred_username\":\"root\"}");
        char *t = NULL;
        /* other's header and payload, good's signature */
        assert_true(asprintf(&t, "%.*s%s", (int)(strrchr(other, '.') - other), other, strrchr(good, '.')) >
                    0);
        expect_reject_as(cfg, t, "root", "signature does not verify with key 'rsa-1'");
        free(t);
        free(good);
        free(other);
}

TOKEN_TEST(garbage_base64)
{
        (void)state;
        char *t = make("RS256", rsa, NULL), *bad = NULL;
        assert_true(asprintf(&bad, "eyJ!!!%s", t + 6) > 0);
        expect_reject(bad, "header is not valid base64url");
        free(bad);
        /* Padding and the standard alphabet are not base64url. */
        assert_true(asprintf(&bad, "%.*s=%s", (int)(strchr(t, '.') - t), t, strchr(t, '.')) > 0);
        expect_reject(bad, "header is not valid base64url");
        free(bad);
        expect_reject("e30.e30+/.AAAA", "payload is not valid base64url");
        /* "e31" decodes to "{}" with non-zero unused bits: a second spelling of "e30". */
        expect_reject("e31.e30.AAAA", "header is not valid base64url");
        expect_reject("not-a-token", "token is not three base64url parts separated by '.'");
        expect_reject("a.b.c.d.e", "token is not three base64url parts separated by '.'");
        expect_reject("", "token is empty");
        free(t);
}

TOKEN_TEST(non_json_payload)
{
        (void)state;
        char *t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "this is not json", "RS256", rsa,
                              NULL, 0);
        expect_reject(t, "payload is not valid JSON: '[' or '{' expected near 'this'");
        free(t);
        t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "[1,2]", "RS256", rsa, NULL, 0);
        expect_reject(t, "payload is not a JSON object");
        free(t);
        t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "{\"sub\":\"a\"} trailing", "RS256", rsa,
                        NULL, 0);
        expect_reject(t, "payload is not valid JSON: end of file expected near 'trailing'");
        free(t);
        t = forge_token("[\"alg\"]", "{}", "RS256", rsa, NULL, 0);
        expect_reject(t, "header is not a JSON object");
        free(t);
}

TOKEN_TEST(duplicate_claims)
{
        (void)state;
        char *p = test_claims(NULL), *dup = NULL, *t;
        /* A second "preferred_username" after the first: some parsers take
         * the last, some the first; vigil takes neither. */
        assert_true(asprintf(&dup, "%.*s,\"preferred_username\":\"root\"}", (int)strlen(p) - 1, p) > 0);
        t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", dup, "RS256", rsa, NULL, 0);
        expect_reject(t, "payload has duplicate claim 'preferred_username'");
        free(t);
        t = forge_token("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "header has duplicate member 'alg'");
        free(t);
        free(dup);
        free(p);
}

TOKEN_TEST(crit_header)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"],\"exp\":1}", p,
                              "RS256", rsa, NULL, 0);
        expect_reject(t, "header has crit; no critical extension is supported");
        free(t);
        free(p);
}

TOKEN_TEST(ecdsa_r_s_zero)
{
        (void)state;
        unsigned char zero[64] = {};
        char *p = test_claims(NULL);
        char *t = forge_token_sig("{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", p, zero, sizeof zero);
        expect_reject(t, "ES256 signature has r or s out of range (zero or not below the group order)");
        free(t);
        free(p);
}

TOKEN_TEST(ecdsa_r_s_out_of_range)
{
        (void)state;
        /* r = s = n, the group order: equivalent to 0 modulo n. */
        static const unsigned char n[32] = {
                0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
        };
        unsigned char sig[64];
        char *p = test_claims(NULL), *t;

        memcpy(sig, n, 32);
        memcpy(sig + 32, n, 32);
        t = forge_token_sig("{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", p, sig, sizeof sig);
        expect_reject(t, "ES256 signature has r or s out of range (zero or not below the group order)");
        free(t);
        /* A valid r with s = 0. */
        t = make("ES256", ec, NULL);
        {
                char *dot = strrchr(t, '.'), *fixed = NULL;
                unsigned char raw[64] = {};
                char *s;
                raw[0] = 1;
                s = forge_b64url(raw, sizeof raw);
                assert_true(asprintf(&fixed, "%.*s.%s", (int)(dot - t), t, s) > 0);
                expect_reject(fixed,
                              "ES256 signature has r or s out of range (zero or not below the group order)");
                free(fixed);
                free(s);
        }
        free(t);
        free(p);
}

TOKEN_TEST(alg_does_not_match_key_type)
{
        (void)state;
        char *p = test_claims(NULL);
        /* An ES256 header naming the RSA key: never try RSA with ES256's rules. */
        char *t = forge_token("{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", p, "ES256", ec, NULL, 0);
        expect_reject(t, "alg 'ES256' does not match key 'rsa-1' (RSA)");
        free(t);
        t = forge_token("{\"alg\":\"EdDSA\",\"kid\":\"ec-1\"}", p, "EdDSA", ed, NULL, 0);
        expect_reject(t, "alg 'EdDSA' does not match key 'ec-1' (EC P-256)");
        free(t);
        t = forge_token("{\"alg\":\"RS256\",\"kid\":\"rsa-ps\"}", p, "RS256", ps_only, NULL, 0);
        expect_reject(t, "alg 'RS256' does not match key 'rsa-ps' (alg PS256)");
        free(t);
        free(p);
}

TOKEN_TEST(alg_not_in_algorithms)
{
        (void)state;
        char *t = make("RS384", rsa, NULL), *p = test_claims(NULL);
        expect_reject(t, "alg 'RS384' is not in algorithms (RS256 PS256 ES256 ES384 EdDSA)");
        free(t);
        t = forge_token("{\"alg\":\"XY999\",\"kid\":\"rsa-1\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "alg 'XY999' is not supported");
        free(t);
        t = forge_token("{\"kid\":\"rsa-1\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "header has no alg");
        free(t);
        free(p);
}

TOKEN_TEST(missing_kid)
{
        (void)state;
        char *p = test_claims(NULL);
        char *t = forge_token("{\"alg\":\"RS256\"}", p, "RS256", rsa, NULL, 0);
        expect_reject(t, "header has no kid");
        free(t);
        free(p);
}

TOKEN_TEST(weak_or_wrong_keys_in_jwks)
{
        (void)state;
        char *t = make("RS256", small, NULL);
        expect_reject(t, "key 'rsa-small' is RSA with 1024 bits, at least 2048 are required");
        free(t);
        t = make("RS256", enc, NULL);
        expect_reject(t, "key 'rsa-enc' is not for signatures (use is not 'sig')");
        free(t);
}

/* ---- claims ------------------------------------------------------------ */

TOKEN_TEST(expired)
{
        (void)state;
        char *o = NULL, *t;
        assert_true(asprintf(&o, "{\"exp\":%lld}", TEST_NOW - 3600) > 0);
        t = make("RS256", rsa, o);
        expect_reject(t, "exp 2030-03-17T16:46:40Z is in the past");
        free(t);
        free(o);
        /* Exactly at the end of the skew. */
        assert_true(asprintf(&o, "{\"exp\":%lld}", TEST_NOW - 30) > 0);
        t = make("RS256", rsa, o);
        expect_reject(t, "exp 2030-03-17T17:46:10Z is in the past");
        free(t);
        free(o);
}

TOKEN_TEST(not_yet_valid)
{
        (void)state;
        char *o = NULL, *t;
        assert_true(asprintf(&o, "{\"nbf\":%lld}", TEST_NOW + 3600) > 0);
        t = make("RS256", rsa, o);
        expect_reject(t, "nbf 2030-03-17T18:46:40Z is in the future");
        free(t);
        free(o);
}

TOKEN_TEST(too_old)
{
        (void)state;
        char *o = NULL, *t;
        assert_true(asprintf(&o, "{\"iat\":%lld}", TEST_NOW - 3600) > 0);
        t = make("RS256", rsa, o);
        expect_reject(t, "iat 2030-03-17T16:46:40Z is older than max_token_age 10m");
        free(t);
        free(o);
}

TOKEN_TEST(iat_in_future_or_missing)
{
        (void)state;
        char *o = NULL, *t;
        assert_true(asprintf(&o, "{\"iat\":%lld}", TEST_NOW + 3600) > 0);
        t = make("RS256", rsa, o);
        expect_reject(t, "iat 2030-03-17T18:46:40Z is in the future");
        free(t);
        free(o);
        t = make("RS256", rsa, "{\"iat\":null}");
        expect_reject(t, "iat is missing");
        free(t);
}

TOKEN_TEST(missing_exp)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"exp\":null}");
        expect_reject(t, "exp is missing");
        free(t);
        t = make("RS256", rsa, "{\"exp\":\"2099-01-01\"}");
        expect_reject(t, "exp is not an integer");
        free(t);
        t = make("RS256", rsa, "{\"exp\":1.9e9}");
        expect_reject(t, "exp is not an integer");
        free(t);
        t = make("RS256", rsa, "{\"exp\":-5}");
        expect_reject(t, "exp -5 is not a valid time");
        free(t);
}

TOKEN_TEST(wrong_iss)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"iss\":\"https://idp.example.evil\"}");
        expect_reject(t, "iss 'https://idp.example.evil' is not the issuer 'https://idp.example'");
        free(t);
        t = make("RS256", rsa, "{\"iss\":null}");
        expect_reject(t, "iss is missing");
        free(t);
}

TOKEN_TEST(wrong_aud)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"aud\":\"another-app\"}");
        expect_reject(t, "aud 'another-app' does not contain the audience 'vigil-test'");
        free(t);
        t = make("RS256", rsa, "{\"aud\":[\"a\",\"b\"]}");
        expect_reject(t, "aud '[\"a\",\"b\"]' does not contain the audience 'vigil-test'");
        free(t);
        t = make("RS256", rsa, "{\"aud\":[\"vigil-test\",7]}");
        expect_reject(t, "aud is not a string or an array of strings");
        free(t);
        t = make("RS256", rsa, "{\"aud\":null}");
        expect_reject(t, "aud is missing");
        free(t);
}

TOKEN_TEST(missing_sub)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"sub\":null}");
        expect_reject(t, "sub is missing");
        free(t);
}

TOKEN_TEST(bad_groups_claim)
{
        (void)state;
        char *t = make("RS256", rsa, "{\"groups\":\"admins\"}");
        expect_reject(t, "groups claim 'groups' is not an array of strings");
        free(t);
        t = make("RS256", rsa, "{\"groups\":[\"dev\",{\"x\":1}]}");
        expect_reject(t, "groups claim 'groups' is not an array of strings");
        free(t);
}

TOKEN_TEST(oversize)
{
        (void)state;
        char *pad = malloc(17000), *o = NULL, *t;
        memset(pad, 'x', 16999);
        pad[16999] = '\0';
        assert_true(asprintf(&o, "{\"pad\":\"%s\"}", pad) > 0);
        t = make("RS256", rsa, o);
        {
                char *expect = NULL;
                assert_true(asprintf(&expect, "token is %zu bytes, the limit is 16383", strlen(t)) > 0);
                expect_reject(t, expect);
                free(expect);
        }
        free(t);
        free(o);
        free(pad);
}

TOKEN_TEST(username_mismatch)
{
        (void)state;
        char *t = make("RS256", rsa, NULL);
        expect_reject_as(cfg, t, "bob", "username claim 'preferred_username' is 'alice', not 'bob'");
        free(t);
        t = make("RS256", rsa, "{\"preferred_username\":null}");
        expect_reject(t, "username claim 'preferred_username' is missing");
        free(t);
        t = make("RS256", rsa, "{\"preferred_username\":[\"alice\"]}");
        expect_reject(t, "username claim 'preferred_username' is not a string");
        free(t);
}

TOKEN_TEST(replayed_jti)
{
        (void)state;
        vigil_config *c = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE
                                      "\njwks_file = %s\nsingle_use = yes\n",
                                      jwks_path);
        char *t = make("RS256", rsa, "{\"jti\":\"replay-1\"}"), *why = NULL;
        vigil_identity *id = NULL;

        /* Checking (vigil token verify) never spends the token. */
        assert_int_equal(verify_with(c, t, "alice", VIGIL_VERIFY_DRY_RUN, &id, &why), 0);
        id = vigil_identity_free(id);
        assert_int_equal(verify_with(c, t, "alice", VIGIL_VERIFY_DRY_RUN, &id, &why), 0);
        id = vigil_identity_free(id);
        /* The first real use succeeds, the second is a replay. */
        assert_int_equal(verify_with(c, t, "alice", 0, &id, &why), 0);
        id = vigil_identity_free(id);
        expect_reject_as(c, t, "alice", "jti 'replay-1' was already used");
        assert_int_equal(verify_with(c, t, "alice", VIGIL_VERIFY_DRY_RUN, &id, &why), VIGIL_E_DENIED);
        assert_string_equal(why, "jti 'replay-1' was already used");
        free(why);
        free(t);
        /* single_use needs a jti. */
        t = make("RS256", rsa, "{\"jti\":null}");
        expect_reject_as(c, t, "alice", "jti is missing (single_use = yes requires it)");
        free(t);
        vigil_config_free(c);
}

TOKEN_TEST(jwks_file_rotation)
{
        (void)state;
        char path[4096], *jwks, *t;
        forge_key *k2 = forge_key_new("P-256", "rotated-2", NULL);
        forge_key *ks[1] = { k2 };
        vigil_verifier_options o = { .state_dir = state_dir, .clock = test_clock };
        vigil_verifier *v = NULL;
        vigil_identity *id = NULL;
        vigil_config *c;
        char *why = NULL;

        snprintf(path, sizeof path, "%s/rotating.json", dir);
        jwks = forge_jwks(&rsa, 1);
        forge_write_file(path, jwks, 0600);
        free(jwks);
        c = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE "\njwks_file = %s\n", path);
        assert_int_equal(vigil_verifier_new(c, &o, &v), 0);
        t = make("RS256", rsa, NULL);
        assert_int_equal(vigil_verifier_verify(v, t, strlen(t), "alice", 0, &id, &why), 0);
        id = vigil_identity_free(id);
        free(t);

        /* The administrator replaces the file: the same verifier sees the new key. */
        jwks = forge_jwks(ks, 1);
        forge_write_file(path, jwks, 0600);
        free(jwks);
        t = make("ES256", k2, NULL);
        assert_int_equal(vigil_verifier_verify(v, t, strlen(t), "alice", 0, &id, &why), 0);
        id = vigil_identity_free(id);
        free(t);
        /* and the old one is gone */
        t = make("RS256", rsa, NULL);
        assert_int_equal(vigil_verifier_verify(v, t, strlen(t), "alice", 0, &id, &why), VIGIL_E_DENIED);
        assert_string_equal(why, "kid 'rsa-1' is not in the JWKS");
        free(why);
        free(t);
        vigil_verifier_free(v);
        vigil_config_free(c);
        forge_key_free(k2);
}

TOKEN_TEST(unsafe_jwks_file)
{
        (void)state;
        char path[4096], *jwks, *t, *why = NULL, *expect = NULL;
        vigil_identity *id = NULL;
        vigil_config *c;

        snprintf(path, sizeof path, "%s/writable.json", dir);
        jwks = forge_jwks(&rsa, 1);
        forge_write_file(path, jwks, 0666);
        free(jwks);
        c = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE "\njwks_file = %s\n", path);
        t = make("RS256", rsa, NULL);
        assert_int_equal(verify_with(c, t, "alice", 0, &id, &why), -EPERM);
        assert_true(asprintf(&expect,
                             "cannot get the identity provider's keys: jwks_file '%s' is unsafe: "
                             "must be a file owned by root and writable by no one else",
                             path) > 0);
        assert_string_equal(why, expect);
        assert_null(id);
        free(expect);
        free(why);
        free(t);
        vigil_config_free(c);
}

TOKEN_TEST(token_file_api)
{
        (void)state;
        char path[4096], *t, *why = NULL, *tok = NULL;
        vigil_verifier_options o = { .state_dir = state_dir, .clock = test_clock };
        vigil_identity *id = NULL;
        size_t len = 0;

        snprintf(path, sizeof path, "%s/token", dir);
        t = make("EdDSA", ed, NULL);
        {
                char *withnl = NULL;
                assert_true(asprintf(&withnl, "  %s\n\n", t) > 0);
                forge_write_file(path, withnl, 0600);
                free(withnl);
        }
        assert_int_equal(vigil_token_read_file(path, &tok, &len), 0);
        assert_string_equal(tok, t);
        assert_int_equal(len, strlen(t));
        free(tok);
        assert_int_equal(vigil_verify_token_file(cfg, &o, path, "alice", &id, &why), 0);
        assert_string_equal(id->sub, "u-1234");
        id = vigil_identity_free(id);
        assert_int_equal(vigil_verify_token_file(cfg, &o, path, "bob", &id, &why), VIGIL_E_DENIED);
        assert_string_equal(why, "username claim 'preferred_username' is 'alice', not 'bob'");
        free(why);
        assert_int_equal(vigil_verify_token_file(cfg, &o, "/nonexistent/token", "alice", &id, &why),
                         -ENOENT);
        assert_string_equal(why, "cannot read token file '/nonexistent/token': No such file or directory");
        free(why);
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(valid_rs256),
                cmocka_unit_test(valid_es256),
                cmocka_unit_test(valid_eddsa),
                cmocka_unit_test(valid_es384),
                cmocka_unit_test(valid_ps256),
                cmocka_unit_test(valid_aud_array),
                cmocka_unit_test(valid_within_clock_skew),
                cmocka_unit_test(valid_jku_x5u_ignored),
                cmocka_unit_test(valid_without_user_when_asked),
                cmocka_unit_test(alg_none_unsigned),
                cmocka_unit_test(alg_none_with_signature),
                cmocka_unit_test(hs256_with_rsa_public_key_as_secret),
                cmocka_unit_test(attacker_key_in_jwk_header),
                cmocka_unit_test(jku_x5u_pointing_elsewhere),
                cmocka_unit_test(unknown_kid),
                cmocka_unit_test(kid_path_traversal),
                cmocka_unit_test(signature_by_another_key),
                cmocka_unit_test(signature_stripped),
                cmocka_unit_test(signature_truncated),
                cmocka_unit_test(signature_bit_flipped),
                cmocka_unit_test(payload_altered_after_signing),
                cmocka_unit_test(garbage_base64),
                cmocka_unit_test(non_json_payload),
                cmocka_unit_test(duplicate_claims),
                cmocka_unit_test(crit_header),
                cmocka_unit_test(ecdsa_r_s_zero),
                cmocka_unit_test(ecdsa_r_s_out_of_range),
                cmocka_unit_test(alg_does_not_match_key_type),
                cmocka_unit_test(alg_not_in_algorithms),
                cmocka_unit_test(missing_kid),
                cmocka_unit_test(weak_or_wrong_keys_in_jwks),
                cmocka_unit_test(expired),
                cmocka_unit_test(not_yet_valid),
                cmocka_unit_test(too_old),
                cmocka_unit_test(iat_in_future_or_missing),
                cmocka_unit_test(missing_exp),
                cmocka_unit_test(wrong_iss),
                cmocka_unit_test(wrong_aud),
                cmocka_unit_test(missing_sub),
                cmocka_unit_test(bad_groups_claim),
                cmocka_unit_test(oversize),
                cmocka_unit_test(username_mismatch),
                cmocka_unit_test(replayed_jti),
                cmocka_unit_test(jwks_file_rotation),
                cmocka_unit_test(unsafe_jwks_file),
                cmocka_unit_test(token_file_api),
        };

        return cmocka_run_group_tests_name("identity-token", tests, setup, teardown);
}
