/* A session's output as items (view.h), for replay and watch: the header,
 * the commands (replay), the output frames cut into pieces that fit one
 * protocol item, and the end. The same sequence reaches `vigil replay` and
 * `vigil watch` whether they read the store themselves or through vigild. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "vigil-error.h"
#include "view.h"

/* While following: how many empty polls between checks that the writer lives
 * (about 3 s with VIEW_FOLLOW_POLL_MS). */
#define GONE_CHECK_POLLS 15

typedef struct cmd_pos {
        uint32_t no;
        int decision;
        uint64_t exec_off;
} cmd_pos;

enum { PH_HEADER, PH_COMMANDS, PH_RECORDS, PH_DONE };

struct view_stream {
        vigil_store *st;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        view_stream_opts o;
        vigil_session_info info;
        int phase;
        cmd_pos *cmds;
        size_t n_cmds, next_cmd;
        vigil_record_reader *rr;
        const vigil_record *rec; /* the output chunk being cut into items */
        size_t frame;            /* its next frame */
        uint64_t piece;          /* bytes of that frame already given */
        uint64_t off;            /* output offset accounted for so far */
        bool has_start;          /* a start point to skip to */
        bool by_time;
        uint64_t start_off, start_rel_ms;
        bool started;
        uint64_t skipped; /* output skipped, not yet reported */
        bool ended;
        unsigned idle;
        char err[VIEW_ERR_MAX + 1];
};

static int fail(view_stream *s, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(view_stream *s, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->err, sizeof s->err, fmt, ap);
        va_end(ap);
        view_text_clean(s->err);
        return r;
}

static int store_fail(view_stream *s, const char *what, int r)
{
        view_store_error(s->st, what, r, s->err, sizeof s->err);
        return r;
}

int view_stream_new(vigil_store *st, const uint8_t id[VIGIL_SESSION_ID_LEN], const view_stream_opts *o,
                    view_stream **ret)
{
        view_stream *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->st = st;
        memcpy(s->id, id, VIGIL_SESSION_ID_LEN);
        s->o = *o;
        s->phase = PH_HEADER;
        *ret = s;
        return 0;
}

view_stream *view_stream_free(view_stream *s)
{
        if (!s)
                return NULL;
        vigil_record_reader_free(s->rr);
        vigil_session_info_clear(&s->info);
        free(s->cmds);
        free(s);
        return NULL;
}

const char *view_stream_errmsg(const view_stream *s)
{
        return s->err[0] ? s->err : "failed";
}

static int collect_cmd(void *userdata, const vigil_event *e)
{
        view_stream *s = userdata;
        cmd_pos *n;

        if (s->n_cmds % 256 == 0) {
                n = realloc(s->cmds, (s->n_cmds + 256) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                s->cmds = n;
        }
        s->cmds[s->n_cmds++] = (cmd_pos){ .no = e->no, .decision = (int)e->decision, .exec_off = e->exec_off };
        return 0;
}

static int header(view_stream *s, view_item *it)
{
        int r = vigil_session_info_get(s->st, s->id, &s->info);

        if (r < 0)
                return store_fail(s, "read session", r);
        if (!s->o.follow) {
                vigil_event_filter ef = { .decision = -1, .session = s->id };

                r = vigil_store_events(s->st, &ef, collect_cmd, s);
                if (r < 0)
                        return store_fail(s, "read commands", r);
        }
        if (s->o.has_command_no) {
                size_t k = 0;

                while (k < s->n_cmds && s->cmds[k].no != s->o.command_no)
                        k++;
                if (k == s->n_cmds)
                        return fail(s, -ENOENT, "the session has no command %u", (unsigned)s->o.command_no);
                s->has_start = true;
                s->start_off = s->cmds[k].exec_off;
        } else if (s->o.has_at) {
                s->has_start = true;
                s->by_time = true;
                s->start_rel_ms = s->o.at_ms;
        }
        s->phase = s->o.follow ? PH_RECORDS : PH_COMMANDS;
        *it = (view_item){ .kind = VIEW_HEADER, .start_us = s->info.start_us, .n_commands = s->info.n_commands };
        memcpy(it->id, s->id, VIGIL_SESSION_ID_LEN);
        return 1;
}

/* Is the writer of a followed session gone without ending it? */
static int check_gone(view_stream *s)
{
        vigil_session_info i = { 0 };
        bool gone;

        if (vigil_session_info_get(s->st, s->id, &i) < 0)
                return 0; /* the reader will tell */
        gone = !i.sealed && !vigil_session_writer_alive(&i);
        vigil_session_info_clear(&i);
        if (gone)
                return fail(s, VIEW_E_GONE, "the session's writer is gone; the recording ends here");
        return 0;
}

static int64_t wall_ms(const view_stream *s, uint64_t rel_us)
{
        return (int64_t)((s->info.start_us + rel_us) / 1000);
}

/* Where @f stands to the start point: entirely before it (true), or from
 * it on, with *ret_cut of its bytes before it (a frame that straddles it). */
static bool before_start(const view_stream *s, const vigil_frame *f, uint64_t *ret_cut)
{
        *ret_cut = 0;
        if (s->by_time)
                return f->t_us / 1000 < s->start_rel_ms;
        if (f->offset + f->len <= s->start_off)
                return true;
        /* kept bytes can be cut; a digest stands for its bytes whole */
        if (f->offset < s->start_off && (f->kind == VIGIL_FRAME_TEXT || f->kind == VIGIL_FRAME_BINARY))
                *ret_cut = s->start_off - f->offset;
        return false;
}

/* The next item from the current chunk, or 0 when it is used up. */
static int from_chunk(view_stream *s, view_item *it)
{
        while (s->frame < s->rec->chunk.n_frames) {
                const vigil_frame *f = &s->rec->chunk.frames[s->frame];
                uint64_t cut;

                if (s->piece == 0 && f->offset > s->off)
                        /* a gap in the stream (none in an intact one): accounted as skipped */
                        s->skipped += f->offset - s->off, s->off = f->offset;
                if (s->has_start && !s->started && s->piece == 0) {
                        if (before_start(s, f, &cut)) {
                                s->skipped += f->len;
                                s->off += f->len;
                                s->frame++;
                                continue;
                        }
                        s->skipped += cut;
                        s->off += cut;
                        s->piece = cut;
                }
                s->started = true;
                if (s->skipped) {
                        *it = (view_item){ .kind = VIEW_SKIP, .len = s->skipped };
                        s->skipped = 0;
                        return 1;
                }
                if (f->kind == VIGIL_FRAME_TEXT || f->kind == VIGIL_FRAME_BINARY) {
                        uint64_t n = f->len - s->piece;

                        if (n > VIEW_DATA_MAX)
                                n = VIEW_DATA_MAX;
                        *it = (view_item){ .kind = VIEW_OUTPUT,
                                           .time_ms = wall_ms(s, f->t_us),
                                           .len = n,
                                           .data = f->data + s->piece };
                        s->piece += n;
                        s->off += n;
                        if (s->piece == f->len) {
                                s->frame++;
                                s->piece = 0;
                        }
                        return 1;
                }
                *it = (view_item){ .kind = VIEW_OMITTED, .time_ms = wall_ms(s, f->t_us), .len = f->len, .omit = f->kind };
                memcpy(it->sha256, f->sha256, sizeof it->sha256);
                s->off += f->len;
                s->frame++;
                s->piece = 0;
                return 1;
        }
        s->rec = NULL;
        return 0;
}

static int records(view_stream *s, view_item *it)
{
        int r;

        if (!s->rr) {
                r = vigil_record_reader_new(s->st, s->id, &s->rr);
                if (r < 0)
                        return store_fail(s, "read", r);
        }
        for (;;) {
                const vigil_record *rec;

                if (s->rec && from_chunk(s, it) > 0)
                        return 1;
                if (s->ended && s->o.follow) {
                        s->phase = PH_DONE;
                        return 0;
                }
                r = vigil_record_reader_next(s->rr, &rec);
                if (r == VIGIL_E_CORRUPT)
                        return fail(s, r, "session damaged: %s", vigil_record_reader_problem(s->rr));
                if (r < 0)
                        return store_fail(s, "read", r);
                if (r == 0) {
                        if (!s->o.follow) {
                                s->phase = PH_DONE;
                                return 0;
                        }
                        if (++s->idle % GONE_CHECK_POLLS == 0 && (r = check_gone(s)) < 0)
                                return r;
                        return -EAGAIN;
                }
                s->idle = 0;
                if (rec->type == VIGIL_REC_OUTPUT) {
                        s->rec = rec;
                        s->frame = 0;
                        s->piece = 0;
                        continue;
                }
                if (rec->type == VIGIL_REC_END) {
                        s->ended = true;
                        *it = (view_item){ .kind = VIEW_END, .how = rec->end.how, .exit_status = rec->end.exit_status };
                        return 1;
                }
        }
}

int view_stream_next(view_stream *s, view_item *it)
{
        switch (s->phase) {
        case PH_HEADER:
                return header(s, it);
        case PH_COMMANDS:
                if (s->next_cmd < s->n_cmds) {
                        const cmd_pos *c = &s->cmds[s->next_cmd++];

                        *it = (view_item){ .kind = VIEW_COMMAND, .no = c->no, .decision = c->decision, .exec_off = c->exec_off };
                        return 1;
                }
                s->phase = PH_RECORDS;
                return records(s, it);
        case PH_RECORDS:
                return records(s, it);
        default:
                return 0;
        }
}
