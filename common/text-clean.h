/* Untrusted text made safe to show on one line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/**
 * text_clean() - a printable copy of untrusted text for logs and reason
 * lines: bytes below 0x20, 0x7f and above, and backslash become \xHH (the
 * text may reach terminals); cut after @max bytes with "...".
 * @param s    the text; NULL is taken as "".
 * @param max  bytes kept before the cut.
 * @return a malloc'd string, or NULL when out of memory.
 */
char *text_clean(const char *s, size_t max);

/**
 * text_printable() - whether @s may be shown as it is: non-empty, at most
 * @max bytes, printable ASCII only (0x21-0x7e; with @space also 0x20).
 */
bool text_printable(const char *s, size_t max, bool space);
