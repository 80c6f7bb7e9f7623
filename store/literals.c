/* The literal strings every match of a regex must contain, so the trigram
 * index can rule units out. Conservative by construction: anything not
 * understood ends the current literal (or, for a top-level alternation or an
 * inline option, gives up), and giving up only costs speed. */
#include <string.h>

#include "literals.h"

static void save(vbuf *run, vbuf *out, size_t *n)
{
        if (run->len >= 3) {
                vbuf_varint(out, run->len);
                vbuf_put(out, run->p, run->len);
                (*n)++;
        }
        vbuf_reset(run);
}

/* Drop the last character (all bytes of a UTF-8 sequence). */
static void drop_last(vbuf *run)
{
        while (run->len > 0) {
                uint8_t c = run->p[--run->len];

                if ((c & 0xc0) != 0x80)
                        break;
        }
}

int regex_literals(const char *re, vbuf *out, size_t *ret_n)
{
        vbuf run = { 0 };
        size_t n = 0;
        int depth = 0;
        int r = 0;

        vbuf_reset(out);
        if (strstr(re, "(?") || strstr(re, "\\Q") || strstr(re, "(*")) {
                *ret_n = 0;
                return 0;
        }
        for (const char *p = re; *p; p++) {
                unsigned char c = (unsigned char)*p;

                switch (c) {
                case '\\':
                        if (!p[1]) {
                                save(&run, out, &n);
                                break;
                        }
                        p++;
                        if (depth == 0 && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                            (*p >= '0' && *p <= '9')))
                                vbuf_u8(&run, (uint8_t)*p);
                        else
                                save(&run, out, &n);
                        break;
                case '|':
                        if (depth == 0) {
                                /* a|b: no literal is required by every match */
                                vbuf_free(&run);
                                vbuf_reset(out);
                                *ret_n = 0;
                                return 0;
                        }
                        break;
                case '(':
                        save(&run, out, &n);
                        depth++;
                        break;
                case ')':
                        if (depth > 0)
                                depth--;
                        save(&run, out, &n);
                        break;
                case '[':
                        save(&run, out, &n);
                        /* Skip the class: a ']' right after '[' or '[^' is literal. */
                        p++;
                        if (*p == '^')
                                p++;
                        if (*p == ']')
                                p++;
                        while (*p && *p != ']') {
                                if (*p == '\\' && p[1])
                                        p++;
                                else if (*p == '[' && p[1] == ':') {
                                        const char *e = strstr(p, ":]");

                                        if (e)
                                                p = e + 1;
                                }
                                p++;
                        }
                        if (!*p)
                                p--;
                        break;
                case '*':
                case '?':
                        drop_last(&run);
                        save(&run, out, &n);
                        break;
                case '{': {
                        const char *q = p + 1;
                        bool digits = false, zero = true;

                        while (*q >= '0' && *q <= '9') {
                                if (*q != '0')
                                        zero = false;
                                q++;
                                digits = true;
                        }
                        if (*q == ',') {
                                q++;
                                while (*q >= '0' && *q <= '9')
                                        q++;
                        }
                        if (*q == '}' && (digits || q > p + 2)) {
                                /* A quantifier: {0,n} or {,n} makes the atom optional. */
                                if (!digits || zero)
                                        drop_last(&run);
                                p = q;
                        }
                        save(&run, out, &n);
                        break;
                }
                case '+':
                case '.':
                case '^':
                case '$':
                        save(&run, out, &n);
                        break;
                default:
                        if (depth == 0)
                                vbuf_u8(&run, c);
                        break;
                }
        }
        save(&run, out, &n);
        if (out->oom)
                r = -ENOMEM;
        vbuf_free(&run);
        *ret_n = r < 0 ? 0 : n;
        return r;
}
