/* Policy parser: splits the text into lines and hands each to the parser
 * of its statement. Statements, conditions, options and record keys are
 * tables (stmt_defs here, cond_defs and opt_defs in parse-rule.c,
 * record_defs in parse-mask-record.c): adding one is a row plus, when its
 * value is of a new kind, a small parse function. Anything not in a table is
 * an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parser.h"
#include "vigil-error.h"

#define MAX_ERRORS 50u

typedef struct stmt_def {
        const char *name;
        int (*parse)(parser *ps, const lex_line *l, vigil_action action);
        vigil_action action;
} stmt_def;

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

static const stmt_def stmt_defs[] = {
        { "default", stmt_default, VIGIL_ACTION_DENY }, { "allow", stmt_rule, VIGIL_ACTION_ALLOW },
        { "deny", stmt_rule, VIGIL_ACTION_DENY },       { "hold", stmt_rule, VIGIL_ACTION_HOLD },
        { "audit", stmt_rule, VIGIL_ACTION_AUDIT },     { "mask", stmt_mask, VIGIL_ACTION_DENY },
        { "record", stmt_record, VIGIL_ACTION_DENY },
};

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
        lint_done(&ps);
        vigil_policy_free(p);
        return k;
}
