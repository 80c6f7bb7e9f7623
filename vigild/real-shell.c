/* The real shell of a login (see real-shell.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "real-shell.h"
#include "vigil-error.h"

static bool root_alone(const struct stat *st)
{
        /* a symbolic link's own mode means nothing; where it lives does */
        if (st->st_uid != 0)
                return false;
        if (S_ISLNK(st->st_mode))
                return true;
        return !(st->st_mode & S_IWOTH) && !((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

/* Every component of @path, from / down, is root's alone: then no one but
 * root can change which file the path names, or that file. On -EPERM
 * @bad names the first component that is not. */
static int path_root_alone(const char *path, char *bad, size_t badlen)
{
        char prefix[PATH_MAX];
        size_t len = strlen(path);
        struct stat st;

        if (len >= sizeof prefix)
                return -ENAMETOOLONG;
        for (size_t i = 1; i <= len; i++) {
                if (i < len && path[i] != '/')
                        continue;
                memcpy(prefix, path, i);
                prefix[i] = '\0';
                if (lstat(prefix, &st) < 0)
                        return negative_errno();
                if (!root_alone(&st)) {
                        (void)snprintf(bad, badlen, "'%s' (owner uid %u, mode %04o)", prefix,
                                       (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                        return -EPERM;
                }
        }
        if (lstat("/", &st) < 0)
                return negative_errno();
        if (!root_alone(&st)) {
                (void)snprintf(bad, badlen, "'/'");
                return -EPERM;
        }
        return 0;
}

int real_shell_pick(const vigil_config *cfg, const char *user, const char **ret, char *why, size_t whylen)
{
        _cleanup_free_ char *real = NULL;
        const char *path;
        unsigned line = 0;
        char from[600], bad[PATH_MAX + 64] = "";
        struct stat st;
        int r;

        path = vigil_config_user_value(cfg, VIGIL_CONF_KEY_shell, user, &line);
        if (line == 0)
                (void)snprintf(from, sizeof from, "the default 'shell'");
        else if (line != cfg->line[VIGIL_CONF_KEY_shell])
                (void)snprintf(from, sizeof from, "'shell.%s' (%s:%u)", user, cfg->path, line);
        else
                (void)snprintf(from, sizeof from, "'shell' (%s:%u)", cfg->path, line);
        if (!path || path[0] != '/') {
                (void)snprintf(why, whylen, "%s names no shell", from);
                return -EINVAL;
        }
        if (stat(path, &st) < 0) {
                r = negative_errno();
                (void)snprintf(why, whylen, "the shell '%s' from %s cannot be used: %s", path, from,
                               vigil_strerror(r));
                return r;
        }
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
                (void)snprintf(why, whylen, "the shell '%s' from %s is not an executable file", path, from);
                return -EACCES;
        }
        /* the path as written (its links included) and where it leads */
        r = path_root_alone(path, bad, sizeof bad);
        if (r == 0) {
                real = realpath(path, NULL);
                r = real ? path_root_alone(real, bad, sizeof bad) : negative_errno();
        }
        if (r == -EPERM) {
                (void)snprintf(
                        why, whylen,
                        "the shell '%s' from %s is not root's alone: %s can be changed by another user, "
                        "who would decide what the session runs",
                        path, from, bad);
                return r;
        }
        if (r < 0) {
                (void)snprintf(why, whylen, "the shell '%s' from %s cannot be used: %s", path, from,
                               vigil_strerror(r));
                return r;
        }
        *ret = path;
        return 0;
}
