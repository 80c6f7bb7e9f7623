/* sessions.list, session.watch and session.replay on the store (part of
 * vigild_ops_vigil).
 *
 * Each request gets a child process that opens vigil.conf's store read-only
 * (LMDB: after the fork, in the process that reads) and runs the same code
 * as root's `vigil sessions`, `replay` and `watch` (view.h), sending each
 * item as a protocol message on a socket pair, then the final reply. vigild
 * only relays: every message from the child passes the protocol's decoder
 * and the table before it reaches the client, so a child gone wrong cannot
 * send the client anything it was not promised.
 *
 * Nothing here blocks the loop, and a slow reader stalls nobody but its own
 * child: when the client's queue is full, vigild stops reading the child's
 * socket (the child then blocks in send()) until the queue drains. A
 * request that ends early (client gone, another message sent, daemon
 * stopping) kills its child. The request is a stream from the start, so a
 * long search or a followed session is not cut by the request timeout; the
 * caps on requests in flight bound the children. */
#include <errno.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config/config.h"
#include "log.h"
#include "view.h"
#include "vigil-error.h"

/* Messages taken from a child per loop turn: the others' turn comes first. */
#define BATCH 16

typedef struct store_job {
        vigild_req *r;
        uint16_t type;
        pid_t pid;
        int fd;
        vigild_watch *w;
        vmsg_builder held; /* an item waiting for the client's queue to drain */
        bool holding;
        uint8_t *buf; /* VMSG_MAX + 1 */
        vmsg *m;
} store_job;

/* What the child is asked (copies live in its own memory after the fork). */
typedef struct store_task {
        uint16_t type;
        pid_t parent;
        const char *store;
        view_list_query list;
        const char *session;
        view_stream_opts stream;
} store_task;

/* ---- the child ---- */

/* One message to vigild; a send that fails means vigild dropped the request. */
static void child_send(int fd, vmsg_builder *b)
{
        if (vmsg_builder_finish(b, 0, NULL) < 0 || send(fd, b->buf, b->len, MSG_NOSIGNAL) != (ssize_t)b->len)
                _exit(0);
        vmsg_builder_done(b);
}

_noreturn_ static void child_reply(int fd, uint16_t type, vstatus status, const char *text)
{
        vmsg_builder b = { 0 };

        if (vmsg_builder_init(&b, (uint16_t)(type | VT_REPLY), 1) < 0)
                _exit(0);
        (void)vmsg_add_u32(&b, VF_STATUS, status);
        if (status != VS_OK)
                (void)vmsg_add_str(&b, VF_ERROR, text && *text ? text : vstatus_name(status));
        child_send(fd, &b);
        _exit(0);
}

typedef struct list_ctx {
        int fd;
} list_ctx;

static int send_session(void *userdata, const vigil_session_info *i)
{
        list_ctx *c = userdata;
        vmsg_builder b = { 0 };
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        int r;

        r = view_session_json(i, &json, &len);
        if (r < 0)
                return r;
        r = vmsg_builder_init(&b, VT_SESSIONS_LIST | VT_ITEM, 1);
        if (r < 0)
                return r;
        (void)vmsg_add(&b, VF_ITEM, json, len);
        child_send(c->fd, &b);
        return 0;
}

_noreturn_ static void child_list(int fd, vigil_store *st, const store_task *t)
{
        char err[VIEW_ERR_MAX + 1];
        list_ctx c = { .fd = fd };
        int r;

        r = view_sessions(st, &t->list, send_session, &c);
        if (r == VIGIL_E_PARSE) {
                /* the regular expression: the store's words for what is wrong with it */
                snprintf(err, sizeof err, "%s", vigil_store_errmsg(st));
                view_text_clean(err);
                child_reply(fd, t->type, VS_INVALID, err);
        }
        if (r < 0) {
                view_store_error(st, "list", r, err, sizeof err);
                child_reply(fd, t->type, VS_FAILED, err);
        }
        child_reply(fd, t->type, VS_OK, NULL);
}

_noreturn_ static void child_stream(int fd, vigil_store *st, const store_task *t)
{
        char err[VIEW_ERR_MAX + 1];
        uint8_t id[VIGIL_SESSION_ID_LEN];
        view_stream *s = NULL;
        int r;

        r = vigil_store_find_session(st, t->session, id);
        if (r < 0 && view_find_phrase(r))
                child_reply(fd, t->type, r == -EINVAL ? VS_INVALID : VS_NOTFOUND, view_find_phrase(r));
        if (r < 0) {
                view_store_error(st, "find session", r, err, sizeof err);
                child_reply(fd, t->type, VS_FAILED, err);
        }
        r = view_stream_new(st, id, &t->stream, &s);
        if (r < 0)
                child_reply(fd, t->type, VS_FAILED, vigil_strerror(r));
        for (;;) {
                vmsg_builder b = { 0 };
                view_item it;

                r = view_stream_next(s, &it);
                if (r == 0)
                        child_reply(fd, t->type, VS_OK, NULL);
                if (r == -EAGAIN) {
                        struct timespec ts = { 0, VIEW_FOLLOW_POLL_MS * 1000000L };

                        (void)nanosleep(&ts, NULL);
                        continue;
                }
                if (r < 0)
                        child_reply(fd, t->type, r == -ENOENT ? VS_NOTFOUND : VS_FAILED, view_stream_errmsg(s));
                if (vmsg_builder_init(&b, (uint16_t)(t->type | VT_ITEM), 1) < 0)
                        _exit(0);
                r = view_item_encode(&it, &b);
                if (r < 0) {
                        vmsg_builder_done(&b);
                        child_reply(fd, t->type, VS_FAILED, "an item does not fit the protocol");
                }
                child_send(fd, &b);
        }
}

/* The child reads the store and nothing else: no capability is left to it
 * (root's own files stay readable to it as their owner), and it cannot gain
 * any back. */
static int drop_capabilities(void)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (syscall(SYS_capset, &h, d) < 0)
                return negative_errno();
        return 0;
}

_noreturn_ static void child_main(int fd, const store_task *t)
{
        vigil_store_options o = {
                .dir = t->store,
                /* as for the vigil CLI and the supervisor (tests, unusual layouts) */
                .key_path = secure_getenv("VIGIL_HOST_KEY"),
                .flags = VIGIL_STORE_READONLY,
        };
        char err[VIEW_ERR_MAX + 1];
        vigil_store *st = NULL;
        int r;

        /* vigild gone: so is the reason to go on */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != t->parent)
                _exit(0);
        r = vigil_store_open(&o, &st);
        if (r < 0) {
                view_store_open_error(t->store, r, err, sizeof err);
                child_reply(fd, t->type, VS_FAILED, err);
        }
        if (drop_capabilities() < 0)
                child_reply(fd, t->type, VS_FAILED, "cannot drop privileges");
        if (t->type == VT_SESSIONS_LIST)
                child_list(fd, st, t);
        child_stream(fd, st, t);
}

/* ---- vigild's side ---- */

static void job_free(store_job *j)
{
        if (!j)
                return;
        vigild_watch_free(j->w);
        if (j->fd >= 0)
                (void)close(j->fd);
        if (j->pid > 0)
                (void)kill(j->pid, SIGKILL); /* reaped by reap_later() */
        vmsg_builder_done(&j->held);
        free(j->buf);
        free(j->m);
        free(j);
}

/* The request is over: answer it (unless it was), drop the job. */
static void job_end(store_job *j, vstatus status, const char *fmt, ...) _printf_(3, 4);
static void job_end(store_job *j, vstatus status, const char *fmt, ...)
{
        vigild_req *r = j->r;

        vigild_req_on_cancel(r, NULL, NULL);
        vigild_req_on_drain(r, NULL, NULL);
        if (status != VS_OK) {
                char line[VIEW_ERR_MAX + 1];
                va_list ap;

                va_start(ap, fmt);
                vsnprintf(line, sizeof line, fmt, ap);
                va_end(ap);
                view_text_clean(line);
                (void)vigild_req_fail(r, status, "%s", line);
        }
        job_free(j);
}

static void job_readable(int fd, uint32_t events, void *userdata);

static int job_watch(store_job *j)
{
        return vigild_watch_fd(vigild_req_server(j->r), j->fd, EPOLLIN, job_readable, j, &j->w);
}

static void job_drained(vigild_req *r, void *userdata)
{
        store_job *j = userdata;
        int k = vigild_req_item(r, &j->held);

        if (k == -EAGAIN)
                return; /* still full: wait for the next drain */
        if (k < 0) {
                job_end(j, VS_FAILED, "the client went away");
                return;
        }
        vmsg_builder_done(&j->held);
        j->holding = false;
        if (job_watch(j) < 0)
                job_end(j, VS_FAILED, "internal error");
}

/* Relay an item; false when the job is over or waits for a drain. */
static bool relay_item(store_job *j)
{
        vigild_req *r = j->r;
        vmsg_builder b = { 0 };
        int k = vigild_req_item_begin(r, &b);

        for (size_t i = 0; k == 0 && i < j->m->n_fields; i++)
                k = vmsg_add(&b, j->m->fields[i].tag, j->m->fields[i].val, j->m->fields[i].len);
        if (k == 0)
                k = vigild_req_item(r, &b);
        if (k == -EAGAIN) {
                /* the client reads slowly: hold this one, stop reading the child */
                j->held = b;
                j->holding = true;
                j->w = vigild_watch_free(j->w);
                vigild_req_on_drain(r, job_drained, j);
                return false;
        }
        vmsg_builder_done(&b);
        if (k < 0) {
                if (k != -EPIPE)
                        vlog(LOG_ERR, "%s: the store reader sent an item the table does not allow",
                             vigild_req_name(r));
                job_end(j, VS_FAILED, "internal error");
                return false;
        }
        return true;
}

static void relay_reply(store_job *j)
{
        vigild_req *r = j->r;
        const vmsg_field *e = vmsg_get(j->m, VF_ERROR);
        vmsg_builder b = { 0 };
        uint32_t st = VS_FAILED;

        (void)vmsg_get_u32(j->m, VF_STATUS, &st);
        if (st == VS_OK) {
                vigild_req_on_cancel(r, NULL, NULL);
                vigild_req_on_drain(r, NULL, NULL);
                if (vigild_req_reply_begin(r, &b) == 0)
                        (void)vigild_req_reply(r, &b, -1);
                else
                        (void)vigild_req_fail(r, VS_FAILED, "out of memory");
                vmsg_builder_done(&b);
                job_free(j);
                return;
        }
        if (st > VS_MAX_)
                st = VS_FAILED;
        job_end(j, (vstatus)st, "%.*s", e ? (int)e->len : 6, e ? (const char *)e->val : "failed");
}

static void job_readable(int fd, uint32_t events, void *userdata)
{
        store_job *j = userdata;

        (void)events;
        for (int i = 0; i < BATCH; i++) {
                ssize_t n = recv(fd, j->buf, VMSG_MAX + 1, MSG_DONTWAIT);
                uint16_t want = (uint16_t)(j->type & VT_MASK);

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n <= 0) {
                        vlog(LOG_ERR, "%s: the store reader ended without an answer", vigild_req_name(j->r));
                        job_end(j, VS_FAILED, "the store reader ended without an answer");
                        return;
                }
                if ((size_t)n > VMSG_MAX || vmsg_decode(j->buf, (size_t)n, 0, j->m, NULL) < 0 ||
                    (j->m->type != (want | VT_ITEM) && j->m->type != (want | VT_REPLY))) {
                        vlog(LOG_ERR, "%s: the store reader sent a malformed message", vigild_req_name(j->r));
                        job_end(j, VS_FAILED, "internal error");
                        return;
                }
                if (j->m->type & VT_REPLY) {
                        relay_reply(j);
                        return;
                }
                if (!relay_item(j))
                        return;
        }
}

static void job_cancelled(vigild_req *r, void *userdata)
{
        (void)r;
        job_free(userdata);
}

static int start_job(vigild_req *r, store_task *t)
{
        vigild_server *s = vigild_req_server(r);
        const vigil_config *cfg = vigild_server_config(s);
        store_job *j;
        int sv[2], k;
        pid_t pid;

        if (!cfg)
                return vigild_req_fail(r, VS_UNAVAILABLE, "no vigil.conf is loaded (it names the store)");
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = -1;
        j->buf = malloc(VMSG_MAX + 1);
        j->m = malloc(sizeof *j->m);
        if (!j->buf || !j->m) {
                job_free(j);
                return -ENOMEM;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                k = negative_errno();
                job_free(j);
                return k;
        }
        t->type = vigild_req_type(r);
        t->parent = getpid();
        t->store = cfg->store;
        pid = fork();
        if (pid == 0) {
                int keep[1] = { sv[1] };

                child_hygiene(keep, 1);
                child_main(keep[0], t);
        }
        (void)close(sv[1]);
        j->fd = sv[0];
        if (pid < 0) {
                k = negative_errno();
                job_free(j);
                return k;
        }
        j->r = r;
        j->type = t->type;
        j->pid = pid;
        k = reap_later(s, pid);
        if (k < 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                j->pid = 0;
                job_free(j);
                return k;
        }
        k = job_watch(j);
        if (k < 0) {
                job_free(j);
                return k;
        }
        vigild_req_on_cancel(r, job_cancelled, j);
        vigild_req_stream_begin(r);
        return 0;
}

int store_sessions_list(vigild_req *r, const vigild_list_query *q)
{
        store_task t = {
                .list = {
                        .filter = {
                                .user = q->user,
                                .host = q->host,
                                .since_us = q->has_since ? (uint64_t)q->since_ms * 1000 : 0,
                                .until_us = q->has_until ? (uint64_t)q->until_ms * 1000 : 0,
                        },
                        .command = q->command,
                        .live = q->live,
                },
        };

        return start_job(r, &t);
}

int store_session_watch(vigild_req *r, const char *session)
{
        store_task t = { .session = session, .stream = { .follow = true } };

        return start_job(r, &t);
}

int store_session_replay(vigild_req *r, const vigild_replay_query *q)
{
        store_task t = {
                .session = q->session,
                .stream = {
                        .has_at = q->has_at,
                        .at_ms = q->has_at ? (uint64_t)q->at_ms : 0,
                        .has_command_no = q->has_command_no,
                        .command_no = q->command_no,
                },
        };

        return start_job(r, &t);
}
