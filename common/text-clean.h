/* Untrusted text made safe to show on one line. */
#pragma once

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
