/* Values in pieces (format 3).
 *
 * LMDB keeps a value whose node (8 bytes of header, the key, the value) is
 * over half a page's room (2038 bytes for 4 KiB pages) on overflow pages of
 * its own, in whole pages: a 2-5 KB chunk record took two pages, a 4.1 KB
 * search signature two. So the tables that hold such values store them as a
 * row of pieces: the first under the value's own key, the others under
 * continuation keys, the key followed by one byte numbering the piece
 * (1, 2, ...). A table's keys all have one length, so a continuation key
 * sorts right after its value's key and before the next key of the table,
 * and nothing else in the table has its length.
 *
 * The writer chooses the sizes: a piece that fills what is left of the
 * table's last leaf page when it knows that (it appends, see piece_tail),
 * whole overflow pages filled to the byte, and pieces a leaf page holds for
 * the rest. Readers join the pieces (and check their numbers) in
 * store_get() and the store_cursor. Outside this file only prune (which
 * deletes a session's keys by their prefix) and verify's check for a
 * record's stray pieces see a continuation key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

/* LMDB's leaf page layout (mdb.c, stable within the 0.9 file format): a
 * 16-byte page header, then 2-byte node offsets growing up and nodes
 * growing down; a node is an 8-byte header, the key and the value, padded
 * to even, or the key and an 8-byte page number when the value is on
 * overflow pages (each page with its own 16-byte header, the value filling
 * the rest). */
#define LMDB_PAGEHDR 16u
#define LMDB_NODEHDR 8u
#define LMDB_INDX 2u
/* Keep a piece this far below LMDB's largest inline node: a piece meant
 * for a leaf page must never end up alone on an overflow page. */
#define PIECE_MARGIN 16u
/* Filling the end of a page with a piece costs a node (about 35 bytes);
 * below this much room it is left empty. */
#define PIECE_MIN_FILL 128u

static size_t even(size_t n)
{
        return (n + 1) & ~(size_t)1;
}

void piece_geometry_init(piece_geometry *g, size_t page_size)
{
        *g = (piece_geometry){
                .page_size = page_size,
                .room = page_size - LMDB_PAGEHDR,
                .node_max = (((page_size - LMDB_PAGEHDR) / 2) & ~(size_t)1) - LMDB_INDX,
        };
}

size_t piece_leaf_max(const piece_geometry *g, size_t klen)
{
        size_t fixed = LMDB_NODEHDR + klen + PIECE_MARGIN;

        return g->node_max > fixed ? g->node_max - fixed : 0;
}

size_t piece_node_size(const piece_geometry *g, size_t klen, size_t dlen)
{
        size_t sz = LMDB_NODEHDR + klen + dlen;

        if (sz > g->node_max)
                sz = LMDB_NODEHDR + klen + 8; /* the value on overflow pages */
        return even(sz + LMDB_INDX);
}

size_t piece_next_size(const piece_geometry *g, size_t remaining, size_t klen, size_t tail_free, unsigned n)
{
        size_t leaf_max = piece_leaf_max(g, klen), node_fixed = LMDB_NODEHDR + klen + LMDB_INDX, whole_pages, fill;

        /* The last possible piece takes the rest, wherever LMDB puts it. */
        if (n >= PIECES_MAX - 1 || leaf_max == 0)
                return remaining;
        if (tail_free != TAIL_UNKNOWN) {
                if (remaining <= leaf_max && piece_node_size(g, klen, remaining) <= tail_free)
                        return remaining;
                fill = tail_free > node_fixed ? tail_free - node_fixed : 0;
                if (fill > leaf_max)
                        fill = leaf_max;
                if (fill >= PIECE_MIN_FILL && remaining > fill)
                        return fill;
        }
        /* What fills whole overflow pages goes there. */
        whole_pages = (remaining + LMDB_PAGEHDR) / g->page_size;
        if (whole_pages > 0 && remaining > leaf_max)
                return whole_pages * g->page_size - LMDB_PAGEHDR;
        if (remaining <= leaf_max)
                return remaining;
        /* Less than a page, more than a leaf node: where the last page ends
         * is known, so this starts a page (as large as a leaf node may be);
         * or it is not, and small pieces waste less at the ends of pages. */
        if (tail_free != TAIL_UNKNOWN || g->room / 8 <= node_fixed + PIECE_MIN_FILL)
                return leaf_max;
        return leaf_max < g->room / 8 - node_fixed ? leaf_max : g->room / 8 - node_fixed;
}

bool piece_key_is_continuation(const uint8_t *base, size_t klen, const MDB_val *k, unsigned *ret_n)
{
        const uint8_t *p = k->mv_data;

        if (k->mv_size != klen + 1 || memcmp(p, base, klen) != 0)
                return false;
        *ret_n = p[klen];
        return true;
}

int pieces_join(const uint8_t *base, size_t klen, const MDB_val *first, piece_next_fn next, void *userdata,
                vbuf *buf, MDB_val *ret, piece_item *ahead, char why[PIECE_WHY_MAX])
{
        unsigned n = 0, no;

        *ret = *first;
        for (;;) {
                ahead->rc = next(userdata, &ahead->k, &ahead->v);
                /* The next value, or a piece of one whose own key is gone:
                 * whoever reads on meets it (store_cursor_get()). */
                if (ahead->rc != 0 || !piece_key_is_continuation(base, klen, &ahead->k, &no))
                        break;
                if (no != n + 1) {
                        if (no == 0)
                                snprintf(why, PIECE_WHY_MAX, "a piece numbered 0");
                        else
                                snprintf(why, PIECE_WHY_MAX, "piece %u missing", n + 1);
                        return VIGIL_E_CORRUPT;
                }
                n++;
                if (!buf)
                        continue; /* stepped over, not joined */
                if (n == 1) {
                        vbuf_reset(buf);
                        vbuf_put(buf, first->mv_data, first->mv_size);
                }
                vbuf_put(buf, ahead->v.mv_data, ahead->v.mv_size);
                if (buf->oom)
                        return -ENOMEM;
        }
        /* an error in the middle of a value leaves it incomplete */
        if (ahead->rc != 0 && ahead->rc != MDB_NOTFOUND)
                return -EIO;
        if (n && buf)
                *ret = (MDB_val){ buf->len, buf->p };
        return 0;
}

/* ---- on LMDB ---- */

void pieces_init(vigil_store *st, size_t page_size)
{
        piece_geometry_init(&st->geo, page_size);
        for (size_t i = 0; i < ELEMENTSOF(st->tails); i++)
                st->tails[i] = (piece_tail){ .free = TAIL_UNKNOWN };
}

/* The key length of a table whose values may be in pieces, else 0. */
static size_t pieced_klen(vigil_store *st, MDB_dbi dbi, piece_tail **ret_tail)
{
        static const struct {
                size_t off, klen;
        } tables[] = {
                { offsetof(vigil_store, records), REC_KEY_LEN },
                { offsetof(vigil_store, search), ID_LEN + 4 },
                { offsetof(vigil_store, events), ID_LEN + 4 },
                { offsetof(vigil_store, sessions), ID_LEN },
        };

        /* dbi 0 and 1 are LMDB's own: a table a format 1 store lacks is 0 */
        if (dbi < 2)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(tables); i++)
                if (*(const MDB_dbi *)((const char *)st + tables[i].off) == dbi) {
                        if (ret_tail)
                                *ret_tail = &st->tails[i];
                        return tables[i].klen;
                }
        return 0;
}

static int cursor_next(void *userdata, MDB_val *k, MDB_val *v)
{
        return mdb_cursor_get(userdata, k, v, MDB_NEXT);
}

/* The message is the problem alone: callers say where (a record, a unit). */
static int corrupt_value(vigil_store *st, const char *why)
{
        store_set_errmsg(st, "%s", why);
        return VIGIL_E_CORRUPT;
}

int store_get(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, vbuf *buf, MDB_val *ret,
              const char *what)
{
        size_t plen = pieced_klen(st, dbi, NULL);
        MDB_val k = { klen, (void *)key }, v, joined;
        MDB_cursor *c = NULL;
        piece_item ahead;
        char why[PIECE_WHY_MAX];
        int r, rc;

        if (!plen) {
                rc = mdb_get(txn, dbi, &k, &v);
                if (rc == MDB_NOTFOUND)
                        return -ENOENT;
                if (rc)
                        return store_mdb_error(st, rc, what);
                *ret = v;
                return 0;
        }
        if (klen != plen)
                return -EINVAL;
        rc = mdb_cursor_open(txn, dbi, &c);
        if (rc)
                return store_mdb_error(st, rc, what);
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
        if (rc) {
                mdb_cursor_close(c);
                return rc == MDB_NOTFOUND ? -ENOENT : store_mdb_error(st, rc, what);
        }
        r = pieces_join(key, klen, &v, cursor_next, c, buf, &joined, &ahead, why);
        mdb_cursor_close(c);
        if (r == VIGIL_E_CORRUPT)
                return corrupt_value(st, why);
        if (r == -EIO)
                return store_mdb_error(st, ahead.rc, what);
        if (r < 0)
                return r;
        *ret = joined;
        return 0;
}

/* Whether what we knew of the table's last leaf page still holds: the
 * table is as our last append left it (another writer's commit, or the
 * abort of ours, changes its counts). */
static size_t tail_free_now(MDB_txn *txn, MDB_dbi dbi, const piece_tail *t)
{
        MDB_stat s;

        if (t->free == TAIL_UNKNOWN || mdb_stat(txn, dbi, &s) != 0)
                return TAIL_UNKNOWN;
        if (s.ms_entries != t->after.ms_entries || s.ms_leaf_pages != t->after.ms_leaf_pages ||
            s.ms_branch_pages != t->after.ms_branch_pages || s.ms_overflow_pages != t->after.ms_overflow_pages ||
            s.ms_depth != t->after.ms_depth)
                return TAIL_UNKNOWN;
        return t->free;
}

/* After an append of a node of @node bytes: LMDB put it on the last leaf
 * page if it fit, or alone on a new one (an append never splits a page in
 * half); the leaf page count says which. Returns false when the table's
 * counts cannot be read (nothing is known then). */
static bool tail_note(const vigil_store *st, MDB_txn *txn, MDB_dbi dbi, piece_tail *t, size_t leaf_before,
                      size_t node)
{
        MDB_stat s;

        if (mdb_stat(txn, dbi, &s) != 0) {
                t->free = TAIL_UNKNOWN;
                return false;
        }
        if (s.ms_leaf_pages == leaf_before + 1 && node <= st->geo.room)
                t->free = st->geo.room - node;
        else if (s.ms_leaf_pages == leaf_before && t->free != TAIL_UNKNOWN && t->free >= node)
                t->free -= node;
        else
                t->free = TAIL_UNKNOWN;
        t->after = s;
        return true;
}

static int del_continuations(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const uint8_t *key, size_t klen,
                             const char *what)
{
        uint8_t ck[PIECE_KEY_MAX];

        memcpy(ck, key, klen);
        for (unsigned n = 1; n < PIECES_MAX; n++) {
                MDB_val k = { klen + 1, ck };
                int rc;

                ck[klen] = (uint8_t)n;
                rc = mdb_del(txn, dbi, &k, NULL);
                if (rc == MDB_NOTFOUND)
                        return 0;
                if (rc)
                        return store_mdb_error(st, rc, what);
        }
        return 0;
}

int store_put(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags, const char *what)
{
        piece_tail *tail = NULL;
        size_t plen = pieced_klen(st, dbi, &tail), off = 0, tfree = TAIL_UNKNOWN;
        uint8_t ck[PIECE_KEY_MAX];
        bool append = flags & STORE_PUT_APPEND, track = append;
        unsigned base_flags = flags & STORE_PUT_NEW ? MDB_NOOVERWRITE : 0;
        MDB_stat s0;
        int r, rc;

        if (!plen) {
                MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

                rc = append ? mdb_put(txn, dbi, &k, &v, MDB_APPEND) : MDB_KEYEXIST;
                if (rc == MDB_KEYEXIST)
                        rc = mdb_put(txn, dbi, &k, &v, base_flags);
                return rc ? store_mdb_error(st, rc, what) : 0;
        }
        if (klen != plen || klen + 1 > sizeof ck)
                return -EINVAL;
        memcpy(ck, key, klen);
        if (append) {
                tfree = tail_free_now(txn, dbi, tail);
                track = mdb_stat(txn, dbi, &s0) == 0;
                if (!track)
                        tail->free = TAIL_UNKNOWN;
        }
        for (unsigned n = 0; n == 0 || off < vlen; n++) {
                size_t kl = n ? klen + 1 : klen;
                size_t len = piece_next_size(&st->geo, vlen - off, kl, append && track ? tfree : TAIL_UNKNOWN, n);
                MDB_val k = { kl, ck }, v = { len, (uint8_t *)val + off };

                ck[klen] = (uint8_t)n;
                rc = append ? mdb_put(txn, dbi, &k, &v, MDB_APPEND) : MDB_KEYEXIST;
                if (rc == MDB_KEYEXIST) {
                        /* Not the table's last key (or, for the first piece, an
                         * existing one): an ordinary insert. */
                        if (append)
                                tail->free = TAIL_UNKNOWN;
                        append = false;
                        if (n == 0 && !(flags & STORE_PUT_NEW)) {
                                r = del_continuations(st, txn, dbi, key, klen, what);
                                if (r < 0)
                                        return r;
                        }
                        rc = mdb_put(txn, dbi, &k, &v, n == 0 ? base_flags : MDB_NOOVERWRITE);
                }
                if (rc)
                        return store_mdb_error(st, rc, what);
                if (append && track) {
                        tail->free = tfree;
                        track = tail_note(st, txn, dbi, tail, s0.ms_leaf_pages, piece_node_size(&st->geo, kl, len));
                        tfree = tail->free;
                        s0 = tail->after;
                }
                off += len;
        }
        return 0;
}

int store_del(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const char *what)
{
        size_t plen = pieced_klen(st, dbi, NULL);
        MDB_val k = { klen, (void *)key };
        int rc = mdb_del(txn, dbi, &k, NULL);

        if (rc == MDB_NOTFOUND)
                return -ENOENT;
        if (rc)
                return store_mdb_error(st, rc, what);
        if (plen && klen == plen)
                return del_continuations(st, txn, dbi, key, klen, what);
        return 0;
}

/* ---- cursors ---- */

int store_cursor_open(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, store_cursor *ret)
{
        int rc;

        *ret = (store_cursor){ .st = st, .klen = pieced_klen(st, dbi, NULL) };
        rc = mdb_cursor_open(txn, dbi, &ret->c);
        if (rc)
                return store_mdb_error(st, rc, "mdb_cursor_open");
        return 0;
}

void store_cursor_close(store_cursor *c)
{
        if (c->c)
                mdb_cursor_close(c->c);
        c->c = NULL;
        vbuf_free(&c->buf);
        vbuf_free(&c->key);
}

int store_cursor_get(store_cursor *c, MDB_val *key, MDB_val *val, MDB_cursor_op op)
{
        MDB_val k, v;
        char why[PIECE_WHY_MAX];
        bool skip;
        int r, rc;

        if (op == MDB_NEXT && c->have_ahead) {
                rc = c->ahead.rc;
                k = c->ahead.k;
                v = c->ahead.v;
        } else {
                if (op == MDB_SET_RANGE)
                        k = *key;
                rc = mdb_cursor_get(c->c, &k, &v, op);
        }
        c->have_ahead = false;
        if (rc == MDB_NOTFOUND)
                return -ENOENT;
        if (rc)
                return store_mdb_error(c->st, rc, "mdb_cursor_get");
        if (!c->klen) {
                *key = k;
                *val = v;
                return 0;
        }
        if (k.mv_size != c->klen) {
                *key = k;
                *val = v;
                if (k.mv_size == c->klen + 1) {
                        snprintf(why, sizeof why, "piece %u of a value whose first piece is missing",
                                 ((const uint8_t *)k.mv_data)[c->klen]);
                        return corrupt_value(c->st, why);
                }
                return 0; /* not a key of this table's form: the caller tells */
        }
        /* The joined value may outlive the raw cursor's position: keep the key too. */
        vbuf_reset(&c->key);
        vbuf_put(&c->key, k.mv_data, k.mv_size);
        if (c->key.oom)
                return -ENOMEM;
        /* a value the caller does not want is stepped over: its pieces
         * (the pages of a large chunk) are never read or copied */
        skip = c->want && !c->want(c->want_userdata, &v);
        r = pieces_join(c->key.p, c->klen, &v, cursor_next, c->c, skip ? NULL : &c->buf, val, &c->ahead, why);
        *key = (MDB_val){ c->key.len, c->key.p };
        if (r == VIGIL_E_CORRUPT)
                return corrupt_value(c->st, why);
        if (r == -EIO)
                return store_mdb_error(c->st, c->ahead.rc, "mdb_cursor_get");
        if (r < 0)
                return r;
        c->have_ahead = true;
        return 0;
}
