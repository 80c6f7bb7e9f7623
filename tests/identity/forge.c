#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "forge.h"

#define CHECK(x)                                                                                            \
        do {                                                                                                \
                if (!(x)) {                                                                                 \
                        fprintf(stderr, "%s:%d: forge: %s failed\n", __FILE__, __LINE__, #x);               \
                        ERR_print_errors_fp(stderr);                                                        \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)

char *forge_b64url(const void *data, size_t len)
{
        char *out = malloc(4 * ((len + 2) / 3) + 1);
        int n;

        CHECK(out);
        n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
        CHECK(n >= 0);
        for (int i = 0; i < n; i++) {
                if (out[i] == '+')
                        out[i] = '-';
                else if (out[i] == '/')
                        out[i] = '_';
        }
        while (n > 0 && out[n - 1] == '=')
                n--;
        out[n] = '\0';
        return out;
}

static char *bn_b64(const EVP_PKEY *pkey, const char *param, size_t pad)
{
        BIGNUM *bn = NULL;
        unsigned char *buf;
        size_t len;
        char *s;

        CHECK(EVP_PKEY_get_bn_param(pkey, param, &bn));
        len = (size_t)BN_num_bytes(bn);
        if (pad > len)
                len = pad;
        buf = malloc(len);
        CHECK(buf);
        CHECK(BN_bn2binpad(bn, buf, (int)len) == (int)len);
        s = forge_b64url(buf, len);
        free(buf);
        BN_free(bn);
        return s;
}

forge_key *forge_key_new(const char *type, const char *kid, const char *extra)
{
        forge_key *k = calloc(1, sizeof *k);
        char *a = NULL, *b = NULL;
        const char *x = extra ? "," : "", *e = extra ? extra : "";
        int r;

        CHECK(k);
        k->kid = strdup(kid);
        CHECK(k->kid);
        if (strncmp(type, "RSA", 3) == 0) {
                k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(type + 3));
                CHECK(k->pkey);
                a = bn_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
                b = bn_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
                r = asprintf(&k->jwk, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", kid,
                             a, b, x, e);
        } else if (strncmp(type, "P-", 2) == 0) {
                size_t size = strcmp(type, "P-256") == 0 ? 32 : 48;

                k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
                CHECK(k->pkey);
                a = bn_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, size);
                b = bn_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, size);
                r = asprintf(&k->jwk,
                             "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s%s}",
                             kid, type, a, b, x, e);
        } else {
                unsigned char raw[32];
                size_t len = sizeof raw;

                CHECK(strcmp(type, "Ed25519") == 0);
                k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
                CHECK(k->pkey);
                CHECK(EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) && len == 32);
                a = forge_b64url(raw, len);
                r = asprintf(&k->jwk,
                             "{\"kty\":\"OKP\",\"kid\":\"%s\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s}", kid, a,
                             x, e);
        }
        CHECK(r > 0);
        free(a);
        free(b);
        return k;
}

void forge_key_free(forge_key *k)
{
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        free(k->kid);
        free(k->jwk);
        free(k);
}

char *forge_jwks(forge_key *const *keys, size_t n)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        CHECK(f);
        fputs("{\"keys\":[", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i ? "," : "", keys[i]->jwk);
        fputs("]}", f);
        CHECK(fclose(f) == 0);
        return out;
}

/* ECDSA: OpenSSL gives DER, JOSE wants r||s, each padded to the curve size. */
static void der_to_jose(const unsigned char *der, size_t der_len, size_t size, unsigned char *out)
{
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        const BIGNUM *r, *s;

        CHECK(sig);
        ECDSA_SIG_get0(sig, &r, &s);
        CHECK(BN_bn2binpad(r, out, (int)size) == (int)size);
        CHECK(BN_bn2binpad(s, out + size, (int)size) == (int)size);
        ECDSA_SIG_free(sig);
}

char *forge_token_sig(const char *header, const char *payload, const void *sig, size_t sig_len)
{
        char *h = forge_b64url(header, strlen(header)), *p = forge_b64url(payload, strlen(payload));
        char *s = forge_b64url(sig, sig_len), *out = NULL;

        CHECK(asprintf(&out, "%s.%s.%s", h, p, s) > 0);
        free(h);
        free(p);
        free(s);
        return out;
}

char *forge_token(const char *header, const char *payload, const char *alg, const forge_key *key,
                  const void *secret, size_t secret_len)
{
        char *h = forge_b64url(header, strlen(header)), *p = forge_b64url(payload, strlen(payload));
        char *input = NULL, *s, *out = NULL;
        unsigned char sig[1024];
        size_t sig_len = 0;

        CHECK(asprintf(&input, "%s.%s", h, p) > 0);
        if (!alg) {
                sig_len = 0;
        } else if (strcmp(alg, "HS256") == 0) {
                unsigned int n = 0;

                CHECK(HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)input, strlen(input), sig,
                           &n));
                sig_len = n;
        } else {
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();
                EVP_PKEY_CTX *pctx = NULL;
                const char *md = NULL;
                unsigned char der[256];
                size_t der_len = sizeof der;

                CHECK(ctx && key);
                if (strcmp(alg, "EdDSA") != 0)
                        md = strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ? "SHA384" : "SHA512";
                CHECK(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key->pkey, NULL) == 1);
                if (alg[0] == 'P') {
                        CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
                        CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
                }
                if (alg[0] == 'E' && alg[1] == 'S') {
                        size_t size = strcmp(alg, "ES256") == 0 ? 32 : 48;

                        CHECK(EVP_DigestSign(ctx, der, &der_len, (unsigned char *)input, strlen(input)) ==
                              1);
                        der_to_jose(der, der_len, size, sig);
                        sig_len = 2 * size;
                } else {
                        sig_len = sizeof sig;
                        CHECK(EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)input, strlen(input)) ==
                              1);
                }
                EVP_MD_CTX_free(ctx);
        }
        s = forge_b64url(sig, sig_len);
        CHECK(asprintf(&out, "%s.%s", input, s) > 0);
        free(h);
        free(p);
        free(s);
        free(input);
        return out;
}

char *forge_public_pem(const forge_key *k)
{
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *out;
        long len;

        CHECK(bio && PEM_write_bio_PUBKEY(bio, k->pkey));
        len = BIO_get_mem_data(bio, &data);
        out = strndup(data, (size_t)len);
        CHECK(out);
        BIO_free(bio);
        return out;
}

void forge_write_file(const char *path, const char *text, unsigned mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        size_t len = strlen(text);

        CHECK(fd >= 0);
        CHECK(write(fd, text, len) == (ssize_t)len);
        CHECK(fchmod(fd, mode) == 0);
        CHECK(close(fd) == 0);
}
