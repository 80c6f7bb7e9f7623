/* bench-token [N]: time to verify one token with vigil_verifier_verify(),
 * JWKS already loaded (the cached case), for RS256, ES256 and EdDSA.
 *
 * Prints, per algorithm, the median and 90th percentile of N single
 * verifications (default 5000, after 200 warm-up calls). Two anchors are
 * measured in the same run, interleaved with vigil in blocks of 50 calls
 * (BLOCK=n in the environment changes it; BLOCK=1 alternates call by call,
 * with colder caches for all three) so that load from other processes falls
 * on all three alike:
 *  - primitive: the signature check alone at its cheapest, the cost no
 *    verifier can avoid: for RS256 and ES256 SHA-256 of the signing input
 *    and OpenSSL's EVP_PKEY_verify() with a key parsed once and a context
 *    prepared once; for EdDSA libsodium's crypto_sign_verify_detached()
 *    (the primitive vigil uses). vigil/primitive is what parsing, the
 *    header and claim rules and the identity add.
 *  - EVP fresh: OpenSSL's EVP_DigestVerifyInit_ex() + EVP_DigestVerify() on
 *    a new context per token (what vigil did before it kept contexts, and
 *    OpenSSL's own Ed25519 for EdDSA).
 * Target (issue 6): median under 100 us each; the exit status is 1 when one
 * is over, and the line says whether the primitive alone is. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "forge.h"
#include "identity.h"

#define NOW 1900000000LL
#define TARGET_US 100.0

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

static void die(const char *what, const char *alg)
{
        fprintf(stderr, "bench-token: %s %s failed\n", alg, what);
        exit(1);
}

/* One algorithm's token and everything the anchors need, made before timing. */
typedef struct bench_case {
        const char *alg;
        bool eddsa;
        const char *token;
        size_t msg_len;     /* "header.payload" */
        unsigned char *sig; /* DER for ECDSA, raw otherwise: what OpenSSL wants */
        size_t sig_len;
        const unsigned char *raw; /* the raw JOSE signature (EdDSA: R||S for libsodium) */
        EVP_PKEY *pub;
        unsigned char ed_pub[32];
        EVP_PKEY_CTX *ctx; /* prepared once: EVP_PKEY_verify() ready */
        EVP_MD *sha256;
} bench_case;

static void primitive(const bench_case *c)
{
        unsigned char md[32];
        unsigned md_len = 0;

        if (c->eddsa) {
                if (crypto_sign_verify_detached(c->raw, (const unsigned char *)c->token, c->msg_len,
                                                c->ed_pub) != 0)
                        die("libsodium verification", c->alg);
                return;
        }
        if (!EVP_Digest(c->token, c->msg_len, md, &md_len, c->sha256, NULL) ||
            EVP_PKEY_verify(c->ctx, c->sig, c->sig_len, md, md_len) != 1)
                die("EVP_PKEY_verify", c->alg);
}

static void evp_fresh(const bench_case *c)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const unsigned char *sig = c->eddsa ? c->raw : c->sig;
        size_t sig_len = c->eddsa ? 64 : c->sig_len;

        if (!ctx ||
            EVP_DigestVerifyInit_ex(ctx, NULL, c->eddsa ? NULL : "SHA256", NULL, NULL, c->pub, NULL) != 1 ||
            EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)c->token, c->msg_len) != 1)
                die("EVP_DigestVerify", c->alg);
        EVP_MD_CTX_free(ctx);
}

/* The token's signature, decoded; ECDSA's also as DER for OpenSSL. */
static void signatures(bench_case *c)
{
        const char *s = strrchr(c->token, '.') + 1;
        size_t n = strlen(s), len;
        char *b64 = malloc(n + 4);
        unsigned char *raw = malloc(n + 4);
        int m;

        if (!b64 || !raw)
                die("allocation", c->alg);
        for (size_t i = 0; i < n; i++)
                b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        while (n % 4)
                b64[n++] = '=';
        m = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
        len = (size_t)m - (b64[n - 1] == '=') - (b64[n - 2] == '=');
        free(b64);
        c->raw = raw;
        c->sig = raw;
        c->sig_len = len;
        if (strcmp(c->alg, "ES256") == 0) {
                ECDSA_SIG *es = ECDSA_SIG_new();
                unsigned char *der = NULL;
                int dl;

                ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
                dl = i2d_ECDSA_SIG(es, &der);
                ECDSA_SIG_free(es);
                if (dl <= 0)
                        die("DER encoding", c->alg);
                c->sig = der;
                c->sig_len = (size_t)dl;
        }
}

static void prepare(bench_case *c, forge_key *k)
{
        size_t n = sizeof c->ed_pub;

        c->pub = k->pkey;
        c->msg_len = (size_t)(strrchr(c->token, '.') - c->token);
        signatures(c);
        if (c->eddsa) {
                if (sodium_init() < 0 || EVP_PKEY_get_raw_public_key(k->pkey, c->ed_pub, &n) != 1)
                        die("key setup", c->alg);
                return;
        }
        c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        c->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        if (!c->sha256 || !c->ctx || EVP_PKEY_verify_init(c->ctx) != 1 ||
            (strcmp(c->alg, "RS256") == 0 && EVP_PKEY_CTX_set_rsa_padding(c->ctx, RSA_PKCS1_PADDING) != 1) ||
            EVP_PKEY_CTX_set_signature_md(c->ctx, c->sha256) != 1)
                die("context setup", c->alg);
}

static void done(bench_case *c)
{
        if (c->sig != c->raw)
                OPENSSL_free(c->sig);
        free((void *)c->raw);
        EVP_PKEY_CTX_free(c->ctx);
        EVP_MD_free(c->sha256);
}

static void vigil_once(vigil_verifier *v, const bench_case *c)
{
        vigil_identity *id = NULL;
        char *why = NULL;

        if (vigil_verifier_verify(v, c->token, strlen(c->token), "alice", 0, &id, &why) != 0) {
                fprintf(stderr, "bench-token: %s refused: %s\n", c->alg, why ? why : "?");
                exit(1);
        }
        vigil_identity_free(id);
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
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000, warm = 200,
               block = getenv("BLOCK") ? strtoul(getenv("BLOCK"), NULL, 10) : 50;
        char claims[512];
        double *t[3];
        vigil_config *cfg = NULL;
        int fail = 0;

        for (size_t m = 0; m < 3; m++)
                t[m] = calloc(n + warm, sizeof(double));
        if (!t[0] || !t[1] || !t[2] || n < 10 || block < 1 ||
            vigil_config_parse(conf, strlen(conf), "bench.conf", &cfg, NULL) < 0) {
                fprintf(stderr, "usage: [BLOCK=n>=1] bench-token [N>=10]\n");
                return 2;
        }
        snprintf(
                claims, sizeof claims,
                "{\"iss\":\"https://idp.example\",\"aud\":\"vigil-test\",\"sub\":\"u-1234\","
                "\"preferred_username\":\"alice\",\"email\":\"alice@example.com\",\"iat\":%lld,\"exp\":%lld,"
                "\"groups\":[\"dev\",\"ops\"],\"jti\":\"bench\"}",
                NOW - 60, NOW + 600);
        printf("bench-token: %zu verifications per algorithm, interleaved with the anchors in blocks of %zu "
               "(median, p90), JWKS cached\n",
               n, block);
        printf("primitive: SHA-256 + OpenSSL EVP_PKEY_verify, prepared context (RS256, ES256); libsodium "
               "(EdDSA)\n");
        printf("%-6s %9s %9s %13s %7s %14s\n", "alg", "vigil us", "p90 us", "primitive us", "ratio",
               "EVP fresh us");

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                forge_key *k = forge_key_new(cases[i].type, cases[i].kid, NULL);
                char *jwks = forge_jwks(&k, 1), hdr[128];
                vigil_verifier_options o = { .clock = fixed_clock,
                                             .jwks_text = jwks,
                                             .jwks_len = strlen(jwks) };
                bench_case c = { .alg = cases[i].alg, .eddsa = strcmp(cases[i].alg, "EdDSA") == 0 };
                vigil_verifier *v = NULL;
                stats sv, sp, se;

                snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", cases[i].alg,
                         cases[i].kid);
                c.token = forge_token(hdr, claims, cases[i].alg, k, NULL, 0);
                prepare(&c, k);
                if (vigil_verifier_new(cfg, &o, &v) < 0)
                        return 1;
                /* Blocks of BLOCK calls of each in a rotating order: load that
                 * comes and goes falls on all three alike, and within a block
                 * a method runs with its own code and data in the caches, as
                 * it would verifying token after token. */
                for (size_t r0 = 0; r0 < warm + n; r0 += block)
                        for (size_t j = 0; j < 3; j++) {
                                size_t m = (r0 / block + j) % 3;

                                for (size_t r = r0; r < r0 + block && r < warm + n; r++) {
                                        double t0 = now_us();

                                        if (m == 0)
                                                vigil_once(v, &c);
                                        else if (m == 1)
                                                primitive(&c);
                                        else
                                                evp_fresh(&c);
                                        t[m][r] = now_us() - t0;
                                }
                        }
                sv = summarize(t[0] + warm, n);
                sp = summarize(t[1] + warm, n);
                se = summarize(t[2] + warm, n);
                printf("%-6s %9.1f %9.1f %13.1f %7.2f %14.1f%s\n", cases[i].alg, sv.median, sv.p90,
                       sp.median, sv.median / sp.median, se.median,
                       sv.median < TARGET_US    ? ""
                       : sp.median >= TARGET_US ? "  over 100 us: so is the primitive alone"
                                                : "  over 100 us");
                fail |= sv.median >= TARGET_US;
                vigil_verifier_free(v);
                done(&c);
                free((char *)c.token);
                free(jwks);
                forge_key_free(k);
        }
        vigil_config_free(cfg);
        for (size_t m = 0; m < 3; m++)
                free(t[m]);
        return fail;
}
