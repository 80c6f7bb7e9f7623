/* Policy lexer: splits one line into tokens. Internal to policy/.
 *
 * A token is either a bare word (`allow`, `credit-card`) or KEY OP VALUE
 * (`exe=/usr/bin/git`, `cmd!~'rm -rf'`). Quoting works as in sh, but only to
 * group: 'single' quotes are literal, "double" quotes take \" and \\ as
 * escapes and keep every other backslash, unquoted backslashes are ordinary
 * characters (so a regex like \bsudo\b needs no quoting). Quoted and unquoted
 * pieces may be joined (a"b c"d is one value). `#` at the start of a token
 * begins a comment. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum lex_op {
        LEX_OP_NONE, /* bare word */
        LEX_OP_EQ,   /* = */
        LEX_OP_NE,   /* != */
        LEX_OP_RE,   /* ~ */
        LEX_OP_NRE,  /* !~ */
} lex_op;

typedef struct lex_token {
        const char *key; /* points into the line; NOT NUL-terminated, see key_len */
        size_t key_len;
        unsigned key_col; /* 1-based */
        lex_op op;
        char *value; /* unquoted, NUL-terminated, owned by the lex_line; NULL for bare words */
        size_t value_len;
        unsigned value_col; /* column where the value starts */
} lex_token;

typedef struct lex_line {
        lex_token *tokens;
        size_t n;
        char *values; /* storage for every value */
} lex_line;

/**
 * lex_split() - tokenize one line (without its newline).
 * @param[in]  line     the text; need not be NUL-terminated.
 * @param[in]  len      its length.
 * @param[out] ret      tokens on success; on error the tokens before the error.
 *                      Always release with lex_line_done().
 * @param[out] ret_col  on error, the 1-based column of the problem.
 * @param[out] ret_msg  on error, a static message.
 * @return 0, -EINVAL on a lexical error, -ENOMEM.
 */
int lex_split(const char *line, size_t len, lex_line *ret, unsigned *ret_col, const char **ret_msg);

/** Release what lex_split() allocated; accepts an all-zero lex_line. */
void lex_line_done(lex_line *l);

/** Operator as written ("=", "!=", "~", "!~", or "" for none). */
const char *lex_op_str(lex_op op);

/** True when the token's key equals @name. */
bool lex_key_is(const lex_token *t, const char *name);
