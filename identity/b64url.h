/* Strict base64url (RFC 4648 section 5) as JWS uses it: no padding, no
 * blanks, and unused trailing bits must be zero, so every byte string has
 * exactly one accepted spelling. */
#pragma once

#include <stddef.h>

/**
 * b64url_decode() - decode base64url text.
 * @param[in]  in       text (need not be NUL-terminated).
 * @param[in]  len      its length.
 * @param[out] ret      malloc'd bytes (NUL-terminated for convenience, the NUL not counted);
 *                      untouched on failure.
 * @param[out] ret_len  number of bytes.
 * @return 0, VIGIL_E_PARSE (a character outside the alphabet, padding, a length of
 *         4n+1, non-zero trailing bits), or -ENOMEM.
 */
int b64url_decode(const char *in, size_t len, unsigned char **ret, size_t *ret_len);
