/* JWKS: the identity provider's public keys, parsed once into OpenSSL keys
 * (and, for Ed25519, the 32 key bytes libsodium verifies with).
 * Only RSA (2048 bits and up), EC P-256/P-384 and Ed25519 keys are usable;
 * any other key is kept with the reason it cannot be used, so a token that
 * names it gets that reason. Certificates (x5c) and URLs in a JWK are never
 * followed. */
#pragma once

#include <stddef.h>

#include <openssl/evp.h>

typedef enum jwk_kind {
        JWK_RSA,
        JWK_EC_P256,
        JWK_EC_P384,
        JWK_ED25519,
        JWK_OTHER,
} jwk_kind;

typedef struct jwk_key {
        char *kid;
        jwk_kind kind;
        unsigned bits;             /* RSA modulus size */
        char *alg;                 /* the JWK's own "alg", or NULL */
        EVP_PKEY *pkey;            /* NULL when unusable */
        unsigned char ed25519[32]; /* Ed25519: the public key as libsodium takes it */
        /* jws.c's prepared verification contexts for this key: the holder is
         * made with every usable key (jws_key_cache_new()), each algorithm's
         * context on its first use. So a key set, like the verifier that owns
         * it, is for one thread at a time. */
        struct jws_key_cache *cache;
        char *unusable; /* why the key cannot be used, or NULL */
} jwk_key;

typedef struct vigil_jwks {
        jwk_key *keys;
        size_t n;
} vigil_jwks;

#define VIGIL_JWKS_MAX_SIZE (1u << 20) /* bytes of JWKS text */
#define VIGIL_JWKS_MAX_KEYS 256u
#define VIGIL_RSA_MIN_BITS 2048u
#define VIGIL_RSA_MAX_BITS 16384u

/**
 * vigil_jwks_parse() - parse a JWK Set ({"keys": [...]}).
 * @param[in]  text        JSON text (need not be NUL-terminated).
 * @param[in]  len         its length (at most VIGIL_JWKS_MAX_SIZE).
 * @param[out] ret         the key set (free with vigil_jwks_free()); untouched on failure.
 * @param[out] ret_reason  may be NULL; on VIGIL_E_PARSE a malloc'd one-line reason.
 * @return 0, VIGIL_E_PARSE (not a JWK Set: bad JSON, duplicate names, no "keys" array, too
 *         many keys), VIGIL_E_TOO_BIG, or -ENOMEM. A single bad key does not fail the set.
 */
int vigil_jwks_parse(const char *text, size_t len, vigil_jwks **ret, char **ret_reason);

/** Free a key set. Accepts NULL; returns NULL. */
vigil_jwks *vigil_jwks_free(vigil_jwks *s);

/** @return the key with this kid (usable or not), or NULL. */
const jwk_key *vigil_jwks_find(const vigil_jwks *s, const char *kid);

/** @return "RSA", "EC P-256", "EC P-384", "Ed25519" or "other". */
const char *jwk_kind_name(jwk_kind k);
