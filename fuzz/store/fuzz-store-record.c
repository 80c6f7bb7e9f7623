/* Fuzz the record decoder over a sequence of records (so the output stream's
 * compression context runs from chunk to chunk as in a real session).
 * Input: [u16 length, big endian][record bytes as stored after the hash] ... */
#include <stdint.h>
#include <stdlib.h>

#include "store-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        record_decoder dec;
        vbuf canon = { 0 };
        uint64_t seq = 0;

        record_decoder_init(&dec);
        while (size >= 2) {
                size_t n = (size_t)data[0] << 8 | data[1];
                const char *why = NULL;

                data += 2;
                size -= 2;
                if (n > size)
                        n = size;
                vbuf_reset(&canon);
                if (record_decode(&dec, seq++, data, n, &canon, &why) >= 0 && dec.rec.type == VIGIL_REC_OUTPUT) {
                        /* touch every frame's bytes: a wrong pointer shows under ASan */
                        volatile uint8_t sink = 0;

                        for (size_t i = 0; i < dec.rec.chunk.n_frames; i++)
                                if (dec.rec.chunk.frames[i].data && dec.rec.chunk.frames[i].len)
                                        sink ^= dec.rec.chunk.frames[i].data[dec.rec.chunk.frames[i].len - 1];
                        (void)sink;
                }
                data += n;
                size -= n;
        }
        record_decoder_done(&dec);
        vbuf_free(&canon);
        return 0;
}
