#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

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

/* JOSE carries r||s; OpenSSL wants DER. */
static int ecdsa_to_der(const unsigned char *sig, size_t size, unsigned char **ret, size_t *ret_len)
{
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)size, NULL), *s = BN_bin2bn(sig + size, (int)size, NULL);
        unsigned char *der = NULL;
        int len;

        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
                ECDSA_SIG_free(es);
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (len <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_len = (size_t)len;
        return 0;
}

int jws_verify(jws_alg a, const jwk_key *key, const void *msg, size_t msg_len, const unsigned char *sig,
               size_t sig_len, char **ret_reason)
{
        _cleanup_free_ char *ckid = NULL;
        unsigned char *der = NULL;
        EVP_MD_CTX *ctx = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        int r, ok;

        if ((unsigned)a >= JWS_N_ALGS || !key->pkey || key->kind != algs[a].kind)
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
                r = ecdsa_to_der(sig, size, &der, &sig_len);
                if (r < 0)
                        return r;
                sig = der;
        } else if (algs[a].kind == JWK_RSA && sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s signature is %zu bytes, not %d",
                                  algs[a].name, sig_len, EVP_PKEY_get_size(key->pkey));
        } else if (algs[a].kind == JWK_ED25519 && sig_len != 64) {
                return reason_set(ret_reason, VIGIL_E_DENIED, "EdDSA signature is %zu bytes, not 64",
                                  sig_len);
        }

        ctx = EVP_MD_CTX_new();
        if (!ctx) {
                r = -ENOMEM;
                goto out;
        }
        if (EVP_DigestVerifyInit_ex(ctx, &pctx, algs[a].digest, NULL, NULL, key->pkey, NULL) <= 0 ||
            (algs[a].pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))) {
                r = -ENOMEM; /* the key and algorithm were checked above; only resources can fail */
                goto out;
        }
        ok = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len);
        if (ok == 1)
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
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        return r;
}
