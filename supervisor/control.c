/* What a session adds to the loop: the control socket through which root
 * ends the session (vigild's session.kill and pam.close, root's vigil kill),
 * and the deadline at which it ends by itself (session_max = token). The
 * socket is the supervisor's own, not a connection to vigild, so that a
 * vigild restarted since the session began can still end it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

/* The warning comes this long before the deadline. */
#define DEADLINE_WARN_S 60

static void conn_close(session *s, control_conn *c)
{
        loop_del(s, &c->w);
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = -1;
}

static control_conn *conn_of(session *s, watch *w)
{
        for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
                if (&s->conns[i].w == w)
                        return &s->conns[i];
        return NULL;
}

static void make_one_line(char *p)
{
        for (; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
}

/* An order (supervisor.h): "end", "end\n<reason>" or "kill\n<by>\n<reason>".
 * @ret_by and @ret_reason point into @buf (NULL when absent). */
static bool parse_order(char *buf, size_t n, char **ret_by, char **ret_reason)
{
        char *nl;

        *ret_by = *ret_reason = NULL;
        if (memchr(buf, '\0', n))
                return false;
        if (memcmp(buf, "end", 3) == 0 && (n == 3 || buf[3] == '\n')) {
                if (n > 4)
                        *ret_reason = buf + 4;
                return true;
        }
        if (n < 6 || memcmp(buf, "kill\n", 5) != 0)
                return false;
        nl = strchr(buf + 5, '\n');
        if (!nl || nl == buf + 5)
                return false;
        *nl = '\0';
        *ret_by = buf + 5;
        if (nl[1])
                *ret_reason = nl + 1;
        return true;
}

/* One order, one answer. What is shown is one line: control bytes become
 * '?' so that it cannot move the cursor or fake another line. */
static void conn_readable(session *s, watch *w, uint32_t events)
{
        control_conn *c = conn_of(s, w);
        char buf[VIGIL_SESSION_CONTROL_MAX + 1], *by, *reason;
        ssize_t n;

        (void)events;
        if (!c)
                return;
        n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n > 0 && (size_t)n <= VIGIL_SESSION_CONTROL_MAX)
                buf[n] = '\0';
        if (n <= 0 || (size_t)n > VIGIL_SESSION_CONTROL_MAX || !parse_order(buf, (size_t)n, &by, &reason)) {
                if (n > 0)
                        (void)send(c->fd, "error", 5, MSG_DONTWAIT | MSG_NOSIGNAL);
                conn_close(s, c);
                return;
        }
        if (reason)
                make_one_line(reason);
        if (by) {
                /* vigil kill: the user learns why and who; the log keeps it too */
                make_one_line(by);
                if (reason)
                        relay_message(s, "vigil: this session was ended: %s (by %s)", reason, by);
                else
                        relay_message(s, "vigil: this session was ended (by %s)", by);
                supervisor_log(s, LOG_NOTICE, "ended by %s%s%s", by, reason ? ": " : "", reason ? reason : "");
        } else if (reason)
                relay_message(s, "vigil: this session was ended: %s", reason);
        (void)send(c->fd, "ok", 2, MSG_DONTWAIT | MSG_NOSIGNAL);
        conn_close(s, c);
        session_end(s, "ended through the control socket");
}

static void control_readable(session *s, watch *w, uint32_t events)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        control_conn *slot = NULL;
        int fd;

        (void)w;
        (void)events;
        fd = accept4(s->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        /* The directory keeps others out; this keeps out anyone but root
         * should the directory be wrong. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                (void)close(fd);
                return;
        }
        for (unsigned i = 0; i < CONTROL_MAX_CONNS && !slot; i++)
                if (s->conns[i].fd < 0)
                        slot = &s->conns[i];
        if (!slot || loop_add(s, &slot->w, fd, conn_readable, EPOLLIN) < 0) {
                (void)close(fd);
                return;
        }
        slot->fd = fd;
}

int control_start(session *s)
{
        const char *path = s->cfg->control_socket;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        mode_t old;
        int r;

        for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
                s->conns[i].fd = -1;
        if (!path)
                return 0;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        s->control_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->control_fd < 0)
                return negative_errno();
        old = umask(0177);
        r = RET_NERRNO(bind(s->control_fd, (struct sockaddr *)&sa, sizeof(sa)));
        (void)umask(old);
        if (r < 0)
                return r;
        s->control_bound = true;
        r = RET_NERRNO(listen(s->control_fd, (int)CONTROL_MAX_CONNS));
        if (r >= 0)
                r = loop_add(s, &s->control_w, s->control_fd, control_readable, EPOLLIN);
        return r;
}

void control_stop(session *s)
{
        for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
                if (s->conns[i].fd >= 0)
                        conn_close(s, &s->conns[i]);
        loop_del(s, &s->control_w);
        if (s->control_fd >= 0)
                (void)close(s->control_fd);
        s->control_fd = -1;
        if (s->control_bound)
                (void)unlink(s->cfg->control_socket);
        s->control_bound = false;
}

static int deadline_arm(session *s, int64_t at)
{
        struct itimerspec its = { .it_value = { .tv_sec = (time_t)at } };

        return RET_NERRNO(timerfd_settime(s->deadline_fd, TFD_TIMER_ABSTIME, &its, NULL));
}

static void deadline_fired(session *s, watch *w, uint32_t events)
{
        int64_t deadline = s->cfg->deadline, now = (int64_t)time(NULL);
        uint64_t ticks;

        (void)w;
        (void)events;
        if (read(s->deadline_fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
                return;
        if (now < deadline && !s->deadline_warned) {
                struct tm tm;
                char at[16] = "?";
                time_t t = (time_t)deadline;

                s->deadline_warned = true;
                if (gmtime_r(&t, &tm))
                        (void)strftime(at, sizeof(at), "%H:%M:%S", &tm);
                relay_message(s, "vigil: your sign-in expires at %s UTC: this session ends in %lld seconds",
                              at, (long long)(deadline - now));
                if (deadline_arm(s, deadline) >= 0)
                        return;
        } else if (now < deadline) {
                (void)deadline_arm(s, deadline); /* the clock was set back */
                return;
        }
        relay_message(s, "vigil: your sign-in has expired; ending the session");
        session_end(s, "deadline");
}

int deadline_start(session *s)
{
        int64_t deadline = s->cfg->deadline, now = (int64_t)time(NULL);
        int r;

        if (deadline == 0)
                return 0;
        if (deadline <= now)
                return -ETIME;
        s->deadline_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->deadline_fd < 0)
                return negative_errno();
        /* warn at once if less than the warning time is left */
        r = deadline_arm(s, deadline - DEADLINE_WARN_S > now ? deadline - DEADLINE_WARN_S : now);
        if (r >= 0)
                r = loop_add(s, &s->deadline_w, s->deadline_fd, deadline_fired, EPOLLIN);
        return r;
}

void deadline_stop(session *s)
{
        loop_del(s, &s->deadline_w);
        if (s->deadline_fd >= 0)
                (void)close(s->deadline_fd);
        s->deadline_fd = -1;
}
