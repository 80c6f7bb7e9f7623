#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracee.h"

void strv_clear(strv *sv)
{
        if (sv->v)
                for (size_t i = 0; i < sv->n; i++)
                        free(sv->v[i]);
        free(sv->v);
        sv->v = NULL;
        sv->n = 0;
}

int strv_push(strv *sv, const char *s)
{
        char **nv;
        char *c;

        c = strdup(s);
        if (!c)
                return -ENOMEM;
        nv = realloc(sv->v, (sv->n + 2) * sizeof(char *));
        if (!nv) {
                free(c);
                return -ENOMEM;
        }
        nv[sv->n++] = c;
        nv[sv->n] = NULL;
        sv->v = nv;
        return 0;
}

int strv_copy(const char *const *src, size_t n, strv *ret)
{
        strv sv = {0};

        sv.v = calloc(n + 1, sizeof(char *));
        if (!sv.v)
                return -ENOMEM;
        for (; sv.n < n; sv.n++) {
                sv.v[sv.n] = strdup(src[sv.n]);
                if (!sv.v[sv.n]) {
                        strv_clear(&sv);
                        return -ENOMEM;
                }
        }
        *ret = sv;
        return 0;
}

bool strv_equal(const strv *a, const strv *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (strcmp(a->v[i], b->v[i]) != 0)
                        return false;
        return true;
}
