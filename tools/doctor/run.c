/* Running a helper program (sshd -T) from a process that runs as root:
 * execve of an absolute path with a fixed argv and an empty environment,
 * never a shell, never $PATH. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "vigil-error.h"

typedef struct outbuf {
        char *buf;
        size_t len, cap;
} outbuf;

static int outbuf_read(outbuf *o, int fd)
{
        ssize_t n;

        if (o->cap - o->len < 4096) {
                size_t cap = o->cap ? o->cap * 2 : 8192;
                char *b;

                if (cap > DOCTOR_MAX_OUTPUT + 4096)
                        return VIGIL_E_TOO_BIG;
                b = realloc(o->buf, cap);
                if (!b)
                        return -ENOMEM;
                o->buf = b;
                o->cap = cap;
        }
        n = read(fd, o->buf + o->len, o->cap - o->len - 1);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : negative_errno();
        o->len += (size_t)n;
        o->buf[o->len] = '\0';
        if (o->len > DOCTOR_MAX_OUTPUT)
                return VIGIL_E_TOO_BIG;
        return n == 0 ? 0 : 1;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: wire up fds 0-2, drop everything else, exec. Only
 * async-signal-safe calls here; failures end the child with 127. */
_noreturn_ static void child(char *const argv[], int out, int err)
{
        static char *const envp[] = { NULL };
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                _exit(127);
        (void)close_range(3, ~0U, 0);
        execve(argv[0], argv, envp);
        _exit(127);
}

int doctor_run(char *const argv[], int timeout_ms, char **ret_out, char **ret_err, int *ret_status)
{
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        outbuf o = { 0 }, e = { 0 };
        int64_t deadline;
        int p[2], status = 0, r = 0;
        bool out_open = true, err_open = true;
        pid_t pid;

        if (!argv[0] || argv[0][0] != '/')
                return -EINVAL;
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        out_r = p[0];
        out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        err_r = p[0];
        err_w = p[1];

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child(argv, out_w, err_w);
        closep(&out_w);
        closep(&err_w);
        out_w = err_w = -1;

        deadline = now_ms() + timeout_ms;
        while (r >= 0 && (out_open || err_open)) {
                struct pollfd pfd[2] = { { .fd = out_open ? out_r : -1, .events = POLLIN },
                                         { .fd = err_open ? err_r : -1, .events = POLLIN } };
                int64_t left = deadline - now_ms();

                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (poll(pfd, 2, (int)left) < 0) {
                        if (errno != EINTR)
                                r = negative_errno();
                        continue;
                }
                if (pfd[0].revents) {
                        int k = outbuf_read(&o, out_r);
                        if (k <= 0)
                                out_open = false;
                        if (k < 0)
                                r = k;
                }
                if (pfd[1].revents && r >= 0) {
                        int k = outbuf_read(&e, err_r);
                        if (k <= 0)
                                err_open = false;
                        if (k < 0)
                                r = k;
                }
        }
        /* Whatever happened above, the child does not outlive this call. */
        if (r < 0)
                (void)kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        if (r >= 0)
                                r = negative_errno();
                        break;
                }
        if (r >= 0 && (!o.buf || !e.buf)) {
                /* Nothing was written on one stream: give the caller "". */
                if (!o.buf && !(o.buf = calloc(1, 1)))
                        r = -ENOMEM;
                if (r >= 0 && !e.buf && !(e.buf = calloc(1, 1)))
                        r = -ENOMEM;
        }
        if (r < 0) {
                free(o.buf);
                free(e.buf);
                return r;
        }
        *ret_out = o.buf;
        *ret_err = e.buf;
        *ret_status = status;
        return 0;
}
