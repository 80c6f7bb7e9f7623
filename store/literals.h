/* Required literals of a regex (literals.c). */
#pragma once

#include "store-internal.h"

/**
 * regex_literals() - literals of at least 3 bytes that every match of @re contains.
 * @param[out] out    varint(len) + bytes for each literal (reset first).
 * @param[out] ret_n  how many; 0 means "use no index".
 * @return 0 or -ENOMEM.
 */
int regex_literals(const char *re, vbuf *out, size_t *ret_n);
