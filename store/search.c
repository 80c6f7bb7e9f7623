#define _GNU_SOURCE
/* vigil search: candidate units from the trigram index, then PCRE2 over the
 * lines of those units only. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "literals.h"
#include "reader.h"

#define MATCH_LIMIT 10000000u

typedef struct cmd_span {
        uint64_t exec_off, exit_off;
        bool exited, ran;
        char *line;
} cmd_span;

typedef struct search_ctx {
        vigil_store *st;
        const vigil_search_query *q;
        vigil_search_cb cb;
        void *userdata;
        pcre2_code *re;
        pcre2_match_data *md;
        pcre2_match_context *mctx;
        uint32_t *hashes_out, *hashes_cmd;
        size_t n_hashes;
        const uint8_t *session;
        /* commands of the current session, loaded at its first hit */
        cmd_span *cmds;
        size_t n_cmds;
        bool cmds_loaded;
        /* the line being matched */
        uint64_t frame_t, frame_off;
        int stop; /* a callback's non-zero result, or an error */
        /* the longest literal every match contains (NULL: none) */
        uint8_t *lit;
        size_t lit_len;
        vigil_search_stats stats;
        line_norm ln;
        vbuf tmp;
} search_ctx;

static void cmds_free(search_ctx *c)
{
        for (size_t i = 0; i < c->n_cmds; i++)
                free(c->cmds[i].line);
        free(c->cmds);
        c->cmds = NULL;
        c->n_cmds = 0;
        c->cmds_loaded = false;
}

static int cmd_collect(void *userdata, const vigil_event *e)
{
        search_ctx *c = userdata;
        cmd_span *n = realloc(c->cmds, (c->n_cmds + 1) * sizeof *n);
        vbuf line = { 0 };

        if (!n)
                return -ENOMEM;
        c->cmds = n;
        command_line(&line, e->argv, e->argc);
        vbuf_u8(&line, 0);
        if (line.oom)
                return -ENOMEM;
        n[c->n_cmds++] = (cmd_span){
                .exec_off = e->exec_off,
                .exit_off = e->exit_off,
                .exited = e->exited,
                .ran = e->decision == VIGIL_DEC_ALLOW || e->decision == VIGIL_DEC_AUDIT ||
                       e->decision == VIGIL_DEC_APPROVED || e->decision == VIGIL_DEC_KILLED,
                .line = (char *)line.p,
        };
        return 0;
}

/* The command running when output offset @off was written: the latest one
 * started at or before it that had not exited yet. */
static const char *running_at(search_ctx *c, uint64_t off)
{
        const cmd_span *best = NULL;

        if (!c->cmds_loaded) {
                vigil_event_filter f = { .decision = -1, .session = c->session };

                c->cmds_loaded = true;
                if (vigil_store_events(c->st, &f, cmd_collect, c) < 0)
                        return NULL;
        }
        for (size_t i = 0; i < c->n_cmds; i++) {
                const cmd_span *s = &c->cmds[i];

                if (!s->ran || s->exec_off > off || (s->exited && s->exit_off < off))
                        continue;
                best = s;
        }
        return best ? best->line : NULL;
}

static bool line_matches(search_ctx *c, const uint8_t *line, size_t len)
{
        int rc = pcre2_match(c->re, line, len, 0, 0, c->md, c->mctx);

        return rc >= 0;
}

static void out_line(void *userdata, const uint8_t *line, size_t len)
{
        search_ctx *c = userdata;
        vigil_search_hit h;

        if (c->stop || !line_matches(c, line, len))
                return;
        h = (vigil_search_hit){
                .session = c->session,
                .t_us = c->frame_t,
                .command = running_at(c, c->frame_off),
                .line = (const char *)line,
                .line_len = len,
        };
        c->stop = c->cb(c->userdata, &h);
}

static void command_hit(search_ctx *c, const vigil_record *rec)
{
        vigil_search_hit h;

        command_line(&c->tmp, rec->command->argv, rec->command->argc);
        if (!line_matches(c, c->tmp.p, c->tmp.len))
                return;
        vbuf_u8(&c->tmp, 0);
        if (c->tmp.oom) {
                c->stop = -ENOMEM;
                return;
        }
        h = (vigil_search_hit){
                .session = c->session,
                .t_us = rec->t_us,
                .command = (const char *)c->tmp.p,
                .is_command = true,
                .line = (const char *)c->tmp.p,
                .line_len = c->tmp.len - 1,
        };
        c->stop = c->cb(c->userdata, &h);
}

/* Text without any byte the line splitter treats specially but '\n': its
 * lines are exactly its '\n'-separated pieces. */
static bool plain_text(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
                        return false;
        return true;
}

static bool has_literal(const search_ctx *c, const uint8_t *p, size_t n)
{
        return n >= c->lit_len && memmem(p, n, c->lit, c->lit_len) != NULL;
}

/* Fast path for a frame of plain text: when the required literal occurs
 * neither in the line carried over, nor in the frame, nor across their
 * boundary, no line ending in this frame can match; only the carried line
 * changes. Returns true when it handled the frame. */
static bool skip_plain(search_ctx *c, const vigil_frame *f)
{
        vbuf *line = &c->ln.line;
        const uint8_t *nl;
        size_t tail;

        if (!c->lit || c->ln.state != 0 || !plain_text(f->data, f->len))
                return false;
        if (has_literal(c, line->p, line->len) || has_literal(c, f->data, f->len))
                return false;
        if (line->len && c->lit_len > 1) {
                uint8_t edge[2 * 256];
                size_t a = line->len < c->lit_len - 1 ? line->len : c->lit_len - 1;
                size_t b = f->len < c->lit_len - 1 ? f->len : c->lit_len - 1;

                if (c->lit_len > 256)
                        return false;
                memcpy(edge, line->p + line->len - a, a);
                memcpy(edge + a, f->data, b);
                if (has_literal(c, edge, a + b))
                        return false;
        }
        nl = memrchr(f->data, '\n', f->len);
        tail = nl ? f->len - (size_t)(nl + 1 - f->data) : f->len;
        if ((nl ? 0 : line->len) + tail >= LINE_MAX_LEN)
                return false; /* the splitter would cut it: take the exact path */
        if (nl)
                vbuf_reset(line);
        vbuf_put(line, f->data + f->len - tail, tail);
        return !line->oom;
}

/* Scan records [first, last] (last = UINT64_MAX: to the end). */
static int scan_range(search_ctx *c, uint64_t first, uint64_t last)
{
        vigil_record_reader *rr = NULL;
        int r;

        c->stats.units_scanned++;
        r = record_reader_open(c->st, c->session, NULL, false, &rr);
        if (r < 0)
                return r;
        record_reader_seek(rr, first);
        /* fresh line state, as the writer had at the unit's start */
        c->ln.state = 0;
        vbuf_reset(&c->ln.line);
        while (!c->stop) {
                const vigil_record *rec;

                if (rr->next_seq > last)
                        break;
                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        store_set_errmsg(c->st, "session damaged: %s (run 'vigil verify')", vigil_record_reader_problem(rr));
                        break;
                }
                if (r <= 0)
                        break;
                if (rec->type == VIGIL_REC_COMMAND)
                        command_hit(c, rec);
                else if (rec->type == VIGIL_REC_OUTPUT && !c->q->commands_only) {
                        for (size_t i = 0; i < rec->chunk.n_frames && !c->stop; i++) {
                                const vigil_frame *f = &rec->chunk.frames[i];

                                c->frame_t = f->t_us;
                                c->frame_off = f->offset;
                                if (f->kind == VIGIL_FRAME_TEXT && skip_plain(c, f))
                                        continue;
                                if (f->kind == VIGIL_FRAME_TEXT)
                                        line_norm_feed(&c->ln, f->data, f->len, out_line, c);
                                else
                                        line_norm_break(&c->ln, out_line, c);
                        }
                }
        }
        if (!c->stop)
                line_norm_break(&c->ln, out_line, c);
        vigil_record_reader_free(rr);
        if (r < 0)
                return r;
        return c->stop < 0 ? c->stop : 0;
}

typedef struct unit_ref {
        uint64_t first, last;
        bool candidate;
} unit_ref;

static int session_units(search_ctx *c, const vigil_session_info *i, unit_ref **ret, size_t *ret_n)
{
        uint8_t key[ID_LEN + 4];
        MDB_txn *txn = NULL;
        store_cursor cur = { 0 };
        MDB_val k = { sizeof key, key }, v;
        unit_ref *u = NULL;
        size_t n = 0;
        int r;

        unit_key(key, i->id, 0);
        r = store_txn_begin(c->st, false, &txn);
        if (r < 0)
                return r;
        r = store_cursor_open(c->st, txn, c->st->search, &cur);
        if (r < 0)
                goto out;
        for (r = store_cursor_get(&cur, &k, &v, MDB_SET_RANGE); r == 0; r = store_cursor_get(&cur, &k, &v, MDB_NEXT)) {
                const uint8_t *p = v.mv_data;
                unit_ref *nu;
                bool cand;

                if (k.mv_size != sizeof key || memcmp(k.mv_data, i->id, ID_LEN) != 0)
                        break;
                if (v.mv_size < 17)
                        continue;
                cand = (!c->q->commands_only &&
                        bloom_stored_may_contain(p + 16, v.mv_size - 16, c->hashes_out, c->n_hashes)) ||
                       bloom_stored_may_contain(p + 16, v.mv_size - 16, c->hashes_cmd, c->n_hashes);
                nu = realloc(u, (n + 1) * sizeof *nu);
                if (!nu) {
                        r = -ENOMEM;
                        goto out;
                }
                u = nu;
                u[n++] = (unit_ref){ be64_get(p), be64_get(p + 8), cand };
        }
        /* A stray piece of the next session's ends this one's units; one
         * of this session's, damaged, would hide what its unit covers. */
        if (r == VIGIL_E_CORRUPT) {
                char idt[VIGIL_SESSION_ID_STRLEN + 1];

                if (k.mv_size >= ID_LEN && memcmp(k.mv_data, i->id, ID_LEN) != 0)
                        r = 0;
                else {
                        vigil_session_id_format(i->id, idt);
                        store_set_errmsg(c->st, "the search index of session %s is damaged (run 'vigil verify')",
                                         idt);
                        goto out;
                }
        }
        if (r < 0 && r != -ENOENT)
                goto out;
        *ret = TAKE_PTR(u);
        *ret_n = n;
        r = 0;
out:
        store_cursor_close(&cur);
        mdb_txn_abort(txn);
        free(u);
        return r;
}

static int search_session(void *userdata, const vigil_session_info *i)
{
        search_ctx *c = userdata;
        unit_ref *units = NULL;
        size_t n = 0;
        uint64_t tail;
        int r;

        c->session = i->id;
        c->stats.sessions++;
        cmds_free(c);
        r = session_units(c, i, &units, &n);
        if (r < 0)
                return r;
        c->stats.units_total += n;
        for (size_t k = 0; k < n && !c->stop; k++)
                if (units[k].candidate) {
                        r = scan_range(c, units[k].first, units[k].last);
                        if (r < 0)
                                break;
                }
        tail = n ? units[n - 1].last + 1 : 0;
        free(units);
        /* What is not indexed yet (a live session, or one whose writer died)
         * is scanned; a sealed session is wholly indexed. */
        if (r >= 0 && !c->stop && !i->sealed && tail < i->n_records) {
                c->stats.units_total++;
                r = scan_range(c, tail, UINT64_MAX);
        }
        cmds_free(c);
        if (r < 0)
                return r;
        if (c->stop == VIGIL_SEARCH_NEXT_SESSION)
                c->stop = 0;
        return c->stop;
}

static int build_hashes(search_ctx *c)
{
        vbuf lits = { 0 };
        size_t n = 0, total = 0;
        vdec d;
        int r;

        r = regex_literals(c->q->regex, &lits, &n);
        if (r < 0)
                return r;
        d = vdec_init(lits.p, lits.len);
        while (d.pos < d.len) {
                uint64_t len = vdec_varint(&d);

                (void)vdec_bytes(&d, len);
                total += len - 2;
        }
        c->hashes_out = calloc(total + 1, sizeof(uint32_t));
        c->hashes_cmd = calloc(total + 1, sizeof(uint32_t));
        if (!c->hashes_out || !c->hashes_cmd) {
                vbuf_free(&lits);
                return -ENOMEM;
        }
        d = vdec_init(lits.p, lits.len);
        while (d.pos < d.len) {
                uint64_t len = vdec_varint(&d);
                const uint8_t *p = vdec_bytes(&d, len);

                for (size_t i = 0; i + 2 < len; i++) {
                        c->hashes_out[c->n_hashes] = trigram_hash(p[i], p[i + 1], p[i + 2], false);
                        c->hashes_cmd[c->n_hashes++] = trigram_hash(p[i], p[i + 1], p[i + 2], true);
                }
                if (len > c->lit_len && len <= 256) {
                        free(c->lit);
                        c->lit = malloc(len);
                        if (!c->lit) {
                                vbuf_free(&lits);
                                return -ENOMEM;
                        }
                        memcpy(c->lit, p, len);
                        c->lit_len = len;
                }
        }
        vbuf_free(&lits);
        return 0;
}

int vigil_store_search(vigil_store *st, const vigil_search_query *q, vigil_search_cb cb, void *userdata,
                       vigil_search_stats *ret_stats)
{
        search_ctx c = { .st = st, .q = q, .cb = cb, .userdata = userdata };
        int errcode = 0;
        PCRE2_SIZE erroff = 0;
        int r;

        c.re = pcre2_compile((PCRE2_SPTR)q->regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                             &errcode, &erroff, NULL);
        if (!c.re) {
                PCRE2_UCHAR msg[256];

                pcre2_get_error_message(errcode, msg, sizeof msg);
                store_set_errmsg(st, "regex '%s': %s at offset %zu", q->regex, (const char *)msg, (size_t)erroff);
                return VIGIL_E_PARSE;
        }
        (void)pcre2_jit_compile(c.re, PCRE2_JIT_COMPLETE);
        c.md = pcre2_match_data_create_from_pattern(c.re, NULL);
        c.mctx = pcre2_match_context_create(NULL);
        if (!c.md || !c.mctx) {
                r = -ENOMEM;
                goto out;
        }
        pcre2_set_match_limit(c.mctx, MATCH_LIMIT);
        r = build_hashes(&c);
        if (r < 0)
                goto out;
        r = vigil_store_sessions(st, &q->filter, search_session, &c);
        if (ret_stats)
                *ret_stats = c.stats;
out:
        cmds_free(&c);
        line_norm_done(&c.ln);
        vbuf_free(&c.tmp);
        free(c.hashes_out);
        free(c.hashes_cmd);
        free(c.lit);
        pcre2_match_context_free(c.mctx);
        pcre2_match_data_free(c.md);
        pcre2_code_free(c.re);
        return r < 0 ? r : 0;
}
