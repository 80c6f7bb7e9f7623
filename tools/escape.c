#include <stdint.h>
#include <string.h>

#include "escape.h"

/* The length of the valid UTF-8 sequence at @s (at most @n bytes) and its
 * code point, or 0 when the bytes there are not one. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *ret)
{
        uint32_t cp;
        size_t len;

        if (s[0] < 0x80) {
                *ret = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return len;
}

/* Characters that are not controls in C0 but still act on a terminal or on
 * how the line reads: C1 controls, line and paragraph separators, the
 * bidirectional embeddings, overrides and isolates, and the marks. */
static bool unsafe_cp(uint32_t cp)
{
        return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
               cp == 0x200f || cp == 0x061c || cp == 0xfeff;
}

/* Length of a well-formed escape sequence starting with ESC at @s, or 0. */
static size_t escape_sequence(const unsigned char *s, size_t n)
{
        size_t i;

        if (n < 2)
                return 0;
        if (s[1] == '[') { /* CSI: parameters and intermediates, then a final byte */
                for (i = 2; i < n && i < 64; i++) {
                        if (s[i] >= 0x40 && s[i] <= 0x7e)
                                return i + 1;
                        if (s[i] < 0x20 || s[i] > 0x3f)
                                return 0;
                }
                return 0;
        }
        if (s[1] == ']') { /* OSC: up to BEL or ESC \ */
                for (i = 2; i < n && i < 512; i++) {
                        if (s[i] == 0x07)
                                return i + 1;
                        if (s[i] == 0x1b)
                                return i + 1 < n && s[i + 1] == '\\' ? i + 2 : 0;
                        if (s[i] < 0x20)
                                return 0;
                }
                return 0;
        }
        if (s[1] >= 0x40 && s[1] <= 0x5f && s[1] != '[' && s[1] != ']' && s[1] != 'P' && s[1] != 'X' &&
            s[1] != '^' && s[1] != '_')
                return 2;
        if (s[1] == '(' || s[1] == ')') /* character set selection */
                return n >= 3 && s[2] > 0x20 && s[2] < 0x7f ? 3 : 0;
        return 0;
}

void cli_put_text(FILE *f, const char *str, size_t len, bool screen)
{
        const unsigned char *s = (const unsigned char *)str;
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t n;

                if (c == '\n' || c == '\t') {
                        if (screen)
                                fputc(c, f);
                        else
                                fputs(c == '\n' ? "\\n" : "\\t", f);
                        i++;
                        continue;
                }
                if (c == '\r') {
                        if (screen) {
                                if (!(i + 1 < len && s[i + 1] == '\n'))
                                        fputc('\n', f);
                        } else
                                fputs("\\r", f);
                        i++;
                        continue;
                }
                if (c == 0x1b) {
                        n = screen ? escape_sequence(s + i, len - i) : 0;
                        if (n == 0) {
                                fputs("\\e", f);
                                n = 1;
                        }
                        i += n;
                        continue;
                }
                if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\x%02x", c);
                        i++;
                        continue;
                }
                n = utf8_char(s + i, len - i, &cp);
                if (n == 0) {
                        fprintf(f, "\\x%02x", c);
                        i++;
                        continue;
                }
                if (unsafe_cp(cp))
                        fprintf(f, "\\u{%04x}", (unsigned)cp);
                else
                        fwrite(s + i, 1, n, f);
                i += n;
        }
}

void cli_put_str(FILE *f, const char *s)
{
        if (s)
                cli_put_text(f, s, strlen(s), false);
}

static bool needs_quotes(const char *s)
{
        if (!*s)
                return true;
        for (; *s; s++)
                if (strchr(" \t\n\r'\"\\$`!*?[]{}()<>|&;#~", *s) || (unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

void cli_put_argv(FILE *f, char *const *argv, size_t argc)
{
        for (size_t i = 0; i < argc; i++) {
                const char *a = argv[i] ? argv[i] : "";

                if (i)
                        fputc(' ', f);
                if (!needs_quotes(a)) {
                        cli_put_str(f, a);
                        continue;
                }
                fputc('\'', f);
                for (const char *p = a; *p;) {
                        const char *q = strchr(p, '\'');
                        size_t n = q ? (size_t)(q - p) : strlen(p);

                        cli_put_text(f, p, n, false);
                        if (!q)
                                break;
                        fputs("'\\''", f);
                        p = q + 1;
                }
                fputc('\'', f);
        }
}
