/* Retention: delete whole sessions, in short write transactions. */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

#define DELETES_PER_TXN 4096

typedef struct prune_ctx {
        vigil_store *st;
        uint64_t before_us;
        bool dry_run;
        vigil_prune_cb cb;
        void *userdata;
        uint64_t n;
} prune_ctx;

/* Delete up to DELETES_PER_TXN keys of @dbi starting with @prefix (the
 * session id: a value's pieces go with it, their keys start with its key),
 * never stopping between a value and its pieces, so that no reader meets a
 * piece without its value; for the events table also their time index
 * entries. Returns how many were deleted (more than DELETES_PER_TXN when
 * the last value had pieces). */
static int delete_prefix(vigil_store *st, MDB_dbi dbi, const uint8_t *prefix, size_t plen, bool events)
{
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        MDB_val k = { plen, (void *)prefix }, v;
        vbuf ev = { 0 };
        size_t klen = dbi == st->records ? REC_KEY_LEN : ID_LEN + 4;
        int n = 0, r, rc;

        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                return r;
        rc = mdb_cursor_open(txn, dbi, &c);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_cursor_open");
                goto fail;
        }
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && (n < DELETES_PER_TXN || k.mv_size == klen + 1)) {
                if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
                        break;
                if (events && k.mv_size == ID_LEN + 4) {
                        vigil_event e = { 0 };
                        uint8_t tkey[8 + ID_LEN + 4];
                        MDB_val tk = { sizeof tkey, tkey }, joined;

                        /* the whole event (its pieces joined), read before any is deleted */
                        r = store_get(st, txn, dbi, k.mv_data, k.mv_size, &ev, &joined, "read event");
                        if (r < 0 && r != VIGIL_E_CORRUPT)
                                goto fail;
                        if (r == 0 && event_decode(joined.mv_data, joined.mv_size, &e) >= 0) {
                                be64_put(tkey, e.time_us);
                                memcpy(tkey + 8, k.mv_data, ID_LEN + 4);
                                rc = mdb_del(txn, st->evtime, &tk, NULL);
                                if (rc && rc != MDB_NOTFOUND) {
                                        vigil_event_clear(&e);
                                        r = store_mdb_error(st, rc, "delete event index");
                                        goto fail;
                                }
                        }
                        vigil_event_clear(&e);
                }
                rc = mdb_cursor_del(c, 0);
                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_cursor_del");
                        goto fail;
                }
                n++;
                /* After a delete, NEXT yields the item that followed it. */
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "mdb_cursor_get");
                goto fail;
        }
        mdb_cursor_close(c);
        c = NULL;
        vbuf_free(&ev);
        rc = mdb_txn_commit(txn);
        if (rc)
                return store_mdb_error(st, rc, "mdb_txn_commit");
        return n;
fail:
        if (c)
                mdb_cursor_close(c);
        vbuf_free(&ev);
        mdb_txn_abort(txn);
        return r;
}

static int delete_all(vigil_store *st, MDB_dbi dbi, const uint8_t *prefix, size_t plen, bool events)
{
        int r;

        do
                r = delete_prefix(st, dbi, prefix, plen, events);
        while (r >= DELETES_PER_TXN);
        return r < 0 ? r : 0;
}

static int delete_session(vigil_store *st, const vigil_session_info *i)
{
        MDB_txn *txn = NULL;
        vbuf uk = { 0 };
        MDB_val k;
        int r, rc;

        /* Records, events and index first, the summary last: an interrupted
         * prune leaves a session that the next prune still finds. */
        r = delete_all(st, st->records, i->id, ID_LEN, false);
        if (r >= 0)
                r = delete_all(st, st->events, i->id, ID_LEN, true);
        if (r >= 0)
                r = delete_all(st, st->search, i->id, ID_LEN, false);
        if (r < 0)
                return r;
        r = user_key(&uk, i->user, i->start_us, i->id);
        if (r < 0)
                goto out;
        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                goto out;
        k = (MDB_val){ uk.len, uk.p };
        rc = mdb_del(txn, st->users, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "delete user index");
                goto abort;
        }
        k = (MDB_val){ ID_LEN, (void *)i->id };
        rc = mdb_del(txn, st->unsealed, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "delete from unsealed");
                goto abort;
        }
        r = store_del(st, txn, st->sessions, i->id, ID_LEN, "delete summary");
        if (r < 0 && r != -ENOENT)
                goto abort;
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc)
                r = store_mdb_error(st, rc, "mdb_txn_commit");
        goto out;
abort:
        mdb_txn_abort(txn);
out:
        vbuf_free(&uk);
        return r;
}

static int prune_one(void *userdata, const vigil_session_info *i)
{
        prune_ctx *p = userdata;
        int r;

        if (i->start_us >= p->before_us)
                return 1; /* sessions come in start order */
        /* Never take a session from under a live writer. */
        if (!i->sealed && vigil_session_writer_alive(i))
                return 0;
        if (!p->dry_run) {
                r = delete_session(p->st, i);
                if (r < 0)
                        return r;
        }
        p->n++;
        return p->cb ? p->cb(p->userdata, i) : 0;
}

int vigil_store_prune(vigil_store *st, uint64_t before_us, bool dry_run, vigil_prune_cb cb, void *userdata,
                      uint64_t *ret_n)
{
        prune_ctx p = { st, before_us, dry_run, cb, userdata, 0 };
        vigil_session_filter f = { .until_us = before_us ? before_us - 1 : 0 };
        int r;

        if (!dry_run && (st->flags & VIGIL_STORE_READONLY))
                return -EROFS;
        if (before_us == 0) {
                *ret_n = 0;
                return 0;
        }
        r = vigil_store_sessions(st, &f, prune_one, &p);
        if (r < 0)
                return r;
        *ret_n = p.n;
        return 0;
}
