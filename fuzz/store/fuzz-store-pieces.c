/* Fuzz values in pieces (store/pieces.c) without LMDB: the sizes a writer
 * cuts a value into, and joining pieces back from a table's items in key
 * order, continuation keys made up from the input included.
 *
 * Input: [u8 page] [u8 key kind] [u16 tail free (past a page: not known)]
 * [u24 value length] [u8 unused] then
 * items, each [u8 key byte] [u8 suffix] [u8 value length] and its bytes:
 * keys of a table are the key length's bytes of one pattern with the last
 * one from the input, a continuation key one byte longer (the suffix). A
 * value of the given length (made of the input) is cut into pieces, which
 * are put among the items, and must join back to itself. Each value is also
 * stepped over without joining (pieces_join() without a buffer), which must
 * end at the same item with the same verdict. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 512
#define KEY_MAX (REC_KEY_LEN + 1)

typedef struct item {
        uint8_t k[KEY_MAX];
        size_t klen;
        const uint8_t *v;
        size_t vlen;
} item;

typedef struct iter {
        const item *items;
        size_t n, pos;
} iter;

static int iter_next(void *userdata, MDB_val *k, MDB_val *v)
{
        iter *it = userdata;

        if (it->pos >= it->n)
                return MDB_NOTFOUND;
        *k = (MDB_val){ it->items[it->pos].klen, (void *)it->items[it->pos].k };
        *v = (MDB_val){ it->items[it->pos].vlen, (void *)it->items[it->pos].v };
        it->pos++;
        return 0;
}

/* LMDB's default order: bytes, then length. */
static int item_cmp(const void *a, const void *b)
{
        const item *x = a, *y = b;
        size_t n = x->klen < y->klen ? x->klen : y->klen;
        int c = memcmp(x->k, y->k, n);

        return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static void make_key(item *it, size_t klen, uint8_t last, int suffix)
{
        if (klen < 1 || klen + 1 > KEY_MAX)
                abort();
        for (size_t i = 0; i < klen; i++)
                it->k[i] = (uint8_t)(0x30 + i);
        it->k[klen - 1] = last;
        it->klen = klen;
        if (suffix >= 0)
                it->k[it->klen++] = (uint8_t)suffix;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t pages[] = { 4096, 8192, 16384, 65536 };
        static const size_t klens[] = { ID_LEN, ID_LEN + 4, REC_KEY_LEN };
        static item items[MAX_ITEMS];
        piece_geometry g;
        size_t klen, tail_free, total, n = 0, off = 0, pos;
        uint8_t *value;
        vbuf buf = { 0 };
        unsigned np = 0;
        iter it;

        if (size < 8)
                return 0;
        piece_geometry_init(&g, pages[data[0] % 4]);
        klen = klens[data[1] % 3];
        tail_free = ((size_t)data[2] << 8 | data[3]) % (g.room + 2) & ~(size_t)1;
        if (tail_free > g.room)
                tail_free = TAIL_UNKNOWN;
        total = ((size_t)data[4] << 16 | (size_t)data[5] << 8 | data[6]) % (1u << 18);
        data += 8;
        size -= 8;

        /* the value, cut as store_put() would (with LMDB's page model) */
        value = malloc(total ? total : 1);
        if (!value)
                return 0;
        for (size_t i = 0; i < total; i++)
                value[i] = size ? data[i % size] ^ (uint8_t)(i >> 8) : (uint8_t)i;
        do {
                size_t kl = np ? klen + 1 : klen;
                size_t len = piece_next_size(&g, total - off, kl, tail_free, np);
                size_t node = piece_node_size(&g, kl, len);

                if (len > total - off || (len == 0 && total > 0) || np >= PIECES_MAX)
                        abort();
                if (len > piece_leaf_max(&g, kl) && (len + 16) % g.page_size != 0 && len != total - off)
                        abort();
                tail_free = tail_free != TAIL_UNKNOWN && node <= tail_free ? tail_free - node : g.room - node;
                if (n < MAX_ITEMS / 2) {
                        make_key(&items[n], klen, 0x80, np ? (int)np : -1);
                        items[n].v = value + off;
                        items[n].vlen = len;
                        n++;
                }
                off += len;
                np++;
        } while (off < total);
        if (np > MAX_ITEMS / 2) {
                free(value);
                return 0;
        }

        /* other values and stray pieces around it */
        for (pos = 0; pos + 3 <= size && n < MAX_ITEMS; n++) {
                uint8_t last = data[pos], sfx = data[pos + 1];
                size_t vl = data[pos + 2];

                pos += 3;
                if (vl > size - pos)
                        vl = size - pos;
                if (last == 0x80)
                        last = 0x81; /* the value's own pieces are not made up */
                make_key(&items[n], klen, last, sfx & 1 ? (int)(sfx >> 1) : -1);
                items[n].v = data + pos;
                items[n].vlen = vl;
                pos += vl;
        }
        qsort(items, n, sizeof *items, item_cmp);
        for (size_t i = 1; i < n; i++)
                if (item_cmp(&items[i - 1], &items[i]) == 0) {
                        free(value);
                        return 0; /* a table has each key once */
                }

        /* read the table as the store cursor does: every value joined */
        it = (iter){ items, n, 0 };
        while (it.pos < it.n) {
                const item *base = &items[it.pos++];
                piece_item ahead, ahead2;
                MDB_val first = { base->vlen, (void *)base->v }, joined, stepped;
                char why[PIECE_WHY_MAX];
                size_t start = it.pos, end;
                int r, r2;

                if (base->klen != klen)
                        continue; /* a stray piece: the cursor reports it */
                /* stepping over a value (a cursor's want() said no) ends
                 * where joining it does, with the same verdict */
                r2 = pieces_join(base->k, klen, &first, iter_next, &it, NULL, &stepped, &ahead2, why);
                end = it.pos;
                it.pos = start;
                r = pieces_join(base->k, klen, &first, iter_next, &it, &buf, &joined, &ahead, why);
                if (r != r2 || it.pos != end || ahead.rc != ahead2.rc || stepped.mv_data != first.mv_data ||
                    stepped.mv_size != first.mv_size)
                        abort();
                if (base->k[klen - 1] == 0x80) {
                        /* the value cut above comes back whole */
                        if (r != 0 || joined.mv_size != total || (total && memcmp(joined.mv_data, value, total) != 0))
                                abort();
                } else if (r != 0 && r != VIGIL_E_CORRUPT)
                        abort();
                if (r == 0 && joined.mv_size > first.mv_size && joined.mv_data != buf.p)
                        abort();
                /* on from the first item that is not a piece of it */
                if (ahead.rc == 0)
                        it.pos--;
                if (r != 0) {
                        /* skip the rest of this value's pieces */
                        while (it.pos < it.n && items[it.pos].klen == klen + 1 &&
                               memcmp(items[it.pos].k, base->k, klen) == 0)
                                it.pos++;
                }
        }
        vbuf_free(&buf);
        free(value);
        return 0;
}
