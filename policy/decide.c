#include <errno.h>
#include <string.h>

#include "internal.h"
#include "vigil-error.h"

static void fill(const vigil_policy *p, const rule *r, vigil_decision *ret)
{
        *ret = (vigil_decision){
                .action = r->action,
                .file = p->file,
                .line = r->line,
                .message = r->message,
                .approvers = r->approvers,
                .timeout_ms = r->action == VIGIL_ACTION_HOLD ? r->timeout_ms : 0,
                .remember_session = r->remember_session,
        };
}

static size_t cmdline_len(const vigil_request *req)
{
        size_t len = 0;

        for (size_t i = 0; i < req->argc; i++)
                len += strlen(req->argv[i] ? req->argv[i] : "") + 1;
        return len;
}

/* Every rule in order: used with an explain callback. */
static int decide_scan(const vigil_policy *p, match_ctx *m, vigil_explain_fn explain, void *userdata,
                       const rule **ret)
{
        char why[1024];

        for (size_t i = 0; i < p->n_rules; i++) {
                int r = rule_match(&p->rules[i], m, why, sizeof why);

                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = &p->rules[i];
                        return 0;
                }
                explain(userdata, p->file, p->rules[i].line, why);
        }
        *ret = NULL;
        return 0;
}

/* Only the rules the index says could match, merged back into file order. */
static int decide_indexed(const vigil_policy *p, match_ctx *m, const rule **ret)
{
        const vigil_request *q = m->req;
        const uint32_t *lists[4];
        size_t n[4] = { 0 }, pos[4] = { 0 }, k = 0;

        if (q->exe) {
                const char *base = strrchr(q->exe, '/');

                base = base ? base + 1 : q->exe;
                lists[k] = index_lookup(&p->index.by_exe, q->exe, strlen(q->exe), &n[k]);
                k += !!lists[k];
                lists[k] = index_lookup(&p->index.by_basename, base, strlen(base), &n[k]);
                k += !!lists[k];
        }
        if (q->user) {
                lists[k] = index_lookup(&p->index.by_user, q->user, strlen(q->user), &n[k]);
                k += !!lists[k];
        }
        if (p->index.n_generic) {
                lists[k] = p->index.generic;
                n[k] = p->index.n_generic;
                k++;
        }

        for (;;) {
                size_t best = SIZE_MAX;
                uint32_t idx = UINT32_MAX;
                int r;

                for (size_t i = 0; i < k; i++)
                        if (pos[i] < n[i] && lists[i][pos[i]] < idx)
                                idx = lists[i][pos[i]], best = i;
                if (best == SIZE_MAX)
                        break;
                pos[best]++;
                r = rule_match(&p->rules[idx], m, NULL, 0);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = &p->rules[idx];
                        return 0;
                }
        }
        *ret = NULL;
        return 0;
}

int vigil_policy_decide(const vigil_policy *p, const vigil_request *req, vigil_explain_fn explain,
                        void *userdata, vigil_decision *ret)
{
        const rule *hit = NULL;
        match_ctx m;
        int r;

        if (!p || !req || !ret || (req->argc > 0 && !req->argv) || (req->n_groups > 0 && !req->groups))
                return -EINVAL;
        /* Checked up front, not when a cmd~ rule first needs it, so that the
         * answer cannot depend on which rules the index lets us skip. */
        if (cmdline_len(req) > VIGIL_POLICY_MAX_CMDLINE)
                return VIGIL_E_TOO_BIG;

        match_ctx_init(&m, p, req);
        r = explain ? decide_scan(p, &m, explain, userdata, &hit) : decide_indexed(p, &m, &hit);
        match_ctx_done(&m);
        if (r < 0)
                return r;
        if (hit)
                fill(p, hit, ret);
        else
                *ret = (vigil_decision){ .action = p->default_action };
        return 0;
}

size_t vigil_policy_n_masks(const vigil_policy *p)
{
        return p ? p->n_masks : 0;
}

const vigil_mask_rule *vigil_policy_mask(const vigil_policy *p, size_t i)
{
        return p && i < p->n_masks ? &p->masks[i] : NULL;
}

const vigil_record_opts *vigil_policy_record(const vigil_policy *p)
{
        return p ? &p->record : NULL;
}

bool vigil_policy_uses_cwd(const vigil_policy *p)
{
        for (size_t i = 0; p && i < p->n_rules; i++)
                for (size_t j = 0; j < p->rules[i].n_conds; j++)
                        if (p->rules[i].conds[j].kind == COND_CWD)
                                return true;
        return false;
}
