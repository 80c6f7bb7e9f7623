/* Approval outcomes of command events, for `vigil audit` and `vigil export`:
 * looked up in each session's chain (vigil_store_session_approvals()) and
 * printed the same way by both.
 *
 * Lookups go through a small cache of a few sessions, each holding the
 * outcomes of a bounded window of its command numbers, so that a stream of
 * events of any length is served in constant memory; a session is read
 * again only when an event falls outside its window or it was evicted. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

typedef struct outcome_cache outcome_cache;

/* An event's outcome: the chain's record, and for a command approved by
 * remember=session the earlier approval it repeats (NULL when not found). */
typedef struct outcome_ref {
        const vigil_approval_outcome *o;      /* NULL: the chain has none */
        const vigil_approval_outcome *origin; /* o->remembered only */
} outcome_ref;

/** Whether an event with decision @d has an outcome to look up (approved, rejected, timeout, withdrawn). */
bool outcome_wanted(vigil_decision_kind d);

/**
 * outcome_cache_new() - an empty cache reading @st (borrowed: it must
 * outlive the cache).
 * @return 0 or -ENOMEM.
 */
int outcome_cache_new(vigil_store *st, outcome_cache **ret);

/** Free the cache. Accepts NULL; returns NULL. */
outcome_cache *outcome_cache_free(outcome_cache *c);

/**
 * outcome_cache_find() - the outcome recorded for the command of event @e
 * (its session and number). Events are expected in time order (or one
 * session's in command order): a session that ended before @e's time leaves
 * the cache. A miss in a live session reads it again (the decision may be
 * newer than the cached read); a session that is gone (pruned) has none.
 * @param[out] ret  filled on success; the pointers stay valid until the next call.
 * @return 0 (ret->o NULL when there is none); VIGIL_E_CORRUPT (a damaged
 *         record: vigil_store_errmsg() says which); other store errors.
 */
int outcome_cache_find(outcome_cache *c, const vigil_event *e, outcome_ref *ret);

/**
 * outcome_print_json() - `"approval":{...}`, or `"approval":null` when @r->o
 * is NULL (no leading comma). Fields: request, remembered, decided_by
 * ({subject, email, groups, local, via} as in the request's JSON document,
 * groups null when none; or null when nobody is known; left out for timeout
 * and withdrawn), decided_at (RFC 3339 UTC, ms), reason.
 * For a remembered approval decided_by, decided_at and reason are the
 * earlier approval's (not found in the chain: null, its own time, null).
 */
void outcome_print_json(FILE *f, const outcome_ref *r);

/**
 * outcome_print_csv() - the four CSV cells request, decided_by, decided_at,
 * reason, each with a leading comma; empty cells when @r->o is NULL.
 * decided_by is the decider's subject, else "local:ACCOUNT", else empty.
 * @return 0 or -ENOMEM (a cell may then be missing: stop).
 */
int outcome_print_csv(FILE *f, const outcome_ref *r);
