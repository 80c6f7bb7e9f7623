/* Shared by the identity tests: a private temporary directory removed at the
 * end, a configuration from text, and a fixed clock. */
#pragma once

#include <stdint.h>

#include "config/config.h"

/* 2030-03-17T17:46:40Z: fixed so reasons with times are exact. */
#define TEST_NOW 1900000000LL
#define TEST_ISSUER "https://idp.example"
#define TEST_AUDIENCE "vigil-test"

extern int64_t test_now;
int64_t test_clock(void *userdata);

/** mkdtemp under $TMPDIR or /tmp; aborts on failure; returns a static path. */
const char *test_tmpdir(const char *name);

/** rm -r @path (no shell). */
void test_rm_rf(const char *path);

/** Parse configuration text (printf format); aborts with the parser's message on error. */
vigil_config *test_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Claims of a good token for "alice", with @override (a JSON object text, or NULL) merged in;
 *  members set to null there are removed. malloc'd. */
char *test_claims(const char *override);
