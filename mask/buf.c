/* The caller-owned output buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mask-internal.h"

void vigil_mask_buf_done(vigil_mask_buf *b)
{
        if (!b)
                return;
        free(b->data);
        *b = (vigil_mask_buf){0};
}

int mask_buf_reserve(vigil_mask_buf *b, size_t extra)
{
        size_t want, c;
        char *p;

        if (extra > SIZE_MAX / 2 - b->len)
                return -ENOMEM;
        want = b->len + extra;
        if (want <= b->cap)
                return 0;
        c = b->cap ?: 4096;
        while (c < want)
                c *= 2;
        p = realloc(b->data, c);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = c;
        return 0;
}

int mask_buf_append(vigil_mask_buf *b, const void *p, size_t n)
{
        int k;

        if (n == 0)
                return 0;
        k = mask_buf_reserve(b, n);
        if (k < 0)
                return k;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
}
