#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

static bool is_key_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
}

const char *lex_op_str(lex_op op)
{
        switch (op) {
        case LEX_OP_EQ:
                return "=";
        case LEX_OP_NE:
                return "!=";
        case LEX_OP_RE:
                return "~";
        case LEX_OP_NRE:
                return "!~";
        case LEX_OP_NONE:
                break;
        }
        return "";
}

bool lex_key_is(const lex_token *t, const char *name)
{
        return strlen(name) == t->key_len && memcmp(t->key, name, t->key_len) == 0;
}

void lex_line_done(lex_line *l)
{
        free(l->tokens);
        free(l->values);
        *l = (lex_line){ 0 };
}

/* Read a value starting at line[*i] into out (at most len bytes are ever
 * written, because unquoting never makes a value longer). */
static int lex_value(const char *line, size_t len, size_t *i, char *out, size_t *ret_len, unsigned *ret_col,
                     const char **ret_msg)
{
        size_t o = 0, k = *i;

        while (k < len && !is_space(line[k])) {
                char c = line[k];

                if (c == '\'') {
                        size_t start = k++;

                        while (k < len && line[k] != '\'')
                                out[o++] = line[k++];
                        if (k >= len) {
                                *ret_col = (unsigned)start + 1;
                                *ret_msg = "unterminated single quote";
                                return -EINVAL;
                        }
                        k++;
                } else if (c == '"') {
                        size_t start = k++;

                        while (k < len && line[k] != '"') {
                                if (line[k] == '\\' && k + 1 < len && (line[k + 1] == '"' || line[k + 1] == '\\'))
                                        k++;
                                out[o++] = line[k++];
                        }
                        if (k >= len) {
                                *ret_col = (unsigned)start + 1;
                                *ret_msg = "unterminated double quote";
                                return -EINVAL;
                        }
                        k++;
                } else
                        out[o++] = line[k++];
        }
        out[o] = '\0';
        *ret_len = o;
        *i = k;
        return 0;
}

int lex_split(const char *line, size_t len, lex_line *ret, unsigned *ret_col, const char **ret_msg)
{
        size_t i = 0, cap = 0, used = 0;

        *ret = (lex_line){ 0 };
        /* Unquoted values are never longer than the line, and each ends in a NUL. */
        ret->values = malloc(len + len / 2 + 2);
        if (!ret->values)
                return -ENOMEM;

        for (;;) {
                lex_token t = { 0 };
                int r;

                while (i < len && is_space(line[i]))
                        i++;
                if (i >= len || line[i] == '#')
                        return 0;

                t.key = line + i;
                t.key_col = (unsigned)i + 1;
                while (i < len && is_key_char(line[i]))
                        i++;
                t.key_len = (size_t)(line + i - t.key);

                if (i < len && line[i] == '=')
                        t.op = LEX_OP_EQ, i += 1;
                else if (i < len && line[i] == '~')
                        t.op = LEX_OP_RE, i += 1;
                else if (i + 1 < len && line[i] == '!' && line[i + 1] == '=')
                        t.op = LEX_OP_NE, i += 2;
                else if (i + 1 < len && line[i] == '!' && line[i + 1] == '~')
                        t.op = LEX_OP_NRE, i += 2;
                else if (i < len && !is_space(line[i])) {
                        *ret_col = (unsigned)i + 1;
                        *ret_msg = t.key_len > 0 ? "expected '=', '!=', '~' or '!~' after the name"
                                   : line[i] == '\'' || line[i] == '"'
                                           ? "a quoted value needs a NAME= before it (e.g. exe='/opt/my app/*')"
                                           : "expected a word or NAME=VALUE";
                        return -EINVAL;
                }

                if (t.key_len == 0) {
                        *ret_col = t.key_col;
                        *ret_msg = "expected a name before the operator";
                        return -EINVAL;
                }

                if (t.op != LEX_OP_NONE) {
                        t.value = ret->values + used;
                        t.value_col = (unsigned)i + 1;
                        r = lex_value(line, len, &i, t.value, &t.value_len, ret_col, ret_msg);
                        if (r < 0)
                                return r;
                        used += t.value_len + 1;
                }

                if (ret->n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        lex_token *nt = realloc(ret->tokens, ncap * sizeof *nt);

                        if (!nt)
                                return -ENOMEM;
                        ret->tokens = nt;
                        cap = ncap;
                }
                ret->tokens[ret->n++] = t;
        }
}
