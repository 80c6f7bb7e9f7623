/* Structures of the event loop, shared by loop.c (connections, output,
 * timeouts), req.c (answering requests) and dispatch.c (the table). Internal. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

typedef struct watch_base watch_base;
struct watch_base {
        void (*fn)(watch_base *w, uint32_t events);
        bool dead;
};

struct vigild_watch {
        watch_base base;
        vigild_server *srv;
        int fd;
        vigild_watch_cb cb;
        void *userdata;
        vigild_watch *next_dead;
};

typedef struct outmsg outmsg;
struct outmsg {
        outmsg *next;
        size_t len;
        int fds[VMSG_MAX_FDS];
        size_t n_fds;
        uint8_t buf[];
};

struct uid_slot {
        uid_slot *next;
        uid_t uid;
        unsigned clients, pending;
};

struct client {
        watch_base base;
        client *prev, *next;
        client *next_dead;
        vigild_server *srv;
        int fd;
        vigild_caller caller;
        uid_slot *slot;
        unsigned phase;
        uint64_t once_used; /* bit per request table row */
        outmsg *out_head, *out_tail;
        size_t out_bytes;
        uint32_t events;     /* current epoll interest */
        int64_t deadline;    /* for the phase; 0: none */
        int64_t io_deadline; /* for queued output to move; 0: none */
        bool close_after_flush;
        vigild_req *req; /* the request in flight, if any */
        /* ops->session_of_pid, asked at most once */
        bool session_checked;
        char *session_id;
        vigild_identity *session_identity;
};

struct vigild_req {
        vigild_server *srv;
        client *c; /* NULL once the connection is gone */
        const request_def *def;
        uint32_t id;
        int fds[VMSG_MAX_FDS];
        size_t n_fds;
        uid_slot *slot;
        bool in_handler; /* the dispatcher frees it when the handler returns */
        bool done;       /* answered or cancelled */
        bool streaming;
        bool delegated;
        bool want_drain;
        vigild_req_cb on_cancel, on_drain;
        void *cancel_ud, *drain_ud;
        void *ctx; /* a handler's continuation state */
        void (*ctx_free)(void *);
        /* Sees a success reply as sent (session.start records handle -> session). */
        void (*reply_hook)(vigild_req *r, const vmsg *reply);
};

/* loop.c */
int client_queue(client *c, const uint8_t *buf, size_t len, int *fds, size_t n_fds);
void client_kill(client *c, const char *why);
void client_set_phase(client *c, unsigned phase);
/* Send a refusal as the reply to request @type/@id (VT_NONE, 0: not tied to
 * a request) and close the connection after it. */
void client_refuse(client *c, uint16_t type, uint32_t id, vstatus status, const char *fmt, ...)
        _printf_(5, 6);
const vigild_identity *client_session_identity(client *c);
uid_slot *slot_get(vigild_server *s, uid_t uid, bool create);
void slot_put(vigild_server *s, uid_slot *slot);

/* req.c */
vigild_req *req_new(client *c, const request_def *def, uint32_t id, int *fds, size_t n_fds);
/* End the request now: cancel callback if unanswered, release everything. */
void req_cancel(vigild_req *r);
/* Answer a cancelled-by-timeout request. */
void req_timeout(vigild_req *r);
void req_free(vigild_req *r);
void req_drain(vigild_req *r);
/* Set a handler's continuation state, freed with the request. */
void req_set_ctx(vigild_req *r, void *ctx, void (*ctx_free)(void *));

/* dispatch.c */
void dispatch(client *c, const vmsg *m, int *fds, size_t n_fds);
