/* Children of vigild: reaping them from the loop, and what a child does
 * first. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "daemon.h"
#include "log.h"

typedef struct reaper {
        pid_t pid;
        int pidfd;
        vigild_watch *w;
} reaper;

static void reaped(int fd, uint32_t events, void *userdata)
{
        reaper *x = userdata;

        (void)fd;
        (void)events;
        if (waitpid(x->pid, NULL, WNOHANG) == 0)
                return; /* not yet (a spurious wake-up) */
        vigild_watch_free(x->w);
        (void)close(x->pidfd);
        free(x);
}

int reap_later(vigild_server *s, pid_t pid)
{
        reaper *x = calloc(1, sizeof *x);
        int r;

        if (!x)
                return -ENOMEM;
        x->pid = pid;
        x->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (x->pidfd < 0) {
                r = negative_errno();
                free(x);
                return r;
        }
        r = vigild_watch_fd(s, x->pidfd, EPOLLIN, reaped, x, &x->w);
        if (r < 0) {
                (void)close(x->pidfd);
                free(x);
        }
        return r;
}

void child_hygiene(int *keep, size_t n_keep)
{
        int tmp[8], null;
        sigset_t none;

        /* vigild's log sink may be an fd number that is about to become
         * one of @keep: nothing of the child may log through it */
        log_close();
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);

        if (n_keep > ELEMENTSOF(tmp))
                _exit(125);
        /* copies above the target numbers first, so that no move overwrites
         * an fd still to be moved */
        for (size_t i = 0; i < n_keep; i++) {
                tmp[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, (int)(3 + n_keep));
                if (tmp[i] < 0)
                        _exit(125);
        }
        null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null < 0)
                _exit(125);
        for (int fd = 0; fd < 3; fd++)
                if (dup2(null, fd) < 0)
                        _exit(125);
        for (size_t i = 0; i < n_keep; i++) {
                if (dup3(tmp[i], (int)(3 + i), O_CLOEXEC) < 0)
                        _exit(125);
                keep[i] = (int)(3 + i);
        }
        (void)close_range((unsigned)(3 + n_keep), ~0U, 0);

        /* other logins' references and the last request read: not this
         * process's business, and not to be found in a core dump of it */
        if (backend_server) {
                refs_done(&backend_server->refs);
                if (backend_server->rxbuf)
                        explicit_bzero(backend_server->rxbuf, VMSG_MAX + 1);
        }
}
