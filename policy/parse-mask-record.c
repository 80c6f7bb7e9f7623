/* The mask and record statements. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parser.h"
#include "vigil-error.h"

int stmt_mask(parser *ps, const lex_line *l, vigil_action action)
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

int stmt_record(parser *ps, const lex_line *l, vigil_action action)
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
