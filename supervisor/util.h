/* Small helpers the supervisor's files share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/types.h>

/**
 * read_small_file() - read a /proc or /sys file into @buf, NUL-terminated.
 * Such files fill a read as far as the buffer allows, so a short read is
 * taken as the end of the file; do not use it for regular files.
 * @param[out] ret_len  bytes read, without the NUL. A file longer than
 *                      @size - 1 is an error (VIGIL_E_TOO_BIG).
 * @return 0 or -errno.
 */
int read_small_file(const char *path, char *buf, size_t size, ssize_t *ret_len);

/** Write all of @s to an existing file (a /sys or /proc knob). @return 0 or -errno. */
int write_knob(const char *path, const char *s);

/** Wall clock in µs since the epoch. */
uint64_t now_realtime_us(void);
/** Monotonic clock in ns. */
uint64_t now_monotonic_ns(void);

/**
 * fd_reopen_nonblock() - a new open file description of @fd with O_NONBLOCK,
 * so that the caller's own description (shared with its parent shell) keeps
 * its flags. Pipes, FIFOs and character devices (terminals) are reopened
 * through /proc/self/fd; a regular file or block device keeps @fd itself
 * (it never blocks, and reopening would lose its offset); a socket keeps
 * @fd and is used with MSG_DONTWAIT.
 * @param[in]  mode       O_RDONLY or O_WRONLY.
 * @param[out] ret_fd     the fd to use; equal to @fd when not reopened.
 * @param[out] ret_owned  whether ret_fd is a new fd the caller closes.
 * @param[out] ret_sock   whether it is a socket.
 * @return 0 or -errno.
 */
int fd_reopen_nonblock(int fd, int mode, int *ret_fd, bool *ret_owned, bool *ret_sock);

/** read()/write() that use MSG_DONTWAIT on a socket. Return bytes or -errno. */
ssize_t fd_read(int fd, bool sock, void *buf, size_t len);
ssize_t fd_write(int fd, bool sock, const void *buf, size_t len);

/** pidfd_open(2) and pidfd_send_signal(2). */
int pidfd_open_(pid_t pid, unsigned flags);
int pidfd_send_signal_(int pidfd, int sig);

/* pidfd_open() flag for a thread (Linux 6.9), as <linux/pidfd.h> defines it. */
#define PIDFD_THREAD_ O_EXCL

/* struct pidfd_info up to exit_code (PIDFD_INFO_SIZE_VER0), <linux/pidfd.h> of Linux 6.15. */
typedef struct pidfd_info_v0 {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
} pidfd_info_v0;
#define PIDFD_INFO_PID_ (1ULL << 0)
#define PIDFD_INFO_CREDS_ (1ULL << 1)
#define PIDFD_INFO_EXIT_ (1ULL << 3)

/**
 * pidfd_get_info() - PIDFD_GET_INFO (Linux 6.13; exit status 6.15) without /proc.
 * @param[in]  mask  the PIDFD_INFO_* wanted; ret->mask says what came.
 * @return 0, -ENOTTY/-EINVAL on kernels without it, -ESRCH when the task is gone.
 */
int pidfd_get_info(int pidfd, uint64_t mask, pidfd_info_v0 *ret);

/** The name of a signal ("SIGKILL"), or "SIG<number>" in @buf for an unknown one. */
const char *signal_name(int sig, char buf[static 16]);
