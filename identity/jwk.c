#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "b64url.h"
#include "jwk.h"
#include "jws.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(OSSL_PARAM *, OSSL_PARAM_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)

const char *jwk_kind_name(jwk_kind k)
{
        switch (k) {
        case JWK_RSA:
                return "RSA";
        case JWK_EC_P256:
                return "EC P-256";
        case JWK_EC_P384:
                return "EC P-384";
        case JWK_ED25519:
                return "Ed25519";
        case JWK_OTHER:
                break;
        }
        return "other";
}

static void key_done(jwk_key *k)
{
        free(k->kid);
        free(k->alg);
        free(k->unusable);
        EVP_PKEY_free(k->pkey);
        jws_key_cache_free(k->cache);
        *k = (jwk_key){};
}

vigil_jwks *vigil_jwks_free(vigil_jwks *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                key_done(&s->keys[i]);
        free(s->keys);
        free(s);
        return NULL;
}

const jwk_key *vigil_jwks_find(const vigil_jwks *s, const char *kid)
{
        for (size_t i = 0; s && i < s->n; i++)
                if (strcmp(s->keys[i].kid, kid) == 0)
                        return &s->keys[i];
        return NULL;
}

/* A base64url member decoded; VIGIL_E_PARSE when missing or malformed. */
static int member_bytes(json_t *o, const char *name, unsigned char **ret, size_t *ret_len)
{
        const char *s = json_string_value(json_object_get(o, name));

        if (!s)
                return VIGIL_E_PARSE;
        return b64url_decode(s, strlen(s), ret, ret_len);
}

/* Build a provider-native key from parameters: the one way vigil makes keys. */
static int pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **ret)
{
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *check = NULL;
        EVP_PKEY *pkey = NULL;

        if (!params || !ctx)
                return -ENOMEM;
        if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
                ERR_clear_error();
                return VIGIL_E_PARSE;
        }
        /* RSA: rsa_key() checked what a verifier relies on (size, an odd
         * modulus, a small odd exponent). OpenSSL's public check adds SP
         * 800-56B's search for small factors of n, 6 ms per 2048-bit key
         * here, paid by every login (pam_vigil parses the JWKS in each sshd
         * child), and finds nothing a signature check would not. */
        if (strcmp(type, "EC") != 0) {
                *ret = pkey;
                return 0;
        }
        check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        /* P-256 and P-384 have cofactor 1: a point on the curve other than
         * infinity has the group's prime order, so the quick check (on the
         * curve, not infinity) is the whole check; the full one adds a scalar
         * multiplication, about 70 us per key each time a JWKS is parsed. */
        if (!check || EVP_PKEY_public_check_quick(check) <= 0) {
                ERR_clear_error();
                EVP_PKEY_free(pkey);
                return check ? VIGIL_E_PARSE : -ENOMEM;
        }
        *ret = pkey;
        return 0;
}

static int rsa_key(json_t *o, jwk_key *k, char **why)
{
        _cleanup_free_ unsigned char *nb = NULL, *eb = NULL;
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        size_t nlen, elen;
        int r;

        k->kind = JWK_RSA;
        if (member_bytes(o, "n", &nb, &nlen) < 0 || member_bytes(o, "e", &eb, &elen) < 0)
                return reason_set(why, VIGIL_E_PARSE, "has no valid base64url 'n' and 'e'");
        n = BN_bin2bn(nb, (int)nlen, NULL);
        e = BN_bin2bn(eb, (int)elen, NULL);
        if (!n || !e)
                return -ENOMEM;
        k->bits = (unsigned)BN_num_bits(n);
        if (k->bits < VIGIL_RSA_MIN_BITS)
                return reason_set(why, VIGIL_E_PARSE, "is RSA with %u bits, at least %u are required",
                                  k->bits, VIGIL_RSA_MIN_BITS);
        if (k->bits > VIGIL_RSA_MAX_BITS)
                return reason_set(why, VIGIL_E_PARSE, "is RSA with %u bits, more than %u", k->bits,
                                  VIGIL_RSA_MAX_BITS);
        if (!BN_is_odd(n))
                return reason_set(why, VIGIL_E_PARSE, "is RSA with an even modulus");
        /* A huge public exponent makes every verification slow; real keys use 65537. */
        if (BN_num_bits(e) > 32 || !BN_is_odd(e) || BN_is_one(e))
                return reason_set(why, VIGIL_E_PARSE, "has an RSA exponent vigil does not accept");

        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
                return -ENOMEM;
        r = pkey_fromdata("RSA", bld, &k->pkey);
        if (r == VIGIL_E_PARSE)
                return reason_set(why, r, "is not a valid RSA public key");
        return r;
}

static int ec_key(json_t *o, const char *crv, jwk_key *k, char **why)
{
        _cleanup_free_ unsigned char *x = NULL, *y = NULL, *point = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        size_t xlen, ylen, size;
        int r;

        if (strcmp(crv, "P-256") == 0) {
                k->kind = JWK_EC_P256;
                size = 32;
        } else if (strcmp(crv, "P-384") == 0) {
                k->kind = JWK_EC_P384;
                size = 48;
        } else {
                _cleanup_free_ char *c = reason_clean(crv);
                return reason_set(why, VIGIL_E_PARSE, "is EC on curve '%s'; P-256 or P-384 is required",
                                  RC(c));
        }
        if (member_bytes(o, "x", &x, &xlen) < 0 || member_bytes(o, "y", &y, &ylen) < 0 || xlen != size ||
            ylen != size)
                return reason_set(why, VIGIL_E_PARSE, "has no valid 'x' and 'y' of %zu bytes", size);

        point = malloc(1 + 2 * size);
        if (!point)
                return -ENOMEM;
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, x, size);
        memcpy(point + 1 + size, y, size);
        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
                return -ENOMEM;
        r = pkey_fromdata("EC", bld, &k->pkey);
        if (r == VIGIL_E_PARSE)
                return reason_set(why, r, "is not a point on %s", crv);
        return r;
}

static int okp_key(json_t *o, const char *crv, jwk_key *k, char **why)
{
        _cleanup_free_ unsigned char *x = NULL;
        size_t xlen;

        if (strcmp(crv, "Ed25519") != 0) {
                _cleanup_free_ char *c = reason_clean(crv);
                return reason_set(why, VIGIL_E_PARSE, "is OKP on curve '%s'; Ed25519 is required", RC(c));
        }
        k->kind = JWK_ED25519;
        if (member_bytes(o, "x", &x, &xlen) < 0 || xlen != 32)
                return reason_set(why, VIGIL_E_PARSE, "has no valid 'x' of 32 bytes");
        /* libsodium verifies Ed25519 signatures (jws.c). Here it refuses a
         * key that is not the canonical encoding of a point in the prime-order
         * subgroup: under a small-order key one signature (R the identity,
         * S = 0) verifies for every message, and OpenSSL 3.0 would take the
         * key. Honest keys (a multiple of the base point) always pass. */
        if (sodium_init() < 0)
                return reason_set(why, VIGIL_E_PARSE, "cannot be checked: libsodium did not initialise");
        if (!crypto_core_ed25519_is_valid_point(x))
                return reason_set(why, VIGIL_E_PARSE,
                                  "is not a valid Ed25519 public key (small order, not canonical, or not "
                                  "in the prime-order subgroup)");
        memcpy(k->ed25519, x, sizeof k->ed25519);
        k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
        if (!k->pkey) {
                ERR_clear_error();
                return reason_set(why, VIGIL_E_PARSE, "is not a valid Ed25519 public key");
        }
        return 0;
}

static bool ops_allow_verify(json_t *ops)
{
        size_t i;
        json_t *op;

        if (!json_is_array(ops))
                return false;
        json_array_foreach(ops, i, op)
                if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                        return true;
        return false;
}

/* Fill @k from @o. A key vigil must not use gets k->unusable and returns 0;
 * only -ENOMEM is an error. */
static int parse_key(json_t *o, jwk_key *k)
{
        const char *kty = json_string_value(json_object_get(o, "kty"));
        const char *crv = json_string_value(json_object_get(o, "crv"));
        const char *use = json_string_value(json_object_get(o, "use"));
        json_t *alg = json_object_get(o, "alg"), *ops = json_object_get(o, "key_ops");
        _cleanup_free_ char *why = NULL, *ckid = NULL;
        int r = 0;

        k->kind = JWK_OTHER;
        if (json_is_string(alg)) {
                k->alg = strdup(json_string_value(alg));
                if (!k->alg)
                        return -ENOMEM;
        }

        if (!kty)
                r = reason_set(&why, VIGIL_E_PARSE, "has no kty");
        else if (json_object_get(o, "use") && (!use || strcmp(use, "sig") != 0))
                r = reason_set(&why, VIGIL_E_PARSE, "is not for signatures (use is not 'sig')");
        else if (ops && !ops_allow_verify(ops))
                r = reason_set(&why, VIGIL_E_PARSE, "does not allow 'verify' in key_ops");
        else if (alg && (!k->alg || jws_alg_from_name(k->alg) < 0)) {
                _cleanup_free_ char *a = k->alg ? reason_clean(k->alg) : NULL;
                r = reason_set(&why, VIGIL_E_PARSE, "is for alg '%s', which vigil does not accept", RC(a));
        } else if (strcmp(kty, "RSA") == 0)
                r = rsa_key(o, k, &why);
        else if (strcmp(kty, "EC") == 0 && crv)
                r = ec_key(o, crv, k, &why);
        else if (strcmp(kty, "OKP") == 0 && crv)
                r = okp_key(o, crv, k, &why);
        else {
                _cleanup_free_ char *t = reason_clean(kty);
                r = reason_set(&why, VIGIL_E_PARSE, "has kty '%s'%s; only RSA, EC and OKP keys are used",
                               RC(t), crv || strcmp(kty, "oct") == 0 ? "" : " without crv");
        }
        if (r == 0) {
                k->cache = jws_key_cache_new();
                if (!k->cache)
                        return -ENOMEM;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                EVP_PKEY_free(k->pkey);
                k->pkey = NULL;
                ckid = reason_clean(k->kid);
                if (asprintf(&k->unusable, "key '%s' %s", RC(ckid), why ? why : "is not usable") < 0) {
                        k->unusable = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

/* Keys are chosen by kid: a kid that names two keys names none. */
static int mark_duplicate_kids(vigil_jwks *s)
{
        for (size_t i = 0; i < s->n; i++)
                for (size_t j = i + 1; j < s->n; j++) {
                        _cleanup_free_ char *c = NULL;

                        if (strcmp(s->keys[i].kid, s->keys[j].kid) != 0)
                                continue;
                        c = reason_clean(s->keys[i].kid);
                        for (size_t m = 0; m < 2; m++) {
                                jwk_key *k = &s->keys[m ? j : i];

                                EVP_PKEY_free(k->pkey);
                                k->pkey = NULL;
                                free(k->unusable);
                                if (asprintf(&k->unusable, "kid '%s' names more than one key in the JWKS",
                                             RC(c)) < 0) {
                                        k->unusable = NULL;
                                        return -ENOMEM;
                                }
                        }
                }
        return 0;
}

int vigil_jwks_parse(const char *text, size_t len, vigil_jwks **ret, char **ret_reason)
{
        json_auto_t *root = NULL;
        vigil_jwks *s = NULL;
        json_error_t err;
        json_t *keys, *o;
        size_t i;
        int r;

        if (len > VIGIL_JWKS_MAX_SIZE)
                return reason_set(ret_reason, VIGIL_E_TOO_BIG, "JWKS is larger than %u bytes",
                                  VIGIL_JWKS_MAX_SIZE);
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        if (!root) {
                _cleanup_free_ char *c = NULL;

                if (json_error_code(&err) == json_error_out_of_memory)
                        return -ENOMEM;
                c = reason_clean(err.text);
                return reason_set(ret_reason, VIGIL_E_PARSE, "JWKS is not valid JSON: %s", RC(c));
        }
        keys = json_object_get(root, "keys");
        if (!json_is_array(keys))
                return reason_set(ret_reason, VIGIL_E_PARSE, "JWKS has no \"keys\" array");
        if (json_array_size(keys) > VIGIL_JWKS_MAX_KEYS)
                return reason_set(ret_reason, VIGIL_E_PARSE, "JWKS has more than %u keys",
                                  VIGIL_JWKS_MAX_KEYS);

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->keys = calloc(json_array_size(keys) + 1, sizeof *s->keys);
        if (!s->keys) {
                r = -ENOMEM;
                goto fail;
        }
        json_array_foreach(keys, i, o) {
                const char *kid = json_string_value(json_object_get(o, "kid"));
                jwk_key *k = &s->keys[s->n];

                /* Without a kid no token can select the key. */
                if (!json_is_object(o) || !kid)
                        continue;
                k->kid = strdup(kid);
                if (!k->kid) {
                        r = -ENOMEM;
                        goto fail;
                }
                s->n++;
                r = parse_key(o, k);
                if (r < 0)
                        goto fail;
        }
        r = mark_duplicate_kids(s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        vigil_jwks_free(s);
        return r;
}
