/* What each way of watching execs costs, measured without vigil around it:
 * a root parent runs `sh -c LOOP` as an unprivileged user under
 *
 *   bare            nothing
 *   notify          seccomp user notification on execve, answered CONTINUE
 *   notify-sync     the same with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6)
 *   seize           notify, PTRACE_SEIZE at the notification with only
 *                   PTRACE_O_TRACEEXEC, CONTINUE, detach at the exec event
 *                   (vigil's design, without its reads and policy)
 *   seize-sync      the same with the synchronous wake-up
 *   trace-all       notify + ptrace of every fork, clone, exec and exit
 *                   (a classic ptrace supervisor)
 *   seize-poll      seize, polling up to 200 us for the exec stop after the
 *                   answer instead of sleeping (vigil's supervisor/loop.c)
 *   recv-sync       notify with the synchronous wake-up, the watcher blocked
 *                   in SECCOMP_IOCTL_NOTIF_RECV itself (the wake-up goes to
 *                   the notifying CPU only then: through poll it does not)
 *   recv-sync-poll  the same plus seize, the exec stop polled for without a
 *                   bound (a sketch: a failed exec would hang it)
 *
 * Rounds are interleaved; it prints the median time per exec of each mode
 * and its ratio to bare.
 * Usage: bench-mechanisms USER [ROUNDS] [EXECS] */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

enum { BARE, NOTIFY, NOTIFY_SYNC, SEIZE, SEIZE_SYNC, TRACE_ALL, SEIZE_POLL, RECV_SYNC, RECV_SYNC_POLL, N_MODES };
static const char *const names[N_MODES] = {"bare",  "notify",     "notify-sync",
                                           "seize", "seize-sync", "trace-all", "seize-poll", "recv-sync", "recv-sync-poll"};
static int n_execs;

static void send_fd(int s, int fd)
{
        char c = 0, buf[CMSG_SPACE(sizeof(int))] = {0};
        struct iovec iov = {&c, 1};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);

        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(fd));
        if (sendmsg(s, &m, 0) < 0)
                _exit(90);
}

static int recv_fd(int s)
{
        char c, buf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {&c, 1};
        struct msghdr m = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
        int fd;

        if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) <= 0 || !CMSG_FIRSTHDR(&m))
                return -1;
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(fd));
        return fd;
}

static int load_filter(void)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        struct sock_fprog prog;
        off_t size;
        int mfd, fd;

        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
        mfd = memfd_create("f", MFD_CLOEXEC);
        seccomp_export_bpf(ctx, mfd);
        size = lseek(mfd, 0, SEEK_END);
        prog.filter = malloc((size_t)size);
        prog.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
        if (pread(mfd, prog.filter, (size_t)size, 0) != size)
                _exit(91);
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (fd < 0)
                _exit(92);
        return fd;
}

/* CPU the watching process itself spent, per mode (µs) */
static double self_cpu[16];

static double tv_us(struct timeval t)
{
        return (double)t.tv_sec * 1e6 + (double)t.tv_usec;
}

static double run(int mode, const struct passwd *pw, const char *loop)
{
        struct rusage ru0, ru1;
        struct seccomp_notif *req = calloc(1, 4096);
        struct seccomp_notif_resp *resp = calloc(1, 4096);
        struct timespec t0, t1;
        sigset_t ss;
        int sp[2], sfd, nfd = -1, done = 0;
        pid_t child;

        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        getrusage(RUSAGE_SELF, &ru0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        child = fork();
        if (child == 0) {
                char c;

                if (mode != BARE) {
                        int fd = load_filter();

                        send_fd(sp[1], fd);
                        close(fd);
                        if (read(sp[1], &c, 1) != 1)
                                _exit(93);
                }
                if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(94);
                sigprocmask(SIG_UNBLOCK, &ss, NULL);
                execl("/bin/sh", "sh", "-c", loop, (char *)NULL);
                _exit(127);
        }
        if (mode != BARE) {
                nfd = recv_fd(sp[0]);
                if (mode == NOTIFY_SYNC || mode == SEIZE_SYNC)
                        ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1, 0);
                if (mode == TRACE_ALL)
                        ptrace(PTRACE_SEIZE, child, 0,
                               PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
                if (write(sp[0], "g", 1) != 1)
                        return -1;
        }
        if (mode == RECV_SYNC || mode == RECV_SYNC_POLL) {
                /* blocking RECV (the synchronous wake-up is not carried
                 * through poll); for seize, the exec stop is polled for */
                ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1, 0);
                for (int k = 0; k < n_execs + 1; k++) {
                        memset(req, 0, sizeof(*req));
                        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
                                k--;
                                continue;
                        }
                        if (mode == RECV_SYNC_POLL)
                                ptrace(PTRACE_SEIZE, req->pid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
                        memset(resp, 0, sizeof(*resp));
                        resp->id = req->id;
                        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                        ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
                        if (mode == RECV_SYNC_POLL) {
                                int st;
                                pid_t w;

                                while ((w = waitpid((pid_t)req->pid, &st, WNOHANG | __WALL)) == 0)
                                        sched_yield();
                                if (w > 0 && WIFSTOPPED(st))
                                        ptrace(PTRACE_DETACH, w, 0, 0);
                        }
                }
                waitpid(child, NULL, 0);
                done = 1;
        }
        while (!done) {
                struct pollfd p[2] = {{sfd, POLLIN, 0}, {nfd, POLLIN, 0}};

                if (poll(p, nfd >= 0 ? 2 : 1, -1) < 0)
                        continue;
                if (nfd >= 0 && (p[1].revents & POLLIN)) {
                        memset(req, 0, sizeof(*req));
                        if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
                                if (mode == SEIZE || mode == SEIZE_SYNC || mode == SEIZE_POLL)
                                        ptrace(PTRACE_SEIZE, req->pid, 0,
                                               PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
                                memset(resp, 0, sizeof(*resp));
                                resp->id = req->id;
                                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                                ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
                                if (mode == SEIZE_POLL) {
                                        /* vigil's poll for the exec stop (supervisor/loop.c) */
                                        struct timespec a, b;
                                        struct pollfd q = {sfd, POLLIN, 0};

                                        clock_gettime(CLOCK_MONOTONIC, &a);
                                        do {
                                                if (poll(&q, 1, 0) > 0)
                                                        break;
                                                sched_yield();
                                                clock_gettime(CLOCK_MONOTONIC, &b);
                                        } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 200000);
                                        p[0].revents = q.revents;
                                }
                        }
                } else if (nfd >= 0 && (p[1].revents & (POLLHUP | POLLERR))) {
                        close(nfd);
                        nfd = -1;
                }
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        for (;;) {
                                int st;
                                pid_t w = waitpid(-1, &st, WNOHANG | __WALL);

                                if (w <= 0)
                                        break;
                                if (w == child && (WIFEXITED(st) || WIFSIGNALED(st)))
                                        done = 1;
                                if (!WIFSTOPPED(st))
                                        continue;
                                if (mode == TRACE_ALL) {
                                        int ev = st >> 16;

                                        if (ev == PTRACE_EVENT_STOP)
                                                ptrace(PTRACE_CONT, w, 0, 0);
                                        else
                                                ptrace(PTRACE_CONT, w, 0, ev ? 0 : WSTOPSIG(st));
                                } else if ((st >> 16) == PTRACE_EVENT_EXEC)
                                        ptrace(PTRACE_DETACH, w, 0, 0);
                                else
                                        ptrace(PTRACE_DETACH, w, 0, (st >> 16) ? 0 : WSTOPSIG(st));
                        }
                }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        getrusage(RUSAGE_SELF, &ru1);
        self_cpu[mode] +=
                tv_us(ru1.ru_utime) - tv_us(ru0.ru_utime) + tv_us(ru1.ru_stime) - tv_us(ru0.ru_stime);
        if (nfd >= 0)
                close(nfd);
        close(sfd);
        close(sp[0]);
        close(sp[1]);
        free(req);
        free(resp);
        sigprocmask(SIG_UNBLOCK, &ss, NULL);
        return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        int rounds = argc > 2 ? atoi(argv[2]) : 5, execs = argc > 3 ? atoi(argv[3]) : 3000;
        struct passwd *pw = argc > 1 ? getpwnam(argv[1]) : NULL;
        double *t[N_MODES], bare;
        char loop[256];

        if (!pw || rounds < 1 || execs < 1) {
                fprintf(stderr, "usage: bench-mechanisms USER [ROUNDS] [EXECS]\n");
                return 2;
        }
        n_execs = execs;
        snprintf(loop, sizeof(loop), "i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done", execs);
        for (int m = 0; m < N_MODES; m++)
                t[m] = calloc((size_t)rounds, sizeof(double));
        for (int r = 0; r < rounds; r++)
                for (int m = 0; m < N_MODES; m++)
                        t[m][r] = run(m, pw, loop);
        for (int m = 0; m < N_MODES; m++)
                qsort(t[m], (size_t)rounds, sizeof(double), cmp);
        bare = t[BARE][rounds / 2];
        printf("exec mechanisms, %d x /bin/true from a shell loop, %d interleaved rounds (medians)\n", execs,
               rounds);
        for (int m = 0; m < N_MODES; m++) {
                double v = t[m][rounds / 2];

                printf("  %-12s %7.1f us per exec  %5.2fx  %+6.0f us   watcher CPU %5.1f us per exec\n",
                       names[m], v / execs * 1e6, v / bare, (v - bare) / execs * 1e6,
                       self_cpu[m] / rounds / execs);
        }
        return 0;
}
