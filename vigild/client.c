#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"
#include "vigil-error.h"

struct vigild_conn {
        int fd;
        uint8_t *rxbuf; /* VMSG_MAX + 1, so an oversized message shows as truncated */
};

static int64_t now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
        int64_t left = deadline - now_ms();

        return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait for @events on @fd until @deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int r = poll(&p, 1, remaining(deadline));

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return negative_errno();
                if (r == 0)
                        return -ETIMEDOUT;
                return 0;
        }
}

int vigild_connect(const char *path, int timeout_ms, vigild_conn **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
        _cleanup_close_ int fd = -1;
        vigild_conn *c;

        if (!path)
                path = VIGILD_SOCKET_PATH;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* A Unix socket connects at once or fails; EAGAIN means the listen
         * backlog is full (a busy or flooded daemon): retry until the deadline. */
        for (;;) {
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                        break;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return negative_errno();
                if (remaining(deadline) == 0)
                        return -ETIMEDOUT;
                (void)poll(NULL, 0, 10);
        }

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->rxbuf = malloc(VMSG_MAX + 1);
        if (!c->rxbuf) {
                free(c);
                return -ENOMEM;
        }
        c->fd = TAKE_FD(fd);
        *ret = c;
        return 0;
}

vigild_conn *vigild_conn_free(vigild_conn *c)
{
        if (!c)
                return NULL;
        if (c->fd >= 0)
                (void)close(c->fd);
        if (c->rxbuf) {
                explicit_bzero(c->rxbuf, VMSG_MAX + 1);
                free(c->rxbuf);
        }
        free(c);
        return NULL;
}

int vigild_conn_fd(const vigild_conn *c)
{
        return c->fd;
}

int vigild_send(vigild_conn *c, vmsg_builder *b, const int *fds, size_t n_fds, int timeout_ms)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * VMSG_MAX_FDS)];
        } ctl;
        struct iovec iov;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
        int r;

        if (n_fds > VMSG_MAX_FDS)
                return VIGIL_E_TOO_BIG;
        r = vmsg_builder_finish(b, n_fds, NULL);
        if (r < 0)
                return r;
        iov = (struct iovec){ .iov_base = b->buf, .iov_len = b->len };
        if (n_fds > 0) {
                struct cmsghdr *cm;

                memset(&ctl, 0, sizeof ctl);
                mh.msg_control = ctl.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        for (;;) {
                ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n >= 0)
                        return (size_t)n == b->len ? 0 : -EIO;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return negative_errno();
                r = wait_fd(c->fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
}

static void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        (void)close(fds[i]);
                        fds[i] = -1;
                }
}

int vigild_recv(vigild_conn *c, int timeout_ms, vigild_reply **ret)
{
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * (VMSG_MAX_FDS + 1))];
        } ctl;
        struct iovec iov = { .iov_base = c->rxbuf, .iov_len = VMSG_MAX + 1 };
        struct msghdr mh;
        int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
        int fds[VMSG_MAX_FDS + 1];
        size_t n_fds = 0;
        vigild_reply *rep;
        ssize_t n;
        int r;

        for (bool reset = false;;) {
                mh = (struct msghdr){ .msg_iov = &iov,
                                      .msg_iovlen = 1,
                                      .msg_control = ctl.buf,
                                      .msg_controllen = sizeof ctl.buf };
                n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
                if (n >= 0)
                        break;
                if (errno == EINTR)
                        continue;
                /* vigild refused and closed while our request was unread: the
                 * kernel reports the reset before the refusal still queued. */
                if (errno == ECONNRESET && !reset) {
                        reset = true;
                        continue;
                }
                if (errno != EAGAIN)
                        return negative_errno();
                r = wait_fd(c->fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                size_t k;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                        if (n_fds < ELEMENTSOF(fds))
                                fds[n_fds++] = fd;
                        else
                                (void)close(fd);
                }
        }
        if (n == 0) {
                close_fds(fds, n_fds);
                return -ECONNRESET;
        }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_fds > VMSG_MAX_FDS) {
                close_fds(fds, n_fds);
                return VIGIL_E_TOO_BIG;
        }

        rep = calloc(1, sizeof *rep);
        if (!rep) {
                close_fds(fds, n_fds);
                return -ENOMEM;
        }
        rep->buf = malloc((size_t)n);
        if (!rep->buf) {
                free(rep);
                close_fds(fds, n_fds);
                return -ENOMEM;
        }
        memcpy(rep->buf, c->rxbuf, (size_t)n);
        rep->len = (size_t)n;
        memcpy(rep->fds, fds, sizeof(int) * n_fds);
        rep->n_fds = n_fds;
        r = vmsg_decode(rep->buf, rep->len, n_fds, &rep->msg, NULL);
        if (r < 0 || !(rep->msg.type & (VT_REPLY | VT_ITEM))) {
                vigild_reply_free(rep);
                return r < 0 ? r : VIGIL_E_PARSE;
        }
        if (vmsg_get(&rep->msg, VF_ERROR) && vmsg_get_str(&rep->msg, VF_ERROR, &rep->error) < 0) {
                vigild_reply_free(rep);
                return -ENOMEM;
        }
        *ret = rep;
        return 0;
}

int vigild_call(vigild_conn *c, vmsg_builder *b, const int *fds, size_t n_fds, int timeout_ms,
                vigild_reply **ret)
{
        int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
        vigild_reply *rep = NULL;
        uint32_t id;
        int r, rs;

        if (!b->buf || b->len < VMSG_HDR_SIZE)
                return -EINVAL;
        id = (uint32_t)b->buf[8] | (uint32_t)b->buf[9] << 8 | (uint32_t)b->buf[10] << 16 |
             (uint32_t)b->buf[11] << 24;
        rs = vigild_send(c, b, fds, n_fds, timeout_ms);
        /* vigild may have refused the connection before reading anything (too
         * many connections) and closed it: its refusal is still queued. */
        if (rs < 0 && rs != -EPIPE && rs != -ECONNRESET)
                return rs;
        r = vigild_recv(c, remaining(deadline), &rep);
        if (r < 0)
                return rs < 0 ? rs : r;
        if (rep->msg.type & VT_ITEM) {
                vigild_reply_free(rep);
                return -EPROTO;
        }
        /* Replies not tied to a request (VT_NONE) come with id 0. */
        if ((rep->msg.type & VT_MASK) != VT_NONE && rep->msg.id != id) {
                vigild_reply_free(rep);
                return -EPROTO;
        }
        *ret = rep;
        return 0;
}

vigild_reply *vigild_reply_free(vigild_reply *r)
{
        if (!r)
                return NULL;
        close_fds(r->fds, r->n_fds);
        free(r->error);
        if (r->buf) {
                explicit_bzero(r->buf, r->len);
                free(r->buf);
        }
        free(r);
        return NULL;
}

uint32_t vigild_reply_status(const vigild_reply *r)
{
        uint32_t s = VS_OK;

        (void)vmsg_get_u32(&r->msg, VF_STATUS, &s);
        return s;
}

const char *vigild_reply_error(const vigild_reply *r)
{
        return r->error ? r->error : "";
}

int vigild_reply_take_fd(vigild_reply *r, size_t i)
{
        int fd;

        if (i >= r->n_fds)
                return -1;
        fd = r->fds[i];
        r->fds[i] = -1;
        return fd;
}

const char *vigild_client_strerror(int r)
{
        switch (r) {
        case -ENOENT:
        case -ECONNREFUSED:
                return "vigild is not running";
        case -ECONNRESET:
        case -EPIPE:
                return "vigild closed the connection";
        case -ETIMEDOUT:
                return "vigild did not answer in time";
        case -EPROTO:
                return "vigild sent an unexpected message";
        case -EACCES:
                return "vigild's socket is not accessible";
        default:
                return vigil_strerror(r);
        }
}
