/* Reading the host's files under --root, and the ownership checks that
 * several families share. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "fileio.h"

char *doctor_path(const doctor_ctx *c, const char *path)
{
        if (!c->root || strcmp(c->root, "/") == 0)
                return strdup(path);
        return doctor_fmt("%s%s%s", c->root, path[0] == '/' ? "" : "/", path);
}

int doctor_read(const doctor_ctx *c, const char *path, char **ret)
{
        _cleanup_free_ char *p = doctor_path(c, path);
        size_t len;

        if (!p)
                return -ENOMEM;
        return read_file_bounded(p, DOCTOR_MAX_FILE, ret, &len);
}

int doctor_lstat(const doctor_ctx *c, const char *path, struct stat *ret)
{
        _cleanup_free_ char *p = doctor_path(c, path);

        if (!p)
                return -ENOMEM;
        return RET_NERRNO(lstat(p, ret));
}

bool doctor_exists(const doctor_ctx *c, const char *path)
{
        struct stat st;

        return doctor_lstat(c, path, &st) == 0;
}

int doctor_list_has(const doctor_ctx *c, const char *path, const char *word)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r = doctor_read(c, path, &text);

        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *e;

                line += strspn(line, " \t");
                if (*line == '#')
                        continue;
                e = line + strlen(line);
                while (e > line && strchr(" \t\r", e[-1]))
                        *--e = '\0';
                if (strcmp(line, word) == 0)
                        return 1;
        }
        return 0;
}

int doctor_check_owner_mode(doctor_ctx *c, const char *check, const char *path, bool dir, mode_t allowed,
                            const char *why)
{
        _cleanup_free_ char *fix = NULL;
        struct stat st;
        int r = doctor_lstat(c, path, &st);

        if (r == -ENOENT)
                return r;
        if (r < 0) {
                doctor_finding(c, check, "check the path and its parent directories",
                               "cannot examine '%s': %s", path, strerror(-r));
                return 0;
        }
        if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
                fix = doctor_fmt("replace '%s' with a %s owned by root, mode %04o", path,
                                 dir ? "directory" : "regular file", (unsigned)allowed);
                doctor_finding(c, check, fix, "'%s' is not a %s%s: %s", path, dir ? "directory" : "regular file",
                               S_ISLNK(st.st_mode) ? " (a symbolic link)" : "", why);
                return 0;
        }
        if (st.st_uid != 0 || (st.st_mode & 07777 & ~allowed)) {
                fix = doctor_fmt("chown root:root %s && chmod %04o %s", path,
                                 (unsigned)(st.st_mode & 07777 & allowed), path);
                doctor_finding(c, check, fix, "'%s' is owned by uid %u with mode %04o (want root, at most %04o): %s",
                               path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)allowed, why);
                return 0;
        }
        return 1;
}

void doctor_check_parents(doctor_ctx *c, const char *check, const char *path)
{
        _cleanup_free_ char *p = strdup(path), *fix = NULL;
        char *slash;

        if (!p)
                return;
        while ((slash = strrchr(p, '/'))) {
                struct stat st;

                if (slash == p)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                /* stat, not lstat: /var/run style links are fine when their target is. */
                _cleanup_free_ char *hp = doctor_path(c, p);
                if (!hp || stat(hp, &st) < 0)
                        return;
                if (st.st_uid != 0 || (st.st_mode & 022 && !(st.st_mode & S_ISVTX))) {
                        fix = doctor_fmt("chown root %s && chmod go-w %s", p, p);
                        doctor_finding(c, check, fix,
                                       "'%s' (above '%s') is owned by uid %u with mode %04o: whoever can write it "
                                       "can replace what lies below",
                                       p, path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                        return;
                }
                if (strcmp(p, "/") == 0)
                        return;
        }
}
