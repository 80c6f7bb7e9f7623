/* What `vigil sessions`, `vigil replay` and `vigil watch` show, computed
 * from the store in one place for both ways the CLI gets it: directly (root)
 * and through vigild (everyone else), whose store backend runs this same
 * code in a child process and sends what it yields as protocol items
 * (view_item_encode()); the CLI decodes them (view_item_decode()) and
 * prints from the same values either way, so the output is the same byte
 * for byte.
 *
 * Shared by vigild (ops-store.c) and the CLI (tools/); linked as
 * dep_vigil_view. Nothing here prints, logs or exits. docs/vigild.md
 * describes the items on the wire. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

/* ---- session summaries (sessions.list, `vigil sessions`) -------------- */

/* The longest JSON text of one item (the protocol's bound on `item`). */
#define VIEW_JSON_MAX 61440u

/**
 * view_how_name() - how a session ended, as listings show it.
 * @return "exit", "killed", "lost", "live" (not ended, its writer runs) or
 *         "orphan" (not ended, its writer is gone); a static string.
 */
const char *view_how_name(const vigil_session_info *i);

/**
 * view_session_json() - a session's summary as one JSON object, without a
 * newline: the line `vigil sessions --json` prints and the item of a
 * sessions.list reply. Strings are escaped so that the text is also valid
 * protocol text (control, line-separator and bidi code points as \uXXXX,
 * invalid UTF-8 as \ufffd). A summary whose JSON would exceed
 * VIEW_JSON_MAX comes out compact instead: strings cut to 64 bytes and
 * lists to 32 entries (a cut string ends with U+2026), and "cut": true.
 * @param[out] ret      malloc'd, NUL-terminated (the caller frees); untouched on failure.
 * @param[out] ret_len  its length, at most VIEW_JSON_MAX.
 * @return 0, -ENOMEM, -E2BIG (cannot happen with the bounds above; checked).
 */
int view_session_json(const vigil_session_info *i, char **ret, size_t *ret_len);

/* A sessions query: the store's filter, a regular expression over command
 * lines (sessions that ran a matching command), and "running now". */
typedef struct view_list_query {
        vigil_session_filter filter;
        const char *command; /* NULL: any */
        bool live;           /* only sessions not ended whose writer is alive */
} view_list_query;

/**
 * view_list_times() - the time bounds a query uses, at millisecond
 * precision (the protocol's): @since rounded down to its millisecond,
 * @until (0: none) to the end of its millisecond. Both ways of listing use
 * it, so they include the same sessions.
 */
void view_list_times(uint64_t since_us, uint64_t until_us, uint64_t *ret_since_us, uint64_t *ret_until_us);

/**
 * view_sessions() - call @cb for each session matching @q, oldest first.
 * @return 0, what @cb returned if negative, VIGIL_E_PARSE for a bad regular
 *         expression (vigil_store_errmsg() says why), or a store error.
 */
int view_sessions(vigil_store *st, const view_list_query *q, vigil_session_cb cb, void *userdata);

/* ---- errors as both ways print them ---------------------------------- */

/* The longest error text (after "vigil: CMD: "): short enough that vigild's
 * refusal line carries all of it, so both ways print the same. */
#define VIEW_ERR_MAX 320u

/**
 * view_text_clean() - make @buf one line of protocol text in place: control
 * bytes become '?', and a UTF-8 sequence cut at the end or invalid is
 * dropped (then cut further until it is valid).
 */
void view_text_clean(char *buf);

/**
 * view_store_error() - "WHAT: <the store's message, or the error's text>",
 * the text after "vigil: CMD: " of a failed store call (cleaned, at most
 * VIEW_ERR_MAX bytes; give @size VIEW_ERR_MAX + 1).
 */
void view_store_error(const vigil_store *st, const char *what, int r, char *buf, size_t size);

/**
 * view_store_open_error() - the text after "vigil: CMD: " of a failed
 * vigil_store_open() on @dir in this thread.
 */
void view_store_open_error(const char *dir, int r, char *buf, size_t size);

/* Looking a session up by id or prefix fails in three ways, which vigild
 * reports with these fixed phrases (it never repeats a caller's value) and
 * the CLI turns back into its own messages, which name the argument. */
#define VIEW_NO_SESSION "no such session"
#define VIEW_AMBIGUOUS "ambiguous session prefix"
#define VIEW_NOT_AN_ID "not a session id"

/** The phrase for a vigil_store_find_session() error (-ENOENT, -ENOTUNIQ, -EINVAL), else NULL. */
const char *view_find_phrase(int r);
/** The error for a phrase (the inverse), or 0 when @text is none of them. */
int view_find_error(const char *text);

/* ---- replay and watch: a session's output as a stream of items -------- */

/* The longest output piece of one item (the protocol's bound on `data`). */
#define VIEW_DATA_MAX 61440u

typedef enum view_item_kind {
        VIEW_HEADER,  /* always first: the session */
        VIEW_COMMAND, /* replay: each command, in order, before any output */
        VIEW_OUTPUT,  /* output bytes */
        VIEW_OMITTED, /* output not kept: a digest, or the cut at max_output */
        VIEW_SKIP,    /* output left out before a requested start point */
        VIEW_END,     /* the session ended */
} view_item_kind;

/* One item. Offsets into the output stream are not carried: a reader adds
 * up `len` of OUTPUT, OMITTED and SKIP items from 0. */
typedef struct view_item {
        view_item_kind kind;
        /* HEADER */
        uint8_t id[VIGIL_SESSION_ID_LEN];
        uint64_t start_us;   /* wall clock of the start */
        uint64_t n_commands; /* commands the summary counts */
        /* COMMAND */
        uint32_t no;
        int decision;      /* vigil_decision_kind */
        uint64_t exec_off; /* output offset at its exec */
        /* OUTPUT, OMITTED: wall clock in ms since the epoch */
        int64_t time_ms;
        /* OUTPUT, OMITTED, SKIP: output bytes it stands for (OUTPUT: at most VIEW_DATA_MAX) */
        uint64_t len;
        const uint8_t *data;   /* OUTPUT: len bytes, valid until the next call */
        vigil_frame_kind omit; /* OMITTED: VIGIL_FRAME_DIGEST or VIGIL_FRAME_CUT */
        uint8_t sha256[32];    /* OMITTED digest */
        /* END */
        vigil_end_how how;
        int exit_status; /* wait status; -1 none */
} view_item;

typedef struct view_stream_opts {
        bool follow; /* watch: wait for more until the session ends */
        /* A start point (session.replay's at / command_no): output before it
         * becomes one SKIP item. At most one. */
        bool has_at, has_command_no;
        uint64_t at_ms; /* into the session */
        uint32_t command_no;
} view_stream_opts;

typedef struct view_stream view_stream;

/** view_stream_new() - prepare to read session @id (nothing is read yet). */
int view_stream_new(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], const view_stream_opts *o,
                    view_stream **ret);

/**
 * view_stream_next() - the next item.
 * Replay (not follow): HEADER, every COMMAND, then the output recorded so
 * far (and END if it ended). Follow: HEADER, the output, END; until then
 * -EAGAIN whenever nothing new is committed (call again after about
 * VIEW_FOLLOW_POLL_MS).
 * @param[out] ret  valid until the next call.
 * @return 1 with an item; 0 at the end; -EAGAIN (follow: nothing new yet);
 *         VIGIL_E_CORRUPT, -ENOENT (no command_no), VIEW_E_GONE or another
 *         error, with view_stream_errmsg() saying what.
 */
int view_stream_next(view_stream *s, view_item *ret);

#define VIEW_FOLLOW_POLL_MS 200
/* A followed session whose writer died without ending it. */
#define VIEW_E_GONE (-EPIPE)

/** The text after "vigil: CMD: " for the last error. Never NULL. */
const char *view_stream_errmsg(const view_stream *s);

view_stream *view_stream_free(view_stream *s);

/* ---- the items on the wire ------------------------------------------- */

/**
 * view_item_encode() - add @it's fields to an item message: OUTPUT as
 * `data` + `time`, everything else as one JSON `item` (docs/vigild.md).
 * @return 0, -ENOMEM, -ERANGE (a number JSON cannot carry), or the builder's error.
 */
int view_item_encode(const view_item *it, vmsg_builder *b);

/**
 * view_item_decode() - the item in a received watch or replay item message.
 * @param[out] ret  points into @m (OUTPUT data) and is valid while @m is.
 * @return 0, or VIGIL_E_PARSE for an item this code does not understand.
 */
int view_item_decode(const vmsg *m, view_item *ret);
