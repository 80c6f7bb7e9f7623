/* Session ids: UUIDv7 (48-bit millisecond start time, version and variant
 * bits, 74 random bits), so the sessions table is in start-time order. */
#include <ctype.h>
#include <stdio.h>
#include <sys/random.h>

#include "store-internal.h"

int store_session_id_new(uint64_t start_us, uint8_t ret[ID_LEN])
{
        uint64_t ms = start_us / 1000;
        uint8_t rnd[10];
        size_t got = 0;

        while (got < sizeof rnd) {
                ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        for (int i = 5; i >= 0; i--, ms >>= 8)
                ret[i] = (uint8_t)ms;
        ret[6] = 0x70 | (rnd[0] & 0x0f);
        ret[7] = rnd[1];
        ret[8] = 0x80 | (rnd[2] & 0x3f);
        memcpy(ret + 9, rnd + 3, 7);
        return 0;
}

uint64_t session_id_ms(const uint8_t id[ID_LEN])
{
        uint64_t ms = 0;

        for (int i = 0; i < 6; i++)
                ms = ms << 8 | id[i];
        return ms;
}

void vigil_session_id_format(const uint8_t id[VIGIL_SESSION_ID_LEN], char buf[VIGIL_SESSION_ID_STRLEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (int i = 0; i < ID_LEN; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        buf[o++] = '-';
                buf[o++] = hex[id[i] >> 4];
                buf[o++] = hex[id[i] & 15];
        }
        buf[o] = 0;
}

int vigil_session_id_parse(const char *text, uint8_t ret[VIGIL_SESSION_ID_LEN])
{
        uint8_t id[ID_LEN];
        size_t o = 0;

        if (!text || strlen(text) != VIGIL_SESSION_ID_STRLEN)
                return -EINVAL;
        for (size_t i = 0; i < VIGIL_SESSION_ID_STRLEN; i++) {
                unsigned char c = (unsigned char)text[i];
                int x;

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return -EINVAL;
                        continue;
                }
                if (!isxdigit(c))
                        return -EINVAL;
                x = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
                if (o % 2 == 0)
                        id[o / 2] = (uint8_t)(x << 4);
                else
                        id[o / 2] |= (uint8_t)x;
                o++;
        }
        memcpy(ret, id, ID_LEN);
        return 0;
}

int vigil_store_find_session(vigil_store *st, const char *prefix, uint8_t ret_id[VIGIL_SESSION_ID_LEN])
{
        uint8_t lo[ID_LEN] = { 0 };
        unsigned nib = 0;
        MDB_txn *txn = NULL;
        store_cursor c = { 0 };
        MDB_val k = { ID_LEN, lo }, v;
        uint8_t found[ID_LEN] = { 0 };
        int n = 0, r = 0;

        for (const char *p = prefix; *p; p++) {
                int x;

                if (*p == '-')
                        continue;
                if (!isxdigit((unsigned char)*p) || nib >= 2 * ID_LEN)
                        return -EINVAL;
                x = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
                lo[nib / 2] |= (uint8_t)(nib % 2 ? x : x << 4);
                nib++;
        }
        if (nib == 0)
                return -EINVAL;
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        r = store_cursor_open(st, txn, st->sessions, &c);
        if (r < 0)
                goto out;
        /* Only the ids matter here: a summary with a piece missing (the
         * store cursor says so, with its key) is verify's to report. */
        for (r = store_cursor_get(&c, &k, &v, MDB_SET_RANGE); r == 0 || r == VIGIL_E_CORRUPT;
             r = store_cursor_get(&c, &k, &v, MDB_NEXT)) {
                const uint8_t *id = k.mv_data;
                bool match = k.mv_size >= ID_LEN;

                for (unsigned i = 0; match && i < nib; i++) {
                        unsigned a = i % 2 ? id[i / 2] & 15 : id[i / 2] >> 4;
                        unsigned b = i % 2 ? lo[i / 2] & 15 : lo[i / 2] >> 4;

                        match = a == b;
                }
                if (!match)
                        break;
                if (n++ == 0)
                        memcpy(found, id, ID_LEN);
                if (n > 1 || r < 0)
                        break;
        }
        if (r < 0 && r != -ENOENT && r != VIGIL_E_CORRUPT)
                goto out;
        r = 0;
        if (n == 0)
                r = -ENOENT;
        else if (n > 1)
                r = -ENOTUNIQ;
        else
                memcpy(ret_id, found, ID_LEN);
out:
        store_cursor_close(&c);
        mdb_txn_abort(txn);
        return r;
}
