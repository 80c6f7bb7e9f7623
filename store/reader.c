/* Reading a session's records in order, decoding chunks and following the
 * hash chain. A reader either follows the store (a fresh read transaction per
 * record, so it sees new commits: replay, watch) or reads one snapshot given
 * by the caller (verify). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

int record_reader_open(vigil_store *st, const uint8_t id[ID_LEN], MDB_txn *snapshot, bool check_chain,
                       vigil_record_reader **ret)
{
        vigil_record_reader *r = calloc(1, sizeof *r);

        if (!r)
                return -ENOMEM;
        r->st = st;
        memcpy(r->id, id, ID_LEN);
        r->snapshot = snapshot;
        r->check_chain = check_chain;
        record_decoder_init(&r->dec);
        *ret = r;
        return 0;
}

int vigil_record_reader_new(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_record_reader **ret)
{
        return record_reader_open(st, id, NULL, true, ret);
}

void record_reader_seek(vigil_record_reader *r, uint64_t seq)
{
        r->next_seq = seq;
        r->check_chain = false;
        r->failed = 0;
        record_decoder_reset_stream(&r->dec);
}

const char *vigil_record_reader_problem(const vigil_record_reader *r)
{
        return r->problem;
}

vigil_record_reader *vigil_record_reader_free(vigil_record_reader *r)
{
        if (!r)
                return NULL;
        if (r->txn)
                mdb_txn_abort(r->txn);
        record_decoder_done(&r->dec);
        vbuf_free(&r->canon);
        vbuf_free(&r->joined);
        free(r);
        return NULL;
}

/* @type < 0: not known (the record's pieces do not join). */
static int corrupt(vigil_record_reader *r, uint64_t seq, int type, const char *why)
{
        if (type < 0)
                snprintf(r->problem, sizeof r->problem, "record %llu: %s", (unsigned long long)seq, why);
        else
                snprintf(r->problem, sizeof r->problem, "record %llu (%s): %s", (unsigned long long)seq,
                         vigil_record_type_name(type), why);
        r->failed = VIGIL_E_CORRUPT;
        return VIGIL_E_CORRUPT;
}

int vigil_record_reader_next(vigil_record_reader *r, const vigil_record **ret)
{
        uint8_t key[REC_KEY_LEN];
        MDB_val v;
        MDB_txn *txn = r->snapshot;
        const char *why = NULL;
        int rc, res;

        if (r->failed)
                return r->failed;
        if (!txn) {
                if (r->txn) {
                        rc = mdb_txn_renew(r->txn);
                        if (rc)
                                return store_mdb_error(r->st, rc, "mdb_txn_renew");
                } else {
                        res = store_txn_begin(r->st, false, &r->txn);
                        if (res < 0)
                                return res;
                }
                txn = r->txn;
        }
        rec_key(key, r->id, r->next_seq);
        res = store_get(r->st, txn, r->st->records, key, sizeof key, &r->joined, &v, "read record");
        if (res == -ENOENT) {
                res = 0;
                goto out;
        }
        if (res == VIGIL_E_CORRUPT) {
                res = corrupt(r, r->next_seq, -1, vigil_store_errmsg(r->st));
                goto out;
        }
        if (res < 0)
                goto out;
        if (v.mv_size < HASH_LEN + 2) {
                res = corrupt(r, r->next_seq, 0, "too short");
                goto out;
        }
        vbuf_reset(&r->canon);
        res = record_decode(&r->dec, r->next_seq, (const uint8_t *)v.mv_data + HASH_LEN, v.mv_size - HASH_LEN,
                            r->check_chain ? &r->canon : NULL, &why);
        if (res == VIGIL_E_CORRUPT) {
                res = corrupt(r, r->next_seq, ((const uint8_t *)v.mv_data)[HASH_LEN], why);
                goto out;
        }
        if (res < 0)
                goto out;
        if (r->check_chain) {
                uint8_t h[HASH_LEN];
                chain_hasher *hh = chain_hasher_new(r->head, r->id, r->next_seq);

                if (!hh) {
                        res = -ENOMEM;
                        goto out;
                }
                chain_hasher_add(hh, r->canon.p, r->canon.len);
                res = chain_hasher_finish(hh, h);
                if (res < 0)
                        goto out;
                if (memcmp(h, v.mv_data, HASH_LEN) != 0) {
                        res = corrupt(r, r->next_seq, r->dec.rec.type, "hash does not follow the chain");
                        goto out;
                }
                memcpy(r->prev_head, r->head, HASH_LEN);
                memcpy(r->head, h, HASH_LEN);
        }
        r->next_seq++;
        *ret = &r->dec.rec;
        res = 1;
out:
        if (!r->snapshot && r->txn)
                mdb_txn_reset(r->txn);
        return res;
}
