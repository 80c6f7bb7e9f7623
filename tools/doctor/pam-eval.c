/* Can a PAM stack succeed while a given module fails? A search over every
 * outcome of every module, following libpam's dispatcher (pam_dispatch.c):
 *
 *   ok/done    take the module's result when nothing has failed yet;
 *              done then ends the current (sub)stack
 *   bad/die    record a failure unless one is recorded; die ends the (sub)stack
 *   ignore     nothing; reset: back to the state at the substack's start
 *   N          skip N modules of this level (a substack counts as one)
 *
 * and the stack succeeds when the recorded result is PAM_SUCCESS and its
 * impression positive. The state after each module is small (position,
 * impression, success bit, one saved state per substack level), so a
 * visited set keeps the search linear in practice. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pam-stack.h"

#define MAX_LEVELS 9 /* DOCTOR_PAM_MAX_DEPTH + 1 */

enum { IMP_UNDEF = 0, IMP_POS = 1, IMP_NEG = 2 };

typedef struct state {
        size_t idx;
        unsigned prev_level;
        uint8_t imp;
        bool ok; /* status == PAM_SUCCESS */
        uint8_t sub_imp[MAX_LEVELS];
        bool sub_ok[MAX_LEVELS];
} state;

typedef struct step {
        size_t idx;
        int code;
} step;

typedef struct search {
        const pam_stack *s;
        const char *target;
        uint64_t *seen; /* open addressing; 0 is empty */
        size_t cap, n_seen;
        step *path;
        size_t depth;
        int oom;
} search;

static uint64_t key(const state *st)
{
        uint64_t k = (uint64_t)st->idx + 1;

        k = k * 16 + st->prev_level;
        k = k * 3 + st->imp;
        k = k * 2 + st->ok;
        for (int i = 0; i < MAX_LEVELS; i++)
                k = k * 6 + st->sub_imp[i] * 2 + st->sub_ok[i];
        return k ? k : 1;
}

/* The keys are a mixed-radix number whose low digits rarely change: mix
 * them (splitmix64's finaliser) before using them as a table position. */
static size_t slot(uint64_t k, size_t cap)
{
        k ^= k >> 30;
        k *= 0xbf58476d1ce4e5b9ULL;
        k ^= k >> 27;
        k *= 0x94d049bb133111ebULL;
        k ^= k >> 31;
        return (size_t)(k & (cap - 1));
}

/* Returns true when @k was new (and remembers it). */
static bool visit(search *se, uint64_t k)
{
        size_t i;

        if (se->n_seen >= PAM_STACK_MAX_STATES) {
                se->oom = -E2BIG;
                return false;
        }

        if (se->n_seen * 2 >= se->cap) {
                size_t nc = se->cap ? se->cap * 2 : 1024;
                uint64_t *n = calloc(nc, sizeof *n);

                if (!n) {
                        se->oom = -ENOMEM;
                        return false;
                }
                for (size_t j = 0; j < se->cap; j++)
                        if (se->seen[j])
                                for (i = slot(se->seen[j], nc); ; i = (i + 1) & (nc - 1))
                                        if (!n[i]) {
                                                n[i] = se->seen[j];
                                                break;
                                        }
                free(se->seen);
                se->seen = n;
                se->cap = nc;
        }
        for (i = slot(k, se->cap); se->seen[i]; i = (i + 1) & (se->cap - 1))
                if (se->seen[i] == k)
                        return false;
        se->seen[i] = k;
        se->n_seen++;
        return true;
}

static bool is_target(const search *se, const pam_entry *e)
{
        return e->kind == PAM_ENTRY_MODULE && strcmp(pam_entry_basename(e), se->target) == 0;
}

/* What a module may return. */
static bool may_return(const search *se, const pam_entry *e, int code)
{
        const char *b;

        if (code == PAM_STACK_INCOMPLETE)
                return false;
        if (e->kind == PAM_ENTRY_BROKEN)
                return code == PAM_STACK_PERM_DENIED;
        if (is_target(se, e))
                return code != PAM_STACK_SUCCESS && code != PAM_STACK_IGNORE;
        b = pam_entry_basename(e);
        if (strcmp(b, "pam_permit.so") == 0)
                return code == PAM_STACK_SUCCESS;
        if (strcmp(b, "pam_deny.so") == 0)
                return code == 7 /* auth_err */;
        return true;
}

/* The index after the last entry at @level or deeper that follows @i. */
static size_t end_of_level(const pam_stack *s, size_t i, unsigned level)
{
        while (i + 1 < s->n && s->v[i + 1].level >= level)
                i++;
        return i + 1;
}

static int dfs(search *se, state st);

static int step_to(search *se, const state *st, size_t next, unsigned level)
{
        state n = *st;

        n.idx = next;
        n.prev_level = level;
        return dfs(se, n);
}

static int dfs(search *se, state st)
{
        const pam_stack *s = se->s;
        const pam_entry *e;
        unsigned level;

        if (se->oom || !visit(se, key(&st)))
                return 0;
        if (st.idx >= s->n)
                return st.imp == IMP_POS && st.ok;
        e = &s->v[st.idx];
        level = e->level < MAX_LEVELS ? e->level : MAX_LEVELS - 1;
        if (st.prev_level < level) {
                st.sub_imp[level] = st.imp;
                st.sub_ok[level] = st.ok;
        }
        if (e->kind == PAM_ENTRY_SUBSTACK)
                return step_to(se, &st, st.idx + 1, level);

        for (int code = 0; code < PAM_STACK_N_CODES; code++) {
                int act = e->actions[code], r;
                size_t next = st.idx + 1;
                state n = st;

                if (!may_return(se, e, code))
                        continue;
                /* Codes with the same action lead to the same states; only
                 * the success/ignore/other distinction matters beyond it. */
                switch (act) {
                case PAM_ACT_RESET:
                        n.imp = st.sub_imp[level];
                        n.ok = st.sub_ok[level];
                        break;
                case PAM_ACT_OK:
                case PAM_ACT_DONE:
                        if ((n.imp == IMP_UNDEF || (n.imp == IMP_POS && n.ok)) && code != PAM_STACK_IGNORE) {
                                n.imp = IMP_POS;
                                n.ok = code == PAM_STACK_SUCCESS;
                        }
                        if (n.imp == IMP_POS && act == PAM_ACT_DONE)
                                next = end_of_level(s, st.idx, level);
                        break;
                case PAM_ACT_BAD:
                case PAM_ACT_DIE:
                        if (n.imp != IMP_NEG) {
                                n.imp = IMP_NEG;
                                n.ok = code == PAM_STACK_SUCCESS;
                        }
                        if (act == PAM_ACT_DIE)
                                next = end_of_level(s, st.idx, level);
                        break;
                case PAM_ACT_IGNORE:
                        break;
                default: {
                        size_t j = st.idx;
                        int left = act;

                        while (j + 1 < s->n && s->v[j + 1].level >= level && left > 0) {
                                do
                                        j++;
                                while (j + 1 < s->n && s->v[j + 1].level > level);
                                left--;
                        }
                        if (left) {
                                /* A jump past the end: libpam's "bad jump in stack". */
                                n.imp = IMP_NEG;
                                n.ok = false;
                        }
                        next = j + 1;
                        break;
                }
                }
                se->path[se->depth++] = (step){ st.idx, code };
                r = step_to(se, &n, next, level);
                if (r != 0)
                        return r;
                se->depth--;
        }
        return 0;
}

/* Which step of the successful path let it through? */
static void explain(const search *se, pam_bypass *ret)
{
        size_t first_target = se->s->n;

        for (size_t i = 0; i < se->depth; i++) {
                const pam_entry *e = &se->s->v[se->path[i].idx];
                int act = e->actions[se->path[i].code];

                if (!is_target(se, e))
                        continue;
                /* A failure its own control let through... */
                if (act != PAM_ACT_BAD && act != PAM_ACT_DIE) {
                        *ret = (pam_bypass){ .culprit = se->path[i].idx, .target_ran = true, .code = se->path[i].code };
                        return;
                }
                /* ...or one a later "reset" wiped out. */
                for (size_t j = i + 1; j < se->depth; j++)
                        if (se->s->v[se->path[j].idx].actions[se->path[j].code] == PAM_ACT_RESET) {
                                *ret = (pam_bypass){ .culprit = se->path[j].idx, .code = se->path[j].code };
                                return;
                        }
        }
        for (size_t i = 0; i < se->s->n; i++)
                if (is_target(se, &se->s->v[i])) {
                        first_target = i;
                        break;
                }
        /* The last module before the target whose outcome carried the path past it. */
        for (size_t i = 0; i < se->depth; i++) {
                size_t next = i + 1 < se->depth ? se->path[i + 1].idx : se->s->n;

                if (se->path[i].idx < first_target && next > first_target) {
                        *ret = (pam_bypass){ .culprit = se->path[i].idx, .code = se->path[i].code };
                        return;
                }
        }
        *ret = (pam_bypass){ .culprit = se->depth ? se->path[se->depth - 1].idx : 0,
                             .code = se->depth ? se->path[se->depth - 1].code : 0 };
}

int pam_stack_bypass(const pam_stack *s, const char *target, pam_bypass *ret)
{
        search se = { .s = s, .target = target };
        state st = { 0 };
        int r;

        se.path = calloc(s->n + 1, sizeof *se.path);
        if (!se.path)
                return -ENOMEM;
        r = dfs(&se, st);
        if (r > 0)
                explain(&se, ret);
        free(se.seen);
        free(se.path);
        return se.oom ? se.oom : r;
}
