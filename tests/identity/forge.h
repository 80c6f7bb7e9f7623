/* Test-only token forge: keys generated with OpenSSL, tokens assembled and
 * signed by hand so tests can make exactly the malformed and hostile tokens
 * a JWT library would refuse to produce. Aborts on any OpenSSL failure (a
 * test helper has no way to go on). */
#pragma once

#include <stddef.h>

#include <openssl/evp.h>

typedef struct forge_key {
        EVP_PKEY *pkey; /* private key */
        char *kid;
        char *jwk; /* the public key as a JWK object, JSON text */
} forge_key;

/**
 * forge_key_new() - generate a key: type "RSA2048", "RSA1024", "P-256", "P-384" or "Ed25519".
 * @param[in] extra  NULL, or JSON members added to the JWK (e.g. "\"use\":\"enc\"").
 */
forge_key *forge_key_new(const char *type, const char *kid, const char *extra);
void forge_key_free(forge_key *k);

/** {"keys":[jwk, ...]} for @n keys; malloc'd. */
char *forge_jwks(forge_key *const *keys, size_t n);

/** base64url without padding; malloc'd. */
char *forge_b64url(const void *data, size_t len);

/**
 * forge_token() - b64(header).b64(payload).b64(signature).
 * @param[in] header   JSON text as is (may be anything, duplicates included).
 * @param[in] payload  JSON text as is.
 * @param[in] alg      how to sign: RS256..RS512, PS256..PS512, ES256, ES384, EdDSA with @key;
 *                     "HS256" with @secret; NULL for an empty signature.
 * @param[in] key      the signing key (NULL for HS256 or no signature).
 * @param[in] secret   HMAC secret for HS256.
 * @param[in] secret_len  its length.
 * @return malloc'd token.
 */
char *forge_token(const char *header, const char *payload, const char *alg, const forge_key *key,
                  const void *secret, size_t secret_len);

/** As forge_token() but with the signature bytes given. */
char *forge_token_sig(const char *header, const char *payload, const void *sig, size_t sig_len);

/** The public key as PEM (SubjectPublicKeyInfo); malloc'd. */
char *forge_public_pem(const forge_key *k);

/** Write @text to @path with @mode; aborts on failure. */
void forge_write_file(const char *path, const char *text, unsigned mode);
