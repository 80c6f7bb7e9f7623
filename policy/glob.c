#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "policy.h"
#include "macro.h"

static bool is_meta(char c)
{
        return c == '*' || c == '?' || c == '[' || c == '\\';
}

bool glob_is_literal(const char *pat, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (is_meta(pat[i]))
                        return false;
        return true;
}

/* Check a bracket expression starting at pat[i] == '['; on success *ret_end is
 * the index just past its ']'. */
static int check_bracket(const char *pat, size_t i, size_t *ret_end, const char **ret_msg)
{
        size_t k = i + 1;

        if (pat[k] == '!' || pat[k] == '^')
                k++;
        if (pat[k] == ']')
                k++;
        for (; pat[k] && pat[k] != ']'; k++) {
                if (pat[k] == '/') {
                        *ret_msg = "'/' cannot appear inside [...]";
                        return -EINVAL;
                }
                if (pat[k] == '[' && (pat[k + 1] == ':' || pat[k + 1] == '=' || pat[k + 1] == '.')) {
                        *ret_msg = "character classes like [:alpha:] are not supported";
                        return -EINVAL;
                }
                if (pat[k] == '\\') {
                        if (!pat[k + 1] || pat[k + 1] == '/') {
                                *ret_msg = "'\\' must be followed by a character other than '/'";
                                return -EINVAL;
                        }
                        k++;
                }
        }
        if (!pat[k]) {
                *ret_msg = "unterminated '['";
                return -EINVAL;
        }
        *ret_end = k + 1;
        return 0;
}

int glob_check(const char *pat, const char **ret_msg, size_t *ret_off)
{
        for (size_t i = 0; pat[i];) {
                if (pat[i] == '[') {
                        size_t end;

                        if (check_bracket(pat, i, &end, ret_msg) < 0) {
                                *ret_off = i;
                                return -EINVAL;
                        }
                        i = end;
                } else if (pat[i] == '\\') {
                        if (!pat[i + 1] || pat[i + 1] == '/') {
                                *ret_msg = "'\\' must be followed by a character other than '/'";
                                *ret_off = i;
                                return -EINVAL;
                        }
                        i += 2;
                } else
                        i++;
        }
        return 0;
}

/* Copy src to dst escaping glob characters; returns the end of dst. */
static char *escape_into(char *dst, const char *src)
{
        for (; *src; src++) {
                if (is_meta(*src))
                        *dst++ = '\\';
                *dst++ = *src;
        }
        *dst = '\0';
        return dst;
}

/* realpath(3) of the longest leading part of path[0..n) that exists: on
 * success *ret_real is that (never "/": the root comes back as "") and
 * *ret_tail the offset in path where the unresolved rest starts. Returns 1
 * when nothing but the root exists (nothing to resolve). */
static int resolve_existing(const char *path, size_t n, char **ret_real, size_t *ret_tail)
{
        _cleanup_free_ char *lit = NULL;
        char *real;

        if (n == 0 || n >= PATH_MAX || path[0] != '/')
                return 1;
        lit = strndup(path, n);
        if (!lit)
                return -ENOMEM;
        for (;;) {
                char *slash;

                real = realpath(lit, NULL);
                if (real)
                        break;
                if (errno == ENOMEM)
                        return -ENOMEM;
                slash = strrchr(lit, '/');
                if (!slash || slash == lit)
                        return 1;
                *slash = '\0';
        }
        if (strcmp(real, "/") == 0)
                real[0] = '\0'; /* the rest brings its own leading '/' */
        *ret_real = real;
        *ret_tail = strlen(lit);
        return 0;
}

int glob_resolve_prefix(const char *pat, char **ret)
{
        _cleanup_free_ char *real = NULL;
        size_t lit_end = 0, len = strlen(pat), tail = 0;
        char *out;
        int r;

        /* lit_end: where the first component holding a glob character starts
         * (its leading '/'), or the end when there is none. */
        for (size_t i = 0; i <= len && pat[0] == '/'; i++) {
                if (i == len || pat[i] == '/') {
                        size_t j = i + 1;

                        lit_end = i;
                        if (i == len)
                                break;
                        while (j < len && pat[j] != '/')
                                j++;
                        if (!glob_is_literal(pat + i + 1, j - i - 1))
                                break;
                        i = j - 1;
                }
        }
        r = resolve_existing(pat, lit_end, &real, &tail);
        if (r < 0)
                return r;
        if (r > 0) {
                out = strdup(pat);
                if (!out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }
        out = malloc(2 * strlen(real) + (len - tail) + 2);
        if (!out)
                return -ENOMEM;
        strcpy(escape_into(out, real), pat + tail);
        if (out[0] == '\0')
                strcpy(out, "/");
        *ret = out;
        return 0;
}

int vigil_policy_resolve_path(const char *path, char **ret)
{
        _cleanup_free_ char *real = NULL;
        size_t tail = 0;
        char *out;
        int r;

        if (!path || path[0] != '/')
                return -EINVAL;
        r = resolve_existing(path, strlen(path), &real, &tail);
        if (r < 0)
                return r;
        if (r > 0)
                out = strdup(path);
        else if (asprintf(&out, "%s%s", real, path + tail) < 0)
                out = NULL;
        if (!out)
                return -ENOMEM;
        if (out[0] == '\0') {
                free(out);
                out = strdup("/");
                if (!out)
                        return -ENOMEM;
        }
        *ret = out;
        return 0;
}

int glob_compile(const char *pat, glob_pat *ret)
{
        glob_pat g = { 0 };
        size_t n = 1, len = strlen(pat), k = 0;

        if (len > UINT32_MAX / 2)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++)
                if (pat[i] == '/')
                        n++;
        g.text = strdup(pat);
        g.comps = calloc(n, sizeof *g.comps);
        if (!g.text || !g.comps) {
                glob_pat_done(&g);
                return -ENOMEM;
        }
        /* glob_check() rejects '/' inside brackets and after '\', so every
         * '/' separates components. */
        for (size_t start = 0;; k++) {
                size_t end = start;

                while (end < len && pat[end] != '/')
                        end++;
                g.comps[k].off = (unsigned)start;
                g.comps[k].len = (unsigned)(end - start);
                g.comps[k].dstar = end - start == 2 && pat[start] == '*' && pat[start + 1] == '*';
                if (end >= len)
                        break;
                start = end + 1;
        }
        g.n_comps = n;
        *ret = g;
        return 0;
}

void glob_pat_done(glob_pat *g)
{
        free(g->text);
        free(g->comps);
        *g = (glob_pat){ 0 };
}

bool glob_literal_basename(const glob_pat *g, const char **ret, size_t *ret_len)
{
        const glob_comp *c = &g->comps[g->n_comps - 1];

        if (c->len == 0 || !glob_is_literal(g->text + c->off, c->len))
                return false;
        *ret = g->text + c->off;
        *ret_len = c->len;
        return true;
}

/* Does the single byte s match the pattern item at p[*pi]? Advances *pi past
 * the item. The item is not '*'. */
static bool item_match(const char *p, size_t *pi, unsigned char s)
{
        size_t i = *pi;
        bool neg = false, hit = false;

        switch (p[i]) {
        case '?':
                *pi = i + 1;
                return true;
        case '\\':
                *pi = i + 2;
                return (unsigned char)p[i + 1] == s;
        case '[':
                break;
        default:
                *pi = i + 1;
                return (unsigned char)p[i] == s;
        }

        i++;
        if (p[i] == '!' || p[i] == '^')
                neg = true, i++;
        for (bool first = true; first || p[i] != ']'; first = false) {
                unsigned char lo, hi;

                if (p[i] == '\\')
                        i++;
                lo = hi = (unsigned char)p[i++];
                if (p[i] == '-' && p[i + 1] != ']') {
                        i++;
                        if (p[i] == '\\')
                                i++;
                        hi = (unsigned char)p[i++];
                }
                if (s >= lo && s <= hi)
                        hit = true;
        }
        *pi = i + 1;
        return hit != neg;
}

/* One component: '*' spans any run of bytes (there is no '/' here). Greedy
 * with a single backtrack point, so it is O(len(p) * len(s)). */
static bool comp_match(const char *p, size_t pn, const char *s, size_t sn)
{
        size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

        while (si < sn) {
                if (pi < pn) {
                        size_t next = pi;

                        if (p[pi] == '*') {
                                star_p = ++pi;
                                star_s = si;
                                continue;
                        }
                        if (item_match(p, &next, (unsigned char)s[si])) {
                                pi = next;
                                si++;
                                continue;
                        }
                }
                if (star_p == SIZE_MAX)
                        return false;
                pi = star_p;
                si = ++star_s;
        }
        while (pi < pn && p[pi] == '*')
                pi++;
        return pi == pn;
}

/* The same greedy scheme one level up: components are the items and "**"
 * is the star. */
bool glob_match(const glob_pat *g, const char *path)
{
        size_t pi = 0, star_pi = SIZE_MAX;
        const char *s = path, *star_s = NULL;
        bool done = false; /* every subject component consumed */

        while (!done) {
                const char *e = strchrnul(s, '/');

                if (pi < g->n_comps) {
                        const glob_comp *c = &g->comps[pi];

                        if (c->dstar) {
                                star_pi = ++pi;
                                star_s = s;
                                continue;
                        }
                        if (comp_match(g->text + c->off, c->len, s, (size_t)(e - s))) {
                                pi++;
                                if (*e)
                                        s = e + 1;
                                else
                                        done = true;
                                continue;
                        }
                }
                if (star_pi == SIZE_MAX)
                        return false;
                /* Let the last "**" swallow one more component and retry. */
                e = strchrnul(star_s, '/');
                pi = star_pi;
                if (!*e) {
                        done = true; /* it swallowed the rest */
                        continue;
                }
                star_s = e + 1;
                s = star_s;
        }
        while (pi < g->n_comps && g->comps[pi].dstar)
                pi++;
        return pi == g->n_comps;
}
