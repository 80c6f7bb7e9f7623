/* Where the JWKS comes from and when it is read again: jwks_file (re-read
 * when it changed and a kid is unknown), or jwks_uri / discovery over HTTPS
 * with a root-only cache on disk (refreshed after an hour, re-fetched on an
 * unknown kid at most once a minute, used as is when the provider is down). */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "jwk.h"

typedef struct jwks_source jwks_source;

#define JWKS_REFETCH_INTERVAL 60 /* seconds between fetches caused by an unknown kid */
#define JWKS_MAX_AGE 3600        /* seconds before a cached JWKS is refreshed */

/**
 * jwks_source_new() - describe the key source; reads nothing yet.
 * @param[in]  cfg        configuration (borrowed).
 * @param[in]  state_dir  private directory for the cache (borrowed); NULL: no cache.
 * @param[in]  fixed      NULL, or a key set to use as is (takes ownership).
 * @param[out] ret        the source.
 * @return 0 or -ENOMEM.
 */
int jwks_source_new(const vigil_config *cfg, const char *state_dir, vigil_jwks *fixed, jwks_source **ret);

/** Free a source. Accepts NULL; returns NULL. */
jwks_source *jwks_source_free(jwks_source *s);

/**
 * jwks_source_find() - the key for @kid, loading or re-fetching keys as the
 * rules above allow.
 * @param[in]  s           source.
 * @param[in]  kid         the token's kid.
 * @param[in]  now         current time.
 * @param[out] ret         the key (owned by the source, valid until the next call); untouched on failure.
 * @param[out] ret_reason  may be NULL; on failure a one-line reason.
 * @return 0, VIGIL_E_DENIED (kid not in the key set), or a negative errno when no key set
 *         could be had (file unreadable, fetch failed with nothing cached).
 */
int jwks_source_find(jwks_source *s, const char *kid, int64_t now, const jwk_key **ret, char **ret_reason);

/** @return the cache file path this source uses (for tests), or NULL when it has none. */
const char *jwks_source_cache_path(const jwks_source *s);
