#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "tracee.h"
#include "util.h"
#include "vigil-error.h"

/* process_vm_readv() never crosses into an unmapped page within one remote
 * iovec without failing the whole iovec, so reads are cut at page ends: a
 * string that ends just before an unmapped page is still read. */
#define PAGE 4096u
/* First read of each argv string in the batched read; longer strings are
 * finished one page at a time. */
#define ARG_FIRST_READ 256u
/* Remote iovecs per process_vm_readv() call (IOV_MAX is 1024). */
#define BATCH 1024u

static size_t page_rest(uint64_t addr)
{
        return PAGE - (size_t)(addr % PAGE);
}

/* Fill the window from @addr: the rest of its page and the pages after,
 * one remote iovec each, so that an unmapped page only cuts it short. */
static void window_fill(tracee_window *w, uint64_t addr)
{
        struct iovec l = {.iov_base = w->buf, .iov_len = 0};
        struct iovec r[TRACEE_WINDOW_PAGES];
        unsigned pages = w->pages ? w->pages : 1;
        uint64_t a = addr;
        ssize_t n;

        if (pages > TRACEE_WINDOW_PAGES)
                pages = TRACEE_WINDOW_PAGES;
        for (unsigned i = 0; i < pages; i++) {
                size_t len = page_rest(a);

                r[i] = (struct iovec){.iov_base = (void *)(uintptr_t)a, .iov_len = len};
                l.iov_len += len;
                a += len;
        }
        n = process_vm_readv(w->pid, &l, 1, r, pages, 0);
        w->base = addr;
        w->len = n > 0 ? (size_t)n : 0;
}

/* Whether [@addr, @addr + @len) is in the window. */
static const void *window_get(const tracee_window *w, uint64_t addr, size_t len)
{
        if (w->len == 0 || addr < w->base || addr - w->base > w->len || len > w->len - (addr - w->base))
                return NULL;
        return w->buf + (addr - w->base);
}

/* One remote range into @buf, within one page. Returns bytes read (short
 * only at an unmapped page), or -errno. From the window when it holds the
 * range; else the window is filled from @addr first (reads of one request
 * are close together: a path next to its argv, the strings after the
 * pointers), and the range read on its own only if that did not cover it. */
static ssize_t read_mem(tracee_window *w, uint64_t addr, void *buf, size_t len)
{
        struct iovec l = {.iov_base = buf, .iov_len = len};
        struct iovec r = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
        const void *p = window_get(w, addr, len);
        ssize_t n;

        if (!p && w->pages > 0) {
                window_fill(w, addr);
                p = window_get(w, addr, len);
        }
        if (p) {
                memcpy(buf, p, len);
                return (ssize_t)len;
        }
        n = process_vm_readv(w->pid, &l, 1, &r, 1, 0);
        if (n < 0)
                return negative_errno();
        return n;
}

void tracee_window_init(tracee_window *w, pid_t pid, unsigned pages)
{
        w->pid = pid;
        w->pages = pages;
        w->base = 0;
        w->len = 0;
}

/* Continue a string whose first @have bytes (no NUL among them) are in
 * *buf, reading page by page from @addr + @have. */
static int finish_string(tracee_window *w, uint64_t addr, size_t have, size_t max, char **buf)
{
        size_t len = have;

        for (;;) {
                uint64_t a = addr + len;
                size_t want = page_rest(a);
                char *nb, *nul;
                ssize_t n;

                if (len > max)
                        return VIGIL_E_TOO_BIG;
                if (want > max + 1 - len)
                        want = max + 1 - len;
                nb = realloc(*buf, len + want + 1);
                if (!nb)
                        return -ENOMEM;
                *buf = nb;
                n = read_mem(w, a, nb + len, want);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return -EFAULT;
                nul = memchr(nb + len, '\0', (size_t)n);
                if (nul) {
                        if ((size_t)(nul - nb) > max)
                                return VIGIL_E_TOO_BIG;
                        return 0;
                }
                len += (size_t)n;
                if ((size_t)n < want)
                        return -EFAULT;
        }
}

int tracee_window_string(tracee_window *w, uint64_t addr, size_t max, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        int r;

        if (addr == 0)
                return -EFAULT;
        r = finish_string(w, addr, 0, max, &buf);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The pointer array, up to and without its NULL. */
static int read_pointers(tracee_window *w, uint64_t addr, size_t max_args, uint64_t **ret, size_t *ret_n)
{
        _cleanup_free_ uint64_t *p = NULL;
        size_t n = 0, cap = 0;

        for (;;) {
                uint64_t a = addr + n * sizeof(uint64_t);
                size_t want = page_rest(a) / sizeof(uint64_t);
                ssize_t got;

                if (want == 0)
                        want = 1; /* an unaligned pointer straddling a page end (the kernel reads it too) */
                if (n + want > max_args + 1)
                        want = max_args + 1 - n;
                if (n + want > cap) {
                        uint64_t *np;

                        cap = (n + want) * 2;
                        np = realloc(p, cap * sizeof(uint64_t));
                        if (!np)
                                return -ENOMEM;
                        p = np;
                }
                got = read_mem(w, a, p + n, want * sizeof(uint64_t));
                if (got < 0)
                        return (int)got;
                if ((size_t)got < sizeof(uint64_t))
                        return -EFAULT;
                for (size_t i = 0; i < (size_t)got / sizeof(uint64_t); i++, n++)
                        if (p[n] == 0) {
                                *ret = TAKE_PTR(p);
                                *ret_n = n;
                                return 0;
                        }
                /* A read cut short by an unmapped page (possibly mid-pointer)
                 * goes on from the first pointer not read, and fails there. */
                if (n > max_args)
                        return VIGIL_E_TOO_BIG;
        }
}

/* The batch from the window when it holds every segment: @want bytes, or -1. */
static ssize_t window_batch(const tracee_window *w, char *buf, const struct iovec *riov, size_t k, size_t want)
{
        size_t off = 0;

        for (size_t i = 0; i < k; i++) {
                const void *p = window_get(w, (uint64_t)(uintptr_t)riov[i].iov_base, riov[i].iov_len);

                if (!p)
                        return -1;
                memcpy(buf + off, p, riov[i].iov_len);
                off += riov[i].iov_len;
        }
        return (ssize_t)want;
}

int tracee_window_argv(tracee_window *w, uint64_t addr, size_t max_args, size_t max_bytes, strv *ret)
{
        _cleanup_free_ uint64_t *ptrs = NULL;
        _cleanup_free_ size_t *seg = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ struct iovec *riov = NULL;
        strv sv = {0};
        size_t n = 0, total = 0;
        int r;

        if (addr == 0) {
                sv.v = calloc(1, sizeof(char *));
                if (!sv.v)
                        return -ENOMEM;
                *ret = sv;
                return 0;
        }
        r = read_pointers(w, addr, max_args, &ptrs, &n);
        if (r < 0)
                return r;

        sv.v = calloc(n + 1, sizeof(char *));
        seg = calloc(n ? n : 1, sizeof(size_t));
        riov = calloc(BATCH, sizeof(struct iovec));
        buf = malloc((size_t)BATCH * ARG_FIRST_READ);
        if (!sv.v || !seg || !riov || !buf) {
                r = -ENOMEM;
                goto fail;
        }

        for (size_t start = 0; start < n; start += BATCH) {
                size_t k = n - start < BATCH ? n - start : BATCH, want = 0;
                struct iovec liov;
                ssize_t got;

                for (size_t i = 0; i < k; i++) {
                        uint64_t a = ptrs[start + i];

                        seg[start + i] = page_rest(a) < ARG_FIRST_READ ? page_rest(a) : ARG_FIRST_READ;
                        riov[i].iov_base = (void *)(uintptr_t)a;
                        riov[i].iov_len = seg[start + i];
                        want += seg[start + i];
                }
                liov.iov_base = buf;
                liov.iov_len = want;
                got = window_batch(w, buf, riov, k, want);
                if (got < 0)
                        got = process_vm_readv(w->pid, &liov, 1, riov, k, 0);
                if (got < 0) {
                        r = negative_errno();
                        goto fail;
                }
                /* A short read stops at the first segment that could not be
                 * read: the kernel's own copy would fail there too. */
                if ((size_t)got < want) {
                        r = -EFAULT;
                        goto fail;
                }
                for (size_t i = 0, off = 0; i < k; off += seg[start + i], i++) {
                        size_t idx = start + i, len;
                        char *nul = memchr(buf + off, '\0', seg[idx]);
                        char *s;

                        if (nul) {
                                len = (size_t)(nul - (buf + off));
                                s = malloc(len + 1);
                                if (!s) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                memcpy(s, buf + off, len + 1);
                        } else {
                                s = malloc(seg[idx] + 1);
                                if (!s) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                memcpy(s, buf + off, seg[idx]);
                                r = finish_string(w, ptrs[idx], seg[idx],
                                                  max_bytes > total ? max_bytes - total : 0, &s);
                                if (r < 0) {
                                        free(s);
                                        goto fail;
                                }
                                len = strlen(s);
                        }
                        sv.v[idx] = s;
                        sv.n = idx + 1;
                        total += len + 1;
                        if (total > max_bytes) {
                                r = VIGIL_E_TOO_BIG;
                                goto fail;
                        }
                }
        }
        *ret = sv;
        return 0;
fail:
        strv_clear(&sv);
        return r;
}

int tracee_read_string(pid_t pid, uint64_t addr, size_t max, char **ret)
{
        tracee_window w;

        tracee_window_init(&w, pid, 0);
        return tracee_window_string(&w, addr, max, ret);
}

int tracee_read_argv(pid_t pid, uint64_t addr, size_t max_args, size_t max_bytes, strv *ret)
{
        tracee_window w;

        tracee_window_init(&w, pid, 0);
        return tracee_window_argv(&w, addr, max_args, max_bytes, ret);
}

/* Up to @max unsigned numbers separated by blanks; returns how many. */
static size_t parse_nums(const char *p, unsigned long *out, size_t max, bool *ret_more)
{
        size_t n = 0;

        *ret_more = false;
        for (;;) {
                unsigned long v = 0;
                bool digits = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (unsigned long)(*p++ - '0');
                        digits = true;
                }
                if (!digits)
                        return n;
                if (n == max) {
                        *ret_more = true;
                        return n;
                }
                out[n++] = v;
        }
}

/* The value part of "Key:\t..." when @line starts with @key, else NULL. */
static const char *field(const char *line, const char *key, size_t len)
{
        return strncmp(line, key, len) == 0 ? line + len : NULL;
}

int tracee_read_status(pid_t tid, tracee_status *ret)
{
        char path[64], buf[8192];
        tracee_status st = {0};
        unsigned seen = 0;
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
        r = read_small_file(path, buf, sizeof(buf), NULL);
        if (r < 0)
                return r;
        /* A plain scan: this runs for every exec (sscanf showed in profiles). */
        for (char *line = buf; line && *line;) {
                char *end = strchr(line, '\n');
                unsigned long v[4];
                const char *f;
                bool more;

                if (end)
                        *end = '\0';
                if ((f = field(line, "Tgid:", 5)) && parse_nums(f, v, 1, &more) == 1) {
                        st.tgid = (pid_t)v[0];
                        seen |= 1;
                } else if ((f = field(line, "PPid:", 5)) && parse_nums(f, v, 1, &more) == 1) {
                        st.ppid = (pid_t)v[0];
                        seen |= 2;
                } else if ((f = field(line, "Uid:", 4)) && parse_nums(f, v, 4, &more) == 4) {
                        st.ruid = (uid_t)v[0];
                        st.euid = (uid_t)v[1];
                        st.fsuid = (uid_t)v[3];
                        seen |= 4;
                } else if ((f = field(line, "Gid:", 4)) && parse_nums(f, v, 4, &more) == 4) {
                        st.rgid = (gid_t)v[0];
                        st.egid = (gid_t)v[1];
                        st.fsgid = (gid_t)v[3];
                        seen |= 8;
                } else if ((f = field(line, "Groups:", 7))) {
                        unsigned long g[TRACEE_MAX_GROUPS];

                        st.n_groups = parse_nums(f, g, TRACEE_MAX_GROUPS, &st.groups_overflow);
                        for (size_t i = 0; i < st.n_groups; i++)
                                st.groups[i] = (gid_t)g[i];
                        seen |= 32;
                } else if ((f = field(line, "NoNewPrivs:", 11)) && parse_nums(f, v, 1, &more) == 1) {
                        st.no_new_privs = v[0] != 0;
                        seen |= 16;
                }
                line = end ? end + 1 : NULL;
        }
        if (seen != 63)
                return VIGIL_E_PARSE;
        st.complete = true;
        *ret = st;
        return 0;
}

int tracee_read_creds(pid_t tid, tracee_status *ret, int *ret_pidfd)
{
        tracee_status st = { 0 };
        pidfd_info_v0 info;
        bool leader = true;
        int fd, r;

        *ret_pidfd = -1;
        /* A process's pidfd (kept: it serves again at the exec check and
         * for the exit) when @tid leads; a thread's pidfd otherwise. */
        fd = pidfd_open_(tid, 0);
        if (fd == -EINVAL) {
                leader = false;
                fd = pidfd_open_(tid, PIDFD_THREAD_);
        }
        if (fd < 0)
                return fd == -ESRCH ? fd : tracee_read_status(tid, ret);
        r = pidfd_get_info(fd, PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_, &info);
        if (r < 0 || (info.mask & (PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_)) != (PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_)) {
                (void)close(fd);
                return r == -ESRCH ? r : tracee_read_status(tid, ret);
        }
        if (leader)
                *ret_pidfd = fd;
        else
                (void)close(fd);
        st.tgid = (pid_t)info.tgid;
        st.ppid = (pid_t)info.ppid;
        st.ruid = info.ruid;
        st.euid = info.euid;
        st.fsuid = info.fsuid;
        st.rgid = info.rgid;
        st.egid = info.egid;
        st.fsgid = info.fsgid;
        *ret = st;
        return 0;
}

int tracee_complete(pid_t tid, tracee_status *st)
{
        tracee_status full;
        int r;

        if (st->complete)
                return 0;
        r = tracee_read_status(tid, &full);
        if (r < 0)
                return r;
        if (full.tgid != st->tgid)
                return -ESRCH;
        memcpy(st->groups, full.groups, sizeof(st->groups));
        st->n_groups = full.n_groups;
        st->groups_overflow = full.groups_overflow;
        st->no_new_privs = full.no_new_privs;
        st->complete = true;
        return 0;
}

int tracee_read_link(pid_t tid, const char *name, char **ret)
{
        char path[64], buf[PATH_MAX + 1];
        ssize_t n;

        (void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
        n = readlink(path, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if ((size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int tracee_read_cmdline(pid_t pid, size_t max_bytes, strv *ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        strv sv = {0};
        char path[64];
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* A short read of /proc/PID/cmdline is its end; the shared reader's
         * extra read() just returns 0. */
        r = read_fd_bounded(fd, max_bytes, &buf, &len);
        if (r < 0)
                return r;
        sv.v = calloc(1, sizeof(char *));
        if (!sv.v)
                return -ENOMEM;
        for (size_t off = 0; off < len;) {
                size_t l = strlen(buf + off);

                r = strv_push(&sv, buf + off);
                if (r < 0) {
                        strv_clear(&sv);
                        return r;
                }
                off += l + 1;
        }
        *ret = sv;
        return 0;
}
