/* Fuzz target: vigild's reading of vigil.conf's `auditors` and `responders`
 * (vigild/access.c): the line reader and the principal lists. Pure: no NSS.
 * A diagnostic must be one line of printable text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigild_access *a = NULL;
        char err[512] = "";

        if (size > ACCESS_MAX_CONF)
                return 0;
        if (access_parse_conf((const char *)data, size, "fuzz", &a, err, sizeof err) < 0) {
                if (!err[0] || !vtext_valid((const uint8_t *)err, strlen(err)))
                        abort();
                return 0;
        }
        for (size_t i = 0; i < a->auditors.n + a->responders.n; i++) {
                const principal *p =
                        i < a->auditors.n ? &a->auditors.items[i] : &a->responders.items[i - a->auditors.n];

                if (!p->name || !p->name[0])
                        abort();
        }
        access_free(a);
        return 0;
}
