/* Command lines shown on the session's terminal. argv comes from the user's
 * processes, so it is escaped: no control byte (an escape sequence could
 * rewrite the screen) and no invalid UTF-8 reaches the terminal. */
#pragma once

#include <stddef.h>

/* Longest text display_cmdline() produces, without the NUL. */
#define DISPLAY_MAX 1024u

/**
 * display_cmdline() - argv joined by spaces, each argument shown plainly
 * when it has only characters that need no quoting, else in single quotes
 * ('\'' for a quote); bytes below 0x20, 0x7f and invalid UTF-8 as \xNN.
 * Longer than DISPLAY_MAX: cut, ending in "...".
 * @param[out] ret  malloc'd; the caller frees it.
 * @return 0 or -ENOMEM.
 */
int display_cmdline(const char *const *argv, size_t argc, char **ret);
