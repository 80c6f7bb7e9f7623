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
        /* Adaptive level (level == 0): a unit after one that filled within
         * FAST_UNIT_USEC is compressed fast (bulk output must not slow the
         * terminal), any other tightly (interactive output has CPU to spare). */
        uint64_t unit_t0, prev_unit_usec;
        bool have_prev_unit;
} stream;

#define STREAM_LEVEL_TIGHT 9
#define STREAM_LEVEL_FAST 3
#define FAST_UNIT_USEC 2000000u

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

/* Encode the pending chunk as a record (type | t | body) into @rec and its
 * canonical form into @canon; @end_unit closes the compression unit.
 * Returns 0 (nothing pending: @rec stays empty), 1 (a record), or an error. */
int stream_cut(stream *s, bool end_unit, vbuf *rec, vbuf *canon);
