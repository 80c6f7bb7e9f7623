/* Evaluating one rule against one request, and saying why it failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vigil-error.h"

#define EXCERPT 60

void match_ctx_init(match_ctx *m, const vigil_policy *p, const vigil_request *req)
{
        *m = (match_ctx){ .req = req, .scratch = { .mctx = p->mctx } };
}

void match_ctx_done(match_ctx *m)
{
        vregex_scratch_done(&m->scratch);
        if (m->cmd != m->cmd_small)
                free(m->cmd);
        m->cmd = NULL;
}

/* argv joined by single spaces, built once per decision. */
static int get_cmd(match_ctx *m)
{
        const vigil_request *q = m->req;
        size_t len = 0, o = 0;
        char *buf;

        if (m->cmd)
                return 0;
        for (size_t i = 0; i < q->argc; i++)
                len += strlen(q->argv[i] ? q->argv[i] : "") + 1;
        if (len > VIGIL_POLICY_MAX_CMDLINE)
                return VIGIL_E_TOO_BIG;
        buf = len + 1 <= sizeof m->cmd_small ? m->cmd_small : malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < q->argc; i++) {
                const char *a = q->argv[i] ? q->argv[i] : "";
                size_t l = strlen(a);

                if (i > 0)
                        buf[o++] = ' ';
                memcpy(buf + o, a, l);
                o += l;
        }
        buf[o] = '\0';
        m->cmd = buf;
        m->cmd_len = o;
        return 0;
}

static bool name_eq(const char *a, const char *b)
{
        return a && strcmp(a, b) == 0;
}

/* Does the condition (ignoring its negation) hold? 1/0, or <0. On 0 or 1,
 * *ret_arg is the argv index that matched for arg~ (for explanations). */
static int cond_test(const cond *c, match_ctx *m, size_t *ret_arg)
{
        const vigil_request *q = m->req;
        int r;

        switch (c->kind) {
        case COND_USER:
                return name_eq(q->user, c->text);
        case COND_RUNAS:
                return name_eq(q->runas, c->text);
        case COND_GROUP:
                for (size_t i = 0; i < q->n_groups; i++)
                        if (name_eq(q->groups[i], c->text))
                                return 1;
                return 0;
        case COND_EXE:
                return q->exe && glob_match(&c->u.glob, q->exe);
        case COND_CWD:
                return q->cwd && glob_match(&c->u.glob, q->cwd);
        case COND_ARG:
                for (size_t i = 1; i < q->argc; i++) {
                        const char *a = q->argv[i] ? q->argv[i] : "";

                        r = vregex_match(c->u.re, a, strlen(a), &m->scratch);
                        if (r != 0) {
                                *ret_arg = i;
                                return r;
                        }
                }
                return 0;
        case COND_CMD:
                r = get_cmd(m);
                if (r < 0)
                        return r;
                return vregex_match(c->u.re, m->cmd, m->cmd_len, &m->scratch);
        case _COND_KIND_MAX:
                break;
        }
        return -EINVAL;
}

static const char *kind_name(cond_kind k)
{
        static const char *const names[_COND_KIND_MAX] = {
                [COND_USER] = "user", [COND_RUNAS] = "runas", [COND_GROUP] = "group", [COND_EXE] = "exe",
                [COND_CWD] = "cwd",   [COND_ARG] = "arg",     [COND_CMD] = "cmd",
        };
        return k < _COND_KIND_MAX ? names[k] : "?";
}

#define X(buf, s) diag_excerpt(buf, sizeof(buf), (s) ? (s) : "", (s) ? strlen(s) : 0, EXCERPT)

/* One line on why condition c failed; held says whether its test held. */
static void explain_cond(const cond *c, match_ctx *m, bool held, size_t arg, char *why, size_t size)
{
        const vigil_request *q = m->req;
        const char *op = c->kind == COND_ARG || c->kind == COND_CMD ? (c->negate ? "!~" : "~")
                                                                    : (c->negate ? "!=" : "=");
        char a[4 * EXCERPT + 8], b[4 * EXCERPT + 8], res[4 * EXCERPT + 8];
        const char *name = kind_name(c->kind);

        (void)X(b, c->text);
        switch (c->kind) {
        case COND_USER:
        case COND_RUNAS: {
                const char *v = c->kind == COND_USER ? q->user : q->runas;

                if (held)
                        snprintf(why, size, "%s is '%s' (%s%s'%s')", name, X(a, v), name, op, b);
                else
                        snprintf(why, size, "%s '%s' is not '%s'", name, X(a, v), b);
                return;
        }
        case COND_GROUP:
                if (held)
                        snprintf(why, size, "in group '%s' (group!='%s')", b, b);
                else
                        snprintf(why, size, "not in group '%s'", b);
                return;
        case COND_EXE:
        case COND_CWD: {
                const char *v = c->kind == COND_EXE ? q->exe : q->cwd;

                res[0] = '\0';
                if (strcmp(c->text, c->u.glob.text) != 0) {
                        char r[4 * EXCERPT + 8];

                        snprintf(res, sizeof res, " (resolved '%s')", X(r, c->u.glob.text));
                }
                if (!v)
                        snprintf(why, size, "no %s to match against '%s'%s", name, b, res);
                else if (held)
                        snprintf(why, size, "%s '%s' matches '%s'%s (%s!=)", name, X(a, v), b, res, name);
                else
                        snprintf(why, size, "%s '%s' does not match '%s'%s", name, X(a, v), b, res);
                return;
        }
        case COND_ARG:
                if (held)
                        snprintf(why, size, "argument %zu '%s' matches '%s' (arg!~)", arg, X(a, q->argv[arg]), b);
                else
                        snprintf(why, size, "no argument matches '%s'", b);
                return;
        case COND_CMD:
                (void)diag_excerpt(a, sizeof a, m->cmd ? m->cmd : "", m->cmd ? m->cmd_len : 0, EXCERPT);
                if (held)
                        snprintf(why, size, "cmd '%s' matches '%s' (cmd!~)", a, b);
                else
                        snprintf(why, size, "cmd '%s' does not match '%s'", a, b);
                return;
        case _COND_KIND_MAX:
                break;
        }
        snprintf(why, size, "unknown condition");
}

int rule_match(const rule *r, match_ctx *m, char *why, size_t why_size)
{
        for (size_t i = 0; i < r->n_conds; i++) {
                const cond *c = &r->conds[i];
                size_t arg = 0;
                int t = cond_test(c, m, &arg);

                if (t < 0)
                        return t;
                if ((t == 1) == c->negate) {
                        if (why)
                                explain_cond(c, m, t == 1, arg, why, why_size);
                        return 0;
                }
        }
        return 1;
}
