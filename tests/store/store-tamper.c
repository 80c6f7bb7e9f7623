/* store-tamper: change a store behind vigil's back, the way an attacker with
 * the files would, for the tamper-evidence tests.
 *
 * Usage: store-tamper DIR OP ARGS...
 *   flip ID SEQ OFFSET          flip one bit of record SEQ's value at OFFSET (negative: from the end)
 *   truncate ID SEQ N           cut N bytes off the end of record SEQ's value (one not in pieces)
 *   find ID TYPE                print the sequence numbers of the records of type TYPE
 *                               (the byte after the chain hash: 10 = approval)
 *   delete ID SEQ               delete record SEQ
 *   swap ID SEQ1 SEQ2           exchange the values of two records
 *   append ID                   copy the last record to a new last place
 *   swap-sessions ID1 ID2 SEQ   exchange record SEQ of two sessions
 *   format N                    set the store's format version
 *   drop TABLE                  delete a table (with `format 1` after dropping the
 *                               format 2 tables: the store a format 1 vigil made)
 *   summary-user ID USER        rewrite the user in a session's summary
 * Values in pieces (format 3: a value's first piece under its own key, piece
 * N >= 1 under the key and the byte N; piece 0 below is the first):
 *   pieced ID MIN               print the first record with at least MIN pieces after the first
 *   piece-delete ID SEQ N       delete piece N of record SEQ
 *   piece-swap ID SEQ N1 N2     exchange the values of two pieces of record SEQ
 *   piece-flip ID SEQ N OFFSET  flip one bit of a piece (negative OFFSET: from its end)
 *   piece-append ID SEQ         add a copy of record SEQ's last piece as one more
 *   unit-piece-delete ID UNIT N delete piece N of a search index unit
 *   join-pieces                 store every value in pieces as one value (what a
 *                               format 2 vigil wrote; with `format 2`, its store)
 * IDs are full 36-character ids. Exit 0 when done, 1 otherwise. */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MDB_env *env;
static MDB_txn *txn;
static MDB_dbi records;

static int die(const char *what, int rc)
{
        fprintf(stderr, "store-tamper: %s: %s\n", what, mdb_strerror(rc));
        if (txn)
                mdb_txn_abort(txn);
        return 1;
}

static int parse_id(const char *s, unsigned char id[16])
{
        int n = 0;

        for (; *s && n < 32; s++) {
                int x;

                if (*s == '-')
                        continue;
                if (*s >= '0' && *s <= '9')
                        x = *s - '0';
                else if (*s >= 'a' && *s <= 'f')
                        x = *s - 'a' + 10;
                else
                        return -1;
                if (n % 2 == 0)
                        id[n / 2] = (unsigned char)(x << 4);
                else
                        id[n / 2] |= (unsigned char)x;
                n++;
        }
        return n == 32 ? 0 : -1;
}

static void key(unsigned char k[24], const unsigned char id[16], unsigned long long seq)
{
        memcpy(k, id, 16);
        for (int i = 7; i >= 0; i--, seq >>= 8)
                k[16 + i] = (unsigned char)seq;
}

static int get(const unsigned char id[16], unsigned long long seq, MDB_val *v)
{
        unsigned char k[24];
        MDB_val kv = { 24, k };

        key(k, id, seq);
        return mdb_get(txn, records, &kv, v);
}

static int put(const unsigned char id[16], unsigned long long seq, const void *p, size_t n)
{
        unsigned char k[24];
        MDB_val kv = { 24, k }, v = { n, (void *)p };

        key(k, id, seq);
        return mdb_put(txn, records, &kv, &v, 0);
}

static void *copy(MDB_val v);

/* The key of piece @n (0: the first, under the record's own key). */
static size_t piece_key(unsigned char k[25], const unsigned char id[16], unsigned long long seq, unsigned n)
{
        key(k, id, seq);
        k[24] = (unsigned char)n;
        return n ? 25 : 24;
}

static int piece_get(const unsigned char id[16], unsigned long long seq, unsigned n, MDB_val *v)
{
        unsigned char k[25];
        MDB_val kv = { piece_key(k, id, seq, n), k };

        return mdb_get(txn, records, &kv, v);
}

static int piece_put(const unsigned char id[16], unsigned long long seq, unsigned n, const void *p, size_t len)
{
        unsigned char k[25];
        MDB_val kv = { piece_key(k, id, seq, n), k }, v = { len, (void *)p };

        return mdb_put(txn, records, &kv, &v, 0);
}

/* The number of pieces of record @seq after the first. */
static unsigned pieces_after(const unsigned char id[16], unsigned long long seq)
{
        MDB_val v;
        unsigned n = 0;

        while (n < 255 && piece_get(id, seq, n + 1, &v) == 0)
                n++;
        return n;
}

/* Rewrite every value of table @name (keys of @klen bytes) that has pieces
 * as one value: first read them all, then write. */
struct joined {
        unsigned char key[32];
        unsigned char *p;
        size_t len;
        unsigned pieces;
};

static int join_table(const char *name, size_t klen)
{
        struct joined *j = NULL;
        size_t nj = 0;
        MDB_dbi dbi;
        MDB_cursor *c;
        MDB_val k, v;
        int rc;

        if (klen > sizeof j->key - 1)
                return EINVAL;
        if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) || (rc = mdb_cursor_open(txn, dbi, &c)))
                return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                struct joined *cur;

                if (k.mv_size == klen) {
                        cur = realloc(j, (nj + 1) * sizeof *j);
                        if (!cur)
                                return ENOMEM;
                        j = cur;
                        cur = &j[nj++];
                        memcpy(cur->key, k.mv_data, klen);
                        cur->p = copy(v);
                        cur->len = v.mv_size;
                        cur->pieces = 0;
                } else if (k.mv_size == klen + 1 && nj && memcmp(k.mv_data, j[nj - 1].key, klen) == 0) {
                        cur = &j[nj - 1];
                        cur->p = realloc(cur->p, cur->len + v.mv_size);
                        if (!cur->p)
                                return ENOMEM;
                        memcpy(cur->p + cur->len, v.mv_data, v.mv_size);
                        cur->len += v.mv_size;
                        cur->pieces++;
                }
        }
        mdb_cursor_close(c);
        if (rc != MDB_NOTFOUND)
                return rc;
        rc = 0;
        for (size_t i = 0; i < nj; i++) {
                MDB_val bk = { klen, j[i].key }, bv = { j[i].len, j[i].p };

                for (unsigned n = 1; !rc && n <= j[i].pieces; n++) {
                        MDB_val ck = { klen + 1, j[i].key };

                        j[i].key[klen] = (unsigned char)n;
                        rc = mdb_del(txn, dbi, &ck, NULL);
                }
                if (!rc && j[i].pieces)
                        rc = mdb_put(txn, dbi, &bk, &bv, 0);
                free(j[i].p);
        }
        free(j);
        return rc;
}

static void *copy(MDB_val v)
{
        void *p = malloc(v.mv_size ? v.mv_size : 1);

        if (p)
                memcpy(p, v.mv_data, v.mv_size);
        return p;
}

int main(int argc, char **argv)
{
        unsigned char id[16], id2[16];
        const char *op;
        MDB_val v, v2;
        int rc;

        if (argc < 3) {
                fprintf(stderr, "usage: store-tamper DIR OP ARGS...\n");
                return 2;
        }
        op = argv[2];
        if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 16)) ||
            (rc = mdb_env_set_mapsize(env, 1ull << 40)) || (rc = mdb_env_open(env, argv[1], 0, 0600)))
                return die("open", rc);
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, "records", 0, &records)))
                return die("begin", rc);
        if (strcmp(op, "flip") == 0 && argc == 6) {
                unsigned char *p;
                long off = strtol(argv[5], NULL, 10);

                if (parse_id(argv[3], id) || (rc = get(id, strtoull(argv[4], NULL, 10), &v)))
                        return die("get", rc ? rc : MDB_NOTFOUND);
                p = copy(v);
                if (off < 0)
                        off += (long)v.mv_size;
                if (off < 0 || (size_t)off >= v.mv_size)
                        return die("offset", EINVAL);
                p[off] ^= 0x01;
                rc = put(id, strtoull(argv[4], NULL, 10), p, v.mv_size);
                free(p);
        } else if (strcmp(op, "truncate") == 0 && argc == 6) {
                unsigned long long q = strtoull(argv[4], NULL, 10);
                size_t cut = strtoul(argv[5], NULL, 10);
                void *p;

                if (parse_id(argv[3], id) || (rc = get(id, q, &v)))
                        return die("get", rc ? rc : EINVAL);
                if (cut >= v.mv_size || pieces_after(id, q))
                        return die("truncate", EINVAL);
                p = copy(v);
                rc = put(id, q, p, v.mv_size - cut);
                free(p);
        } else if (strcmp(op, "find") == 0 && argc == 5) {
                unsigned long type = strtoul(argv[4], NULL, 10);

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                for (unsigned long long q = 0; get(id, q, &v) == 0; q++)
                        if (v.mv_size > 32 && ((const unsigned char *)v.mv_data)[32] == type)
                                printf("%llu\n", q);
                mdb_txn_abort(txn);
                return 0;
        } else if (strcmp(op, "delete") == 0 && argc == 5) {
                unsigned char k[24];
                MDB_val kv = { 24, k };

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                key(k, id, strtoull(argv[4], NULL, 10));
                rc = mdb_del(txn, records, &kv, NULL);
        } else if (strcmp(op, "swap") == 0 && argc == 6) {
                unsigned long long a = strtoull(argv[4], NULL, 10), b = strtoull(argv[5], NULL, 10);
                void *pa, *pb;
                size_t na, nb;

                if (parse_id(argv[3], id) || (rc = get(id, a, &v)))
                        return die("get", rc ? rc : EINVAL);
                pa = copy(v);
                na = v.mv_size;
                if ((rc = get(id, b, &v2)))
                        return die("get", rc);
                pb = copy(v2);
                nb = v2.mv_size;
                rc = put(id, a, pb, nb);
                if (!rc)
                        rc = put(id, b, pa, na);
                free(pa);
                free(pb);
        } else if (strcmp(op, "append") == 0 && argc == 4) {
                unsigned long long n = 0;
                void *p;

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                while (get(id, n, &v) == 0)
                        n++;
                if (n == 0 || (rc = get(id, n - 1, &v)))
                        return die("get", rc ? rc : MDB_NOTFOUND);
                p = copy(v);
                rc = put(id, n, p, v.mv_size);
                free(p);
        } else if (strcmp(op, "swap-sessions") == 0 && argc == 6) {
                unsigned long long s = strtoull(argv[5], NULL, 10);
                void *pa, *pb;
                size_t na, nb;

                if (parse_id(argv[3], id) || parse_id(argv[4], id2) || (rc = get(id, s, &v)))
                        return die("get", rc ? rc : EINVAL);
                pa = copy(v);
                na = v.mv_size;
                if ((rc = get(id2, s, &v2)))
                        return die("get", rc);
                pb = copy(v2);
                nb = v2.mv_size;
                rc = put(id, s, pb, nb);
                if (!rc)
                        rc = put(id2, s, pa, na);
                free(pa);
                free(pb);
        } else if (strcmp(op, "pieced") == 0 && argc == 5) {
                unsigned min = (unsigned)strtoul(argv[4], NULL, 10);

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                for (unsigned long long q = 0; get(id, q, &v) == 0; q++)
                        if (pieces_after(id, q) >= min) {
                                printf("%llu\n", q);
                                mdb_txn_abort(txn);
                                return 0;
                        }
                return die("pieced", MDB_NOTFOUND);
        } else if (strcmp(op, "piece-delete") == 0 && argc == 6) {
                unsigned char k[25];
                MDB_val kv;

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                kv = (MDB_val){ piece_key(k, id, strtoull(argv[4], NULL, 10), (unsigned)strtoul(argv[5], NULL, 10)), k };
                rc = mdb_del(txn, records, &kv, NULL);
        } else if (strcmp(op, "piece-swap") == 0 && argc == 7) {
                unsigned long long q = strtoull(argv[4], NULL, 10);
                unsigned a = (unsigned)strtoul(argv[5], NULL, 10), b = (unsigned)strtoul(argv[6], NULL, 10);
                void *pa, *pb;
                size_t na, nb;

                if (parse_id(argv[3], id) || (rc = piece_get(id, q, a, &v)))
                        return die("get", rc ? rc : EINVAL);
                pa = copy(v);
                na = v.mv_size;
                if ((rc = piece_get(id, q, b, &v2)))
                        return die("get", rc);
                pb = copy(v2);
                nb = v2.mv_size;
                rc = piece_put(id, q, a, pb, nb);
                if (!rc)
                        rc = piece_put(id, q, b, pa, na);
                free(pa);
                free(pb);
        } else if (strcmp(op, "piece-flip") == 0 && argc == 7) {
                unsigned long long q = strtoull(argv[4], NULL, 10);
                unsigned n = (unsigned)strtoul(argv[5], NULL, 10);
                long off = strtol(argv[6], NULL, 10);
                unsigned char *p;

                if (parse_id(argv[3], id) || (rc = piece_get(id, q, n, &v)))
                        return die("get", rc ? rc : EINVAL);
                if (off < 0)
                        off += (long)v.mv_size;
                if (off < 0 || (size_t)off >= v.mv_size)
                        return die("offset", EINVAL);
                p = copy(v);
                p[off] ^= 0x01;
                rc = piece_put(id, q, n, p, v.mv_size);
                free(p);
        } else if (strcmp(op, "piece-append") == 0 && argc == 5) {
                unsigned long long q = strtoull(argv[4], NULL, 10);
                unsigned n;
                void *p;

                if (parse_id(argv[3], id))
                        return die("id", EINVAL);
                n = pieces_after(id, q);
                if ((rc = piece_get(id, q, n, &v)))
                        return die("get", rc);
                p = copy(v);
                rc = piece_put(id, q, n + 1, p, v.mv_size);
                free(p);
        } else if (strcmp(op, "unit-piece-delete") == 0 && argc == 6) {
                MDB_dbi search;
                unsigned long u = strtoul(argv[4], NULL, 10);
                unsigned n = (unsigned)strtoul(argv[5], NULL, 10);
                unsigned char k[21];
                MDB_val kv = { n ? 21 : 20, k };

                if (parse_id(argv[3], id) || (rc = mdb_dbi_open(txn, "search", 0, &search)))
                        return die("search", rc ? rc : EINVAL);
                memcpy(k, id, 16);
                for (int i = 3; i >= 0; i--, u >>= 8)
                        k[16 + i] = (unsigned char)u;
                k[20] = (unsigned char)n;
                rc = mdb_del(txn, search, &kv, NULL);
        } else if (strcmp(op, "join-pieces") == 0 && argc == 3) {
                rc = join_table("records", 24);
                if (!rc)
                        rc = join_table("search", 20);
                if (!rc)
                        rc = join_table("events", 20);
                if (!rc)
                        rc = join_table("sessions", 16);
        } else if (strcmp(op, "format") == 0 && argc == 4) {
                MDB_dbi meta;
                unsigned long n = strtoul(argv[3], NULL, 10);
                unsigned char b[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                                       (unsigned char)n };
                MDB_val k = { 6, (void *)"format" }, val = { 4, b };

                if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)))
                        return die("meta", rc);
                rc = mdb_put(txn, meta, &k, &val, 0);
        } else if (strcmp(op, "drop") == 0 && argc == 4) {
                MDB_dbi dbi;

                if ((rc = mdb_dbi_open(txn, argv[3], 0, &dbi)))
                        return die(argv[3], rc);
                rc = mdb_drop(txn, dbi, 1);
        } else if (strcmp(op, "summary-user") == 0 && argc == 5) {
                MDB_dbi sessions;
                MDB_val k = { 16, id };
                unsigned char *p;
                size_t ul;

                if (parse_id(argv[3], id) || (rc = mdb_dbi_open(txn, "sessions", 0, &sessions)) ||
                    (rc = mdb_get(txn, sessions, &k, &v)))
                        return die("get summary", rc ? rc : EINVAL);
                /* version byte, then the user as varint(len + 1) and bytes: same length only */
                p = copy(v);
                ul = p[1] - 1u;
                if (strlen(argv[4]) != ul)
                        return die("new user must have the old one's length", EINVAL);
                memcpy(p + 2, argv[4], ul);
                v.mv_data = p;
                rc = mdb_put(txn, sessions, &k, &v, 0);
                free(p);
        } else {
                fprintf(stderr, "store-tamper: bad operation\n");
                mdb_txn_abort(txn);
                return 2;
        }
        if (rc)
                return die(op, rc);
        if ((rc = mdb_txn_commit(txn))) {
                txn = NULL;
                return die("commit", rc);
        }
        mdb_env_close(env);
        return 0;
}
