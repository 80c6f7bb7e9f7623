/* Handing a verified sign-in on to the session phase.
 *
 * sshd runs keyboard-interactive authentication in a child process, so
 * pam_set_data() made there is gone by the time the session opens; what sshd
 * does carry over is the PAM environment. So the identity is kept by vigild
 * (root-only, in memory, for a bounded time) and only an unguessable one-time
 * reference travels in the PAM environment as PV_REF_ENV. The session phase
 * (pam.open through vigild) uses it up; see vigild/refs.h for the life cycle.
 *
 * These calls are vigild's pam.register and pam.lookup, root-only requests.
 * They never log and never print. */
#pragma once

#include "identity.h"

#define PV_REF_ENV "VIGIL_LOGIN_REF"
#define PV_SESSION_REF_ENV "VIGIL_SESSION_REF"
/* For vigil-shell, when vigild is not at its default socket. */
#define PV_SOCKET_ENV "VIGILD_SOCKET"
#define PV_REF_LEN 64 /* hex digits */
#define PV_VIGILD_CONNECT_MS 2000
#define PV_VIGILD_CALL_MS 5000

/**
 * pv_handoff_register() - keep @id in vigild for @user's session phase.
 * @param[in]  socket      vigild's socket.
 * @param[in]  user        the local account (the PAM user).
 * @param[in]  service     the PAM service, or NULL.
 * @param[in]  id          the verified identity (sub, email, groups, jti, exp are sent).
 * @param[out] ret_ref     PV_REF_LEN hex digits and a NUL (a secret: the caller wipes it).
 * @param[out] ret_reason  on failure a malloc'd one-line reason (may stay NULL on -ENOMEM).
 * @return 0; -ENOENT/-ECONNREFUSED (vigild is not running); VIGIL_E_DENIED (vigild refused);
 *         VIGIL_E_PARSE (the identity does not fit the protocol's bounds); -EBUSY (too many
 *         logins pending); -EPROTO, -ETIMEDOUT, other -errno.
 */
int pv_handoff_register(const char *socket, const char *user, const char *service, const vigil_identity *id,
                        char ret_ref[static PV_REF_LEN + 1], char **ret_reason);

/**
 * pv_handoff_lookup() - the identity a login reference stands for, without
 * using it up (for an account phase that runs apart from auth).
 * @param[in]  socket      vigild's socket.
 * @param[in]  ref         the reference from the PAM environment.
 * @param[in]  user        the local account it must belong to.
 * @param[out] ret         an identity with sub, email, groups, jti and exp (iss, username and
 *                         claims_json NULL); free with vigil_identity_free(). Untouched on failure.
 * @param[out] ret_reason  as for pv_handoff_register().
 * @return 0; VIGIL_E_DENIED (unknown, expired, used or another account's reference; a
 *         malformed reference); otherwise as pv_handoff_register().
 */
int pv_handoff_lookup(const char *socket, const char *ref, const char *user, vigil_identity **ret,
                      char **ret_reason);

/* What pam.open answers: the session reference for vigil-shell, the handle
 * for pam.close, and when the sign-in expires. */
typedef struct pv_opened {
        char ref[PV_REF_LEN + 1];    /* a secret: the caller wipes it */
        char handle[PV_REF_LEN + 1]; /* not a secret (it only ends a login) */
        int64_t exp;
} pv_opened;

/**
 * pv_handoff_open() - use up login reference @ref for @user's session
 * (vigild's pam.open): vigild keeps tty and client address with the
 * identity and returns a session reference bound to the account.
 * @param[in]  tty, rhost  PAM_TTY and PAM_RHOST, or NULL (sent only when they
 *                         fit the protocol's kinds).
 * @param[out] ret         filled on success; untouched on failure.
 * @return as pv_handoff_lookup().
 */
int pv_handoff_open(const char *socket, const char *ref, const char *user, const char *service, const char *tty,
                    const char *rhost, pv_opened *ret, char **ret_reason);

/**
 * pv_handoff_close() - vigild's pam.close for @handle: the session reference
 * is dropped if vigil-shell never used it, and a session started from it is
 * told to end.
 * @return 0; VIGIL_E_DENIED (unknown handle); otherwise as pv_handoff_register().
 */
int pv_handoff_close(const char *socket, const char *handle, char **ret_reason);
