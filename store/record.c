/* Decoding stored records (and encoding the simple ones). Every decoder here
 * takes bytes from the store as hostile: bounds are checked and nothing is
 * trusted to be in range (fuzz/store). */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store-internal.h"

#define DCTX_WINDOW_LOG_MAX 23

int masks_decode(vdec *d, vigil_mask_count **ret, size_t *ret_n);

const char *vigil_record_type_name(int type)
{
        static const char *const names[] = {
                [VIGIL_REC_BEGIN] = "begin",     [VIGIL_REC_OUTPUT] = "output",
                [VIGIL_REC_INPUT] = "input",     [VIGIL_REC_RESIZE] = "resize",
                [VIGIL_REC_COMMAND] = "command", [VIGIL_REC_COMMAND_EXIT] = "command exit",
                [VIGIL_REC_MASKS] = "masks",     [VIGIL_REC_END] = "end",
                [VIGIL_REC_SEAL] = "seal",       [VIGIL_REC_APPROVAL] = "approval",
        };

        if (type <= 0 || type >= (int)ELEMENTSOF(names) || !names[type])
                return "unknown";
        return names[type];
}

const char *vigil_end_how_name(int how)
{
        switch (how) {
        case VIGIL_END_EXIT:
                return "exit";
        case VIGIL_END_KILLED:
                return "killed";
        case VIGIL_END_LOST:
                return "lost";
        default:
                return NULL;
        }
}

void record_encode_simple(vbuf *out, vigil_record_type type, uint64_t t, const vbuf *body)
{
        vbuf_u8(out, (uint8_t)type);
        vbuf_varint(out, t);
        vbuf_put(out, body->p, body->len);
}

void record_decoder_init(record_decoder *dec)
{
        *dec = (record_decoder){ 0 };
}

static void masks_free(vigil_mask_count *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(m[i].detector);
        free(m);
}

static void decoder_clear_rec(record_decoder *dec)
{
        vigil_session_info_clear(&dec->begin);
        vigil_event_clear(&dec->cmd);
        approval_outcome_clear(&dec->appr);
        masks_free(dec->masks, dec->n_masks);
        dec->masks = NULL;
        dec->n_masks = 0;
        dec->chunk.n_frames = 0;
        vbuf_reset(&dec->chunk.frames_raw);
        vbuf_reset(&dec->chunk.data);
        memset(&dec->rec, 0, sizeof dec->rec);
}

void record_decoder_done(record_decoder *dec)
{
        decoder_clear_rec(dec);
        vbuf_free(&dec->chunk.frames_raw);
        vbuf_free(&dec->chunk.data);
        free(dec->chunk.frames);
        ZSTD_freeDCtx(dec->dctx);
        ZSTD_freeDCtx(dec->dctx_in);
        *dec = (record_decoder){ 0 };
}

void record_decoder_reset_stream(record_decoder *dec)
{
        if (dec->dctx)
                (void)ZSTD_DCtx_reset(dec->dctx, ZSTD_reset_session_only);
        dec->in_frame = false;
}

static int dctx_get(void **slot)
{
        if (*slot)
                return 0;
        *slot = ZSTD_createDCtx();
        if (!*slot)
                return -ENOMEM;
        if (ZSTD_isError(ZSTD_DCtx_setParameter(*slot, ZSTD_d_windowLogMax, DCTX_WINDOW_LOG_MAX)))
                return -EIO;
        return 0;
}

/* Decompress a stream piece: all of @in must produce exactly @raw_len bytes.
 * Output chunks continue the output stream's context; an input chunk is a
 * whole zstd frame of its own. */
static int stream_decompress(record_decoder *dec, bool input, const uint8_t *in, size_t in_len, size_t raw_len,
                             vbuf *out, const char **why)
{
        ZSTD_inBuffer ib = { in, in_len, 0 };
        ZSTD_outBuffer ob;
        uint8_t *dst;
        void *dctx;
        int r = dctx_get(input ? &dec->dctx_in : &dec->dctx);

        if (r < 0)
                return r;
        dctx = input ? dec->dctx_in : dec->dctx;
        if (input)
                (void)ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
        /* One spare byte tells "exactly raw_len" from "more was coming". */
        dst = vbuf_reserve(out, raw_len + 1);
        if (!dst)
                return -ENOMEM;
        ob = (ZSTD_outBuffer){ dst, raw_len + 1, 0 };
        for (;;) {
                size_t rr = ZSTD_decompressStream(dctx, &ob, &ib);

                if (ZSTD_isError(rr)) {
                        *why = "compressed data does not decode";
                        if (!input)
                                record_decoder_reset_stream(dec);
                        return VIGIL_E_CORRUPT;
                }
                if (!input)
                        dec->in_frame = rr != 0;
                if (ob.pos > raw_len) {
                        *why = "chunk decodes to more bytes than it declares";
                        if (!input)
                                record_decoder_reset_stream(dec);
                        return VIGIL_E_CORRUPT;
                }
                if (ib.pos == ib.size && ob.pos < ob.size)
                        break;
        }
        if (ob.pos != raw_len) {
                *why = "chunk decodes to fewer bytes than it declares";
                if (!input)
                        record_decoder_reset_stream(dec);
                return VIGIL_E_CORRUPT;
        }
        out->len += raw_len;
        return 0;
}

enum {
        CHUNK_NEWUNIT = 1,
        CHUNK_FRAMES_Z = 2,
        CHUNK_DATA_Z = 4,
};

static int decode_chunk(record_decoder *dec, vigil_record_type type, vdec *d, vbuf *canon, const char **why)
{
        chunk_content *c = &dec->chunk;
        uint64_t unit, offset, n_frames, frames_raw_len, frames_enc_len, data_raw_len, data_enc_len;
        const uint8_t *frames_enc, *data_enc;
        uint8_t flags;
        uint64_t t, off, kept = 0;
        vdec fd;
        int r;

        unit = vdec_varint_max(d, UINT32_MAX);
        flags = vdec_u8(d);
        offset = vdec_varint(d);
        n_frames = vdec_varint_max(d, CHUNK_MAX_FRAMES);
        frames_raw_len = vdec_varint_max(d, CHUNK_MAX_RAW);
        frames_enc_len = vdec_varint_max(d, CHUNK_MAX_RAW);
        frames_enc = vdec_bytes(d, frames_enc_len);
        data_raw_len = vdec_varint_max(d, CHUNK_MAX_RAW);
        data_enc_len = vdec_varint_max(d, CHUNK_MAX_RAW);
        data_enc = vdec_bytes(d, data_enc_len);
        if (d->err || !vdec_done(d) || (flags & ~7u) || n_frames == 0) {
                *why = "malformed chunk";
                return VIGIL_E_CORRUPT;
        }
        /* Input chunks are compressed one by one; only output carries its
         * compression context from chunk to chunk within a unit. */
        if (type == VIGIL_REC_INPUT && !(flags & CHUNK_NEWUNIT)) {
                *why = "input chunk without its own compression frame";
                return VIGIL_E_CORRUPT;
        }

        if (flags & CHUNK_FRAMES_Z) {
                unsigned long long sz = ZSTD_getFrameContentSize(frames_enc, frames_enc_len);
                uint8_t *dst;
                size_t got;

                if (sz != frames_raw_len) {
                        *why = "frame table size mismatch";
                        return VIGIL_E_CORRUPT;
                }
                dst = vbuf_reserve(&c->frames_raw, frames_raw_len);
                if (!dst && frames_raw_len)
                        return -ENOMEM;
                got = ZSTD_decompress(dst, frames_raw_len, frames_enc, frames_enc_len);
                if (ZSTD_isError(got) || got != frames_raw_len) {
                        *why = "frame table does not decode";
                        return VIGIL_E_CORRUPT;
                }
                c->frames_raw.len = frames_raw_len;
        } else {
                if (frames_enc_len != frames_raw_len) {
                        *why = "frame table size mismatch";
                        return VIGIL_E_CORRUPT;
                }
                vbuf_put(&c->frames_raw, frames_enc, frames_enc_len);
                if (c->frames_raw.oom)
                        return -ENOMEM;
        }

        if ((flags & CHUNK_NEWUNIT) && type == VIGIL_REC_OUTPUT)
                record_decoder_reset_stream(dec);
        else if (type == VIGIL_REC_OUTPUT && !dec->in_frame && data_raw_len) {
                *why = "output chunk continues a compression unit that was not started";
                return VIGIL_E_CORRUPT;
        }
        if (flags & CHUNK_DATA_Z) {
                if (data_raw_len || data_enc_len) {
                        r = stream_decompress(dec, type == VIGIL_REC_INPUT, data_enc, data_enc_len, data_raw_len, &c->data, why);
                        if (r < 0)
                                return r;
                }
        } else {
                if (data_enc_len != data_raw_len) {
                        *why = "chunk size mismatch";
                        return VIGIL_E_CORRUPT;
                }
                vbuf_put(&c->data, data_enc, data_enc_len);
                if (c->data.oom)
                        return -ENOMEM;
        }

        /* The frame table. */
        if (c->cap_frames < n_frames) {
                vigil_frame *nf = realloc(c->frames, n_frames * sizeof *nf);

                if (!nf)
                        return -ENOMEM;
                c->frames = nf;
                c->cap_frames = n_frames;
        }
        fd = vdec_init(c->frames_raw.p, c->frames_raw.len);
        t = dec->rec.t_us;
        off = offset;
        for (size_t i = 0; i < n_frames; i++) {
                vigil_frame *f = &c->frames[i];
                uint64_t dt = vdec_varint(&fd), lk = vdec_varint(&fd);

                if (fd.err || dt > UINT64_MAX - t || (lk >> 2) > UINT64_MAX - off) {
                        *why = "malformed frame table";
                        return VIGIL_E_CORRUPT;
                }
                t += dt;
                *f = (vigil_frame){ .t_us = t, .offset = off, .len = lk >> 2, .kind = (vigil_frame_kind)(lk & 3) };
                switch (f->kind) {
                case VIGIL_FRAME_TEXT:
                case VIGIL_FRAME_BINARY:
                        if (f->len == 0 || f->len > data_raw_len - kept) {
                                *why = "frame table and data disagree";
                                return VIGIL_E_CORRUPT;
                        }
                        f->data = c->data.p + kept;
                        kept += f->len;
                        break;
                case VIGIL_FRAME_DIGEST: {
                        const uint8_t *dg = vdec_bytes(&fd, 32);

                        if (!dg || f->len == 0) {
                                *why = "malformed digest frame";
                                return VIGIL_E_CORRUPT;
                        }
                        memcpy(f->sha256, dg, 32);
                        break;
                }
                case VIGIL_FRAME_CUT:
                        if (f->len != 0) {
                                *why = "malformed cut marker";
                                return VIGIL_E_CORRUPT;
                        }
                        break;
                }
                off += f->len;
        }
        if (!vdec_done(&fd) || kept != data_raw_len) {
                *why = "frame table and data disagree";
                return VIGIL_E_CORRUPT;
        }
        c->n_frames = n_frames;
        dec->rec.chunk.unit = (uint32_t)unit;
        dec->rec.chunk.offset = offset;
        dec->rec.chunk.n_frames = n_frames;
        dec->rec.chunk.frames = c->frames;

        if (canon) {
                vbuf_varint(canon, unit);
                vbuf_varint(canon, offset);
                vbuf_varint(canon, n_frames);
                vbuf_varint(canon, frames_raw_len);
                vbuf_put(canon, c->frames_raw.p, c->frames_raw.len);
                vbuf_varint(canon, data_raw_len);
                vbuf_put(canon, c->data.p, c->data.len);
                if (canon->oom)
                        return -ENOMEM;
        }
        return 0;
}

static int decode_command(record_decoder *dec, vdec *d)
{
        vigil_event *e = &dec->cmd;
        uint8_t decision;

        e->no = (uint32_t)vdec_varint_max(d, UINT32_MAX);
        e->time_us = vdec_varint(d);
        e->pid = (int32_t)vdec_zigzag(d);
        e->ppid = (int32_t)vdec_zigzag(d);
        if (!vdec_str(d, &e->runas) || !vdec_str(d, &e->cwd) || !vdec_str(d, &e->exe) ||
            !vdec_strv(d, &e->argv, &e->argc))
                return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
        decision = vdec_u8(d);
        if (!vdec_str(d, &e->rule))
                return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
        e->exec_off = vdec_varint(d);
        e->exec_t_us = dec->rec.t_us;
        if (decision >= _VIGIL_DEC_MAX)
                return VIGIL_E_CORRUPT;
        e->decision = decision;
        dec->rec.command = e;
        return 0;
}

static int decode_command_exit(record_decoder *dec, vdec *d)
{
        vigil_event *e = &dec->cmd;
        uint8_t decision;

        e->no = (uint32_t)vdec_varint_max(d, UINT32_MAX);
        e->wait_status = (int)vdec_zigzag(d);
        decision = vdec_u8(d);
        e->duration_ms = vdec_varint(d);
        e->exit_off = vdec_varint(d);
        e->exit_t_us = dec->rec.t_us;
        e->exited = true;
        if (decision != 0xff && decision >= _VIGIL_DEC_MAX)
                return VIGIL_E_CORRUPT;
        /* 0xff: the decision made at exec stands. */
        e->decision = decision == 0xff ? (vigil_decision_kind)-1 : (vigil_decision_kind)decision;
        dec->rec.command = e;
        return 0;
}

void approval_outcome_clear(vigil_approval_outcome *o)
{
        free(o->request);
        free(o->by_subject);
        free(o->by_email);
        strv_free(o->by_groups, o->by_n_groups);
        free(o->by_local);
        free(o->by_via);
        free(o->reason);
        *o = (vigil_approval_outcome){ 0 };
}

void approval_body(vbuf *b, const vigil_approval_outcome *o)
{
        vbuf_varint(b, o->command_no);
        vbuf_str(b, o->request);
        vbuf_u8(b, (uint8_t)o->decision);
        vbuf_u8(b, o->remembered);
        vbuf_str(b, o->by_subject);
        vbuf_str(b, o->by_email);
        vbuf_strv(b, (const char *const *)o->by_groups, o->by_groups ? o->by_n_groups : 0);
        vbuf_str(b, o->by_local);
        vbuf_str(b, o->by_via);
        vbuf_varint(b, o->decided_us);
        vbuf_str(b, o->reason);
}

static int decode_approval(record_decoder *dec, vdec *d)
{
        vigil_approval_outcome *o = &dec->appr;
        uint8_t decision, remembered;

        o->command_no = (uint32_t)vdec_varint_max(d, UINT32_MAX);
        if (!vdec_str(d, &o->request))
                return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
        decision = vdec_u8(d);
        remembered = vdec_u8(d);
        if (!vdec_str(d, &o->by_subject) || !vdec_str(d, &o->by_email) ||
            !vdec_strv(d, &o->by_groups, &o->by_n_groups) || !vdec_str(d, &o->by_local) ||
            !vdec_str(d, &o->by_via))
                return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
        o->decided_us = vdec_varint(d);
        if (!vdec_str(d, &o->reason))
                return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
        if (!approval_outcome_decision(decision) || remembered > 1 || (remembered && decision != VIGIL_DEC_APPROVED) ||
            !o->request)
                return VIGIL_E_CORRUPT;
        o->decision = decision;
        o->remembered = remembered;
        dec->rec.approval = o;
        return 0;
}

int record_decode(record_decoder *dec, uint64_t seq, const uint8_t *p, size_t n, vbuf *canon, const char **why)
{
        vdec d = vdec_init(p, n);
        uint8_t type;
        int r = 0;

        decoder_clear_rec(dec);
        *why = "malformed record";
        type = vdec_u8(&d);
        dec->rec.seq = seq;
        dec->rec.type = type;
        dec->rec.t_us = vdec_varint(&d);
        if (d.err || type == 0 || type >= _VIGIL_REC_MAX) {
                *why = "unknown record type";
                return VIGIL_E_CORRUPT;
        }
        if (canon) {
                /* The chain covers the stored bytes, except for chunks, where it
                 * covers the decoded content (so a chunk may be recompressed). */
                if (type == VIGIL_REC_OUTPUT || type == VIGIL_REC_INPUT)
                        vbuf_put(canon, p, d.pos);
                else
                        vbuf_put(canon, p, n);
                if (canon->oom)
                        return -ENOMEM;
        }
        switch ((vigil_record_type)type) {
        case VIGIL_REC_BEGIN:
                r = meta_decode(&d, &dec->begin);
                dec->rec.begin = &dec->begin;
                break;
        case VIGIL_REC_OUTPUT:
        case VIGIL_REC_INPUT:
                return decode_chunk(dec, type, &d, canon, why);
        case VIGIL_REC_RESIZE:
                dec->rec.resize.cols = (uint16_t)vdec_varint_max(&d, UINT16_MAX);
                dec->rec.resize.rows = (uint16_t)vdec_varint_max(&d, UINT16_MAX);
                break;
        case VIGIL_REC_COMMAND:
                r = decode_command(dec, &d);
                break;
        case VIGIL_REC_COMMAND_EXIT:
                r = decode_command_exit(dec, &d);
                break;
        case VIGIL_REC_APPROVAL:
                r = decode_approval(dec, &d);
                break;
        case VIGIL_REC_MASKS:
                r = masks_decode(&d, &dec->masks, &dec->n_masks);
                dec->rec.masks.n = dec->n_masks;
                dec->rec.masks.counts = dec->masks;
                break;
        case VIGIL_REC_END: {
                uint8_t how = vdec_u8(&d), tr = vdec_u8(&d);

                if (how < VIGIL_END_EXIT || how > VIGIL_END_LOST || tr > 1)
                        d.err = true;
                dec->rec.end.how = how;
                dec->rec.end.truncated = tr;
                dec->rec.end.exit_status = (int)vdec_zigzag(&d);
                dec->rec.end.out_bytes = vdec_varint(&d);
                dec->rec.end.in_bytes = vdec_varint(&d);
                dec->rec.end.n_commands = vdec_varint(&d);
                break;
        }
        case VIGIL_REC_SEAL: {
                uint8_t tr = vdec_u8(&d);
                const uint8_t *head, *pub, *sig;

                dec->rec.seal.truncated = tr == 1;
                dec->rec.seal.covers = vdec_varint(&d);
                head = vdec_bytes(&d, 32);
                pub = vdec_bytes(&d, 32);
                sig = vdec_bytes(&d, 64);
                if (tr > 1 || !sig)
                        d.err = true;
                else {
                        memcpy(dec->rec.seal.head, head, 32);
                        memcpy(dec->rec.seal.pubkey, pub, 32);
                        memcpy(dec->rec.seal.signature, sig, 64);
                }
                break;
        }
        case _VIGIL_REC_MAX:
                break;
        }
        if (r < 0) {
                if (r == VIGIL_E_CORRUPT)
                        *why = "malformed record";
                return r;
        }
        if (!vdec_done(&d)) {
                *why = "malformed record";
                return VIGIL_E_CORRUPT;
        }
        return 0;
}

void end_body(vbuf *b, vigil_end_how how, bool truncated, int status, uint64_t out, uint64_t in, uint64_t ncmd)
{
        vbuf_u8(b, (uint8_t)how);
        vbuf_u8(b, truncated);
        vbuf_zigzag(b, status);
        vbuf_varint(b, out);
        vbuf_varint(b, in);
        vbuf_varint(b, ncmd);
}

void seal_body(vbuf *b, bool truncated, uint64_t covers, const uint8_t head[HASH_LEN], const uint8_t pub[32],
               const uint8_t sig[64])
{
        vbuf_u8(b, truncated);
        vbuf_varint(b, covers);
        vbuf_put(b, head, HASH_LEN);
        vbuf_put(b, pub, 32);
        vbuf_put(b, sig, 64);
}

void masks_body(vbuf *b, const vigil_mask_count *m, size_t n)
{
        vbuf_varint(b, n);
        for (size_t i = 0; i < n; i++) {
                vbuf_str(b, m[i].detector);
                vbuf_varint(b, m[i].count);
        }
}
