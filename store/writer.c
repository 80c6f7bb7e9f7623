/* The session writer: what a supervisor calls. Records are built and hashed
 * in memory and committed in batches (one short write transaction each). */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "store-internal.h"

enum side_table {
        SIDE_EVENTS = 1,
        SIDE_EVTIME = 2,
        SIDE_USERS = 3,
        SIDE_SEARCH = 4,
        SIDE_UNSEALED = 5,
        SIDE_DELETE = 0x80, /* or'ed in: delete the key */
};

typedef struct live_cmd {
        vigil_event ev;
} live_cmd;

struct vigil_session {
        vigil_store *st;
        uint8_t id[ID_LEN];
        vigil_session_info info; /* the summary as committed next */
        uint64_t start_us, last_rel;
        uint64_t seq; /* next record */
        uint8_t head[HASH_LEN];
        vbuf pend, side, scratch;
        size_t n_pend;
        uint64_t pend_since; /* CLOCK_MONOTONIC µs when something became pending; 0 = nothing */
        stream out, in;
        /* search index */
        bloom bl;
        line_norm ln;
        uint64_t unit_first_seq;
        uint32_t search_unit;
        bool prev_random; /* the last unit closed was random-looking */
        /* commands that may still exit */
        live_cmd *live;
        size_t n_live, cap_live;
        uint32_t next_cmd;
        bool masks_dirty;
        int error;
        bool ended;
};

static uint64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t vigil_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t session_rel(uint64_t start_us, uint64_t t_us)
{
        return t_us > start_us ? t_us - start_us : 0;
}

/* Session-relative time of an event, never going backwards. */
static uint64_t rel_time(vigil_session *s, uint64_t t_us)
{
        uint64_t rel = session_rel(s->start_us, t_us ? t_us : vigil_now_us());

        if (rel < s->last_rel)
                rel = s->last_rel;
        s->last_rel = rel;
        return rel;
}

static void mark_pending(vigil_session *s)
{
        if (!s->pend_since)
                s->pend_since = mono_us();
}

static int fail(vigil_session *s, int r)
{
        if (!s->error)
                s->error = r;
        return s->error;
}

/* A pending record in s->pend: be64 seq | be32 length | hash | the record.
 * pend_begin() leaves room for the header; the record is then appended in
 * place (no copy of it) and pend_end() fills the header in. */
#define PEND_HDR (8 + 4 + HASH_LEN)

static int pend_begin(vigil_session *s, size_t *ret_at)
{
        if (!vbuf_reserve(&s->pend, PEND_HDR))
                return -ENOMEM;
        *ret_at = s->pend.len;
        s->pend.len += PEND_HDR;
        return 0;
}

/* Finish the record begun at @at with the chain hash of @h (consumed).
 * On failure the record is dropped from s->pend. */
static int pend_end(vigil_session *s, size_t at, chain_hasher *h)
{
        uint8_t head[HASH_LEN], *p;
        int r;

        if (s->pend.oom) {
                chain_hasher_free(h);
                s->pend.len = at;
                return -ENOMEM;
        }
        r = chain_hasher_finish(h, head);
        if (r < 0) {
                s->pend.len = at;
                return r;
        }
        p = s->pend.p + at;
        be64_put(p, s->seq);
        be32_put(p + 8, (uint32_t)(s->pend.len - at - 12));
        memcpy(p + 12, head, HASH_LEN);
        memcpy(s->head, head, HASH_LEN);
        s->seq++;
        s->n_pend++;
        mark_pending(s);
        return 0;
}

/* Hash and queue a record whose stored form is also its canonical form. */
static int queue_record(vigil_session *s, const vbuf *rec)
{
        chain_hasher *h = chain_hasher_new(s->head, s->id, s->seq);
        size_t at;
        int r;

        if (!h)
                return -ENOMEM;
        r = pend_begin(s, &at);
        if (r < 0) {
                chain_hasher_free(h);
                return r;
        }
        chain_hasher_add(h, rec->p, rec->len);
        vbuf_put(&s->pend, rec->p, rec->len);
        return pend_end(s, at, h);
}

static int queue_side(vigil_session *s, enum side_table t, const void *k, size_t klen, const void *v, size_t vlen)
{
        uint8_t b[4];

        vbuf_u8(&s->side, (uint8_t)t);
        be32_put(b, (uint32_t)klen);
        vbuf_put(&s->side, b, 4);
        vbuf_put(&s->side, k, klen);
        be32_put(b, (uint32_t)vlen);
        vbuf_put(&s->side, b, 4);
        vbuf_put(&s->side, v, vlen);
        mark_pending(s);
        return s->side.oom ? -ENOMEM : 0;
}

/* A record whose canonical form is its stored form. */
static int queue_simple(vigil_session *s, vigil_record_type type, uint64_t t, const vbuf *body)
{
        vbuf_reset(&s->scratch);
        record_encode_simple(&s->scratch, type, t, body);
        if (s->scratch.oom)
                return -ENOMEM;
        return queue_record(s, &s->scratch);
}

static int close_search_unit(vigil_session *s, uint64_t raw)
{
        uint8_t key[ID_LEN + 4];
        vbuf val = { 0 };
        int r = 0;

        line_norm_break(&s->ln, bloom_line_cb, &s->bl);
        if (s->seq > s->unit_first_seq) {
                vbuf_be64(&val, s->unit_first_seq);
                vbuf_be64(&val, s->seq - 1);
                bloom_finish(&s->bl, signature_budget(raw), &val);
                memcpy(key, s->id, ID_LEN);
                be32_put(key + ID_LEN, s->search_unit);
                r = val.oom ? -ENOMEM : queue_side(s, SIDE_SEARCH, key, sizeof key, val.p, val.len);
                s->search_unit++;
        }
        vbuf_free(&val);
        s->prev_random = s->bl.saturated;
        bloom_clear(&s->bl);
        if (s->prev_random)
                bloom_expect_random(&s->bl);
        s->unit_first_seq = s->seq;
        return r;
}

static int cut_stream(vigil_session *s, stream *str, bool end_unit)
{
        uint32_t unit_before = str->unit;
        uint64_t raw = str->unit_raw;
        chain_hasher *h;
        size_t at;
        int r;

        /* What the level of a unit starting here goes by (stream.c): its
         * signature saturated, or, before that can tell (64 KiB), the last
         * unit's (bulk random output goes on across units). */
        if (str == &s->out)
                str->random = s->bl.saturated || (s->prev_random && s->bl.raw < 64 * 1024);
        h = chain_hasher_new(s->head, s->id, s->seq);
        if (!h)
                return -ENOMEM;
        r = pend_begin(s, &at);
        if (r < 0) {
                chain_hasher_free(h);
                return r;
        }
        r = stream_cut(str, end_unit, &s->pend, h);
        if (r <= 0) {
                s->pend.len = at;
                chain_hasher_free(h);
        } else
                r = pend_end(s, at, h);
        if (r < 0)
                return r;
        if (str == &s->out && str->unit != unit_before)
                return close_search_unit(s, raw);
        return 0;
}

/* Keep records in time order: whatever output is pending goes before a new record. */
static int cut_all(vigil_session *s)
{
        int r = cut_stream(s, &s->out, false);

        if (r >= 0)
                r = cut_stream(s, &s->in, false);
        return r;
}

/* A record, never over an existing one. Appended when its key is the
 * table's last (this session is the newest writing): LMDB then fills each
 * leaf page before starting the next, where an insert elsewhere splits a
 * full page in half. A session's records come once a second at an
 * interactive pace, each a few hundred bytes to a few KB; half-empty pages
 * would store them at 1.4 times their size. An append that does not fit at
 * the end changes nothing and is retried as an ordinary insert (pieces.c). */
static int put_record(vigil_session *s, MDB_txn *txn, const uint8_t key[REC_KEY_LEN], const void *v, size_t vlen)
{
        return store_put(s->st, txn, s->st->records, key, REC_KEY_LEN, v, vlen, STORE_PUT_APPEND | STORE_PUT_NEW,
                         "store record");
}

/* LMDB reports a short write (a full file system) as EIO: say which it was. */
static int commit_error(vigil_store *st, int rc)
{
        struct statvfs sv;
        int r = store_mdb_error(st, rc, "mdb_txn_commit");

        if (rc == EIO && statvfs(st->dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < 2 * VIGIL_STORE_BATCH_BYTES) {
                store_set_errmsg(st, "mdb_txn_commit: No space left on device (the file system of '%s' is full)",
                                 st->dir);
                return -ENOSPC;
        }
        return r;
}

static int commit(vigil_session *s)
{
        vigil_store *st = s->st;
        MDB_txn *txn = NULL;
        vdec d;
        int r, rc;

        if (s->masks_dirty) {
                vbuf body = { 0 };

                r = cut_all(s);
                if (r < 0)
                        return r;
                masks_body(&body, s->info.masks, s->info.n_masks);
                r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_MASKS, s->last_rel, &body);
                vbuf_free(&body);
                if (r < 0)
                        return r;
                s->masks_dirty = false;
        }
        r = cut_all(s);
        if (r < 0)
                return r;
        s->info.n_records = s->seq;
        s->info.out_bytes = s->out.offset;
        s->info.in_bytes = s->in.offset;
        s->info.truncated = s->info.truncated || s->out.cut;
        vbuf_reset(&s->scratch);
        summary_encode(&s->scratch, &s->info);
        if (s->scratch.oom)
                return -ENOMEM;

        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                return r;
        d = vdec_init(s->pend.p, s->pend.len);
        while (d.pos < d.len) {
                uint8_t key[REC_KEY_LEN];
                uint64_t seq = vdec_be64(&d);
                uint32_t len = vdec_be32(&d);
                const uint8_t *v = vdec_bytes(&d, len);

                rec_key(key, s->id, seq);
                r = put_record(s, txn, key, v, len);
                if (r < 0)
                        goto abort;
        }
        d = vdec_init(s->side.p, s->side.len);
        while (d.pos < d.len) {
                static const size_t offs[] = {
                        [SIDE_EVENTS] = offsetof(vigil_store, events),
                        [SIDE_EVTIME] = offsetof(vigil_store, evtime),
                        [SIDE_USERS] = offsetof(vigil_store, users),
                        [SIDE_SEARCH] = offsetof(vigil_store, search),
                        [SIDE_UNSEALED] = offsetof(vigil_store, unsealed),
                };
                uint8_t t = vdec_u8(&d);
                uint32_t klen = vdec_be32(&d);
                const uint8_t *k = vdec_bytes(&d, klen);
                uint32_t vlen = vdec_be32(&d);
                const uint8_t *v = vdec_bytes(&d, vlen);
                MDB_dbi dbi = *(MDB_dbi *)((char *)st + offs[t & ~SIDE_DELETE]);

                if (t & SIDE_DELETE) {
                        r = store_del(st, txn, dbi, k, klen, "store index");
                        if (r == -ENOENT)
                                r = 0;
                } else /* the newest session's entries go at the tables' ends */
                        r = store_put(st, txn, dbi, k, klen, v, vlen, STORE_PUT_APPEND, "store index");
                if (r < 0)
                        goto abort;
        }
        r = store_put(st, txn, st->sessions, s->id, ID_LEN, s->scratch.p, s->scratch.len, 0, "store summary");
        if (r < 0)
                goto abort;
        rc = mdb_txn_commit(txn);
        if (rc)
                return commit_error(st, rc);
        vbuf_reset(&s->pend);
        vbuf_reset(&s->side);
        s->n_pend = 0;
        s->pend_since = 0;
        return 0;
abort:
        mdb_txn_abort(txn);
        return r;
}

static size_t pending_bytes(const vigil_session *s)
{
        return s->pend.len + s->side.len + stream_pending_bytes(&s->out) + stream_pending_bytes(&s->in);
}

static int maybe_commit(vigil_session *s)
{
        int r = 0;

        if (pending_bytes(s) >= VIGIL_STORE_BATCH_BYTES)
                r = commit(s);
        return r < 0 ? fail(s, r) : 0;
}

static char *host_name(void)
{
        char buf[256];

        if (gethostname(buf, sizeof buf - 1) < 0)
                return strdup("localhost");
        buf[sizeof buf - 1] = 0;
        return strdup(buf);
}

static int info_from_meta(vigil_session_info *i, const vigil_session_meta *m)
{
        vigil_session_info tmp = {
                .user = (char *)m->user,
                .uid = m->uid,
                .subject = (char *)m->subject,
                .email = (char *)m->email,
                .groups = (char **)m->groups,
                .n_groups = m->groups ? m->n_groups : 0,
                .host = (char *)m->host,
                .tty = (char *)m->tty,
                .client = (char *)m->client,
                .argv = (char **)m->argv,
                .argc = m->argv ? m->argc : 0,
        };
        int r;

        if (tmp.n_groups > VIGIL_STORE_MAX_ARGV)
                tmp.n_groups = VIGIL_STORE_MAX_ARGV;
        if (tmp.argc > VIGIL_STORE_MAX_ARGV)
                tmp.argc = VIGIL_STORE_MAX_ARGV;
        r = session_info_copy(&tmp, i);
        if (r < 0)
                return r;
        if (!i->host) {
                i->host = host_name();
                if (!i->host)
                        return -ENOMEM;
        }
        return 0;
}

int vigil_session_begin(vigil_store *st, const vigil_session_meta *meta, const vigil_record_opts *opts,
                        vigil_session **ret)
{
        vigil_session *s;
        vbuf body = { 0 };
        int r;

        if (!meta || !meta->user || !*meta->user || !opts)
                return -EINVAL;
        if (st->flags & VIGIL_STORE_READONLY)
                return -EROFS;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->st = st;
        s->start_us = meta->start_us ? meta->start_us : vigil_now_us();
        r = info_from_meta(&s->info, meta);
        if (r < 0)
                goto fail;
        s->info.start_us = s->start_us;
        s->info.cols = meta->cols;
        s->info.rows = meta->rows;
        s->info.opts = *opts;
        s->info.exit_status = -1;
        s->info.how = VIGIL_END_LIVE;
        r = owner_self(&s->info.writer_pid, &s->info.writer_start, s->info.boot_id);
        if (r < 0) {
                store_set_errmsg(st, "cannot read this process's identity from /proc");
                goto fail;
        }
        if (meta->id) {
                /* The caller's id (a UUIDv7 it made): ids must sort by start. */
                if ((meta->id[6] & 0xf0) != 0x70 || (meta->id[8] & 0xc0) != 0x80 ||
                    session_id_ms(meta->id) > s->start_us / 1000) {
                        r = -EINVAL;
                        goto fail;
                }
                memcpy(s->id, meta->id, ID_LEN);
        } else {
                r = store_session_id_new(s->start_us, s->id);
                if (r < 0)
                        goto fail;
        }
        memcpy(s->info.id, s->id, ID_LEN);
        r = stream_init(&s->out, VIGIL_REC_OUTPUT, opts->output, opts->binary == VIGIL_RECORD_BINARY_FULL,
                        opts->max_output, st->zstd_level);
        if (r >= 0)
                r = stream_init(&s->in, VIGIL_REC_INPUT, opts->input, opts->binary == VIGIL_RECORD_BINARY_FULL, 0,
                                st->zstd_level);
        if (r >= 0)
                r = bloom_init(&s->bl);
        if (r < 0)
                goto fail;

        meta_encode(&body, &s->info);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_BEGIN, 0, &body);
        vbuf_free(&body);
        if (r < 0)
                goto fail;
        r = user_key(&s->scratch, s->info.user, s->start_us, s->id);
        if (r < 0)
                goto fail;
        r = queue_side(s, SIDE_USERS, s->scratch.p, s->scratch.len, "", 0);
        if (r >= 0)
                r = queue_side(s, SIDE_UNSEALED, s->id, ID_LEN, "", 0);
        if (r < 0)
                goto fail;
        r = commit(s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        vigil_session_free(s);
        return r;
}

const uint8_t *vigil_session_id(const vigil_session *s)
{
        return s->id;
}

int vigil_session_error(const vigil_session *s)
{
        return s->error;
}

static void index_frame(void *userdata, vigil_frame_kind kind, const uint8_t *p, size_t len)
{
        vigil_session *s = userdata;

        /* A unit that goes unindexed needs no lines: what is left of the
         * one in progress is dropped when the unit closes (line_norm_break). */
        if (s->bl.saturated)
                return;

        if (kind == VIGIL_FRAME_TEXT)
                line_norm_feed(&s->ln, p, len, bloom_line_cb, &s->bl);
        else
                line_norm_break(&s->ln, bloom_line_cb, &s->bl);
}

/* Whether the output unit ends after a write (@line_end: the write ended a
 * line): at a line end once it is big enough (at twice the size in any
 * case), or when it is compressed at the strong level and either the budget
 * for that is spent (at a line end) or its data turned out random-looking
 * (at once: such a unit has no lines to search, and the strong level costs
 * 50 times more there for nothing). */
static bool unit_ends(const vigil_session *s, bool line_end)
{
        const stream *o = &s->out;

        if (o->unit_raw >= 2 * VIGIL_STORE_UNIT_BYTES || (o->unit_strong && s->bl.saturated))
                return true;
        return line_end && (o->unit_raw >= VIGIL_STORE_UNIT_BYTES || stream_unit_over_budget(o));
}

int vigil_session_output(vigil_session *s, uint64_t t_us, const void *buf, size_t len)
{
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (len == 0)
                return 0;
        t = rel_time(s, t_us);
        r = stream_write(&s->out, t, buf, len, index_frame, s);
        if (r < 0)
                return fail(s, r);
        if (s->out.keep)
                mark_pending(s);
        if (unit_ends(s, ((const uint8_t *)buf)[len - 1] == '\n')) {
                /* the input's pending chunk with it, as cut_all() does: an
                 * output chunk and the input chunk after it cover one time
                 * window (what export and replay merge by time) */
                r = cut_stream(s, &s->out, true);
                if (r >= 0)
                        r = cut_stream(s, &s->in, false);
                if (r < 0)
                        return fail(s, r);
        }
        return maybe_commit(s);
}

int vigil_session_input(vigil_session *s, uint64_t t_us, const void *buf, size_t len)
{
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (len == 0)
                return 0;
        r = stream_write(&s->in, rel_time(s, t_us), buf, len, NULL, NULL);
        if (r < 0)
                return fail(s, r);
        if (s->in.keep)
                mark_pending(s);
        return maybe_commit(s);
}

int vigil_session_resize(vigil_session *s, uint64_t t_us, uint16_t cols, uint16_t rows)
{
        vbuf body = { 0 };
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        t = rel_time(s, t_us);
        r = cut_all(s);
        if (r < 0)
                return fail(s, r);
        vbuf_varint(&body, cols);
        vbuf_varint(&body, rows);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_RESIZE, t, &body);
        vbuf_free(&body);
        if (r < 0)
                return fail(s, r);
        return maybe_commit(s);
}

void command_line(vbuf *b, char *const *argv, size_t argc)
{
        vbuf_reset(b);
        for (size_t i = 0; i < argc && b->len < LINE_MAX_LEN; i++) {
                if (i)
                        vbuf_u8(b, ' ');
                vbuf_put(b, argv[i], strlen(argv[i]));
        }
        if (b->len > LINE_MAX_LEN)
                b->len = LINE_MAX_LEN;
}

static int queue_event(vigil_session *s, const vigil_event *e, bool with_time)
{
        uint8_t key[ID_LEN + 4], tkey[8 + ID_LEN + 4];
        int r;

        vbuf_reset(&s->scratch);
        event_encode(&s->scratch, e);
        if (s->scratch.oom)
                return -ENOMEM;
        memcpy(key, s->id, ID_LEN);
        be32_put(key + ID_LEN, e->no);
        r = queue_side(s, SIDE_EVENTS, key, sizeof key, s->scratch.p, s->scratch.len);
        if (r < 0 || !with_time)
                return r;
        be64_put(tkey, e->time_us);
        memcpy(tkey + 8, s->id, ID_LEN);
        be32_put(tkey + 8 + ID_LEN, e->no);
        return queue_side(s, SIDE_EVTIME, tkey, sizeof tkey, "", 0);
}

static char *dup_str(const char *p, bool *oom)
{
        char *c;

        if (!p)
                return NULL;
        c = strndup(p, VIGIL_STORE_MAX_STRING);
        if (!c)
                *oom = true;
        return c;
}

int vigil_session_command(vigil_session *s, const vigil_command_info *c, uint32_t *ret_no)
{
        vigil_event e = { 0 };
        vbuf body = { 0 };
        bool oom = false;
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (!c || (unsigned)c->decision >= _VIGIL_DEC_MAX || (c->argc && !c->argv))
                return -EINVAL;
        t = rel_time(s, c->time_us);
        r = cut_all(s);
        if (r < 0)
                return fail(s, r);

        e.no = s->next_cmd;
        e.time_us = c->time_us ? c->time_us : s->start_us + t;
        e.user = dup_str(s->info.user, &oom);
        e.host = dup_str(s->info.host, &oom);
        e.pid = c->pid;
        e.ppid = c->ppid;
        e.runas = dup_str(c->runas, &oom);
        e.cwd = dup_str(c->cwd, &oom);
        e.exe = dup_str(c->exe, &oom);
        e.argc = c->argc > VIGIL_STORE_MAX_ARGV ? VIGIL_STORE_MAX_ARGV : c->argc;
        e.argv = calloc(e.argc + 1, sizeof(char *));
        if (!e.argv)
                oom = true;
        for (size_t i = 0; e.argv && i < e.argc; i++) {
                e.argv[i] = dup_str(c->argv[i] ? c->argv[i] : "", &oom);
        }
        e.decision = c->decision;
        e.rule = dup_str(c->rule, &oom);
        e.exec_t_us = t;
        e.exec_off = s->out.offset;
        if (oom) {
                vigil_event_clear(&e);
                return fail(s, -ENOMEM);
        }

        vbuf_varint(&body, e.no);
        vbuf_varint(&body, e.time_us);
        vbuf_zigzag(&body, e.pid);
        vbuf_zigzag(&body, e.ppid);
        vbuf_str(&body, e.runas);
        vbuf_str(&body, e.cwd);
        vbuf_str(&body, e.exe);
        vbuf_strv(&body, (const char *const *)e.argv, e.argc);
        vbuf_u8(&body, (uint8_t)e.decision);
        vbuf_str(&body, e.rule);
        vbuf_varint(&body, e.exec_off);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_COMMAND, t, &body);
        vbuf_free(&body);
        if (r >= 0)
                r = queue_event(s, &e, true);
        if (r >= 0) {
                command_line(&s->scratch, e.argv, e.argc);
                bloom_add_line(&s->bl, s->scratch.p, s->scratch.len, true);
        }
        if (r < 0) {
                vigil_event_clear(&e);
                return fail(s, r);
        }
        s->next_cmd++;
        s->info.n_commands = s->next_cmd;
        if (ret_no)
                *ret_no = e.no;
        /* Only a command that may run can exit later (a held one once approved). */
        if (e.decision == VIGIL_DEC_ALLOW || e.decision == VIGIL_DEC_AUDIT || e.decision == VIGIL_DEC_APPROVED ||
            e.decision == VIGIL_DEC_HELD) {
                if (s->n_live == s->cap_live) {
                        size_t cap = s->cap_live ? s->cap_live * 2 : 16;
                        live_cmd *nl = realloc(s->live, cap * sizeof *nl);

                        if (!nl) {
                                vigil_event_clear(&e);
                                return fail(s, -ENOMEM);
                        }
                        s->live = nl;
                        s->cap_live = cap;
                }
                s->live[s->n_live++].ev = e;
        } else
                vigil_event_clear(&e);
        return maybe_commit(s);
}

static int live_find(vigil_session *s, uint32_t no, size_t *ret_idx)
{
        for (size_t i = s->n_live; i-- > 0;)
                if (s->live[i].ev.no == no) {
                        *ret_idx = i;
                        return 0;
                }
        return -ENOENT;
}

int vigil_session_approval(vigil_session *s, const vigil_approval_outcome *o)
{
        vigil_approval_outcome c;
        vigil_event *e;
        vbuf body = { 0 };
        size_t idx = 0;
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (!o || !approval_outcome_decision(o->decision) || (o->remembered && o->decision != VIGIL_DEC_APPROVED) ||
            !o->request || !*o->request || (o->by_n_groups && !o->by_groups))
                return -EINVAL;
        if (live_find(s, o->command_no, &idx) < 0)
                return -ENOENT;
        e = &s->live[idx].ev;
        if (e->exited || !(e->decision == VIGIL_DEC_HELD || (o->remembered && e->decision == VIGIL_DEC_APPROVED)))
                return -ENOENT;
        t = rel_time(s, 0);
        r = cut_all(s);
        if (r < 0)
                return fail(s, r);
        /* Bounded like every stored string: the decoder refuses more. */
        c = *o;
        c.by_n_groups = o->by_groups ? (o->by_n_groups > VIGIL_STORE_MAX_ARGV ? VIGIL_STORE_MAX_ARGV : o->by_n_groups) : 0;
        for (size_t i = 0; i < c.by_n_groups; i++)
                if (!o->by_groups[i] || strlen(o->by_groups[i]) > VIGIL_STORE_MAX_STRING)
                        return -EINVAL;
        if ((c.request && strlen(c.request) > VIGIL_STORE_MAX_STRING) ||
            (c.by_subject && strlen(c.by_subject) > VIGIL_STORE_MAX_STRING) ||
            (c.by_email && strlen(c.by_email) > VIGIL_STORE_MAX_STRING) ||
            (c.by_local && strlen(c.by_local) > VIGIL_STORE_MAX_STRING) ||
            (c.by_via && strlen(c.by_via) > VIGIL_STORE_MAX_STRING) ||
            (c.reason && strlen(c.reason) > VIGIL_STORE_MAX_STRING))
                return -EINVAL;
        if (!c.decided_us)
                c.decided_us = vigil_now_us();
        approval_body(&body, &c);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_APPROVAL, t, &body);
        vbuf_free(&body);
        if (r < 0)
                return fail(s, r);
        e->decision = o->decision;
        r = queue_event(s, e, false);
        if (r < 0)
                return fail(s, r);
        /* Only an approved command runs, and may exit later. */
        if (o->decision != VIGIL_DEC_APPROVED) {
                vigil_event_clear(e);
                s->live[idx] = s->live[--s->n_live];
        }
        return maybe_commit(s);
}

int vigil_session_command_exit(vigil_session *s, uint32_t no, uint64_t t_us, int wait_status, int decision)
{
        vigil_event *e = NULL;
        vbuf body = { 0 };
        size_t idx = 0;
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (decision >= _VIGIL_DEC_MAX || decision < -1)
                return -EINVAL;
        if (live_find(s, no, &idx) == 0)
                e = &s->live[idx].ev;
        /* a held command that was not approved never ran */
        if (!e || e->decision == VIGIL_DEC_HELD)
                return -ENOENT;
        t = rel_time(s, t_us);
        r = cut_all(s);
        if (r < 0)
                return fail(s, r);
        e->exited = true;
        e->wait_status = wait_status;
        e->exit_t_us = t;
        e->exit_off = s->out.offset;
        e->duration_ms = (t - e->exec_t_us) / 1000;
        if (decision >= 0)
                e->decision = decision;

        vbuf_varint(&body, no);
        vbuf_zigzag(&body, wait_status);
        vbuf_u8(&body, decision >= 0 ? (uint8_t)decision : 0xff);
        vbuf_varint(&body, e->duration_ms);
        vbuf_varint(&body, e->exit_off);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_COMMAND_EXIT, t, &body);
        vbuf_free(&body);
        if (r >= 0)
                r = queue_event(s, e, false);
        vigil_event_clear(e);
        s->live[idx] = s->live[--s->n_live];
        if (r < 0)
                return fail(s, r);
        return maybe_commit(s);
}

int vigil_session_masked(vigil_session *s, const char *detector, uint64_t n)
{
        vigil_mask_count *m;

        if (s->error)
                return s->error;
        if (!detector || !*detector)
                return -EINVAL;
        for (size_t i = 0; i < s->info.n_masks; i++)
                if (strcmp(s->info.masks[i].detector, detector) == 0) {
                        s->info.masks[i].count += n;
                        s->masks_dirty = true;
                        mark_pending(s);
                        return 0;
                }
        if (s->info.n_masks >= 1024)
                return -E2BIG;
        m = realloc(s->info.masks, (s->info.n_masks + 1) * sizeof *m);
        if (!m)
                return -ENOMEM;
        s->info.masks = m;
        m[s->info.n_masks].detector = strndup(detector, 256);
        if (!m[s->info.n_masks].detector)
                return -ENOMEM;
        m[s->info.n_masks++].count = n;
        s->masks_dirty = true;
        mark_pending(s);
        return 0;
}

int vigil_session_flush_timeout_ms(const vigil_session *s)
{
        uint64_t now, due;

        if (!s->pend_since || s->error)
                return -1;
        now = mono_us();
        due = s->pend_since + VIGIL_STORE_BATCH_USEC;
        return now >= due ? 0 : (int)((due - now + 999) / 1000);
}

int vigil_session_flush(vigil_session *s, bool force)
{
        int r;

        if (s->error)
                return s->error;
        if (!s->pend_since)
                return 0;
        if (!force && mono_us() < s->pend_since + VIGIL_STORE_BATCH_USEC)
                return 0;
        r = commit(s);
        if (r < 0)
                return fail(s, r);
        return 1;
}

int vigil_session_end(vigil_session *s, uint64_t t_us, int wait_status, vigil_end_how how)
{
        vbuf body = { 0 };
        uint8_t pub[32], sig[64];
        uint64_t t;
        int r;

        if (s->error)
                return s->error;
        if (s->ended)
                return -ESTALE;
        if (how != VIGIL_END_EXIT && how != VIGIL_END_KILLED && how != VIGIL_END_LOST)
                return -EINVAL;
        t = rel_time(s, t_us);
        /* Close the streams and the last search unit first. */
        r = cut_stream(s, &s->out, true);
        if (r >= 0)
                r = cut_stream(s, &s->in, false);
        if (r >= 0 && s->masks_dirty) {
                masks_body(&body, s->info.masks, s->info.n_masks);
                r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_MASKS, t, &body);
                vbuf_reset(&body);
                s->masks_dirty = false;
        }
        if (r >= 0)
                r = close_search_unit(s, s->out.unit_raw);
        if (r < 0)
                goto out;
        if (how == VIGIL_END_KILLED && wait_status < 0)
                wait_status = -1;
        s->info.truncated = s->info.truncated || s->out.cut || how == VIGIL_END_LOST;
        end_body(&body, how, s->info.truncated, wait_status, s->out.offset, s->in.offset, s->next_cmd);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_END, t, &body);
        if (r < 0)
                goto out;
        r = seal_sign(s->st, s->id, s->seq, s->head, s->info.truncated, pub, sig);
        if (r < 0)
                goto out;
        vbuf_reset(&body);
        seal_body(&body, s->info.truncated, s->seq, s->head, pub, sig);
        r = body.oom ? -ENOMEM : queue_simple(s, VIGIL_REC_SEAL, t, &body);
        if (r < 0)
                goto out;
        r = queue_side(s, SIDE_UNSEALED | SIDE_DELETE, s->id, ID_LEN, "", 0);
        if (r < 0)
                goto out;
        s->info.end_us = s->start_us + t;
        s->info.exit_status = wait_status;
        s->info.how = how;
        s->info.sealed = true;
        r = commit(s);
        if (r >= 0)
                s->ended = true;
out:
        vbuf_free(&body);
        return r < 0 ? fail(s, r) : 0;
}

vigil_session *vigil_session_free(vigil_session *s)
{
        if (!s)
                return NULL;
        vigil_session_info_clear(&s->info);
        vbuf_free(&s->pend);
        vbuf_free(&s->side);
        vbuf_free(&s->scratch);
        stream_done(&s->out);
        stream_done(&s->in);
        bloom_done(&s->bl);
        line_norm_done(&s->ln);
        for (size_t i = 0; i < s->n_live; i++)
                vigil_event_clear(&s->live[i].ev);
        free(s->live);
        free(s);
        return NULL;
}
