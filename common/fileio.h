/* Reading whole files with a size bound. */
#pragma once

#include <stddef.h>

/**
 * read_file_bounded() - read a regular file into a NUL-terminated buffer.
 * @param[in]  path      file to read (opened O_RDONLY|O_CLOEXEC|O_NOCTTY).
 * @param[in]  max_size  refuse files larger than this (VIGIL_E_TOO_BIG).
 * @param[out] ret_buf   on success a malloc'd buffer the caller frees; untouched on failure.
 * @param[out] ret_len   its length without the terminating NUL.
 * @return 0, -errno from open/read, -EISDIR/-EINVAL for a non-regular file, or VIGIL_E_TOO_BIG.
 */
int read_file_bounded(const char *path, size_t max_size, char **ret_buf, size_t *ret_len);

/**
 * read_fd_bounded() - read an open file descriptor to its end into a NUL-terminated buffer,
 * for callers that check the file (fstat: owner, mode) before trusting its contents.
 * @param[in]  fd        readable descriptor; not closed.
 * @param[in]  max_size  refuse more than this many bytes (VIGIL_E_TOO_BIG).
 * @param[out] ret_buf   on success a malloc'd buffer the caller frees; untouched on failure.
 * @param[out] ret_len   its length without the terminating NUL.
 * @return 0, -errno from read, -ENOMEM, or VIGIL_E_TOO_BIG.
 */
int read_fd_bounded(int fd, size_t max_size, char **ret_buf, size_t *ret_len);
