/* What the supervisor remembers between execs to find a program with fewer
 * system calls: the top-level symlinks of a merged-/usr system ("/bin" ->
 * "usr/bin"), and the first bytes of programs already looked at. Neither is
 * trusted for what runs: every entry is checked against the file system
 * before use, and a wrong prediction is still caught at the exec event
 * (verify.c), which kills the image. Used by the main thread only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define EXEC_CACHE_LINKS 8u
#define EXEC_CACHE_HEADERS 32u
#define EXEC_CACHE_HEADER_SIZE 256u /* = EXEC_HEADER_SIZE */

typedef struct exec_cache_link {
        char *name;   /* "/bin" */
        char *target; /* "/usr/bin": absolute, as read from the link */
        dev_t dev;
        ino_t ino;
} exec_cache_link;

typedef struct exec_cache_header {
        bool used;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtim, ctim;
        size_t len;
        char buf[EXEC_CACHE_HEADER_SIZE];
} exec_cache_header;

typedef struct exec_cache {
        exec_cache_link links[EXEC_CACHE_LINKS];
        exec_cache_header headers[EXEC_CACHE_HEADERS];
        unsigned next_link, next_header;
} exec_cache;

/** Free what @c holds; leaves it empty (an all-zero cache is empty too). */
void exec_cache_done(exec_cache *c);

/**
 * exec_cache_link_rewrite() - @path (absolute) with its first component
 * replaced by that symlink's target, when it is a symlink remembered and
 * still the same one (lstat: device and inode; a symlink's target cannot
 * change in place). The kernel resolves both paths alike.
 * @return 1 and a malloc'd *ret, 0 when nothing is remembered or it changed
 *         (a changed one is forgotten, to be learned again),
 *         -ENOMEM.
 */
int exec_cache_link_rewrite(exec_cache *c, const char *path, char **ret);

/** Remember the first component of @path if it is a symlink. */
void exec_cache_link_learn(exec_cache *c, const char *path);

/**
 * exec_cache_header_get() - the first bytes of the file @st describes, as
 * read before, when its device, inode, size, modification and change times
 * are all as they were (any write changes the change time; Linux 6.13 makes
 * it fine-grained once it has been looked at).
 * @return true and @buf, *ret_len filled; false.
 */
bool exec_cache_header_get(const exec_cache *c, const struct stat *st, char *buf, size_t *ret_len);
void exec_cache_header_put(exec_cache *c, const struct stat *st, const char *buf, size_t len);
