/* Fuzz the search index: a stored unit signature probed with trigram hashes
 * taken from the input, the regex literal extractor, and the line splitter
 * that both the index and the search use. Input: [u8 split] then bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "literals.h"
#include "store-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_line(void *userdata, const uint8_t *line, size_t len)
{
        size_t *n = userdata;

        if (len == 0 || len > LINE_MAX_LEN)
                abort();
        *n += line[len - 1] & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint32_t hashes[64];
        size_t split, nh = 0, lines = 0, nlit = 0;
        line_norm ln = { 0 };
        vbuf lits = { 0 };
        char *re;

        if (size < 1)
                return 0;
        split = data[0] % (size);
        data++;
        size--;
        if (split > size)
                split = size;
        /* the first part: a stored signature; the second: trigrams to probe */
        for (size_t i = split; i + 2 < size && nh < 64; i += 3)
                hashes[nh++] = trigram_hash(data[i], data[i + 1], data[i + 2], data[i] & 1);
        (void)bloom_stored_may_contain(data, split, hashes, nh);

        line_norm_feed(&ln, data, size, count_line, &lines);
        line_norm_break(&ln, count_line, &lines);
        line_norm_done(&ln);

        re = malloc(size + 1);
        if (!re)
                return 0;
        memcpy(re, data, size);
        re[size] = 0;
        if (regex_literals(re, &lits, &nlit) == 0) {
                vdec d = vdec_init(lits.p, lits.len);

                for (size_t i = 0; i < nlit; i++) {
                        uint64_t len = vdec_varint(&d);

                        if (len < 3 || !vdec_bytes(&d, len))
                                abort();
                }
        }
        vbuf_free(&lits);
        free(re);
        return 0;
}
