/* vigil approval requests: the store's interface for held commands (issue 9).
 *
 * A `hold` rule keeps a process waiting in its execve while a request waits
 * for a decision. The request is a record in the store, so that deciders in
 * other processes (the root CLI, vigild for non-root approvers) and the
 * supervisor that holds the process meet in one place that survives neither
 * more nor less than the store does.
 *
 * Life of a request:
 *   supervisor  vigil_approval_create()            state PENDING
 *   approver    vigil_approval_decide(APPROVED|REJECTED, by, reason)
 *   supervisor  vigil_approval_decide(TIMEOUT|WITHDRAWN, NULL, reason) when its
 *               deadline passes or the process gives up (Ctrl-C, session end)
 *   supervisor  sees the final state (vigil_approval_get(), polled while it
 *               holds requests), lets the exec run or fails it, and writes the
 *               command event (decision approved|rejected|timeout|withdrawn)
 *               and the decision's audit record into the session's own chain.
 *   anyone      vigil_approvals_reap(): a PENDING request whose supervisor is
 *               gone (other boot, pid dead or reused) becomes REJECTED with the
 *               reason "supervisor lost". Every supervisor start runs it.
 *
 * vigil_approval_decide() is a compare-and-set in one write transaction: only
 * a PENDING request changes, so of an approval and a timeout racing, exactly
 * one wins and the other gets -EALREADY (then re-read the request).
 *
 * The store checks no rights: who may decide (approvers=, four-eyes) is the
 * caller's job (tools/ for root, vigild for everyone else), done before
 * calling vigil_approval_decide(). The store only refuses a decider identical
 * to the requester (same subject, or same local account) as a last line.
 *
 * Storage: two LMDB databases added by store format 2 ("approvals": id ->
 * JSON document, "approvals-pending": id -> empty, the ids still PENDING).
 * A format 1 store gets them from `vigil store migrate`; opened read-only
 * before that, every call here but vigil_approvals_prune() (which finds
 * nothing to prune) returns VIGIL_E_FORMAT, saying to migrate.
 * The store is shared by the supervisor's threads: each thread has its own
 * vigil_store_errmsg().
 * Errors as store.h: >= 0 on success, a negative errno or VIGIL_E_* code. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* An id is 8 characters of Crockford base32 in lower case without i, l, o, u
 * ("k3f9x2ab"): short enough to type, 40 random bits so that guessing one
 * gains nothing (deciding still needs the rights). */
#define VIGIL_APPROVAL_ID_LEN 8
#define VIGIL_APPROVAL_SCREEN_MAX 8192u /* bytes of the last screenful kept */
#define VIGIL_APPROVAL_JSON_MAX (256u * 1024)

typedef enum vigil_approval_state {
        VIGIL_APPROVAL_PENDING,
        VIGIL_APPROVAL_APPROVED,
        VIGIL_APPROVAL_REJECTED,
        VIGIL_APPROVAL_TIMEOUT,
        VIGIL_APPROVAL_WITHDRAWN,
        _VIGIL_APPROVAL_STATE_MAX,
} vigil_approval_state;

/** @return "pending", "approved", "rejected", "timeout", "withdrawn"; NULL when out of range. */
const char *vigil_approval_state_name(vigil_approval_state s);
/** @return the state named @name, or -EINVAL. */
int vigil_approval_state_from_name(const char *name);

/* Who decided. For an identity-provider approver @subject (and @email,
 * @groups) come from a verified token and @local is the account they ran the
 * command from; for a `local:` approver only @local is set. */
typedef struct vigil_approver_id {
        char *subject;
        char *email;
        char **groups;
        size_t n_groups;
        char *local; /* local account name */
        char *via;   /* how the identity was established: "session", "device", "local" */
} vigil_approver_id;

/* One request. Every string is owned by the struct (vigil_approval_free());
 * optional ones are NULL when absent. */
typedef struct vigil_approval {
        char id[VIGIL_APPROVAL_ID_LEN + 1];
        char session[VIGIL_SESSION_ID_STRLEN + 1];
        uint32_t command_no; /* the session's command event this request is about */

        /* the requester */
        char *user;     /* local account of the session */
        char *subject;  /* token subject of the session, NULL when none */
        char *email;
        char **groups;
        size_t n_groups;
        char *host;

        /* the command */
        char *runas;
        char *cwd;
        char *exe; /* NULL for a fileless exec */
        char **argv;
        size_t argc;
        char **env; /* "NAME=value" entries that differ from a login default */
        size_t n_env;
        char *screen; /* the session's last screenful of (masked) output */

        /* the rule */
        char *rule;      /* "FILE:LINE" */
        char *approvers; /* approvers= as written, NULL when the rule names none */
        bool remember;   /* remember=session */

        int64_t created_ms, expires_ms; /* Unix time in milliseconds */

        /* the decision */
        vigil_approval_state state;
        vigil_approver_id decided_by; /* empty (all NULL) for timeout, withdrawn, lost */
        int64_t decided_ms;           /* 0 while pending */
        char *reason;

        /* the supervisor that holds the process (for vigil_approvals_reap()) */
        int32_t owner_pid;
        uint64_t owner_start; /* /proc/PID/stat starttime */
        uint8_t owner_boot[16];
} vigil_approval;

/** Free @a and everything in it. Accepts NULL; returns NULL. */
vigil_approval *vigil_approval_free(vigil_approval *a);

/**
 * vigil_approval_create() - store a new PENDING request.
 * The store picks the id (written into @a->id), sets state PENDING, and fills
 * the owner fields with the calling process (the supervisor).
 * @param[in,out] a  the request; every field but id, state, decided_* and owner_* set by the caller.
 * @return 0; -EINVAL (missing session, argv or expiry; strings over VIGIL_STORE_MAX_STRING;
 *         a screen over VIGIL_APPROVAL_SCREEN_MAX; decided_* or reason set);
 *         -E2BIG (the document would exceed VIGIL_APPROVAL_JSON_MAX);
 *         -EAGAIN (1024 requests are pending in the store already); store errors.
 */
int vigil_approval_create(vigil_store *st, vigil_approval *a);

/**
 * vigil_approval_get() - one request by its id (exactly, or an unambiguous
 * prefix of at least 4 characters). Case is ignored, and i, l, o are read as
 * 1, 1, 0 (Crockford's base32).
 * @param[out] ret  the request (vigil_approval_free()); untouched on failure.
 * @return 0; -ENOENT (no such id); -EEXIST (ambiguous prefix); -EINVAL (not an id or
 *         a prefix of 4 to 8 such characters); VIGIL_E_CORRUPT; store errors.
 */
int vigil_approval_get(vigil_store *st, const char *id, vigil_approval **ret);

/* Return 0 to go on, > 0 to stop (returned by the iterator), < 0 to fail. The
 * request is the callee's; copy what you keep. */
typedef int (*vigil_approval_cb)(void *userdata, const vigil_approval *a);

/**
 * vigil_approvals_list() - requests in id-creation order: only the PENDING
 * ones (through "approvals-pending", so the cost does not grow with history)
 * when @pending_only, otherwise all; restricted to one session when @session
 * is not NULL.
 */
int vigil_approvals_list(vigil_store *st, bool pending_only, const char *session, vigil_approval_cb cb,
                         void *userdata);

/**
 * vigil_approval_decide() - move a PENDING request to @to.
 * @param[in] to      APPROVED or REJECTED (with @by), TIMEOUT or WITHDRAWN (@by NULL).
 * @param[in] by      the decider (copied); NULL for the supervisor's own outcomes.
 * @param[in] reason  free text (NULL allowed), one line, at most 1024 bytes.
 * @param[in] id      the full id (resolve a prefix with vigil_approval_get() first).
 * @return 0; -ENOENT; -EALREADY (not PENDING any more: someone decided first);
 *         -EPERM (@by is the requester: same subject or same local account);
 *         -EINVAL (bad @to, @by missing or present against @to, @by naming neither a
 *         subject nor a local account, bad reason, @id not a full id); store errors.
 */
int vigil_approval_decide(vigil_store *st, const char *id, vigil_approval_state to, const vigil_approver_id *by,
                          const char *reason);

/**
 * vigil_approvals_reap() - reject the PENDING requests whose supervisor is not
 * running any more (reason "supervisor lost"), and those of @session (any
 * owner) when @session is not NULL (a supervisor ending its own session).
 * @param[out] ret_n  how many were rejected (may be NULL).
 */
int vigil_approvals_reap(vigil_store *st, const char *session, unsigned *ret_n);

/**
 * vigil_approvals_prune() - delete decided requests created before @before_ms
 * (`vigil prune`). Pending ones are kept.
 */
int vigil_approvals_prune(vigil_store *st, int64_t before_ms, bool dry_run, uint64_t *ret_n);

/**
 * vigil_approval_to_json() - the request as one JSON object (the document the
 * store keeps, the `approval_hook` input and `vigil approvals --json` output):
 * id, session, command_no, user, subject, email, groups, host, runas, cwd, exe,
 * argv, env, screen, rule, approvers, remember, created, expires (RFC 3339 UTC
 * with milliseconds), state, decided_by {subject, email, groups, local, via},
 * decided_at, reason; absent values are null. Owner fields are included only
 * with @with_owner (the stored document).
 * @param[out] ret  malloc'd NUL-terminated text without a newline.
 */
int vigil_approval_to_json(const vigil_approval *a, bool with_owner, char **ret);

/**
 * vigil_approval_from_json() - decode a stored document (the fuzzer's entry).
 * Bounded (VIGIL_APPROVAL_JSON_MAX), duplicate keys refused, every field type
 * checked. @return 0, VIGIL_E_CORRUPT, -ENOMEM.
 */
int vigil_approval_from_json(const void *p, size_t n, vigil_approval **ret);
