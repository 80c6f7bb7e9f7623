#include <stdlib.h>
#include <string.h>

#include "text-clean.h"

char *text_clean(const char *s, size_t max)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;
        char *out;

        if (!s)
                s = "";
        /* Worst case: every byte becomes four, plus "..." and the NUL. */
        out = malloc(4 * max + 4);
        if (!out)
                return NULL;
        for (size_t i = 0; s[i]; i++) {
                unsigned char c = (unsigned char)s[i];

                if (i == max) {
                        memcpy(out + n, "...", 3);
                        n += 3;
                        break;
                }
                if (c < 0x20 || c >= 0x7f || c == '\\') {
                        out[n++] = '\\';
                        out[n++] = 'x';
                        out[n++] = hex[c >> 4];
                        out[n++] = hex[c & 15];
                } else
                        out[n++] = (char)c;
        }
        out[n] = '\0';
        return out;
}

bool text_printable(const char *s, size_t max, bool space)
{
        if (!s || !*s)
                return false;
        for (size_t i = 0; s[i]; i++) {
                unsigned char c = (unsigned char)s[i];

                if (i >= max || c > 0x7e || c < 0x20 || (c == 0x20 && !space))
                        return false;
        }
        return true;
}
