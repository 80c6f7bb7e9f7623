/* Policy parser. Statements, conditions and options are tables: adding one
 * is a row plus, when its value is of a new kind, a small parse function.
 * Anything not in a table is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lexer.h"
#include "macro.h"
#include "vigil-error.h"

#define MAX_ERRORS 50u
#define HOLD_DEFAULT_TIMEOUT_MS (5u * 60 * 1000)
#define HOLD_MAX_TIMEOUT_MS (24u * 60 * 60 * 1000)

typedef struct parser {
        vigil_policy *p;
        vigil_diags *d;
        unsigned line;
        bool seen_statement, seen_default, order_reported;
        unsigned default_line;
        size_t cap_rules, cap_masks;
        /* shadow warnings */
        unsigned catch_all_line;
        index_map sigs; /* canonical condition set -> first line */
        char **sig_keys;
        size_t n_sig_keys, cap_sig_keys;
} parser;

#define ERR(ps, col, ...) diag_add((ps)->d, VIGIL_DIAG_ERROR, (ps)->line, (col), __VA_ARGS__)
#define WARN(ps, col, ...) diag_add((ps)->d, VIGIL_DIAG_WARNING, (ps)->line, (col), __VA_ARGS__)

/* Quote a token's value or key for a message. */
#define EXC(buf, s, len) diag_excerpt(buf, sizeof(buf), s, len, 60)

/* ---- value parsers shared by tables -------------------------------- */

/* "90s", "10m", "1h": digits and exactly one unit. */
static int parse_duration_ms(const char *s, uint64_t *ret)
{
        uint64_t n = 0, unit;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (n > UINT32_MAX)
                        return -ERANGE;
                n = n * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0 || s[i + 1] != '\0')
                return -EINVAL;
        switch (s[i]) {
        case 's':
                unit = 1000;
                break;
        case 'm':
                unit = 60 * 1000;
                break;
        case 'h':
                unit = 60 * 60 * 1000;
                break;
        default:
                return -EINVAL;
        }
        if (n > UINT32_MAX)
                return -ERANGE;
        *ret = n * unit;
        return 0;
}

/* "0", "4096", "64K", "100M", "2G" (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret)
{
        uint64_t n = 0, mult = 1;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0)
                return -EINVAL;
        if (s[i]) {
                switch (s[i]) {
                case 'K':
                case 'k':
                        mult = 1024;
                        break;
                case 'M':
                case 'm':
                        mult = 1024 * 1024;
                        break;
                case 'G':
                case 'g':
                        mult = 1024 * 1024 * 1024;
                        break;
                default:
                        return -EINVAL;
                }
                if (s[i + 1])
                        return -EINVAL;
        }
        if (n > UINT64_MAX / mult)
                return -ERANGE;
        *ret = n * mult;
        return 0;
}

/* "group:G,user:U,local:NAME" */
static bool approvers_valid(const char *s)
{
        static const char *const kinds[] = { "group:", "user:", "local:" };

        for (;;) {
                const char *end = strchrnul(s, ',');
                bool ok = false;

                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        size_t kl = strlen(kinds[k]);

                        if ((size_t)(end - s) > kl && strncmp(s, kinds[k], kl) == 0)
                                ok = true;
                }
                if (!ok)
                        return false;
                if (!*end)
                        return true;
                s = end + 1;
        }
}

/* ---- rule conditions ------------------------------------------------ */

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
static int check_regex(parser *ps, const lex_token *t, pcre2_code **ret)
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

/* ---- shadow warnings ------------------------------------------------- */

static int cond_cmp(const void *a, const void *b)
{
        const cond *x = *(const cond *const *)a, *y = *(const cond *const *)b;
        const char *tx, *ty;

        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->negate != y->negate)
                return x->negate ? 1 : -1;
        tx = (x->kind == COND_EXE || x->kind == COND_CWD) ? x->u.glob.text : x->text;
        ty = (y->kind == COND_EXE || y->kind == COND_CWD) ? y->u.glob.text : y->text;
        return strcmp(tx, ty);
}

/* Canonical text of a rule's condition set: conditions sorted, each as
 * kind, negation, length and (resolved) value, so that equal sets give equal
 * strings whatever their order on the line. */
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
                const char *t = (v[i]->kind == COND_EXE || v[i]->kind == COND_CWD) ? v[i]->u.glob.text
                                                                                    : v[i]->text;
                fprintf(f, "%d%d:%zu:%s;", (int)v[i]->kind, (int)v[i]->negate, strlen(t), t);
        }
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

static int lint_rule(parser *ps, const rule *r)
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

/* ---- statements ----------------------------------------------------- */

typedef struct stmt_def {
        const char *name;
        int (*parse)(parser *ps, const lex_line *l, vigil_action action);
        vigil_action action;
} stmt_def;

static int stmt_rule(parser *ps, const lex_line *l, vigil_action action)
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

static int stmt_default(parser *ps, const lex_line *l, vigil_action action)
{
        const lex_token *t = l->n > 1 ? &l->tokens[1] : NULL;
        char ex[128];

        (void)action;
        if (ps->seen_default)
                return ERR(ps, l->tokens[0].key_col, "'default' given twice (first on line %u)",
                           ps->default_line);
        ps->seen_default = true;
        ps->default_line = ps->line;
        if (!t || t->op != LEX_OP_NONE)
                return ERR(ps, t ? t->key_col : l->tokens[0].key_col, "'default' takes 'allow' or 'deny'");
        if (lex_key_is(t, "allow"))
                ps->p->default_action = VIGIL_ACTION_ALLOW;
        else if (lex_key_is(t, "deny"))
                ps->p->default_action = VIGIL_ACTION_DENY;
        else
                return ERR(ps, t->key_col, "'default' takes 'allow' or 'deny', not '%s'",
                           EXC(ex, t->key, t->key_len));
        if (l->n > 2)
                return ERR(ps, l->tokens[2].key_col, "unexpected '%s' after 'default %s'",
                           EXC(ex, l->tokens[2].key, l->tokens[2].key_len),
                           vigil_action_name(ps->p->default_action));
        return 0;
}

static int stmt_mask(parser *ps, const lex_line *l, vigil_action action)
{
        const char *detector = NULL;
        const lex_token *regex = NULL, *replace = NULL;
        size_t errors = ps->d->n_errors;
        vigil_mask_rule m = { 0 };
        char ex[128];
        int k = 0;

        (void)action;
        for (size_t i = 1; i < l->n && k >= 0; i++) {
                const lex_token *t = &l->tokens[i];
                const lex_token **slot = NULL;

                if (t->op == LEX_OP_NONE) {
                        const char *found = NULL;

                        for (size_t j = 0; vigil_mask_detectors[j] && !found; j++)
                                if (lex_key_is(t, vigil_mask_detectors[j]))
                                        found = vigil_mask_detectors[j];
                        if (!found)
                                k = ERR(ps, t->key_col,
                                        "unknown mask detector '%s' (known: credit-card, aws-access-key, "
                                        "aws-secret-key, private-key, jwt, github-token, slack-token, ssn-us, "
                                        "email, iban, password-assignment)",
                                        EXC(ex, t->key, t->key_len));
                        else if (detector || regex)
                                k = ERR(ps, t->key_col, "mask takes one detector or regex=, not both");
                        else
                                detector = found;
                        continue;
                }
                if (lex_key_is(t, "regex"))
                        slot = &regex;
                else if (lex_key_is(t, "replace"))
                        slot = &replace;
                else {
                        k = ERR(ps, t->key_col, "unknown mask option '%s' (expected regex= or replace=)",
                                EXC(ex, t->key, t->key_len));
                        continue;
                }
                if (t->op != LEX_OP_EQ)
                        k = ERR(ps, t->key_col, "'%.*s' is an option: write %.*s=VALUE", (int)t->key_len, t->key,
                                (int)t->key_len, t->key);
                else if (*slot)
                        k = ERR(ps, t->key_col, "option '%.*s' given twice", (int)t->key_len, t->key);
                else if (t->value_len == 0)
                        k = ERR(ps, t->value_col, "empty value for '%.*s'", (int)t->key_len, t->key);
                else if (slot == &regex && detector)
                        k = ERR(ps, t->key_col, "mask takes one detector or regex=, not both");
                else {
                        if (slot == &regex)
                                k = check_regex(ps, t, NULL);
                        if (k == 0)
                                *slot = t;
                }
        }
        if (k < 0)
                return k;
        if (ps->d->n_errors != errors)
                return 0;
        if (!detector && !regex)
                return ERR(ps, l->tokens[0].key_col, "mask needs a detector name or regex=REGEX");

        m.file = ps->p->file;
        m.line = ps->line;
        m.detector = detector; /* static */
        m.regex = regex ? strdup(regex->value) : NULL;
        m.replace = replace ? strdup(replace->value) : NULL;
        if ((regex && !m.regex) || (replace && !m.replace))
                goto oom;
        if (ps->p->n_masks == ps->cap_masks) {
                size_t ncap = ps->cap_masks ? ps->cap_masks * 2 : 8;
                vigil_mask_rule *nm = realloc(ps->p->masks, ncap * sizeof *nm);

                if (!nm)
                        goto oom;
                ps->p->masks = nm;
                ps->cap_masks = ncap;
        }
        ps->p->masks[ps->p->n_masks++] = m;
        return 0;
oom:
        free((char *)m.regex);
        free((char *)m.replace);
        return -ENOMEM;
}

typedef struct record_def {
        const char *name;
        const char *const *words; /* allowed words, NULL-terminated; NULL for a size */
        const char *expect;
} record_def;

static const char *const words_bool[] = { "no", "yes", NULL };
static const char *const words_failure[] = { "kill", "continue", NULL };
static const char *const words_binary[] = { "digest", "full", NULL };

static const record_def record_defs[] = {
        { "input", words_bool, "'yes' or 'no'" },
        { "output", words_bool, "'yes' or 'no'" },
        { "on_failure", words_failure, "'kill' or 'continue'" },
        { "binary", words_binary, "'digest' or 'full'" },
        { "max_output", NULL, "a size such as 0 (no cap), 4096, 64K, 100M or 2G" },
};

static void record_set(vigil_record_opts *o, size_t which, size_t word, uint64_t size)
{
        switch (which) {
        case 0:
                o->input = word == 1;
                break;
        case 1:
                o->output = word == 1;
                break;
        case 2:
                o->on_failure = word == 1 ? VIGIL_RECORD_FAIL_CONTINUE : VIGIL_RECORD_FAIL_KILL;
                break;
        case 3:
                o->binary = word == 1 ? VIGIL_RECORD_BINARY_FULL : VIGIL_RECORD_BINARY_DIGEST;
                break;
        default:
                o->max_output = size;
                break;
        }
}

static int stmt_record(parser *ps, const lex_line *l, vigil_action action)
{
        bool seen[ELEMENTSOF(record_defs)] = { false };
        char ex[128];
        int k = 0;

        (void)action;
        if (l->n < 2)
                return ERR(ps, l->tokens[0].key_col,
                           "record needs at least one OPTION=VALUE (input, output, on_failure, binary, max_output)");
        for (size_t i = 1; i < l->n && k >= 0; i++) {
                const lex_token *t = &l->tokens[i];
                const record_def *rd = NULL;
                size_t which = 0, word = 0;
                uint64_t size = 0;

                for (size_t j = 0; j < ELEMENTSOF(record_defs) && !rd; j++)
                        if (lex_key_is(t, record_defs[j].name))
                                rd = &record_defs[j], which = j;
                if (!rd) {
                        k = ERR(ps, t->key_col,
                                "unknown record option '%s' (expected input, output, on_failure, binary or "
                                "max_output)",
                                EXC(ex, t->key, t->key_len));
                        continue;
                }
                if (t->op != LEX_OP_EQ) {
                        k = ERR(ps, t->key_col, "'%s' is an option: write %s=VALUE", rd->name, rd->name);
                        continue;
                }
                if (seen[which]) {
                        k = ERR(ps, t->key_col, "option '%s' given twice", rd->name);
                        continue;
                }
                seen[which] = true;
                if (rd->words) {
                        while (rd->words[word] && strcmp(rd->words[word], t->value) != 0)
                                word++;
                        if (!rd->words[word]) {
                                k = ERR(ps, t->value_col, "bad value '%s' for '%s': expected %s",
                                        EXC(ex, t->value, t->value_len), rd->name, rd->expect);
                                continue;
                        }
                } else if (parse_size(t->value, &size) < 0) {
                        k = ERR(ps, t->value_col, "bad size '%s' for '%s': expected %s",
                                EXC(ex, t->value, t->value_len), rd->name, rd->expect);
                        continue;
                }
                record_set(&ps->p->record, which, word, size);
        }
        return k < 0 ? k : 0;
}

static const stmt_def stmt_defs[] = {
        { "default", stmt_default, VIGIL_ACTION_DENY }, { "allow", stmt_rule, VIGIL_ACTION_ALLOW },
        { "deny", stmt_rule, VIGIL_ACTION_DENY },       { "hold", stmt_rule, VIGIL_ACTION_HOLD },
        { "audit", stmt_rule, VIGIL_ACTION_AUDIT },     { "mask", stmt_mask, VIGIL_ACTION_DENY },
        { "record", stmt_record, VIGIL_ACTION_DENY },
};

/* ---- driver --------------------------------------------------------- */

static int parse_line(parser *ps, const char *s, size_t len)
{
        _cleanup_(lex_line_done) lex_line l = { 0 };
        const stmt_def *sd = NULL;
        const lex_token *t0;
        const char *msg = NULL;
        unsigned col = 0;
        char ex[128];
        int k;

        if (len > VIGIL_POLICY_MAX_LINE)
                return ERR(ps, 1, "line is longer than %u bytes", VIGIL_POLICY_MAX_LINE);
        if (len > 0 && s[len - 1] == '\r')
                len--;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return ERR(ps, (unsigned)i + 1, "control character 0x%02x", c);
        }

        k = lex_split(s, len, &l, &col, &msg);
        if (k == -EINVAL)
                return ERR(ps, col, "%s", msg);
        if (k < 0)
                return k;
        if (l.n == 0)
                return 0;

        t0 = &l.tokens[0];
        for (size_t j = 0; j < ELEMENTSOF(stmt_defs) && !sd; j++)
                if (lex_key_is(t0, stmt_defs[j].name))
                        sd = &stmt_defs[j];
        if (!sd || t0->op != LEX_OP_NONE) {
                k = ERR(ps, t0->key_col,
                        "unknown statement '%s' (expected default, allow, deny, hold, audit, mask or record)",
                        EXC(ex, t0->key, t0->key_len));
                ps->seen_statement = true;
                ps->order_reported = true;
                return k;
        }

        if (sd->parse != stmt_default && !ps->seen_default && !ps->order_reported) {
                k = ERR(ps, t0->key_col, "expected 'default allow' or 'default deny' before any other statement");
                if (k < 0)
                        return k;
                ps->order_reported = true;
        } else if (sd->parse == stmt_default && ps->seen_statement && !ps->seen_default &&
                   !ps->order_reported) {
                k = ERR(ps, t0->key_col, "'default' must be the first statement");
                if (k < 0)
                        return k;
                ps->order_reported = true;
        }
        ps->seen_statement = true;
        return sd->parse(ps, &l, sd->action);
}

vigil_policy *vigil_policy_free(vigil_policy *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++)
                rule_done(&p->rules[i]);
        free(p->rules);
        for (size_t i = 0; i < p->n_masks; i++) {
                free((char *)p->masks[i].regex);
                free((char *)p->masks[i].replace);
        }
        free(p->masks);
        pcre2_match_context_free(p->mctx);
        index_free(&p->index);
        free(p->file);
        free(p);
        return NULL;
}

static void parser_done(parser *ps)
{
        for (size_t i = 0; i < ps->n_sig_keys; i++)
                free(ps->sig_keys[i]);
        free(ps->sig_keys);
        index_map_free(&ps->sigs);
}

int vigil_policy_parse(const char *text, size_t len, const char *filename, vigil_policy **ret,
                       vigil_diags *diags)
{
        _cleanup_(vigil_diags_clear) vigil_diags local = { 0 };
        vigil_policy *p = NULL;
        parser ps = { 0 };
        const char *nul;
        size_t pos = 0;
        int k = 0;

        ps.d = diags ? diags : &local;
        if (!filename)
                filename = "(policy)";
        if (len > VIGIL_POLICY_MAX_FILE) {
                k = diag_add(ps.d, VIGIL_DIAG_ERROR, 0, 0, "file is larger than %u bytes",
                             VIGIL_POLICY_MAX_FILE);
                return k < 0 ? k : VIGIL_E_TOO_BIG;
        }
        nul = memchr(text, '\0', len);
        if (nul) {
                const char *ls = text;
                unsigned line = 1;

                for (const char *c = text; c < nul; c++)
                        if (*c == '\n')
                                line++, ls = c + 1;
                k = diag_add(ps.d, VIGIL_DIAG_ERROR, line, (unsigned)(nul - ls) + 1,
                             "NUL byte: this is a binary file, not a policy");
                return k < 0 ? k : VIGIL_E_PARSE;
        }

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->file = strdup(filename);
        p->mctx = vregex_match_context_new();
        p->default_action = VIGIL_ACTION_DENY;
        p->record = (vigil_record_opts){ .input = false, .output = true,
                                         .on_failure = VIGIL_RECORD_FAIL_KILL,
                                         .binary = VIGIL_RECORD_BINARY_DIGEST, .max_output = 0 };
        if (!p->file || !p->mctx) {
                k = -ENOMEM;
                goto out;
        }
        ps.p = p;

        while (pos < len) {
                const char *s = text + pos, *nl;
                size_t ll;

                nl = memchr(s, '\n', len - pos);
                ll = nl ? (size_t)(nl - s) : len - pos;
                ps.line++;
                k = parse_line(&ps, s, ll);
                if (k < 0)
                        goto out;
                if (ps.d->n_errors >= MAX_ERRORS) {
                        k = diag_add(ps.d, VIGIL_DIAG_ERROR, ps.line, 1, "too many errors, stopping here");
                        if (k < 0)
                                goto out;
                        break;
                }
                pos += ll + 1;
        }

        if (len == 0)
                k = diag_add(ps.d, VIGIL_DIAG_ERROR, 1, 1,
                             "the file is empty: a policy needs at least 'default deny' or 'default allow'");
        else if (!ps.seen_statement && ps.d->n_errors == 0)
                k = diag_add(ps.d, VIGIL_DIAG_ERROR, 1, 1,
                             "missing 'default' statement: a policy starts with 'default deny' or 'default allow'");
        if (k < 0)
                goto out;
        diag_sort(ps.d);
        if (ps.d->n_errors > 0) {
                k = VIGIL_E_PARSE;
                goto out;
        }
        k = index_build(p);
        if (k < 0)
                goto out;
        *ret = TAKE_PTR(p);
        k = 0;
out:
        parser_done(&ps);
        vigil_policy_free(p);
        return k;
}
