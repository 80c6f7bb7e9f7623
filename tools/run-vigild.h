/* `vigil run --token-file` for a caller that is not root: the session is
 * started by vigild (session.start with the token), which verifies the
 * token for the caller's own account and runs the command as that account
 * only. Internal to the CLI. */
#pragma once

#include <stdbool.h>

/**
 * run_through_vigild() - hand CMD and this process's terminal or stdio to
 * vigild and wait for the session's end.
 * @param[in] token_file  the caller's token file (read as the caller).
 * @param[in] argv        CMD [ARG...], NULL-terminated.
 * @param[in] pty         a terminal session (stdin must be a terminal) or pipes.
 * @return the session's exit status, or 125 after printing one line when no
 *         session could start (vigild down, the token refused, ...).
 */
int run_through_vigild(const char *token_file, char *const *argv, bool pty);
