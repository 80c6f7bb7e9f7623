/* The event loop: one epoll set, one thread, nothing blocking. Each
 * connection costs a bounded amount (one queued output list bounded by
 * VIGILD_OUTQ_HIGH plus one reply, one request in flight) and lives under a
 * deadline: first request, idle time, a pending request and stalled output
 * all end it. Connections and watches that die during a turn are freed at
 * its end, so no event in the same batch can touch freed memory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

int64_t vigild_now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- per-uid accounting ---- */

uid_slot *slot_get(vigild_server *s, uid_t uid, bool create)
{
        uid_slot *p;

        for (p = s->slots; p; p = p->next)
                if (p->uid == uid)
                        return p;
        if (!create)
                return NULL;
        p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        p->uid = uid;
        p->next = s->slots;
        s->slots = p;
        return p;
}

void slot_put(vigild_server *s, uid_slot *slot)
{
        if (!slot || slot->clients || slot->pending)
                return;
        for (uid_slot **pp = &s->slots; *pp; pp = &(*pp)->next)
                if (*pp == slot) {
                        *pp = slot->next;
                        free(slot);
                        return;
                }
}

/* ---- output ---- */

static void update_events(client *c)
{
        uint32_t want = 0;
        struct epoll_event ev;

        if (c->base.dead)
                return;
        /* Stop reading from a client that does not read its answers, or that
         * is about to be closed; hangups are reported regardless. */
        if (!(c->phase & PH_CLOSING) && c->out_bytes <= VIGILD_OUTQ_HIGH)
                want |= EPOLLIN | EPOLLRDHUP;
        if (c->out_head)
                want |= EPOLLOUT;
        if (want == c->events)
                return;
        ev = (struct epoll_event){ .events = want, .data.ptr = &c->base };
        if (epoll_ctl(c->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
                client_kill(c, "epoll_ctl failed");
                return;
        }
        c->events = want;
}

static void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        (void)close(fds[i]);
                        fds[i] = -1;
                }
}

static int send_one(client *c, outmsg *m)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * VMSG_MAX_FDS)];
        } ctl;
        struct iovec iov = { .iov_base = m->buf, .iov_len = m->len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (m->n_fds) {
                struct cmsghdr *cm;

                memset(&ctl, 0, sizeof ctl);
                mh.msg_control = ctl.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * m->n_fds);
                memcpy(CMSG_DATA(cm), m->fds, sizeof(int) * m->n_fds);
        }
        do
                n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return 0;
}

static void client_flush(client *c)
{
        while (c->out_head && !c->base.dead) {
                outmsg *m = c->out_head;
                int r = send_one(c, m);

                if (r == -EAGAIN)
                        break;
                if (r < 0) {
                        client_kill(c, "send failed");
                        return;
                }
                c->out_head = m->next;
                if (!c->out_head)
                        c->out_tail = NULL;
                c->out_bytes -= m->len;
                close_fds(m->fds, m->n_fds);
                explicit_bzero(m->buf, m->len);
                free(m);
                c->io_deadline = vigild_now_ms() + c->srv->limits.request_timeout_ms;
        }
        if (c->base.dead)
                return;
        if (!c->out_head) {
                c->io_deadline = 0;
                if (c->close_after_flush) {
                        client_kill(c, NULL);
                        return;
                }
        }
        update_events(c);
}

int client_queue(client *c, const uint8_t *buf, size_t len, int *fds, size_t n_fds)
{
        outmsg *m;

        if (c->base.dead) {
                close_fds(fds, n_fds);
                return -EPIPE;
        }
        m = malloc(sizeof *m + len);
        if (!m) {
                close_fds(fds, n_fds);
                client_kill(c, "out of memory");
                return -ENOMEM;
        }
        m->next = NULL;
        m->len = len;
        memcpy(m->buf, buf, len);
        m->n_fds = n_fds;
        for (size_t i = 0; i < n_fds; i++) {
                m->fds[i] = fds[i];
                fds[i] = -1;
        }
        if (c->out_tail)
                c->out_tail->next = m;
        else {
                c->out_head = m;
                c->io_deadline = vigild_now_ms() + c->srv->limits.request_timeout_ms;
        }
        c->out_tail = m;
        c->out_bytes += len;
        client_flush(c);
        return c->base.dead ? -EPIPE : 0;
}

void client_set_phase(client *c, unsigned phase)
{
        c->phase = phase;
        switch (phase) {
        case PH_FRESH:
        case PH_READY:
        case PH_PENDING:
        case PH_CLOSING:
                c->deadline = vigild_now_ms() + c->srv->limits.request_timeout_ms;
                break;
        default:
                c->deadline = 0; /* a stream lasts as long as its client reads */
        }
        if (phase == PH_CLOSING) {
                c->close_after_flush = true;
                if (!c->out_head) {
                        client_kill(c, NULL);
                        return;
                }
        }
        update_events(c);
}

void client_refuse(client *c, uint16_t type, uint32_t id, vstatus status, const char *fmt, ...)
{
        char line[VMSG_ERR_MAX + 64];
        vmsg_builder b;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (vmsg_builder_init(&b, (uint16_t)((type & VT_MASK) | VT_REPLY), id) == 0) {
                vmsg_add_u32(&b, VF_STATUS, status);
                vmsg_add_str(&b, VF_ERROR, line);
                if (vmsg_builder_finish(&b, 0, NULL) == 0)
                        (void)client_queue(c, b.buf, b.len, NULL, 0);
                vmsg_builder_done(&b);
        }
        if (!c->base.dead)
                client_set_phase(c, PH_CLOSING);
}

/* ---- connection lifetime ---- */

void client_kill(client *c, const char *why)
{
        vigild_server *s = c->srv;

        if (c->base.dead)
                return;
        if (why)
                vlog_limited(LOG_INFO, "dropped connection uid=%u pid=%d: %s", (unsigned)c->caller.uid,
                             (int)c->caller.pid, why);
        c->base.dead = true;
        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        (void)close(c->fd);
        c->fd = -1;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_clients--;
        c->next_dead = s->dead_clients;
        s->dead_clients = c;
}

static void client_free(client *c)
{
        vigild_server *s = c->srv;

        if (c->req)
                req_cancel(c->req);
        while (c->out_head) {
                outmsg *m = c->out_head;

                c->out_head = m->next;
                close_fds(m->fds, m->n_fds);
                explicit_bzero(m->buf, m->len);
                free(m);
        }
        free(c->session_id);
        vigild_identity_free(c->session_identity);
        free(c->caller.groups);
        /* The slot is shared by every connection of the uid: release this
         * one's share only now, when nothing of the connection is left. */
        c->slot->clients--;
        slot_put(s, c->slot);
        free(c);
}

const vigild_identity *client_session_identity(client *c)
{
        const vigild_ops *ops = c->srv->ops;

        if (!c->session_checked) {
                c->session_checked = true;
                if (ops->session_of_pid && c->caller.pid > 0)
                        (void)ops->session_of_pid(c->caller.pid, c->caller.pid_starttime, &c->session_id,
                                                  &c->session_identity);
        }
        return c->session_identity;
}

/* Field 22 of /proc/PID/stat, counted after the command name, which may
 * itself hold spaces and parentheses: start after the last ')'. */
static uint64_t pid_starttime(pid_t pid)
{
        char path[64], buf[1024];
        const char *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        (void)close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p)
                return 0;
        p++;
        for (int field = 2; field < 21 && p; field++) {
                p = strchr(p + 1, ' ');
        }
        if (!p)
                return 0;
        return strtoull(p + 1, NULL, 10);
}

static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
        socklen_t len = 64 * sizeof(gid_t);
        gid_t *g = NULL;

        for (int tries = 0; tries < 3; tries++) {
                gid_t *ng = realloc(g, len ? len : sizeof(gid_t));

                if (!ng) {
                        free(g);
                        return -ENOMEM;
                }
                g = ng;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
                        *ret = g;
                        *ret_n = len / sizeof(gid_t);
                        return 0;
                }
                if (errno != ERANGE)
                        break;
        }
        free(g);
        return negative_errno();
}

static void on_client(watch_base *w, uint32_t events);

/* Closing a Unix socket with unread data makes the peer's next recv fail
 * with ECONNRESET before it sees our refusal: read what the client already
 * sent (closing any fds that came with it), then close. */
static void drain_and_close(int fd)
{
        for (int i = 0; i < 4; i++) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int) * (VMSG_MAX_FDS + 1))];
                } ctl;
                uint8_t one;
                struct iovec iov = { .iov_base = &one, .iov_len = 1 };
                struct msghdr mh = { .msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = ctl.buf,
                                     .msg_controllen = sizeof ctl.buf };

                if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
                        break;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                                for (size_t k = 0; k < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
                                        int rfd;

                                        memcpy(&rfd, CMSG_DATA(cm) + k * sizeof(int), sizeof rfd);
                                        (void)close(rfd);
                                }
        }
        (void)close(fd);
}

/* Refuse a connection that would exceed a cap, with one line. */
static void refuse_fd(int fd, const char *line)
{
        vmsg_builder b;

        if (vmsg_builder_init(&b, VT_NONE | VT_REPLY, 0) == 0) {
                vmsg_add_u32(&b, VF_STATUS, VS_LIMIT);
                vmsg_add_str(&b, VF_ERROR, line);
                if (vmsg_builder_finish(&b, 0, NULL) == 0)
                        (void)send(fd, b.buf, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
                vmsg_builder_done(&b);
        }
        drain_and_close(fd);
}

static void accept_one(vigild_server *s, int fd)
{
        struct ucred cred;
        socklen_t cl = sizeof cred;
        struct epoll_event ev;
        uid_slot *slot;
        client *c;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cl != sizeof cred) {
                (void)close(fd);
                return;
        }
        if (s->n_clients >= s->limits.max_clients) {
                vlog_limited(LOG_WARNING, "refused connection uid=%u pid=%d: %u connections already",
                             (unsigned)cred.uid, (int)cred.pid, s->n_clients);
                refuse_fd(fd, "too many connections to vigild; try again later");
                return;
        }
        slot = slot_get(s, cred.uid, true);
        if (!slot) {
                (void)close(fd);
                return;
        }
        if (cred.uid != 0 && slot->clients >= s->limits.max_clients_per_uid) {
                vlog_limited(LOG_WARNING, "refused connection uid=%u pid=%d: %u connections for this uid",
                             (unsigned)cred.uid, (int)cred.pid, slot->clients);
                refuse_fd(fd, "too many connections to vigild from this account");
                slot_put(s, slot);
                return;
        }
        c = calloc(1, sizeof *c);
        if (!c || peer_groups(fd, &c->caller.groups, &c->caller.n_groups) < 0) {
                free(c);
                (void)close(fd);
                slot_put(s, slot);
                return;
        }
        c->base.fn = on_client;
        c->srv = s;
        c->fd = fd;
        c->caller.uid = cred.uid;
        c->caller.gid = cred.gid;
        c->caller.pid = cred.pid;
        c->caller.pid_starttime = pid_starttime(cred.pid);
        c->slot = slot;
        c->events = EPOLLIN | EPOLLRDHUP;
        ev = (struct epoll_event){ .events = c->events, .data.ptr = &c->base };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                free(c->caller.groups);
                free(c);
                (void)close(fd);
                slot_put(s, slot);
                return;
        }
        slot->clients++;
        s->n_clients++;
        c->next = s->clients;
        if (s->clients)
                s->clients->prev = c;
        s->clients = c;
        client_set_phase(c, PH_FRESH);
}

typedef struct listener {
        watch_base base;
        vigild_server *srv;
        int64_t paused_until;
} listener;

static void on_listen(watch_base *w, uint32_t events)
{
        listener *l = (listener *)w;
        vigild_server *s = l->srv;

        (void)events;
        /* A bounded batch per turn, so a connection flood cannot starve
         * the connections already open. */
        for (int i = 0; i < 32; i++) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd >= 0) {
                        accept_one(s, fd);
                        continue;
                }
                if (errno == EINTR || errno == ECONNABORTED)
                        continue;
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        /* Out of fds: stop listening for a moment rather than
                         * spin on a socket that stays readable. */
                        vlog_limited(LOG_WARNING, "accept: %s; pausing new connections", strerror(errno));
                        (void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
                        l->paused_until = vigild_now_ms() + 200;
                }
                break;
        }
}

static void client_read(client *c)
{
        vigild_server *s = c->srv;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * (VMSG_MAX_FDS + 1))];
        } ctl;
        struct iovec iov = { .iov_base = s->rxbuf, .iov_len = VMSG_MAX + 1 };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf
        };
        int fds[VMSG_MAX_FDS + 1];
        size_t n_fds = 0;
        bool stray = false;
        char err[VMSG_ERR_MAX];
        ssize_t n;
        int r;

        do
                n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                if (errno != EAGAIN)
                        client_kill(c, NULL);
                return;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                        for (size_t i = 0; i < k; i++) {
                                int fd;

                                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                                if (n_fds < ELEMENTSOF(fds))
                                        fds[n_fds++] = fd;
                                else {
                                        (void)close(fd);
                                        stray = true;
                                }
                        }
                } else
                        stray = true;
        }
        if (n == 0) {
                close_fds(fds, n_fds);
                client_kill(c, NULL);
                return;
        }
        if (mh.msg_flags & MSG_TRUNC) {
                close_fds(fds, n_fds);
                vlog_limited(LOG_NOTICE, "refused message uid=%u pid=%d: larger than %u bytes",
                             (unsigned)c->caller.uid, (int)c->caller.pid, VMSG_MAX);
                client_refuse(c, VT_NONE, 0, VS_INVALID, "message larger than %u bytes", VMSG_MAX);
                return;
        }
        if ((mh.msg_flags & MSG_CTRUNC) || stray || n_fds > VMSG_MAX_FDS) {
                close_fds(fds, n_fds);
                vlog_limited(LOG_NOTICE,
                             "refused message uid=%u pid=%d: too many fds or unexpected control data",
                             (unsigned)c->caller.uid, (int)c->caller.pid);
                client_refuse(c, VT_NONE, 0, VS_INVALID, "too many fds or unexpected control data");
                return;
        }
        r = vmsg_decode(s->rxbuf, (size_t)n, n_fds, s->rxmsg, err);
        if (r == 0 && (s->rxmsg->type & (VT_REPLY | VT_ITEM))) {
                r = VIGIL_E_PARSE;
                snprintf(err, sizeof err, "clients send requests only");
        }
        if (r < 0) {
                close_fds(fds, n_fds);
                vlog_limited(LOG_NOTICE, "refused message uid=%u pid=%d: %s", (unsigned)c->caller.uid,
                             (int)c->caller.pid, err);
                client_refuse(c, VT_NONE, 0, VS_INVALID, "invalid request: %s", err);
                return;
        }
        dispatch(c, s->rxmsg, fds, n_fds);
        /* The request and its fields were copied out by now; the buffer may
         * have held a token. */
        explicit_bzero(s->rxbuf, (size_t)n);
}

static void on_client(watch_base *w, uint32_t events)
{
        client *c = (client *)w;

        if (events & EPOLLOUT) {
                client_flush(c);
                if (c->base.dead)
                        return;
                if (c->req && c->req->want_drain && c->out_bytes < VIGILD_OUTQ_LOW)
                        req_drain(c->req);
                if (c->base.dead)
                        return;
        }
        if ((events & EPOLLIN) && (c->events & EPOLLIN))
                client_read(c);
        else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
                client_kill(c, NULL);
}

/* ---- backend watches ---- */

static void on_watch(watch_base *w, uint32_t events)
{
        vigild_watch *v = (vigild_watch *)w;

        v->cb(v->fd, events, v->userdata);
}

int vigild_watch_fd(vigild_server *s, int fd, uint32_t events, vigild_watch_cb cb, void *userdata,
                    vigild_watch **ret)
{
        vigild_watch *v = calloc(1, sizeof *v);
        struct epoll_event ev;

        if (!v)
                return -ENOMEM;
        v->base.fn = on_watch;
        v->srv = s;
        v->fd = fd;
        v->cb = cb;
        v->userdata = userdata;
        ev = (struct epoll_event){ .events = events, .data.ptr = &v->base };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = negative_errno();

                free(v);
                return r;
        }
        *ret = v;
        return 0;
}

vigild_watch *vigild_watch_free(vigild_watch *v)
{
        if (!v || v->base.dead)
                return NULL;
        (void)epoll_ctl(v->srv->epoll_fd, EPOLL_CTL_DEL, v->fd, NULL);
        v->base.dead = true;
        v->next_dead = v->srv->dead_watches;
        v->srv->dead_watches = v;
        return NULL;
}

/* ---- timeouts and the loop ---- */

static int64_t sweep(vigild_server *s, int64_t now, listener *l)
{
        int64_t next = now + 1000;

        for (client *c = s->clients, *nx; c; c = nx) {
                nx = c->next;
                if (c->io_deadline && now >= c->io_deadline) {
                        client_kill(c, "its output did not move (client not reading)");
                        continue;
                }
                if (c->deadline && now >= c->deadline) {
                        if (c->phase & (PH_FRESH | PH_READY)) {
                                vlog_limited(LOG_INFO, "connection uid=%u pid=%d sent no request in time",
                                             (unsigned)c->caller.uid, (int)c->caller.pid);
                                client_refuse(c, VT_NONE, 0, VS_TIMEOUT, "no request within %u ms",
                                              s->limits.request_timeout_ms);
                        } else if ((c->phase & PH_PENDING) && c->req) {
                                vlog_limited(LOG_WARNING, "request %s uid=%u pid=%d timed out",
                                             c->req->def->name, (unsigned)c->caller.uid, (int)c->caller.pid);
                                req_timeout(c->req);
                        } else
                                client_kill(c, "closing took too long");
                        continue;
                }
                if (c->io_deadline && c->io_deadline < next)
                        next = c->io_deadline;
                if (c->deadline && c->deadline < next)
                        next = c->deadline;
        }
        if (l->paused_until) {
                if (now >= l->paused_until) {
                        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->base };

                        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) == 0)
                                l->paused_until = 0;
                } else if (l->paused_until < next)
                        next = l->paused_until;
        }
        return next;
}

static void reap(vigild_server *s)
{
        while (s->dead_clients) {
                client *c = s->dead_clients;

                s->dead_clients = c->next_dead;
                client_free(c);
        }
        while (s->dead_watches) {
                vigild_watch *v = s->dead_watches;

                s->dead_watches = v->next_dead;
                free(v);
        }
}

static int64_t boottime_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct sigwatch {
        watch_base base;
        vigild_server *srv;
} sigwatch;

static void on_signal(watch_base *w, uint32_t events)
{
        vigild_server *s = ((sigwatch *)w)->srv;
        struct signalfd_siginfo si;

        (void)events;
        while (read(s->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP)
                        server_reload(s);
                else {
                        vlog(LOG_NOTICE, "signal %u: shutting down", si.ssi_signo);
                        s->stopping = true;
                }
        }
}

int server_run(vigild_server *s)
{
        listener l = { .base.fn = on_listen, .srv = s };
        sigwatch sw = { .base.fn = on_signal, .srv = s };
        struct epoll_event ev;

        ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &l.base };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0)
                return negative_errno();
        ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &sw.base };
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
                return negative_errno();

        while (!s->stopping) {
                struct epoll_event evs[64];
                int64_t now = vigild_now_ms(), next;
                int n, timeout;

                next = sweep(s, now, &l);
                reap(s);
                timeout = next > now ? (int)(next - now) : 0;
                n = epoll_wait(s->epoll_fd, evs, (int)ELEMENTSOF(evs), timeout);
                if (n < 0 && errno != EINTR)
                        return negative_errno();
                for (int i = 0; i < n; i++) {
                        watch_base *w = evs[i].data.ptr;

                        if (!w->dead)
                                w->fn(w, evs[i].events);
                }
                refs_expire(&s->refs, boottime_ms());
                reap(s);
        }

        /* Shutdown: pending requests are cancelled, references wiped. */
        while (s->clients)
                client_kill(s->clients, NULL);
        reap(s);
        return 0;
}
