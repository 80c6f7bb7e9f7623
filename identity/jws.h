/* JWS signature algorithms and their one verification routine: OpenSSL EVP
 * for RSA and ECDSA, libsodium for Ed25519 (docs/identity.md says why). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "jwk.h"

typedef enum jws_alg {
        JWS_RS256,
        JWS_RS384,
        JWS_RS512,
        JWS_PS256,
        JWS_PS384,
        JWS_PS512,
        JWS_ES256,
        JWS_ES384,
        JWS_EDDSA,
        JWS_N_ALGS,
} jws_alg;

/** @return the algorithm named exactly @name (case-sensitive, as JWS says), or -1. */
int jws_alg_from_name(const char *name);

/** @return the JWS name of @a ("RS256" ...). */
const char *jws_alg_name(jws_alg a);

/** @return the only key type @a may be used with. */
jwk_kind jws_alg_key_kind(jws_alg a);

/**
 * jws_key_cache_new() - the holder of one key's prepared verification contexts (jwk_key.cache).
 * @return a new, empty holder, or NULL when out of memory.
 */
struct jws_key_cache *jws_key_cache_new(void);

/** Free a holder and every context in it. Accepts NULL; returns NULL. */
struct jws_key_cache *jws_key_cache_free(struct jws_key_cache *c);

/**
 * jws_verify() - check a signature over the JWS signing input.
 * RSA and ECDSA: the input is hashed and checked with OpenSSL (EVP_PKEY_verify)
 * through a context prepared once per key and algorithm and kept in key->cache.
 * ECDSA signatures arrive as JOSE r||s and are range-checked (0 < r, s < n)
 * before they are DER-encoded for OpenSSL.
 * EdDSA: libsodium's crypto_sign_verify_detached(), which also refuses an S that
 * is not below the group order and an R of small order (the key itself was
 * checked when the JWKS was parsed). Not thread-safe for one key (see jwk.h).
 * @param[in]  a           algorithm (already matched against the key's kind).
 * @param[in]  key         a usable key (its cache is filled in on first use).
 * @param[in]  msg         signing input "header.payload".
 * @param[in]  msg_len     its length.
 * @param[in]  sig         signature bytes.
 * @param[in]  sig_len     their number.
 * @param[out] ret_reason  may be NULL; on failure a one-line reason.
 * @return 0 when it verifies, VIGIL_E_DENIED when not, -ENOMEM, -EINVAL (an algorithm and
 *         key that were not matched first, or a key without its cache).
 */
int jws_verify(jws_alg a, const jwk_key *key, const void *msg, size_t msg_len, const unsigned char *sig,
               size_t sig_len, char **ret_reason);
