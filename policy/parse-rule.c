/* Rules: ACTION COND... OPTION=VALUE... The conditions and options are the
 * tables cond_defs and opt_defs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parser.h"
#include "vigil-error.h"

typedef enum value_kind {
        VAL_NAME,  /* exact string, = and != */
        VAL_GLOB,  /* absolute path glob, = and != */
        VAL_REGEX, /* PCRE2, ~ and !~ */
} value_kind;

typedef struct cond_def {
        const char *name;
        cond_kind kind;
        value_kind value;
} cond_def;

static const cond_def cond_defs[] = {
        { "exe", COND_EXE, VAL_GLOB },     { "cwd", COND_CWD, VAL_GLOB },
        { "cmd", COND_CMD, VAL_REGEX },    { "arg", COND_ARG, VAL_REGEX },
        { "user", COND_USER, VAL_NAME },   { "group", COND_GROUP, VAL_NAME },
        { "runas", COND_RUNAS, VAL_NAME },
};

static void cond_done(cond *c)
{
        free(c->text);
        switch (c->kind) {
        case COND_EXE:
        case COND_CWD:
                glob_pat_done(&c->u.glob);
                break;
        case COND_CMD:
        case COND_ARG:
                pcre2_code_free(c->u.re);
                break;
        case COND_USER:
        case COND_RUNAS:
        case COND_GROUP:
        case _COND_KIND_MAX:
                break;
        }
}

void rule_done(rule *r)
{
        for (size_t i = 0; i < r->n_conds; i++)
                cond_done(&r->conds[i]);
        free(r->conds);
        free(r->message);
        free(r->approvers);
        *r = (rule){ 0 };
}

/* Check a regex value; on success *ret holds the compiled pattern (or it is
 * freed when ret is NULL). Returns 0 when fine, 1 when an error was reported,
 * <0 on -ENOMEM. */
int check_regex(parser *ps, const lex_token *t, pcre2_code **ret)
{
        char msg[256], ex[128];
        pcre2_code *re = NULL;
        size_t off = 0;
        int r;

        r = vregex_compile(t->value, t->value_len, &re, msg, sizeof msg, &off);
        if (r == -ENOMEM)
                return r;
        if (r == VIGIL_E_TOO_BIG)
                return ERR(ps, t->value_col, "regex is longer than %u bytes", VIGIL_POLICY_MAX_REGEX) ?: 1;
        if (r < 0)
                return ERR(ps, t->value_col, "bad regex '%s': %s at offset %zu",
                           EXC(ex, t->value, t->value_len), msg, off)
                               ?: 1;
        if (ret)
                *ret = re;
        else
                pcre2_code_free(re);
        return 0;
}

/* Compile t's value into c. Returns 0, 1 when an error was reported, <0. */
static int cond_compile(parser *ps, const cond_def *def, const lex_token *t, cond *c)
{
        _cleanup_free_ char *resolved = NULL;
        const char *msg;
        char ex[128];
        size_t off;
        int r;

        c->kind = def->kind;
        c->negate = t->op == LEX_OP_NE || t->op == LEX_OP_NRE;
        c->column = t->key_col;
        c->text = strdup(t->value);
        if (!c->text)
                return -ENOMEM;

        switch (def->value) {
        case VAL_NAME:
                return 0;
        case VAL_REGEX:
                return check_regex(ps, t, &c->u.re);
        case VAL_GLOB:
                if (t->value[0] != '/' && strncmp(t->value, "**", 2) != 0)
                        return ERR(ps, t->value_col,
                                   "'%s' needs an absolute path glob (starting with '/' or '**'), got '%s'",
                                   def->name, EXC(ex, t->value, t->value_len))
                                       ?: 1;
                if (glob_check(t->value, &msg, &off) < 0)
                        return ERR(ps, t->value_col + (unsigned)off, "bad glob '%s': %s",
                                   EXC(ex, t->value, t->value_len), msg)
                                       ?: 1;
                r = glob_resolve_prefix(t->value, &resolved);
                if (r < 0)
                        return r;
                return glob_compile(resolved, &c->u.glob);
        }
        return -EINVAL;
}

/* ---- rule options --------------------------------------------------- */

#define ON(a) (1u << (a))

typedef struct opt_def {
        const char *name;
        unsigned actions; /* ON(VIGIL_ACTION_*) it is valid on */
        int (*parse)(parser *ps, rule *r, const lex_token *t);
} opt_def;

static int opt_message(parser *ps, rule *r, const lex_token *t)
{
        (void)ps;
        r->message = strdup(t->value);
        return r->message ? 0 : -ENOMEM;
}

static int opt_approvers(parser *ps, rule *r, const lex_token *t)
{
        char ex[128];

        if (!approvers_valid(t->value))
                return ERR(ps, t->value_col,
                           "bad approvers '%s': expected group:NAME, user:NAME or local:NAME, separated by commas",
                           EXC(ex, t->value, t->value_len))
                               ?: 1;
        r->approvers = strdup(t->value);
        return r->approvers ? 0 : -ENOMEM;
}

static int opt_timeout(parser *ps, rule *r, const lex_token *t)
{
        uint64_t ms = 0;
        char ex[128];
        int k = parse_duration_ms(t->value, &ms);

        if (k < 0)
                return ERR(ps, t->value_col, "bad duration '%s': expected a number and s, m or h (90s, 10m, 1h)",
                           EXC(ex, t->value, t->value_len))
                               ?: 1;
        if (ms < 1000 || ms > HOLD_MAX_TIMEOUT_MS)
                return ERR(ps, t->value_col, "bad duration '%s': a hold timeout is between 1s and 24h",
                           EXC(ex, t->value, t->value_len))
                               ?: 1;
        r->timeout_ms = ms;
        return 0;
}

static int opt_remember(parser *ps, rule *r, const lex_token *t)
{
        char ex[128];

        if (strcmp(t->value, "session") != 0)
                return ERR(ps, t->value_col, "bad value '%s' for 'remember': the only value is 'session'",
                           EXC(ex, t->value, t->value_len))
                               ?: 1;
        r->remember_session = true;
        return 0;
}

static const opt_def opt_defs[] = {
        { "message", ON(VIGIL_ACTION_DENY) | ON(VIGIL_ACTION_HOLD) | ON(VIGIL_ACTION_AUDIT), opt_message },
        { "approvers", ON(VIGIL_ACTION_HOLD), opt_approvers },
        { "timeout", ON(VIGIL_ACTION_HOLD), opt_timeout },
        { "remember", ON(VIGIL_ACTION_HOLD), opt_remember },
};

/* "hold" or "deny, hold or audit" */
static const char *actions_text(unsigned actions, char *buf, size_t size)
{
        static const vigil_action all[] = { VIGIL_ACTION_ALLOW, VIGIL_ACTION_DENY, VIGIL_ACTION_HOLD,
                                            VIGIL_ACTION_AUDIT };
        size_t n = 0, k = 0, o = 0;

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                n += !!(actions & ON(all[i]));
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                if (!(actions & ON(all[i])))
                        continue;
                k++;
                o += (size_t)snprintf(buf + o, size - o, "%s%s", k == 1 ? "" : k == n ? " or " : ", ",
                                      vigil_action_name(all[i]));
                if (o >= size)
                        break;
        }
        return buf;
}

int stmt_rule(parser *ps, const lex_line *l, vigil_action action)
{
        rule r = { .action = action, .line = ps->line, .column = l->tokens[0].key_col };
        size_t errors = ps->d->n_errors;
        bool seen_opt[ELEMENTSOF(opt_defs)] = { false };
        char ex[128], acts[64];
        int k = 0;

        if (ps->p->n_rules >= VIGIL_POLICY_MAX_RULES)
                return ERR(ps, r.column, "more than %u rules", VIGIL_POLICY_MAX_RULES);

        r.conds = calloc(l->n, sizeof *r.conds);
        if (!r.conds)
                return -ENOMEM;

        for (size_t i = 1; i < l->n && k >= 0; i++) {
                const lex_token *t = &l->tokens[i];
                const cond_def *cd = NULL;
                const opt_def *od = NULL;
                size_t oi = 0;

                for (size_t j = 0; j < ELEMENTSOF(cond_defs) && !cd; j++)
                        if (lex_key_is(t, cond_defs[j].name))
                                cd = &cond_defs[j];
                for (size_t j = 0; j < ELEMENTSOF(opt_defs) && !od; j++)
                        if (lex_key_is(t, opt_defs[j].name))
                                od = &opt_defs[j], oi = j;

                if (t->op == LEX_OP_NONE) {
                        k = ERR(ps, t->key_col, "expected CONDITION or OPTION=VALUE, got '%s'",
                                EXC(ex, t->key, t->key_len));
                } else if (cd) {
                        bool is_re = t->op == LEX_OP_RE || t->op == LEX_OP_NRE;

                        if (is_re != (cd->value == VAL_REGEX))
                                k = ERR(ps, t->key_col, "'%s' takes %s, not '%s'", cd->name,
                                        cd->value == VAL_REGEX ? "'~' or '!~' and a regex"
                                        : cd->value == VAL_GLOB ? "'=' or '!=' and a path glob"
                                                                : "'=' or '!=' and a name",
                                        lex_op_str(t->op));
                        else if (t->value_len == 0)
                                k = ERR(ps, t->value_col, "empty value for '%s'", cd->name);
                        else {
                                k = cond_compile(ps, cd, t, &r.conds[r.n_conds]);
                                /* Keep it even when it failed, so rule_done() frees it. */
                                r.n_conds++;
                        }
                } else if (od) {
                        if (t->op != LEX_OP_EQ)
                                k = ERR(ps, t->key_col, "'%s' is an option: write %s=VALUE", od->name,
                                        od->name);
                        else if (!(od->actions & ON(action)))
                                k = ERR(ps, t->key_col, "option '%s' is only valid on %s, not on %s", od->name,
                                        actions_text(od->actions, acts, sizeof acts), vigil_action_name(action));
                        else if (seen_opt[oi])
                                k = ERR(ps, t->key_col, "option '%s' given twice", od->name);
                        else if (t->value_len == 0)
                                k = ERR(ps, t->value_col, "empty value for '%s'", od->name);
                        else {
                                seen_opt[oi] = true;
                                k = od->parse(ps, &r, t);
                        }
                } else
                        k = ERR(ps, t->key_col, "unknown condition or option '%s'",
                                EXC(ex, t->key, t->key_len));
        }
        if (k < 0 || ps->d->n_errors != errors) {
                rule_done(&r);
                return k < 0 ? k : 0;
        }

        if (action == VIGIL_ACTION_HOLD && r.timeout_ms == 0)
                r.timeout_ms = HOLD_DEFAULT_TIMEOUT_MS;
        /* Valid, but nobody may decide it (docs/approvals.md, fail closed). */
        if (action == VIGIL_ACTION_HOLD && !r.approvers) {
                k = WARN(ps, r.column,
                         "hold rule without approvers=: nobody may approve it, so its commands wait until "
                         "timeout= and are refused");
                if (k < 0) {
                        rule_done(&r);
                        return k;
                }
        }
        /* Evaluate cheap conditions first (see cond_kind); insertion sort keeps
         * the written order within a kind. */
        for (size_t i = 1; i < r.n_conds; i++) {
                cond c = r.conds[i];
                size_t j = i;

                while (j > 0 && r.conds[j - 1].kind > c.kind) {
                        r.conds[j] = r.conds[j - 1];
                        j--;
                }
                r.conds[j] = c;
        }

        k = lint_rule(ps, &r);
        if (k < 0) {
                rule_done(&r);
                return k;
        }
        if (ps->p->n_rules == ps->cap_rules) {
                size_t ncap = ps->cap_rules ? ps->cap_rules * 2 : 16;
                rule *nr = realloc(ps->p->rules, ncap * sizeof *nr);

                if (!nr) {
                        rule_done(&r);
                        return -ENOMEM;
                }
                ps->p->rules = nr;
                ps->cap_rules = ncap;
        }
        ps->p->rules[ps->p->n_rules++] = r;
        return 0;
}
