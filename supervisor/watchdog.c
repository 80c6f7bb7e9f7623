/* Fail closed when the supervisor dies. A small root process, forked before
 * the session starts and outside the session's cgroup, waits on a pipe whose
 * only writer is the supervisor. EOF without the "done" byte means the
 * supervisor is gone (SIGKILL, crash): it kills the whole session through
 * the cgroup, puts the user's terminal back in its mode, removes the cgroup
 * and the control socket, and exits. Meanwhile nothing new can run in the session: without a
 * listener every execve fails (ENOSYS), the first process has
 * PR_SET_PDEATHSIG=SIGKILL, and a thread stopped at its exec check dies with
 * its tracer (PTRACE_O_EXITKILL). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"
#include "watchdog.h"

_noreturn_ static void watchdog_main(session *s, int fd, int tty)
{
        struct termios saved;
        bool have_tty = tty >= 0 && tcgetattr(tty, &saved) == 0;
        sigset_t none;
        char c;

        (void)prctl(PR_SET_NAME, "vigil-watchdog");
        /* out of the terminal's process group: Ctrl-C and hangups are for the session */
        (void)setpgid(0, 0);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        (void)signal(SIGINT, SIG_IGN);
        (void)signal(SIGQUIT, SIG_IGN);
        (void)signal(SIGHUP, SIG_IGN);
        (void)signal(SIGTSTP, SIG_IGN);
        (void)signal(SIGTTIN, SIG_IGN);
        (void)signal(SIGTTOU, SIG_IGN);
        (void)signal(SIGPIPE, SIG_IGN);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);

        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ssize_t n;

                if (poll(&p, 1, -1) < 0 && errno == EINTR)
                        continue;
                n = read(fd, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 1 && c == 'd')
                        _exit(0);
                if (n == 1)
                        continue;
                break; /* EOF: the supervisor is gone */
        }
        (void)session_cgroup_kill(&s->cg);
        if (have_tty)
                (void)tcsetattr(tty, TCSADRAIN, &saved);
        for (int i = 0; i < 300 && session_cgroup_populated(&s->cg) > 0; i++) {
                struct timespec ts = {0, 10000000};

                (void)nanosleep(&ts, NULL);
                if (i % 50 == 49)
                        (void)session_cgroup_kill(&s->cg);
        }
        session_cgroup_destroy(&s->cg);
        /* nobody listens on the control socket now: no one is to find it */
        if (s->control_bound)
                (void)unlink(s->cfg->control_socket);
        _exit(0);
}

static void close_except(int a, int b)
{
        int keep[2] = {a < b ? a : b, a < b ? b : a};
        unsigned lo = 3;

        for (int i = 0; i < 2; i++) {
                if (keep[i] < (int)lo)
                        continue;
                if ((unsigned)keep[i] > lo)
                        (void)close_range(lo, (unsigned)keep[i] - 1, 0);
                lo = (unsigned)keep[i] + 1;
        }
        (void)close_range(lo, ~0U, 0);
}

int watchdog_start(session *s)
{
        int p[2], tty = s->io.tty_fd;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                int r = negative_errno();

                (void)close(p[0]);
                (void)close(p[1]);
                return r;
        }
        if (pid == 0) {
                /* nothing of the supervisor's but the pipe and the terminal */
                int null;

                close_except(p[0], tty);
                /* nor the caller's pipes: a pipeline must see EOF when vigil ends */
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                for (int i = 0; i < 3 && null >= 0; i++)
                        if (i != tty && i != p[0] && i != null)
                                (void)dup2(null, i);
                watchdog_main(s, p[0], tty);
        }
        (void)close(p[0]);
        s->watchdog = pid;
        s->watchdog_fd = p[1];
        s->watchdog_pidfd = pidfd_open_(pid, 0);
        return 0;
}

void watchdog_stop(session *s)
{
        if (s->watchdog_fd >= 0) {
                if (write(s->watchdog_fd, "d", 1) != 1) {
                        /* then it sees EOF and kills a session that is over anyway */
                }
                (void)close(s->watchdog_fd);
                s->watchdog_fd = -1;
        }
        loop_del(s, &s->watchdog_w);
        if (s->watchdog_pidfd >= 0) {
                struct pollfd p = {.fd = s->watchdog_pidfd, .events = POLLIN};

                (void)poll(&p, 1, 2000);
                (void)close(s->watchdog_pidfd);
                s->watchdog_pidfd = -1;
        }
        if (s->watchdog > 0)
                (void)waitpid(s->watchdog, NULL, WNOHANG);
        s->watchdog = 0;
}
