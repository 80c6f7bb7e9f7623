#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"
#include "vigil-error.h"

int read_small_file(const char *path, char *buf, size_t size, ssize_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t n;

                if (len + 1 >= size)
                        return VIGIL_E_TOO_BIG;
                n = read(fd, buf + len, size - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                /* /proc and /sys fill a read as far as the buffer allows:
                 * a short one was the end (saves a read per exec) */
                if (len + 1 < size)
                        break;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = (ssize_t)len;
        return 0;
}

int write_knob(const char *path, const char *s)
{
        _cleanup_close_ int fd = -1;
        size_t len = strlen(s);
        ssize_t n;

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = write(fd, s, len);
        if (n < 0)
                return negative_errno();
        return (size_t)n == len ? 0 : -EIO;
}

uint64_t now_realtime_us(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_monotonic_ns(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int fd_reopen_nonblock(int fd, int mode, int *ret_fd, bool *ret_owned, bool *ret_sock)
{
        struct stat st;
        char path[64];
        int nfd;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
                *ret_fd = fd;
                *ret_owned = false;
                *ret_sock = S_ISSOCK(st.st_mode);
                return 0;
        }
        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        nfd = open(path, mode | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (nfd < 0)
                return negative_errno();
        *ret_fd = nfd;
        *ret_owned = true;
        *ret_sock = false;
        return 0;
}

ssize_t fd_read(int fd, bool sock, void *buf, size_t len)
{
        ssize_t n = sock ? recv(fd, buf, len, MSG_DONTWAIT) : read(fd, buf, len);

        return n < 0 ? negative_errno() : n;
}

ssize_t fd_write(int fd, bool sock, const void *buf, size_t len)
{
        ssize_t n = sock ? send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd, buf, len);

        return n < 0 ? negative_errno() : n;
}

int pidfd_open_(pid_t pid, unsigned flags)
{
        return RET_NERRNO(syscall(SYS_pidfd_open, pid, flags));
}

int pidfd_send_signal_(int pidfd, int sig)
{
        return RET_NERRNO(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

int pidfd_get_info(int pidfd, uint64_t mask, pidfd_info_v0 *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->mask = mask;
        return RET_NERRNO(ioctl(pidfd, _IOWR(0xFF, 11, pidfd_info_v0), ret));
}

const char *signal_name(int sig, char buf[static 16])
{
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev) {
                (void)snprintf(buf, 16, "SIG%s", abbrev);
                return buf;
        }
        (void)snprintf(buf, 16, "SIG%d", sig);
        return buf;
}
