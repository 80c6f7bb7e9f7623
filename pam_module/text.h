/* Small text helpers for the module: reasons, cleaning untrusted text
 * before it reaches a log line or a terminal, and wiping secrets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"

/**
 * pv_reason() - format a one-line reason into *ret (when @ret is non-NULL
 * and *ret is still NULL: the first, innermost reason is kept).
 * @return @r unchanged, so callers write `return pv_reason(ret, -EIO, "...")`.
 */
int pv_reason(char **ret, int r, const char *fmt, ...) _printf_(3, 4);

/**
 * pv_reason_wrap() - prefix *ret with context ("device sign-in: " + *ret), in
 * the manner of an error chain. Leaves *ret alone when it is NULL or out of memory.
 * @return @r unchanged.
 */
int pv_reason_wrap(char **ret, int r, const char *prefix);

/**
 * pv_text_clean() - a printable copy of untrusted text for logs: bytes below
 * 0x20, 0x7f and above, and backslash become \xHH; cut after @max bytes with "...".
 * @return malloc'd string, or NULL when out of memory (use PV_TC()).
 */
char *pv_text_clean(const char *s, size_t max);
#define PV_TC(s) ((s) ? (s) : "?")

/**
 * pv_text_printable() - is @s non-empty, at most @max bytes, and only
 * printable ASCII (0x21-0x7e; with @space also 0x20)? Text shown to the
 * person signing in must pass this, so an identity provider cannot put
 * terminal escapes on their screen.
 */
bool pv_text_printable(const char *s, size_t max, bool space);

/** Wipe a NUL-terminated secret and free it. Accepts NULL; returns NULL. */
static inline char *pv_secret_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}

static inline void pv_secret_freep(char **s)
{
        *s = pv_secret_free(*s);
}
#define _cleanup_secret_ _cleanup_(pv_secret_freep)
