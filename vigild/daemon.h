/* vigild internals shared by the daemon's files (loop, dispatch, handlers).
 * Not an interface for anything outside vigild/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "ops.h"
#include "proto.h"
#include "refs.h"
#include "request.h"

typedef struct vigild_limits {
        unsigned max_clients;         /* connections at once */
        unsigned max_clients_per_uid; /* for uids other than 0 */
        unsigned max_pending;         /* requests in flight at once */
        unsigned max_pending_per_uid; /* for uids other than 0 */
        unsigned request_timeout_ms;  /* first request, idle, pending request, stalled output */
        unsigned ref_ttl_s;           /* life of a one-time reference */
        unsigned max_refs;
} vigild_limits;

#define VIGILD_DEFAULT_LIMITS                                                                               \
        ((vigild_limits){ .max_clients = 1024,                                                              \
                          .max_clients_per_uid = 16,                                                        \
                          .max_pending = 256,                                                               \
                          .max_pending_per_uid = 4,                                                         \
                          .request_timeout_ms = 10000,                                                      \
                          .ref_ttl_s = 120,                                                                 \
                          .max_refs = 1024 })

/* Output queued for a client beyond which items are refused with -EAGAIN
 * (and reading from it pauses), and below which a drain callback runs. */
#define VIGILD_OUTQ_HIGH (256u * 1024)
#define VIGILD_OUTQ_LOW (64u * 1024)

/* Who may send a request (request_def.who). */
enum {
        WHO_ROOT = 1 << 0,       /* uid 0 */
        WHO_USER = 1 << 1,       /* any uid but 0 */
        WHO_AUDITOR = 1 << 2,    /* matches vigil.conf `auditors` */
        WHO_RESPONDER = 1 << 3,  /* matches vigil.conf `responders` */
        WHO_IN_SESSION = 1 << 4, /* runs inside a vigil session (supervisor's word) */
        WHO_BACKEND = 1 << 5,    /* anyone else: the handler asks the backend, which must say yes */
        WHO_ANY = WHO_ROOT | WHO_USER,
};

/* Connection phases (request_def.phases). */
enum {
        PH_FRESH = 1 << 0,   /* connected, no request yet */
        PH_READY = 1 << 1,   /* answered its requests so far, may send another */
        PH_PENDING = 1 << 2, /* one request in flight */
        PH_STREAM = 1 << 3,  /* receiving a stream */
        PH_CLOSING = 1 << 4, /* flushing its last reply */
};

/* request_def.flags */
enum {
        RQ_ONCE = 1 << 0, /* at most once per connection */
        RQ_LAST = 1 << 1, /* the connection ends after this request's reply */
};

typedef int (*vigild_handler_fn)(vigild_req *r, const vmsg *m);

typedef struct request_def {
        uint16_t type;
        const char *name; /* for replies and logs */
        unsigned who;
        unsigned phases;
        unsigned flags;
        vigild_handler_fn handler;
} request_def;

/** The request table (dispatch.c). */
const request_def *request_def_get(uint16_t type);
size_t request_defs(const request_def **ret);

/* ---- the server ---- */

typedef struct client client;
typedef struct uid_slot uid_slot;

struct vigild_server {
        const vigild_ops *ops;
        vigild_limits limits;
        vigild_access *access;
        const char *config_path;
        bool config_required;
        vigil_config *config; /* NULL: none loaded (no file, or a reload failed) */
        char *run_dir;        /* the socket's directory */
        const char *events_dir;
        ref_store refs;
        int epoll_fd;
        int listen_fd;
        int signal_fd;
        bool stopping;
        int64_t started_ms;
        client *clients;
        unsigned n_clients, n_pending;
        uid_slot *slots;
        vigild_watch *dead_watches; /* freed at the end of a loop turn */
        client *dead_clients;
        uint8_t *rxbuf; /* VMSG_MAX + 1 */
        vmsg *rxmsg;
};

/* ---- loop.c ---- */

int64_t vigild_now_ms(void);
int server_run(vigild_server *s);

/* The caller's identity from the vigil session it runs in, asked once per
 * connection (ops->session_of_pid). NULL when not in a session or unknown. */
const vigild_identity *vigild_req_session_identity(vigild_req *r);
/** True when the request reached its handler only through WHO_BACKEND. */
bool vigild_req_delegated(const vigild_req *r);
/** Is the request still unanswered (and not cancelled)? */
bool vigild_req_pending(const vigild_req *r);
/* ---- daemon.c ---- */

/* SIGHUP: read vigil.conf again (none, hence no auditors, responders or
 * sessions, on failure). */
void server_reload(vigild_server *s);

/* ---- dispatch.c ---- */

/* Does the caller of @r match vigil.conf's auditors / responders? */
bool vigild_req_is_auditor(vigild_req *r);
bool vigild_req_is_responder(vigild_req *r);

/* ---- handlers ---- */

int handle_ping(vigild_req *r, const vmsg *m);
int handle_status(vigild_req *r, const vmsg *m);
int handle_pam_register(vigild_req *r, const vmsg *m);
int handle_pam_lookup(vigild_req *r, const vmsg *m);
int handle_pam_open(vigild_req *r, const vmsg *m);
int handle_pam_close(vigild_req *r, const vmsg *m);
int handle_session_start_ref(vigild_req *r, const vmsg *m);
int handle_session_start_token(vigild_req *r, const vmsg *m);
int handle_approvals_list(vigild_req *r, const vmsg *m);
int handle_approvals_decide(vigild_req *r, const vmsg *m);
int handle_sessions_list(vigild_req *r, const vmsg *m);
int handle_session_watch(vigild_req *r, const vmsg *m);
int handle_session_replay(vigild_req *r, const vmsg *m);
int handle_session_kill(vigild_req *r, const vmsg *m);

/* Map a handler's or backend's negative code to a reply status. */
vstatus status_from_errno(int r);
