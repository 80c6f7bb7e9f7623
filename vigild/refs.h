/* One-time references: how a login's verified identity travels from
 * pam_vigil's auth phase to its session phase and on to vigil-shell, when
 * each runs in a different process (sshd's keyboard-interactive child, its
 * monitor, the user's shell) and only the PAM environment carries over.
 *
 *   pam.register (auth, root)       identity  -> login reference L
 *   pam.lookup   (account, root)    L         -> identity (L stays)
 *   pam.open     (open_session)     L (used up) -> session reference S, handle H
 *   session.start (vigil-shell, the user's uid) S (used up) -> supervised session
 *   pam.close    (close_session)    H         -> S dropped if unused, session ended
 *
 * A reference is 256 random bits (getrandom) as 64 hex digits, compared in
 * constant time, wiped when it dies, and valid for a bounded time (CLOCK_BOOTTIME,
 * so a suspend does not stretch it). Each is good for one use: a second use,
 * an expired one, one of the wrong kind and an unknown one are the same
 * "not found" to the caller. S is bound to the account pam.open named; presented
 * by another uid it is burnt (it leaked) and refused.
 *
 * All state is in vigild's memory: a vigild restart drops pending logins,
 * which then fail (closed). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ops.h"

#define REF_HEX_LEN 64
#define REF_STARTED_TTL_MS (24LL * 3600 * 1000)

typedef enum ref_kind {
        REF_LOGIN = 1,   /* from pam.register, for pam.lookup / pam.open */
        REF_SESSION = 2, /* from pam.open, for session.start */
        REF_STARTED = 3, /* a session started from S: handle -> session id, for pam.close */
} ref_kind;

typedef struct ref_entry {
        ref_kind kind;
        char ref[REF_HEX_LEN + 1];    /* the secret (REF_LOGIN, REF_SESSION) */
        char handle[REF_HEX_LEN + 1]; /* REF_SESSION, REF_STARTED */
        int64_t expires_ms;
        char *user;
        uid_t uid; /* REF_SESSION, REF_STARTED */
        vigild_identity *identity;
        char *service, *tty, *rhost;
        char *session; /* REF_STARTED */
} ref_entry;

typedef struct ref_store {
        ref_entry **e;
        size_t n, max;
} ref_store;

/** @return 0 or -ENOMEM. */
int refs_init(ref_store *s, size_t max);
/** Wipe and free everything. */
void refs_done(ref_store *s);
/** Drop what has expired at @now_ms. */
void refs_expire(ref_store *s, int64_t now_ms);
size_t refs_count(const ref_store *s);

/** Wipe and free an entry. Accepts NULL; returns NULL. */
ref_entry *ref_entry_free(ref_entry *e);

/**
 * refs_register() - keep @id for @user; return a login reference.
 * @param[out] ret_ref  REF_HEX_LEN+1 bytes.
 * @return 0; -EBUSY when the store is full; -EAGAIN when the kernel has no
 *         randomness to give yet; -ENOMEM.
 */
int refs_register(ref_store *s, int64_t now_ms, int64_t ttl_ms, const char *user, const vigild_identity *id,
                  const char *service, char *ret_ref);

/**
 * refs_lookup() - the identity behind a login reference, without using it up.
 * @param[out] ret  borrowed entry, valid until the store changes.
 * @return 0 or -ENOENT (unknown, expired, used, another kind, or another user).
 */
int refs_lookup(ref_store *s, int64_t now_ms, const char *ref, const char *user, const ref_entry **ret);

/**
 * refs_open() - use up login reference @ref (whatever the outcome) and
 * create a session reference bound to @uid.
 * @param[out] ret_ref, ret_handle  REF_HEX_LEN+1 bytes each.
 * @param[out] ret                  borrowed new entry (its identity is the registered one).
 * @return 0; -ENOENT; -EPERM when @user is not the registered user (the
 *         reference is used up anyway); -EBUSY; -EAGAIN; -ENOMEM.
 */
int refs_open(ref_store *s, int64_t now_ms, int64_t ttl_ms, const char *ref, const char *user, uid_t uid,
              const char *service, const char *tty, const char *rhost, char *ret_ref, char *ret_handle,
              const ref_entry **ret);

/**
 * refs_take_session() - use up session reference @ref presented by @uid.
 * @param[out] ret  the entry, now the caller's (ref_entry_free()).
 * @return 0; -ENOENT; -EPERM when @uid is not the bound account (the
 *         reference is burnt).
 */
int refs_take_session(ref_store *s, int64_t now_ms, const char *ref, uid_t uid, ref_entry **ret);

/** Remember that the login with @handle runs as @session (for pam.close). */
int refs_mark_started(ref_store *s, int64_t now_ms, const char *handle, uid_t uid, const char *session);

/**
 * refs_close() - pam.close: drop the unused session reference of @handle, or
 * the started record.
 * @param[out] ret_session  the started session's id (caller frees), or NULL
 *                          when the login never started one.
 * @return 0 or -ENOENT.
 */
int refs_close(ref_store *s, const char *handle, char **ret_session);
