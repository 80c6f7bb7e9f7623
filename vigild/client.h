/* Talking to vigild: the client side, for vigil-shell, pam_vigil and the
 * `vigil` CLI when it does not run as root.
 *
 * Safe inside a host process (a PAM module in sshd or sudo): no globals, no
 * signal handlers, no logging, nothing printed; every fd is close-on-exec;
 * sends use MSG_NOSIGNAL, so a vigild that vanishes gives an error, never a
 * SIGPIPE.
 *
 * Typical use:
 *
 *     vigild_conn *c = NULL;
 *     vigild_reply *rep = NULL;
 *     vmsg_builder b;
 *     r = vigild_connect(NULL, 2000, &c);             // -ECONNREFUSED/-ENOENT: not running
 *     r = vmsg_builder_init(&b, VT_PING, 1);
 *     r = vigild_call(c, &b, NULL, 0, 5000, &rep);     // transport errors only
 *     if (vigild_reply_status(rep) != VS_OK)
 *             fprintf(stderr, "vigil: %s\n", vigild_reply_error(rep));
 *     vigild_reply_free(rep); vmsg_builder_done(&b); vigild_conn_free(c);
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

typedef struct vigild_conn vigild_conn;

/* A message received from vigild: the decoded view plus what it owns. */
typedef struct vigild_reply {
        vmsg msg;     /* views into buf */
        uint8_t *buf; /* owned */
        size_t len;
        int fds[VMSG_MAX_FDS]; /* received fds (close-on-exec), owned until taken */
        size_t n_fds;
        char *error; /* the refusal's line, owned; NULL when none */
} vigild_reply;

/**
 * vigild_connect() - connect to vigild.
 * @param[in]  path        socket path; NULL for VIGILD_SOCKET_PATH.
 * @param[in]  timeout_ms  how long to wait for a busy daemon's backlog (>= 0).
 * @param[out] ret         the connection; free with vigild_conn_free(). Untouched on failure.
 * @return 0; -ENOENT or -ECONNREFUSED when vigild is not running (see
 *         vigild_client_strerror()); -ETIMEDOUT; -ENAMETOOLONG; other -errno.
 */
int vigild_connect(const char *path, int timeout_ms, vigild_conn **ret);

/** Close and free. Accepts NULL; returns NULL. */
vigild_conn *vigild_conn_free(vigild_conn *c);

/** The connection's socket (for poll() in a client that streams). */
int vigild_conn_fd(const vigild_conn *c);

/**
 * vigild_send() - send one request.
 * @param[in] c           connection.
 * @param[in] b           a built request; checked with vmsg_builder_finish() first,
 *                        so a malformed request never leaves the process.
 * @param[in] fds         fds to pass (SCM_RIGHTS); they stay the caller's.
 * @param[in] n_fds       how many (<= VMSG_MAX_FDS).
 * @param[in] timeout_ms  bound on waiting for socket space.
 * @return 0; VIGIL_E_PARSE/VIGIL_E_TOO_BIG for a request the daemon would refuse;
 *         -EPIPE/-ECONNRESET when vigild went away; -ETIMEDOUT; other -errno.
 */
int vigild_send(vigild_conn *c, vmsg_builder *b, const int *fds, size_t n_fds, int timeout_ms);

/**
 * vigild_recv() - receive the next message: a final reply or a stream item.
 * @param[in]  c           connection.
 * @param[in]  timeout_ms  bound on waiting.
 * @param[out] ret         the message (free with vigild_reply_free()); untouched on failure.
 * @return 0; -ECONNRESET when vigild closed the connection without a reply;
 *         -ETIMEDOUT; VIGIL_E_PARSE/VIGIL_E_TOO_BIG for a message that fails
 *         vmsg_decode() (its fds are closed); other -errno.
 */
int vigild_recv(vigild_conn *c, int timeout_ms, vigild_reply **ret);

/**
 * vigild_call() - send a request and wait for its final reply.
 * Stream items that arrive first are an error here (-EPROTO): use
 * vigild_send() and vigild_recv() for streaming requests.
 * @param[out] ret  the reply, whatever its status (check vigild_reply_status());
 *                  a refusal sent by vigild before it read the request (too
 *                  many connections) is returned here too.
 * @return 0 when a reply arrived; transport errors as for vigild_send()/vigild_recv();
 *         -EPROTO for a reply to another request id.
 */
int vigild_call(vigild_conn *c, vmsg_builder *b, const int *fds, size_t n_fds, int timeout_ms,
                vigild_reply **ret);

/** Free a reply and close the fds not taken. Accepts NULL; returns NULL. */
vigild_reply *vigild_reply_free(vigild_reply *r);

/** VS_* of a final reply (VS_OK for an item). */
uint32_t vigild_reply_status(const vigild_reply *r);

/** The refusal's one line, or "" when there is none. Owned by @r. */
const char *vigild_reply_error(const vigild_reply *r);

/** Take the @i-th received fd: the caller owns it afterwards. -1 if none. */
int vigild_reply_take_fd(vigild_reply *r, size_t i);

/**
 * vigild_client_strerror() - a one-line explanation of a client error for users.
 * -ENOENT/-ECONNREFUSED become "vigild is not running", so a login or a
 * command refused while vigild is down says why.
 * @return a static string; never NULL.
 */
const char *vigild_client_strerror(int r);
