/* JWS signature algorithms and their one verification routine (OpenSSL EVP). */
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
 * jws_verify() - check a signature over the JWS signing input.
 * ECDSA signatures arrive as JOSE r||s and are range-checked (0 < r, s < n)
 * before they are DER-encoded for OpenSSL.
 * @param[in]  a           algorithm (already matched against the key's kind).
 * @param[in]  key         a usable key.
 * @param[in]  msg         signing input "header.payload".
 * @param[in]  msg_len     its length.
 * @param[in]  sig         signature bytes.
 * @param[in]  sig_len     their number.
 * @param[out] ret_reason  may be NULL; on failure a one-line reason.
 * @return 0 when it verifies, VIGIL_E_DENIED when not, -ENOMEM.
 */
int jws_verify(jws_alg a, const jwk_key *key, const void *msg, size_t msg_len, const unsigned char *sig,
               size_t sig_len, char **ret_reason);
