/* Parser internals shared by parse*.c and lint.c. Internal to policy/. */
#pragma once

#include "internal.h"
#include "lexer.h"

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

/* Report at the current line; these return 0 or -ENOMEM. */
#define ERR(ps, col, ...) diag_add((ps)->d, VIGIL_DIAG_ERROR, (ps)->line, (col), __VA_ARGS__)
#define WARN(ps, col, ...) diag_add((ps)->d, VIGIL_DIAG_WARNING, (ps)->line, (col), __VA_ARGS__)

/* Quote a token's value or key for a message. */
#define EXC(buf, s, len) diag_excerpt(buf, sizeof(buf), s, len, 60)

/* Statement parsers: 0 when parsed or when the problems were reported as
 * diagnostics, <0 (-ENOMEM) otherwise. */
int stmt_rule(parser *ps, const lex_line *l, vigil_action action);
int stmt_mask(parser *ps, const lex_line *l, vigil_action action);
int stmt_record(parser *ps, const lex_line *l, vigil_action action);

/* Compile a regex token for checking (ret NULL: discard). 0 when valid, 1
 * when an error was reported, <0 on -ENOMEM. */
int check_regex(parser *ps, const lex_token *t, pcre2_code **ret);

/* Shadowed-rule warnings for a rule about to be added. */
int lint_rule(parser *ps, const rule *r);
void lint_done(parser *ps);

/* values.c: option values. 0, -EINVAL when malformed, -ERANGE when too big. */
int parse_duration_ms(const char *s, uint64_t *ret); /* "90s", "10m", "1h" */
int parse_size(const char *s, uint64_t *ret);        /* "0", "4096", "64K", "100M", "2G" */
bool approvers_valid(const char *s);                 /* "group:G,user:U,local:NAME" */
