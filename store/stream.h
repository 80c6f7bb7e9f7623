/* One recorded stream (output or input) of a session being written: frames
 * of the current chunk, the binary digest run, the max_output cap and the
 * compression context. Internal to the writer. */
#pragma once

#include "store-internal.h"

typedef struct stream {
        vigil_record_type type;
        bool keep;       /* record this stream at all */
        bool full_binary; /* binary=full */
        bool continuous; /* carry the compression context from chunk to chunk (output) */
        uint64_t cap;    /* max bytes kept; 0 = no cap */
        int level;

        uint64_t offset; /* stream bytes so far */
        uint64_t kept;   /* bytes kept */
        bool was_binary, cut;

        /* the chunk being built */
        vbuf frames, data;
        size_t n_frames;
        uint64_t chunk_t, chunk_off, last_t;

        /* an open run of omitted (digest) bytes */
        void *run_sha;
        uint64_t run_len, run_t;

        /* compression unit (continuous streams) */
        void *cctx;
        uint32_t unit;
        bool unit_started; /* a chunk of this unit was written */
        uint64_t unit_raw;
        /* Adaptive level (level == 0), chosen when a unit's first chunk is
         * compressed (see unit_level() in stream.c): random-looking data at
         * the cheapest level (only its entropy coding gains anything), a unit
         * after one that filled within FAST_UNIT_USEC fast (bulk output must
         * not slow the terminal), others at the strongest level while the
         * strong-compression budget lasts, else at the burst level. */
        uint64_t unit_t0, prev_unit_usec;
        bool have_prev_unit;
        bool random;      /* set by the writer: this unit's data looks random (its search signature saturated) */
        bool unit_strong; /* the current unit is compressed at STREAM_LEVEL_STRONG */
        int64_t credit;   /* bytes that may still be compressed at STREAM_LEVEL_STRONG */
        uint64_t credit_t; /* session time up to which the credit was earned */

        /* scratch kept from chunk to chunk: compressed data and frame table */
        vbuf zdata, zframes;
        void *fctx; /* compresses frame tables */
} stream;

#define STREAM_LEVEL_STRONG 19
/* A burst's first unit, a busy session's: 2-3 times level 9's CPU (15-40 ms
 * more per MiB of text on the 2-core reference machine) for 1-2.5% less. */
#define STREAM_LEVEL_BURST 14
#define STREAM_LEVEL_TIGHT 9 /* input chunks */
#define STREAM_LEVEL_FAST 3
#define STREAM_LEVEL_RANDOM 1
#define FAST_UNIT_USEC 2000000u
/* The strong level costs 20-60 times the tight one's CPU (0.2-0.6 s per MiB
 * of text on the 2-core reference machine) for 6-8% less. Spent where that
 * CPU is idle anyway: output that comes at an interactive pace. A session
 * earns STRONG_RATE bytes of it per second (more than interactive work
 * produces), starts with STRONG_START and keeps at most STRONG_MAX (about
 * 0.1 s of CPU), so a burst (cat of a big file) is compressed at the
 * strong level for at most that much before its unit ends and the next is
 * compressed tightly or fast: the terminal and the end of a session never
 * wait for it. */
#define STRONG_START (64 * 1024)
#define STRONG_RATE (32 * 1024)
#define STRONG_MAX (256 * 1024)

/* @level: a zstd level, or 0 for the adaptive choice above. */
int stream_init(stream *s, vigil_record_type type, bool keep, bool full_binary, uint64_t cap, int level);
void stream_done(stream *s);

/* Frames a write produces, reported to the caller for indexing. */
typedef void (*frame_fn)(void *userdata, vigil_frame_kind kind, const uint8_t *p, size_t len);

/* Append a write at session-relative time @t. */
int stream_write(stream *s, uint64_t t, const uint8_t *p, size_t len, frame_fn fn, void *userdata);

/* Whether a chunk is pending (frames or an open run). */
bool stream_pending(const stream *s);
size_t stream_pending_bytes(const stream *s);

/* Whether the current unit should end at the next line end: it is
 * compressed at the strong level and the budget does not cover what is
 * pending. */
bool stream_unit_over_budget(const stream *s);

/* Encode the pending chunk as a record (type | t | body), appended to @rec,
 * and feed its canonical form to @h; @end_unit closes the compression unit.
 * Returns 0 (nothing pending: nothing appended or fed), 1 (a record), or an
 * error (then @rec may hold part of the record and @h part of the form). */
int stream_cut(stream *s, bool end_unit, vbuf *rec, chain_hasher *h);
