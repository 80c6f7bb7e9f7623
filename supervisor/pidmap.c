#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "pidmap.h"

static size_t slot_of(pid_t key, size_t cap)
{
        return ((uint32_t)key * 2654435761u) & (cap - 1);
}

void *pidmap_get(const pidmap *m, pid_t key)
{
        if (m->cap == 0 || key <= 0)
                return NULL;
        for (size_t i = slot_of(key, m->cap), k = 0; k < m->cap; i = (i + 1) & (m->cap - 1), k++) {
                if (m->slots[i].key == 0)
                        return NULL;
                if (m->slots[i].key == key)
                        return m->slots[i].value;
        }
        return NULL;
}

static int grow(pidmap *m)
{
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct pidmap_slot *s;

        /* rehash into a table at most half full, dropping removed slots */
        while ((m->n + 1) * 2 > cap)
                cap *= 2;
        s = calloc(cap, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
                size_t j;

                if (m->slots[i].key <= 0)
                        continue;
                for (j = slot_of(m->slots[i].key, cap); s[j].key != 0; j = (j + 1) & (cap - 1))
                        ;
                s[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = s;
        m->cap = cap;
        m->used = m->n;
        return 0;
}

int pidmap_put(pidmap *m, pid_t key, void *value)
{
        size_t i, tomb = SIZE_MAX;

        if (key <= 0)
                return -EINVAL;
        if ((m->used + 1) * 2 > m->cap) {
                int r = grow(m);

                if (r < 0)
                        return r;
        }
        for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
                if (m->slots[i].key == key) {
                        m->slots[i].value = value;
                        return 0;
                }
                if (m->slots[i].key == -1 && tomb == SIZE_MAX)
                        tomb = i;
                if (m->slots[i].key == 0)
                        break;
        }
        if (tomb != SIZE_MAX)
                i = tomb;
        else
                m->used++;
        m->slots[i].key = key;
        m->slots[i].value = value;
        m->n++;
        return 0;
}

void *pidmap_remove(pidmap *m, pid_t key)
{
        if (m->cap == 0 || key <= 0)
                return NULL;
        for (size_t i = slot_of(key, m->cap), k = 0; k < m->cap; i = (i + 1) & (m->cap - 1), k++) {
                if (m->slots[i].key == 0)
                        return NULL;
                if (m->slots[i].key == key) {
                        void *v = m->slots[i].value;

                        m->slots[i].key = -1;
                        m->slots[i].value = NULL;
                        m->n--;
                        return v;
                }
        }
        return NULL;
}

int pidmap_next(const pidmap *m, size_t *pos, pid_t *ret_key, void **ret_value)
{
        for (; *pos < m->cap; (*pos)++)
                if (m->slots[*pos].key > 0) {
                        *ret_key = m->slots[*pos].key;
                        *ret_value = m->slots[(*pos)++].value;
                        return 1;
                }
        return 0;
}

void pidmap_done(pidmap *m)
{
        free(m->slots);
        m->slots = NULL;
        m->cap = m->n = m->used = 0;
}
