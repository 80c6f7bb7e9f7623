#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "jws.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

static const struct {
        const char *name;
        jwk_kind kind;
        const char *digest; /* NULL: EdDSA signs the message itself */
        bool pss;
        size_t ec_size; /* bytes of r and of s */
} algs[JWS_N_ALGS] = {
        [JWS_RS256] = { "RS256", JWK_RSA, "SHA256", false, 0 },
        [JWS_RS384] = { "RS384", JWK_RSA, "SHA384", false, 0 },
        [JWS_RS512] = { "RS512", JWK_RSA, "SHA512", false, 0 },
        [JWS_PS256] = { "PS256", JWK_RSA, "SHA256", true, 0 },
        [JWS_PS384] = { "PS384", JWK_RSA, "SHA384", true, 0 },
        [JWS_PS512] = { "PS512", JWK_RSA, "SHA512", true, 0 },
        [JWS_ES256] = { "ES256", JWK_EC_P256, "SHA256", false, 32 },
        [JWS_ES384] = { "ES384", JWK_EC_P384, "SHA384", false, 48 },
        [JWS_EDDSA] = { "EdDSA", JWK_ED25519, NULL, false, 0 },
};

/* Group orders, big-endian: r and s must lie in [1, n-1] (FIPS 186-4). */
static const unsigned char p256_order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const unsigned char p384_order[48] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
        0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};

int jws_alg_from_name(const char *name)
{
        for (size_t i = 0; i < JWS_N_ALGS; i++)
                if (strcmp(algs[i].name, name) == 0)
                        return (int)i;
        return -1;
}

const char *jws_alg_name(jws_alg a)
{
        return algs[a].name;
}

jwk_kind jws_alg_key_kind(jws_alg a)
{
        return algs[a].kind;
}

static bool in_range(const unsigned char *v, const unsigned char *order, size_t size)
{
        bool zero = true;

        for (size_t i = 0; i < size; i++)
                if (v[i]) {
                        zero = false;
                        break;
                }
        return !zero && memcmp(v, order, size) < 0;
}

/* What verifying with one key needs, per algorithm, prepared once: in
 * OpenSSL 3 making a context fetches the signature and digest
 * implementations by name and binds the key to them, which costs about a
 * fifth of an RSA-2048 verification (bench/README.md); a verifier keeps its
 * keys, so it keeps these with them. */
struct jws_key_cache {
        EVP_PKEY_CTX *ctx[JWS_N_ALGS]; /* EVP_PKEY_verify() ready: padding and digest set */
        EVP_MD *md[JWS_N_ALGS];        /* the digest the signing input is hashed with */
};

struct jws_key_cache *jws_key_cache_new(void)
{
        return calloc(1, sizeof(struct jws_key_cache));
}

struct jws_key_cache *jws_key_cache_free(struct jws_key_cache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < JWS_N_ALGS; i++) {
                EVP_PKEY_CTX_free(c->ctx[i]);
                EVP_MD_free(c->md[i]);
        }
        free(c);
        return NULL;
}

/* The context for @a with @key: made the first time, then reused. A reused
 * context is in the state EVP_PKEY_verify_init() left it in, whatever the
 * previous signature was: a verify operation keeps no state between calls. */
static int prepare(jws_alg a, const jwk_key *key, EVP_PKEY_CTX **ret_ctx, EVP_MD **ret_md)
{
        struct jws_key_cache *c = key->cache;
        EVP_PKEY_CTX *ctx;
        EVP_MD *md;

        if (!c->ctx[a]) {
                md = EVP_MD_fetch(NULL, algs[a].digest, NULL);
                ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
                if (!md || !ctx || EVP_PKEY_verify_init(ctx) <= 0 ||
                    (algs[a].kind == JWK_RSA &&
                     EVP_PKEY_CTX_set_rsa_padding(ctx, algs[a].pss ? RSA_PKCS1_PSS_PADDING
                                                                   : RSA_PKCS1_PADDING) <= 0) ||
                    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
                    (algs[a].pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)) {
                        EVP_PKEY_CTX_free(ctx);
                        EVP_MD_free(md);
                        return -ENOMEM; /* key and algorithm were matched: only resources can fail */
                }
                c->ctx[a] = ctx;
                c->md[a] = md;
        }
        *ret_ctx = c->ctx[a];
        *ret_md = c->md[a];
        return 0;
}

/* One DER INTEGER for an unsigned big-endian value that is not zero. */
static size_t der_integer(const unsigned char *v, size_t size, unsigned char *out)
{
        size_t skip = 0, n;

        while (skip < size - 1 && v[skip] == 0)
                skip++;
        n = size - skip;
        out[0] = 0x02;
        if (v[skip] & 0x80) {
                out[1] = (unsigned char)(n + 1);
                out[2] = 0x00; /* positive */
                memcpy(out + 3, v + skip, n);
                return n + 3;
        }
        out[1] = (unsigned char)n;
        memcpy(out + 2, v + skip, n);
        return n + 2;
}

/* JOSE carries r||s; OpenSSL wants DER: SEQUENCE { INTEGER r, INTEGER s }.
 * For P-256 and P-384 every length fits the short form (at most 2 + 2 * 51). */
#define ECDSA_DER_MAX (2 + 2 * (3 + 48))
static size_t ecdsa_to_der(const unsigned char *sig, size_t size, unsigned char out[static ECDSA_DER_MAX])
{
        size_t n = 2;

        n += der_integer(sig, size, out + n);
        n += der_integer(sig + size, size, out + n);
        out[0] = 0x30;
        out[1] = (unsigned char)(n - 2);
        return n;
}

int jws_verify(jws_alg a, const jwk_key *key, const void *msg, size_t msg_len, const unsigned char *sig,
               size_t sig_len, char **ret_reason)
{
        _cleanup_free_ char *ckid = NULL;
        unsigned char der[ECDSA_DER_MAX], digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;
        EVP_PKEY_CTX *ctx;
        EVP_MD *md;
        int r, ok;

        if ((unsigned)a >= JWS_N_ALGS || !key->pkey || !key->cache || key->kind != algs[a].kind)
                return -EINVAL;
        if (sig_len == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "signature is missing");

        if (algs[a].ec_size) {
                size_t size = algs[a].ec_size;
                const unsigned char *order = size == 32 ? p256_order : p384_order;

                if (sig_len != 2 * size)
                        return reason_set(ret_reason, VIGIL_E_DENIED, "%s signature is %zu bytes, not %zu",
                                          algs[a].name, sig_len, 2 * size);
                if (!in_range(sig, order, size) || !in_range(sig + size, order, size))
                        return reason_set(
                                ret_reason, VIGIL_E_DENIED,
                                "%s signature has r or s out of range (zero or not below the group order)",
                                algs[a].name);
                sig_len = ecdsa_to_der(sig, size, der);
                sig = der;
        } else if (algs[a].kind == JWK_RSA && sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s signature is %zu bytes, not %d",
                                  algs[a].name, sig_len, EVP_PKEY_get_size(key->pkey));
        } else if (algs[a].kind == JWK_ED25519 && sig_len != crypto_sign_BYTES) {
                return reason_set(ret_reason, VIGIL_E_DENIED, "EdDSA signature is %zu bytes, not %d",
                                  sig_len, crypto_sign_BYTES);
        }

        if (algs[a].kind == JWK_ED25519)
                ok = crypto_sign_verify_detached(sig, msg, msg_len, key->ed25519) == 0;
        else {
                r = prepare(a, key, &ctx, &md);
                if (r < 0)
                        goto out;
                if (!EVP_Digest(msg, msg_len, digest, &digest_len, md, NULL)) {
                        r = -ENOMEM;
                        goto out;
                }
                ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
        }
        if (ok)
                r = 0;
        else {
                ckid = reason_clean(key->kid);
                r = reason_set(ret_reason, VIGIL_E_DENIED, "signature does not verify with key '%s'",
                               RC(ckid));
        }
out:
        /* Leave nothing in the thread's OpenSSL error queue: the PAM module
         * runs inside sshd and sudo, which use OpenSSL too. */
        if (r != 0)
                ERR_clear_error();
        return r;
}
