/* One-line reasons for refusals. Values that come from a token or a key set
 * are quoted through reason_clean() so a reason never spans lines nor carries
 * terminal control characters into a log. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/**
 * reason_set() - format a reason into *ret (when ret is non-NULL).
 * @return @r unchanged, so callers write `return reason_set(ret, VIGIL_E_DENIED, ...)`.
 *         If formatting runs out of memory, *ret stays NULL and @r is still returned.
 */
int reason_set(char **ret, int r, const char *fmt, ...) _printf_(3, 4);

/**
 * reason_clean() - a printable, bounded copy of untrusted text: bytes below
 * 0x20, 0x7f and backslash become \xHH; text beyond 128 bytes is cut
 * and marked with "...".
 * @return malloc'd string, or NULL on -ENOMEM (callers then print "(null)"-free text:
 *         use RC() below).
 */
char *reason_clean(const char *s);

/** As reason_clean() with a bound of @max bytes, for longer text from less hostile
 *  sources (a configured URL, libcurl's message). */
char *reason_clean_n(const char *s, size_t max);

/* For format arguments: the cleaned text or a placeholder. */
#define RC(s) ((s) ? (s) : "?")

/**
 * time_format() - "2026-11-23T10:00:00Z" (UTC); the decimal number when outside years 1-9999.
 * @param[in]  t    seconds since the epoch.
 * @param[out] buf  at least 32 bytes.
 * @return @buf.
 */
char *time_format(int64_t t, char buf[static 32]);
