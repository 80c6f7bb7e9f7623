#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reason.h"

int reason_set(char **ret, int r, const char *fmt, ...)
{
        va_list ap;

        if (!ret)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
        return r;
}

char *reason_clean(const char *s)
{
        return reason_clean_n(s, 128);
}

char *reason_clean_n(const char *s, size_t max)
{
        size_t len = strlen(s), cut = len > max ? max : len;
        char *out = malloc(cut * 4 + 4), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < cut; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c == 0x7f || c == '\\')
                        p += snprintf(p, 5, "\\x%02x", c);
                else
                        *p++ = (char)c;
        }
        if (cut < len)
                p = stpcpy(p, "...");
        *p = '\0';
        return out;
}

char *time_format(int64_t t, char buf[static 32])
{
        struct tm tm;
        time_t tt = (time_t)t;

        /* 253402300799 is 9999-12-31T23:59:59Z. */
        if (t < 0 || t > 253402300799LL || !gmtime_r(&tt, &tm) ||
            strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void)snprintf(buf, 32, "%lld", (long long)t);
        return buf;
}
