#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"
#include "text-clean.h"

int pv_reason(char **ret, int r, const char *fmt, ...)
{
        va_list ap;

        if (!ret || *ret)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
        return r;
}

int pv_reason_wrap(char **ret, int r, const char *prefix)
{
        char *n;

        if (!ret || !*ret)
                return r;
        if (asprintf(&n, "%s: %s", prefix, *ret) < 0)
                return r;
        free(*ret);
        *ret = n;
        return r;
}

char *pv_text_clean(const char *s, size_t max)
{
        return text_clean(s, max);
}

bool pv_text_printable(const char *s, size_t max, bool space)
{
        return text_printable(s, max, space);
}
