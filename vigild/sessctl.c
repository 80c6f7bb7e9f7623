/* Ordering running sessions through their control sockets (sessctl.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "proto.h"
#include "sessctl.h"

int sessctl_run_dir(const char *socket_path, char *buf, size_t size)
{
        const char *p = socket_path ? socket_path : VIGILD_SOCKET_PATH;
        const char *slash = strrchr(p, '/');
        size_t n;

        if (p[0] != '/' || !slash)
                return -EINVAL;
        n = slash == p ? 1 : (size_t)(slash - p);
        if (n >= size)
                return -ENAMETOOLONG;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 0;
}

static int dir_check(const char *path, mode_t forbidden)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & forbidden))
                return -EPERM;
        return 0;
}

int sessctl_dir_usable(const char *run_dir)
{
        char path[4096];

        if (snprintf(path, sizeof path, "%s/sessions", run_dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        /* the run directory as vigild makes it: root's, others may enter
         * (vigild's socket is in it) but not write */
        if (mkdir(run_dir, 0755) == 0)
                (void)chmod(run_dir, 0755); /* whatever the umask: vigild's socket is in it */
        else if (errno != EEXIST)
                return negative_errno();
        if (dir_check(run_dir, 0022) < 0)
                return -EPERM;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        /* the control sockets in it end sessions: root's alone */
        return dir_check(path, 0077);
}

static bool id_text_valid(const char *id)
{
        size_t n = strlen(id);

        if (n == 0 || n > SESSCTL_ID_MAX || !isalnum((unsigned char)id[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)id[i]) && !strchr("._:+-", id[i]))
                        return false;
        return true;
}

int sessctl_socket_path(const char *run_dir, const char *id, char *buf, size_t size)
{
        if (!id_text_valid(id))
                return -EINVAL;
        if (snprintf(buf, size, "%s/sessions/%s.sock", run_dir, id) >= (int)size)
                return -ENAMETOOLONG;
        return 0;
}

int sessctl_prefix(const char *arg, char buf[static 33])
{
        size_t n = 0;

        for (const char *p = arg; *p; p++) {
                if (*p == '-')
                        continue;
                if (!isxdigit((unsigned char)*p) || n >= 32)
                        return -EINVAL;
                buf[n++] = (char)tolower((unsigned char)*p);
        }
        buf[n] = '\0';
        return n ? 0 : -EINVAL;
}

/* The hex digits of a UUID's text (36 characters, 8-4-4-4-12), or -EINVAL. */
static int uuid_hex(const char *name, size_t len, char hex[static 33])
{
        size_t n = 0;

        if (len != 36)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (name[i] != '-')
                                return -EINVAL;
                        continue;
                }
                if (!isxdigit((unsigned char)name[i]))
                        return -EINVAL;
                hex[n++] = (char)tolower((unsigned char)name[i]);
        }
        hex[n] = '\0';
        return 0;
}

int sessctl_find(const char *run_dir, const char *arg, char ret_id[static SESSCTL_ID_MAX + 1])
{
        char want[33], path[4096], found[SESSCTL_ID_MAX + 1] = "";
        struct dirent *de;
        unsigned n = 0;
        size_t wl;
        DIR *d;
        int r;

        r = sessctl_prefix(arg, want);
        if (r < 0)
                return r;
        wl = strlen(want);
        if (snprintf(path, sizeof path, "%s/sessions", run_dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ENOENT : negative_errno();
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char hex[33];

                /* "<uuid>.sock": the session's supervisor listens there */
                if (len != 36 + 5 || strcmp(de->d_name + 36, ".sock") != 0 || uuid_hex(de->d_name, 36, hex) < 0)
                        continue;
                if (strncmp(hex, want, wl) != 0)
                        continue;
                if (n++ == 0) {
                        memcpy(found, de->d_name, 36);
                        found[36] = '\0';
                }
        }
        closedir(d);
        if (n == 0)
                return -ENOENT;
        if (n > 1)
                return -ENOTUNIQ;
        memcpy(ret_id, found, 37);
        return 0;
}

typedef struct order_buf {
        char *p;
        size_t n, cap;
        bool over;
} order_buf;

/* Append @s; with @clean, control bytes become '?' (the supervisor shows it on one line). */
static void put(order_buf *o, const char *s, bool clean)
{
        for (; *s; s++) {
                if (o->n >= o->cap) {
                        o->over = true;
                        return;
                }
                o->p[o->n++] = clean && ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
        }
}

int sessctl_order(const char *by, const char *reason, char *buf, size_t size)
{
        order_buf o = { .p = buf, .cap = size ? size - 1 : 0 };

        if (o.cap > SESSCTL_ORDER_MAX)
                o.cap = SESSCTL_ORDER_MAX;
        if (by) {
                put(&o, "kill\n", false);
                put(&o, by, true);
                put(&o, "\n", false);
                if (reason)
                        put(&o, reason, true);
        } else {
                put(&o, "end", false);
                if (reason) {
                        put(&o, "\n", false);
                        put(&o, reason, true);
                }
        }
        if (o.over || size == 0)
                return -E2BIG;
        buf[o.n] = '\0';
        return (int)o.n;
}

int sessctl_connect(const char *run_dir, const char *id, bool nonblock, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, r;

        r = sessctl_socket_path(run_dir, id, sa.sun_path, sizeof sa.sun_path);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                r = negative_errno();
                (void)close(fd);
                if (r == -ECONNREFUSED) {
                        /* its supervisor died (its watchdog ended the session): tidy up */
                        char record[sizeof sa.sun_path];
                        size_t n = strlen(sa.sun_path) - strlen(".sock");

                        memcpy(record, sa.sun_path, n);
                        record[n] = '\0';
                        (void)unlink(sa.sun_path);
                        (void)unlink(record);
                        return -ENOENT;
                }
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int sessctl_send_order(const char *run_dir, const char *id, const char *order, size_t len, int timeout_ms)
{
        struct pollfd p = { .events = POLLIN };
        char buf[16];
        ssize_t n;
        int r, fd = -1;

        r = sessctl_connect(run_dir, id, false, &fd);
        if (r < 0)
                return r;
        if (send(fd, order, len, MSG_NOSIGNAL) != (ssize_t)len) {
                r = negative_errno();
                (void)close(fd);
                return r;
        }
        p.fd = fd;
        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
                (void)close(fd);
                return -ETIMEDOUT;
        }
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        (void)close(fd);
        return n == 2 && memcmp(buf, "ok", 2) == 0 ? 0 : -EPROTO;
}

int sessctl_id_new(char buf[static 37])
{
        uint8_t b[16];
        struct timespec ts;
        uint64_t ms;

        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
                return errno == EAGAIN ? -EAGAIN : -EIO;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
        /* UUIDv7: 48 bits of milliseconds first, so ids sort by start */
        for (int i = 0; i < 6; i++)
                b[i] = (uint8_t)(ms >> (40 - 8 * i));
        b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
        b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
        snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return 0;
}
