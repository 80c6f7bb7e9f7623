/* Shared helpers for the masker's unit tests. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mask.h"

/* A set with every built-in detector, in vigil_mask_detectors[] order. */
vigil_mask_set *all_detectors(void);

/* One rule set from a single regex= rule. */
vigil_mask_set *one_regex(const char *regex, const char *replace);

/* Run text through a new stream of set, fed in chunks of `chunk` bytes (0: one
 * feed), flushed. Returns the recording's copy, NUL-terminated; the caller
 * frees it. ret_stream, when not NULL, gets the stream (the caller frees it). */
char *mask_text(const vigil_mask_set *set, const char *in, size_t len, size_t chunk,
                vigil_mask_stream **ret_stream);

/* Same with a NUL-terminated input and one feed. */
char *mask_str(const vigil_mask_set *set, const char *in);
