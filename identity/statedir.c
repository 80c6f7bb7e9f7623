#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "statedir.h"

static int check_private(int fd, mode_t type)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if ((st.st_mode & S_IFMT) != type)
                return type == S_IFDIR ? -ENOTDIR : -EPERM;
        if (st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        return 0;
}

static int mkdir_private(const char *dir)
{
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int statedir_ensure(const char *dir)
{
        _cleanup_free_ char *copy = strdup(dir);
        _cleanup_close_ int fd = -1;
        int r;

        if (!copy)
                return -ENOMEM;
        /* The store directory itself, when vigil is the first to need it:
         * root-only like everything in it. */
        r = mkdir_private(dirname(copy));
        if (r < 0)
                return r;
        r = mkdir_private(dir);
        if (r < 0)
                return r;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        return check_private(fd, S_IFDIR);
}

int private_file_open(const char *path)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return errno == ELOOP ? -EPERM : negative_errno();
        r = check_private(fd, S_IFREG);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int private_file_replace(const char *path, const void *data, size_t len)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *p = data;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
        if (fd < 0)
                return negative_errno();
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                p += n;
                len -= (size_t)n;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        return 0;
fail:
        (void)unlink(tmp);
        return r;
}
