/* approval_hook (vigil.conf): a program told of every approval request of
 * the session, when it is created and when it is decided, e.g. to post it
 * to a chat channel (packaging/examples/approval-hook-*).
 *
 * The hook must never hold the session up and must never run with the
 * supervisor's rights, so it does not run from the supervisor itself: a
 * small runner process, forked before the session starts (while the
 * supervisor is still single-threaded, and before it opens the store),
 * becomes approval_hook_user for good and runs the hooks. The supervisor
 * hands it each request on a socket (the JSON in a memfd, sent without
 * waiting: a runner that falls behind costs a hook run, logged, never a
 * delay). The runner:
 *   - runs PATH with execve (no shell), as its own process group, with the
 *     JSON on stdin, /dev/null on stdout and stderr, no other fd, and a
 *     fixed small environment (VIGIL_APPROVAL_EVENT=created|decided,
 *     VIGIL_APPROVAL_ID, VIGIL_APPROVAL_STATE, VIGIL_SESSION);
 *   - kills the group after VIGIL_APPROVAL_HOOK_SECONDS, and at most
 *     RUNNING_MAX run at once;
 *   - reports each failure (exec error, exit status, signal, timeout) back
 *     to the supervisor, which logs it; with the supervisor gone, to syslog;
 *   - is a subreaper, so that what a hook leaves behind is reaped by it and
 *     not by the supervisor (which reaps the session's processes);
 *   - finishes what it was given after the session ends, then exits.
 * The supervisor reaps the runner like any child it does not know. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "approval.h"
#include "child.h"
#include "sup.h"
#include "util.h"
#include "vigil-error.h"

#define RUNNING_MAX 8
#define REPORT_MAX 512

typedef struct hook_msg {
        char event[8]; /* "created", "decided" */
        char id[VIGIL_APPROVAL_ID_LEN + 1];
        char state[12];
} hook_msg;

/* ---- the runner (its own process, as approval_hook_user) ---- */

typedef struct run {
        pid_t pid; /* leads its process group */
        int pidfd;
        uint64_t deadline_ns;
        bool killed;
        hook_msg m;
} run;

typedef struct runner {
        const char *path, *session;
        int sock, null_fd;
        bool eof;
        run runs[RUNNING_MAX];
        size_t n;
} runner;

static void report(runner *rn, const char *fmt, ...) _printf_(2, 3);
static void report(runner *rn, const char *fmt, ...)
{
        char line[REPORT_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* to the supervisor's log; once it is gone, to syslog ourselves */
        if (rn->eof || send(rn->sock, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                syslog(LOG_AUTHPRIV | LOG_WARNING, "session %s: %s", rn->session, line);
}

_noreturn_ static void hook_exec(runner *rn, int json_fd, int err_w, const hook_msg *m)
{
        char ev[32], id[48], st[48], sess[64];
        char *const argv[] = {(char *)rn->path, NULL};
        char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=C.UTF-8", ev, id, st, sess,
                              NULL};
        sigset_t none;
        int e;

        (void)snprintf(ev, sizeof(ev), "VIGIL_APPROVAL_EVENT=%s", m->event);
        (void)snprintf(id, sizeof(id), "VIGIL_APPROVAL_ID=%s", m->id);
        (void)snprintf(st, sizeof(st), "VIGIL_APPROVAL_STATE=%s", m->state);
        (void)snprintf(sess, sizeof(sess), "VIGIL_SESSION=%.40s", rn->session);
        /* its own group: the timeout kills what it started too */
        (void)setpgid(0, 0);
        /* stdin the request, stdout and stderr nothing, no other fd but the
         * exec report (close-on-exec) */
        if (dup2(json_fd, 0) < 0 || dup2(rn->null_fd, 1) < 0 || dup2(rn->null_fd, 2) < 0)
                goto fail;
        if (err_w > 3)
                (void)close_range(3, (unsigned)err_w - 1, 0);
        (void)close_range((unsigned)err_w + 1, ~0U, 0);
        (void)signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)execve(rn->path, argv, envp);
fail:
        e = errno;
        (void)!write(err_w, &e, sizeof(e));
        _exit(127);
}

static void start(runner *rn, int json_fd, const hook_msg *m)
{
        run *r = &rn->runs[rn->n];
        int ep[2], e = 0;
        ssize_t got;
        pid_t pid;

        if (pipe2(ep, O_CLOEXEC) < 0) {
                report(rn, "approval hook '%s' for request %s (%s): not run: %s", rn->path, m->id, m->event,
                       strerror(errno));
                return;
        }
        pid = fork();
        if (pid == 0) {
                (void)close(ep[0]);
                hook_exec(rn, json_fd, ep[1], m);
        }
        (void)close(ep[1]);
        if (pid < 0) {
                report(rn, "approval hook '%s' for request %s (%s): not run: %s", rn->path, m->id, m->event,
                       strerror(errno));
                (void)close(ep[0]);
                return;
        }
        /* the child's exec closes the pipe; a failed exec writes its errno */
        do
                got = read(ep[0], &e, sizeof(e));
        while (got < 0 && errno == EINTR);
        (void)close(ep[0]);
        *r = (run){.pid = pid, .pidfd = pidfd_open_(pid, 0), .m = *m,
                   .deadline_ns = now_monotonic_ns() + VIGIL_APPROVAL_HOOK_SECONDS * 1000000000ull};
        if (got == (ssize_t)sizeof(e))
                report(rn, "approval hook '%s' for request %s (%s): cannot run it: %s", rn->path, m->id, m->event,
                       strerror(e));
        if (got == (ssize_t)sizeof(e) || r->pidfd < 0) {
                /* nothing to watch: wait for it here (it exits at once) */
                if (r->pidfd < 0)
                        (void)kill(-pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                if (r->pidfd >= 0)
                        (void)close(r->pidfd);
                return;
        }
        rn->n++;
}

static void receive(runner *rn)
{
        hook_msg m;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        struct cmsghdr *c;
        int fd = -1;
        ssize_t n;

        n = recvmsg(rn->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        rn->eof = true;
                return;
        }
        if (n == 0) {
                rn->eof = true;
                return;
        }
        c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(&fd, CMSG_DATA(c), sizeof(int));
        if (n != (ssize_t)sizeof(m) || fd < 0) {
                if (fd >= 0)
                        (void)close(fd);
                return;
        }
        m.event[sizeof(m.event) - 1] = m.id[sizeof(m.id) - 1] = m.state[sizeof(m.state) - 1] = '\0';
        start(rn, fd, &m);
        (void)close(fd);
}

/* A run ended (or is killed at its deadline): say how, if not well. */
static bool finished(runner *rn, run *r)
{
        char sig[16];
        int st;

        if (waitpid(r->pid, &st, WNOHANG) != r->pid)
                return false;
        /* what it left in its group ends with it */
        (void)kill(-r->pid, SIGKILL);
        if (r->killed)
                report(rn, "approval hook '%s' for request %s (%s): killed after %d s", rn->path, r->m.id, r->m.event,
                       VIGIL_APPROVAL_HOOK_SECONDS);
        else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
                report(rn, "approval hook '%s' for request %s (%s): exit status %d", rn->path, r->m.id, r->m.event,
                       WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
                report(rn, "approval hook '%s' for request %s (%s): killed by %s", rn->path, r->m.id, r->m.event,
                       signal_name(WTERMSIG(st), sig));
        (void)close(r->pidfd);
        return true;
}

/* Orphans of hooks come to the runner (a subreaper): reap them. */
static void reap_orphans(runner *rn)
{
        for (;;) {
                siginfo_t si = {0};
                bool ours = false;

                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                for (size_t i = 0; i < rn->n; i++)
                        ours = ours || rn->runs[i].pid == si.si_pid;
                if (ours)
                        return; /* its pidfd tells */
                (void)waitpid(si.si_pid, NULL, WNOHANG);
        }
}

_noreturn_ static void runner_main(runner *rn, const account *acct)
{
        sigset_t none;
        int r;

        (void)prctl(PR_SET_NAME, "vigil-hooks");
        /* out of the terminal's session: Ctrl-C and hang-ups are for the user's processes */
        (void)setsid();
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        (void)signal(SIGPIPE, SIG_IGN);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        r = child_drop_privileges(acct);
        if (r < 0) {
                report(rn, "approval hooks: cannot become '%s': %s; no hook runs", acct->name, vigil_strerror(r));
                _exit(1);
        }
        /* the supervisor's memory stays out of reach of the account's other processes */
        (void)prctl(PR_SET_DUMPABLE, 0);
        for (;;) {
                struct pollfd p[RUNNING_MAX + 1];
                uint64_t now = now_monotonic_ns(), next = 0;
                size_t np = 0;
                int timeout;

                reap_orphans(rn);
                if (rn->eof && rn->n == 0)
                        _exit(0);
                /* backpressure: what waits stays in the socket */
                if (!rn->eof && rn->n < RUNNING_MAX)
                        p[np++] = (struct pollfd){.fd = rn->sock, .events = POLLIN};
                for (size_t i = 0; i < rn->n; i++) {
                        run *x = &rn->runs[i];

                        p[np++] = (struct pollfd){.fd = x->pidfd, .events = POLLIN};
                        if (!x->killed && (!next || x->deadline_ns < next))
                                next = x->deadline_ns;
                }
                timeout = !next ? 1000 : next <= now ? 0 : (int)((next - now) / 1000000u) + 1;
                if (poll(p, np, timeout) < 0 && errno != EINTR)
                        _exit(1);
                if (np > 0 && p[0].fd == rn->sock && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        receive(rn);
                now = now_monotonic_ns();
                for (size_t i = 0; i < rn->n;) {
                        run *x = &rn->runs[i];

                        if (!x->killed && now >= x->deadline_ns) {
                                (void)kill(-x->pid, SIGKILL);
                                x->killed = true;
                        }
                        if (!finished(rn, x)) {
                                i++;
                                continue;
                        }
                        rn->runs[i] = rn->runs[--rn->n];
                }
        }
}

/* ---- the supervisor's side ---- */

static void hooks_readable(session *s, watch *w, uint32_t events)
{
        approvals *ap = &s->appr;
        char line[REPORT_MAX + 1];
        ssize_t n;

        (void)w;
        (void)events;
        for (;;) {
                n = recv(ap->hook_fd, line, sizeof(line) - 1, MSG_DONTWAIT);
                if (n > 0) {
                        line[n] = '\0';
                        supervisor_log(s, LOG_WARNING, "%s, ignoring", line);
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                break;
        }
        /* the runner is gone: no more hooks this session */
        supervisor_log(s, LOG_WARNING, "approval hooks: the runner ended; no more hooks run for this session");
        hooks_stop(s);
}

int hooks_start(session *s)
{
        const vigil_session_config *c = s->cfg;
        approvals *ap = &s->appr;
        const char *user = c->approval_hook_user ? c->approval_hook_user : "nobody";
        account acct = {0};
        runner rn = {0};
        int sv[2], r;
        pid_t pid;

        ap->hook_fd = -1;
        if (!c->approval_hook)
                return 0;
        if (c->approval_hook[0] != '/') {
                supervisor_log(s, LOG_ERR, "approval hook '%s' is not an absolute path; no hook runs",
                               c->approval_hook);
                return 0;
        }
        r = account_lookup(user, &acct);
        if (r < 0 || acct.uid == 0) {
                supervisor_log(s, LOG_ERR, "approval hook user '%s' %s; no hook runs", user,
                               r < 0 ? "is unknown" : "must not be root");
                account_done(&acct);
                return 0;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = negative_errno();
                account_done(&acct);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                (void)close(sv[0]);
                (void)close(sv[1]);
                account_done(&acct);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                /* nothing of the supervisor's: not its terminal, not its fds */
                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(1);
                rn.sock = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
                rn.null_fd = fcntl(null, F_DUPFD_CLOEXEC, rn.sock + 1);
                if (rn.sock < 0 || rn.null_fd < 0)
                        _exit(1);
                (void)close_range(3, (unsigned)rn.sock - 1, 0);
                (void)close_range((unsigned)rn.sock + 1, (unsigned)rn.null_fd - 1, 0);
                (void)close_range((unsigned)rn.null_fd + 1, ~0U, 0);
                rn.path = c->approval_hook;
                rn.session = s->id;
                runner_main(&rn, &acct);
        }
        (void)close(sv[1]);
        account_done(&acct);
        ap->hook_fd = sv[0];
        ap->hook_pid = pid;
        r = loop_add(s, &ap->hook_w, ap->hook_fd, hooks_readable, EPOLLIN);
        if (r < 0) {
                hooks_stop(s);
                return r;
        }
        return 0;
}

static void hook_send(session *s, const vigil_approval *a, const char *event)
{
        approvals *ap = &s->appr;
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int mfd = -1;
        hook_msg m = {0};
        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        struct cmsghdr *c;
        size_t len, off = 0;
        int r;

        if (ap->hook_fd < 0)
                return;
        r = vigil_approval_to_json(a, false, &json);
        if (r >= 0) {
                mfd = memfd_create("vigil-approval", MFD_CLOEXEC);
                r = mfd < 0 ? negative_errno() : 0;
        }
        len = json ? strlen(json) : 0;
        if (r >= 0)
                json[len++] = '\n'; /* in place of the NUL: a line, as tools expect */
        while (r >= 0 && off < len) {
                ssize_t n = write(mfd, json + off, len - off);

                if (n < 0 && errno == EINTR)
                        continue;
                r = n < 0 ? negative_errno() : 0;
                off += n > 0 ? (size_t)n : 0;
        }
        if (r >= 0 && lseek(mfd, 0, SEEK_SET) < 0)
                r = negative_errno();
        if (r >= 0) {
                (void)snprintf(m.event, sizeof(m.event), "%s", event);
                memcpy(m.id, a->id, sizeof(m.id));
                (void)snprintf(m.state, sizeof(m.state), "%s", vigil_approval_state_name(a->state));
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &mfd, sizeof(int));
                /* never wait: a runner that falls behind misses this one */
                if (sendmsg(ap->hook_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        r = negative_errno();
        }
        if (r < 0)
                supervisor_log(s, LOG_WARNING, "approval hook for request %s (%s) not run: %s, ignoring", a->id,
                               event, r == -EAGAIN ? "too many runs waiting" : vigil_strerror(r));
}

void hooks_request(session *s, const vigil_approval *a)
{
        hook_send(s, a, "created");
}

void hooks_decided(session *s, const vigil_approval *a)
{
        hook_send(s, a, "decided");
}

void hooks_stop(session *s)
{
        approvals *ap = &s->appr;

        loop_del(s, &ap->hook_w);
        if (ap->hook_fd >= 0)
                (void)close(ap->hook_fd);
        ap->hook_fd = -1;
}
