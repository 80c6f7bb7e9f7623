/* vigil supervisor: run one session under execve interception and terminal
 * mediation. This header is the whole interface; docs/supervisor.md explains
 * the design.
 *
 * A session is one command (a login shell, or CMD of `vigil run`) started as
 * a local account. Every execve/execveat of the command and of all its
 * descendants is stopped by a seccomp user-notification filter, judged by
 * the policy, and checked again at the exec itself (ptrace exec event) so
 * that what runs is what was judged. The terminal stream is relayed by the
 * supervisor (through a fresh pseudo-terminal, or through pipes), so that
 * masking and recording can sit in it. When the command exits, every
 * process left in the session is killed; if the supervisor dies, a watchdog
 * kills the session.
 *
 * Requirements: root (CAP_SYS_ADMIN to load the filter without
 * no_new_privs, CAP_SYS_PTRACE for the exec check, cgroup write access),
 * Linux >= 5.19 (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV; 6.6 for the
 * synchronous wake-up that makes it fast), a cgroup v2 hierarchy or a v1
 * freezer to end sessions reliably, and a pids controller (v1 or v2) for the
 * per-session process bound.
 *
 * vigil_session_run() forks; call it from a single-threaded process. It
 * blocks the signals it handles while it runs and restores the mask and the
 * outer terminal's mode before it returns. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Per-session bound on processes (and threads), enforced by the pids
 * cgroup controller. Large enough for make -j and a thousand background
 * jobs, small enough that a fork bomb stays an annoyance. */
#define VIGIL_SESSION_PIDS_MAX 2048u

/* Bytes of argv (strings and their NULs) read from a process that calls
 * execve. Beyond it the exec is denied (the policy refuses command lines
 * of more than VIGIL_POLICY_MAX_CMDLINE anyway). */
#define VIGIL_SESSION_MAX_ARGV_BYTES ((size_t)VIGIL_POLICY_MAX_CMDLINE)
#define VIGIL_SESSION_MAX_ARGS 131072u

typedef enum vigil_io_mode {
        VIGIL_IO_PTY,   /* a fresh pseudo-terminal; the outer terminal in raw mode */
        VIGIL_IO_PIPES, /* stdin, stdout and stderr through three pipes, kept apart */
} vigil_io_mode;

/* Who the session is, when an identity provider said so (a verified OIDC
 * token): kept with the session for the record, and the policy's group=
 * then sees these groups instead of the account's local ones. Borrowed. */
typedef struct vigil_session_identity {
        const char *subject;       /* required */
        const char *email;         /* may be NULL */
        const char *jti;           /* may be NULL */
        const char *const *groups; /* the token's groups */
        size_t n_groups;
        int64_t exp; /* seconds since the epoch */
} vigil_session_identity;

typedef struct vigil_session_config {
        const char *user;           /* local account to run as (required) */
        const vigil_policy *policy; /* borrowed; must outlive the call */
        char *const *argv; /* CMD [ARG...]; argv[0] without '/' is looked up in the session's PATH */
        vigil_io_mode io;
        int in_fd, out_fd, err_fd; /* the outer streams (usually 0, 1, 2); not closed, and their
                                    * open file descriptions' flags are not changed */
        int events_fd;             /* -1, or where command events go as JSON lines (not closed) */
        const char *session_id;    /* NULL: a new UUIDv7; else a UUIDv7 in its text form (the
                                    * store keys sessions by it) */
        unsigned pids_max;         /* 0: VIGIL_SESSION_PIDS_MAX */
        const char *term;          /* TERM for the session, or NULL for none */

        /* Sessions handed over by vigild (logins, token sessions). All optional:
         * a zeroed field means "not used". */
        const vigil_session_identity *identity; /* NULL: no token; group= sees local groups */
        const char *tty, *rhost;   /* where the login came from (for the record); may be NULL */
        const char *cwd;           /* working directory, entered as the account; NULL, or one it
                                    * cannot enter: the inherited one if it may, else its home */
        char *const *env;          /* NULL, or NAME=VALUE strings added to the login-like
                                    * environment; one naming a variable it sets replaces it */
        int64_t deadline;          /* 0, or seconds since the epoch when the session ends (its
                                    * user is warned a minute before); already past: no start */
        const char *control_socket; /* NULL, or a path where the supervisor listens (root only)
                                     * for the order to end the session, see below */

        /* Recording and masking (see "Recording" below). */
        const char *store_dir;  /* the session store (required: every session is recorded) */
        const char *store_key;  /* the host key that seals sessions; NULL: the store's default */
        const char *client;     /* "ADDR PORT" of the remote client for the record; NULL: from
                                 * SSH_CONNECTION in env, else rhost */
        /* Where the supervisor logs what an administrator must learn of (a
         * recording that failed, a broken mask rule); NULL: syslog(3), facility
         * authpriv. @prio is a syslog priority; @msg one line. */
        void (*log)(void *userdata, int prio, const char *msg);
        void *log_userdata;

        /* Approvals (see "Holding" below). */
        const char *approval_hook;      /* NULL, or vigil.conf's approval_hook: an absolute path */
        const char *approval_hook_user; /* the account it runs as; NULL: "nobody" */
} vigil_session_config;

/* Holding. A `hold` decision keeps the execve waiting (its notification
 * unanswered) while a request waits in the store for a decision
 * (store/approval.h; docs/approvals.md): approved, the exec goes on and is
 * checked at its exec event like any other; rejected, timed out, or
 * withdrawn (Ctrl-C, the session's end), it fails with EPERM. The session
 * and its other processes go on meanwhile. When approval_hook is set, that
 * program runs (as approval_hook_user, with the request as JSON on stdin,
 * no other fds, at most VIGIL_APPROVAL_HOOK_SECONDS) each time a request is
 * created and decided; it never delays the session, and its failures are
 * logged. */
#define VIGIL_APPROVAL_HOOK_SECONDS 10

/* Recording. The supervisor opens the store in its own process (LMDB: after
 * the fork that made that process), seals the sessions of supervisors that
 * died (vigil_store_seal_orphans()), and records the session: its metadata
 * (account, token identity, host, tty, client, command, terminal size), the
 * output as the terminal got it after masking, the input when the policy
 * says `record input=yes` (masked with the same rules), window size changes,
 * every command event (with the output position at its exec and its exit),
 * the masking counts, and how it ended. When the store cannot be opened or
 * written, the policy's `record on_failure=` decides: `kill` (the default)
 * refuses to start the session (vigil_session_run() fails, nothing runs) or
 * ends a running one, `continue` lets it go on unrecorded; either way one
 * line tells the user and the failure is logged.
 *
 * Masking: the policy's mask statements are compiled once per session; every
 * byte of output passes through the masker before it reaches the terminal
 * or the store. The echo of what the user just typed goes to the terminal at
 * once (the recording's copy stays masked). In pipe mode binary streams pass
 * unchanged, and a file-transfer command (scp -t/-f, sftp-server, rsync
 * --server) reaches the terminal unchanged while its recording is masked
 * (docs/masking.md). Command lines kept in events and in the session's
 * metadata are masked too. */

/* The control socket: a SOCK_SEQPACKET socket the supervisor binds at
 * control_socket (mode 0600, removed when the session ends). A connection
 * from uid 0 sends one message, an order:
 *   "end"                   the session ends (pam.close: its login is over)
 *   "end\n<reason>"         ... and its terminal gets the line
 *                           "vigil: this session was ended: <reason>"
 *   "kill\n<by>\n<reason>"  (vigil kill) ... the line
 *                           "vigil: this session was ended: <reason> (by <by>)", or
 *                           "vigil: this session was ended (by <by>)" without a reason,
 *                           and the supervisor's log says who ended it
 * Every process of the session is killed, the recording is sealed as ended
 * by vigil (killed), and the supervisor answers "ok". Anything else is
 * answered "error" and ignored. */
#define VIGIL_SESSION_CONTROL_MAX 2048u

/**
 * vigil_session_run() - run a whole session and wait for it to end.
 * @param[in]  cfg         the session.
 * @param[out] ret_status  on success, the session's exit status as env(1) reports it:
 *                         the command's own exit code, 128+N when a signal N killed it,
 *                         126 when it could not be executed (denied included), 127 when
 *                         it was not found, 125 when the session failed after it started.
 * @param[out] ret_error   on failure, a malloc'd one-line message with the chain of
 *                         context ("cgroup: create '/sys/fs/...': Permission denied");
 *                         the caller frees it. May be NULL.
 * @return 0 when the session ran (whatever its status); a negative errno or VIGIL_E_*
 *         when it could not start, in which case nothing of the command ran.
 */
int vigil_session_run(const vigil_session_config *cfg, int *ret_status, char **ret_error);
