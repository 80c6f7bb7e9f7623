/* vigil sessions: one line (or JSON line) per recorded session. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil sessions [--user U] [--since T] [--until T] [--command REGEX] [--host H] [--json]\n"
        "List recorded sessions, oldest first: id, user, subject, start, duration,\n"
        "commands, exit, how it ended. Times: RFC 3339 or relative (2h, 7d).\n"
        "--command keeps sessions that ran a command line matching REGEX.\n";

typedef struct list_ctx {
        bool json;
        uint64_t n;
        vigil_store *st;
} list_ctx;

static void print_json(const vigil_session_info *i)
{
        char id[VIGIL_SESSION_ID_STRLEN + 1], t[32], ex[16];
        uint64_t end = i->end_us;

        vigil_session_id_format(i->id, id);
        printf("{\"id\":\"%s\",\"user\":", id);
        vigil_json_string(stdout, i->user, strlen(i->user));
        printf(",\"uid\":%u", i->uid);
#define OPT_STR(key, v)                                                                                       \
        do {                                                                                                  \
                fputs(",\"" key "\":", stdout);                                                               \
                if (v)                                                                                        \
                        vigil_json_string(stdout, v, strlen(v));                                              \
                else                                                                                          \
                        fputs("null", stdout);                                                                \
        } while (0)
        OPT_STR("subject", i->subject);
        OPT_STR("email", i->email);
        fputs(",\"groups\":[", stdout);
        for (size_t k = 0; k < i->n_groups; k++) {
                if (k)
                        fputc(',', stdout);
                vigil_json_string(stdout, i->groups[k], strlen(i->groups[k]));
        }
        fputc(']', stdout);
        OPT_STR("host", i->host);
        OPT_STR("tty", i->tty);
        OPT_STR("client", i->client);
        fputs(",\"command\":[", stdout);
        for (size_t k = 0; k < i->argc; k++) {
                if (k)
                        fputc(',', stdout);
                vigil_json_string(stdout, i->argv[k], strlen(i->argv[k]));
        }
        fputc(']', stdout);
        vigil_format_time(i->start_us, t);
        printf(",\"start\":\"%s\"", t);
        if (end) {
                vigil_format_time(end, t);
                printf(",\"end\":\"%s\",\"duration_ms\":%llu", t, (unsigned long long)((end - i->start_us) / 1000));
        } else
                fputs(",\"end\":null,\"duration_ms\":null", stdout);
        printf(",\"commands\":%llu", (unsigned long long)i->n_commands);
        if (i->exit_status >= 0) {
                vigil_format_exit(i->exit_status, ex);
                if (ex[0] == 'S')
                        printf(",\"exit\":\"%s\"", ex);
                else
                        printf(",\"exit\":%s", ex);
        } else
                fputs(",\"exit\":null", stdout);
        printf(",\"ended\":\"%s\",\"truncated\":%s,\"sealed\":%s,\"cols\":%u,\"rows\":%u", cli_how_name(i),
               i->truncated ? "true" : "false", i->sealed ? "true" : "false", i->cols, i->rows);
        printf(",\"output_bytes\":%llu,\"input_bytes\":%llu,\"records\":%llu,\"masks\":{",
               (unsigned long long)i->out_bytes, (unsigned long long)i->in_bytes, (unsigned long long)i->n_records);
        for (size_t k = 0; k < i->n_masks; k++) {
                if (k)
                        fputc(',', stdout);
                vigil_json_string(stdout, i->masks[k].detector, strlen(i->masks[k].detector));
                printf(":%llu", (unsigned long long)i->masks[k].count);
        }
        fputs("}}\n", stdout);
#undef OPT_STR
}

static void print_line(const vigil_session_info *i)
{
        char id[VIGIL_SESSION_ID_STRLEN + 1], t[32], dur[32], ex[16];

        vigil_session_id_format(i->id, id);
        vigil_format_time(i->start_us, t);
        t[19] = 'Z'; /* seconds are enough here */
        t[20] = 0;
        if (i->end_us)
                cli_format_duration(i->end_us - i->start_us, dur);
        else
                snprintf(dur, sizeof dur, "-");
        vigil_format_exit(i->exit_status, ex);
        printf("%s  %-12s %-20s %s %10s %6llu  %-8s %s%s\n", id, i->user, i->subject ? i->subject : "-", t, dur,
               (unsigned long long)i->n_commands, ex, cli_how_name(i), i->truncated ? ",truncated" : "");
}

static int list_one(void *userdata, const vigil_session_info *i)
{
        list_ctx *c = userdata;

        if (c->json)
                print_json(i);
        else
                print_line(i);
        c->n++;
        return ferror(stdout) ? -EIO : 0;
}

typedef struct cmd_ctx {
        list_ctx *list;
        const char *host;
} cmd_ctx;

static int command_hit(void *userdata, const vigil_search_hit *h)
{
        cmd_ctx *c = userdata;
        vigil_session_info i = { 0 };
        int r = vigil_session_info_get(c->list->st, h->session, &i);

        if (r < 0)
                return r;
        r = list_one(c->list, &i);
        vigil_session_info_clear(&i);
        return r < 0 ? r : VIGIL_SEARCH_NEXT_SESSION;
}

int cmd_sessions(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' },  { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 't' }, { "command", required_argument, NULL, 'c' },
                { "host", required_argument, NULL, 'H' },  { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },        {},
        };
        vigil_session_filter f = { 0 };
        list_ctx lc = { 0 };
        const char *command = NULL;
        vigil_store *st = NULL;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        f.user = optarg;
                        break;
                case 's':
                        if ((r = cli_time_arg("sessions", "--since", optarg, &f.since_us)))
                                return r;
                        break;
                case 't':
                        if ((r = cli_time_arg("sessions", "--until", optarg, &f.until_us)))
                                return r;
                        break;
                case 'c':
                        command = optarg;
                        break;
                case 'H':
                        f.host = optarg;
                        break;
                case 'j':
                        lc.json = true;
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
        if (cli_store_open(g, "sessions", false, &st))
                return EXIT_FAIL;
        lc.st = st;
        if (command) {
                vigil_search_query q = { .regex = command, .commands_only = true, .filter = f };
                cmd_ctx cc = { &lc, f.host };

                r = vigil_store_search(st, &q, command_hit, &cc, NULL);
        } else
                r = vigil_store_sessions(st, &f, list_one, &lc);
        if (r == VIGIL_E_PARSE) {
                cli_usage_error("sessions", "--command: %s", vigil_store_errmsg(st));
                vigil_store_close(st);
                return EXIT_USAGE;
        }
        if (r < 0) {
                if (r == -EIO)
                        cli_error("sessions: write error");
                else
                        cli_store_error(st, "sessions", "list", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
