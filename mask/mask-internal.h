/* Internals shared by the masker's source files; not part of the interface. */
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mask.h"

/* How a built-in detector finds the places worth running its regex on.
 * Running eleven regexes over every byte would cost ~20 ns/byte; instead a
 * cheap scan finds "windows" that every match must start in, and the regex
 * runs only there. A window scan must never miss a match: the fuzzer
 * compares the windowed search with a plain one (mask_stream_debug_no_prefilter). */
typedef enum trigger_kind {
        TRIG_NONE,    /* search everything (regex= rules) */
        TRIG_DIGITS,  /* a run of [0-9 -] holding >= min digits; window = the run */
        TRIG_UPPER,   /* a run of [A-Z0-9 ] of >= min bytes; window = the run */
        TRIG_BYTE,    /* byte c at t; window = [t - back, t - back_lo] */
        TRIG_ASSIGN,  /* ':' or '=' at t; window = [t - back, t] (for leads) */
        TRIG_LITERAL, /* literal at t; window = [t, t] */
} trigger_kind;

typedef struct detector {
        const char *name;
        /* The regex whose match is replaced; or, when body is set, the "lead": visible
         * context (e.g. `password: `) after which body, anchored, is the secret. */
        const char *pattern;
        const char *body;
        trigger_kind trig;
        unsigned min;     /* TRIG_DIGITS / TRIG_UPPER */
        char byte;        /* TRIG_BYTE */
        const char *lit;  /* TRIG_LITERAL */
        unsigned back;    /* TRIG_BYTE / TRIG_ASSIGN: farthest start before the trigger */
        unsigned back_lo; /* TRIG_BYTE: nearest start before the trigger */
        /* Bytes a match attempt may inspect from its start (0: unbounded). Only an
         * optimisation: a search cut short there that reaches the cut is redone. */
        unsigned maxlen;
        /* A partial match that does not yet contain its trigger starts within this
         * many bytes of the end of the text. */
        unsigned tail;
        /* Post-match check (Luhn, IBAN). Returns the length of the longest valid
         * prefix ending at a group boundary, 0 when none is valid. */
        size_t (*validate)(const char *s, size_t len);
} detector;

extern const detector mask_detectors[];
extern const size_t mask_n_detectors;
const detector *mask_detector_find(const char *name);

size_t mask_validate_luhn(const char *s, size_t len);
size_t mask_validate_iban(const char *s, size_t len);

typedef struct mask_rule {
        const detector *det; /* NULL for regex= */
        pcre2_code *re;      /* full pattern, or the lead */
        pcre2_code *body;    /* NULL unless det->body */
        bool re_jit, body_jit;
        char *replace; /* replacement text as given, or the default */
        size_t replace_len;
        bool substitute; /* regex= with replace=: PCRE2 substitution */
        const char *name;
        char *file; /* copied from the rule, or NULL */
        unsigned line;
} mask_rule;

struct vigil_mask_set {
        mask_rule *rules;
        size_t n;
        uint32_t max_pairs;  /* ovector pairs any rule needs */
        unsigned run_min[2]; /* TRIG_DIGITS, TRIG_UPPER: smallest min in the set */
};

/* Match result of one rule from a position. */
typedef enum cand_kind {
        CAND_NONE,
        CAND_FULL,    /* [s, e) is decided: replace it */
        CAND_PARTIAL, /* a replacement may start at s: hold from s */
        CAND_ERROR,   /* could not decide: replace [s, e) (fail closed) */
} cand_kind;

typedef struct cand {
        cand_kind kind;
        size_t s, e; /* view offsets */
        size_t subj; /* subject length the match ran with (for substitution) */
        bool valid;  /* cached result usable */
} cand;

/* The text the regexes see: the stream's bytes without terminal escape
 * sequences (CSI, and the short ESC sequences), so that colour codes at a
 * secret's ends, or inside it, do not hide it. Where bytes were stripped the
 * view keeps a gap entry: from view byte v on, raw offset = v + delta. While
 * the buffer holds no escape at all, view == raw bytes (ident) and no copy is
 * made. */
typedef struct view_gap {
        size_t v, delta;
} view_gap;

typedef enum esc_state {
        ESC_GROUND,
        ESC_ESC,   /* after ESC */
        ESC_CSI,   /* after ESC [ */
        ESC_INTER, /* after ESC and intermediates */
} esc_state;

/* View bytes kept before the first undecided byte, for lookbehinds (regex=
 * rules may look back VIGIL_MASK_MAX_LOOKBEHIND) and for leads, which start
 * up to their maxlen before the secret they introduce. */
#define MASK_HISTORY 512u

#define MASK_ESC_MAX 64u /* bytes of one escape sequence we strip, at most */

/* The final byte of ESC x that opens a control string (DCS P, SOS X, OSC ],
 * PM ^, APC _) or ends one (ST \\). */
static inline bool mask_esc_string_end(unsigned char b)
{
        return b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_' || b == '\\';
}

/* "Next event at or after x" caches for the window scans, valid for one
 * view. A cached answer found from x0 stays right for every x in [x0, b]. */
typedef struct scan_cache {
        size_t x0, a, b;
        bool valid;
} scan_cache;

enum {
        SLOT_DIGITS,
        SLOT_UPPER,
        SLOT_COLON,
        SLOT_EQUAL,
        SLOT_DETECTOR, /* + detector index, for TRIG_BYTE and TRIG_LITERAL */
        N_SLOTS = SLOT_DETECTOR + 16,
};

/* Per-search context handed to the matchers. */
typedef struct search_ctx {
        const vigil_mask_set *set;
        const char *view;
        size_t vlen; /* subject end (view length, or a cut when forced) */
        bool final;  /* the end of the subject is the end of the stream */
        uint32_t notbol;
        pcre2_match_data **md; /* one per rule */
        pcre2_match_context *mctx;
        bool no_prefilter; /* test hook: windowed search off */
        scan_cache cache[N_SLOTS];
} search_ctx;

/* Leftmost replaced-start >= p for rule i (find.c). Returns 0. */
void mask_rule_find(search_ctx *c, size_t i, size_t p, cand *ret);

/* Window scan (scan.c): the first window [ws, we] of detector d with we >= from
 * and ws < limit, overlapping windows merged, ws clipped to >= from. */
bool mask_scan_window(search_ctx *c, const detector *d, size_t from, size_t limit, size_t *ret_ws,
                      size_t *ret_we);

struct vigil_mask_stream {
        const vigil_mask_set *set;
        unsigned flags;
        int poisoned; /* 0, or the error every call returns */
        bool passthrough;
        bool no_prefilter;
        bool at_start; /* buf[0] is the stream's first byte (for ^) */

        /* Raw bytes: history [0, done), held [done, len). term >= done is how far
         * the terminal's copy got (further when the echo went ahead). */
        char *buf;
        size_t len, cap;
        size_t done, term;

        /* The view (see above). vdone: first view byte not yet decided. */
        bool ident;
        char *view;
        size_t vlen, vcap, vdone;
        view_gap *gaps;
        size_t n_gaps, gaps_cap;
        esc_state esc;
        unsigned esc_len;

        pcre2_match_data **md;
        pcre2_match_context *mctx;
        pcre2_jit_stack *jit_stack;
        cand *cands;
        /* Per rule: no replacement can start before this view offset (what the
         * last process() ruled out), so a feed does not search the held bytes
         * again for rules that already passed them. */
        size_t *resume;
        vigil_mask_buf scratch;
        uint64_t *counts;
        uint64_t errors;

        /* Typed bytes whose echo is expected; echo_pos: next raw byte to compare. */
        unsigned char echo[256];
        size_t echo_off, echo_len, echo_pos;
};

static inline const char *mask_view(const vigil_mask_stream *s)
{
        return s->ident ? s->buf : s->view;
}

static inline size_t mask_vlen(const vigil_mask_stream *s)
{
        return s->ident ? s->len : s->vlen;
}

/* view.c */
/* Raw offset of view byte i (i < mask_vlen). */
size_t mask_vraw(const vigil_mask_stream *s, size_t i);
/* Index of the first gap entry with v > i. */
size_t mask_gap_after(const vigil_mask_stream *s, size_t i);
int mask_view_append(vigil_mask_stream *s, const char *data, size_t n);
void mask_view_compact(vigil_mask_stream *s);

/* Replacement text validation and expansion (replace.c). */
int mask_replace_check(pcre2_code *re, const char *text, size_t len, char **ret_error);

/* Test hook (tests and the fuzzer): search this stream without windows, so
 * that its output can be compared with the windowed search. */
void mask_stream_debug_no_prefilter(vigil_mask_stream *s);

/* Output buffers (buf.c): room for `extra` more bytes after len; append. */
int mask_buf_reserve(vigil_mask_buf *b, size_t extra);
int mask_buf_append(vigil_mask_buf *b, const void *p, size_t n);
