/* vigil masker: the whole public interface.
 *
 * Secrets in a byte stream (a session's terminal output, its input) are
 * replaced by "[MASKED:<detector>]" or a rule's replace= text before the
 * bytes reach the terminal or the recording. Detectors and the streaming
 * guarantees are described in docs/masking.md.
 *
 * Two objects:
 *   - vigil_mask_set: the policy's mask rules compiled once (PCRE2, JIT).
 *     Immutable after vigil_mask_set_new(); any number of streams in any
 *     number of threads may share it. It must outlive every stream made
 *     from it.
 *   - vigil_mask_stream: the state of one byte stream (what is held back,
 *     counts, echo expectations). One stream per direction per session
 *     (output, input); not thread-safe: one thread feeds it.
 *
 * Streaming contract: vigil_mask_stream_feed() appends to the caller's
 * output buffers every byte whose fate is decided and keeps back only bytes
 * that could still become part of a replacement (PCRE2 partial matching),
 * at most VIGIL_MASK_MAX_HOLD of them. The output does not depend on how the
 * input was split into feeds: feeding "abc" then "def" gives the same
 * concatenated output as feeding "abcdef" (tests/mask and fuzz/mask check
 * this; the exceptions are a regex= rule whose partial match outgrows
 * VIGIL_MASK_MAX_HOLD or hits PCRE2's match limit). Nothing is released on a timer: a slow writer's secret
 * stays held until it is complete or ruled out; vigil_mask_stream_flush() decides the rest at the end of the
 * stream.
 *
 * Errors follow the project convention: 0/positive or -errno / VIGIL_E_*.
 * A stream whose feed or flush failed for want of memory is poisoned: every
 * later call returns the same error and outputs nothing. The caller fails
 * closed (ends the session) instead of passing unmasked bytes on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h" /* vigil_mask_rule, vigil_mask_detectors[] */

/* Bounds. A hostile or broken policy cannot make the masker slow or big. */
#define VIGIL_MASK_MAX_RULES 256u        /* mask statements in one set */
#define VIGIL_MASK_MAX_REPLACE 1024u     /* bytes of one replace= text */
#define VIGIL_MASK_MAX_LOOKBEHIND 255u   /* characters a regex= may look back */
#define VIGIL_MASK_MAX_HOLD (20u * 1024) /* bytes a stream holds back, at most */
#define VIGIL_MASK_MAX_PEM (16u * 1024)  /* a private-key block's body, at most */

typedef struct vigil_mask_set vigil_mask_set;
typedef struct vigil_mask_stream vigil_mask_stream;

/* ---- the compiled rule set ------------------------------------------ */

/**
 * vigil_mask_set_new() - compile mask rules into one matcher set.
 * @param[in]  rules   n rules, e.g. vigil_policy_mask(p, 0..n-1). A rule has either
 *                     detector (a name from vigil_mask_detectors[]) or regex (a PCRE2
 *                     pattern, matched on bytes, not UTF-8 characters) set, never both.
 *                     replace may be NULL (then "[MASKED:<detector>]", "[MASKED:regex]"
 *                     for a regex rule). For a regex rule replace is PCRE2 substitution
 *                     text ($1, ${name}, $$); for a detector it is inserted literally.
 *                     file/line name the rule in error messages and
 *                     vigil_mask_set_rule_origin(). Strings are copied.
 * @param[in]  n       number of rules, 0..VIGIL_MASK_MAX_RULES (0 gives a set that
 *                     masks nothing).
 * @param[out] ret     on success the set (free with vigil_mask_set_free()); untouched
 *                     on failure.
 * @param[out] ret_error  may be NULL; on VIGIL_E_PARSE or VIGIL_E_TOO_BIG a malloc'd
 *                     one-line message the caller frees, "FILE:LINE: ..." (PCRE2's own
 *                     message and offset for a bad regex); untouched otherwise.
 * @return 0; VIGIL_E_PARSE (unknown detector, bad regex, bad replace text, a rule with
 *         both or neither of detector/regex); VIGIL_E_TOO_BIG (too many rules, a
 *         pattern over VIGIL_POLICY_MAX_REGEX bytes, a lookbehind over
 *         VIGIL_MASK_MAX_LOOKBEHIND, replace over VIGIL_MASK_MAX_REPLACE); -EINVAL
 *         (NULL rules with n > 0); -ENOMEM.
 */
int vigil_mask_set_new(const vigil_mask_rule *rules, size_t n, vigil_mask_set **ret, char **ret_error);

/**
 * vigil_mask_set_from_policy() - vigil_mask_set_new() on a policy's mask statements.
 * The way the supervisor (and `vigil policy check`) should build the set: errors
 * that the policy parser does not see (a replace= group the regex lacks, more
 * than VIGIL_MASK_MAX_RULES statements) then name the policy file and line.
 * @return as vigil_mask_set_new(); -EINVAL for a NULL policy.
 */
int vigil_mask_set_from_policy(const vigil_policy *p, vigil_mask_set **ret, char **ret_error);

/** Free a set. Accepts NULL; returns NULL. Every stream made from it must be freed first. */
vigil_mask_set *vigil_mask_set_free(vigil_mask_set *set);

/** Number of rules in the set (the n given to vigil_mask_set_new()). */
size_t vigil_mask_set_n_rules(const vigil_mask_set *set);

/**
 * vigil_mask_set_rule_name() - what counts are reported under.
 * @return the detector name ("credit-card", ...) or "regex" for a regex rule, for
 *         0 <= i < n; NULL otherwise. Valid as long as the set.
 */
const char *vigil_mask_set_rule_name(const vigil_mask_set *set, size_t i);

/**
 * vigil_mask_set_rule_origin() - where rule i was written.
 * @param[out] ret_line  the rule's line (0 when not given); may be NULL.
 * @return the rule's file as given to vigil_mask_set_new() (copied; valid as long
 *         as the set), or NULL when none was given or i is out of range.
 */
const char *vigil_mask_set_rule_origin(const vigil_mask_set *set, size_t i, unsigned *ret_line);

/* ---- output buffers ------------------------------------------------- */

/* A growable byte buffer the stream appends to. Start it all-zero. The
 * caller consumes data[0..len) and sets len = 0 to reuse the memory; the
 * stream never shrinks it. Free with vigil_mask_buf_done(). */
typedef struct vigil_mask_buf {
        char *data;
        size_t len;
        size_t cap;
} vigil_mask_buf;

/** Free the memory and reset to all-zero. Accepts an all-zero buffer. */
void vigil_mask_buf_done(vigil_mask_buf *b);

/* ---- streams -------------------------------------------------------- */

enum {
        /* Pipe mode: check each feed with vigil_mask_looks_binary(); from the first
         * feed that looks binary on, the stream passes bytes unchanged (what it
         * held until then is decided first, as by a flush). Sticky. */
        VIGIL_MASK_SNIFF_BINARY = 1u << 0,
        /* Pass every byte unchanged from the start (a file transfer the
         * supervisor recognised: scp -t/-f, sftp-server, rsync --server). */
        VIGIL_MASK_PASSTHROUGH = 1u << 1,
};

/**
 * vigil_mask_stream_new() - state for one byte stream.
 * @param[in]  set    compiled rules; borrowed, must outlive the stream.
 * @param[in]  flags  0, VIGIL_MASK_SNIFF_BINARY, VIGIL_MASK_PASSTHROUGH.
 * @param[out] ret    the stream (free with vigil_mask_stream_free()); untouched on failure.
 * @return 0, -EINVAL (NULL set, unknown flag), -ENOMEM.
 */
int vigil_mask_stream_new(const vigil_mask_set *set, unsigned flags, vigil_mask_stream **ret);

/** Free a stream (held bytes are dropped, not released: flush first). Accepts NULL; returns NULL. */
vigil_mask_stream *vigil_mask_stream_free(vigil_mask_stream *s);

/**
 * vigil_mask_stream_feed() - mask the next bytes of the stream.
 * Appends to @rec the masked bytes now decided, in order. When @term is not NULL it
 * also receives the terminal's copy: the same bytes, except that the echo of the
 * user's own keystrokes (see vigil_mask_stream_expect_echo()) goes to @term as soon
 * as it arrives, unmasked, even while @rec still holds it. Pass @term == NULL when
 * there is no terminal (the input direction, recordings only); then @rec is the
 * only output. @rec may not be NULL.
 * @param[in]     s     the stream.
 * @param[in]     data  len bytes (any content, NUL included); may be NULL when len is 0.
 * @param[in,out] rec   the recording's copy; appended to.
 * @param[in,out] term  NULL, or the terminal's copy; appended to.
 * @return 0, -EINVAL (bad arguments; nothing done), -ENOMEM (the stream is poisoned:
 *         what this call appended before failing is masked and may be passed on,
 *         nothing more will come; end the session).
 */
int vigil_mask_stream_feed(vigil_mask_stream *s, const void *data, size_t len, vigil_mask_buf *rec,
                           vigil_mask_buf *term);

/**
 * vigil_mask_stream_flush() - the stream ended: decide and release everything held.
 * Held bytes that now complete a match (the end of the stream ends it) are masked,
 * the rest is released as is. The stream stays usable; feeding again starts
 * from an empty hold.
 * @return 0, -EINVAL, -ENOMEM (poisoned).
 */
int vigil_mask_stream_flush(vigil_mask_stream *s, vigil_mask_buf *rec, vigil_mask_buf *term);

/** Bytes fed but not yet appended to rec (what is held back for the recording). */
size_t vigil_mask_stream_held(const vigil_mask_stream *s);

/** Bytes fed but not yet appended to term (<= vigil_mask_stream_held()). */
size_t vigil_mask_stream_term_held(const vigil_mask_stream *s);

/**
 * vigil_mask_stream_count() - how many secrets rule i has masked in this stream.
 * Never the secret itself. A match counts once, when it is released.
 * @return the count, 0 for an i out of range.
 */
uint64_t vigil_mask_stream_count(const vigil_mask_stream *s, size_t i);

/**
 * vigil_mask_stream_errors() - matches that could not be decided.
 * A regex= rule that exceeds PCRE2's match limit (catastrophic backtracking) on
 * some text is treated as matching (fail closed): everything from where that
 * attempt started to the end of the bytes at hand is replaced. Each such event
 * counts here, so that the supervisor can log the rule as broken.
 */
uint64_t vigil_mask_stream_errors(const vigil_mask_stream *s);

/** True once a VIGIL_MASK_SNIFF_BINARY stream has seen binary data, or for VIGIL_MASK_PASSTHROUGH. */
bool vigil_mask_stream_passthrough(const vigil_mask_stream *s);

/* ---- interactive echo ----------------------------------------------- */

/**
 * vigil_mask_stream_expect_echo() - the user just typed these bytes.
 * Call it on the OUTPUT stream with every chunk of input relayed to the
 * session's terminal (before or after writing it to the PTY; the stream only
 * compares it with output fed later). Output bytes that repeat those typed
 * bytes exactly and in order, starting with the next output byte, are the
 * terminal's echo: feed() appends them to @term at once, even when they
 * could begin a secret and @rec holds them. At the first output byte that
 * differs the expectation is dropped (the program printed something else).
 * Up to 256 typed bytes are remembered; more are ignored (a paste then shows
 * on the terminal as ordinary output, after masking).
 * The recording is never affected: @rec is masked as if this was not called.
 * Consequence, by design: a secret the user types or pastes is shown to that
 * user as typed (it is their own input); it is masked in @rec.
 */
void vigil_mask_stream_expect_echo(vigil_mask_stream *s, const void *typed, size_t len);

/** Drop what expect_echo() remembered (e.g. the supervisor saw a no-echo prompt). */
void vigil_mask_stream_clear_echo(vigil_mask_stream *s);

/* ---- binary detection ----------------------------------------------- */

/**
 * vigil_mask_looks_binary() - does this chunk look like binary data, not text?
 * Binary: it contains a NUL byte, or more than 10% of its first 4096 bytes are
 * C0 controls other than \a \b \t \n \v \f \r ESC, or DEL, or bytes that are not
 * part of valid UTF-8. An empty chunk is text.
 * For the supervisor's pipe mode (ssh host cmd, scp, sftp, rsync): binary
 * streams pass unchanged, since rewriting bytes would corrupt a transfer.
 */
bool vigil_mask_looks_binary(const void *data, size_t len);
