/* vigil_session_run(): set a session up, run its loop, end it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "filter.h"
#include "sup.h"
#include "util.h"
#include "vigil-error.h"
#include "watchdog.h"

/* How long the end of a session may take: killing what is left, reading the
 * last output, writing it out. */
#define END_GRACE_NS (5ull * 1000000000ull)
/* After SIGTERM or SIGHUP, how long the command has to end by itself. */
#define TERM_GRACE_NS (2ull * 1000000000ull)
/* Without a pids controller: how often the supervisor counts the session's tasks. */
#define COUNT_INTERVAL_MS 100

static const int handled_signals[] = {SIGCHLD, SIGWINCH, SIGINT,  SIGQUIT, SIGTERM,
                                      SIGHUP,  SIGTSTP,  SIGCONT, SIGTTIN, SIGTTOU};

void session_fail(session *s, int r, const char *fmt, ...)
{
        char what[256];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (!s->error && asprintf(&s->error, "%s: %s", what, vigil_strerror(r)) < 0)
                s->error = NULL;
        if (s->relay_started)
                relay_message(s, "vigil: %s: %s; ending the session", what, vigil_strerror(r));
        session_end(s, what);
}

static void arm_timer(session *s, unsigned ms)
{
        struct itimerspec its = {
                .it_interval = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L},
                .it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L},
        };

        (void)timerfd_settime(s->timerfd, 0, &its, NULL);
}

void session_end(session *s, const char *why)
{
        if (s->ending)
                return;
        s->ending = true;
        /* for the record: vigil ended it, the command did not just exit */
        if (why && !s->child_exited)
                s->killed_by_vigil = true;
        s->end_deadline_ns = now_monotonic_ns() + END_GRACE_NS;
        /* all of it, at once: nothing left behind (nohup, setsid, double
         * forks, stopped jobs), and nothing that can fork its way out */
        (void)session_cgroup_kill(&s->cg);
        arm_timer(s, 10);
}

/* UUIDv7: 48 bits of milliseconds, then random bits. */
static int make_id(char buf[static 40])
{
        uint8_t b[16];
        uint64_t ms = now_realtime_us() / 1000u;

        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return -EIO;
        for (int i = 0; i < 6; i++)
                b[i] = (uint8_t)(ms >> (40 - 8 * i));
        b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
        b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
        (void)snprintf(buf, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                       b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                       b[14], b[15]);
        return 0;
}

static void forward_signal(session *s, int sig)
{
        if (s->child > 0 && !s->child_exited)
                (void)kill(-s->child, sig);
}

static void stop_self(session *s)
{
        relay_restore(s);
        if (s->io.mode == VIGIL_IO_PIPES)
                forward_signal(s, SIGTSTP);
        (void)kill(getpid(), SIGSTOP);
        /* continued */
        if (s->io.mode == VIGIL_IO_PIPES)
                forward_signal(s, SIGCONT);
        relay_after_stop(s);
}

static void signal_readable(session *s, watch *w, uint32_t events)
{
        struct signalfd_siginfo sis[16];
        bool chld = false;
        ssize_t n;

        (void)w;
        (void)events;
        /* several at once: a short read means there are no more */
        do {
                n = read(s->sigfd, sis, sizeof(sis));
                for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(sis[0]); i++) {
                        const struct signalfd_siginfo si = sis[i];

                        switch (si.ssi_signo) {
                        case SIGCHLD:
                                chld = true;
                                break;
                        case SIGWINCH:
                                relay_winch(s);
                                break;
                        case SIGINT:
                        case SIGQUIT:
                                forward_signal(s, (int)si.ssi_signo);
                                break;
                        case SIGTERM:
                        case SIGHUP:
                                /* the command gets it first (a shell saves its
                                 * history on SIGHUP); one that ignores it (an
                                 * interactive shell ignores SIGTERM) is ended after a grace */
                                forward_signal(s, (int)si.ssi_signo);
                                forward_signal(s, SIGCONT);
                                if (!s->term_deadline_ns) {
                                        s->term_deadline_ns = now_monotonic_ns() + TERM_GRACE_NS;
                                        arm_timer(s, 100);
                                }
                                break;
                        case SIGTSTP:
                                stop_self(s);
                                break;
                        case SIGCONT:
                                relay_after_stop(s);
                                break;
                        default:
                                break;
                        }
                }
        } while (n == (ssize_t)sizeof(sis));
        if (chld)
                tracer_reap(s);
}

static void timer_readable(session *s, watch *w, uint32_t events)
{
        uint64_t ticks;
        int n;

        (void)w;
        (void)events;
        if (read(s->timerfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
                return;
        if (!s->ending && s->term_deadline_ns && now_monotonic_ns() > s->term_deadline_ns)
                session_end(s, "terminated");
        if (s->ending || s->cg.bounded)
                return;
        /* no pids controller on this host: the supervisor counts */
        n = session_cgroup_tasks(&s->cg);
        if (n > (int)(s->cfg->pids_max ? s->cfg->pids_max : VIGIL_SESSION_PIDS_MAX)) {
                relay_message(s, "vigil: the session has more than %u processes; ending it",
                              s->cfg->pids_max ? s->cfg->pids_max : VIGIL_SESSION_PIDS_MAX);
                session_end(s, "pids");
        }
}

static void watchdog_died(session *s, watch *w, uint32_t events)
{
        (void)events;
        loop_del(s, w);
        session_fail(s, -ECHILD, "the watchdog died");
}

/* Receive the child's report: the listener fd, or what failed. */
static int recv_report(session *s, int sock, int *ret_fd)
{
        child_report rep = {0};
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        struct cmsghdr *c;
        ssize_t n;

        do
                n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n != (ssize_t)sizeof(rep)) {
                session_fail(s, -EPIPE, "session process");
                return -EPIPE;
        }
        rep.what[sizeof(rep.what) - 1] = '\0';
        if (rep.error < 0) {
                session_fail(s, rep.error, "session process: %s", rep.what);
                return rep.error;
        }
        c = CMSG_FIRSTHDR(&m);
        if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
                session_fail(s, -EPROTO, "session process: no listener");
                return -EPROTO;
        }
        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        return 0;
}

static int notif_buffers(session *s)
{
        struct seccomp_notif_sizes sz;

        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
                return negative_errno();
        s->req_size = sz.seccomp_notif > sizeof(*s->req) ? sz.seccomp_notif : sizeof(*s->req);
        s->resp_size = sz.seccomp_notif_resp > sizeof(*s->resp) ? sz.seccomp_notif_resp : sizeof(*s->resp);
        s->req = calloc(1, s->req_size);
        s->resp = calloc(1, s->resp_size);
        return s->req && s->resp ? 0 : -ENOMEM;
}

static bool end_done(session *s)
{
        if (!s->ending)
                return false;
        if (now_monotonic_ns() > s->end_deadline_ns)
                return true;
        return s->child_exited && session_cgroup_populated(&s->cg) == 0 && relay_session_eof(s) &&
               s->procs.n == 0;
}

static int status_of(const session *s)
{
        if (s->error)
                return 125;
        if (!s->child_exited)
                return 125;
        if (WIFEXITED(s->child_status))
                return WEXITSTATUS(s->child_status);
        if (WIFSIGNALED(s->child_status))
                return 128 + WTERMSIG(s->child_status);
        return 125;
}

/* Fork the session's first process and hand it its go. */
static int start_child(session *s)
{
        int sv[2], listener = -1, r;
        pid_t self = getpid();
        bool placed;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        /* single-threaded still: the recording's thread starts after this */
        s->child = session_cgroup_fork(&s->cg, &placed);
        if (s->child < 0) {
                r = s->child;
                (void)close(sv[0]);
                (void)close(sv[1]);
                s->child = 0;
                return r;
        }
        if (s->child == 0) {
                (void)close(sv[0]);
                child_run(s, sv[1], self);
        }
        (void)close(sv[1]);
        r = recv_report(s, sv[0], &listener);
        if (r < 0)
                goto out;
        s->listener = listener;
        /* No SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: it wakes the answered
         * process on the supervisor's CPU, where the supervisor goes on
         * working (the cwd, polling for the exec stop) while the other CPU
         * idles. The supervisor polls when an exec is due instead (loop.c).
         * Measured without it: 1.25x against 1.34x bare on the exec loop
         * (bench/supervisor/exec-overhead.sh, interleaved runs). */
        r = session_cgroup_attach(&s->cg, s->child, placed);
        if (r < 0) {
                /* -ESRCH: attached, but /proc/PID/cgroup does not show it there */
                session_fail(s, r, r == -ESRCH ? "cgroup: the session's first process is not in its cgroups"
                                               : "cgroup: attach");
                goto out;
        }
        r = loop_add(s, &s->notify_w, s->listener, notify_readable, EPOLLIN);
        if (r >= 0)
                r = relay_start(s);
        if (r < 0) {
                session_fail(s, r, "event loop");
                goto out;
        }
        s->relay_started = true;
        if (write(sv[0], "g", 1) != 1) {
                r = negative_errno();
                session_fail(s, r, "session process");
        }
out:
        (void)close(sv[0]);
        return r;
}

static int session_setup(session *s)
{
        const vigil_session_config *c = s->cfg;
        struct rlimit rl;
        sigset_t mask;
        int r;

        if (!c->user || !c->policy || !c->argv || !c->argv[0] || !*c->argv[0] ||
            (c->identity && (!c->identity->subject || (c->identity->n_groups && !c->identity->groups)))) {
                s->error = strdup("bad session configuration");
                return -EINVAL;
        }
        r = account_lookup(c->user, &s->acct);
        if (r < 0) {
                if (asprintf(&s->error, "unknown user '%s'%s%s", c->user, r == -ESRCH ? "" : ": ",
                             r == -ESRCH ? "" : vigil_strerror(r)) < 0)
                        s->error = NULL;
                return r == -ESRCH ? -ENOENT : r;
        }
        s->penv.policy = c->policy;
        s->penv.policy_cwd = vigil_policy_uses_cwd(c->policy);
        s->penv.user = s->acct.name;
        /* group= means the identity's groups: the token's when there is one */
        if (c->identity) {
                s->penv.groups = c->identity->groups;
                s->penv.n_groups = c->identity->n_groups;
        } else {
                s->penv.groups = (const char *const *)s->acct.group_names;
                s->penv.n_groups = s->acct.n_group_names;
        }
        s->penv.names = &s->names;
        s->penv.binfmt_misc = access("/proc/sys/fs/binfmt_misc/register", F_OK) == 0;
        if (c->session_id)
                (void)snprintf(s->id, sizeof(s->id), "%s", c->session_id);
        else if ((r = make_id(s->id)) < 0) {
                session_fail(s, r, "session id");
                return r;
        }
        r = filter_build(&s->prog);
        if (r < 0) {
                session_fail(s, r, "seccomp filter");
                return r;
        }
        r = notif_buffers(s);
        if (r < 0) {
                session_fail(s, r, "seccomp");
                return r;
        }
        r = session_cgroup_create(s->id, c->pids_max ? c->pids_max : VIGIL_SESSION_PIDS_MAX, &s->cg);
        if (r == -ENOTSUP) {
                s->error = strdup("cgroup: this host has neither cgroup v2 nor a v1 freezer; a session "
                                  "could not be ended for sure");
                return r;
        }
        if (r < 0) {
                session_fail(s, r, "cgroup: create");
                return r;
        }
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epfd < 0) {
                r = negative_errno();
                session_fail(s, r, "epoll");
                return r;
        }
        (void)cpufree_open(s);
        r = relay_setup(s);
        if (r < 0) {
                session_fail(s, r, "terminal");
                return r;
        }
        r = masking_setup(s);
        if (r < 0)
                return r;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaddset(&mask, handled_signals[i]);
        s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->sigfd < 0 || s->timerfd < 0) {
                r = negative_errno();
                session_fail(s, r, "signals");
                return r;
        }
        r = loop_add(s, &s->sig_w, s->sigfd, signal_readable, EPOLLIN);
        if (r >= 0)
                r = loop_add(s, &s->timer_w, s->timerfd, timer_readable, EPOLLIN);
        if (r < 0) {
                session_fail(s, r, "event loop");
                return r;
        }
        r = deadline_start(s);
        if (r == -ETIME) {
                s->error = strdup("the session's deadline (the sign-in's expiry) has passed");
                return r;
        }
        if (r < 0) {
                session_fail(s, r, "deadline");
                return r;
        }
        r = control_start(s);
        if (r < 0) {
                session_fail(s, r, "control socket '%s'", c->control_socket);
                return r;
        }
        r = holds_setup(s);
        if (r < 0) {
                session_fail(s, r, "approvals");
                return r;
        }
        /* orphans of the session come to the supervisor, which reaps them */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                r = negative_errno();
                session_fail(s, r, "subreaper");
                return r;
        }
        r = watchdog_start(s);
        if (r < 0) {
                session_fail(s, r, "watchdog");
                return r;
        }
        if (s->watchdog_pidfd >= 0)
                (void)loop_add(s, &s->watchdog_w, s->watchdog_pidfd, watchdog_died, EPOLLIN);
        /* approval_hook's runner: forked while this process is single-threaded
         * and has no store open; without it, holding still works */
        r = hooks_start(s);
        if (r < 0)
                supervisor_log(s, LOG_WARNING, "approval hooks: cannot start their runner: %s; no hook runs",
                               vigil_strerror(r));
        /* after the watchdog's fork and before the session's: only this
         * process ever has the store open */
        r = record_open(s);
        if (r < 0)
                return r;
        r = start_child(s);
        if (r < 0)
                return r;
        /* the last fork is behind: the recording's thread may start */
        record_start(s);
        /* a pidfd per running command */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                s->nofile_saved = rl;
                s->nofile_raised = true;
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (!s->cg.bounded)
                arm_timer(s, COUNT_INTERVAL_MS);
        return 0;
}

static void session_teardown(session *s)
{
        /* requests still held are withdrawn (their processes are gone or
         * about to be), into the record before it ends */
        holds_end_all(s);
        /* the runner runs what it was given, then ends by itself */
        hooks_stop(s);
        relay_done(s);
        tracer_detach_all(s);
        procs_finish_all(s);
        /* the last events are in: the end and the seal */
        record_close(s);
        masking_done(s);
        if (s->child > 0 && !s->child_exited) {
                (void)kill(s->child, SIGKILL);
                (void)waitpid(s->child, NULL, 0);
        }
        /* reap what is left (orphans) */
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
                ;
        watchdog_stop(s);
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
                ;
        control_stop(s);
        deadline_stop(s);
        holds_done(s);
        (void)session_cgroup_kill(&s->cg);
        session_cgroup_destroy(&s->cg);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 0);
        if (s->nofile_raised)
                (void)setrlimit(RLIMIT_NOFILE, &s->nofile_saved);
        if (s->listener >= 0)
                (void)close(s->listener);
        if (s->sigfd >= 0)
                (void)close(s->sigfd);
        if (s->timerfd >= 0)
                (void)close(s->timerfd);
        if (s->epfd >= 0)
                (void)close(s->epfd);
        if (s->loadavg_fd >= 0)
                (void)close(s->loadavg_fd);
        pidmap_done(&s->tasks);
        pidmap_done(&s->procs);
        free(s->prog.filter);
        free(s->req);
        free(s->resp);
        uid_names_done(&s->names);
        exec_cache_done(&s->exec_cache);
        account_done(&s->acct);
}

int vigil_session_run(const vigil_session_config *cfg, int *ret_status, char **ret_error)
{
        session s = {
                .cfg = cfg,
                .epfd = -1,
                .loadavg_fd = -1,
                .sigfd = -1,
                .listener = -1,
                .timerfd = -1,
                .watchdog_fd = -1,
                .watchdog_pidfd = -1,
                .control_fd = -1,
                .deadline_fd = -1,
                .appr.timerfd = -1,
                .appr.hook_fd = -1,
        };
        struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
        sigset_t mask, old_mask;
        int r;

        for (unsigned i = 0; i < CONTROL_MAX_CONNS; i++)
                s.conns[i].fd = -1;
        s.io.tty_fd = s.io.leader = s.io.in_fd = -1;
        s.io.out[0].fd = s.io.out[1].fd = s.io.to_child.fd = -1;
        s.io.from_child[0] = s.io.from_child[1] = -1;
        for (int i = 0; i < 3; i++)
                s.io.child_end[i] = -1;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaddset(&mask, handled_signals[i]);
        (void)sigprocmask(SIG_BLOCK, &mask, &old_mask);
        (void)sigaction(SIGPIPE, &ign, &old_pipe);

        r = session_setup(&s);
        if (r < 0 && !s.relay_started) {
                /* nothing of the command ran */
                if (ret_error) {
                        *ret_error = s.error;
                        s.error = NULL;
                }
                free(s.error);
                session_teardown(&s);
                (void)sigaction(SIGPIPE, &old_pipe, NULL);
                (void)sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return r;
        }

        while (!end_done(&s)) {
                r = loop_once(&s, relay_pump(&s) ? 0 : -1);
                if (r < 0) {
                        session_fail(&s, r, "event loop");
                        break;
                }
                record_tick(&s);
        }
        /* what the masker still holds, the last output, then the terminal as it was */
        masking_finish(&s);
        relay_finish(&s, now_monotonic_ns() + END_GRACE_NS);
        relay_restore(&s);

        *ret_status = status_of(&s);
        session_teardown(&s);
        free(s.error);
        (void)sigaction(SIGPIPE, &old_pipe, NULL);
        (void)sigprocmask(SIG_SETMASK, &old_mask, NULL);
        return 0;
}
