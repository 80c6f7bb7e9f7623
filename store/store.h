/* vigil session store: the whole public interface.
 *
 * One LMDB environment per host (default /var/lib/vigil, directory 0700,
 * files 0600, owned by root) holds every recorded session. Many writer
 * processes (one per supervised session) append to it at once; readers (the
 * `vigil` commands) never block writers. Format and guarantees: docs/store.md.
 *
 * A session is an append-only list of records (begin, output and input
 * chunks, resizes, command events, masking counts, end, seal). Each record
 * carries the SHA-256 of (previous hash, session id, sequence number, record
 * content), so the records form a chain per session; at the end the head is
 * signed with the host's Ed25519 key. Derived tables (session summaries,
 * per-command events, the user index and the search index) are rebuilt by
 * `vigil verify` from the chain and compared, so they cannot be edited
 * unnoticed either.
 *
 * Rules for callers (LMDB's, see lmdb.h "Caveats"):
 *  - Open the store in the process that uses it, after any fork, and only once
 *    per process. A child must never use a handle its parent opened.
 *  - Every function here runs its own short transaction and returns; none
 *    keeps a transaction open across a call boundary, so the caller may block
 *    (PTY reads, approval waits) between calls.
 *  - The writer batches: data appended with vigil_session_output() and
 *    friends sits in memory until the next commit, which happens when about
 *    VIGIL_STORE_BATCH_BYTES are pending or when the caller's loop calls
 *    vigil_session_flush() and the oldest pending data is older than
 *    VIGIL_STORE_BATCH_USEC. A power loss loses at most that window.
 *
 * Errors: every function returns >= 0 on success and a negative errno or
 * VIGIL_E_* code (common/vigil-error.h) on failure. -ENOSPC is a full disk or
 * a full map, -EACCES/-EPERM a permission problem, VIGIL_E_CORRUPT a damaged
 * environment or record, VIGIL_E_FORMAT a store written by a newer vigil.
 * vigil_store_errmsg() gives the failing step and LMDB's own text. The store
 * never logs and never decides policy: on a writer error the caller applies
 * `record on_failure=`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

/* ---- constants ------------------------------------------------------ */

#define VIGIL_STORE_FORMAT 3u                   /* format version this code writes (2: approvals, 3: pieces) */
#define VIGIL_STORE_BATCH_USEC 1000000u         /* commit at least this often while data is pending */
#define VIGIL_STORE_BATCH_BYTES (1024u * 1024)  /* ... or when this much is pending */
#define VIGIL_STORE_UNIT_BYTES (1024u * 1024)   /* output per compression and search unit */
#define VIGIL_STORE_MAX_STRING 65536u           /* bytes of one stored string (argv element, cwd ...) */
#define VIGIL_STORE_MAX_ARGV 4096u              /* elements of one stored argv */
#define VIGIL_STORE_DEFAULT_KEY "/etc/vigil/host.key"
#define VIGIL_SESSION_ID_LEN 16                 /* bytes of a session id (UUIDv7) */
#define VIGIL_SESSION_ID_STRLEN 36              /* its text form, without NUL */

typedef struct vigil_store vigil_store;
typedef struct vigil_session vigil_session;

/* ---- opening -------------------------------------------------------- */

typedef enum vigil_store_open_flags {
        VIGIL_STORE_READONLY = 1 << 0, /* never write anything (LMDB MDB_RDONLY) */
        VIGIL_STORE_CREATE = 1 << 1,   /* create the directory and the environment when missing */
} vigil_store_open_flags;

typedef struct vigil_store_options {
        const char *dir;      /* the store directory */
        const char *key_path; /* host key; NULL = VIGIL_STORE_DEFAULT_KEY */
        uint64_t map_size;    /* LMDB map size; 0 = 1 TiB (address space only; the file grows as used) */
        int zstd_level;       /* output compression level; 0 = adaptive (docs/store.md): 1 for
                               * random-looking data, 3 for bulk output after a MiB of it,
                               * 19 for output at an interactive pace, else 9 */
        unsigned flags;       /* vigil_store_open_flags */
} vigil_store_options;

/**
 * vigil_store_open() - open (or create) the store.
 * Checks that the directory is owned by the effective user and not accessible
 * to group or others (creates it 0700 with VIGIL_STORE_CREATE), opens LMDB with
 * files 0600, clears reader slots of dead processes, and checks the format
 * version (writing it into a new store).
 * @param[in]  o    options; strings are copied.
 * @param[out] ret  the store (vigil_store_close); untouched on failure.
 * @return 0; -ENOENT (no store and no VIGIL_STORE_CREATE); -EPERM (unsafe ownership
 *         or mode); VIGIL_E_FORMAT (newer or older format: see vigil_store_errmsg());
 *         VIGIL_E_CORRUPT (not a vigil store, damaged environment); other -errno.
 */
int vigil_store_open(const vigil_store_options *o, vigil_store **ret);

/** Close the store. Accepts NULL; returns NULL. Sessions must be freed first. */
vigil_store *vigil_store_close(vigil_store *st);

/**
 * vigil_store_errmsg() - what failed last on this store handle, e.g.
 * "mdb_txn_commit: MDB_MAP_FULL: Environment mapsize limit reached". Kept per
 * thread: threads sharing the handle each see their own last failure.
 * @return a string owned by the store, valid until the thread's next call on it; never NULL.
 */
const char *vigil_store_errmsg(const vigil_store *st);

/**
 * vigil_store_open_errmsg() - the message for a failed vigil_store_open() in this
 * thread (the store handle does not exist then). Never NULL.
 */
const char *vigil_store_open_errmsg(void);

/**
 * vigil_store_format() - the format version of the store at @dir without opening
 * it for use (for `vigil store migrate`).
 * @param[out] ret_version  the version found.
 * @return 0, -ENOENT, VIGIL_E_CORRUPT.
 */
int vigil_store_format(const char *dir, uint32_t *ret_version);

/**
 * vigil_store_migrate() - bring a store of an older format version to
 * VIGIL_STORE_FORMAT. Refuses a newer version (VIGIL_E_FORMAT).
 * @param[out] ret_from  the version found before migrating.
 * @return 0 (including "already current"), or an error; nothing is changed on error.
 */
int vigil_store_migrate(const char *dir, uint32_t *ret_from);

/* ---- session ids ---------------------------------------------------- */

/** Format @id as 36 characters plus NUL into @buf (UUID text, lower case). */
void vigil_session_id_format(const uint8_t id[VIGIL_SESSION_ID_LEN], char buf[VIGIL_SESSION_ID_STRLEN + 1]);

/**
 * vigil_session_id_parse() - the 16 bytes of a full id in its text form
 * (36 characters: 8-4-4-4-12 hexadecimal digits, either case).
 * @param[out] ret  untouched on failure.
 * @return 0, or -EINVAL for anything else (a prefix, missing dashes, other characters).
 */
int vigil_session_id_parse(const char *text, uint8_t ret[VIGIL_SESSION_ID_LEN]);

/**
 * vigil_store_find_session() - resolve a full id or a unique prefix of one
 * (dashes optional, case ignored).
 * @param[out] ret_id  the session's id.
 * @return 0; -ENOENT (no such session); -ENOTUNIQ (prefix names several);
 *         -EINVAL (not hexadecimal); other errors.
 */
int vigil_store_find_session(vigil_store *st, const char *prefix, uint8_t ret_id[VIGIL_SESSION_ID_LEN]);

/* ---- writing a session ---------------------------------------------- */

/* Who and where, given once at the start. All strings are copied; NULL = absent. */
typedef struct vigil_session_meta {
        const char *user; /* local account (required) */
        uint32_t uid;
        const char *subject; /* token subject */
        const char *email;
        const char *const *groups; /* token groups */
        size_t n_groups;
        const char *host;   /* NULL = this host's name */
        const char *tty;    /* e.g. "/dev/pts/3" */
        const char *client; /* from SSH_CONNECTION: "ADDR PORT" */
        const char *const *argv; /* the session's command (CMD of vigil run) */
        size_t argc;
        uint64_t start_us; /* wall clock, µs since the epoch; 0 = now */
        uint16_t cols, rows;
        const uint8_t *id; /* NULL: a new UUIDv7; else VIGIL_SESSION_ID_LEN bytes, the id the
                            * supervisor already gave the session (events, cgroup), a UUIDv7
                            * whose time is not after start_us (ids sort by start) */
} vigil_session_meta;

/* How a session ended. */
typedef enum vigil_end_how {
        VIGIL_END_LIVE = 0,  /* not ended (only in summaries) */
        VIGIL_END_EXIT = 1,  /* the command exited (or was killed by a signal of its own) */
        VIGIL_END_KILLED = 2, /* ended by vigil (vigil kill, on_failure=kill, ...) */
        VIGIL_END_LOST = 3,  /* the supervisor died; sealed later as truncated */
} vigil_end_how;

/** "exit", "killed", "lost"; NULL for VIGIL_END_LIVE and anything else. */
const char *vigil_end_how_name(int how);

/* A command event's decision (issue 3, approvals add the last five). A held
 * command's event says `held` until its approval record (VIGIL_REC_APPROVAL)
 * gives it the outcome; it stays `held` only in a session whose supervisor
 * died while it waited. */
typedef enum vigil_decision_kind {
        VIGIL_DEC_ALLOW,
        VIGIL_DEC_DENY,
        VIGIL_DEC_AUDIT,
        VIGIL_DEC_KILLED,
        VIGIL_DEC_APPROVED,
        VIGIL_DEC_REJECTED,
        VIGIL_DEC_TIMEOUT,
        VIGIL_DEC_WITHDRAWN,
        VIGIL_DEC_HELD, /* format 2 */
        _VIGIL_DEC_MAX,
} vigil_decision_kind;

/** @return "allow", "deny", ... ; NULL for an out-of-range value. */
const char *vigil_decision_name(vigil_decision_kind d);
/** @return the decision named @name, or -EINVAL. */
int vigil_decision_from_name(const char *name);

/* One exec attempt. Strings are copied. */
typedef struct vigil_command_info {
        uint64_t time_us; /* wall clock of the attempt; 0 = now */
        int32_t pid, ppid;
        const char *runas;
        const char *cwd;
        const char *exe; /* NULL for a fileless exec */
        const char *const *argv;
        size_t argc;
        vigil_decision_kind decision;
        const char *rule; /* "FILE:LINE" or "default" */
} vigil_command_info;

/**
 * vigil_session_begin() - start recording a session.
 * Writes (and commits at once) the session's first record, with the writer's
 * identity (pid, process start time, boot id) so that vigil_store_seal_orphans()
 * can later tell whether this writer still lives.
 * @param[in]  st    an open, writable store.
 * @param[in]  meta  who and where.
 * @param[in]  opts  the policy's record options (copied): input, output, binary, max_output.
 *                   on_failure is not used by the store; the caller applies it.
 * @param[out] ret   the session (free with vigil_session_free() after vigil_session_end()).
 * @return 0 or an error (see the top of this file); -EINVAL for a missing user or an
 *         id that is not a UUIDv7 starting at or before start_us; a session that
 *         already exists with @meta->id fails (MDB_KEYEXIST: nothing is written).
 */
int vigil_session_begin(vigil_store *st, const vigil_session_meta *meta, const vigil_record_opts *opts,
                        vigil_session **ret);

/** The session's id (valid while @s lives). */
const uint8_t *vigil_session_id(const vigil_session *s);

/**
 * vigil_session_output() / vigil_session_input() - append bytes shown on the
 * terminal (already masked) or typed by the user. Input is kept only when the
 * record options say input=yes, output only with output=yes (otherwise these
 * still count bytes and positions). Binary data (detected per write) is kept as
 * its length and SHA-256 unless binary=full; beyond max_output the session is
 * marked truncated and the rest is kept as digests, with a marker where it was cut.
 * May commit (when the batch is full): a commit error is returned here.
 * @param[in] t_us  wall clock of the write, µs since the epoch; 0 = now.
 * @return 0 or an error. After an error the session is failed: every later call
 *         returns the same error and nothing more is written; the session stays
 *         unsealed, and is sealed as truncated once its writer is gone.
 */
int vigil_session_output(vigil_session *s, uint64_t t_us, const void *buf, size_t len);
int vigil_session_input(vigil_session *s, uint64_t t_us, const void *buf, size_t len);

/** Record a window size change. */
int vigil_session_resize(vigil_session *s, uint64_t t_us, uint16_t cols, uint16_t rows);

/**
 * vigil_session_command() - record an exec attempt (allowed, denied, held ...),
 * with the output position (time, byte offset) at this moment.
 * @param[out] ret_no  the command's number in the session (for vigil_session_command_exit()); may be NULL.
 */
int vigil_session_command(vigil_session *s, const vigil_command_info *c, uint32_t *ret_no);

/* The outcome of a held command, as the session's chain keeps it (issue 9):
 * the audit record of the decision, tied to its command event. Strings may be
 * NULL when absent; the writer copies them. */
typedef struct vigil_approval_outcome {
        uint32_t command_no;          /* the held command's event */
        char *request;                /* the request's id */
        vigil_decision_kind decision; /* APPROVED, REJECTED, TIMEOUT or WITHDRAWN */
        bool remembered;              /* approved by an earlier request of this session
                                       * (remember=session): @request names that one */
        char *by_subject, *by_email; /* who decided (approved, rejected): identity-provider subject */
        char **by_groups;
        size_t by_n_groups;
        char *by_local; /* their local account */
        char *by_via;   /* "session", "device", "local" */
        uint64_t decided_us; /* wall clock of the decision */
        char *reason;
} vigil_approval_outcome;

/**
 * vigil_session_approval() - record the outcome of a held command: an approval
 * record in the chain, and the command's event takes @o->decision. The command
 * must have been recorded with VIGIL_DEC_HELD (or, @o->remembered, with
 * VIGIL_DEC_APPROVED) and not decided yet. An approved command may exit later
 * (vigil_session_command_exit()); any other outcome ends it.
 * @return 0, -ENOENT (no such command waiting), -EINVAL (bad outcome), or a writer error.
 */
int vigil_session_approval(vigil_session *s, const vigil_approval_outcome *o);

/**
 * vigil_session_command_exit() - the command that was executed has exited.
 * Records the wait status, the duration since the exec, the output position at
 * exit and the output bytes in between.
 * @param[in] no           from vigil_session_command().
 * @param[in] t_us         wall clock; 0 = now.
 * @param[in] wait_status  as from waitpid() (WIFEXITED / WIFSIGNALED).
 * @param[in] decision     VIGIL_DEC_KILLED when vigil killed it (the exec check), else
 *                         the value given at exec (pass -1 to keep it).
 * @return 0, -ENOENT for an unknown or already exited @no, or a writer error.
 */
int vigil_session_command_exit(vigil_session *s, uint32_t no, uint64_t t_us, int wait_status, int decision);

/**
 * vigil_session_masked() - add @n maskings by @detector (the detector's name,
 * or the rule's "FILE:LINE" for a regex rule) to the session's counts.
 * Counts are written at the next commit and appear in the summary and audit.
 */
int vigil_session_masked(vigil_session *s, const char *detector, uint64_t n);

/**
 * vigil_session_flush() - commit pending data if it is due.
 * Call it from the event loop at least every vigil_session_flush_timeout_ms()
 * milliseconds. @force commits whatever is pending now.
 * @return 1 when it committed, 0 when nothing was due, or an error.
 */
int vigil_session_flush(vigil_session *s, bool force);

/** Milliseconds until vigil_session_flush() has work to do; -1 when nothing is pending. */
int vigil_session_flush_timeout_ms(const vigil_session *s);

/**
 * vigil_session_end() - record the end and seal the session: writes the end
 * record (how, exit status, truncated) and the seal (Ed25519 over the chain head,
 * with the host key, created 0600 on first use) and commits.
 * @param[in] wait_status  the session command's wait status; ignored for VIGIL_END_KILLED
 *                         when negative.
 * @return 0 or an error. The session must still be freed.
 */
int vigil_session_end(vigil_session *s, uint64_t t_us, int wait_status, vigil_end_how how);

/**
 * vigil_session_free() - release the session. Without a successful
 * vigil_session_end() before, pending data is dropped and the session stays
 * unsealed (an orphan once this process is gone). Accepts NULL; returns NULL.
 */
vigil_session *vigil_session_free(vigil_session *s);

/** The session's sticky error (0 when healthy). */
int vigil_session_error(const vigil_session *s);

/* ---- reading: summaries --------------------------------------------- */

typedef struct vigil_mask_count {
        char *detector;
        uint64_t count;
} vigil_mask_count;

/* A session's summary. Strings may be NULL when absent. Owned by the callee
 * for callbacks; free copies made by vigil_session_info_get() with
 * vigil_session_info_clear(). */
typedef struct vigil_session_info {
        uint8_t id[VIGIL_SESSION_ID_LEN];
        char *user;
        uint32_t uid;
        char *subject, *email;
        char **groups;
        size_t n_groups;
        char *host, *tty, *client;
        char **argv;
        size_t argc;
        uint64_t start_us, end_us; /* end_us 0 while live */
        int exit_status;           /* wait status; -1 when none */
        vigil_end_how how;
        bool truncated, sealed;
        uint16_t cols, rows;
        uint64_t n_records, n_commands, out_bytes, in_bytes;
        vigil_mask_count *masks;
        size_t n_masks;
        vigil_record_opts opts;
        int32_t writer_pid;
        uint64_t writer_start; /* /proc/PID/stat starttime */
        uint8_t boot_id[16];
} vigil_session_info;

void vigil_session_info_clear(vigil_session_info *i);

/**
 * vigil_session_info_get() - the summary of one session.
 * @param[out] ret  filled on success (clear it with vigil_session_info_clear()).
 * @return 0, -ENOENT, VIGIL_E_CORRUPT.
 */
int vigil_session_info_get(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_session_info *ret);

/** Whether the writer recorded in @i is still running (same boot, pid, start time). */
bool vigil_session_writer_alive(const vigil_session_info *i);

/* Session filters (all optional: NULL / 0 = any). */
typedef struct vigil_session_filter {
        const char *user;
        const char *host;
        uint64_t since_us, until_us; /* start time range, inclusive; until 0 = no bound */
} vigil_session_filter;

/* Return 0 to go on, > 0 to stop (returned by the iterator), < 0 to fail. */
typedef int (*vigil_session_cb)(void *userdata, const vigil_session_info *i);

/**
 * vigil_store_sessions() - the sessions matching @f, oldest first, through the
 * user index when @f->user is set and the time order of ids otherwise (so a
 * bounded query does not read the whole store). Reads in batches of short
 * transactions; the callback runs outside any transaction.
 */
int vigil_store_sessions(vigil_store *st, const vigil_session_filter *f, vigil_session_cb cb, void *userdata);

/* ---- reading: command events ---------------------------------------- */

typedef struct vigil_event {
        uint8_t session[VIGIL_SESSION_ID_LEN];
        uint32_t no;
        uint64_t time_us; /* wall clock of the attempt */
        char *user, *host;
        int32_t pid, ppid;
        char *runas, *cwd, *exe; /* exe NULL when fileless */
        char **argv;
        size_t argc;
        vigil_decision_kind decision;
        char *rule;
        bool exited;
        int wait_status;      /* valid when exited */
        uint64_t duration_ms; /* exec to exit, when exited */
        uint64_t exec_t_us, exec_off; /* session-relative time and output offset at exec */
        uint64_t exit_t_us, exit_off; /* ... at exit (when exited) */
} vigil_event;

void vigil_event_clear(vigil_event *e);

typedef struct vigil_event_filter {
        const char *user;
        uint64_t since_us, until_us;
        int decision; /* -1 = any */
        const uint8_t *session; /* NULL = any */
} vigil_event_filter;

typedef int (*vigil_event_cb)(void *userdata, const vigil_event *e);

/**
 * vigil_store_events() - command events in time order, through the time index
 * (or the session's own events when @f->session is set). Constant memory: each
 * event is decoded, passed and released; transactions are renewed in batches.
 */
int vigil_store_events(vigil_store *st, const vigil_event_filter *f, vigil_event_cb cb, void *userdata);

/* ---- reading: approval outcomes ------------------------------------ */

/* Return 0 to go on, > 0 to stop (the iterator then returns 0), < 0 to fail. */
typedef int (*vigil_outcome_cb)(void *userdata, const vigil_approval_outcome *o);

/**
 * vigil_store_session_approvals() - the outcomes of a session's held commands
 * as its chain records them (VIGIL_REC_APPROVAL), in record order: for each,
 * the command's number, the request, the decision, who decided by which
 * identity, when and why. This is the authoritative account (issue 9): the
 * approvals table's copy of a decided request goes with `vigil prune`'s
 * cut-off, the chain record goes with the session. A command approved by
 * remember=session has its own record, naming the earlier request.
 *
 * Only approval records are read whole and decoded: every other record is
 * told by its type byte and stepped over, so output chunks are neither
 * decompressed nor copied however much output the session holds. The hash
 * chain is not checked (vigil_store_verify() does that). Reads in short
 * read transactions of a few thousand records each; @cb runs outside any.
 * @param[in] id   the session.
 * @param[in] cb   called per outcome; @o and its strings are valid during the call only.
 * @return 0 (also for a session without approvals, or when @cb stopped);
 *         -ENOENT (no record of that session); VIGIL_E_CORRUPT (an approval record
 *         that does not decode, a record too short to have a type, or a piece
 *         missing: vigil_store_errmsg() names the session and the record);
 *         @cb's negative value; -EINVAL (NULL arguments); other errors.
 */
int vigil_store_session_approvals(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_outcome_cb cb,
                                  void *userdata);

/* ---- reading: records ----------------------------------------------- */

typedef enum vigil_record_type {
        VIGIL_REC_BEGIN = 1,
        VIGIL_REC_OUTPUT = 2,
        VIGIL_REC_INPUT = 3,
        VIGIL_REC_RESIZE = 4,
        VIGIL_REC_COMMAND = 5,
        VIGIL_REC_COMMAND_EXIT = 6,
        VIGIL_REC_MASKS = 7,
        VIGIL_REC_END = 8,
        VIGIL_REC_SEAL = 9,
        VIGIL_REC_APPROVAL = 10, /* format 2 */
        _VIGIL_REC_MAX,
} vigil_record_type;

/** "begin", "output", ... ; "unknown" otherwise. */
const char *vigil_record_type_name(int type);

/* A piece of a stream inside a chunk. */
typedef enum vigil_frame_kind {
        VIGIL_FRAME_TEXT = 0,   /* bytes kept */
        VIGIL_FRAME_BINARY = 1, /* binary bytes kept (binary=full) */
        VIGIL_FRAME_DIGEST = 2, /* binary bytes not kept: length and SHA-256 */
        VIGIL_FRAME_CUT = 3,    /* max_output reached here: the rest are digests */
} vigil_frame_kind;

typedef struct vigil_frame {
        uint64_t t_us;   /* session-relative */
        uint64_t offset; /* stream offset of its first byte */
        uint64_t len;    /* stream bytes it stands for */
        vigil_frame_kind kind;
        const uint8_t *data;  /* TEXT/BINARY: len bytes; else NULL */
        uint8_t sha256[32];   /* DIGEST: digest of the omitted bytes */
} vigil_frame;

typedef struct vigil_record {
        uint64_t seq;
        vigil_record_type type;
        uint64_t t_us; /* session-relative */
        union {
                vigil_session_info *begin; /* BEGIN: the metadata part of a summary */
                struct {
                        uint32_t unit;
                        uint64_t offset; /* stream offset of the first frame */
                        size_t n_frames;
                        const vigil_frame *frames;
                } chunk; /* OUTPUT / INPUT */
                struct {
                        uint16_t cols, rows;
                } resize;
                vigil_event *command; /* COMMAND / COMMAND_EXIT (partial: no, exit fields) */
                const vigil_approval_outcome *approval; /* APPROVAL */
                struct {
                        size_t n;
                        const vigil_mask_count *counts;
                } masks;
                struct {
                        vigil_end_how how;
                        int exit_status; /* -1 none */
                        bool truncated;
                        uint64_t out_bytes, in_bytes, n_commands;
                } end;
                struct {
                        bool truncated;
                        uint64_t covers; /* records before the seal */
                        uint8_t head[32], pubkey[32], signature[64];
                } seal;
        };
} vigil_record;

typedef struct vigil_record_reader vigil_record_reader;

/**
 * vigil_record_reader_new() - read a session's records from the first one,
 * decoding chunks and checking the hash chain as it goes.
 * @param[out] ret  the reader (vigil_record_reader_free()).
 */
int vigil_record_reader_new(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_record_reader **ret);

/**
 * vigil_record_reader_next() - the next record.
 * @param[out] ret  valid until the next call or free.
 * @return 1 with a record; 0 when no further record is committed yet (call again
 *         later to follow a live session); VIGIL_E_CORRUPT when the record fails to
 *         decode or its hash does not follow the chain (the reader stops there:
 *         vigil_record_reader_problem() says what and which record); other errors.
 */
int vigil_record_reader_next(vigil_record_reader *r, const vigil_record **ret);

/** Text describing the last VIGIL_E_CORRUPT, e.g. "record 12 (output): hash mismatch". */
const char *vigil_record_reader_problem(const vigil_record_reader *r);

vigil_record_reader *vigil_record_reader_free(vigil_record_reader *r);

/* ---- search --------------------------------------------------------- */

typedef struct vigil_search_query {
        const char *regex; /* PCRE2, matched against each line of shown output and each command line */
        bool commands_only; /* only command lines (sessions --command) */
        vigil_session_filter filter;
} vigil_search_query;

typedef struct vigil_search_hit {
        const uint8_t *session;
        uint64_t t_us;       /* session-relative time of the line */
        const char *command; /* the command running then (its command line), or NULL */
        bool is_command;     /* the line is a command line */
        const char *line;    /* the matching line (escape sequences removed) */
        size_t line_len;
} vigil_search_hit;

/* Return 0 to go on, VIGIL_SEARCH_NEXT_SESSION to skip the rest of this
 * session, another value > 0 to stop, < 0 to fail. */
typedef int (*vigil_search_cb)(void *userdata, const vigil_search_hit *h);
#define VIGIL_SEARCH_NEXT_SESSION 2

typedef struct vigil_search_stats {
        uint64_t units_total, units_scanned, sessions;
} vigil_search_stats;

/**
 * vigil_store_search() - every line matching @q, session by session in time order.
 * The search index (trigram signatures per unit of output) rules out units that
 * cannot contain the regex's required literals; only the rest are decoded.
 * @param[out] ret_stats  may be NULL.
 * @return 0, VIGIL_E_PARSE for a bad regex (vigil_store_errmsg() says why), or an error.
 */
int vigil_store_search(vigil_store *st, const vigil_search_query *q, vigil_search_cb cb, void *userdata,
                       vigil_search_stats *ret_stats);

/* ---- verification, orphans, retention ------------------------------- */

typedef enum vigil_verify_flags {
        VIGIL_VERIFY_SEAL_ORPHANS = 1 << 0, /* seal sessions whose writer is gone (writes) */
} vigil_verify_flags;

typedef enum vigil_verify_status {
        VIGIL_VERIFY_OK,        /* chain, seal and derived tables intact */
        VIGIL_VERIFY_LIVE,      /* chain intact so far, writer alive, not sealed yet */
        VIGIL_VERIFY_BROKEN,    /* see the message: names the first bad record */
        VIGIL_VERIFY_UNSEALED,  /* writer gone and not sealed (an orphan) */
        VIGIL_VERIFY_SEALED_NOW, /* was an orphan; sealed as truncated by this call */
} vigil_verify_status;

typedef int (*vigil_verify_cb)(void *userdata, const uint8_t *id, vigil_verify_status status, const char *message);

/**
 * vigil_store_verify() - check every session (or one): each record's hash, the
 * chain order, the seal's signature against the host key, and the summary,
 * events, user index and search index against what the chain implies.
 * Without VIGIL_VERIFY_SEAL_ORPHANS nothing is written. An orphan is sealed only
 * when its chain is intact and its writer is gone.
 * @param[in] id  NULL for all sessions.
 * @return 0 when the walk completed (statuses go to @cb), or an error.
 */
int vigil_store_verify(vigil_store *st, const uint8_t *id, unsigned flags, vigil_verify_cb cb, void *userdata);

/**
 * vigil_store_seal_orphans() - what a supervisor calls at start: seal every
 * session whose writer is gone, as truncated. Reads only the sessions listed
 * as unsealed (not the whole store). @cb (may be NULL) hears of each session
 * sealed, and of each that could not be (a broken chain is never sealed).
 * @return the number sealed, or an error.
 */
int vigil_store_seal_orphans(vigil_store *st, vigil_verify_cb cb, void *userdata);

typedef int (*vigil_prune_cb)(void *userdata, const vigil_session_info *i);

/**
 * vigil_store_prune() - delete sessions that started before @before_us and are
 * not live (their writer is gone or they ended), with all their records and
 * index entries, in short write transactions. Space is reused by LMDB; the
 * file does not shrink (docs/store.md: mdb_copy -c).
 * @param[in] dry_run  only report.
 * @param[out] ret_n   sessions pruned (or that would be).
 */
int vigil_store_prune(vigil_store *st, uint64_t before_us, bool dry_run, vigil_prune_cb cb, void *userdata,
                      uint64_t *ret_n);

/* ---- helpers for the CLI -------------------------------------------- */

/** Current wall clock in µs since the epoch. */
uint64_t vigil_now_us(void);

/**
 * vigil_parse_time() - RFC 3339 ("2024-05-01T12:00:00Z", fraction and offset
 * allowed, or a bare date "2024-05-01" for its UTC midnight) or a relative
 * time before @now_us ("90s", "15m", "2h", "7d", "2w").
 * @return 0, or VIGIL_E_PARSE.
 */
int vigil_parse_time(const char *s, uint64_t now_us, uint64_t *ret_us);

/** Parse a duration ("90s", "15m", "2h", "7d", "2w", or plain seconds "1.5") into µs. */
int vigil_parse_duration(const char *s, uint64_t *ret_us);

/* The last year vigil_format_time() writes; later times print "invalid"
 * (four digits, and far from time_t's edge on every libc). */
#define VIGIL_TIME_LAST_YEAR 9900

/** Format @us as RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.123Z"). */
void vigil_format_time(uint64_t us, char buf[32]);

/** Format a wait status the way events show it: "0".."255" or a signal name ("SIGKILL"). */
void vigil_format_exit(int wait_status, char buf[16]);

/**
 * vigil_json_string() - write @len bytes as a JSON string (with quotes). Control
 * bytes become \u00XX; invalid UTF-8 bytes become U+FFFD.
 */
void vigil_json_string(FILE *f, const char *s, size_t len);

/**
 * vigil_utf8_valid_prefix() - length of the longest prefix of @s that does not
 * end inside a UTF-8 sequence that may still be completed by following bytes
 * (for splitting a stream into valid JSON strings). Invalid bytes count as complete.
 */
size_t vigil_utf8_complete_prefix(const uint8_t *s, size_t len);

/** Write @len bytes as one RFC 4180 CSV field (quoted when needed). */
void vigil_csv_field(FILE *f, const char *s, size_t len);
