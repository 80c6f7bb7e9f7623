#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

typedef struct out {
        char *buf;
        size_t len;
        bool full;
} out;

static void put(out *o, const char *s, size_t n)
{
        if (o->full)
                return;
        if (o->len + n > DISPLAY_MAX - 3) {
                memcpy(o->buf + o->len, "...", 3);
                o->len += 3;
                o->full = true;
                return;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
}

static bool plain(const char *a)
{
        if (!*a)
                return false;
        for (const unsigned char *p = (const unsigned char *)a; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-", *p))
                        return false;
        return true;
}

/* Length of a valid multi-byte UTF-8 sequence at @p, or 0. C1 controls
 * (U+0080..U+009F) are valid UTF-8 but some terminals obey them (U+009B is
 * CSI), so they count as invalid here. */
static size_t utf8_multi(const unsigned char *p)
{
        if (p[0] == 0xc2 && p[1] < 0xa0)
                return 0;
        if (p[0] >= 0xc2 && p[0] <= 0xdf && (p[1] & 0xc0) == 0x80)
                return 2;
        if (p[0] >= 0xe0 && p[0] <= 0xef && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
            !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] > 0x9f))
                return 3;
        if (p[0] >= 0xf0 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
            (p[3] & 0xc0) == 0x80 && !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] > 0x8f))
                return 4;
        return 0;
}

int display_cmdline(const char *const *argv, size_t argc, char **ret)
{
        out o = {.buf = malloc(DISPLAY_MAX + 1)};

        if (!o.buf)
                return -ENOMEM;
        for (size_t i = 0; i < argc; i++) {
                const unsigned char *p = (const unsigned char *)argv[i];

                if (i > 0)
                        put(&o, " ", 1);
                if (plain(argv[i])) {
                        put(&o, argv[i], strlen(argv[i]));
                        continue;
                }
                put(&o, "'", 1);
                while (*p) {
                        size_t n;

                        if (*p == '\'') {
                                put(&o, "'\\''", 4);
                                p++;
                        } else if (*p >= 0x20 && *p < 0x7f) {
                                put(&o, (const char *)p, 1);
                                p++;
                        } else if (*p >= 0x80 && (n = utf8_multi(p)) > 0) {
                                put(&o, (const char *)p, n);
                                p += n;
                        } else {
                                char hex[5];

                                (void)snprintf(hex, sizeof(hex), "\\x%02x", *p);
                                put(&o, hex, 4);
                                p++;
                        }
                }
                put(&o, "'", 1);
        }
        o.buf[o.len] = '\0';
        *ret = o.buf;
        return 0;
}
