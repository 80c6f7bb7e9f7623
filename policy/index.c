/* Rule index. A decision must not try every rule: each rule is filed under
 * one key it cannot match without (its literal exe= path, else the literal
 * last component of its exe= glob, else its user= name), or in the generic
 * list. A request then merges, in rule order, the lists for its exe, its
 * exe's basename, its user and the generic list; first match still wins
 * because the merge visits candidates in file order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t hash(const char *s, size_t len)
{
        /* FNV-1a: keys come from the policy, so collisions are not an
         * attacker's to arrange; a request's key only selects a slot. */
        uint64_t h = 0xcbf29ce484222325ull;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

static index_slot *find_slot(const index_map *m, const char *key, size_t key_len)
{
        size_t mask = m->n_slots - 1, i = (size_t)hash(key, key_len) & mask;

        for (;; i = (i + 1) & mask) {
                index_slot *s = &m->slots[i];

                if (!s->key || (s->key_len == key_len && memcmp(s->key, key, key_len) == 0))
                        return s;
        }
}

static int grow(index_map *m)
{
        index_map n = { .n_slots = m->n_slots ? m->n_slots * 2 : 16 };

        n.slots = calloc(n.n_slots, sizeof *n.slots);
        if (!n.slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].key)
                        *find_slot(&n, m->slots[i].key, m->slots[i].key_len) = m->slots[i];
        n.used = m->used;
        free(m->slots);
        *m = n;
        return 0;
}

static int list_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
        if (*n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 4;
                uint32_t *nv = realloc(*v, ncap * sizeof *nv);

                if (!nv)
                        return -ENOMEM;
                *v = nv;
                *cap = ncap;
        }
        (*v)[(*n)++] = x;
        return 0;
}

int index_add(index_map *m, const char *key, size_t key_len, uint32_t value)
{
        index_slot *s;

        /* Keep the load under 1/2 so probes stay short. */
        if ((m->used + 1) * 2 > m->n_slots) {
                int r = grow(m);

                if (r < 0)
                        return r;
        }
        s = find_slot(m, key, key_len);
        if (!s->key) {
                s->key = key;
                s->key_len = key_len;
                m->used++;
        }
        return list_push(&s->rules, &s->n, &s->cap, value);
}

const uint32_t *index_lookup(const index_map *m, const char *key, size_t key_len, size_t *ret_n)
{
        const index_slot *s;

        if (m->n_slots == 0 || !key)
                return NULL;
        s = find_slot(m, key, key_len);
        if (!s->key)
                return NULL;
        *ret_n = s->n;
        return s->rules;
}

void index_map_free(index_map *m)
{
        for (size_t i = 0; i < m->n_slots; i++)
                free(m->slots[i].rules);
        free(m->slots);
        *m = (index_map){ 0 };
}

void index_free(policy_index *ix)
{
        index_map_free(&ix->by_exe);
        index_map_free(&ix->by_basename);
        index_map_free(&ix->by_user);
        free(ix->generic);
        *ix = (policy_index){ 0 };
}

int index_build(vigil_policy *p)
{
        policy_index *ix = &p->index;
        size_t cap_generic = 0;

        for (size_t i = 0; i < p->n_rules; i++) {
                const rule *r = &p->rules[i];
                const cond *exe_lit = NULL, *exe_base = NULL, *user = NULL;
                const char *base = NULL;
                size_t base_len = 0;
                int k;

                for (size_t j = 0; j < r->n_conds; j++) {
                        const cond *c = &r->conds[j];

                        if (c->negate)
                                continue;
                        if (c->kind == COND_EXE && !exe_lit &&
                            glob_is_literal(c->u.glob.text, strlen(c->u.glob.text)))
                                exe_lit = c;
                        else if (c->kind == COND_EXE && !exe_base &&
                                 glob_literal_basename(&c->u.glob, &base, &base_len))
                                exe_base = c;
                        else if (c->kind == COND_USER && !user)
                                user = c;
                }
                if (exe_lit)
                        k = index_add(&ix->by_exe, exe_lit->u.glob.text, strlen(exe_lit->u.glob.text),
                                      (uint32_t)i);
                else if (exe_base)
                        k = index_add(&ix->by_basename, base, base_len, (uint32_t)i);
                else if (user)
                        k = index_add(&ix->by_user, user->text, strlen(user->text), (uint32_t)i);
                else
                        k = list_push(&ix->generic, &ix->n_generic, &cap_generic, (uint32_t)i);
                if (k < 0)
                        return k;
        }
        return 0;
}
