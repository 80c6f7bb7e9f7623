/* JSON strings and CSV fields for the CLI's exports. */
#include <stdio.h>
#include <string.h>

#include "store-internal.h"

/* Length of the valid UTF-8 sequence at p, or 0 when invalid or cut off. */
static size_t utf8_len(const uint8_t *p, size_t len)
{
        uint8_t c = p[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        if (n > len)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return n;
}

void vigil_json_string(FILE *f, const char *s, size_t len)
{
        const uint8_t *p = (const uint8_t *)s;

        fputc('"', f);
        for (size_t i = 0; i < len;) {
                uint8_t c = p[i];
                size_t n;

                if (c == '"' || c == '\\') {
                        fputc('\\', f);
                        fputc(c, f);
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                } else if (c < 0x80) {
                        fputc(c, f);
                        i++;
                } else if ((n = utf8_len(p + i, len - i)) > 0) {
                        fwrite(p + i, 1, n, f);
                        i += n;
                } else {
                        fputs("\\ufffd", f);
                        i++;
                }
        }
        fputc('"', f);
}

void vigil_csv_field(FILE *f, const char *s, size_t len)
{
        bool quote = false;

        for (size_t i = 0; i < len && !quote; i++)
                if (s[i] == '"' || s[i] == ',' || s[i] == '\n' || s[i] == '\r')
                        quote = true;
        if (!quote) {
                fwrite(s, 1, len, f);
                return;
        }
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '"')
                        fputc('"', f);
                fputc(s[i], f);
        }
        fputc('"', f);
}
