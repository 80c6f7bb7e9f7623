/* Splitting and decoding a compact JWS: three strict base64url parts, the
 * header and payload JSON objects parsed with duplicate names rejected. No
 * decision is taken here beyond "is this well-formed". */
#pragma once

#include <stddef.h>

#include <jansson.h>

typedef struct vigil_jwt {
        json_t *header;     /* owned */
        json_t *payload;    /* owned */
        char *payload_text; /* owned: the JSON text @payload was parsed from, NUL-terminated */
        size_t payload_len;
        const char *signing_input; /* borrowed from the token: "header.payload" */
        size_t signing_input_len;
        unsigned char *sig; /* owned */
        size_t sig_len;
} vigil_jwt;

/**
 * vigil_jwt_parse() - split and decode a token.
 * @param[in]  token       compact JWS; must stay valid while @ret is used.
 * @param[in]  len         its length.
 * @param[out] ret         filled on success (release with vigil_jwt_done()); zeroed on failure.
 * @param[out] ret_reason  may be NULL; on VIGIL_E_DENIED a one-line reason.
 * @return 0, VIGIL_E_DENIED (malformed or too large), -ENOMEM.
 */
int vigil_jwt_parse(const char *token, size_t len, vigil_jwt *ret, char **ret_reason);

/** Release what vigil_jwt_parse() filled in; accepts a zeroed struct. */
void vigil_jwt_done(vigil_jwt *j);
