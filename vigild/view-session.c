/* Session summaries as listings show them (view.h): the JSON of one
 * session, the query behind `vigil sessions` and sessions.list, and the
 * error texts both ways of listing print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "vigil-error.h"
#include "view.h"

/* The compact form's bounds (view.h): with them the worst case (every byte
 * escaped six-fold) stays far below VIEW_JSON_MAX. */
#define COMPACT_STRING 64u
#define COMPACT_LIST 32u

const char *view_how_name(const vigil_session_info *i)
{
        const char *w = vigil_end_how_name(i->how);

        if (w)
                return w;
        return vigil_session_writer_alive(i) ? "live" : "orphan";
}

/* One code point at @s (at most @len bytes): its length, or 0 when the
 * bytes there are not valid UTF-8 (overlong, surrogate, past U+10FFFF). */
static size_t utf8_at(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
        uint32_t cp, min;
        size_t n;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, cp = s[0] & 0x1f, min = 0x80;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, cp = s[0] & 0x0f, min = 0x800;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (len < n)
                return 0;
        for (size_t k = 1; k < n; k++) {
                if ((s[k] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

/* What the protocol's text kind refuses (validate.c) is escaped, so the
 * JSON is valid protocol text and shows no bidi trickery on a terminal. */
static bool cp_escaped(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* A JSON string of @s; with @cap, at most @cap bytes of it and U+2026 after a cut. */
static void json_str(FILE *f, const char *str, size_t cap)
{
        const uint8_t *s = (const uint8_t *)str;
        size_t len = strlen(str), i = 0;

        fputc('"', f);
        while (i < len) {
                uint32_t cp;
                size_t n = utf8_at(s + i, len - i, &cp);

                if (cap && i + (n ? n : 1) > cap) {
                        fputs("\xe2\x80\xa6", f);
                        break;
                }
                if (n == 0) {
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                if (cp == '"' || cp == '\\')
                        fprintf(f, "\\%c", (char)cp);
                else if (cp_escaped(cp))
                        fprintf(f, "\\u%04x", (unsigned)cp);
                else
                        fwrite(s + i, 1, n, f);
                i += n;
        }
        fputc('"', f);
}

static void json_opt(FILE *f, const char *key, const char *v, size_t cap)
{
        fprintf(f, ",\"%s\":", key);
        if (v)
                json_str(f, v, cap);
        else
                fputs("null", f);
}

static void json_list(FILE *f, const char *key, char *const *v, size_t n, size_t cap, size_t max)
{
        fprintf(f, ",\"%s\":[", key);
        for (size_t k = 0; k < n && (!max || k < max); k++) {
                if (k)
                        fputc(',', f);
                json_str(f, v[k], cap);
        }
        fputc(']', f);
}

static void write_json(FILE *f, const vigil_session_info *i, bool compact)
{
        char id[VIGIL_SESSION_ID_STRLEN + 1], t[32], ex[16];
        size_t cap = compact ? COMPACT_STRING : 0, max = compact ? COMPACT_LIST : 0;

        vigil_session_id_format(i->id, id);
        fprintf(f, "{\"id\":\"%s\",\"user\":", id);
        json_str(f, i->user ? i->user : "", cap);
        fprintf(f, ",\"uid\":%u", i->uid);
        json_opt(f, "subject", i->subject, cap);
        json_opt(f, "email", i->email, cap);
        json_list(f, "groups", i->groups, i->n_groups, cap, max);
        json_opt(f, "host", i->host, cap);
        json_opt(f, "tty", i->tty, cap);
        json_opt(f, "client", i->client, cap);
        json_list(f, "command", i->argv, i->argc, cap, max);
        vigil_format_time(i->start_us, t);
        fprintf(f, ",\"start\":\"%s\"", t);
        if (i->end_us) {
                vigil_format_time(i->end_us, t);
                fprintf(f, ",\"end\":\"%s\",\"duration_ms\":%llu", t,
                        (unsigned long long)((i->end_us - i->start_us) / 1000));
        } else
                fputs(",\"end\":null,\"duration_ms\":null", f);
        fprintf(f, ",\"commands\":%llu", (unsigned long long)i->n_commands);
        if (i->exit_status >= 0) {
                vigil_format_exit(i->exit_status, ex);
                /* a number, or a signal's name (or "?") as a string */
                if (ex[0] >= '0' && ex[0] <= '9')
                        fprintf(f, ",\"exit\":%s", ex);
                else
                        fprintf(f, ",\"exit\":\"%s\"", ex);
        } else
                fputs(",\"exit\":null", f);
        fprintf(f, ",\"ended\":\"%s\",\"truncated\":%s,\"sealed\":%s,\"cols\":%u,\"rows\":%u", view_how_name(i),
                i->truncated ? "true" : "false", i->sealed ? "true" : "false", i->cols, i->rows);
        fprintf(f, ",\"output_bytes\":%llu,\"input_bytes\":%llu,\"records\":%llu,\"masks\":{",
                (unsigned long long)i->out_bytes, (unsigned long long)i->in_bytes,
                (unsigned long long)i->n_records);
        for (size_t k = 0; k < i->n_masks && (!max || k < max); k++) {
                if (k)
                        fputc(',', f);
                json_str(f, i->masks[k].detector, cap);
                fprintf(f, ":%llu", (unsigned long long)i->masks[k].count);
        }
        fputc('}', f);
        if (compact)
                fputs(",\"cut\":true", f);
        fputc('}', f);
}

static int render(const vigil_session_info *i, bool compact, char **ret, size_t *ret_len)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        write_json(f, i, compact);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int view_session_json(const vigil_session_info *i, char **ret, size_t *ret_len)
{
        char *buf = NULL;
        size_t len = 0;
        int r;

        r = render(i, false, &buf, &len);
        if (r < 0)
                return r;
        if (len > VIEW_JSON_MAX) {
                free(buf);
                r = render(i, true, &buf, &len);
                if (r < 0)
                        return r;
                if (len > VIEW_JSON_MAX) {
                        free(buf);
                        return -E2BIG;
                }
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* ---- the query ---- */

void view_list_times(uint64_t since_us, uint64_t until_us, uint64_t *ret_since_us, uint64_t *ret_until_us)
{
        *ret_since_us = since_us / 1000 * 1000;
        *ret_until_us = until_us ? until_us / 1000 * 1000 + 999 : 0;
}

typedef struct list_ctx {
        const view_list_query *q;
        vigil_store *st;
        vigil_session_cb cb;
        void *userdata;
} list_ctx;

static bool is_live(const vigil_session_info *i)
{
        return i->how == VIGIL_END_LIVE && vigil_session_writer_alive(i);
}

static int list_one(void *userdata, const vigil_session_info *i)
{
        list_ctx *c = userdata;

        if (c->q->live && !is_live(i))
                return 0;
        return c->cb(c->userdata, i);
}

/* --command: the search finds lines of command events; each session that
 * has one is listed once, with its summary. */
static int command_hit(void *userdata, const vigil_search_hit *h)
{
        list_ctx *c = userdata;
        vigil_session_info i = { 0 };
        int r = vigil_session_info_get(c->st, h->session, &i);

        if (r < 0)
                return r;
        r = list_one(c, &i);
        vigil_session_info_clear(&i);
        if (r != 0)
                return r;
        return VIGIL_SEARCH_NEXT_SESSION;
}

int view_sessions(vigil_store *st, const view_list_query *q, vigil_session_cb cb, void *userdata)
{
        list_ctx c = { .q = q, .st = st, .cb = cb, .userdata = userdata };
        vigil_session_filter f = q->filter;

        view_list_times(q->filter.since_us, q->filter.until_us, &f.since_us, &f.until_us);
        if (q->command) {
                vigil_search_query sq = { .regex = q->command, .commands_only = true, .filter = f };

                return vigil_store_search(st, &sq, command_hit, &c, NULL);
        }
        return vigil_store_sessions(st, &f, list_one, &c);
}

/* ---- error texts ---- */

void view_text_clean(char *buf)
{
        size_t len;

        for (char *p = buf; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        len = strlen(buf);
        /* cut back until what is left is valid UTF-8 without escaped code points */
        for (;;) {
                size_t i = 0;
                uint32_t cp;

                while (i < len) {
                        size_t n = utf8_at((const uint8_t *)buf + i, len - i, &cp);

                        if (n == 0 || cp_escaped(cp))
                                break;
                        i += n;
                }
                if (i == len)
                        return;
                buf[i] = '\0';
                len = i;
        }
}

static void clip(char *buf, size_t size)
{
        if (size > VIEW_ERR_MAX + 1)
                buf[VIEW_ERR_MAX] = '\0';
        view_text_clean(buf);
}

void view_store_error(const vigil_store *st, const char *what, int r, char *buf, size_t size)
{
        const char *m = st ? vigil_store_errmsg(st) : NULL;

        snprintf(buf, size, "%s: %s", what, m && *m ? m : vigil_strerror(r));
        clip(buf, size);
}

void view_store_open_error(const char *dir, int r, char *buf, size_t size)
{
        const char *m = vigil_store_open_errmsg();

        if (m && *m)
                snprintf(buf, size, "%s", m);
        else
                snprintf(buf, size, "cannot open store '%s': %s", dir, vigil_strerror(r));
        clip(buf, size);
}

const char *view_find_phrase(int r)
{
        switch (r) {
        case -ENOENT:
                return VIEW_NO_SESSION;
        case -ENOTUNIQ:
                return VIEW_AMBIGUOUS;
        case -EINVAL:
                return VIEW_NOT_AN_ID;
        default:
                return NULL;
        }
}

int view_find_error(const char *text)
{
        static const int codes[] = { -ENOENT, -ENOTUNIQ, -EINVAL };

        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
                if (strcmp(text, view_find_phrase(codes[k])) == 0)
                        return codes[k];
        return 0;
}
