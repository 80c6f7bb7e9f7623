/* Who is an auditor or a responder: vigil.conf's `auditors = ...` and
 * `responders = ...`, each a comma-separated list of
 *
 *   group:NAME   a group of the identity provider (the caller's vigil session
 *                identity must carry it)
 *   local:NAME   a local account or group (the caller's uid, or its primary
 *                or supplementary groups as the kernel reported them for the
 *                connecting process)
 *
 * Until the config component (issue 6) lands, vigild reads these two keys
 * itself (access_load) and leaves every other key to that component; the
 * lead replaces access_load's file reading with the config API and keeps
 * principal_list_parse() for the values. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "request.h"

#define ACCESS_MAX_PRINCIPALS 64u
#define ACCESS_MAX_CONF (1u << 20)

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
 * access_parse_conf() - take `auditors` and `responders` from vigil.conf text.
 * Lines are `key = value`, blank, or comments starting with '#'. Other keys
 * are left to their components. Pure (no NSS).
 * @param[in]  name  file name for messages ("FILE:LINE: ...").
 * @param[out] ret   free with access_free(); untouched on failure.
 * @return 0, VIGIL_E_PARSE (err says FILE:LINE: what), -ENOMEM.
 */
int access_parse_conf(const char *text, size_t len, const char *name, vigild_access **ret, char *err,
                      size_t errlen);

/**
 * access_load() - read @path, parse it, resolve local names.
 * @param[in] must_exist  false: a missing file means no auditors or responders.
 * @return 0 or a negative code with err filled.
 */
int access_load(const char *path, bool must_exist, vigild_access **ret, char *err, size_t errlen);

vigild_access *access_free(vigild_access *a);
