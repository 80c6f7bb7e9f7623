/* Who is an auditor or a responder: vigil.conf's `auditors = ...` and
 * `responders = ...`, each a comma-separated list of
 *
 *   group:NAME   a group of the identity provider (the caller's vigil session
 *                identity must carry it)
 *   local:NAME   a local account or group (the caller's uid, or its primary
 *                or supplementary groups as the kernel reported them for the
 *                connecting process)
 *
 * vigil.conf is read by the config component (config/config.h, where both
 * keys are LISTs); this file turns the values into principal lists and
 * matches callers against them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "request.h"

#define ACCESS_MAX_PRINCIPALS 64u

typedef struct vigild_identity vigild_identity;

typedef enum principal_kind {
        PRINCIPAL_IDP_GROUP,
        PRINCIPAL_LOCAL,
} principal_kind;

typedef struct principal {
        principal_kind kind;
        char *name;
        bool has_uid, has_gid; /* local: what the name resolved to at load time */
        uid_t uid;
        gid_t gid;
} principal;

typedef struct principal_list {
        principal *items;
        size_t n;
} principal_list;

typedef struct vigild_access {
        principal_list auditors, responders;
} vigild_access;

/**
 * principal_list_parse() - parse one value ("group:ops, local:wheel").
 * Pure: resolves nothing. An empty value is an empty list.
 * @param[out] ret  the list (principal_list_clear()); untouched on failure.
 * @param[out] err  @errlen bytes for the reason on failure.
 * @return 0, VIGIL_E_PARSE, VIGIL_E_TOO_BIG or -ENOMEM.
 */
int principal_list_parse(const char *value, size_t len, principal_list *ret, char *err, size_t errlen);

/**
 * principal_list_resolve() - look local names up (NSS) as account and group.
 * @return 0, or -ENOENT when a local name is neither (err says which).
 */
int principal_list_resolve(principal_list *l, char *err, size_t errlen);

void principal_list_clear(principal_list *l);

/** Does the caller match? @session_identity may be NULL (then only local entries can). */
bool principal_list_match(const principal_list *l, const vigild_caller *c,
                          const vigild_identity *session_identity);

/** Does the list have entries that need the caller's session identity? */
bool principal_list_wants_identity(const principal_list *l);

/**
 * access_parse_config() - the `auditors` and `responders` lists of a loaded
 * vigil.conf (config/config.h, LIST values: words separated by blanks or
 * commas, each word one entry). Pure (no NSS).
 * @param[out] ret  free with access_free(); untouched on failure.
 * @param[out] err  @errlen bytes: "FILE:LINE: auditors: what" on failure.
 * @return 0, VIGIL_E_PARSE, VIGIL_E_TOO_BIG, -ENOMEM.
 */
int access_parse_config(const vigil_config *cfg, vigild_access **ret, char *err, size_t errlen);

/**
 * access_from_config() - access_parse_config(), then resolve local names.
 * @param[in] cfg  the configuration, or NULL for none (no auditors, no responders).
 * @return 0 or a negative code with err filled.
 */
int access_from_config(const vigil_config *cfg, vigild_access **ret, char *err, size_t errlen);

vigild_access *access_free(vigild_access *a);
