/* Unit tests of values in pieces (store/pieces.c): the sizes the writer
 * chooses, and store_put/get/del and the store cursor on a real LMDB
 * environment: round trips, overwrites, deletes, damage, and how full the
 * leaf pages of appended records end up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store-internal.h"

/* ---- sizes ---- */

/* Cut a value of @total bytes the way store_put() does, with a model of the
 * table's last leaf page (LMDB's: a node goes on it when it fits, else
 * alone on a new page), and check every piece. Returns how many. */
static unsigned cut(const piece_geometry *g, size_t klen, size_t total, size_t *tail_free)
{
        size_t off = 0;
        unsigned n = 0;

        do {
                size_t kl = n ? klen + 1 : klen;
                size_t len = piece_next_size(g, total - off, kl, *tail_free, n);
                size_t node = piece_node_size(g, kl, len);

                assert_true(len <= total - off);
                assert_true(len > 0 || total == 0);
                /* a piece is a leaf node, or whole overflow pages filled to
                 * the byte, or the rest of the value */
                assert_true(len <= piece_leaf_max(g, kl) || (len + 16) % g->page_size == 0 || len == total - off);
                if (*tail_free != TAIL_UNKNOWN && node <= *tail_free)
                        *tail_free -= node;
                else
                        *tail_free = g->room - node;
                off += len;
                n++;
        } while (off < total);
        assert_true(n <= PIECES_MAX);
        return n;
}

static void test_sizes(void **state)
{
        static const size_t pages[] = { 4096, 8192, 16384, 65536 };
        static const size_t klens[] = { ID_LEN, ID_LEN + 4, REC_KEY_LEN };

        (void)state;
        for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
                piece_geometry g;

                piece_geometry_init(&g, pages[p]);
                assert_int_equal(g.room, pages[p] - 16);
                /* LMDB: two of its largest nodes fill a page */
                assert_true(2 * (g.node_max + 2) <= g.room);
                for (size_t k = 0; k < sizeof klens / sizeof klens[0]; k++) {
                        size_t lm = piece_leaf_max(&g, klens[k]);

                        assert_true(piece_node_size(&g, klens[k], lm) <= g.node_max + 2);
                        for (size_t total = 0; total < 3 * pages[p] + 100; total += 1 + total / 7) {
                                size_t tf = TAIL_UNKNOWN;

                                /* what a leaf holds stays whole when nothing is known */
                                if (total <= lm)
                                        assert_int_equal(cut(&g, klens[k], total, &tf), 1);
                                else
                                        (void)cut(&g, klens[k], total, &tf);
                                /* and with every state of the last page */
                                for (size_t f = 0; f <= g.room; f += 2 + f / 3) {
                                        tf = f;
                                        (void)cut(&g, klens[k], total, &tf);
                                }
                        }
                }
                /* values of many pages: whole pages on overflow, few pieces */
                for (size_t total = 1u << 20; total < (64u << 20); total = total * 3 + 17) {
                        size_t tf = TAIL_UNKNOWN;

                        assert_true(cut(&g, REC_KEY_LEN, total, &tf) <= 16);
                }
        }
}

/* A page end known: the piece fills it exactly (when that is worth a node). */
static void test_sizes_fill(void **state)
{
        piece_geometry g;
        size_t len;

        (void)state;
        piece_geometry_init(&g, 4096);
        len = piece_next_size(&g, 3000, REC_KEY_LEN, 1000, 0);
        assert_int_equal(piece_node_size(&g, REC_KEY_LEN, len), 1000);
        len = piece_next_size(&g, 3000, REC_KEY_LEN + 1, 1001 + 1, 1);
        assert_true(piece_node_size(&g, REC_KEY_LEN + 1, len) <= 1002);
        assert_true(piece_node_size(&g, REC_KEY_LEN + 1, len) >= 1000);
        /* it fits whole */
        assert_int_equal(piece_next_size(&g, 500, REC_KEY_LEN, 1000, 0), 500);
        /* too little room left: the piece starts a page */
        assert_int_equal(piece_next_size(&g, 3000, REC_KEY_LEN, 100, 0), piece_leaf_max(&g, REC_KEY_LEN));
        /* the page is full: the piece starts one */
        assert_int_equal(piece_next_size(&g, 3000, REC_KEY_LEN + 1, 0, 1), piece_leaf_max(&g, REC_KEY_LEN + 1));
        /* a page and more, nothing known: whole pages go on overflow, to the byte */
        assert_int_equal(piece_next_size(&g, 9000, REC_KEY_LEN, TAIL_UNKNOWN, 0), 2 * 4096 - 16);
        /* less, nothing known: small pieces */
        assert_true(piece_next_size(&g, 3000, REC_KEY_LEN, TAIL_UNKNOWN, 0) < 600);
}

/* ---- on LMDB ---- */

typedef struct fixture {
        char dir[32], sdir[64], key[64];
        vigil_store *st;
} fixture;

static int setup(void **state)
{
        fixture *f = calloc(1, sizeof *f);
        vigil_store_options o = { 0 };

        if (!f)
                return -1;
        snprintf(f->dir, sizeof f->dir, "/tmp/vigil-pieces.XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->sdir, sizeof f->sdir, "%s/s", f->dir);
        snprintf(f->key, sizeof f->key, "%s/k", f->dir);
        o.dir = f->sdir;
        o.key_path = f->key;
        o.flags = VIGIL_STORE_CREATE;
        if (vigil_store_open(&o, &f->st) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fixture *f = *state;
        char p[128];

        vigil_store_close(f->st);
        snprintf(p, sizeof p, "%s/data.mdb", f->sdir);
        (void)unlink(p);
        snprintf(p, sizeof p, "%s/lock.mdb", f->sdir);
        (void)unlink(p);
        (void)rmdir(f->sdir);
        (void)unlink(f->key);
        (void)rmdir(f->dir);
        free(f);
        return 0;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
        uint8_t *p = malloc(n ? n : 1);

        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(i * 131 + seed * 7 + (i >> 9));
        return p;
}

static void rkey(uint8_t k[REC_KEY_LEN], uint64_t seq)
{
        static const uint8_t id[ID_LEN] = { 0x01, 0x9a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

        rec_key(k, id, seq);
}

/* Raw entries of a table (pieces counted). */
static size_t entries(vigil_store *st, MDB_dbi dbi)
{
        MDB_txn *txn = NULL;
        MDB_stat s;

        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(mdb_stat(txn, dbi, &s), 0);
        mdb_txn_abort(txn);
        return s.ms_entries;
}

static const size_t sizes[] = { 0, 1, 100, 1990, 1991, 2006, 2100, 3000, 4079, 4080, 4081, 5000, 8176, 9000, 70000, 1u << 22 };
#define N_SIZES (sizeof sizes / sizeof sizes[0])

static void test_roundtrip(void **state)
{
        fixture *f = *state;
        vigil_store *st = f->st;
        MDB_txn *txn = NULL;
        uint8_t k[REC_KEY_LEN];
        vbuf buf = { 0 };
        store_cursor c;
        MDB_val kv, v;
        size_t i = 0;
        int r;

        /* a few values per transaction, appended, like commits */
        for (size_t j = 0; j < N_SIZES; j++) {
                uint8_t *p = pattern(sizes[j], (unsigned)j);

                if (j % 3 == 0)
                        assert_int_equal(store_txn_begin(st, true, &txn), 0);
                rkey(k, j);
                assert_int_equal(store_put(st, txn, st->records, k, sizeof k, p, sizes[j],
                                           STORE_PUT_APPEND | STORE_PUT_NEW, "put"), 0);
                free(p);
                if (j % 3 == 2 || j == N_SIZES - 1)
                        assert_int_equal(mdb_txn_commit(txn), 0);
        }
        /* there are pieces */
        assert_true(entries(st, st->records) > N_SIZES);

        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        for (size_t j = 0; j < N_SIZES; j++) {
                uint8_t *p = pattern(sizes[j], (unsigned)j);

                rkey(k, j);
                assert_int_equal(store_get(st, txn, st->records, k, sizeof k, &buf, &v, "get"), 0);
                assert_int_equal(v.mv_size, sizes[j]);
                assert_memory_equal(v.mv_data, p, sizes[j]);
                free(p);
        }
        rkey(k, N_SIZES);
        assert_int_equal(store_get(st, txn, st->records, k, sizeof k, &buf, &v, "get"), -ENOENT);
        assert_int_equal(store_get(st, txn, st->records, k, sizeof k - 1, &buf, &v, "get"), -EINVAL);
        /* the cursor yields each value once, whole, in order */
        assert_int_equal(store_cursor_open(st, txn, st->records, &c), 0);
        rkey(k, 0);
        kv = (MDB_val){ sizeof k, k };
        for (r = store_cursor_get(&c, &kv, &v, MDB_SET_RANGE); r == 0; r = store_cursor_get(&c, &kv, &v, MDB_NEXT)) {
                uint8_t *p;

                if (kv.mv_size != REC_KEY_LEN)
                        continue; /* the first session's records (none here) */
                assert_true(i < N_SIZES);
                rkey(k, i);
                assert_memory_equal(kv.mv_data, k, sizeof k);
                p = pattern(sizes[i], (unsigned)i);
                assert_int_equal(v.mv_size, sizes[i]);
                assert_memory_equal(v.mv_data, p, sizes[i]);
                free(p);
                i++;
        }
        assert_int_equal(r, -ENOENT);
        assert_int_equal(i, N_SIZES);
        store_cursor_close(&c);
        mdb_txn_abort(txn);

        /* never over an existing value */
        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        rkey(k, 3);
        assert_int_equal(store_put(st, txn, st->records, k, sizeof k, "x", 1, STORE_PUT_APPEND | STORE_PUT_NEW, "put"),
                         -EEXIST);
        mdb_txn_abort(txn);
        vbuf_free(&buf);
}

/* want(): the values the cursor's caller has no use for come as their first
 * piece alone, the others whole; the pieces' numbers are checked either way. */
typedef struct want_ctx {
        size_t calls;
} want_ctx;

static bool want_even(void *userdata, const MDB_val *first)
{
        want_ctx *w = userdata;

        w->calls++;
        /* pattern(n, j) starts with j * 7 */
        return first->mv_size == 0 || (((const uint8_t *)first->mv_data)[0] / 7) % 2 == 0;
}

static void test_cursor_want(void **state)
{
        fixture *f = *state;
        vigil_store *st = f->st;
        MDB_txn *txn = NULL;
        uint8_t k[REC_KEY_LEN + 1];
        store_cursor c;
        want_ctx w = { 0 };
        MDB_val kv, v;
        size_t i = 0, stepped = 0;
        int r;

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        for (size_t j = 0; j < N_SIZES; j++) {
                uint8_t *p = pattern(sizes[j], (unsigned)j);

                rkey(k, j);
                assert_int_equal(store_put(st, txn, st->records, k, REC_KEY_LEN, p, sizes[j], STORE_PUT_APPEND, "put"), 0);
                free(p);
        }
        assert_int_equal(mdb_txn_commit(txn), 0);

        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(store_cursor_open(st, txn, st->records, &c), 0);
        c.want = want_even;
        c.want_userdata = &w;
        rkey(k, 0);
        kv = (MDB_val){ REC_KEY_LEN, k };
        for (r = store_cursor_get(&c, &kv, &v, MDB_SET_RANGE); r == 0; r = store_cursor_get(&c, &kv, &v, MDB_NEXT), i++) {
                uint8_t *p = pattern(sizes[i], (unsigned)i);

                assert_true(i < N_SIZES);
                rkey(k, i);
                assert_memory_equal(kv.mv_data, k, REC_KEY_LEN);
                if (i % 2 == 0 || sizes[i] == 0) {
                        assert_int_equal(v.mv_size, sizes[i]);
                } else {
                        /* the first piece: a prefix, shorter when in pieces */
                        assert_true(v.mv_size <= sizes[i]);
                        if (sizes[i] > piece_leaf_max(&st->geo, REC_KEY_LEN)) {
                                assert_true(v.mv_size < sizes[i]);
                                stepped++;
                        }
                }
                assert_memory_equal(v.mv_data, p, v.mv_size);
                free(p);
        }
        assert_int_equal(r, -ENOENT);
        assert_int_equal(i, N_SIZES);
        assert_int_equal(w.calls, N_SIZES);
        assert_true(stepped >= 3);
        store_cursor_close(&c);
        mdb_txn_abort(txn);

        /* an unwanted value (the 4 MiB one, odd) loses a piece in the middle */
        assert_true((N_SIZES - 1) % 2 == 1);
        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        rkey(k, N_SIZES - 1);
        k[REC_KEY_LEN] = 2;
        kv = (MDB_val){ REC_KEY_LEN + 1, k };
        assert_int_equal(mdb_get(txn, st->records, &kv, &v), 0);
        k[REC_KEY_LEN] = 1;
        assert_int_equal(mdb_del(txn, st->records, &kv, NULL), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(store_cursor_open(st, txn, st->records, &c), 0);
        c.want = want_even;
        c.want_userdata = &w;
        rkey(k, N_SIZES - 1);
        kv = (MDB_val){ REC_KEY_LEN, k };
        assert_int_equal(store_cursor_get(&c, &kv, &v, MDB_SET_RANGE), VIGIL_E_CORRUPT);
        assert_string_equal(vigil_store_errmsg(st), "piece 1 missing");
        store_cursor_close(&c);
        mdb_txn_abort(txn);
}

/* Replacing a value drops the pieces it no longer has; deleting takes all. */
static void test_overwrite_delete(void **state)
{
        fixture *f = *state;
        vigil_store *st = f->st;
        uint8_t id[ID_LEN] = { 7 };
        MDB_txn *txn = NULL;
        vbuf buf = { 0 };
        MDB_val v;
        uint8_t *big = pattern(12000, 1);

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        assert_int_equal(store_put(st, txn, st->sessions, id, ID_LEN, big, 3000, 0, "put"), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_true(entries(st, st->sessions) > 2);

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        assert_int_equal(store_put(st, txn, st->sessions, id, ID_LEN, "small", 5, 0, "put"), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(entries(st, st->sessions), 1);
        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(store_get(st, txn, st->sessions, id, ID_LEN, &buf, &v, "get"), 0);
        assert_int_equal(v.mv_size, 5);
        mdb_txn_abort(txn);

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        assert_int_equal(store_put(st, txn, st->sessions, id, ID_LEN, big, 12000, 0, "put"), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(store_get(st, txn, st->sessions, id, ID_LEN, &buf, &v, "get"), 0);
        assert_int_equal(v.mv_size, 12000);
        assert_memory_equal(v.mv_data, big, 12000);
        mdb_txn_abort(txn);

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        assert_int_equal(store_del(st, txn, st->sessions, id, ID_LEN, "del"), 0);
        assert_int_equal(store_del(st, txn, st->sessions, id, ID_LEN, "del"), -ENOENT);
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(entries(st, st->sessions), 0);
        free(big);
        vbuf_free(&buf);
}

/* A piece missing, a piece numbered 0, a piece whose value is gone. */
static void test_damage(void **state)
{
        fixture *f = *state;
        vigil_store *st = f->st;
        uint8_t k[REC_KEY_LEN + 1], *p = pattern(3000, 3);
        MDB_txn *txn = NULL;
        vbuf buf = { 0 };
        store_cursor c;
        MDB_val kv, v;

        assert_int_equal(store_txn_begin(st, true, &txn), 0);
        for (uint64_t q = 0; q < 3; q++) {
                rkey(k, q);
                assert_int_equal(store_put(st, txn, st->records, k, REC_KEY_LEN, p, 3000, STORE_PUT_NEW, "put"), 0);
        }
        /* record 0: piece 1 gone (3000 bytes, nothing known of the last
         * page: small pieces). A missing last piece is not seen here: the
         * value looks shorter; what it holds (the chain hash, verify's
         * comparisons) tells. */
        rkey(k, 0);
        k[REC_KEY_LEN] = 1;
        kv = (MDB_val){ REC_KEY_LEN + 1, k };
        assert_int_equal(mdb_del(txn, st->records, &kv, NULL), 0);
        /* record 1: a piece numbered 0 */
        rkey(k, 1);
        k[REC_KEY_LEN] = 0;
        v = (MDB_val){ 3, "abc" };
        assert_int_equal(mdb_put(txn, st->records, &kv, &v, 0), 0);
        /* record 2: its first piece gone */
        rkey(k, 2);
        kv.mv_size = REC_KEY_LEN;
        assert_int_equal(mdb_del(txn, st->records, &kv, NULL), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);

        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        rkey(k, 0);
        assert_int_equal(store_get(st, txn, st->records, k, REC_KEY_LEN, &buf, &v, "get"), VIGIL_E_CORRUPT);
        assert_string_equal(vigil_store_errmsg(st), "piece 1 missing");
        rkey(k, 1);
        assert_int_equal(store_get(st, txn, st->records, k, REC_KEY_LEN, &buf, &v, "get"), VIGIL_E_CORRUPT);
        assert_string_equal(vigil_store_errmsg(st), "a piece numbered 0");
        rkey(k, 2);
        assert_int_equal(store_get(st, txn, st->records, k, REC_KEY_LEN, &buf, &v, "get"), -ENOENT);
        /* the cursor names whose piece is stray */
        assert_int_equal(store_cursor_open(st, txn, st->records, &c), 0);
        rkey(k, 2);
        kv = (MDB_val){ REC_KEY_LEN, k };
        assert_int_equal(store_cursor_get(&c, &kv, &v, MDB_SET_RANGE), VIGIL_E_CORRUPT);
        assert_int_equal(kv.mv_size, REC_KEY_LEN + 1);
        assert_memory_equal(kv.mv_data, k, REC_KEY_LEN);
        assert_non_null(strstr(vigil_store_errmsg(st), "whose first piece is missing"));
        store_cursor_close(&c);
        mdb_txn_abort(txn);
        free(p);
        vbuf_free(&buf);
}

/* Records appended a commit at a time, 2-5 KB each (a session at an
 * interactive pace): the leaf pages end up full, where LMDB alone put each
 * on overflow pages of its own. */
static void test_packing(void **state)
{
        fixture *f = *state;
        vigil_store *st = f->st;
        uint8_t k[REC_KEY_LEN], *p = pattern(6000, 5);
        size_t total = 0, nodes = 0;
        MDB_txn *txn = NULL;
        MDB_stat s;

        srand(99);
        for (uint64_t q = 0; q < 300; q++) {
                size_t len = 2000 + (size_t)rand() % 3000;

                assert_int_equal(store_txn_begin(st, true, &txn), 0);
                rkey(k, q);
                assert_int_equal(store_put(st, txn, st->records, k, sizeof k, p, len, STORE_PUT_APPEND | STORE_PUT_NEW,
                                           "put"),
                                 0);
                assert_int_equal(mdb_txn_commit(txn), 0);
                total += len;
        }
        assert_int_equal(store_txn_begin(st, false, &txn), 0);
        assert_int_equal(mdb_stat(txn, st->records, &s), 0);
        mdb_txn_abort(txn);
        nodes = s.ms_entries * (8 + REC_KEY_LEN + 1 + 2 + 1);
        print_message("# %zu bytes in %zu pieces: %zu leaf, %zu overflow pages (at least %zu)\n", total,
                      s.ms_entries, s.ms_leaf_pages, s.ms_overflow_pages, (total + nodes) / st->geo.room + 1);
        /* within 2% of the bytes and node headers, where whole pages for
         * each record took 1.5 times that */
        assert_true((s.ms_leaf_pages + s.ms_overflow_pages) * st->geo.room <= (total + nodes) * 102 / 100 + st->geo.room);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_sizes_fill),
                cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overwrite_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cursor_want, setup, teardown),
                cmocka_unit_test_setup_teardown(test_packing, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
