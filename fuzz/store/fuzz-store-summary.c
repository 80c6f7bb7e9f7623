/* Fuzz the session summary decoder (sessions table), and re-encode what
 * decodes: it must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t id[ID_LEN];
        vigil_session_info i = { 0 };

        if (summary_decode(data, size, id, &i) == 0) {
                vbuf b = { 0 }, c = { 0 };
                vigil_session_info j = { 0 };

                /* encode(decode(x)) is a fixed point: decoding it again and
                 * encoding gives the same bytes (the input itself may use
                 * longer varints than needed). */
                summary_encode(&b, &i);
                if (!b.oom) {
                        if (summary_decode(b.p, b.len, id, &j) != 0)
                                abort();
                        summary_encode(&c, &j);
                        if (!c.oom && (c.len != b.len || memcmp(c.p, b.p, b.len) != 0))
                                abort();
                }
                vbuf_free(&b);
                vbuf_free(&c);
                vigil_session_info_clear(&i);
                vigil_session_info_clear(&j);
        }
        return 0;
}
