#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

static bool unreserved(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_' || c == '~';
}

int http_form_add(http_form *f, const char *name, const char *value)
{
        static const char hex[] = "0123456789ABCDEF";
        const char *parts[2] = { name, value };
        size_t need = f->len + 1 + 3 * (strlen(name) + strlen(value)) + 2, at = f->len;

        if (need > f->size) {
                /* Grown by hand rather than realloc: the old buffer may hold
                 * the device code and is wiped, not left in freed memory. */
                char *nb = malloc(need * 2);

                if (!nb)
                        return -ENOMEM;
                if (f->buf) {
                        memcpy(nb, f->buf, f->len + 1);
                        explicit_bzero(f->buf, f->size);
                        free(f->buf);
                }
                f->buf = nb;
                f->size = need * 2;
        }
        if (at > 0)
                f->buf[at++] = '&';
        for (size_t p = 0; p < 2; p++) {
                for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++) {
                        if (unreserved(*s))
                                f->buf[at++] = (char)*s;
                        else {
                                f->buf[at++] = '%';
                                f->buf[at++] = hex[*s >> 4];
                                f->buf[at++] = hex[*s & 15];
                        }
                }
                if (p == 0)
                        f->buf[at++] = '=';
        }
        f->buf[at] = '\0';
        f->len = at;
        return 0;
}

void http_form_done(http_form *f)
{
        if (f->buf) {
                explicit_bzero(f->buf, f->size);
                free(f->buf);
        }
        *f = (http_form){ 0 };
}
