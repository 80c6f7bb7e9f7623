/* Warnings for rules that can never decide: an earlier rule matches
 * everything, or has the same set of conditions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parser.h"
#include "vigil-error.h"

static int cond_cmp(const void *a, const void *b)
{
        const cond *x = *(const cond *const *)a, *y = *(const cond *const *)b;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->negate != y->negate)
                return x->negate ? 1 : -1;
        return strcmp(x->text, y->text);
}

/* Canonical text of a rule's condition set: conditions sorted, each as
 * kind, negation, length and value, so that equal sets give equal strings
 * whatever their order on the line. Values are compared as written, not as
 * resolved, so that `vigil policy check` says the same on every host. */
static int rule_signature(const rule *r, char **ret, size_t *ret_len)
{
        _cleanup_free_ const cond **v = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        v = calloc(r->n_conds + 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_conds; i++)
                v[i] = &r->conds[i];
        qsort(v, r->n_conds, sizeof *v, cond_cmp);
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_conds; i++) {
                fprintf(f, "%d%d:%zu:%s;", (int)v[i]->kind, (int)v[i]->negate, strlen(v[i]->text), v[i]->text);
        }
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int lint_rule(parser *ps, const rule *r)
{
        _cleanup_free_ char *sig = NULL;
        const uint32_t *hit;
        size_t len, n;
        int k;

        if (ps->catch_all_line)
                return WARN(ps, r->column, "rule is never used: the rule on line %u matches everything",
                            ps->catch_all_line);
        if (r->n_conds == 0) {
                ps->catch_all_line = r->line;
                return 0;
        }
        k = rule_signature(r, &sig, &len);
        if (k < 0)
                return k;
        hit = index_lookup(&ps->sigs, sig, len, &n);
        if (hit)
                return WARN(ps, r->column, "rule is never used: the rule on line %u has the same conditions",
                            hit[0]);
        if (ps->n_sig_keys == ps->cap_sig_keys) {
                size_t ncap = ps->cap_sig_keys ? ps->cap_sig_keys * 2 : 16;
                char **nk = realloc(ps->sig_keys, ncap * sizeof *nk);

                if (!nk)
                        return -ENOMEM;
                ps->sig_keys = nk;
                ps->cap_sig_keys = ncap;
        }
        k = index_add(&ps->sigs, sig, len, r->line);
        if (k < 0)
                return k;
        ps->sig_keys[ps->n_sig_keys++] = TAKE_PTR(sig);
        return 0;
}

void lint_done(parser *ps)
{
        for (size_t i = 0; i < ps->n_sig_keys; i++)
                free(ps->sig_keys[i]);
        free(ps->sig_keys);
        index_map_free(&ps->sigs);
}
