/* vigild's backends on the real components (vigild_ops_vigil): what
 * ops-vigil.c, launch.c, verify-child.c, session-files.c and reap.c share.
 * Internal to vigild.
 *
 * Everything slow or blocking runs in a child process forked from vigild:
 * token verification (network, files) in a short-lived one, each session's
 * supervisor in a long-lived one that vigild does not keep as its child (a
 * double fork), so that sessions outlive vigild. The event loop only
 * watches sockets and pidfds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "ops.h"

/* The backends' server (set by init; vigild has one). */
extern vigild_server *backend_server;

/* ---- reap.c ---- */

/**
 * reap_later() - collect the exit of child @pid from the event loop
 * (through a pidfd), so that no zombie is left and nothing waits.
 * @return 0 or -errno (then the caller may kill and wait itself).
 */
int reap_later(vigild_server *s, pid_t pid);

/**
 * child_hygiene() - first steps of a process forked from vigild: default
 * signal dispositions and an empty mask; fds 0-2 on /dev/null; every fd
 * but those in @keep (which are moved to 3, 4, ... in order, close-on-exec)
 * closed; vigild's secrets (pending references, the receive buffer) wiped
 * from this copy of its memory. _exit()s on failure.
 * @param[in,out] keep  fds to keep; updated to their new numbers.
 */
void child_hygiene(int *keep, size_t n_keep);

/* ---- session-files.c: <run_dir>/sessions/<id>[.sock] ---- */

#define SESSION_ID_MAX 64

/** The sessions directory; created 0700 root if missing. @return 0 or -errno. */
int sessions_dir_make(const char *run_dir);

/** "<run_dir>/sessions/<id><suffix>" into @buf. @return 0 or -ENAMETOOLONG / -EINVAL (bad id). */
int session_path(const char *run_dir, const char *id, const char *suffix, char *buf, size_t size);

/** A new session id (UUIDv7, 36 characters). @return 0 or -errno. */
int session_id_new(char buf[static 40]);

/* The record of a running session: who it is (for session_of_pid). */
typedef struct session_record {
        pid_t supervisor;
        uint64_t supervisor_start; /* /proc/PID/stat starttime */
        uid_t uid;
        const char *user;
        const vigild_identity *identity; /* may be NULL */
        const char *tty, *rhost;         /* may be NULL */
} session_record;

/**
 * session_record_write() - write @rec to @path (0600, replaced atomically).
 * Every string must be one line of text (the protocol's text kind).
 * @return 0, -EINVAL (a string that is not one line of text), -errno.
 */
int session_record_write(const char *path, const session_record *rec);

/**
 * session_record_read_identity() - the identity in the record at @path.
 * @param[out] ret  NULL when the record has none (a session without a token).
 * @return 0, -ENOENT, VIGIL_E_PARSE (not a record), -ENOMEM.
 */
int session_record_read_identity(const char *path, vigild_identity **ret);

/** Field 22 of /proc/PID/stat, or 0 when unknown. */
uint64_t proc_starttime(pid_t pid);

/* ---- launch.c ---- */

/** ops->session_start. */
int launch_session(vigild_req *r, const vigild_start *st);

/* ---- ops-store.c: the store, read in a child per request ---- */

/** ops->sessions_list. */
int store_sessions_list(vigild_req *r, const vigild_list_query *q);
/** ops->session_watch. */
int store_session_watch(vigild_req *r, const char *session);
/** ops->session_replay. */
int store_session_replay(vigild_req *r, const vigild_replay_query *q);

/* ---- verify-child.c ---- */

/** ops->verify_token. */
int verify_in_child(vigild_req *r, const char *token, const char *username, vigild_verify_done done);
