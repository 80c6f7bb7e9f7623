/* The control sockets of running sessions, from the side that orders them
 * (vigild's session.kill and pam.close, root's `vigil kill`).
 *
 * Every supervisor listens on <run dir>/sessions/<id>.sock (supervisor.h:
 * the control socket), where <run dir> is the directory of vigild's socket
 * (/run/vigil): sessions vigild started, and those `vigil run` started
 * directly when that directory is usable. Only root may connect (the
 * directory is root's, 0700, and the supervisor checks SO_PEERCRED). A
 * session's id there is its store id, so `vigil kill` names sessions the
 * way `vigil sessions` lists them.
 *
 * Orders, one message each, answered "ok" (or "error"):
 *   "end"                        end the session silently (pam.close)
 *   "end\n<reason>"              the user sees "vigil: this session was ended: <reason>"
 *   "kill\n<by>\n<reason>"       the same line with " (by <by>)" after it (and without a
 *                                reason "vigil: this session was ended (by <by>)"); the
 *                                supervisor logs who ended it
 * and the session is ended: every process killed, the recording sealed as
 * ended by vigil ("killed"). Part of dep_vigil_view. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SESSCTL_ID_MAX 64
/* The longest order (supervisor.h: VIGIL_SESSION_CONTROL_MAX). */
#define SESSCTL_ORDER_MAX 2048u

/**
 * sessctl_run_dir() - the run directory: the directory of @socket_path
 * (NULL: VIGILD_SOCKET_PATH).
 * @return 0 or -ENAMETOOLONG / -EINVAL (not an absolute path).
 */
int sessctl_run_dir(const char *socket_path, char *buf, size_t size);

/**
 * sessctl_dir_usable() - make <run_dir>/sessions if missing (0700; and
 * run_dir itself, 0755, if missing) and check that it is root's and
 * closed to others.
 * @return 0, -EPERM (someone else's, or open to others), -errno.
 */
int sessctl_dir_usable(const char *run_dir);

/** "<run_dir>/sessions/<id>.sock" into @buf. @return 0, -EINVAL (not an id), -ENAMETOOLONG. */
int sessctl_socket_path(const char *run_dir, const char *id, char *buf, size_t size);

/**
 * sessctl_prefix() - a session argument as the hexadecimal digits it
 * stands for (dashes dropped, lower case), the way the store reads a
 * prefix (vigil_store_find_session()).
 * @param[out] buf  33 bytes.
 * @return 0, or -EINVAL (a character other than a hex digit or '-', none, or more than 32).
 */
int sessctl_prefix(const char *arg, char buf[static 33]);

/**
 * sessctl_find() - the running session (one with a control socket in
 * <run_dir>/sessions) whose id starts with @arg (sessctl_prefix()).
 * @param[out] ret_id  its id, 36 characters and NUL.
 * @return 0, -ENOENT (none), -ENOTUNIQ (several), -EINVAL (@arg is no prefix), -errno.
 */
int sessctl_find(const char *run_dir, const char *arg, char ret_id[static SESSCTL_ID_MAX + 1]);

/**
 * sessctl_order() - compose an order (above). @by NULL: "end" with @reason
 * (may be NULL); else "kill" by @by. Control bytes in @by or @reason are
 * replaced (the supervisor shows them on one line).
 * @return the length, or -E2BIG.
 */
int sessctl_order(const char *by, const char *reason, char *buf, size_t size);

/**
 * sessctl_connect() - connect to session @id's control socket.
 * A socket nobody listens on (its supervisor was killed) is removed, with
 * the session's record beside it.
 * @param[in] nonblock  a non-blocking socket (vigild's loop).
 * @return 0 with *ret_fd (close-on-exec); -ENOENT (no such running session); -errno.
 */
int sessctl_connect(const char *run_dir, const char *id, bool nonblock, int *ret_fd);

/**
 * sessctl_send_order() - connect, send @order, wait up to @timeout_ms for
 * "ok" (for a blocking caller: root's `vigil kill`).
 * @return 0; -ENOENT (not running); -ETIMEDOUT; -EPROTO (no "ok"); -errno.
 */
int sessctl_send_order(const char *run_dir, const char *id, const char *order, size_t len, int timeout_ms);

/** A new session id (UUIDv7, 36 characters and NUL). @return 0 or -errno. */
int sessctl_id_new(char buf[static 37]);
