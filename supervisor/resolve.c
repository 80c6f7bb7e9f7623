#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "resolve.h"

static int openat2_(int dirfd, const char *path, int flags, uint64_t resolve)
{
        struct open_how how = {.flags = (uint64_t)flags, .resolve = resolve};

        return RET_NERRNO(syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

/* Mount id, device and inode of a directory, to tell whether a process's
 * root is the supervisor's. */
typedef struct dir_id {
        uint64_t mnt, dev, ino;
} dir_id;

static int dir_identity(const char *path, dir_id *ret)
{
        struct statx sx;

        if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO | STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        ret->mnt = sx.stx_mnt_id;
        ret->dev = ((uint64_t)sx.stx_dev_major << 32) | sx.stx_dev_minor;
        ret->ino = sx.stx_ino;
        return 0;
}

/* The supervisor's own root does not change while it runs: looked up once.
 * A mount id is unique across mount namespaces, so the root's mount id also
 * tells a process in another namespace apart. */
static int self_identity(dir_id *ret_root)
{
        static dir_id root;
        static bool known;
        int r;

        if (!known) {
                r = dir_identity("/", &root);
                if (r < 0)
                        return r;
                known = true;
        }
        *ret_root = root;
        return 0;
}

int exec_read_cwd(pid_t tid, char **ret)
{
        char path[64], buf[PATH_MAX + 1];
        ssize_t n;

        (void)snprintf(path, sizeof(path), "/proc/%d/cwd", (int)tid);
        n = readlink(path, buf, sizeof(buf));
        if (n < 0 || (size_t)n >= sizeof(buf))
                return n < 0 ? negative_errno() : -ENAMETOOLONG;
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int exec_ctx_open(pid_t tid, pid_t tgid, bool check_root, bool want_cwd, exec_ctx *ret)
{
        exec_ctx c = {.tid = tid, .tgid = tgid, .rootfd = -1, .cwdfd = -1};
        char path[64];
        dir_id self_root, root;
        int r;

        r = self_identity(&self_root);
        if (r < 0)
                return r;
        if (check_root) {
                (void)snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
                r = dir_identity(path, &root);
                if (r < 0)
                        return r;
        } else
                root = self_root;
        if (want_cwd) {
                r = exec_read_cwd(tid, &c.cwd);
                if (r < 0)
                        return r;
        }
        c.same_root = root.mnt == self_root.mnt && root.dev == self_root.dev && root.ino == self_root.ino;
        *ret = c;
        return 0;
}

/* The process's root and cwd as fds, opened when a path needs them. */
static int ctx_fd(exec_ctx *c, int *fd, const char *name)
{
        char path[64];

        if (*fd >= 0)
                return *fd;
        (void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)c->tid, name);
        *fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return *fd >= 0 ? *fd : negative_errno();
}

void exec_ctx_done(exec_ctx *c)
{
        if (c->rootfd >= 0)
                (void)close(c->rootfd);
        if (c->cwdfd >= 0)
                (void)close(c->cwdfd);
        free(c->cwd);
        c->rootfd = c->cwdfd = -1;
        c->cwd = NULL;
}

void exec_file_done(exec_file *f)
{
        if (f->fd >= 0)
                (void)close(f->fd);
        f->fd = -1;
        free(f->path);
        f->path = NULL;
}

/* The supervisor's /proc/self is not the process's: paths that go through
 * it name the process's own files (fexecve, re-exec of /proc/self/exe), so
 * they are rewritten to its pid before resolving. Returns 1 and a new path
 * when rewritten, 0 when the path does not start with such a prefix. */
static int rewrite_self(const exec_ctx *c, const char *path, char **ret)
{
        static const struct {
                const char *prefix;
                bool task;
        } map[] = {
                {"/proc/self/", false},
                {"/proc/thread-self/", true},
                {"/dev/fd/", true},
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                size_t n = strlen(map[i].prefix);
                int k;

                if (strncmp(path, map[i].prefix, n) != 0)
                        continue;
                if (strcmp(map[i].prefix, "/dev/fd/") == 0)
                        k = asprintf(ret, "/proc/%d/fd/%s", (int)c->tid, path + n);
                else if (map[i].task)
                        k = asprintf(ret, "/proc/%d/task/%d/%s", (int)c->tgid, (int)c->tid, path + n);
                else
                        k = asprintf(ret, "/proc/%d/%s", (int)c->tgid, path + n);
                return k < 0 ? -ENOMEM : 1;
        }
        return 0;
}

static int open_remote_fd(const exec_ctx *c, int fd, int flags)
{
        char path[64];
        int r;

        if (fd < 0)
                return -EBADF;
        (void)snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)c->tid, fd);
        r = RET_NERRNO(open(path, flags | O_PATH | O_CLOEXEC));
        return r == -ENOENT ? -EBADF : r;
}

static int file_path(int fd, const struct stat *st, char **ret, bool *ret_fileless)
{
        char path[64], buf[PATH_MAX + 1];
        static const char deleted[] = " (deleted)";
        ssize_t n;

        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if ((size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        buf[n] = '\0';
        /* No path to the file: a memfd ("/memfd:x (deleted)"), an unlinked
         * file, an anonymous inode. Such a file never matches exe=. */
        if (st->st_nlink == 0 || buf[0] != '/' ||
            ((size_t)n >= sizeof(deleted) - 1 && strcmp(buf + n - (sizeof(deleted) - 1), deleted) == 0)) {
                *ret = NULL;
                *ret_fileless = true;
                return 0;
        }
        *ret = strdup(buf);
        *ret_fileless = false;
        return *ret ? 0 : -ENOMEM;
}

/* @path, absolute, made canonical as words: no ".", "..", or repeated "/".
 * Without symlinks on the way this is the path the kernel followed. */
static char *lexical_path(const char *path)
{
        size_t n = strlen(path), len = 0;
        char *out = malloc(n + 2);

        if (!out)
                return NULL;
        for (const char *p = path; *p;) {
                const char *e;
                size_t l;

                while (*p == '/')
                        p++;
                e = strchrnul(p, '/');
                l = (size_t)(e - p);
                if (l == 0 || (l == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (l == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                } else {
                        out[len++] = '/';
                        memcpy(out + len, p, l);
                        len += l;
                }
                p = e;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
        return out;
}

int exec_resolve(exec_ctx *c, int dirfd, const char *path, int at_flags, exec_file *ret)
{
        _cleanup_free_ char *rewritten = NULL;
        _cleanup_close_ int base = -1;
        exec_file f = {.fd = -1};
        int oflags = O_PATH | O_CLOEXEC | ((at_flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0);
        uint64_t resolve = RESOLVE_NO_MAGICLINKS;
        bool lexical = false;
        int r, start;

        if (path[0] == '\0') {
                if (!(at_flags & AT_EMPTY_PATH))
                        return -ENOENT;
                if (dirfd == AT_FDCWD) {
                        r = ctx_fd(c, &c->cwdfd, "cwd");
                        if (r >= 0)
                                r = RET_NERRNO(fcntl(r, F_DUPFD_CLOEXEC, 3));
                } else
                        r = open_remote_fd(c, dirfd, 0);
                if (r < 0)
                        return r;
                f.fd = r;
        } else {
                if (path[0] == '/') {
                        r = rewrite_self(c, path, &rewritten);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                if (!c->same_root)
                                        return -EXDEV;
                                path = rewritten;
                                resolve = 0; /* the magic links now name the process's own files */
                        }
                        if (c->same_root)
                                start = AT_FDCWD;
                        else {
                                start = ctx_fd(c, &c->rootfd, "root");
                                if (start < 0)
                                        return start;
                                resolve |= RESOLVE_IN_ROOT;
                        }
                } else {
                        /* Relative to a directory: with the supervisor's root
                         * only, since an absolute symlink met on the way must
                         * lead into the process's root, which openat2 cannot
                         * combine with a starting directory. */
                        if (!c->same_root)
                                return -EXDEV;
                        if (dirfd == AT_FDCWD) {
                                start = ctx_fd(c, &c->cwdfd, "cwd");
                                if (start < 0)
                                        return start;
                        } else {
                                base = open_remote_fd(c, dirfd, O_DIRECTORY);
                                if (base < 0)
                                        return base;
                                start = base;
                        }
                }
                /* The common case, an absolute path without symlinks (a $PATH
                 * search): its canonical form is the file's path, no need to
                 * ask /proc for it. On a merged-/usr system "/bin/x" is
                 * "/usr/bin/x" behind one top-level symlink: with the link
                 * remembered (and unchanged), the same. */
                if (path[0] == '/' && start == AT_FDCWD && (resolve & RESOLVE_NO_MAGICLINKS)) {
                        char *via = NULL;

                        r = c->cache ? exec_cache_link_rewrite(c->cache, path, &via) : 0;
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = openat2_(start, via, oflags, RESOLVE_NO_SYMLINKS);
                                if (r != -ELOOP) {
                                        /* resolved, or failed, as the path itself would */
                                        free(rewritten);
                                        rewritten = via;
                                        path = rewritten;
                                        if (r < 0)
                                                return r;
                                        f.fd = r;
                                        lexical = true;
                                        goto opened;
                                }
                                free(via);
                        }
                        r = openat2_(start, path, oflags, RESOLVE_NO_SYMLINKS);
                        if (r >= 0) {
                                f.fd = r;
                                lexical = true;
                                goto opened;
                        }
                        if (r != -ELOOP)
                                return r;
                        if (c->cache)
                                exec_cache_link_learn(c->cache, path);
                }
                r = openat2_(start, path, oflags, resolve);
                if (r == -ELOOP && (resolve & RESOLVE_NO_MAGICLINKS)) {
                        /* A real symlink loop, or a /proc magic link other than
                         * the ones rewritten, which would name the supervisor's
                         * own files: only the second opens without the flag. */
                        int k = openat2_(start, path, oflags, resolve & ~(uint64_t)RESOLVE_NO_MAGICLINKS);

                        if (k >= 0) {
                                (void)close(k);
                                return -EXDEV;
                        }
                }
                if (r < 0)
                        return r;
                f.fd = r;
        }
opened:
        if (fstat(f.fd, &f.st) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (S_ISLNK(f.st.st_mode)) {
                r = -ELOOP;
                goto fail;
        }
        if (!S_ISREG(f.st.st_mode)) {
                r = -EACCES;
                goto fail;
        }
        if (lexical && f.st.st_nlink > 0) {
                f.path = lexical_path(path);
                r = f.path ? 0 : -ENOMEM;
        } else
                r = file_path(f.fd, &f.st, &f.path, &f.fileless);
        if (r < 0)
                goto fail;
        *ret = f;
        return 0;
fail:
        exec_file_done(&f);
        return r;
}

int exec_header(exec_cache *cache, const exec_file *f, char buf[static EXEC_HEADER_SIZE], size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        char path[64];
        size_t len = 0;

        if (cache && exec_cache_header_get(cache, &f->st, buf, ret_len))
                return 0;

        /* O_NOATIME: judging a program should not look like reading it. */
        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOATIME);
        if (fd < 0 && errno == EPERM)
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        while (len < EXEC_HEADER_SIZE) {
                ssize_t n = pread(fd, buf + len, EXEC_HEADER_SIZE - len, (off_t)len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (cache)
                exec_cache_header_put(cache, &f->st, buf, len);
        *ret_len = len;
        return 0;
}

static bool spacetab(char c)
{
        return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *p, const char *end)
{
        for (; p < end; p++)
                if (!spacetab(*p))
                        return p;
        return NULL;
}

static const char *next_terminator(const char *p, const char *end)
{
        for (; p < end; p++)
                if (spacetab(*p) || *p == '\0')
                        return p;
        return NULL;
}

int shebang_parse(const char *in, size_t len, char **ret_interp, char **ret_arg)
{
        char buf[EXEC_HEADER_SIZE] = {0};
        const char *buf_end = buf + sizeof(buf) - 1, *i_end, *i_name, *i_sep, *i_arg = NULL;
        char *interp, *arg = NULL;

        if (len > sizeof(buf))
                len = sizeof(buf);
        memcpy(buf, in, len);
        if (len < 2 || buf[0] != '#' || buf[1] != '!')
                return 0;
        /* The same steps as fs/binfmt_script.c, on the same zero-padded buffer. */
        i_end = memchr(buf, '\n', sizeof(buf));
        if (!i_end) {
                i_end = next_non_spacetab(buf + 2, buf_end);
                if (!i_end)
                        return -ENOEXEC;
                if (!next_terminator(i_end, buf_end))
                        return -ENOEXEC; /* the interpreter's name may be cut off */
                i_end = buf_end;
        }
        while (i_end > buf + 2 && spacetab(i_end[-1]))
                i_end--;
        i_name = next_non_spacetab(buf + 2, i_end);
        if (!i_name || i_name == i_end)
                return -ENOEXEC;
        i_sep = next_terminator(i_name, i_end);
        if (i_sep && *i_sep != '\0')
                i_arg = next_non_spacetab(i_sep, i_end);
        interp = strndup(i_name, (size_t)((i_sep ? i_sep : i_end) - i_name));
        if (!interp)
                return -ENOMEM;
        if (i_arg) {
                arg = strndup(i_arg, (size_t)(i_end - i_arg));
                if (!arg) {
                        free(interp);
                        return -ENOMEM;
                }
        }
        *ret_interp = interp;
        *ret_arg = arg;
        return 1;
}

int exec_filename(int dirfd, const char *path, char **ret)
{
        int k;

        if (dirfd == AT_FDCWD || path[0] == '/')
                k = asprintf(ret, "%s", path);
        else if (path[0] == '\0')
                k = asprintf(ret, "/dev/fd/%d", dirfd);
        else
                k = asprintf(ret, "/dev/fd/%d/%s", dirfd, path);
        return k < 0 ? -ENOMEM : 0;
}

bool exec_path_is_loader(const char *path)
{
        static const char *const names[] = {"ld-linux*.so*", "ld-*.so*", "ld.so*", "ld64.so*", "ld-musl-*"};
        const char *base = strrchr(path, '/');

        base = base ? base + 1 : path;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (fnmatch(names[i], base, 0) == 0)
                        return true;
        return false;
}

int ldso_find_prog(const strv *argv, size_t *ret_index, const char **ret_argv0)
{
        /* glibc 2.36 rtld.c: options are taken while argv[1] is one of them. */
        static const char *const with_arg[] = {
                "--library-path",         "--inhibit-rpath",    "--audit", "--preload", "--argv0",
                "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"};
        static const char *const flags[] = {"--list", "--verify", "--inhibit-cache"};
        static const char *const no_prog[] = {"--help", "--version", "--list-tunables",
                                              "--list-diagnostics"};
        const char *argv0 = NULL;
        size_t i = 1;

        while (i < argv->n) {
                const char *a = argv->v[i];
                bool taken = false;

                for (size_t k = 0; k < ELEMENTSOF(no_prog); k++)
                        if (strcmp(a, no_prog[k]) == 0)
                                return 0;
                for (size_t k = 0; k < ELEMENTSOF(flags) && !taken; k++)
                        if (strcmp(a, flags[k]) == 0) {
                                i++;
                                taken = true;
                        }
                for (size_t k = 0; k < ELEMENTSOF(with_arg) && !taken; k++)
                        if (strcmp(a, with_arg[k]) == 0) {
                                if (i + 1 >= argv->n)
                                        return 0; /* ld.so prints its usage and exits */
                                if (strcmp(a, "--argv0") == 0)
                                        argv0 = argv->v[i + 1];
                                i += 2;
                                taken = true;
                        }
                if (!taken)
                        break;
        }
        if (i >= argv->n)
                return 0;
        *ret_index = i;
        *ret_argv0 = argv0;
        return 1;
}
