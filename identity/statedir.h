/* The identity state directory: private to the user vigil runs as (root),
 * created 0700, refused when anyone else could read or write it. */
#pragma once

#include <stddef.h>

/**
 * statedir_ensure() - create @dir (and its parent, 0755) when missing; check it.
 * @return 0, -EPERM (owned by another user, or group/other bits set), -ENOTDIR,
 *         or the -errno of mkdir/stat.
 */
int statedir_ensure(const char *dir);

/**
 * private_file_open() - open a file for reading that must be private: regular,
 * owned by the effective uid, no group/other permission bits.
 * @return an O_CLOEXEC fd, -ENOENT, -EPERM (not private), or -errno.
 */
int private_file_open(const char *path);

/**
 * private_file_replace() - write @len bytes as @path's new content, atomically
 * (temporary file 0600 in the same directory, fsync, rename).
 * @return 0 or -errno.
 */
int private_file_replace(const char *path, const void *data, size_t len);
