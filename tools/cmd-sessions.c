/* vigil sessions: one line (or JSON line) per recorded session.
 *
 * Root reads the store; anyone else asks vigild (sessions.list), whose store
 * backend runs the same query and sends each session as the JSON object
 * vigild/view.h makes. Either way every session passes through that JSON
 * and print_session() below, so the output is the same. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "store-cli.h"
#include "validate.h"
#include "via-vigild.h"
#include "view.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil sessions [--user U] [--since T] [--until T] [--command REGEX] [--host H] [--live] [--json]\n"
        "List recorded sessions, oldest first: id, user, subject, start, duration,\n"
        "commands, exit, how it ended. Times: RFC 3339 or relative (2h, 7d).\n"
        "--command keeps sessions that ran a command line matching REGEX;\n"
        "--live keeps the sessions running now.\n"
        "Not as root: through vigild, for auditors and responders (vigil.conf).\n";

/* The fields of the text line, read back from a session's JSON. */
typedef struct row {
        const char *id, *user, *subject, *start, *ended;
        bool has_duration, truncated;
        uint64_t duration_ms, commands;
        char exit[24];
} row;

static bool row_parse(json_t *o, row *r)
{
        json_t *d = json_object_get(o, "duration_ms"), *c = json_object_get(o, "commands"),
               *x = json_object_get(o, "exit"), *t = json_object_get(o, "truncated"), *s = json_object_get(o, "subject");

        *r = (row){ 0 };
        r->id = json_string_value(json_object_get(o, "id"));
        r->user = json_string_value(json_object_get(o, "user"));
        r->start = json_string_value(json_object_get(o, "start"));
        r->ended = json_string_value(json_object_get(o, "ended"));
        if (!r->id || !r->user || !r->start || strlen(r->start) < 20 || !r->ended || !json_is_integer(c) ||
            json_integer_value(c) < 0 || !json_is_boolean(t) || !(json_is_null(s) || json_is_string(s)))
                return false;
        r->subject = json_string_value(s);
        r->commands = (uint64_t)json_integer_value(c);
        r->truncated = json_is_true(t);
        if (json_is_integer(d) && json_integer_value(d) >= 0) {
                r->has_duration = true;
                r->duration_ms = (uint64_t)json_integer_value(d);
        } else if (!json_is_null(d))
                return false;
        if (json_is_integer(x))
                snprintf(r->exit, sizeof r->exit, "%lld", (long long)json_integer_value(x));
        else if (json_is_string(x))
                snprintf(r->exit, sizeof r->exit, "%s", json_string_value(x));
        else if (json_is_null(x))
                snprintf(r->exit, sizeof r->exit, "-");
        else
                return false;
        return true;
}

/* One session, from its JSON: the JSON line itself, or the text line. */
static int print_session(bool json, const char *text, size_t len)
{
        char start[21], dur[32];
        json_t *o;
        row r;

        if (json) {
                fwrite(text, 1, len, stdout);
                fputc('\n', stdout);
                return ferror(stdout) ? -EIO : 0;
        }
        o = json_loadb(text, len, 0, NULL);
        if (!o || !row_parse(o, &r)) {
                json_decref(o);
                return -EBADMSG;
        }
        /* seconds are enough here */
        memcpy(start, r.start, 19);
        start[19] = 'Z';
        start[20] = '\0';
        if (r.has_duration)
                cli_format_duration(r.duration_ms * 1000, dur);
        else
                snprintf(dur, sizeof dur, "-");
        printf("%s  %-12s %-20s %s %10s %6llu  %-8s %s%s\n", r.id, r.user, r.subject ? r.subject : "-", start, dur,
               (unsigned long long)r.commands, r.exit, r.ended, r.truncated ? ",truncated" : "");
        json_decref(o);
        return ferror(stdout) ? -EIO : 0;
}

typedef struct list_ctx {
        bool json;
} list_ctx;

static int list_one(void *userdata, const vigil_session_info *i)
{
        list_ctx *c = userdata;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = view_session_json(i, &text, &len);

        return r < 0 ? r : print_session(c->json, text, len);
}

static int finish(int r, const char *what)
{
        if (r == -EIO)
                cli_error("sessions: write error");
        else if (r == -EBADMSG)
                cli_error("sessions: vigild sent a session this vigil cannot read");
        else if (r < 0)
                cli_error("sessions: %s: %s", what, vigil_strerror(r));
        if (r < 0)
                return EXIT_FAIL;
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int list_direct(const vigil_globals *g, const view_list_query *q, list_ctx *lc)
{
        vigil_store *st = NULL;
        int r;

        if (cli_store_open(g, "sessions", false, &st))
                return EXIT_FAIL;
        r = view_sessions(st, q, list_one, lc);
        if (r == VIGIL_E_PARSE) {
                char why[VIEW_ERR_MAX + 1];

                /* the same words vigild's store backend sends */
                snprintf(why, sizeof why, "%s", vigil_store_errmsg(st));
                view_text_clean(why);
                vigil_store_close(st);
                return cli_usage_error("sessions", "--command: %s", why);
        }
        if (r < 0 && r != -EIO && r != -ENOMEM) {
                cli_store_error(st, "sessions", "list", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        return finish(r, "list");
}

static bool valid(vkind k, const char *s, size_t max)
{
        return strlen(s) <= max && vkind_valid(k, (const uint8_t *)s, strlen(s), NULL);
}

static int list_via_vigild(const view_list_query *q, list_ctx *lc)
{
        const vigil_session_filter *f = &q->filter;
        cli_call c = { 0 };
        vmsg_builder b = { 0 };
        const vmsg *m;
        int r;

        /* What vigild cannot be asked matches nothing recorded: a user or
         * host name no account or host can have, or an empty time range. */
        if ((f->user && !valid(VK_NAME, f->user, 32)) || (f->host && !valid(VK_HOST, f->host, 255)) ||
            (f->until_us && f->since_us / 1000 > f->until_us / 1000))
                return finish(0, NULL);
        if (q->command && !valid(VK_TEXT, q->command, 1024))
                return cli_usage_error("sessions", "--command: one line of text, at most 1024 bytes, through vigild");
        r = vmsg_builder_init(&b, VT_SESSIONS_LIST, 1);
        if (r < 0)
                return finish(r, "request");
        if (f->user)
                (void)vmsg_add_str(&b, VF_USER, f->user);
        if (f->host)
                (void)vmsg_add_str(&b, VF_HOST, f->host);
        if (f->since_us)
                (void)vmsg_add_i64(&b, VF_SINCE, (int64_t)(f->since_us / 1000));
        if (f->until_us)
                (void)vmsg_add_i64(&b, VF_UNTIL, (int64_t)(f->until_us / 1000));
        if (q->command)
                (void)vmsg_add_str(&b, VF_COMMAND, q->command);
        if (q->live)
                (void)vmsg_add_bool(&b, VF_LIVE, true);
        r = cli_call_start(&c, "sessions", &b);
        vmsg_builder_done(&b);
        if (r)
                return r;
        while ((r = cli_call_next(&c, &m)) == 1) {
                const vmsg_field *it = vmsg_get(m, VF_ITEM);

                r = it ? print_session(lc->json, (const char *)it->val, it->len) : -EBADMSG;
                if (r < 0)
                        break;
        }
        if (r == 0 && c.status != VS_OK) {
                if (c.status == VS_INVALID && q->command)
                        r = cli_usage_error("sessions", "--command: %s", c.text);
                else
                        r = cli_call_fail(&c);
                cli_call_done(&c);
                return r;
        }
        if (r < 0 && r != -EIO && r != -EBADMSG) {
                cli_call_fail(&c);
                cli_call_done(&c);
                return EXIT_FAIL;
        }
        cli_call_done(&c);
        return finish(r, "list");
}

int cmd_sessions(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' },  { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 't' }, { "command", required_argument, NULL, 'c' },
                { "host", required_argument, NULL, 'H' },  { "json", no_argument, NULL, 'j' },
                { "live", no_argument, NULL, 'l' },        { "help", no_argument, NULL, 'h' },
                {},
        };
        view_list_query q = { 0 };
        list_ctx lc = { 0 };
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        q.filter.user = optarg;
                        break;
                case 's':
                        if ((r = cli_time_arg("sessions", "--since", optarg, &q.filter.since_us)))
                                return r;
                        break;
                case 't':
                        if ((r = cli_time_arg("sessions", "--until", optarg, &q.filter.until_us)))
                                return r;
                        break;
                case 'c':
                        q.command = optarg;
                        break;
                case 'H':
                        q.filter.host = optarg;
                        break;
                case 'j':
                        lc.json = true;
                        break;
                case 'l':
                        q.live = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("sessions", c, optopt, argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error("sessions", "unexpected argument '%s'", argv[optind]);
        if (cli_via_vigild(g))
                return list_via_vigild(&q, &lc);
        return list_direct(g, &q, &lc);
}
