/* How a handler or a backend answers a vigild request, now or later, and
 * how a backend puts its own fds into vigild's event loop.
 *
 * Rules for everything here:
 * - vigild runs one event loop in one thread; every function below must be
 *   called from it, and nothing may block it (no waiting on a child, no
 *   network round trip, no long LMDB transaction).
 * - A request is answered exactly once, by vigild_req_reply*() or
 *   vigild_req_fail(). After that, or after its cancel callback ran, the
 *   vigild_req pointer is dead.
 * - A request not answered within the daemon's request timeout is cancelled
 *   (cancel callback, then a "timeout" reply); so is one whose client went
 *   away. A streaming request (vigild_req_stream_begin()) has no timeout but
 *   its client must keep reading. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "proto.h"

typedef struct vigild_server vigild_server;
typedef struct vigild_req vigild_req;
typedef struct vigild_watch vigild_watch;

/* Who is calling, as vigild established it from the socket (SO_PEERCRED,
 * SO_PEERGROUPS) when the connection was accepted. */
typedef struct vigild_caller {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        uint64_t pid_starttime; /* field 22 of /proc/PID/stat at accept; 0 if unknown.
                                   With pid it names the process despite pid reuse. */
        gid_t *groups;          /* supplementary groups of the connecting process */
        size_t n_groups;
} vigild_caller;

/** The server the request belongs to (for vigild_watch_fd()). */
vigild_server *vigild_req_server(vigild_req *r);
/** The caller. Valid while the request is. */
const vigild_caller *vigild_req_caller(const vigild_req *r);
/** The request's type (VT_*). */
uint16_t vigild_req_type(const vigild_req *r);
/** The table name of the request, for messages ("session.kill"). */
const char *vigild_req_name(const vigild_req *r);

/** Take the @i-th fd that came with the request; the caller owns it. -1 if none. */
int vigild_req_take_fd(vigild_req *r, size_t i);

/**
 * vigild_req_reply_begin() - start the success reply (status ok is added).
 * @param[out] b  builder for the payload fields; pass to vigild_req_reply().
 * @return 0 or -ENOMEM.
 */
int vigild_req_reply_begin(vigild_req *r, vmsg_builder *b);

/**
 * vigild_req_reply() - send the success reply and end the request.
 * The reply is checked with vmsg_builder_finish() first: a reply that breaks
 * the protocol table is logged and replaced by a "failed" refusal, so a
 * backend bug never sends the client something it was not promised.
 * @param[in] b      from vigild_req_reply_begin(); vmsg_builder_done() stays the caller's.
 * @param[in] fd     an fd to pass with the reply (taken: vigild closes it), or -1.
 * @return 0, or -errno when the client is gone (the request ends anyway).
 */
int vigild_req_reply(vigild_req *r, vmsg_builder *b, int fd);

/**
 * vigild_req_fail() - refuse with one line and end the request.
 * @param[in] status  VS_REFUSED, VS_UNAVAILABLE, VS_NOTFOUND, ...; never VS_OK.
 * @param[in] fmt     the line's text after "<request name>: "; no newline.
 * @return 0, or -errno when the client is gone (the request ends anyway).
 */
int vigild_req_fail(vigild_req *r, vstatus status, const char *fmt, ...) _printf_(3, 4);

/**
 * vigild_req_stream_begin() - turn the request into a stream: no timeout
 * from now on; items follow, then the final reply ends it.
 */
void vigild_req_stream_begin(vigild_req *r);

/** Start an item (VT_ITEM) of the request's type. */
int vigild_req_item_begin(vigild_req *r, vmsg_builder *b);

/**
 * vigild_req_item() - queue one item.
 * @return 0; -EAGAIN when the client's queue is above its high-water mark
 *         (nothing queued: wait for the drain callback and send it again);
 *         VIGIL_E_PARSE for an item the table does not allow; -errno.
 */
int vigild_req_item(vigild_req *r, vmsg_builder *b);

typedef void (*vigild_req_cb)(vigild_req *r, void *userdata);

/** Called when the client's queue fell below its low-water mark after -EAGAIN. */
void vigild_req_on_drain(vigild_req *r, vigild_req_cb cb, void *userdata);

/**
 * vigild_req_on_cancel() - called once if the request dies unanswered (client
 * gone, timeout, daemon shutting down). The callback releases what the
 * backend holds for the request; it must not answer it.
 */
void vigild_req_on_cancel(vigild_req *r, vigild_req_cb cb, void *userdata);

/* ---- backend fds in the event loop ---- */

typedef void (*vigild_watch_cb)(int fd, uint32_t revents, void *userdata);

/**
 * vigild_watch_fd() - call @cb when @fd has @events (EPOLLIN, EPOLLOUT, ...).
 * @param[out] ret  the registration; end it with vigild_watch_free() before closing @fd.
 * @return 0 or -errno.
 */
int vigild_watch_fd(vigild_server *s, int fd, uint32_t events, vigild_watch_cb cb, void *userdata,
                    vigild_watch **ret);

/** End a registration (safe inside its own callback). Accepts NULL; returns NULL. */
vigild_watch *vigild_watch_free(vigild_watch *w);
