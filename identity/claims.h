/* The claim rules, applied to a payload whose signature has verified. */
#pragma once

#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "identity.h"

/**
 * vigil_claims_check() - iss, aud, exp, nbf, iat (all with clock_skew), sub,
 * username (when @user is non-NULL), groups, email, jti types; build the identity.
 * @param[in]  cfg         configuration (issuer, audience, claims names, durations).
 * @param[in]  payload     the verified payload object.
 * @param[in]  text        the JSON text @payload was parsed from (NUL-terminated), or NULL. When it
 *                         is already compact it becomes the identity's claims_json as it is;
 *                         otherwise claims_json is @payload serialized compactly.
 * @param[in]  text_len    its length.
 * @param[in]  now         current time.
 * @param[in]  user        the local account, or NULL to skip the username rule.
 * @param[out] ret         the identity (caller frees); untouched on failure.
 * @param[out] ret_reason  may be NULL; on VIGIL_E_DENIED a one-line reason.
 * @return 0, VIGIL_E_DENIED, -ENOMEM.
 */
int vigil_claims_check(const vigil_config *cfg, json_t *payload, const char *text, size_t text_len,
                       int64_t now, const char *user, vigil_identity **ret, char **ret_reason);
