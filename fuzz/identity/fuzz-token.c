/* libFuzzer target: a token through the whole verification path (parse,
 * header rules, key lookup, signature, claims) and, when it parses, its
 * payload through the claim rules directly (signatures of fuzzed tokens never
 * verify, so the claims code would otherwise go unexercised).
 *
 * The JWKS below is the public half of the keys that signed the seeds in
 * fuzz/corpus/token (made once with tests/identity/forge.c); the clock is
 * fixed at TEST_NOW so the seeds stay valid. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "identity.h"
#include "jwt-parse.h"

#define FUZZ_NOW 1900000000LL

static const char jwks[] =
        "{\"keys\":["
        "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"n\":\"4HMMYMJqti5uKNbkKRMSig2zN7kWc6lTPmbt_Z56HbXZYVK"
        "siEqbwh8hZNHKLhFXm07p8YJ1TExpAcXn-WrIkAttFcFqkCWXernFezFLABTY0izBV23dqL8lb-35NbizYZHgbEuq1"
        "DsMpMnaBX6oZ8SWEk8z8nD4dZgqromRBSYEbV8YSCdZf8sCsXJHrpJydaZATRSstW2-ZdTu3JH15Apm9VWMVgTGuWG"
        "xky982pqGV2NZ4o5lwD3SdlBIdAe5DV-Svzk8aazN8Qp0_06rGRUtNpThYeOifuuRD7uTYnkC4dkGarQFtFA_I9-2i"
        "0jkJ6kINaBZo2Z1gWPowBaTjw\",\"e\":\"AQAB\"}"
        ","
        "{\"kty\":\"EC\",\"kid\":\"ec-1\",\"crv\":\"P-256\",\"x\":\"gOHG7xU_4MXqGPWOz_LZ7dhkkbRV8W9"
        "CCs--hw69TCg\",\"y\":\"pXXJUNuGrwKeMPsHCyJKy-3SqhrRq084UZJ9RlvHrBM\"}"
        ","
        "{\"kty\":\"EC\",\"kid\":\"ec384-1\",\"crv\":\"P-384\",\"x\":\"2pu7q3g8Zg4trwR5lwnBLAMWmXJv"
        "080swwuyU1Eu71b5USO87-otr1cUT1q8vq0f\",\"y\":\"2cvd7YMnpXIP_OTxVc_6L28JfF9vTMhfINtgXaCirPC"
        "8n2Li3w2pMQW9iGFfKCXx\"}"
        ","
        "{\"kty\":\"OKP\",\"kid\":\"ed-1\",\"crv\":\"Ed25519\",\"x\":\"GrEH01kSe7VEvvsvcWaN9rftG-eq"
        "Af1t9lz_GSIuMCk\"}"
        "]}";

static const char conf[] = "issuer = https://idp.example\n"
                           "audience = vigil-test\n"
                           "jwks_file = /nonexistent/jwks.json\n"
                           "algorithms = RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA\n";

static int64_t fixed_clock(void *userdata)
{
        (void)userdata;
        return FUZZ_NOW;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static vigil_config *cfg;
        static vigil_verifier *v;
        vigil_identity *id = NULL;
        char *reason = NULL;
        vigil_jwt jwt;

        if (!v) {
                vigil_verifier_options o = { .clock = fixed_clock,
                                             .jwks_text = jwks,
                                             .jwks_len = sizeof jwks - 1 };

                if (vigil_config_parse(conf, sizeof conf - 1, "fuzz.conf", &cfg, NULL) < 0 ||
                    vigil_verifier_new(cfg, &o, &v) < 0)
                        abort();
        }

        (void)vigil_verifier_verify(v, (const char *)data, size, "alice", VIGIL_VERIFY_DRY_RUN, &id,
                                    &reason);
        id = vigil_identity_free(id);
        free(reason);
        reason = NULL;

        if (vigil_jwt_parse((const char *)data, size, &jwt, &reason) == 0) {
                (void)vigil_claims_check(cfg, jwt.payload, jwt.payload_text, jwt.payload_len, FUZZ_NOW,
                                         "alice", &id, &reason);
                vigil_identity_free(id);
                vigil_jwt_done(&jwt);
        }
        free(reason);
        return 0;
}
