/* Cross-check with an independent implementation: tokens that forge.c signs
 * for the "valid" tests are accepted by Debian's libjwt too, so vigil's
 * acceptance tests do not only agree with vigil's own encoding. (libjwt is
 * not in vigil's verification path; docs/identity.md says why.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h>

#include "forge.h"
#include "identity.h"
#include "testlib.h"

static void cross_check(const char *type, const char *alg, jwt_alg_t jalg)
{
        forge_key *k = forge_key_new(type, "k", NULL);
        char *pem = forge_public_pem(k), *claims = test_claims(NULL), hdr[64], *token, *jwks, *why = NULL;
        vigil_verifier_options o = { .clock = test_clock };
        vigil_config *cfg = test_config("issuer = " TEST_ISSUER "\naudience = " TEST_AUDIENCE
                                        "\njwks_file = /nonexistent\n");
        vigil_identity *id = NULL;
        vigil_verifier *v = NULL;
        jwt_t *j = NULL;

        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"k\"}", alg);
        token = forge_token(hdr, claims, alg, k, NULL, 0);

        assert_int_equal(jwt_decode(&j, token, (const unsigned char *)pem, (int)strlen(pem)), 0);
        assert_int_equal(jwt_get_alg(j), jalg);
        assert_string_equal(jwt_get_grant(j, "sub"), "u-1234");
        assert_int_equal(jwt_get_grant_int(j, "exp"), TEST_NOW + 600);
        jwt_free(j);

        jwks = forge_jwks(&k, 1);
        o.jwks_text = jwks;
        o.jwks_len = strlen(jwks);
        assert_int_equal(vigil_verifier_new(cfg, &o, &v), 0);
        assert_int_equal(vigil_verifier_verify(v, token, strlen(token), "alice", 0, &id, &why), 0);
        assert_string_equal(id->sub, "u-1234");
        vigil_identity_free(id);
        vigil_verifier_free(v);
        vigil_config_free(cfg);
        free(jwks);
        free(token);
        free(claims);
        free(pem);
        forge_key_free(k);
}

static void rs256_agrees(void **state)
{
        (void)state;
        cross_check("RSA2048", "RS256", JWT_ALG_RS256);
}

static void es256_agrees(void **state)
{
        (void)state;
        cross_check("P-256", "ES256", JWT_ALG_ES256);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(rs256_agrees),
                cmocka_unit_test(es256_agrees),
        };

        return cmocka_run_group_tests_name("identity-libjwt", tests, NULL, NULL);
}
