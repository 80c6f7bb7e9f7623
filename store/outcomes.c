/* A session's approval outcomes, straight from its chain: the records are
 * walked in order, but only approval records are read whole and decoded.
 * Every other record is judged by its type byte (right after the chain
 * hash, in the value's first piece) and stepped over, so a session's
 * output is neither decompressed nor copied, nor are its pages read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

/* Records looked at per read transaction, and bytes of approval records
 * held from one to the callbacks: a long session is read in several short
 * transactions, with bounded memory. */
#define SCAN_RECORDS 4096u
#define SCAN_BYTES (256u * 1024)

typedef struct scan {
        vigil_store *st;
        const uint8_t *id;
        uint64_t next; /* the next sequence number to look at */
        vbuf raw;      /* a batch's approval records: be64 seq, be32 length, the record */
        bool any;      /* a record of the session was seen */
        bool done;
} scan;

static bool want_approval(void *userdata, const MDB_val *first)
{
        (void)userdata;
        /* Too short to tell from the first piece: read it whole and let the
         * checks below judge it. */
        return first->mv_size <= HASH_LEN || ((const uint8_t *)first->mv_data)[HASH_LEN] == VIGIL_REC_APPROVAL;
}

static int damaged(scan *sc, uint64_t seq, const char *type, const char *why)
{
        char idt[VIGIL_SESSION_ID_STRLEN + 1];

        vigil_session_id_format(sc->id, idt);
        store_set_errmsg(sc->st, "session %s: record %llu%s%s%s: %s (run 'vigil verify')", idt,
                         (unsigned long long)seq, type ? " (" : "", type ? type : "", type ? ")" : "", why);
        return VIGIL_E_CORRUPT;
}

/* One read transaction: from record sc->next on, up to SCAN_RECORDS records
 * or SCAN_BYTES of approval records, copied into sc->raw. */
static int scan_batch(scan *sc)
{
        vigil_store *st = sc->st;
        MDB_txn *txn = NULL;
        store_cursor c = { 0 };
        uint8_t key[REC_KEY_LEN];
        MDB_val k, v;
        unsigned n = 0;
        int r, rc;

        vbuf_reset(&sc->raw);
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        r = store_cursor_open(st, txn, st->records, &c);
        if (r < 0)
                goto out;
        c.want = want_approval;
        rec_key(key, sc->id, sc->next);
        k = (MDB_val){ sizeof key, key };
        for (rc = store_cursor_get(&c, &k, &v, MDB_SET_RANGE); rc == 0 && n < SCAN_RECORDS && sc->raw.len < SCAN_BYTES;
             rc = store_cursor_get(&c, &k, &v, MDB_NEXT), n++) {
                const uint8_t *kp = k.mv_data, *p = v.mv_data;
                uint64_t seq;

                if (k.mv_size < ID_LEN || memcmp(kp, sc->id, ID_LEN) != 0) {
                        sc->done = true;
                        break;
                }
                if (k.mv_size != REC_KEY_LEN) {
                        r = damaged(sc, sc->next, NULL, "a malformed key in the records table");
                        goto out;
                }
                seq = be64_get(kp + ID_LEN);
                sc->any = true;
                sc->next = seq + 1;
                if (v.mv_size < HASH_LEN + 2) {
                        r = damaged(sc, seq, NULL, "too short");
                        goto out;
                }
                if (p[HASH_LEN] != VIGIL_REC_APPROVAL)
                        continue;
                if (v.mv_size - HASH_LEN > UINT32_MAX) {
                        r = damaged(sc, seq, "approval", "too long");
                        goto out;
                }
                vbuf_be64(&sc->raw, seq);
                vbuf_be32(&sc->raw, (uint32_t)(v.mv_size - HASH_LEN));
                vbuf_put(&sc->raw, p + HASH_LEN, v.mv_size - HASH_LEN);
                if (sc->raw.oom) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (rc == -ENOENT)
                sc->done = true;
        else if (rc == VIGIL_E_CORRUPT) {
                /* a stray piece of the next session's record ends this one's */
                if (k.mv_size < ID_LEN || memcmp(k.mv_data, sc->id, ID_LEN) != 0)
                        sc->done = true;
                else {
                        char why[PIECE_WHY_MAX + 8];

                        snprintf(why, sizeof why, "%s", vigil_store_errmsg(st));
                        r = damaged(sc, k.mv_size >= REC_KEY_LEN ? be64_get((const uint8_t *)k.mv_data + ID_LEN) : sc->next,
                                    NULL, why);
                        goto out;
                }
        } else if (rc < 0) {
                r = rc;
                goto out;
        }
        r = 0;
out:
        store_cursor_close(&c);
        mdb_txn_abort(txn);
        return r;
}

/* Decode a batch's approval records (outside the transaction) and hand
 * each outcome to @cb. Returns 0, cb's value when not 0, or an error. */
static int scan_deliver(scan *sc, record_decoder *dec, vigil_outcome_cb cb, void *userdata)
{
        vdec d = vdec_init(sc->raw.p, sc->raw.len);

        while (!vdec_done(&d)) {
                uint64_t seq = vdec_be64(&d);
                uint32_t len = vdec_be32(&d);
                const uint8_t *p = vdec_bytes(&d, len);
                const char *why = NULL;
                int r;

                if (!p)
                        return -EIO; /* our own buffer: cannot happen */
                r = record_decode(dec, seq, p, len, NULL, &why);
                if (r == VIGIL_E_CORRUPT)
                        return damaged(sc, seq, "approval", why);
                if (r < 0)
                        return r;
                if (dec->rec.type != VIGIL_REC_APPROVAL)
                        return damaged(sc, seq, "approval", "not an approval record");
                r = cb(userdata, dec->rec.approval);
                if (r != 0)
                        return r;
        }
        return 0;
}

int vigil_store_session_approvals(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], vigil_outcome_cb cb,
                                  void *userdata)
{
        scan sc = { .st = st, .id = id };
        record_decoder dec;
        int r = 0;

        if (!st || !id || !cb)
                return -EINVAL;
        record_decoder_init(&dec);
        while (r == 0 && !sc.done) {
                r = scan_batch(&sc);
                if (r == 0)
                        r = scan_deliver(&sc, &dec, cb, userdata);
        }
        if (r == 0 && !sc.any)
                r = -ENOENT;
        record_decoder_done(&dec);
        vbuf_free(&sc.raw);
        return r < 0 ? r : 0;
}
