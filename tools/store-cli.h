/* What the store commands share: opening the store, resolving a session
 * argument, reading time options; each prints its one-line error itself. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "store.h"

/**
 * cli_store_open() - open the store at g->store (never creating it).
 * @param[in] write  false: read-only (LMDB MDB_RDONLY: nothing can be written).
 * @return 0, or EXIT_FAIL after printing "vigil: CMD: <why>".
 */
int cli_store_open(const vigil_globals *g, const char *cmd, bool write, vigil_store **ret);

/**
 * cli_find_error() - the line for a session argument that names no session
 * (-ENOENT), several (-ENOTUNIQ) or is none (-EINVAL).
 * @return EXIT_FAIL after printing it; -1 (nothing printed) for other errors.
 */
int cli_find_error(const char *cmd, const char *arg, int r);

/** Resolve a session id or unique prefix; EXIT_FAIL with one line when not found or ambiguous. */
int cli_find_session(vigil_store *st, const char *cmd, const char *arg, uint8_t ret_id[VIGIL_SESSION_ID_LEN]);

/** Parse a time option's value (RFC 3339 or relative); EXIT_USAGE with one line when invalid. */
int cli_time_arg(const char *cmd, const char *opt, const char *arg, uint64_t *ret_us);

/** Print a store error "vigil: CMD: WHAT: <store message or errno text>"; returns EXIT_FAIL. */
int cli_store_error(vigil_store *st, const char *cmd, const char *what, int r);

/** "1h02m03s" / "12.3s" for a duration in µs. */
void cli_format_duration(uint64_t us, char buf[32]);

/** "exit", "killed", "lost", "live" or "orphan" (unsealed, writer gone). */
const char *cli_how_name(const vigil_session_info *i);
