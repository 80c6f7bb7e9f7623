/* Printing text that others wrote (a held command's argv, a session's
 * output, names from a token) on an approver's terminal, so that nothing in
 * it can act on the terminal: no escape sequence, no control character, no
 * invalid UTF-8, no bidirectional override reaches it unescaped. Internal
 * to the CLI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * cli_put_text() - write @len bytes of @s as visible text.
 * Printable UTF-8 passes; every other byte or character becomes an escape:
 * \n \t \r \e (ESC) \xHH (other C0 controls, DEL, invalid UTF-8) \u{HHHH}
 * (C1 controls, line/paragraph separators, bidirectional controls).
 * @param[in] screen  terminal output: line ends stay line ends (CR LF and a
 *                    lone CR become LF), tabs stay tabs, and well-formed
 *                    escape sequences (CSI, OSC, two-byte ESC X) are dropped
 *                    as presentation; everything else as above.
 */
void cli_put_text(FILE *f, const char *s, size_t len, bool screen);

/** cli_put_text() of a NUL-terminated string (NULL prints nothing). */
void cli_put_str(FILE *f, const char *s);

/**
 * cli_put_argv() - a command line a person can read and, where it is plain,
 * paste: arguments separated by blanks, one that is empty or holds a shell
 * metacharacter or blank in single quotes ('\'' for a quote inside), each
 * escaped as cli_put_text().
 */
void cli_put_argv(FILE *f, char *const *argv, size_t argc);
