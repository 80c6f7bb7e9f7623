#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void vigil_diags_clear(vigil_diags *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++)
                free(d->items[i].message);
        free(d->items);
        *d = (vigil_diags){ 0 };
}

int diag_add(vigil_diags *d, vigil_diag_level level, unsigned line, unsigned column, const char *fmt, ...)
{
        vigil_diag *items;
        va_list ap;
        char *msg;
        int r;

        if (level == VIGIL_DIAG_ERROR && d)
                d->n_errors++;
        if (!d)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        items = realloc(d->items, (d->n + 1) * sizeof *items);
        if (!items) {
                free(msg);
                return -ENOMEM;
        }
        d->items = items;
        d->items[d->n++] = (vigil_diag){ .level = level, .line = line, .column = column, .message = msg };
        return 0;
}

static bool diag_before(const vigil_diag *x, const vigil_diag *y)
{
        return x->line < y->line;
}

/* Stable insertion sort by line: within a line diagnostics are already in
 * the order they were found (left to right, then "too many errors"), and
 * lines arrive almost in order, so this is near linear. */
void diag_sort(vigil_diags *d)
{
        if (!d)
                return;
        for (size_t i = 1; i < d->n; i++) {
                vigil_diag t = d->items[i];
                size_t j = i;

                while (j > 0 && diag_before(&t, &d->items[j - 1])) {
                        d->items[j] = d->items[j - 1];
                        j--;
                }
                d->items[j] = t;
        }
}

const char *diag_excerpt(char *buf, size_t size, const char *s, size_t len, size_t max)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        if (size < 8) {
                if (size)
                        buf[0] = '\0';
                return buf;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                bool plain = c >= 0x20 && c < 0x7f;

                if (i >= max || o + (plain ? 1 : 4) + 4 > size) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (plain)
                        buf[o++] = (char)c;
                else {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 15];
                }
        }
        buf[o] = '\0';
        return buf;
}
