/* vigil verify: walk each session's chain in one read snapshot, re-derive
 * everything the derived tables say (summary, events, user index, search
 * index) and compare; seal orphans on request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

typedef struct unit_entry {
        uint64_t first, last;
        uint8_t *sig;
        size_t sig_len;
} unit_entry;

typedef struct derived {
        vigil_session_info meta; /* from the begin record */
        bool have_begin, have_end, have_seal, cut;
        uint64_t n_records, out_off, in_off, last_t, end_t;
        vigil_end_how how;
        int exit_status;
        bool end_truncated;
        uint64_t end_out, end_in, end_ncmd;
        vigil_event *events;
        size_t n_events, cap_events;
        vigil_mask_count *masks;
        size_t n_masks;
        /* search index */
        unit_entry *units;
        size_t n_units, cur;
        uint64_t tail_first, tail_raw; /* first record and output bytes not in a unit yet */
        bloom bl;
        line_norm ln;
        vbuf tmp;
        char problem[300];
} derived;

static void derived_done(derived *d)
{
        vigil_session_info_clear(&d->meta);
        for (size_t i = 0; i < d->n_events; i++)
                vigil_event_clear(&d->events[i]);
        free(d->events);
        for (size_t i = 0; i < d->n_masks; i++)
                free(d->masks[i].detector);
        free(d->masks);
        for (size_t i = 0; i < d->n_units; i++)
                free(d->units[i].sig);
        free(d->units);
        bloom_done(&d->bl);
        line_norm_done(&d->ln);
        vbuf_free(&d->tmp);
}

static int bad(derived *d, const char *fmt, ...) _printf_(2, 3);
static int bad(derived *d, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->problem, sizeof d->problem, fmt, ap);
        va_end(ap);
        return VIGIL_E_CORRUPT;
}

static int load_units(vigil_store *st, MDB_txn *txn, const uint8_t id[ID_LEN], derived *d)
{
        uint8_t key[ID_LEN + 4];
        store_cursor c;
        MDB_val k = { sizeof key, key }, v;
        int r;

        unit_key(key, id, 0);
        r = store_cursor_open(st, txn, st->search, &c);
        if (r < 0)
                return r;
        for (r = store_cursor_get(&c, &k, &v, MDB_SET_RANGE); r == 0; r = store_cursor_get(&c, &k, &v, MDB_NEXT)) {
                unit_entry *u;

                if (k.mv_size != ID_LEN + 4 || memcmp(k.mv_data, id, ID_LEN) != 0)
                        break;
                if (be32_get((const uint8_t *)k.mv_data + ID_LEN) != d->n_units) {
                        r = bad(d, "search index: unit %zu missing", d->n_units);
                        break;
                }
                if (v.mv_size < 17) {
                        r = bad(d, "search index: unit %zu damaged", d->n_units);
                        break;
                }
                u = realloc(d->units, (d->n_units + 1) * sizeof *u);
                if (!u) {
                        r = -ENOMEM;
                        break;
                }
                d->units = u;
                u = &d->units[d->n_units];
                u->first = be64_get(v.mv_data);
                u->last = be64_get((const uint8_t *)v.mv_data + 8);
                u->sig_len = v.mv_size - 16;
                u->sig = malloc(u->sig_len);
                if (!u->sig) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(u->sig, (const uint8_t *)v.mv_data + 16, u->sig_len);
                d->n_units++;
                if (u->first != (d->n_units == 1 ? 0 : d->units[d->n_units - 2].last + 1) || u->last < u->first) {
                        r = bad(d, "search index: unit %zu has a bad range", d->n_units - 1);
                        break;
                }
        }
        if (r == VIGIL_E_CORRUPT && !d->problem[0]) {
                /* a stray piece of the next session's is not this one's */
                if (k.mv_size >= ID_LEN && memcmp(k.mv_data, id, ID_LEN) != 0)
                        r = 0;
                else
                        r = bad(d, "search index: unit %zu: %s", d->n_units, vigil_store_errmsg(st));
        }
        if (r == -ENOENT)
                r = 0;
        store_cursor_close(&c);
        d->tail_first = d->n_units ? d->units[d->n_units - 1].last + 1 : 0;
        return r;
}

static void index_command(derived *d, const vigil_event *e)
{
        command_line(&d->tmp, e->argv, e->argc);
        bloom_add_line(&d->bl, d->tmp.p, d->tmp.len, true);
}

static void index_chunk(derived *d, const vigil_record *rec)
{
        for (size_t i = 0; i < rec->chunk.n_frames; i++) {
                const vigil_frame *f = &rec->chunk.frames[i];

                if (f->kind == VIGIL_FRAME_TEXT || f->kind == VIGIL_FRAME_BINARY)
                        d->tail_raw += f->len;
                if (f->kind == VIGIL_FRAME_TEXT)
                        line_norm_feed(&d->ln, f->data, f->len, bloom_line_cb, &d->bl);
                else
                        line_norm_break(&d->ln, bloom_line_cb, &d->bl);
        }
}

/* The unit that ends at @seq is complete: its stored signature must hold
 * every trigram of its records. */
static int unit_check(derived *d, uint64_t seq)
{
        unit_entry *u;
        int r = 0, c;

        if (d->cur >= d->n_units || d->units[d->cur].last != seq)
                return 0;
        u = &d->units[d->cur];
        line_norm_break(&d->ln, bloom_line_cb, &d->bl);
        c = bloom_check_stored(&d->bl, u->sig, u->sig_len);
        if (c == -ENOMEM)
                r = -ENOMEM;
        else if (c < 0)
                r = bad(d, "search index: unit %zu does not match records %llu-%llu", d->cur,
                        (unsigned long long)u->first, (unsigned long long)u->last);
        bloom_clear(&d->bl);
        d->tail_raw = 0;
        d->cur++;
        return r;
}

static int event_add(derived *d, const vigil_event *c)
{
        vigil_event *e;
        bool oom = false;

        if (d->n_events == d->cap_events) {
                size_t cap = d->cap_events ? d->cap_events * 2 : 64;
                vigil_event *ne = realloc(d->events, cap * sizeof *ne);

                if (!ne)
                        return -ENOMEM;
                d->events = ne;
                d->cap_events = cap;
        }
        e = &d->events[d->n_events];
        /* Take the decoded strings over from the decoder's event. */
        *e = *c;
        e->user = d->meta.user ? strdup(d->meta.user) : NULL;
        e->host = d->meta.host ? strdup(d->meta.host) : NULL;
        if ((d->meta.user && !e->user) || (d->meta.host && !e->host))
                oom = true;
        d->n_events++;
        return oom ? -ENOMEM : 0;
}

static int walk_record(vigil_store *st, const uint8_t id[ID_LEN], vigil_record_reader *rr, derived *d,
                       const vigil_record *rec)
{
        uint64_t seq = rec->seq;
        int r;

        (void)id;
        if (d->have_seal)
                return bad(d, "record %llu (%s): after the seal", (unsigned long long)seq, vigil_record_type_name(rec->type));
        if (d->have_end && rec->type != VIGIL_REC_SEAL)
                return bad(d, "record %llu (%s): after the end record", (unsigned long long)seq,
                           vigil_record_type_name(rec->type));
        if ((seq == 0) != (rec->type == VIGIL_REC_BEGIN))
                return bad(d, "record %llu (%s): %s", (unsigned long long)seq, vigil_record_type_name(rec->type),
                           seq == 0 ? "a session must start with its begin record" : "a second begin record");
        if (rec->t_us > d->last_t)
                d->last_t = rec->t_us;

        switch (rec->type) {
        case VIGIL_REC_BEGIN:
                r = session_info_copy(rec->begin, &d->meta);
                if (r < 0)
                        return r;
                d->have_begin = true;
                break;
        case VIGIL_REC_OUTPUT:
        case VIGIL_REC_INPUT: {
                uint64_t *off = rec->type == VIGIL_REC_OUTPUT ? &d->out_off : &d->in_off;
                const vigil_frame *last = &rec->chunk.frames[rec->chunk.n_frames - 1];

                if (rec->chunk.offset != *off)
                        return bad(d, "record %llu (%s): stream offset %llu where %llu was expected",
                                   (unsigned long long)seq, vigil_record_type_name(rec->type),
                                   (unsigned long long)rec->chunk.offset, (unsigned long long)*off);
                *off = last->offset + last->len;
                if (rec->type == VIGIL_REC_OUTPUT) {
                        for (size_t i = 0; i < rec->chunk.n_frames; i++)
                                if (rec->chunk.frames[i].kind == VIGIL_FRAME_CUT)
                                        d->cut = true;
                        index_chunk(d, rec);
                }
                break;
        }
        case VIGIL_REC_RESIZE:
                break;
        case VIGIL_REC_COMMAND:
                if (rec->command->no != d->n_events)
                        return bad(d, "record %llu (command): command %u out of order", (unsigned long long)seq,
                                   rec->command->no);
                index_command(d, rec->command);
                r = event_add(d, rec->command);
                /* The decoder's strings now belong to d->events. */
                rr->dec.cmd = (vigil_event){ 0 };
                if (r < 0)
                        return r;
                break;
        case VIGIL_REC_COMMAND_EXIT: {
                const vigil_event *x = rec->command;
                vigil_event *e;

                if (x->no >= d->n_events || d->events[x->no].exited || d->events[x->no].decision == VIGIL_DEC_HELD)
                        return bad(d, "record %llu (command exit): no running command %u", (unsigned long long)seq,
                                   x->no);
                e = &d->events[x->no];
                e->exited = true;
                e->wait_status = x->wait_status;
                e->duration_ms = x->duration_ms;
                e->exit_t_us = x->exit_t_us;
                e->exit_off = x->exit_off;
                if ((int)x->decision >= 0)
                        e->decision = x->decision;
                break;
        }
        case VIGIL_REC_APPROVAL: {
                const vigil_approval_outcome *o = rec->approval;
                vigil_event *e = o->command_no < d->n_events ? &d->events[o->command_no] : NULL;

                /* the outcome of a command that waits for one (held), or the
                 * note that an earlier approval let it run (remember=session) */
                if (!e || e->exited ||
                    !(e->decision == VIGIL_DEC_HELD || (o->remembered && e->decision == VIGIL_DEC_APPROVED)))
                        return bad(d, "record %llu (approval): command %u is not waiting for a decision",
                                   (unsigned long long)seq, o->command_no);
                e->decision = o->decision;
                break;
        }
        case VIGIL_REC_MASKS:
                for (size_t i = 0; i < d->n_masks; i++)
                        free(d->masks[i].detector);
                free(d->masks);
                d->masks = calloc(rec->masks.n ? rec->masks.n : 1, sizeof *d->masks);
                if (!d->masks)
                        return -ENOMEM;
                d->n_masks = rec->masks.n;
                for (size_t i = 0; i < rec->masks.n; i++) {
                        d->masks[i].detector = strdup(rec->masks.counts[i].detector);
                        if (!d->masks[i].detector)
                                return -ENOMEM;
                        d->masks[i].count = rec->masks.counts[i].count;
                }
                break;
        case VIGIL_REC_END:
                d->have_end = true;
                d->how = rec->end.how;
                d->exit_status = rec->end.exit_status;
                d->end_truncated = rec->end.truncated;
                d->end_out = rec->end.out_bytes;
                d->end_in = rec->end.in_bytes;
                d->end_ncmd = rec->end.n_commands;
                d->end_t = rec->t_us;
                if ((d->meta.opts.output && d->end_out != d->out_off) || (d->meta.opts.input && d->end_in != d->in_off) ||
                    d->end_ncmd != d->n_events)
                        return bad(d, "record %llu (end): totals do not match the records", (unsigned long long)seq);
                if (d->end_truncated != (d->cut || d->how == VIGIL_END_LOST))
                        return bad(d, "record %llu (end): truncated flag does not match the records",
                                   (unsigned long long)seq);
                /* Everything before the end must be indexed. */
                if (seq > 0 && d->tail_first != seq)
                        return bad(d, "search index: records %llu-%llu not covered", (unsigned long long)d->tail_first,
                                   (unsigned long long)seq - 1);
                break;
        case VIGIL_REC_SEAL: {
                const char *why = NULL;

                if (!d->have_end)
                        return bad(d, "record %llu (seal): no end record before it", (unsigned long long)seq);
                if (rec->seal.covers != seq || memcmp(rec->seal.head, rr->prev_head, HASH_LEN) != 0 ||
                    rec->seal.truncated != d->end_truncated)
                        return bad(d, "record %llu (seal): does not seal this chain", (unsigned long long)seq);
                r = seal_check(st, id, rec->seal.covers, rec->seal.head, rec->seal.truncated, rec->seal.pubkey,
                               rec->seal.signature, &why);
                if (r == VIGIL_E_CORRUPT)
                        return bad(d, "record %llu (seal): %s", (unsigned long long)seq, why);
                if (r < 0)
                        return bad(d, "record %llu (seal): cannot check: %s", (unsigned long long)seq,
                                   vigil_store_errmsg(st));
                d->have_seal = true;
                break;
        }
        case _VIGIL_REC_MAX:
                break;
        }
        /* search index bookkeeping */
        if (d->cur < d->n_units) {
                r = unit_check(d, seq);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The summary the records imply, encoded like the writer does. */
static int derived_summary(derived *d, const vigil_session_info *stored, vbuf *out)
{
        vigil_session_info s = d->meta;

        s.end_us = d->have_end ? d->meta.start_us + d->end_t : 0;
        s.exit_status = d->have_end ? d->exit_status : -1;
        s.how = d->have_end ? d->how : VIGIL_END_LIVE;
        s.truncated = d->have_end ? d->end_truncated : d->cut;
        s.sealed = d->have_seal;
        s.n_records = d->n_records;
        s.n_commands = d->n_events;
        s.out_bytes = d->meta.opts.output ? d->out_off : (d->have_end ? d->end_out : stored->out_bytes);
        s.in_bytes = d->meta.opts.input ? d->in_off : (d->have_end ? d->end_in : stored->in_bytes);
        s.masks = d->masks;
        s.n_masks = d->n_masks;
        summary_encode(out, &s);
        return out->oom ? -ENOMEM : 0;
}

static int check_tables(vigil_store *st, MDB_txn *txn, const uint8_t id[ID_LEN], derived *d, const MDB_val *sumval,
                        const vigil_session_info *stored)
{
        vbuf b = { 0 }, ev = { 0 };
        store_cursor c = { 0 };
        uint8_t key[ID_LEN + 4];
        MDB_val k, v;
        size_t n_db = 0;
        int r = 0, rc;

        r = derived_summary(d, stored, &b);
        if (r < 0)
                goto out;
        if (b.len != sumval->mv_size || memcmp(b.p, sumval->mv_data, b.len) != 0) {
                r = bad(d, "summary does not match the records");
                goto out;
        }
        /* user index */
        r = user_key(&b, d->meta.user, d->meta.start_us, id);
        if (r < 0)
                goto out;
        k = (MDB_val){ b.len, b.p };
        rc = mdb_get(txn, st->users, &k, &v);
        if (rc) {
                r = rc == MDB_NOTFOUND ? bad(d, "user index entry missing") : store_mdb_error(st, rc, "read user index");
                goto out;
        }
        /* the list of unsealed sessions: exactly those without a seal */
        k = (MDB_val){ ID_LEN, (void *)id };
        rc = mdb_get(txn, st->unsealed, &k, &v);
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "read unsealed");
                goto out;
        }
        if ((rc == 0) == d->have_seal) {
                r = bad(d, d->have_seal ? "sealed but listed as unsealed" : "unsealed but missing from the unsealed list");
                goto out;
        }
        /* events */
        for (size_t i = 0; i < d->n_events; i++) {
                uint8_t tkey[8 + ID_LEN + 4];

                vbuf_reset(&b);
                event_encode(&b, &d->events[i]);
                unit_key(key, id, (uint32_t)i);
                r = store_get(st, txn, st->events, key, sizeof key, &ev, &v, "read event");
                if (r == -ENOENT || r == VIGIL_E_CORRUPT ||
                    (r == 0 && (v.mv_size != b.len || memcmp(v.mv_data, b.p, b.len) != 0))) {
                        r = bad(d, "events table: command %zu does not match the records", i);
                        goto out;
                }
                if (r < 0)
                        goto out;
                be64_put(tkey, d->events[i].time_us);
                memcpy(tkey + 8, id, ID_LEN);
                be32_put(tkey + 8 + ID_LEN, (uint32_t)i);
                k = (MDB_val){ sizeof tkey, tkey };
                rc = mdb_get(txn, st->evtime, &k, &v);
                if (rc) {
                        r = rc == MDB_NOTFOUND ? bad(d, "event time index: command %zu missing", i)
                                               : store_mdb_error(st, rc, "read event index");
                        goto out;
                }
        }
        unit_key(key, id, 0);
        r = store_cursor_open(st, txn, st->events, &c);
        if (r < 0)
                goto out;
        k = (MDB_val){ sizeof key, key };
        for (r = store_cursor_get(&c, &k, &v, MDB_SET_RANGE); r == 0; r = store_cursor_get(&c, &k, &v, MDB_NEXT)) {
                if (k.mv_size < ID_LEN || memcmp(k.mv_data, id, ID_LEN) != 0)
                        break;
                n_db++;
        }
        if (r == VIGIL_E_CORRUPT && (k.mv_size < ID_LEN || memcmp(k.mv_data, id, ID_LEN) == 0)) {
                r = bad(d, "events table: command %zu: %s", n_db, vigil_store_errmsg(st));
                goto out;
        }
        if (r < 0 && r != -ENOENT && r != VIGIL_E_CORRUPT)
                goto out;
        else if (n_db != d->n_events)
                r = bad(d, "events table has %zu commands, the records %zu", n_db, d->n_events);
        else
                r = 0;
out:
        store_cursor_close(&c);
        vbuf_free(&b);
        vbuf_free(&ev);
        return r;
}

/* Seal an orphan: end (supervisor lost, truncated), the last search unit and
 * the seal, in one write transaction that first checks nobody moved on. */
static int seal_orphan(vigil_store *st, const uint8_t id[ID_LEN], derived *d, const uint8_t head[HASH_LEN])
{
        MDB_txn *txn = NULL;
        MDB_val k = { ID_LEN, (void *)id }, v;
        vigil_session_info cur = { 0 };
        vbuf rec = { 0 }, body = { 0 }, sum = { 0 }, val = { 0 };
        uint8_t h1[HASH_LEN], h2[HASH_LEN], pub[32], sig[64], key[REC_KEY_LEN];
        uint64_t n = d->n_records;
        chain_hasher *ch;
        int r, rc;

        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                return r;
        r = store_get(st, txn, st->sessions, id, ID_LEN, &sum, &v, "read summary");
        if (r == -ENOENT)
                store_set_errmsg(st, "read summary: %s", mdb_strerror(MDB_NOTFOUND));
        if (r < 0)
                goto out;
        r = summary_decode(v.mv_data, v.mv_size, id, &cur);
        vbuf_reset(&sum);
        if (r < 0)
                goto out;
        if (cur.sealed || cur.n_records != n || vigil_session_writer_alive(&cur)) {
                r = -EBUSY;
                store_set_errmsg(st, "session changed while it was being sealed");
                goto out;
        }
        /* the tail of the search index */
        if (d->tail_first < n) {
                uint8_t ukey[ID_LEN + 4];

                line_norm_break(&d->ln, bloom_line_cb, &d->bl);
                vbuf_be64(&val, d->tail_first);
                vbuf_be64(&val, n - 1);
                bloom_finish(&d->bl, signature_budget(d->tail_raw), &val);
                unit_key(ukey, id, (uint32_t)d->n_units);
                r = val.oom ? -ENOMEM
                            : store_put(st, txn, st->search, ukey, sizeof ukey, val.p, val.len,
                                        STORE_PUT_APPEND | STORE_PUT_NEW, "store search index");
                if (r < 0)
                        goto out;
                d->tail_first = n;
        }
        /* end */
        end_body(&body, VIGIL_END_LOST, true, -1, d->meta.opts.output ? d->out_off : cur.out_bytes,
                 d->meta.opts.input ? d->in_off : cur.in_bytes, d->n_events);
        record_encode_simple(&rec, VIGIL_REC_END, d->last_t, &body);
        ch = chain_hasher_new(head, id, n);
        if (!ch || rec.oom) {
                chain_hasher_free(ch);
                r = -ENOMEM;
                goto out;
        }
        chain_hasher_add(ch, rec.p, rec.len);
        r = chain_hasher_finish(ch, h1);
        if (r < 0)
                goto out;
        vbuf_reset(&val);
        vbuf_put(&val, h1, HASH_LEN);
        vbuf_put(&val, rec.p, rec.len);
        rec_key(key, id, n);
        r = val.oom ? -ENOMEM
                    : store_put(st, txn, st->records, key, sizeof key, val.p, val.len, STORE_PUT_APPEND | STORE_PUT_NEW,
                                "store end record");
        if (r < 0)
                goto out;
        /* seal */
        r = seal_sign(st, id, n + 1, h1, true, pub, sig);
        if (r < 0)
                goto out;
        vbuf_reset(&body);
        vbuf_reset(&rec);
        seal_body(&body, true, n + 1, h1, pub, sig);
        record_encode_simple(&rec, VIGIL_REC_SEAL, d->last_t, &body);
        ch = chain_hasher_new(h1, id, n + 1);
        if (!ch || rec.oom) {
                chain_hasher_free(ch);
                r = -ENOMEM;
                goto out;
        }
        chain_hasher_add(ch, rec.p, rec.len);
        r = chain_hasher_finish(ch, h2);
        if (r < 0)
                goto out;
        vbuf_reset(&val);
        vbuf_put(&val, h2, HASH_LEN);
        vbuf_put(&val, rec.p, rec.len);
        rec_key(key, id, n + 1);
        r = val.oom ? -ENOMEM
                    : store_put(st, txn, st->records, key, sizeof key, val.p, val.len, STORE_PUT_APPEND | STORE_PUT_NEW,
                                "store seal record");
        if (r < 0)
                goto out;
        k = (MDB_val){ ID_LEN, (void *)id };
        rc = mdb_del(txn, st->unsealed, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "delete from unsealed");
                goto out;
        }
        /* summary */
        d->have_end = d->have_seal = true;
        d->how = VIGIL_END_LOST;
        d->exit_status = -1;
        d->end_truncated = true;
        d->end_t = d->last_t;
        d->end_out = cur.out_bytes;
        d->end_in = cur.in_bytes;
        d->n_records = n + 2;
        r = derived_summary(d, &cur, &sum);
        if (r < 0)
                goto out;
        r = store_put(st, txn, st->sessions, id, ID_LEN, sum.p, sum.len, 0, "store summary");
        if (r < 0)
                goto out;
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc)
                r = store_mdb_error(st, rc, "mdb_txn_commit");
out:
        if (txn)
                mdb_txn_abort(txn);
        vigil_session_info_clear(&cur);
        vbuf_free(&rec);
        vbuf_free(&body);
        vbuf_free(&sum);
        vbuf_free(&val);
        return r;
}

/* Verify one session. Returns 0 with *status and d->problem set, or an
 * error that stops the whole run. */
static int verify_one(vigil_store *st, const uint8_t id[ID_LEN], unsigned flags, vigil_verify_status *status,
                      char *msg, size_t msgsz)
{
        derived d = { 0 };
        MDB_txn *txn = NULL;
        vigil_record_reader *rr = NULL;
        vigil_session_info stored = { 0 };
        MDB_val sumval;
        vbuf sumbuf = { 0 };
        uint8_t head[HASH_LEN];
        int r, rc;

        *status = VIGIL_VERIFY_BROKEN;
        msg[0] = 0;
        r = bloom_init(&d.bl);
        if (r < 0)
                return r;
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                goto out;
        r = store_get(st, txn, st->sessions, id, ID_LEN, &sumbuf, &sumval, "read summary");
        if (r == -ENOENT) {
                snprintf(msg, msgsz, "records exist but the session's summary is missing");
                r = 0;
                goto out;
        }
        if (r == VIGIL_E_CORRUPT) {
                snprintf(msg, msgsz, "summary is damaged: %s", vigil_store_errmsg(st));
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        r = summary_decode(sumval.mv_data, sumval.mv_size, id, &stored);
        if (r == VIGIL_E_CORRUPT) {
                snprintf(msg, msgsz, "summary is damaged");
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        r = load_units(st, txn, id, &d);
        if (r == VIGIL_E_CORRUPT)
                goto problem;
        if (r < 0)
                goto out;
        r = record_reader_open(st, id, txn, true, &rr);
        if (r < 0)
                goto out;
        for (;;) {
                const vigil_record *rec;

                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        snprintf(d.problem, sizeof d.problem, "%s", vigil_record_reader_problem(rr));
                        goto problem;
                }
                if (r < 0)
                        goto out;
                if (r == 0)
                        break;
                d.n_records++;
                r = walk_record(st, id, rr, &d, rec);
                if (r == VIGIL_E_CORRUPT)
                        goto problem;
                if (r < 0)
                        goto out;
        }
        memcpy(head, rr->head, HASH_LEN);
        /* A gap: a later record exists although this one does not, or
         * pieces of this one do (format 3: pieces.c). */
        {
                MDB_cursor *c = NULL;
                uint8_t key[REC_KEY_LEN];
                MDB_val kk = { sizeof key, key }, vv;

                rec_key(key, id, d.n_records);
                rc = mdb_cursor_open(txn, st->records, &c);
                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_cursor_open");
                        goto out;
                }
                rc = mdb_cursor_get(c, &kk, &vv, MDB_SET_RANGE);
                mdb_cursor_close(c);
                if (rc == 0 && (kk.mv_size == REC_KEY_LEN || kk.mv_size == REC_KEY_LEN + 1) &&
                    memcmp(kk.mv_data, id, ID_LEN) == 0) {
                        uint64_t seq = be64_get((const uint8_t *)kk.mv_data + ID_LEN);

                        if (kk.mv_size == REC_KEY_LEN + 1 && seq == d.n_records)
                                r = bad(&d, "record %llu missing (pieces of it exist)", (unsigned long long)seq);
                        else
                                r = bad(&d, "record %llu missing (record %llu exists)", (unsigned long long)d.n_records,
                                        (unsigned long long)seq);
                        goto problem;
                }
        }
        if (d.n_records == 0) {
                r = bad(&d, "record 0 (begin) missing");
                goto problem;
        }
        if (d.have_end && !d.have_seal) {
                r = bad(&d, "record %llu (seal) missing", (unsigned long long)d.n_records);
                goto problem;
        }
        if (stored.n_records != d.n_records) {
                r = bad(&d, "record %llu missing (the summary counts %llu records)", (unsigned long long)d.n_records,
                        (unsigned long long)stored.n_records);
                goto problem;
        }
        if (d.cur < d.n_units) {
                r = bad(&d, "search index: unit %zu covers records that do not exist", d.cur);
                goto problem;
        }
        r = check_tables(st, txn, id, &d, &sumval, &stored);
        if (r == VIGIL_E_CORRUPT)
                goto problem;
        if (r < 0)
                goto out;
        if (d.have_seal) {
                *status = VIGIL_VERIFY_OK;
                goto out;
        }
        if (vigil_session_writer_alive(&stored)) {
                *status = VIGIL_VERIFY_LIVE;
                goto out;
        }
        if (!(flags & VIGIL_VERIFY_SEAL_ORPHANS)) {
                *status = VIGIL_VERIFY_UNSEALED;
                snprintf(msg, msgsz, "not sealed and its writer is gone (vigil verify --seal-orphans seals it as truncated)");
                goto out;
        }
        /* Let go of the snapshot before writing. */
        vigil_record_reader_free(rr);
        rr = NULL;
        mdb_txn_abort(txn);
        txn = NULL;
        r = seal_orphan(st, id, &d, head);
        if (r == -EBUSY) {
                *status = VIGIL_VERIFY_LIVE;
                snprintf(msg, msgsz, "changed while being sealed; run verify again");
                r = 0;
        } else if (r >= 0) {
                *status = VIGIL_VERIFY_SEALED_NOW;
                snprintf(msg, msgsz, "sealed as truncated (its writer is gone)");
        }
        goto out;
problem:
        r = 0;
        *status = VIGIL_VERIFY_BROKEN;
        snprintf(msg, msgsz, "%s", d.problem);
out:
        vigil_record_reader_free(rr);
        if (txn)
                mdb_txn_abort(txn);
        vigil_session_info_clear(&stored);
        derived_done(&d);
        vbuf_free(&sumbuf);
        return r;
}

/* The next session id after @after (NULL: the first) in the sessions or the
 * records table: records without a summary are a finding too. */
static int next_id(vigil_store *st, const uint8_t *after, uint8_t ret[ID_LEN])
{
        MDB_txn *txn = NULL;
        bool have = false;
        int r;

        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        for (int t = 0; t < 2 && r >= 0; t++) {
                /* Past every key of @after: the id itself (sessions) or the id
                 * followed by the largest sequence number (records). */
                uint8_t start[REC_KEY_LEN];
                MDB_val k = { t == 0 ? ID_LEN : REC_KEY_LEN, start }, v;
                MDB_cursor *c = NULL;
                int rc = mdb_cursor_open(txn, t == 0 ? st->sessions : st->records, &c);

                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_cursor_open");
                        break;
                }
                if (after) {
                        memcpy(start, after, ID_LEN);
                        memset(start + ID_LEN, 0xff, 8);
                        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
                        while (rc == 0 && k.mv_size >= ID_LEN && memcmp(k.mv_data, after, ID_LEN) <= 0)
                                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
                } else
                        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
                if (rc == 0 && k.mv_size >= ID_LEN && (!have || memcmp(k.mv_data, ret, ID_LEN) < 0)) {
                        memcpy(ret, k.mv_data, ID_LEN);
                        have = true;
                }
                mdb_cursor_close(c);
                if (rc && rc != MDB_NOTFOUND)
                        r = store_mdb_error(st, rc, "mdb_cursor_get");
        }
        mdb_txn_abort(txn);
        if (r < 0)
                return r;
        return have ? 1 : 0;
}

int vigil_store_verify(vigil_store *st, const uint8_t *id, unsigned flags, vigil_verify_cb cb, void *userdata)
{
        uint8_t cur[ID_LEN];
        bool first = true;
        char msg[400];
        int r;

        if ((flags & VIGIL_VERIFY_SEAL_ORPHANS) && (st->flags & VIGIL_STORE_READONLY))
                return -EROFS;
        if (id) {
                vigil_verify_status status;

                r = verify_one(st, id, flags, &status, msg, sizeof msg);
                if (r < 0)
                        return r;
                return cb(userdata, id, status, msg[0] ? msg : NULL);
        }
        for (;;) {
                vigil_verify_status status;

                r = next_id(st, first ? NULL : cur, cur);
                if (r <= 0)
                        return r;
                first = false;
                r = verify_one(st, cur, flags, &status, msg, sizeof msg);
                if (r < 0)
                        return r;
                r = cb(userdata, cur, status, msg[0] ? msg : NULL);
                if (r != 0)
                        return r;
        }
}

int vigil_store_seal_orphans(vigil_store *st, vigil_verify_cb cb, void *userdata)
{
        uint8_t cur[ID_LEN];
        bool first = true;
        int n = 0, r;

        if (st->flags & VIGIL_STORE_READONLY)
                return -EROFS;
        /* Only the sessions listed as unsealed: a supervisor's start must not
         * read the whole store. */
        for (;;) {
                MDB_txn *txn = NULL;
                MDB_cursor *c = NULL;
                MDB_val k = { ID_LEN, cur }, v;
                vigil_session_info info = { 0 };
                vigil_verify_status status;
                char msg[400];
                int rc;

                r = store_txn_begin(st, false, &txn);
                if (r < 0)
                        return r;
                rc = mdb_cursor_open(txn, st->unsealed, &c);
                if (!rc)
                        rc = mdb_cursor_get(c, &k, &v, first ? MDB_FIRST : MDB_SET_RANGE);
                if (rc == 0 && !first && k.mv_size == ID_LEN && memcmp(k.mv_data, cur, ID_LEN) == 0)
                        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
                if (rc == 0 && k.mv_size == ID_LEN)
                        memcpy(cur, k.mv_data, ID_LEN);
                if (c)
                        mdb_cursor_close(c);
                mdb_txn_abort(txn);
                if (rc == MDB_NOTFOUND)
                        return n;
                if (rc)
                        return store_mdb_error(st, rc, "read unsealed");
                first = false;
                r = vigil_session_info_get(st, cur, &info);
                if (r == 0 && (info.sealed || vigil_session_writer_alive(&info))) {
                        vigil_session_info_clear(&info);
                        continue;
                }
                vigil_session_info_clear(&info);
                r = verify_one(st, cur, VIGIL_VERIFY_SEAL_ORPHANS, &status, msg, sizeof msg);
                if (r < 0)
                        return r;
                if (status == VIGIL_VERIFY_SEALED_NOW)
                        n++;
                if (cb && status != VIGIL_VERIFY_OK && status != VIGIL_VERIFY_LIVE) {
                        r = cb(userdata, cur, status, msg[0] ? msg : NULL);
                        if (r != 0)
                                return r < 0 ? r : n;
                }
        }
}
