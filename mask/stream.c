/* Streams: feeding bytes, deciding what to release, and the two outputs
 * (recording, terminal). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mask-internal.h"

/* Feeds are processed in segments of at most this many bytes, which bounds
 * the buffer at MASK_HISTORY + VIGIL_MASK_MAX_HOLD + SEGMENT. */
#define SEGMENT (64u * 1024)
/* Substitution output beyond this falls back to the rule's default text. */
#define MAX_SUBST (64u * 1024)

void mask_stream_debug_no_prefilter(vigil_mask_stream *s)
{
        s->no_prefilter = true;
}

vigil_mask_stream *vigil_mask_stream_free(vigil_mask_stream *s)
{
        if (!s)
                return NULL;
        if (s->md)
                for (size_t i = 0; i < s->set->n; i++)
                        pcre2_match_data_free(s->md[i]);
        free(s->md);
        pcre2_match_context_free(s->mctx);
        pcre2_jit_stack_free(s->jit_stack);
        free(s->cands);
        free(s->resume);
        free(s->counts);
        free(s->buf);
        free(s->view);
        free(s->gaps);
        vigil_mask_buf_done(&s->scratch);
        free(s);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vigil_mask_stream *, vigil_mask_stream_free)

int vigil_mask_stream_new(const vigil_mask_set *set, unsigned flags, vigil_mask_stream **ret)
{
        _cleanup_(vigil_mask_stream_freep) vigil_mask_stream *s = NULL;
        size_t n;

        if (!set || !ret || (flags & ~(unsigned)(VIGIL_MASK_SNIFF_BINARY | VIGIL_MASK_PASSTHROUGH)))
                return -EINVAL;
        n = set->n;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->set = set;
        s->flags = flags;
        s->passthrough = flags & VIGIL_MASK_PASSTHROUGH;
        s->ident = true;
        s->at_start = true;
        s->md = calloc(n ?: 1, sizeof(*s->md));
        s->cands = calloc(n ?: 1, sizeof(*s->cands));
        s->counts = calloc(n ?: 1, sizeof(*s->counts));
        s->resume = calloc(n ?: 1, sizeof(*s->resume));
        s->mctx = pcre2_match_context_create(NULL);
        /* Built-in patterns need little; a regex= rule gets room up to 1 MiB and
         * PCRE2's match limit, beyond which it fails closed (see mask.h). */
        s->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (!s->md || !s->cands || !s->counts || !s->resume || !s->mctx || !s->jit_stack)
                return -ENOMEM;
        pcre2_jit_stack_assign(s->mctx, NULL, s->jit_stack);
        (void)pcre2_set_match_limit(s->mctx, 1000000);
        (void)pcre2_set_depth_limit(s->mctx, 10000);
        (void)pcre2_set_heap_limit(s->mctx, 8192);
        for (size_t i = 0; i < n; i++) {
                s->md[i] = pcre2_match_data_create(set->max_pairs, NULL);
                if (!s->md[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- output --------------------------------------------------------- */

/* Visible raw bytes [a, b): to the recording, and to the terminal the part
 * it has not had yet. */
static int emit_visible(vigil_mask_stream *s, size_t a, size_t b, vigil_mask_buf *rec, vigil_mask_buf *term)
{
        int k;

        if (b <= a)
                return 0;
        k = mask_buf_append(rec, s->buf + a, b - a);
        if (k < 0)
                return k;
        if (term && b > s->term) {
                size_t from = a > s->term ? a : s->term;

                k = mask_buf_append(term, s->buf + from, b - from);
                if (k < 0)
                        return k;
        }
        if (b > s->term)
                s->term = b;
        return 0;
}

/* Whether view byte v stands for the final byte of ESC ] (or another string
 * introducer or terminator, view.c): the line break that keeps a control
 * string's text apart from the text around it. */
static bool view_break_at(const vigil_mask_stream *s, size_t v)
{
        size_t r;

        if (s->ident || s->view[v] != '\n')
                return false;
        r = mask_vraw(s, v);
        return r > 0 && s->buf[r - 1] == 0x1b && mask_esc_string_end((unsigned char)s->buf[r]);
}

/* The replacement text for rule i's match c, into s->scratch or as given. */
static int replacement(vigil_mask_stream *s, const search_ctx *ctx, size_t i, const cand *c,
                       const char **ret, size_t *ret_len)
{
        const mask_rule *m = &s->set->rules[i];
        PCRE2_SIZE out;
        int rc, k;

        *ret = m->replace;
        *ret_len = m->replace_len;
        if (!m->substitute || c->kind != CAND_FULL)
                return 0;
        k = mask_buf_reserve(&s->scratch, 256);
        if (k < 0)
                return k;
        for (int attempt = 0; attempt < 2; attempt++) {
                out = s->scratch.cap;
                rc = pcre2_substitute(m->re, (PCRE2_SPTR)ctx->view, c->subj, c->s,
                                      PCRE2_SUBSTITUTE_MATCHED | PCRE2_SUBSTITUTE_REPLACEMENT_ONLY |
                                              PCRE2_SUBSTITUTE_UNSET_EMPTY |
                                              PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
                                      s->md[i], ctx->mctx, (PCRE2_SPTR)m->replace, m->replace_len,
                                      (PCRE2_UCHAR *)s->scratch.data, &out);
                if (rc >= 0) {
                        *ret = s->scratch.data;
                        *ret_len = out;
                        return 0;
                }
                if (rc != PCRE2_ERROR_NOMEMORY || out > MAX_SUBST)
                        break;
                k = mask_buf_reserve(&s->scratch, out + 1);
                if (k < 0)
                        return k;
        }
        /* Cannot substitute: the default text still hides the secret. */
        *ret = "[MASKED:regex]";
        *ret_len = strlen(*ret);
        return 0;
}

/* View span [vs, ve) of rule i replaced; the escape sequences inside it are
 * kept (after the replacement) so the terminal's state stays as the program
 * meant it. */
static int emit_mask(vigil_mask_stream *s, const search_ctx *ctx, size_t i, const cand *c,
                     vigil_mask_buf *rec, vigil_mask_buf *term)
{
        size_t b = mask_vraw(s, c->e - 1) + 1;
        bool to_term = term && s->term < b;
        const char *text;
        size_t tlen;
        int k;

        k = replacement(s, ctx, i, c, &text, &tlen);
        if (k < 0)
                return k;
        if (view_break_at(s, c->s)) {
                /* A match from such a break on: the break's raw byte goes out
                 * first, after its ESC, so that the sequence stays whole. */
                size_t r = mask_vraw(s, c->s);

                k = mask_buf_append(rec, s->buf + r, 1);
                if (k >= 0 && to_term && r >= s->term)
                        k = mask_buf_append(term, s->buf + r, 1);
                if (k < 0)
                        return k;
        }
        k = mask_buf_append(rec, text, tlen);
        if (k >= 0 && to_term)
                k = mask_buf_append(term, text, tlen);
        if (k < 0)
                return k;
        if (!s->ident)
                for (size_t j = mask_gap_after(s, c->s); j < s->n_gaps && s->gaps[j].v < c->e; j++) {
                        /* Stripped bytes between view bytes v-1 and v. */
                        size_t v = s->gaps[j].v, g = v + (j > 0 ? s->gaps[j - 1].delta : 0),
                               h = v + s->gaps[j].delta;

                        /* View byte v (raw h) ends a string introducer or
                         * terminator and is replaced: its ESC alone would
                         * start a sequence with whatever comes next. */
                        if (view_break_at(s, v))
                                h--;
                        k = mask_buf_append(rec, s->buf + g, h - g);
                        if (k >= 0 && to_term && g >= s->term)
                                k = mask_buf_append(term, s->buf + g, h - g);
                        if (k < 0)
                                return k;
                }
        if (b > s->term)
                s->term = b;
        s->done = b;
        s->vdone = c->e;
        s->counts[i]++;
        if (c->kind == CAND_ERROR)
                s->errors++;
        return 0;
}

/* ---- deciding ------------------------------------------------------- */

/* Decide the view up to vend: emit what is decided, hold the rest. With
 * final, vend is treated as the end of the stream. */
static int process(vigil_mask_stream *s, bool final, size_t vend, vigil_mask_buf *rec, vigil_mask_buf *term)
{
        search_ctx ctx = {
                .set = s->set,
                .view = mask_view(s),
                .vlen = vend,
                .final = final,
                .notbol = s->at_start ? 0 : PCRE2_NOTBOL,
                .md = s->md,
                .mctx = s->mctx,
                .no_prefilter = s->no_prefilter,
        };
        size_t p = s->vdone, hold = vend, release;
        int k;

        for (size_t i = 0; i < s->set->n; i++)
                s->cands[i].valid = false;
        for (;;) {
                cand *best = NULL;
                size_t bi = 0;

                for (size_t i = 0; i < s->set->n; i++) {
                        cand *c = &s->cands[i];

                        if (!c->valid || (c->kind != CAND_NONE && c->s < p))
                                mask_rule_find(&ctx, i, p > s->resume[i] ? p : s->resume[i], c);
                        if (c->kind == CAND_NONE)
                                continue;
                        /* Leftmost wins; at the same start, the earlier rule, whether
                         * its match is complete or still partial: that keeps the
                         * result independent of how the input was split. */
                        if (!best || c->s < best->s) {
                                best = c;
                                bi = i;
                        }
                }
                if (!best)
                        break;
                if (best->kind == CAND_PARTIAL) {
                        hold = best->s;
                        break;
                }
                k = emit_visible(s, s->done, mask_vraw(s, best->s), rec, term);
                if (k < 0)
                        return k;
                k = emit_mask(s, &ctx, bi, best, rec, term);
                if (k < 0)
                        return k;
                p = best->e;
        }
        /* What the next call need not search again: a complete or partial match
         * found stays where it is; nothing found means nothing can start before
         * the end (an attempt reaching the end would have been partial). */
        for (size_t i = 0; i < s->set->n; i++)
                s->resume[i] = s->cands[i].kind == CAND_NONE ? vend : s->cands[i].s;
        if (hold < mask_vlen(s))
                release = mask_vraw(s, hold);
        else
                release = s->len; /* includes an unfinished escape sequence: it is stripped anyway */
        if (release > s->done) {
                k = emit_visible(s, s->done, release, rec, term);
                if (k < 0)
                        return k;
                s->done = release;
        }
        if (hold > s->vdone)
                s->vdone = hold;
        return 0;
}

/* Typed bytes seen again in the output go to the terminal at once. */
static int echo_pass(vigil_mask_stream *s, vigil_mask_buf *term)
{
        size_t pos;
        int k;

        /* Bytes released already (not held) need no early path, but they still
         * consume the expectation: the echo is compared in stream order. */
        for (pos = s->echo_pos; pos < s->len && s->echo_len > 0; pos++) {
                unsigned char b = (unsigned char)s->buf[pos];

                if (b != s->echo[s->echo_off]) {
                        s->echo_len = 0;
                        break;
                }
                s->echo_off++;
                s->echo_len--;
                if (term && pos == s->term && pos >= s->done) {
                        k = mask_buf_append(term, s->buf + pos, 1);
                        if (k < 0)
                                return k;
                        s->term = pos + 1;
                }
        }
        s->echo_pos = s->echo_len > 0 ? pos : s->len;
        return 0;
}

static int segment(vigil_mask_stream *s, const char *data, size_t n, vigil_mask_buf *rec,
                   vigil_mask_buf *term)
{
        int k;

        k = mask_view_append(s, data, n);
        if (k < 0)
                return k;
        k = process(s, false, mask_vlen(s), rec, term);
        if (k < 0)
                return k;
        if (s->len - s->done > VIGIL_MASK_MAX_HOLD) {
                /* Only a regex= rule can keep a partial match going this long.
                 * Decide the older half as if the stream ended there. */
                size_t cut = s->vdone, want = s->len - VIGIL_MASK_MAX_HOLD / 2;

                while (cut < mask_vlen(s) && mask_vraw(s, cut) < want)
                        cut++;
                k = process(s, true, cut, rec, term);
                if (k >= 0)
                        k = process(s, false, mask_vlen(s), rec, term);
                if (k < 0)
                        return k;
        }
        if (s->echo_len > 0) {
                k = echo_pass(s, term);
                if (k < 0)
                        return k;
        }
        mask_view_compact(s);
        return 0;
}

int vigil_mask_stream_feed(vigil_mask_stream *s, const void *data, size_t len, vigil_mask_buf *rec,
                           vigil_mask_buf *term)
{
        const char *d = data;
        int k;

        if (!s || !rec || (!data && len > 0))
                return -EINVAL;
        if (s->poisoned)
                return s->poisoned;
        if ((s->flags & VIGIL_MASK_SNIFF_BINARY) && !s->passthrough && vigil_mask_looks_binary(data, len)) {
                k = vigil_mask_stream_flush(s, rec, term);
                if (k < 0)
                        return k;
                s->passthrough = true;
        }
        if (s->passthrough) {
                k = mask_buf_append(rec, data, len);
                if (k >= 0 && term)
                        k = mask_buf_append(term, data, len);
                if (k < 0)
                        s->poisoned = k;
                return k;
        }
        while (len > 0) {
                size_t n = len < SEGMENT ? len : SEGMENT;

                k = segment(s, d, n, rec, term);
                if (k < 0) {
                        s->poisoned = k;
                        return k;
                }
                d += n;
                len -= n;
        }
        return 0;
}

int vigil_mask_stream_flush(vigil_mask_stream *s, vigil_mask_buf *rec, vigil_mask_buf *term)
{
        int k;

        if (!s || !rec)
                return -EINVAL;
        if (s->poisoned)
                return s->poisoned;
        k = process(s, true, mask_vlen(s), rec, term);
        if (k >= 0 && s->done < s->len)
                k = emit_visible(s, s->done, s->len, rec, term);
        if (k < 0) {
                s->poisoned = k;
                return k;
        }
        s->done = s->len;
        s->vdone = mask_vlen(s);
        s->echo_pos = s->len;
        for (size_t i = 0; i < s->set->n; i++)
                s->resume[i] = s->vdone;
        mask_view_compact(s);
        return 0;
}

size_t vigil_mask_stream_held(const vigil_mask_stream *s)
{
        return s ? s->len - s->done : 0;
}

size_t vigil_mask_stream_term_held(const vigil_mask_stream *s)
{
        return s ? s->len - s->term : 0;
}

uint64_t vigil_mask_stream_count(const vigil_mask_stream *s, size_t i)
{
        return s && i < s->set->n ? s->counts[i] : 0;
}

uint64_t vigil_mask_stream_errors(const vigil_mask_stream *s)
{
        return s ? s->errors : 0;
}

bool vigil_mask_stream_passthrough(const vigil_mask_stream *s)
{
        return s && s->passthrough;
}

void vigil_mask_stream_expect_echo(vigil_mask_stream *s, const void *typed, size_t len)
{
        size_t room;

        if (!s || !typed || len == 0)
                return;
        if (s->echo_len == 0) {
                s->echo_off = 0;
                s->echo_pos = s->len;
        } else if (s->echo_off > 0) {
                memmove(s->echo, s->echo + s->echo_off, s->echo_len);
                s->echo_off = 0;
        }
        room = sizeof(s->echo) - s->echo_len;
        if (len > room)
                len = room;
        memcpy(s->echo + s->echo_len, typed, len);
        s->echo_len += len;
}

void vigil_mask_stream_clear_echo(vigil_mask_stream *s)
{
        if (s)
                s->echo_len = 0;
}
