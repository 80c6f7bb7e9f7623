/* vigil export: a session as asciicast v2 or as one JSON document. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "outcomes.h"
#include "replay-common.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil export SESSION --format asciicast|json\n"
        "asciicast: asciicast v2 (asciinema play, asciinema player). json: metadata,\n"
        "command events (a held command's with its approval outcome) and output chunks\n"
        "in one document.\n";

static void print_secs(FILE *f, uint64_t us)
{
        fprintf(f, "%llu.%06llu", (unsigned long long)(us / 1000000u), (unsigned long long)(us % 1000000u));
}

/* asciicast needs valid UTF-8 per event: hold back a sequence cut at the end
 * of one frame until the next one completes it. */
typedef struct utf8_carry {
        uint8_t buf[4];
        size_t n;
} utf8_carry;

static void cast_text(FILE *f, utf8_carry *carry, uint64_t t, const char *type, const uint8_t *p, size_t len)
{
        uint8_t *joined = NULL;
        size_t total = carry->n + len, keep;

        if (carry->n) {
                joined = malloc(total);
                if (!joined)
                        return;
                memcpy(joined, carry->buf, carry->n);
                memcpy(joined + carry->n, p, len);
                p = joined;
        }
        keep = vigil_utf8_complete_prefix(p, total);
        carry->n = total - keep;
        memcpy(carry->buf, p + keep, carry->n);
        if (keep) {
                fputc('[', f);
                print_secs(f, t);
                fprintf(f, ", \"%s\", ", type);
                vigil_json_string(f, (const char *)p, keep);
                fputs("]\n", f);
        }
        free(joined);
}

/* A frame copied out of the reader (whose buffers the next record reuses). */
typedef struct held_frame {
        vigil_frame f;
        bool out;
        uint8_t *copy;
} held_frame;

typedef struct held {
        held_frame *v;
        size_t n, cap;
} held;

static int hold(held *h, const vigil_record *rec)
{
        for (size_t k = 0; k < rec->chunk.n_frames; k++) {
                held_frame *hf;

                if (h->n == h->cap) {
                        size_t cap = h->cap ? h->cap * 2 : 64;
                        held_frame *nv = realloc(h->v, cap * sizeof *nv);

                        if (!nv)
                                return -ENOMEM;
                        h->v = nv;
                        h->cap = cap;
                }
                hf = &h->v[h->n];
                hf->f = rec->chunk.frames[k];
                hf->out = rec->type == VIGIL_REC_OUTPUT;
                hf->copy = NULL;
                if (hf->f.data) {
                        hf->copy = malloc(hf->f.len);
                        if (!hf->copy)
                                return -ENOMEM;
                        memcpy(hf->copy, hf->f.data, hf->f.len);
                        hf->f.data = hf->copy;
                }
                h->n++;
        }
        return 0;
}

static void emit_frame(utf8_carry *co, utf8_carry *ci, const held_frame *hf)
{
        const vigil_frame *fr = &hf->f;
        utf8_carry *c = hf->out ? co : ci;
        const char *type = hf->out ? "o" : "i";

        if (fr->kind == VIGIL_FRAME_TEXT || fr->kind == VIGIL_FRAME_BINARY)
                cast_text(stdout, c, fr->t_us, type, fr->data, fr->len);
        else {
                char m[256];

                replay_marker_text(fr, m, sizeof m);
                cast_text(stdout, c, fr->t_us, type, (const uint8_t *)m, strlen(m));
        }
}

/* Emit what is held in time order. The writer cuts output and input chunks
 * together, so one output chunk and the input chunk after it cover the same
 * time window: merging the two keeps the events in time order. */
static void release(held *h, utf8_carry *co, utf8_carry *ci)
{
        size_t a = 0, b = 0, na = 0;

        while (na < h->n && h->v[na].out)
                na++;
        b = na;
        while (a < na || b < h->n) {
                held_frame *next;

                if (a < na && (b >= h->n || h->v[a].f.t_us <= h->v[b].f.t_us))
                        next = &h->v[a++];
                else
                        next = &h->v[b++];
                emit_frame(co, ci, next);
        }
        for (size_t k = 0; k < h->n; k++)
                free(h->v[k].copy);
        h->n = 0;
}

static int export_cast(vigil_store *st, const vigil_session_info *i)
{
        vigil_record_reader *rr = NULL;
        utf8_carry co = { 0 }, ci = { 0 };
        held h = { 0 };
        bool holding_out = false;
        char id[VIGIL_SESSION_ID_STRLEN + 1];
        int r;

        vigil_session_id_format(i->id, id);
        printf("{\"version\": 2, \"width\": %u, \"height\": %u, \"timestamp\": %llu", i->cols ? i->cols : 80,
               i->rows ? i->rows : 24, (unsigned long long)(i->start_us / 1000000u));
        if (i->end_us) {
                fputs(", \"duration\": ", stdout);
                print_secs(stdout, i->end_us - i->start_us);
        }
        fputs(", \"title\": ", stdout);
        {
                char title[256];
                int n = snprintf(title, sizeof title, "vigil session %s (%s)", id, i->user);

                vigil_json_string(stdout, title, n < 0 ? 0 : (size_t)n >= sizeof title ? sizeof title - 1 : (size_t)n);
        }
        fputs(", \"env\": {", stdout);
        if (i->argc) {
                fputs("\"SHELL\": ", stdout);
                vigil_json_string(stdout, i->argv[0], strlen(i->argv[0]));
        }
        fputs("}}\n", stdout);

        r = vigil_record_reader_new(st, i->id, &rr);
        if (r < 0)
                return r;
        for (;;) {
                const vigil_record *rec;

                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        cli_error("export: session damaged: %s", vigil_record_reader_problem(rr));
                        r = -EBADMSG;
                        break;
                }
                if (r <= 0)
                        break;
                if (rec->type == VIGIL_REC_INPUT && holding_out) {
                        r = hold(&h, rec);
                        release(&h, &co, &ci);
                        holding_out = false;
                        if (r < 0)
                                break;
                        continue;
                }
                release(&h, &co, &ci);
                holding_out = false;
                if (rec->type == VIGIL_REC_RESIZE) {
                        printf("[");
                        print_secs(stdout, rec->t_us);
                        printf(", \"r\", \"%ux%u\"]\n", rec->resize.cols, rec->resize.rows);
                        continue;
                }
                if (rec->type != VIGIL_REC_OUTPUT && rec->type != VIGIL_REC_INPUT)
                        continue;
                r = hold(&h, rec);
                if (r < 0)
                        break;
                if (rec->type == VIGIL_REC_OUTPUT)
                        holding_out = true;
                else
                        release(&h, &co, &ci);
        }
        release(&h, &co, &ci);
        free(h.v);
        /* A sequence never completed: show it as replacement characters. */
        if (r >= 0 && co.n) {
                fputs("[", stdout);
                print_secs(stdout, i->end_us > i->start_us ? i->end_us - i->start_us : 0);
                fputs(", \"o\", ", stdout);
                vigil_json_string(stdout, (const char *)co.buf, co.n);
                fputs("]\n", stdout);
        }
        vigil_record_reader_free(rr);
        return r < 0 ? r : 0;
}

static void json_opt(const char *key, const char *v)
{
        printf("\"%s\":", key);
        if (v)
                vigil_json_string(stdout, v, strlen(v));
        else
                fputs("null", stdout);
}

static void json_strv(char **v, size_t n)
{
        fputc('[', stdout);
        for (size_t k = 0; k < n; k++) {
                if (k)
                        fputc(',', stdout);
                vigil_json_string(stdout, v[k], strlen(v[k]));
        }
        fputc(']', stdout);
}

static void print_event_json(const vigil_event *e, const outcome_ref *o)
{
        char t[32], ex[16];

        vigil_format_time(e->time_us, t);
        printf("{\"no\":%u,\"time\":\"%s\",", e->no, t);
        json_opt("user", e->user);
        printf(",\"pid\":%d,\"ppid\":%d,", e->pid, e->ppid);
        json_opt("runas", e->runas);
        fputc(',', stdout);
        json_opt("cwd", e->cwd);
        fputc(',', stdout);
        json_opt("exe", e->exe);
        fputs(",\"argv\":", stdout);
        json_strv(e->argv, e->argc);
        printf(",\"decision\":\"%s\",", vigil_decision_name(e->decision));
        json_opt("rule", e->rule);
        if (e->exited) {
                vigil_format_exit(e->wait_status, ex);
                printf(ex[0] == 'S' ? ",\"exit\":\"%s\"" : ",\"exit\":%s", ex);
                printf(",\"duration_ms\":%llu", (unsigned long long)e->duration_ms);
        } else
                fputs(",\"exit\":null,\"duration_ms\":null", stdout);
        printf(",\"exec_t\":%.6f,\"exec_offset\":%llu", (double)e->exec_t_us / 1e6, (unsigned long long)e->exec_off);
        if (e->exited)
                printf(",\"exit_t\":%.6f,\"exit_offset\":%llu,\"output_bytes\":%llu,", (double)e->exit_t_us / 1e6,
                       (unsigned long long)e->exit_off, (unsigned long long)(e->exit_off - e->exec_off));
        else
                fputs(",\"exit_t\":null,\"exit_offset\":null,\"output_bytes\":null,", stdout);
        outcome_print_json(stdout, o);
        fputc('}', stdout);
}

typedef struct ev_ctx {
        bool first;
        outcome_cache *outcomes;
} ev_ctx;

static int event_cb(void *userdata, const vigil_event *e)
{
        ev_ctx *c = userdata;
        outcome_ref o = { 0 };

        if (outcome_wanted(e->decision)) {
                int r = outcome_cache_find(c->outcomes, e, &o);

                if (r < 0)
                        return r;
        }
        if (!c->first)
                fputs(",\n", stdout);
        c->first = false;
        print_event_json(e, &o);
        return 0;
}

static bool valid_utf8(const uint8_t *p, size_t n)
{
        /* vigil_utf8_complete_prefix() only looks at the tail; check all. */
        for (size_t i = 0; i < n;) {
                uint8_t c = p[i];
                size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

                if (l == 0 || i + l > n)
                        return false;
                for (size_t k = 1; k < l; k++)
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                if ((l == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f))) ||
                    (l == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f))))
                        return false;
                i += l;
        }
        return true;
}

static void base64(const uint8_t *p, size_t n)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        fputc('"', stdout);
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);

                fputc(t[v >> 18 & 63], stdout);
                fputc(t[v >> 12 & 63], stdout);
                fputc(i + 1 < n ? t[v >> 6 & 63] : '=', stdout);
                fputc(i + 2 < n ? t[v & 63] : '=', stdout);
        }
        fputc('"', stdout);
}

static int export_json(vigil_store *st, const vigil_session_info *i)
{
        static const char *const kinds[] = { "text", "binary", "digest", "cut" };
        vigil_event_filter ef = { .decision = -1, .session = i->id };
        ev_ctx ec = { true };
        vigil_record_reader *rr = NULL;
        char id[VIGIL_SESSION_ID_STRLEN + 1], t[32];
        bool first = true;
        int r;

        vigil_session_id_format(i->id, id);
        printf("{\"session\":{\"id\":\"%s\",", id);
        json_opt("user", i->user);
        printf(",\"uid\":%u,", i->uid);
        json_opt("subject", i->subject);
        fputc(',', stdout);
        json_opt("email", i->email);
        fputs(",\"groups\":", stdout);
        json_strv(i->groups, i->n_groups);
        fputc(',', stdout);
        json_opt("host", i->host);
        fputc(',', stdout);
        json_opt("tty", i->tty);
        fputc(',', stdout);
        json_opt("client", i->client);
        fputs(",\"command\":", stdout);
        json_strv(i->argv, i->argc);
        vigil_format_time(i->start_us, t);
        printf(",\"start\":\"%s\"", t);
        if (i->end_us) {
                vigil_format_time(i->end_us, t);
                printf(",\"end\":\"%s\"", t);
        } else
                fputs(",\"end\":null", stdout);
        if (i->exit_status >= 0) {
                char ex[16];

                vigil_format_exit(i->exit_status, ex);
                printf(ex[0] == 'S' ? ",\"exit\":\"%s\"" : ",\"exit\":%s", ex);
        } else
                fputs(",\"exit\":null", stdout);
        printf(",\"ended\":\"%s\",\"truncated\":%s,\"sealed\":%s,\"cols\":%u,\"rows\":%u,\"output_bytes\":%llu,"
               "\"input_bytes\":%llu,\"masks\":{",
               cli_how_name(i), i->truncated ? "true" : "false", i->sealed ? "true" : "false", i->cols, i->rows,
               (unsigned long long)i->out_bytes, (unsigned long long)i->in_bytes);
        for (size_t k = 0; k < i->n_masks; k++) {
                if (k)
                        fputc(',', stdout);
                vigil_json_string(stdout, i->masks[k].detector, strlen(i->masks[k].detector));
                printf(":%llu", (unsigned long long)i->masks[k].count);
        }
        fputs("}},\n\"events\":[\n", stdout);
        r = outcome_cache_new(st, &ec.outcomes);
        if (r < 0)
                return r;
        r = vigil_store_events(st, &ef, event_cb, &ec);
        ec.outcomes = outcome_cache_free(ec.outcomes);
        if (r < 0)
                return r;
        fputs("],\n\"chunks\":[\n", stdout);
        r = vigil_record_reader_new(st, i->id, &rr);
        if (r < 0)
                return r;
        for (;;) {
                const vigil_record *rec;

                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        cli_error("export: session damaged: %s", vigil_record_reader_problem(rr));
                        r = -EBADMSG;
                        break;
                }
                if (r <= 0)
                        break;
                if (rec->type == VIGIL_REC_RESIZE) {
                        printf("%s{\"t\":%.6f,\"type\":\"resize\",\"cols\":%u,\"rows\":%u}", first ? "" : ",\n",
                               (double)rec->t_us / 1e6, rec->resize.cols, rec->resize.rows);
                        first = false;
                        continue;
                }
                if (rec->type != VIGIL_REC_OUTPUT && rec->type != VIGIL_REC_INPUT)
                        continue;
                for (size_t k = 0; k < rec->chunk.n_frames; k++) {
                        const vigil_frame *fr = &rec->chunk.frames[k];

                        printf("%s{\"t\":%.6f,\"stream\":\"%s\",\"offset\":%llu,\"length\":%llu,\"kind\":\"%s\"",
                               first ? "" : ",\n", (double)fr->t_us / 1e6, rec->type == VIGIL_REC_OUTPUT ? "o" : "i",
                               (unsigned long long)fr->offset, (unsigned long long)fr->len, kinds[fr->kind]);
                        first = false;
                        if (fr->data && valid_utf8(fr->data, fr->len)) {
                                fputs(",\"data\":", stdout);
                                vigil_json_string(stdout, (const char *)fr->data, fr->len);
                        } else if (fr->data) {
                                fputs(",\"data_base64\":", stdout);
                                base64(fr->data, fr->len);
                        } else if (fr->kind == VIGIL_FRAME_DIGEST) {
                                fputs(",\"sha256\":\"", stdout);
                                for (int b = 0; b < 32; b++)
                                        printf("%02x", fr->sha256[b]);
                                fputc('"', stdout);
                        }
                        fputc('}', stdout);
                }
        }
        vigil_record_reader_free(rr);
        if (r < 0)
                return r;
        fputs("\n]}\n", stdout);
        return 0;
}

int cmd_export(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *format = NULL;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        vigil_session_info info = { 0 };
        vigil_store *st = NULL;
        int c, r, ret = EXIT_FAIL;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("export", c, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("export", "missing SESSION");
        if (optind + 1 < argc)
                return cli_usage_error("export", "unexpected argument '%s'", argv[optind + 1]);
        if (!format)
                return cli_usage_error("export", "--format asciicast|json is required");
        if (strcmp(format, "asciicast") != 0 && strcmp(format, "json") != 0)
                return cli_usage_error("export", "--format: unknown format '%s' (asciicast or json)", format);
        if (cli_store_open(g, "export", false, &st))
                return EXIT_FAIL;
        if (cli_find_session(st, "export", argv[optind], id))
                goto out;
        r = vigil_session_info_get(st, id, &info);
        if (r < 0) {
                cli_store_error(st, "export", "read session", r);
                goto out;
        }
        r = strcmp(format, "json") == 0 ? export_json(st, &info) : export_cast(st, &info);
        if (r == -EBADMSG)
                goto out;
        if (r < 0) {
                cli_store_error(st, "export", "read", r);
                goto out;
        }
        ret = fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
out:
        vigil_session_info_clear(&info);
        vigil_store_close(st);
        return ret;
}
