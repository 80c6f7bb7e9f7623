/* The stream's buffer and the escape-free view the regexes search.
 *
 * Escape sequences are dropped from the view so that `\e[31m4111 1111 1111
 * 1111\e[0m`, or a secret with a colour change inside, reads as plain text.
 * Stripped: CSI (ESC [ params intermediates final) and the short ESC
 * sequences (ESC intermediates final, which includes the string
 * introducers ESC ] and ESC P and the terminator ESC \). The payload of an
 * OSC or DCS string stays in the view, so a secret in a window title is
 * still masked. The string's ends are not text on the screen next to it: a
 * string introducer's or terminator's final byte stands in the view as a
 * line break, so that no match joins the title to the text around it (a
 * card number followed by `\e]0;title` must not take the title's "0"). A
 * malformed sequence ends where it stops being well formed;
 * one longer than MASK_ESC_MAX bytes ends there. The tokenizer's state
 * carries over from one feed to the next, so a sequence split across writes
 * is stripped just the same. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mask-internal.h"

static int grow(void **p, size_t *cap, size_t want, size_t elem)
{
        size_t c = *cap ?: 64;
        void *q;

        if (want <= *cap)
                return 0;
        while (c < want)
                c *= 2;
        q = realloc(*p, c * elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = c;
        return 0;
}

size_t mask_gap_after(const vigil_mask_stream *s, size_t i)
{
        size_t lo = 0, hi = s->n_gaps;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->gaps[mid].v <= i)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

size_t mask_vraw(const vigil_mask_stream *s, size_t i)
{
        size_t g;

        if (s->ident || s->n_gaps == 0)
                return i;
        g = mask_gap_after(s, i);
        return g == 0 ? i : i + s->gaps[g - 1].delta;
}

/* View bytes from raw [r, r + n). */
static int push(vigil_mask_stream *s, size_t r, size_t n)
{
        size_t delta = r - s->vlen, cur = s->n_gaps ? s->gaps[s->n_gaps - 1].delta : 0;

        if (delta != cur) {
                int k = grow((void **)&s->gaps, &s->gaps_cap, s->n_gaps + 1, sizeof(view_gap));

                if (k < 0)
                        return k;
                s->gaps[s->n_gaps++] = (view_gap){.v = s->vlen, .delta = delta};
        }
        memcpy(s->view + s->vlen, s->buf + r, n);
        s->vlen += n;
        return 0;
}

enum { TOK_STRIPPED, TOK_TEXT, TOK_BREAK };

/* One raw byte through the escape tokenizer: TOK_TEXT when it is text,
 * TOK_BREAK when it ends a string introducer or terminator (it stands in
 * the view as a line break; see mask_esc_string_end()). */
static int tokenize(vigil_mask_stream *s, unsigned char b)
{
        switch (s->esc) {
        case ESC_GROUND:
                break;
        case ESC_ESC:
                if (b == '[') {
                        s->esc = ESC_CSI;
                        s->esc_len++;
                        return TOK_STRIPPED;
                }
                if (b >= 0x20 && b <= 0x2f) {
                        s->esc = ESC_INTER;
                        s->esc_len++;
                        return TOK_STRIPPED;
                }
                s->esc = ESC_GROUND;
                if (mask_esc_string_end(b))
                        return TOK_BREAK;
                if (b >= 0x30 && b <= 0x7e)
                        return TOK_STRIPPED; /* ESC x: complete */
                break;                       /* not an escape: the byte is text (or a new ESC) */
        case ESC_CSI:
        case ESC_INTER: {
                bool csi = s->esc == ESC_CSI;

                if (b >= 0x20 && b <= (csi ? 0x3f : 0x2f)) {
                        if (++s->esc_len >= MASK_ESC_MAX)
                                s->esc = ESC_GROUND;
                        return TOK_STRIPPED;
                }
                s->esc = ESC_GROUND;
                if (b >= (csi ? 0x40 : 0x30) && b <= 0x7e)
                        return TOK_STRIPPED;
                break;
        }
        }
        if (b == 0x1b) {
                s->esc = ESC_ESC;
                s->esc_len = 1;
                return TOK_STRIPPED;
        }
        return TOK_TEXT;
}

int mask_view_append(vigil_mask_stream *s, const char *data, size_t n)
{
        size_t old = s->len;
        int k;

        if (n == 0)
                return 0;
        k = grow((void **)&s->buf, &s->cap, s->len + n, 1);
        if (k < 0)
                return k;
        memcpy(s->buf + s->len, data, n);
        s->len += n;

        if (s->ident) {
                if (!memchr(data, 0x1b, n))
                        return 0;
                /* First escape: from now on the view is a separate copy. */
                k = grow((void **)&s->view, &s->vcap, s->len, 1);
                if (k < 0)
                        return k;
                memcpy(s->view, s->buf, old);
                s->vlen = old;
                s->n_gaps = 0;
                s->esc = ESC_GROUND;
                s->ident = false;
        }
        k = grow((void **)&s->view, &s->vcap, s->vlen + n, 1);
        if (k < 0)
                return k;
        for (size_t i = old; i < s->len;) {
                if (s->esc == ESC_GROUND) {
                        /* Text up to the next ESC in one go. */
                        const char *e = memchr(s->buf + i, 0x1b, s->len - i);
                        size_t j = e ? (size_t)(e - s->buf) : s->len;

                        if (j > i) {
                                k = push(s, i, j - i);
                                if (k < 0)
                                        return k;
                                i = j;
                                continue;
                        }
                }
                int tok = tokenize(s, (unsigned char)s->buf[i]);

                if (tok != TOK_STRIPPED) {
                        k = push(s, i, 1);
                        if (k < 0)
                                return k;
                        if (tok == TOK_BREAK)
                                s->view[s->vlen - 1] = '\n';
                }
                i++;
        }
        return 0;
}

/* Drop history beyond MASK_HISTORY view bytes before vdone. */
void mask_view_compact(vigil_mask_stream *s)
{
        size_t vcut, rcut, dcut, g, keep;

        if (s->vdone <= MASK_HISTORY)
                return;
        vcut = s->vdone - MASK_HISTORY;
        rcut = mask_vraw(s, vcut);
        memmove(s->buf, s->buf + rcut, s->len - rcut);
        s->len -= rcut;
        s->done -= rcut;
        s->term -= rcut;
        s->echo_pos = s->echo_pos > rcut ? s->echo_pos - rcut : 0;
        s->vdone -= vcut;
        for (size_t i = 0; i < s->set->n; i++)
                s->resume[i] = s->resume[i] > vcut ? s->resume[i] - vcut : 0;
        s->at_start = false;
        if (s->ident)
                return;
        memmove(s->view, s->view + vcut, s->vlen - vcut);
        s->vlen -= vcut;
        /* Gap entries: the one in force at vcut becomes the base (delta dcut is
         * now 0); earlier ones go. */
        dcut = rcut - vcut;
        g = mask_gap_after(s, vcut);
        keep = 0;
        for (size_t j = g; j < s->n_gaps; j++)
                s->gaps[keep++] = (view_gap){.v = s->gaps[j].v - vcut, .delta = s->gaps[j].delta - dcut};
        s->n_gaps = keep;
        /* No escape left in the buffer: back to searching the raw bytes. */
        if (s->n_gaps == 0 && s->vlen == s->len && s->esc == ESC_GROUND)
                s->ident = true;
}
