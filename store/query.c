/* Listing sessions and command events through the indexes, in batches of
 * short read transactions so that no caller holds a snapshot for long. */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

#define BATCH 256

int vigil_session_info_get(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_session_info *ret)
{
        MDB_txn *txn = NULL;
        MDB_val v;
        vbuf buf = { 0 };
        int r;

        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        r = store_get(st, txn, st->sessions, id, ID_LEN, &buf, &v, "read summary");
        if (r == 0)
                r = summary_decode(v.mv_data, v.mv_size, id, ret);
        if (r == VIGIL_E_CORRUPT)
                store_set_errmsg(st, "the summary of a session is damaged (run 'vigil verify')");
        mdb_txn_abort(txn);
        vbuf_free(&buf);
        return r;
}

static bool session_matches(const vigil_session_filter *f, const vigil_session_info *i)
{
        if (f->user && strcmp(f->user, i->user) != 0)
                return false;
        if (f->host && (!i->host || strcmp(f->host, i->host) != 0))
                return false;
        if (i->start_us < f->since_us)
                return false;
        if (f->until_us && i->start_us > f->until_us)
                return false;
        return true;
}

static int damaged_summary(vigil_store *st, const uint8_t id[ID_LEN])
{
        char idt[VIGIL_SESSION_ID_STRLEN + 1];

        vigil_session_id_format(id, idt);
        store_set_errmsg(st, "the summary of session %s is damaged (run 'vigil verify')", idt);
        return VIGIL_E_CORRUPT;
}

/* One batch: up to BATCH matching summaries after position @pos (the last key
 * seen, in the table iterated), decoded into @out. Sets *done at the end. */
static int sessions_batch(vigil_store *st, const vigil_session_filter *f, vbuf *pos, vigil_session_info *out,
                          size_t *ret_n, bool *done)
{
        MDB_txn *txn = NULL;
        store_cursor c = { 0 };
        MDB_dbi dbi = f->user ? st->users : st->sessions;
        MDB_val k, v;
        vbuf sbuf = { 0 };
        size_t n = 0;
        int r, rc;

        *done = false;
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        r = store_cursor_open(st, txn, dbi, &c);
        if (r < 0)
                goto out;
        if (pos->len == 0) {
                uint8_t start[ID_LEN] = { 0 };

                if (f->user) {
                        r = user_key(pos, f->user, f->since_us, start);
                        if (r < 0)
                                goto out;
                } else {
                        uint64_t ms = f->since_us / 1000;

                        for (int i = 5; i >= 0; i--, ms >>= 8)
                                start[i] = (uint8_t)ms;
                        vbuf_put(pos, start, ID_LEN);
                }
                k = (MDB_val){ pos->len, pos->p };
                rc = store_cursor_get(&c, &k, &v, MDB_SET_RANGE);
        } else {
                k = (MDB_val){ pos->len, pos->p };
                rc = store_cursor_get(&c, &k, &v, MDB_SET_RANGE);
                if (rc == 0 && k.mv_size == pos->len && memcmp(k.mv_data, pos->p, pos->len) == 0)
                        rc = store_cursor_get(&c, &k, &v, MDB_NEXT);
        }
        for (; rc == 0 && n < BATCH; rc = store_cursor_get(&c, &k, &v, MDB_NEXT)) {
                const uint8_t *id;
                MDB_val sv;

                if (f->user) {
                        size_t ul = strlen(f->user);

                        if (k.mv_size != ul + 1 + 8 + ID_LEN || memcmp(k.mv_data, f->user, ul) != 0 ||
                            ((const uint8_t *)k.mv_data)[ul] != 0) {
                                *done = true;
                                break;
                        }
                        if (f->until_us && be64_get((const uint8_t *)k.mv_data + ul + 1) > f->until_us) {
                                *done = true;
                                break;
                        }
                        id = (const uint8_t *)k.mv_data + ul + 1 + 8;
                        r = store_get(st, txn, st->sessions, id, ID_LEN, &sbuf, &sv, "read summary");
                        if (r == -ENOENT)
                                goto next; /* pruned under us */
                        if (r == VIGIL_E_CORRUPT)
                                r = damaged_summary(st, id);
                        if (r < 0)
                                goto out;
                } else {
                        if (k.mv_size != ID_LEN) {
                                r = VIGIL_E_CORRUPT;
                                store_set_errmsg(st, "sessions table holds a malformed key");
                                goto out;
                        }
                        id = k.mv_data;
                        /* Ids begin with the start in ms: stop past the range. */
                        if (f->until_us && session_id_ms(id) > f->until_us / 1000) {
                                *done = true;
                                break;
                        }
                        sv = v;
                }
                r = summary_decode(sv.mv_data, sv.mv_size, id, &out[n]);
                if (r == VIGIL_E_CORRUPT)
                        r = damaged_summary(st, id);
                if (r < 0)
                        goto out;
                if (session_matches(f, &out[n]))
                        n++;
                else
                        vigil_session_info_clear(&out[n]);
        next:
                vbuf_reset(pos);
                vbuf_put(pos, k.mv_data, k.mv_size);
                if (pos->oom) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (rc == -ENOENT)
                *done = true;
        else if (rc == VIGIL_E_CORRUPT) {
                r = rc;
                store_set_errmsg(st, "the sessions table is damaged (run 'vigil verify')");
                goto out;
        } else if (rc < 0) {
                r = rc;
                goto out;
        }
        r = 0;
out:
        store_cursor_close(&c);
        mdb_txn_abort(txn);
        vbuf_free(&sbuf);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        vigil_session_info_clear(&out[i]);
                return r;
        }
        *ret_n = n;
        return 0;
}

int vigil_store_sessions(vigil_store *st, const vigil_session_filter *f, vigil_session_cb cb, void *userdata)
{
        vigil_session_info *batch = calloc(BATCH, sizeof *batch);
        vbuf pos = { 0 };
        bool done = false;
        int r = 0;

        if (!batch)
                return -ENOMEM;
        while (!done && r == 0) {
                size_t n = 0;

                r = sessions_batch(st, f, &pos, batch, &n, &done);
                for (size_t i = 0; i < n; i++) {
                        if (r == 0)
                                r = cb(userdata, &batch[i]);
                        vigil_session_info_clear(&batch[i]);
                }
        }
        vbuf_free(&pos);
        free(batch);
        return r < 0 ? r : 0;
}

static bool event_matches(const vigil_event_filter *f, const vigil_event *e)
{
        if (f->user && (!e->user || strcmp(f->user, e->user) != 0))
                return false;
        if (e->time_us < f->since_us)
                return false;
        if (f->until_us && e->time_us > f->until_us)
                return false;
        if (f->decision >= 0 && (int)e->decision != f->decision)
                return false;
        return true;
}

/* Events come either from the time index (all sessions) or from one
 * session's own range of the events table. Both are read in batches. */
static int events_batch(vigil_store *st, const vigil_event_filter *f, vbuf *pos, vigil_event *out, size_t *ret_n,
                        bool *done)
{
        MDB_txn *txn = NULL;
        store_cursor c = { 0 };
        MDB_dbi dbi = f->session ? st->events : st->evtime;
        MDB_val k, v;
        vbuf ebuf = { 0 };
        size_t n = 0;
        int r, rc;

        *done = false;
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        r = store_cursor_open(st, txn, dbi, &c);
        if (r < 0)
                goto out;
        if (pos->len == 0) {
                if (f->session) {
                        vbuf_put(pos, f->session, ID_LEN);
                        vbuf_be32(pos, 0);
                } else
                        vbuf_be64(pos, f->since_us);
                if (pos->oom) {
                        r = -ENOMEM;
                        goto out;
                }
                k = (MDB_val){ pos->len, pos->p };
                rc = store_cursor_get(&c, &k, &v, MDB_SET_RANGE);
        } else {
                k = (MDB_val){ pos->len, pos->p };
                rc = store_cursor_get(&c, &k, &v, MDB_SET_RANGE);
                if (rc == 0 && k.mv_size == pos->len && memcmp(k.mv_data, pos->p, pos->len) == 0)
                        rc = store_cursor_get(&c, &k, &v, MDB_NEXT);
        }
        for (; rc == 0 && n < BATCH; rc = store_cursor_get(&c, &k, &v, MDB_NEXT)) {
                const uint8_t *kp = k.mv_data;
                const uint8_t *id;
                uint32_t no;
                MDB_val ev;

                if (f->session) {
                        if (k.mv_size != ID_LEN + 4 || memcmp(kp, f->session, ID_LEN) != 0) {
                                *done = true;
                                break;
                        }
                        id = kp;
                        no = be32_get(kp + ID_LEN);
                        ev = v;
                } else {
                        uint8_t key[ID_LEN + 4];

                        if (k.mv_size != 8 + ID_LEN + 4) {
                                r = VIGIL_E_CORRUPT;
                                store_set_errmsg(st, "event time index holds a malformed key");
                                goto out;
                        }
                        if (f->until_us && be64_get(kp) > f->until_us) {
                                *done = true;
                                break;
                        }
                        id = kp + 8;
                        no = be32_get(kp + 8 + ID_LEN);
                        memcpy(key, id, ID_LEN);
                        be32_put(key + ID_LEN, no);
                        r = store_get(st, txn, st->events, key, sizeof key, &ebuf, &ev, "read event");
                        if (r == -ENOENT)
                                goto next; /* pruned under us */
                        if (r == VIGIL_E_CORRUPT)
                                store_set_errmsg(st, "a command event is damaged (run 'vigil verify')");
                        if (r < 0)
                                goto out;
                }
                r = event_decode(ev.mv_data, ev.mv_size, &out[n]);
                if (r == VIGIL_E_CORRUPT) {
                        store_set_errmsg(st, "a command event is damaged (run 'vigil verify')");
                        goto out;
                }
                if (r < 0)
                        goto out;
                memcpy(out[n].session, id, ID_LEN);
                out[n].no = no;
                if (event_matches(f, &out[n]))
                        n++;
                else
                        vigil_event_clear(&out[n]);
        next:
                vbuf_reset(pos);
                vbuf_put(pos, k.mv_data, k.mv_size);
                if (pos->oom) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        /* a stray piece of the next session's event ends this session's */
        if (rc == -ENOENT || (rc == VIGIL_E_CORRUPT && f->session && k.mv_size >= ID_LEN &&
                              memcmp(k.mv_data, f->session, ID_LEN) != 0))
                *done = true;
        else if (rc == VIGIL_E_CORRUPT) {
                r = rc;
                store_set_errmsg(st, "a command event is damaged (run 'vigil verify')");
                goto out;
        } else if (rc < 0) {
                r = rc;
                goto out;
        }
        r = 0;
out:
        store_cursor_close(&c);
        mdb_txn_abort(txn);
        vbuf_free(&ebuf);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        vigil_event_clear(&out[i]);
                return r;
        }
        *ret_n = n;
        return 0;
}

int vigil_store_events(vigil_store *st, const vigil_event_filter *f, vigil_event_cb cb, void *userdata)
{
        vigil_event *batch = calloc(BATCH, sizeof *batch);
        vbuf pos = { 0 };
        bool done = false;
        int r = 0;

        if (!batch)
                return -ENOMEM;
        while (!done && r == 0) {
                size_t n = 0;

                r = events_batch(st, f, &pos, batch, &n, &done);
                for (size_t i = 0; i < n; i++) {
                        if (r == 0)
                                r = cb(userdata, &batch[i]);
                        vigil_event_clear(&batch[i]);
                }
        }
        vbuf_free(&pos);
        free(batch);
        return r < 0 ? r : 0;
}
