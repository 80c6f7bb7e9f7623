/* Finding, for one rule, the leftmost place at or after p where a
 * replacement starts (a complete, validated match) or may start (a partial
 * match reaching the end of the text).
 *
 * Why partial matching is exact here: with PCRE2_PARTIAL_HARD an attempt
 * that reaches the end of the subject reports a partial match instead of
 * guessing, so a complete match never depends on bytes not yet seen. That
 * also makes cutting the subject short safe: a search of [ws, T) that does
 * not report a partial match at or before the window's end saw every byte
 * its attempts needed. */
#include "mask-internal.h"

static int run(const search_ctx *c, pcre2_code *re, bool jit, size_t subj, size_t start, uint32_t opts,
               pcre2_match_data *md)
{
        opts |= c->notbol;
        if (jit)
                return pcre2_jit_match(re, (PCRE2_SPTR)c->view, subj, start, opts, md, c->mctx);
        return pcre2_match(re, (PCRE2_SPTR)c->view, subj, start, opts, md, c->mctx);
}

static uint32_t partial_opts(const search_ctx *c, size_t subj)
{
        /* A cut subject's end is never the stream's end. */
        return (c->final && subj == c->vlen) ? 0 : PCRE2_PARTIAL_HARD;
}

static void set_cand(cand *r, cand_kind kind, size_t s, size_t e, size_t subj)
{
        r->kind = kind;
        r->s = s;
        r->e = e;
        r->subj = subj;
}

static void find_plain(search_ctx *c, size_t i, size_t p, cand *ret)
{
        const mask_rule *m = &c->set->rules[i];
        const detector *d = m->det;
        pcre2_match_data *md = c->md[i];
        bool windows = d && !c->no_prefilter;
        size_t tail = windows && c->vlen > d->tail ? c->vlen - d->tail : 0;
        size_t pos = p;

        for (;;) {
                size_t ws = pos, we = c->vlen, subj = c->vlen;
                PCRE2_SIZE *ov;
                int rc;

                if (pos > c->vlen)
                        break;
                if (windows && pos < tail) {
                        if (mask_scan_window(c, d, pos, tail, &ws, &we)) {
                                if (d->maxlen && we + d->maxlen + 1 < c->vlen)
                                        subj = we + d->maxlen + 1;
                        } else {
                                ws = tail;
                                we = c->vlen;
                        }
                }
                rc = run(c, m->re, m->re_jit, subj, ws, partial_opts(c, subj), md);
                ov = pcre2_get_ovector_pointer(md);
                if (rc == PCRE2_ERROR_NOMATCH) {
                        if (subj == c->vlen)
                                break;
                        pos = subj; /* every attempt in [ws, subj) failed */
                        continue;
                }
                if (rc == PCRE2_ERROR_PARTIAL) {
                        if (subj == c->vlen) {
                                set_cand(ret, CAND_PARTIAL, ov[0], c->vlen, subj);
                                return;
                        }
                        if (ov[0] <= we) {
                                /* Cannot happen with a right maxlen; be exact anyway. */
                                windows = false;
                                pos = ws;
                                continue;
                        }
                        pos = ov[0];
                        continue;
                }
                if (rc < 0) {
                        if (ws >= subj)
                                break;
                        set_cand(ret, CAND_ERROR, ws, subj, subj);
                        return;
                }
                if (ov[1] == ov[0]) { /* an empty match replaces nothing */
                        pos = ov[0] + 1;
                        continue;
                }
                if (d && d->validate) {
                        size_t n = d->validate(c->view + ov[0], ov[1] - ov[0]);

                        if (n == 0) {
                                pos = ov[0] + 1;
                                continue;
                        }
                        set_cand(ret, CAND_FULL, ov[0], ov[0] + n, subj);
                        return;
                }
                set_cand(ret, CAND_FULL, ov[0], ov[1], subj);
                return;
        }
        set_cand(ret, CAND_NONE, 0, 0, 0);
}

/* Lead detectors (password-assignment, aws-secret-key): the lead is visible
 * context, only the body after it is replaced. A partial lead holds nothing
 * back (the prompt "Enter password: " is released at once); the lead is
 * found again in the history when the value arrives. */
static void find_lead(search_ctx *c, size_t i, size_t p, cand *ret)
{
        const mask_rule *m = &c->set->rules[i];
        const detector *d = m->det;
        pcre2_match_data *md = c->md[i];
        bool windows = !c->no_prefilter;
        size_t pos = p > d->maxlen ? p - d->maxlen : 0;

        for (;;) {
                size_t ws = pos, we = c->vlen, subj = c->vlen, ls, lc;
                PCRE2_SIZE *ov;
                int rc;

                if (pos > c->vlen)
                        break;
                if (windows) {
                        if (!mask_scan_window(c, d, pos, c->vlen, &ws, &we))
                                break;
                        if (we + d->maxlen + 1 < c->vlen)
                                subj = we + d->maxlen + 1;
                }
                rc = run(c, m->re, m->re_jit, subj, ws, partial_opts(c, subj), md);
                ov = pcre2_get_ovector_pointer(md);
                if (rc == PCRE2_ERROR_NOMATCH) {
                        if (subj == c->vlen)
                                break;
                        pos = subj;
                        continue;
                }
                if (rc == PCRE2_ERROR_PARTIAL) {
                        if (subj < c->vlen) {
                                if (ov[0] <= we) {
                                        windows = false;
                                        pos = ws;
                                } else {
                                        pos = ov[0]; /* cut short there: look again */
                                }
                                continue;
                        }
                        /* An unfinished lead at the end: no value yet. */
                        pos = ov[0] + 1;
                        continue;
                }
                if (rc < 0) {
                        if (ws >= subj)
                                break;
                        set_cand(ret, CAND_ERROR, ws, subj, subj);
                        return;
                }
                ls = ov[0];
                lc = ov[1];
                if (lc < p) {
                        pos = ls + 1;
                        continue;
                }
                rc = run(c, m->body, m->body_jit, c->vlen, lc, partial_opts(c, c->vlen), md);
                ov = pcre2_get_ovector_pointer(md);
                if (rc == PCRE2_ERROR_PARTIAL) {
                        set_cand(ret, CAND_PARTIAL, lc, c->vlen, c->vlen);
                        return;
                }
                if (rc > 0 && ov[1] > ov[0]) {
                        set_cand(ret, CAND_FULL, ov[0], ov[1], c->vlen);
                        return;
                }
                if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && lc < c->vlen) {
                        set_cand(ret, CAND_ERROR, lc, c->vlen, c->vlen);
                        return;
                }
                pos = ls + 1;
        }
        set_cand(ret, CAND_NONE, 0, 0, 0);
}

void mask_rule_find(search_ctx *c, size_t i, size_t p, cand *ret)
{
        if (c->set->rules[i].body)
                find_lead(c, i, p, ret);
        else
                find_plain(c, i, p, ret);
        ret->valid = true;
}
