/* Fuzz the command event decoder (events table) with a round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigil_event e = { 0 };

        if (event_decode(data, size, &e) == 0) {
                vbuf b = { 0 }, c = { 0 };
                vigil_event f = { 0 };

                event_encode(&b, &e);
                if (!b.oom) {
                        if (event_decode(b.p, b.len, &f) != 0)
                                abort();
                        event_encode(&c, &f);
                        if (!c.oom && (c.len != b.len || memcmp(c.p, b.p, b.len) != 0))
                                abort();
                }
                vbuf_free(&b);
                vbuf_free(&c);
                vigil_event_clear(&e);
                vigil_event_clear(&f);
        }
        return 0;
}
