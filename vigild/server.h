/* vigild's listening socket. Internal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct server_socket {
        int fd;
        int lock_fd; /* held for the daemon's life; -1 with socket activation */
        bool owned;  /* we created the path (unlink it at exit) */
} server_socket;

/**
 * server_listen() - the listening socket: systemd's (LISTEN_PID/LISTEN_FDS)
 * or a new one at @path, mode 0666, in a directory only root can write.
 * @param[out] ret  untouched on failure.
 * @param[out] err  @errlen bytes: one line on failure.
 * @return 0 or -errno.
 */
int server_listen(const char *path, server_socket *ret, char *err, size_t errlen);
