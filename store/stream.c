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

int stream_init(stream *s, vigil_record_type type, bool keep, bool full_binary, uint64_t cap, int level)
{
        *s = (stream){ .type = type, .keep = keep, .full_binary = full_binary, .cap = cap, .level = level };
        s->continuous = type == VIGIL_REC_OUTPUT;
        if (keep) {
                s->cctx = ZSTD_createCCtx();
                if (!s->cctx)
                        return -ENOMEM;
                if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel,
                                                         level ? level : STREAM_LEVEL_TIGHT)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_windowLog, WINDOW_LOG)) ||
                    ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 0)))
                        return -EINVAL;
        }
        return 0;
}

void stream_done(stream *s)
{
        vbuf_free(&s->frames);
        vbuf_free(&s->data);
        sha256_free(s->run_sha);
        ZSTD_freeCCtx(s->cctx);
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

static int compress_data(stream *s, bool end_unit, bool *ret_new_unit, vbuf *out)
{
        ZSTD_inBuffer ib = { s->data.p, s->data.len, 0 };
        ZSTD_EndDirective mode = end_unit || !s->continuous ? ZSTD_e_end : ZSTD_e_flush;

        *ret_new_unit = !s->continuous || !s->unit_started;
        if (s->data.len == 0 && !(end_unit && s->unit_started && s->continuous))
                return 0;
        if (*ret_new_unit && s->continuous) {
                /* A new unit, a new zstd frame: the level may change here. */
                int level = s->level;

                if (!level)
                        level = s->have_prev_unit && s->prev_unit_usec < FAST_UNIT_USEC ? STREAM_LEVEL_FAST
                                                                                        : STREAM_LEVEL_TIGHT;
                if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level)))
                        return -EINVAL;
                s->unit_t0 = s->chunk_t;
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

int stream_cut(stream *s, bool end_unit, vbuf *rec, vbuf *canon)
{
        vbuf data_enc = { 0 }, frames_enc = { 0 };
        bool frames_z = false, new_unit;
        uint8_t flags;
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
                s->unit++;
                s->unit_raw = 0;
                return 0;
        }
        r = compress_data(s, end_unit, &new_unit, &data_enc);
        if (r < 0)
                goto out;
        if (s->frames.len > 64) {
                uint8_t *dst = vbuf_reserve(&frames_enc, ZSTD_compressBound(s->frames.len));
                size_t n;

                if (!dst) {
                        r = -ENOMEM;
                        goto out;
                }
                n = ZSTD_compress(dst, ZSTD_compressBound(s->frames.len), s->frames.p, s->frames.len, 3);
                if (!ZSTD_isError(n) && n < s->frames.len) {
                        frames_enc.len = n;
                        frames_z = true;
                }
        }
        flags = (uint8_t)((new_unit ? CHUNK_NEWUNIT : 0) | (frames_z ? CHUNK_FRAMES_Z : 0) |
                          (s->data.len ? CHUNK_DATA_Z : 0) | (data_enc.len ? CHUNK_DATA_Z : 0));

        vbuf_u8(rec, (uint8_t)s->type);
        vbuf_varint(rec, s->chunk_t);
        vbuf_u8(canon, (uint8_t)s->type);
        vbuf_varint(canon, s->chunk_t);

        vbuf_varint(rec, s->unit);
        vbuf_u8(rec, flags);
        vbuf_varint(rec, s->chunk_off);
        vbuf_varint(rec, s->n_frames);
        vbuf_varint(rec, s->frames.len);
        if (frames_z) {
                vbuf_varint(rec, frames_enc.len);
                vbuf_put(rec, frames_enc.p, frames_enc.len);
        } else {
                vbuf_varint(rec, s->frames.len);
                vbuf_put(rec, s->frames.p, s->frames.len);
        }
        vbuf_varint(rec, s->data.len);
        vbuf_varint(rec, data_enc.len);
        vbuf_put(rec, data_enc.p, data_enc.len);

        vbuf_varint(canon, s->unit);
        vbuf_varint(canon, s->chunk_off);
        vbuf_varint(canon, s->n_frames);
        vbuf_varint(canon, s->frames.len);
        vbuf_put(canon, s->frames.p, s->frames.len);
        vbuf_varint(canon, s->data.len);
        vbuf_put(canon, s->data.p, s->data.len);
        if (rec->oom || canon->oom) {
                r = -ENOMEM;
                goto out;
        }
        vbuf_reset(&s->frames);
        vbuf_reset(&s->data);
        s->n_frames = 0;
        if (end_unit && s->continuous) {
                s->prev_unit_usec = s->last_t - s->unit_t0;
                s->have_prev_unit = true;
                s->unit++;
                s->unit_raw = 0;
        }
        r = 1;
out:
        vbuf_free(&data_enc);
        vbuf_free(&frames_enc);
        return r;
}
