/* vigild's handler-ops seam: what vigild needs from the supervisor (issue 3),
 * the store (issue 4), identity verification (issue 6) and the approvals
 * flow (issue 9). vigild itself owns the socket, the callers' credentials,
 * the request table (who may send what, when), validation of every field,
 * limits and timeouts, and the one-time login references; it calls these
 * functions only for a request that passed all of that.
 *
 * The vigild binary runs with vigild_ops_vigil (ops-vigil.c and the files
 * it names): sessions through the supervisor, tokens through identity. The
 * store and approvals operations are not there yet, and the requests that
 * need them are refused with VS_UNAVAILABLE. vigild_ops_unavailable has no
 * operation at all.
 *
 * Contract for every request operation (those taking a vigild_req *):
 * - return 0 when the request was taken: it is answered (now or later) with
 *   vigild_req_reply()/vigild_req_fail() (request.h), or cancelled;
 * - return a negative code to have vigild refuse it: -EOPNOTSUPP gives
 *   VS_UNAVAILABLE, -EPERM/VIGIL_E_DENIED VS_REFUSED, -ENOENT VS_NOTFOUND,
 *   -EBUSY VS_LIMIT, anything else VS_FAILED;
 * - never block the event loop (request.h). Anything slow runs in a child
 *   process or thread whose result comes back through vigild_watch_fd().
 * Everything passed in (strings, identities, queries) is borrowed for the
 * duration of the call only: copy what you keep. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "request.h"

/* A verified identity from the identity provider. */
typedef struct vigild_identity {
        char *subject;  /* required */
        char *username; /* the token's username claim; may be NULL */
        char *email;    /* may be NULL */
        char *jti;      /* may be NULL */
        char **groups;  /* identity-provider groups */
        size_t n_groups;
        int64_t exp; /* seconds since the epoch */
} vigild_identity;

/** Free an identity and everything in it. Accepts NULL; returns NULL. */
vigild_identity *vigild_identity_free(vigild_identity *id);
/** Deep copy. @return 0 or -ENOMEM (then *ret untouched). */
int vigild_identity_copy(const vigild_identity *src, vigild_identity **ret);

/* session.start, both forms, after vigild checked everything it can. */
typedef enum vigild_start_form {
        VIGILD_START_LOGIN, /* from vigil-shell with a reference pam.open gave */
        VIGILD_START_TOKEN, /* from a non-root caller with its own OIDC token */
} vigild_start_form;

typedef struct vigild_start {
        vigild_start_form form;
        uid_t uid;                         /* the account the session runs as: always the caller's own uid */
        const char *user;                  /* its name */
        const vigild_identity *identity;   /* verified by pam_vigil (login) or verify_token (token) */
        const char *service, *tty, *rhost; /* login form: what pam.open recorded (may be NULL) */
        const char *handle;                /* login form: pam.open's handle (pam.close will name it) */
        char **argv;                       /* NULL-terminated; empty = the account's interactive shell */
        size_t argc;
        char **env; /* NULL-terminated NAME=VALUE as sent; the supervisor decides what to keep */
        size_t n_env;
        const char *cwd, *term; /* may be NULL */
        bool pty;               /* true: one fd, the caller's terminal; false: stdin, stdout, stderr */
        unsigned rows, cols;    /* 0 when not sent */
        size_t n_fds;           /* take them with vigild_req_take_fd(r, i) */
} vigild_start;

typedef struct vigild_list_query {
        const char *user, *command, *host; /* NULL: no filter; command is a regular expression */
        bool has_since, has_until, live;
        int64_t since_ms, until_ms;
} vigild_list_query;

typedef struct vigild_replay_query {
        const char *session;
        bool has_at, has_command_no;
        int64_t at_ms;
        uint32_t command_no;
} vigild_replay_query;

/* Someone acting on approvals or watching as an approver. */
typedef enum vigild_known_by {
        VIGILD_KNOWN_LOCAL,      /* only by the local account (identity NULL) */
        VIGILD_KNOWN_BY_SESSION, /* by the verified token of the vigil session the caller runs in */
        VIGILD_KNOWN_BY_TOKEN,   /* by a fresh token (device sign-in) sent with the request */
} vigild_known_by;

typedef struct vigild_approver {
        const vigild_caller *caller;
        const char *user; /* local account name of caller->uid; NULL if it has none */
        const vigild_identity *identity;
        vigild_known_by known_by;
        bool is_root, is_auditor, is_responder;
} vigild_approver;

typedef struct vigild_decision {
        const char *approval;
        bool approve;
        const char *reason; /* required for a denial (checked by the decoder) */
} vigild_decision;

/** Completion of verify_token: result 0 with @identity (ownership passes to vigild), or <0. */
typedef void (*vigild_verify_done)(vigild_req *r, int result, vigild_identity *identity);

typedef struct vigild_ops {
        /* Shown by `status`, e.g. "none" or "supervisor store identity". */
        const char *backends;

        /* Optional: called once before the loop starts, and at shutdown. */
        int (*init)(vigild_server *s);
        void (*done)(void);

        /* ---- identity (issue 6) ---- */

        /* Verify @token (RS256/ES256/EdDSA rules of issue 6). @username: the
         * local account it must name, or NULL to skip the username rule
         * (approvers). Call @done exactly once, now or later, unless the
         * request is cancelled first; return 0, or <0 without calling @done. */
        int (*verify_token)(vigild_req *r, const char *token, const char *username, vigild_verify_done done);

        /* ---- supervisor (issue 3) ---- */

        /* Which vigil session does this process run in? Synchronous and cheap
         * (e.g. the process's cgroup plus an in-memory table); must check that
         * @pid still is the process started at @starttime. 0 with the session id
         * and its identity (caller frees both); -ESRCH when not in a session. */
        int (*session_of_pid)(pid_t pid, uint64_t starttime, char **ret_session,
                              vigild_identity **ret_identity);

        /* Start a supervised session. Answer with vigild_req_reply() carrying
         * VF_SESSION (the id) and, as its fd, one the caller can wait on for the
         * session's end (e.g. the read end of a status pipe), so vigil-shell
         * does not depend on vigild staying up. */
        int (*session_start)(vigild_req *r, const vigild_start *s);

        /* pam.close for a session started from a login: end it (not a request:
         * fire and forget, must not block). -ENOENT when it already ended. */
        int (*session_close)(const char *session);

        /* session.kill: end @session, tell its user @reason (may be NULL), kill
         * its processes, seal its recording, audit @by. */
        int (*session_kill)(vigild_req *r, const vigild_caller *by, const char *session, const char *reason);

        /* ---- store (issue 4) ---- */

        /* Items: one VF_ITEM per session (the JSON object `vigil sessions
         * --json` prints), then an empty final reply. */
        int (*sessions_list)(vigild_req *r, const vigild_list_query *q);
        /* Items: VF_DATA+VF_TIME output chunks, VF_ITEM for events; final reply
         * when the session ends (watch) or the recording does (replay). */
        int (*session_watch)(vigild_req *r, const char *session);
        int (*session_replay)(vigild_req *r, const vigild_replay_query *q);

        /* ---- approvals (issue 9) ---- */

        /* Items: one VF_ITEM per pending request @a may decide (all of them for
         * root and auditors); @session may narrow it (NULL: all). */
        int (*approvals_list)(vigild_req *r, const vigild_approver *a, const char *session);
        /* Judge @a against the rule's approvers= and four-eyes, record, answer. */
        int (*approvals_decide)(vigild_req *r, const vigild_approver *a, const vigild_decision *d);
        /* May @a watch @session as an approver of a request pending in it?
         * Synchronous: 1 yes, 0 no, <0 error (refused). */
        int (*may_watch)(const vigild_approver *a, const char *session);
} vigild_ops;

/** Operations that answer "not available in this build" (for tests of vigild alone). */
extern const vigild_ops vigild_ops_unavailable;

/** The real backends: the supervisor and identity components (ops-vigil.c). */
extern const vigild_ops vigild_ops_vigil;

/* ---- what a backend may ask of the server (from the event loop only) ---- */

typedef struct vigil_config vigil_config;

/** The vigil.conf in force; NULL when none is loaded (no file, or a reload
 * failed). Replaced on SIGHUP: do not keep the pointer past the call. */
const vigil_config *vigild_server_config(const vigild_server *s);
/** The directory of vigild's socket (per-session files go below it). */
const char *vigild_server_run_dir(const vigild_server *s);
/** --events-dir, or NULL. */
const char *vigild_server_events_dir(const vigild_server *s);

/**
 * vigild_main() - the daemon: parse @argv, set up, run the loop until SIGTERM.
 * @param[in] ops  the backends (must outlive the call).
 * @return the process exit status.
 */
int vigild_main(int argc, char **argv, const vigild_ops *ops);
