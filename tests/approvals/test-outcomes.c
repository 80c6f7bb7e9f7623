/* Unit tests of vigil_store_session_approvals() on a real LMDB store: a
 * session with thousands of records, megabytes of output and approval
 * records of every outcome (one of them large enough to be stored in
 * pieces) gives each outcome back in order; the output is not decoded (the
 * outcomes still come when every output chunk is garbage); a damaged
 * approval record, a record too short to have a type and a piece missing
 * are clear errors naming the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store-internal.h"

typedef struct fixture {
        char dir[64], sdir[128], key[128];
        vigil_store *st;
        uint8_t id[VIGIL_SESSION_ID_LEN];
} fixture;

#define N_COMMANDS 5000u
#define BIG_REASON 20000u

/* What the session below decides, command by command. */
typedef struct want {
        uint32_t c; /* command index (its number: commands are numbered from 0) */
        vigil_decision_kind d;
        bool remembered;
        const char *request, *subject, *local, *via;
        const char *reason; /* "BIG": BIG_REASON bytes */
} want;

static const want wants[] = {
        { 10, VIGIL_DEC_APPROVED, false, "k3f9x2ab", "bob-sub", "bob", "device", "change 42" },
        { 11, VIGIL_DEC_APPROVED, true, "k3f9x2ab", NULL, NULL, NULL, NULL },
        { 20, VIGIL_DEC_REJECTED, false, "m4h8q1zz", NULL, "dba1", "local", "not during the freeze" },
        { 30, VIGIL_DEC_TIMEOUT, false, "t0t0t0t0", NULL, NULL, NULL, NULL },
        { 40, VIGIL_DEC_WITHDRAWN, false, "w1w1w1w1", NULL, NULL, NULL, "the session ended" },
        /* past the first read transaction's records */
        { 4500, VIGIL_DEC_APPROVED, false, "bigbig00", "carol", "carol", "session", "BIG" },
        { 4501, VIGIL_DEC_APPROVED, true, "bigbig00", NULL, NULL, NULL, NULL },
        { 4990, VIGIL_DEC_REJECTED, false, "lastlast", "dave", NULL, "device", "no" },
};
#define N_WANTS (sizeof wants / sizeof wants[0])

static char *big_reason(void)
{
        char *r = malloc(BIG_REASON + 1);

        assert_non_null(r);
        for (size_t i = 0; i < BIG_REASON; i++)
                r[i] = (char)('a' + (i * 7 + i / 26) % 26);
        r[BIG_REASON] = 0;
        return r;
}

static const want *want_of(uint32_t c)
{
        for (size_t i = 0; i < N_WANTS; i++)
                if (wants[i].c == c)
                        return &wants[i];
        return NULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void random_text(char *p, size_t n)
{
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        for (size_t i = 0; i < n; i++) {
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                p[i] = (i + 1) % 77 == 0 ? '\n' : b64[(rng * 2685821657736338717ull) >> 58];
        }
}

/* The session: N_COMMANDS commands (each with its exit when it ran), about
 * 4 MiB of output that does not compress much, and the outcomes of wants[]. */
static void write_session(fixture *f)
{
        static char *const groups[] = { "sre", "dba" };
        vigil_session_meta m = { .user = "alice" };
        vigil_record_opts ro = { .output = true };
        const char *argv[] = { "systemctl", "restart", "pay" };
        vigil_session *s = NULL;
        char *big = big_reason(), *text = malloc(4096);

        assert_non_null(text);
        assert_int_equal(vigil_session_begin(f->st, &m, &ro, &s), 0);
        memcpy(f->id, vigil_session_id(s), VIGIL_SESSION_ID_LEN);
        for (uint32_t c = 0; c < N_COMMANDS; c++) {
                const want *w = want_of(c);
                vigil_command_info ci = { .argv = argv, .argc = 3, .rule = "p:1", .cwd = "/" };
                uint32_t no;
                bool ran = true;

                ci.decision = !w ? VIGIL_DEC_ALLOW : w->remembered ? VIGIL_DEC_APPROVED : VIGIL_DEC_HELD;
                assert_int_equal(vigil_session_command(s, &ci, &no), 0);
                assert_int_equal(no, c);
                if (w) {
                        vigil_approval_outcome o = {
                                .command_no = no,
                                .request = (char *)w->request,
                                .decision = w->d,
                                .remembered = w->remembered,
                                .by_subject = (char *)w->subject,
                                .by_local = (char *)w->local,
                                .by_via = (char *)w->via,
                                .by_groups = w->subject ? (char **)groups : NULL,
                                .by_n_groups = w->subject ? 2 : 0,
                                .decided_us = 1700000000000000ull + c,
                                .reason = w->reason && strcmp(w->reason, "BIG") == 0 ? big : (char *)w->reason,
                        };

                        assert_int_equal(vigil_session_approval(s, &o), 0);
                        ran = w->d == VIGIL_DEC_APPROVED;
                }
                if (c % 5 == 0) {
                        random_text(text, 4096);
                        assert_int_equal(vigil_session_output(s, 0, text, 4096), 0);
                }
                if (ran)
                        assert_int_equal(vigil_session_command_exit(s, no, 0, 0, -1), 0);
        }
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), 0);
        vigil_session_free(s);
        free(big);
        free(text);
}

static int store_open(fixture *f, unsigned flags, vigil_store **ret)
{
        vigil_store_options o = { .dir = f->sdir, .key_path = f->key, .flags = flags };

        return vigil_store_open(&o, ret);
}

static int setup(void **state)
{
        fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/vigil-outcomes.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->sdir, sizeof f->sdir, "%s/s", f->dir);
        snprintf(f->key, sizeof f->key, "%s/k", f->dir);
        assert_int_equal(store_open(f, VIGIL_STORE_CREATE, &f->st), 0);
        write_session(f);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fixture *f = *state;
        char cmd[200];

        vigil_store_close(f->st);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/* ---- collecting ---- */

typedef struct got {
        uint32_t no[32];
        vigil_decision_kind d[32];
        bool remembered[32];
        char *request[32], *subject[32], *local[32], *via[32], *reason[32];
        size_t n_groups[32];
        uint64_t decided_us[32];
        size_t n;
        int stop_after; /* > 0: return 1 after this many; < 0: return it at once */
} got;

static char *dup_or_null(const char *s)
{
        char *d = s ? strdup(s) : NULL;

        assert_true(!s || d);
        return d;
}

static int collect(void *userdata, const vigil_approval_outcome *o)
{
        got *g = userdata;

        if (g->stop_after < 0)
                return g->stop_after;
        assert_true(g->n < 32);
        g->no[g->n] = o->command_no;
        g->d[g->n] = o->decision;
        g->remembered[g->n] = o->remembered;
        g->request[g->n] = dup_or_null(o->request);
        g->subject[g->n] = dup_or_null(o->by_subject);
        g->local[g->n] = dup_or_null(o->by_local);
        g->via[g->n] = dup_or_null(o->by_via);
        g->reason[g->n] = dup_or_null(o->reason);
        g->n_groups[g->n] = o->by_n_groups;
        g->decided_us[g->n] = o->decided_us;
        g->n++;
        return g->stop_after > 0 && g->n == (size_t)g->stop_after ? 1 : 0;
}

static void got_free(got *g)
{
        for (size_t i = 0; i < g->n; i++) {
                free(g->request[i]);
                free(g->subject[i]);
                free(g->local[i]);
                free(g->via[i]);
                free(g->reason[i]);
        }
        *g = (got){ 0 };
}

static void assert_str_or_null(const char *a, const char *b)
{
        if (!b)
                assert_null(a);
        else {
                assert_non_null(a);
                assert_string_equal(a, b);
        }
}

static void check_all(const got *g)
{
        char *big = big_reason();

        assert_int_equal(g->n, N_WANTS);
        for (size_t i = 0; i < N_WANTS; i++) {
                const want *w = &wants[i];

                assert_int_equal(g->no[i], w->c);
                assert_int_equal(g->d[i], w->d);
                assert_int_equal(g->remembered[i], w->remembered);
                assert_string_equal(g->request[i], w->request);
                assert_str_or_null(g->subject[i], w->subject);
                assert_str_or_null(g->local[i], w->local);
                assert_str_or_null(g->via[i], w->via);
                assert_str_or_null(g->reason[i], w->reason && strcmp(w->reason, "BIG") == 0 ? big : w->reason);
                assert_int_equal(g->n_groups[i], w->subject ? 2 : 0);
                assert_int_equal(g->decided_us[i], 1700000000000000ull + w->c);
        }
        free(big);
}

/* ---- raw access to the records table (the test's own, to damage it) ---- */

/* The sequence numbers of the session's records of @type (first pieces only). */
static size_t records_of(fixture *f, int type, uint64_t *seqs, size_t max)
{
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        uint8_t k0[REC_KEY_LEN];
        MDB_val k, v;
        size_t n = 0;
        int rc;

        rec_key(k0, f->id, 0);
        k = (MDB_val){ sizeof k0, k0 };
        assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
        assert_int_equal(mdb_cursor_open(txn, f->st->records, &c), 0);
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                if (memcmp(k.mv_data, f->id, ID_LEN) != 0)
                        break;
                if (k.mv_size == REC_KEY_LEN && v.mv_size > HASH_LEN && ((uint8_t *)v.mv_data)[HASH_LEN] == type &&
                    n < max)
                        seqs[n++] = be64_get((uint8_t *)k.mv_data + ID_LEN);
        }
        mdb_cursor_close(c);
        mdb_txn_abort(txn);
        return n;
}

/* Garble every output chunk: all but the hash and the type byte of its
 * first piece, and all of its other pieces. Returns the pieces changed. */
static size_t garble_output(fixture *f)
{
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        uint8_t k0[REC_KEY_LEN], *junk;
        MDB_val k, v;
        size_t n = 0;
        bool in_output = false;
        int rc;

        rec_key(k0, f->id, 0);
        k = (MDB_val){ sizeof k0, k0 };
        assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
        assert_int_equal(mdb_cursor_open(txn, f->st->records, &c), 0);
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                size_t from;

                if (memcmp(k.mv_data, f->id, ID_LEN) != 0)
                        break;
                if (k.mv_size == REC_KEY_LEN)
                        in_output = v.mv_size > HASH_LEN && ((uint8_t *)v.mv_data)[HASH_LEN] == VIGIL_REC_OUTPUT;
                if (!in_output)
                        continue;
                from = k.mv_size == REC_KEY_LEN ? HASH_LEN + 1 : 0;
                junk = malloc(v.mv_size);
                assert_non_null(junk);
                memcpy(junk, v.mv_data, from);
                memset(junk + from, 0xff, v.mv_size - from);
                v.mv_data = junk;
                assert_int_equal(mdb_cursor_put(c, &k, &v, MDB_CURRENT), 0);
                free(junk);
                n++;
        }
        mdb_cursor_close(c);
        assert_int_equal(mdb_txn_commit(txn), 0);
        return n;
}

/* Replace record @seq's stored value (after the hash) with @body. */
static void replace_record(fixture *f, uint64_t seq, const void *body, size_t len)
{
        uint8_t k[REC_KEY_LEN], *val = calloc(1, HASH_LEN + len + 1);
        MDB_txn *txn = NULL;

        assert_non_null(val);
        memcpy(val + HASH_LEN, body, len);
        rec_key(k, f->id, seq);
        assert_int_equal(store_txn_begin(f->st, true, &txn), 0);
        assert_int_equal(store_put(f->st, txn, f->st->records, k, sizeof k, val, HASH_LEN + len, 0, "put"), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        free(val);
}

/* Record @seq's stored value after the hash (malloc'd). */
static uint8_t *record_body(fixture *f, uint64_t seq, size_t *ret_len)
{
        uint8_t k[REC_KEY_LEN], *p;
        MDB_txn *txn = NULL;
        vbuf buf = { 0 };
        MDB_val v;

        rec_key(k, f->id, seq);
        assert_int_equal(store_txn_begin(f->st, false, &txn), 0);
        assert_int_equal(store_get(f->st, txn, f->st->records, k, sizeof k, &buf, &v, "get"), 0);
        assert_true(v.mv_size > HASH_LEN);
        p = malloc(v.mv_size - HASH_LEN);
        assert_non_null(p);
        memcpy(p, (uint8_t *)v.mv_data + HASH_LEN, v.mv_size - HASH_LEN);
        *ret_len = v.mv_size - HASH_LEN;
        mdb_txn_abort(txn);
        vbuf_free(&buf);
        return p;
}

/* ---- tests ---- */

static void test_outcomes(void **state)
{
        fixture *f = *state;
        vigil_session_info info = { 0 };
        uint8_t other[VIGIL_SESSION_ID_LEN] = { 0 };
        got g = { 0 };

        /* what the session holds: more records than one read transaction
         * looks at, megabytes of output */
        assert_int_equal(vigil_session_info_get(f->st, f->id, &info), 0);
        assert_true(info.n_records > 2 * 4096);
        assert_true(info.out_bytes >= 4000000);
        vigil_session_info_clear(&info);

        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), 0);
        check_all(&g);
        got_free(&g);

        /* the callback stops it, or fails it */
        g.stop_after = 2;
        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), 0);
        assert_int_equal(g.n, 2);
        got_free(&g);
        g.stop_after = -ECANCELED;
        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), -ECANCELED);
        got_free(&g);

        /* no such session; no callback */
        other[6] = 0x70;
        assert_int_equal(vigil_store_session_approvals(f->st, other, collect, &g), -ENOENT);
        assert_int_equal(vigil_store_session_approvals(f->st, f->id, NULL, &g), -EINVAL);
        assert_int_equal(g.n, 0);
}

/* The big approval record is in pieces, and comes back whole. */
static void test_outcome_in_pieces(void **state)
{
        fixture *f = *state;
        uint64_t seqs[16];
        uint8_t k[REC_KEY_LEN + 1];
        MDB_txn *txn = NULL;
        MDB_val kv, v;
        bool pieced = false;
        size_t n = records_of(f, VIGIL_REC_APPROVAL, seqs, 16);

        assert_int_equal(n, N_WANTS);
        assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
        for (size_t i = 0; i < n; i++) {
                rec_key(k, f->id, seqs[i]);
                k[REC_KEY_LEN] = 1;
                kv = (MDB_val){ sizeof k, k };
                if (mdb_get(txn, f->st->records, &kv, &v) == 0)
                        pieced = true;
        }
        mdb_txn_abort(txn);
        assert_true(pieced);
}

/* Output is never decoded: with every chunk garbage the outcomes still come,
 * where reading the records as replay does fails. */
static void test_output_not_decoded(void **state)
{
        fixture *f = *state;
        vigil_record_reader *rr = NULL;
        const vigil_record *rec;
        got g = { 0 };
        int r;

        assert_true(garble_output(f) > 100);
        assert_int_equal(vigil_record_reader_new(f->st, f->id, &rr), 0);
        while ((r = vigil_record_reader_next(rr, &rec)) == 1)
                ;
        assert_int_equal(r, VIGIL_E_CORRUPT);
        vigil_record_reader_free(rr);

        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), 0);
        check_all(&g);
        got_free(&g);
}

/* A damaged approval record: one line naming the session and the record. */
static void test_corrupt_approval(void **state)
{
        fixture *f = *state;
        char idt[VIGIL_SESSION_ID_STRLEN + 1], expect[160];
        uint64_t seqs[16];
        uint8_t *body, k[REC_KEY_LEN + 1];
        size_t len, n = records_of(f, VIGIL_REC_APPROVAL, seqs, 16);
        MDB_txn *txn = NULL;
        MDB_val kv;
        got g = { 0 };

        assert_int_equal(n, N_WANTS);
        vigil_session_id_format(f->id, idt);

        /* the third approval record cut short by a byte: the first two come,
         * then the error */
        body = record_body(f, seqs[2], &len);
        replace_record(f, seqs[2], body, len - 1);
        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
        assert_int_equal(g.n, 2);
        got_free(&g);
        snprintf(expect, sizeof expect, "session %s: record %llu (approval): malformed record (run 'vigil verify')", idt,
                 (unsigned long long)seqs[2]);
        assert_string_equal(vigil_store_errmsg(f->st), expect);
        assert_null(strchr(vigil_store_errmsg(f->st), '\n'));

        /* an outcome no held command can have (allow) */
        {
                vdec d;
                size_t at;

                /* type, time, command number, request: then the decision byte */
                d = vdec_init(body, len);
                (void)vdec_u8(&d);
                (void)vdec_varint(&d);
                (void)vdec_varint(&d);
                {
                        char *req = NULL;

                        assert_true(vdec_str(&d, &req));
                        free(req);
                }
                at = d.pos;
                assert_int_equal(body[at], VIGIL_DEC_REJECTED);
                body[at] = VIGIL_DEC_ALLOW;
                replace_record(f, seqs[2], body, len);
                assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
                got_free(&g);
                assert_string_equal(vigil_store_errmsg(f->st), expect);
                /* an unknown decision */
                body[at] = 0xee;
                replace_record(f, seqs[2], body, len);
                assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
                got_free(&g);
        }
        free(body);

        /* a record of nothing but its type */
        {
                uint8_t t = VIGIL_REC_APPROVAL;

                replace_record(f, seqs[2], &t, 1);
                assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
                got_free(&g);
                snprintf(expect, sizeof expect, "session %s: record %llu: too short (run 'vigil verify')", idt,
                         (unsigned long long)seqs[2]);
                assert_string_equal(vigil_store_errmsg(f->st), expect);
        }

        /* garbage after the type */
        {
                uint8_t junk[64];

                memset(junk, 0xff, sizeof junk);
                junk[0] = VIGIL_REC_APPROVAL;
                replace_record(f, seqs[2], junk, sizeof junk);
                assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
                got_free(&g);
        }

        /* put the third back into a decodable state (an approval record of
         * another held command), then take a piece of the big one away */
        body = record_body(f, seqs[0], &len);
        replace_record(f, seqs[2], body, len);
        free(body);
        rec_key(k, f->id, seqs[5]);
        k[REC_KEY_LEN] = 2;
        kv = (MDB_val){ sizeof k, k };
        assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
        assert_int_equal(mdb_get(txn, f->st->records, &kv, &(MDB_val){ 0 }), 0); /* it has a piece 2 ... */
        k[REC_KEY_LEN] = 1;
        assert_int_equal(mdb_del(txn, f->st->records, &kv, NULL), 0);          /* ... and loses piece 1 */
        assert_int_equal(mdb_txn_commit(txn), 0);
        assert_int_equal(vigil_store_session_approvals(f->st, f->id, collect, &g), VIGIL_E_CORRUPT);
        assert_int_equal(g.n, 5);
        got_free(&g);
        snprintf(expect, sizeof expect, "session %s: record %llu: piece 1 missing (run 'vigil verify')", idt,
                 (unsigned long long)seqs[5]);
        assert_string_equal(vigil_store_errmsg(f->st), expect);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_outcome_in_pieces, setup, teardown),
                cmocka_unit_test_setup_teardown(test_output_not_decoded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt_approval, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
