#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "stream.h"

#define PIECE_MAX (256u * 1024) /* split long writes so no chunk grows without bound */
#define WINDOW_LOG 20

enum {
        CHUNK_NEWUNIT = 1,
        CHUNK_FRAMES_Z = 2,
        CHUNK_DATA_Z = 4,
};

/* A level with match tables no bigger than a unit needs: the defaults of
 * the tight and strong levels are sized for windows of 4-8 MiB (15-90 MB of
 * tables per session), and a unit's window is 1 MiB. 0 = zstd's default.
 * The burst level takes matches from 4 bytes (zstd's 14 from 5): text has
 * many short repeats (2-3% less than level 9 on text, where 5 gives 1.8%). */
static int set_level(void *cctx, int level)
{
        int hash_log = level >= STREAM_LEVEL_TIGHT ? 18 : 0, chain_log = level >= STREAM_LEVEL_STRONG ? 19 : hash_log;

        if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, hash_log)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, chain_log)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, level == STREAM_LEVEL_BURST ? 4 : 0)))
                return -EINVAL;
        return 0;
}

int stream_init(stream *s, vigil_record_type type, bool keep, bool full_binary, uint64_t cap, int level)
{
        *s = (stream){ .type = type, .keep = keep, .full_binary = full_binary, .cap = cap, .level = level };
        s->continuous = type == VIGIL_REC_OUTPUT;
        s->credit = STRONG_START;
        if (keep) {
                s->cctx = ZSTD_createCCtx();
                s->fctx = ZSTD_createCCtx();
                if (!s->cctx || !s->fctx)
                        return -ENOMEM;
                if (set_level(s->cctx, level ? level : STREAM_LEVEL_TIGHT) < 0 ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_windowLog, WINDOW_LOG)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 0)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->fctx, ZSTD_c_compressionLevel, 3)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->fctx, ZSTD_c_checksumFlag, 0)))
                        return -EINVAL;
        }
        return 0;
}

void stream_done(stream *s)
{
        vbuf_free(&s->frames);
        vbuf_free(&s->data);
        vbuf_free(&s->zdata);
        vbuf_free(&s->zframes);
        sha256_free(s->run_sha);
        ZSTD_freeCCtx(s->cctx);
        ZSTD_freeCCtx(s->fctx);
        *s = (stream){ 0 };
}

bool stream_pending(const stream *s)
{
        return s->n_frames > 0 || s->run_sha;
}

size_t stream_pending_bytes(const stream *s)
{
        return s->data.len + s->frames.len;
}

static void frame_add(stream *s, uint64_t t, vigil_frame_kind kind, uint64_t len, const uint8_t *digest)
{
        if (s->n_frames == 0) {
                s->chunk_t = t;
                s->last_t = t;
                s->chunk_off = s->offset;
        }
        if (t < s->last_t)
                t = s->last_t;
        vbuf_varint(&s->frames, t - s->last_t);
        vbuf_varint(&s->frames, len << 2 | (uint64_t)kind);
        if (kind == VIGIL_FRAME_DIGEST)
                vbuf_put(&s->frames, digest, 32);
        s->last_t = t;
        s->n_frames++;
        s->offset += len;
}

static int run_close(stream *s)
{
        uint8_t dg[32];
        int r;

        if (!s->run_sha)
                return 0;
        r = sha256_finish(s->run_sha, dg);
        s->run_sha = NULL;
        if (r < 0)
                return r;
        frame_add(s, s->run_t, VIGIL_FRAME_DIGEST, s->run_len, dg);
        s->run_len = 0;
        return 0;
}

static int run_add(stream *s, uint64_t t, const uint8_t *p, size_t len)
{
        if (!s->run_sha) {
                s->run_sha = sha256_new();
                if (!s->run_sha)
                        return -ENOMEM;
                s->run_t = t;
                s->run_len = 0;
        }
        sha256_add(s->run_sha, p, len);
        s->run_len += len;
        return 0;
}

static int kept_add(stream *s, uint64_t t, vigil_frame_kind kind, const uint8_t *p, size_t len)
{
        int r = run_close(s);

        if (r < 0)
                return r;
        /* A run was just closed: the offset is past it. Keep the frame. */
        frame_add(s, t, kind, len, NULL);
        vbuf_put(&s->data, p, len);
        s->kept += len;
        if (s->continuous)
                s->unit_raw += len;
        return s->data.oom || s->frames.oom ? -ENOMEM : 0;
}

int stream_write(stream *s, uint64_t t, const uint8_t *p, size_t len, frame_fn fn, void *userdata)
{
        while (len > 0) {
                size_t n = len > PIECE_MAX ? PIECE_MAX : len;
                bool bin;
                int r;

                if (!s->keep) {
                        s->offset += n;
                        p += n;
                        len -= n;
                        continue;
                }
                bin = looks_binary(p, n, s->was_binary);
                s->was_binary = bin;
                if (s->cap && !s->cut && s->kept + n > s->cap) {
                        size_t fit = (size_t)(s->cap - s->kept);

                        if (fit) {
                                r = kept_add(s, t, bin ? VIGIL_FRAME_BINARY : VIGIL_FRAME_TEXT, p, fit);
                                if (r < 0)
                                        return r;
                                if (fn)
                                        fn(userdata, bin ? VIGIL_FRAME_BINARY : VIGIL_FRAME_TEXT, p, fit);
                                p += fit;
                                n -= fit;
                                len -= fit;
                        }
                        r = run_close(s);
                        if (r < 0)
                                return r;
                        frame_add(s, t, VIGIL_FRAME_CUT, 0, NULL);
                        s->cut = true;
                        if (fn)
                                fn(userdata, VIGIL_FRAME_CUT, NULL, 0);
                        if (n == 0)
                                continue;
                }
                if (s->cut || (bin && !s->full_binary)) {
                        if (!s->run_sha && fn)
                                fn(userdata, VIGIL_FRAME_DIGEST, NULL, 0);
                        r = run_add(s, t, p, n);
                } else {
                        r = kept_add(s, t, bin ? VIGIL_FRAME_BINARY : VIGIL_FRAME_TEXT, p, n);
                        if (r >= 0 && fn)
                                fn(userdata, bin ? VIGIL_FRAME_BINARY : VIGIL_FRAME_TEXT, p, n);
                }
                if (r < 0)
                        return r;
                p += n;
                len -= n;
        }
        return 0;
}

/* LEB128, as vbuf_varint() writes it; @p has room for 10 bytes. */
static size_t varint_put(uint8_t *p, uint64_t v)
{
        size_t n = 0;

        while (v >= 0x80) {
                p[n++] = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        p[n++] = (uint8_t)v;
        return n;
}

/* Earn strong-compression credit for the session time passed. */
static void credit_earn(stream *s)
{
        if (s->last_t > s->credit_t) {
                uint64_t earned = (s->last_t - s->credit_t) / 1000 * STRONG_RATE / 1000;

                s->credit = earned >= STRONG_MAX ? STRONG_MAX : s->credit + (int64_t)earned;
                if (s->credit > STRONG_MAX)
                        s->credit = STRONG_MAX;
                s->credit_t = s->last_t;
        }
}

bool stream_unit_over_budget(const stream *s)
{
        return s->unit_strong && s->credit < (int64_t)s->data.len;
}

/* The level of a unit, chosen when its first chunk is compressed. */
static int unit_level(stream *s)
{
        if (s->level)
                return s->level;
        if (s->random)
                return STREAM_LEVEL_RANDOM;
        if (s->have_prev_unit && s->prev_unit_usec < FAST_UNIT_USEC)
                return STREAM_LEVEL_FAST;
        if (s->credit >= (int64_t)s->data.len)
                return STREAM_LEVEL_STRONG;
        return STREAM_LEVEL_BURST;
}

/* Compress the chunk's data into s->zdata (reset first). */
static int compress_data(stream *s, bool end_unit, bool *ret_new_unit)
{
        ZSTD_inBuffer ib = { s->data.p, s->data.len, 0 };
        ZSTD_EndDirective mode = end_unit || !s->continuous ? ZSTD_e_end : ZSTD_e_flush;
        vbuf *out = &s->zdata;

        vbuf_reset(out);
        *ret_new_unit = !s->continuous || !s->unit_started;
        if (s->data.len == 0 && !(end_unit && s->unit_started && s->continuous))
                return 0;
        if (s->continuous) {
                credit_earn(s);
                if (*ret_new_unit) {
                        /* A new unit, a new zstd frame: the level may change here. */
                        int level = unit_level(s);

                        if (set_level(s->cctx, level) < 0)
                                return -EINVAL;
                        s->unit_strong = level == STREAM_LEVEL_STRONG;
                        s->unit_t0 = s->chunk_t;
                }
                if (s->unit_strong)
                        s->credit -= (int64_t)s->data.len;
        }
        for (;;) {
                size_t room = ZSTD_compressBound(s->data.len) + 64;
                uint8_t *dst = vbuf_reserve(out, room);
                ZSTD_outBuffer ob = { dst, room, 0 };
                size_t left;

                if (!dst)
                        return -ENOMEM;
                left = ZSTD_compressStream2(s->cctx, &ob, &ib, mode);
                if (ZSTD_isError(left))
                        return -EIO;
                out->len += ob.pos;
                if (left == 0 && ib.pos == ib.size)
                        break;
        }
        if (s->continuous)
                s->unit_started = !end_unit;
        return 0;
}

/* Compress the frame table into s->zframes when that makes it smaller. */
static bool compress_frames(stream *s)
{
        size_t bound = ZSTD_compressBound(s->frames.len), n;
        uint8_t *dst;

        vbuf_reset(&s->zframes);
        if (s->frames.len <= 64)
                return false;
        dst = vbuf_reserve(&s->zframes, bound);
        if (!dst)
                return false; /* stored as it is */
        n = ZSTD_compress2(s->fctx, dst, bound, s->frames.p, s->frames.len);
        if (ZSTD_isError(n) || n >= s->frames.len)
                return false;
        s->zframes.len = n;
        return true;
}

int stream_cut(stream *s, bool end_unit, vbuf *rec, chain_hasher *h)
{
        bool frames_z, new_unit;
        uint8_t flags, hdr[6 * 10 + 1];
        size_t n;
        int r;

        r = run_close(s);
        if (r < 0)
                return r;
        if (s->n_frames == 0) {
                /* Nothing new, but a unit with data must still be ended. */
                if (!(end_unit && s->continuous && s->unit_started))
                        return 0;
        }
        if (s->n_frames == 0) {
                /* Ending a unit needs no record: the decoder resets at the next
                 * unit's first chunk anyway. Forget the context. */
                (void)ZSTD_CCtx_reset(s->cctx, ZSTD_reset_session_only);
                s->unit_started = false;
                s->prev_unit_usec = s->last_t - s->unit_t0;
                s->have_prev_unit = true;
                s->unit_strong = false;
                s->unit++;
                s->unit_raw = 0;
                return 0;
        }
        r = compress_data(s, end_unit, &new_unit);
        if (r < 0)
                return r;
        frames_z = compress_frames(s);
        flags = (uint8_t)((new_unit ? CHUNK_NEWUNIT : 0) | (frames_z ? CHUNK_FRAMES_Z : 0) |
                          (s->data.len || s->zdata.len ? CHUNK_DATA_Z : 0));

        vbuf_u8(rec, (uint8_t)s->type);
        vbuf_varint(rec, s->chunk_t);
        vbuf_varint(rec, s->unit);
        vbuf_u8(rec, flags);
        vbuf_varint(rec, s->chunk_off);
        vbuf_varint(rec, s->n_frames);
        vbuf_varint(rec, s->frames.len);
        if (frames_z) {
                vbuf_varint(rec, s->zframes.len);
                vbuf_put(rec, s->zframes.p, s->zframes.len);
        } else {
                vbuf_varint(rec, s->frames.len);
                vbuf_put(rec, s->frames.p, s->frames.len);
        }
        vbuf_varint(rec, s->data.len);
        vbuf_varint(rec, s->zdata.len);
        vbuf_put(rec, s->zdata.p, s->zdata.len);
        if (rec->oom)
                return -ENOMEM;

        /* The canonical form, fed to the hash piece by piece rather than
         * copied: type | t | unit | offset | n_frames | frames.len | frames |
         * data.len | data. */
        hdr[0] = (uint8_t)s->type;
        n = 1;
        n += varint_put(hdr + n, s->chunk_t);
        n += varint_put(hdr + n, s->unit);
        n += varint_put(hdr + n, s->chunk_off);
        n += varint_put(hdr + n, s->n_frames);
        n += varint_put(hdr + n, s->frames.len);
        chain_hasher_add(h, hdr, n);
        chain_hasher_add(h, s->frames.p, s->frames.len);
        n = varint_put(hdr, s->data.len);
        chain_hasher_add(h, hdr, n);
        chain_hasher_add(h, s->data.p, s->data.len);

        vbuf_reset(&s->frames);
        vbuf_reset(&s->data);
        s->n_frames = 0;
        if (end_unit && s->continuous) {
                s->prev_unit_usec = s->last_t - s->unit_t0;
                s->have_prev_unit = true;
                s->unit_strong = false;
                s->unit++;
                s->unit_raw = 0;
        }
        return 1;
}
