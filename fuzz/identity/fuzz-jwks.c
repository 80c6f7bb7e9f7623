/* libFuzzer target: JWK Set parsing, key by key into OpenSSL keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigil_jwks *s = NULL;
        char *reason = NULL;

        if (vigil_jwks_parse((const char *)data, size, &s, &reason) == 0) {
                /* Touch what a verification would read. */
                for (size_t i = 0; i < s->n; i++)
                        if (vigil_jwks_find(s, s->keys[i].kid) == NULL)
                                abort();
        }
        vigil_jwks_free(s);
        free(reason);
        return 0;
}
