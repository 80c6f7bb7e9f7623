/* bench-token [N]: time to verify one token with vigil_verifier_verify(),
 * JWKS already loaded (the cached case), for RS256, ES256 and EdDSA.
 *
 * Prints, per algorithm, the median and 90th percentile of N single
 * verifications (default 5000, after 200 warm-up runs), and as an anchor
 * measured in the same run the bare OpenSSL signature check of the same
 * token, so the ratio shows what parsing and the claim rules add.
 * Target (issue 6): median under 100 us each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "forge.h"
#include "identity.h"

#define NOW 1900000000LL

static int64_t fixed_clock(void *userdata)
{
        (void)userdata;
        return NOW;
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

typedef struct stats {
        double median, p90;
} stats;

static stats summarize(double *t, size_t n)
{
        qsort(t, n, sizeof *t, cmp);
        return (stats){ t[n / 2], t[n * 9 / 10] };
}

/* The signature check alone, as OpenSSL does it, for the anchor. */
static void bare_verify(const char *alg, EVP_PKEY *pub, const char *token, const unsigned char *sig,
                        size_t sig_len)
{
        const char *dot = strrchr(token, '.');
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const char *md = strcmp(alg, "EdDSA") == 0 ? NULL : "SHA256";

        if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pub, NULL) != 1 ||
            EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)token, (size_t)(dot - token)) != 1) {
                fprintf(stderr, "bench-token: bare %s verification failed\n", alg);
                exit(1);
        }
        EVP_MD_CTX_free(ctx);
}

/* DER for ECDSA, raw otherwise: what OpenSSL wants. */
static unsigned char *openssl_sig(const char *alg, const char *token, size_t *ret_len)
{
        const char *s = strrchr(token, '.') + 1;
        size_t n = strlen(s), len;
        char *b64 = malloc(n + 4);
        unsigned char *raw = malloc(n + 4);
        int m;

        for (size_t i = 0; i < n; i++)
                b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        while (n % 4)
                b64[n++] = '=';
        m = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
        len = (size_t)m - (b64[n - 1] == '=') - (b64[n - 2] == '=');
        free(b64);
        if (strcmp(alg, "ES256") == 0) {
                ECDSA_SIG *es = ECDSA_SIG_new();
                unsigned char *der = NULL;
                ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
                len = (size_t)i2d_ECDSA_SIG(es, &der);
                ECDSA_SIG_free(es);
                free(raw);
                raw = malloc(len);
                memcpy(raw, der, len);
                OPENSSL_free(der);
        }
        *ret_len = len;
        return raw;
}

int main(int argc, char **argv)
{
        static const struct {
                const char *alg, *type, *kid;
        } cases[] = {
                { "RS256", "RSA2048", "rsa-1" },
                { "ES256", "P-256", "ec-1" },
                { "EdDSA", "Ed25519", "ed-1" },
        };
        const char *conf = "issuer = https://idp.example\naudience = vigil-test\njwks_file = /nonexistent\n";
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000, warm = 200;
        char claims[512];
        double *t = calloc(n, sizeof *t), *b = calloc(n, sizeof *b);
        vigil_config *cfg = NULL;
        int fail = 0;

        if (!t || !b || n < 10 || vigil_config_parse(conf, strlen(conf), "bench.conf", &cfg, NULL) < 0) {
                fprintf(stderr, "usage: bench-token [N>=10]\n");
                return 2;
        }
        snprintf(
                claims, sizeof claims,
                "{\"iss\":\"https://idp.example\",\"aud\":\"vigil-test\",\"sub\":\"u-1234\","
                "\"preferred_username\":\"alice\",\"email\":\"alice@example.com\",\"iat\":%lld,\"exp\":%lld,"
                "\"groups\":[\"dev\",\"ops\"],\"jti\":\"bench\"}",
                NOW - 60, NOW + 600);
        printf("bench-token: %zu verifications per algorithm (median, p90), JWKS cached\n", n);
        printf("%-6s %12s %12s %14s %8s\n", "alg", "vigil us", "p90 us", "bare EVP us", "ratio");

        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                forge_key *k = forge_key_new(cases[c].type, cases[c].kid, NULL);
                char *jwks = forge_jwks(&k, 1), hdr[128], *token;
                vigil_verifier_options o = { .clock = fixed_clock,
                                             .jwks_text = jwks,
                                             .jwks_len = strlen(jwks) };
                vigil_verifier *v = NULL;
                unsigned char *sig;
                size_t sig_len;
                stats sv, sb;

                snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", cases[c].alg,
                         cases[c].kid);
                token = forge_token(hdr, claims, cases[c].alg, k, NULL, 0);
                sig = openssl_sig(cases[c].alg, token, &sig_len);
                if (vigil_verifier_new(cfg, &o, &v) < 0)
                        return 1;
                for (size_t i = 0; i < warm + n; i++) {
                        vigil_identity *id = NULL;
                        char *why = NULL;
                        double t0 = now_us();
                        int r = vigil_verifier_verify(v, token, strlen(token), "alice", 0, &id, &why);
                        double t1 = now_us();

                        if (r != 0) {
                                fprintf(stderr, "bench-token: %s refused: %s\n", cases[c].alg,
                                        why ? why : "?");
                                return 1;
                        }
                        vigil_identity_free(id);
                        if (i >= warm)
                                t[i - warm] = t1 - t0;
                }
                for (size_t i = 0; i < warm + n; i++) {
                        double t0 = now_us();
                        bare_verify(cases[c].alg, k->pkey, token, sig, sig_len);
                        if (i >= warm)
                                b[i - warm] = now_us() - t0;
                }
                sv = summarize(t, n);
                sb = summarize(b, n);
                printf("%-6s %12.1f %12.1f %14.1f %8.2f%s\n", cases[c].alg, sv.median, sv.p90, sb.median,
                       sv.median / sb.median, sv.median < 100.0 ? "" : "  over 100 us");
                fail |= sv.median >= 100.0;
                vigil_verifier_free(v);
                free(sig);
                free(token);
                free(jwks);
                forge_key_free(k);
        }
        vigil_config_free(cfg);
        free(t);
        free(b);
        return fail;
}
