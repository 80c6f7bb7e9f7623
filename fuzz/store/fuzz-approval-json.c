/* Fuzz the approval request decoder (the store's documents) with a round
 * trip: whatever decodes must encode, decode again and encode to the same
 * bytes (the decoder accepts only what the encoder could have written). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "approval-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigil_approval *a = NULL, *b = NULL;
        char *t1 = NULL, *t2 = NULL, *t3 = NULL;
        int r;

        if (vigil_approval_from_json(data, size, &a) != 0)
                return 0;
        r = vigil_approval_to_json(a, true, &t1);
        if (r == -ENOMEM)
                goto out;
        if (r != 0 || vigil_approval_from_json(t1, strlen(t1), &b) != 0)
                abort();
        if (vigil_approval_to_json(b, true, &t2) != 0 || strcmp(t1, t2) != 0)
                abort();
        /* the hook's document: no owner member (the key: a user may be
         * named "owner"), and still a valid document */
        vigil_approval_free(b);
        b = NULL;
        if (vigil_approval_to_json(a, false, &t3) != 0 || strstr(t3, "\"owner\":") ||
            vigil_approval_from_json(t3, strlen(t3), &b) != 0)
                abort();
out:
        free(t1);
        free(t2);
        free(t3);
        vigil_approval_free(a);
        vigil_approval_free(b);
        return 0;
}
