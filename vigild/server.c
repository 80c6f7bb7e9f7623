/* The listening socket: from systemd (socket activation) or our own, with a
 * lock file so that two daemons never fight over one path, and a stale
 * socket left by a killed vigild is replaced safely. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "proto.h"
#include "server.h"

/* LISTEN_PID/LISTEN_FDS (sd_listen_fds(3)): one SOCK_SEQPACKET Unix socket at fd 3. */
static int from_activation(int *ret_fd, char *err, size_t errlen)
{
        const char *pid = secure_getenv("LISTEN_PID"), *fds = secure_getenv("LISTEN_FDS");
        int type = 0, domain = 0, acc = 0;
        socklen_t l = sizeof(int);
        char *end;
        long p;

        if (!pid || !fds)
                return 0;
        p = strtol(pid, &end, 10);
        if (*end || p != (long)getpid())
                return 0;
        (void)unsetenv("LISTEN_PID");
        (void)unsetenv("LISTEN_FDS");
        (void)unsetenv("LISTEN_FDNAMES");
        if (strcmp(fds, "1") != 0) {
                snprintf(err, errlen, "socket activation: expected exactly one socket");
                return -EINVAL;
        }
        if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_SEQPACKET ||
            getsockopt(3, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 || domain != AF_UNIX ||
            getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc) {
                snprintf(err, errlen,
                         "socket activation: fd 3 is not a listening SOCK_SEQPACKET Unix socket");
                return -EINVAL;
        }
        if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 || fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK) < 0) {
                snprintf(err, errlen, "socket activation: %s", strerror(errno));
                return negative_errno();
        }
        *ret_fd = 3;
        return 1;
}

/* Only root may be able to put something at the socket's path. */
static int check_dir(const char *path, char *err, size_t errlen)
{
        _cleanup_free_ char *copy = strdup(path);
        const char *dir;
        struct stat st;

        if (!copy)
                return -ENOMEM;
        dir = dirname(copy);
        if (strcmp(path, VIGILD_SOCKET_PATH) == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(errno));
                return negative_errno();
        }
        if (lstat(dir, &st) < 0) {
                snprintf(err, errlen, "'%s': %s", dir, strerror(errno));
                return negative_errno();
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                snprintf(err, errlen,
                         "socket directory '%s' must be a directory owned by root and writable by "
                         "root only",
                         dir);
                return -EPERM;
        }
        return 0;
}

int server_listen(const char *path, server_socket *ret, char *err, size_t errlen)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1, lock_fd = -1;
        _cleanup_free_ char *lock_path = NULL;
        mode_t old;
        struct stat st;
        int r;

        r = from_activation(&fd, err, errlen);
        if (r < 0)
                return r;
        if (r > 0) {
                *ret = (server_socket){ .fd = TAKE_FD(fd), .lock_fd = -1, .owned = false };
                return 0;
        }

        if (strlen(path) >= sizeof sa.sun_path || path[0] != '/') {
                snprintf(err, errlen, "socket path '%s' must be absolute and shorter than %zu bytes", path,
                         sizeof sa.sun_path);
                return -EINVAL;
        }
        r = check_dir(path, err, errlen);
        if (r < 0)
                return r;
        if (asprintf(&lock_path, "%s.lock", path) < 0)
                return -ENOMEM;
        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (lock_fd < 0) {
                snprintf(err, errlen, "'%s': %s", lock_path, strerror(errno));
                return negative_errno();
        }
        if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
                r = negative_errno();
                snprintf(err, errlen,
                         r == -EWOULDBLOCK ? "another vigild is running on '%s'" : "cannot lock '%s'", path);
                return r;
        }
        /* We hold the lock: whatever socket is there belongs to a vigild that is gone. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(err, errlen, "'%s' exists and is not a socket", path);
                        return -EEXIST;
                }
                if (unlink(path) < 0) {
                        snprintf(err, errlen, "cannot remove stale '%s': %s", path, strerror(errno));
                        return negative_errno();
                }
        }
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        memcpy(sa.sun_path, path, strlen(path));
        /* 0666: every request is checked, not the socket's mode. */
        old = umask(0111);
        r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (r < 0 || chmod(path, 0666) < 0) {
                snprintf(err, errlen, "cannot bind '%s': %s", path, strerror(errno));
                return negative_errno();
        }
        if (listen(fd, 512) < 0) {
                snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(errno));
                return negative_errno();
        }
        *ret = (server_socket){ .fd = TAKE_FD(fd), .lock_fd = TAKE_FD(lock_fd), .owned = true };
        return 0;
}
