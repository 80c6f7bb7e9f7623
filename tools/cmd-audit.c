/* vigil audit: every command event, streamed as CSV (RFC 4180) or JSON lines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "outcomes.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil audit [--format csv|json] [--user U] [--since T] [--until T] [--decision D] [--session S]\n"
        "Export the command events in time order: CSV with a header row (default) or\n"
        "one JSON object per line. Decisions: allow deny audit killed approved rejected timeout withdrawn.\n"
        "A held command's outcome (request, who decided, when, why) comes from its session's chain.\n";

static const char header[] = "time,session,user,host,pid,ppid,runas,cwd,exe,argv,decision,rule,exit,duration_ms,"
                             "exec_t,exec_offset,exit_t,exit_offset,output_bytes,request,decided_by,decided_at,reason\r\n";

typedef struct audit_ctx {
        bool json;
        outcome_cache *outcomes;
} audit_ctx;

static void csv_str(const char *s)
{
        if (s)
                vigil_csv_field(stdout, s, strlen(s));
}

/* argv as a JSON array inside one CSV cell: unambiguous and easy to parse. */
static void csv_argv(const vigil_event *e)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);

        if (!m)
                return;
        fputc('[', m);
        for (size_t k = 0; k < e->argc; k++) {
                if (k)
                        fputc(',', m);
                vigil_json_string(m, e->argv[k], strlen(e->argv[k]));
        }
        fputc(']', m);
        if (fclose(m) == 0)
                vigil_csv_field(stdout, buf, len);
        free(buf);
}

static void json_opt(const char *key, const char *v, bool comma)
{
        printf("%s\"%s\":", comma ? "," : "", key);
        if (v)
                vigil_json_string(stdout, v, strlen(v));
        else
                fputs("null", stdout);
}

static int audit_one(void *userdata, const vigil_event *e)
{
        audit_ctx *c = userdata;
        char t[32], id[VIGIL_SESSION_ID_STRLEN + 1], ex[16];
        outcome_ref o = { 0 };
        int r;

        /* only held commands' events have one: no lookup for the others */
        if (outcome_wanted(e->decision)) {
                r = outcome_cache_find(c->outcomes, e, &o);
                if (r < 0)
                        return r;
        }
        vigil_format_time(e->time_us, t);
        vigil_session_id_format(e->session, id);
        if (e->exited)
                vigil_format_exit(e->wait_status, ex);
        if (c->json) {
                printf("{\"time\":\"%s\",\"session\":\"%s\"", t, id);
                json_opt("user", e->user, true);
                json_opt("host", e->host, true);
                printf(",\"pid\":%d,\"ppid\":%d", e->pid, e->ppid);
                json_opt("runas", e->runas, true);
                json_opt("cwd", e->cwd, true);
                json_opt("exe", e->exe, true);
                fputs(",\"argv\":[", stdout);
                for (size_t k = 0; k < e->argc; k++) {
                        if (k)
                                fputc(',', stdout);
                        vigil_json_string(stdout, e->argv[k], strlen(e->argv[k]));
                }
                printf("],\"decision\":\"%s\"", vigil_decision_name(e->decision));
                json_opt("rule", e->rule, true);
                if (e->exited)
                        printf(ex[0] == 'S' ? ",\"exit\":\"%s\",\"duration_ms\":%llu" : ",\"exit\":%s,\"duration_ms\":%llu",
                               ex, (unsigned long long)e->duration_ms);
                else
                        fputs(",\"exit\":null,\"duration_ms\":null", stdout);
                printf(",\"exec_t\":%.6f,\"exec_offset\":%llu", (double)e->exec_t_us / 1e6, (unsigned long long)e->exec_off);
                if (e->exited)
                        printf(",\"exit_t\":%.6f,\"exit_offset\":%llu,\"output_bytes\":%llu,", (double)e->exit_t_us / 1e6,
                               (unsigned long long)e->exit_off, (unsigned long long)(e->exit_off - e->exec_off));
                else
                        fputs(",\"exit_t\":null,\"exit_offset\":null,\"output_bytes\":null,", stdout);
                outcome_print_json(stdout, &o);
                fputs("}\n", stdout);
        } else {
                printf("%s,%s,", t, id);
                csv_str(e->user);
                fputc(',', stdout);
                csv_str(e->host);
                printf(",%d,%d,", e->pid, e->ppid);
                csv_str(e->runas);
                fputc(',', stdout);
                csv_str(e->cwd);
                fputc(',', stdout);
                csv_str(e->exe);
                fputc(',', stdout);
                csv_argv(e);
                printf(",%s,", vigil_decision_name(e->decision));
                csv_str(e->rule);
                if (e->exited)
                        printf(",%s,%llu", ex, (unsigned long long)e->duration_ms);
                else
                        fputs(",,", stdout);
                printf(",%.6f,%llu", (double)e->exec_t_us / 1e6, (unsigned long long)e->exec_off);
                if (e->exited)
                        printf(",%.6f,%llu,%llu", (double)e->exit_t_us / 1e6, (unsigned long long)e->exit_off,
                               (unsigned long long)(e->exit_off - e->exec_off));
                else
                        fputs(",,,", stdout);
                r = outcome_print_csv(stdout, &o);
                if (r < 0)
                        return r;
                fputs("\r\n", stdout);
        }
        return ferror(stdout) ? -EIO : 0;
}

int cmd_audit(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },   { "user", required_argument, NULL, 'u' },
                { "since", required_argument, NULL, 's' },    { "until", required_argument, NULL, 't' },
                { "decision", required_argument, NULL, 'd' }, { "session", required_argument, NULL, 'S' },
                { "help", no_argument, NULL, 'h' },           {},
        };
        vigil_event_filter f = { .decision = -1 };
        audit_ctx ac = { 0 };
        const char *session = NULL;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        vigil_store *st = NULL;
        static char obuf[1 << 16];
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (strcmp(optarg, "json") == 0)
                                ac.json = true;
                        else if (strcmp(optarg, "csv") == 0)
                                ac.json = false;
                        else
                                return cli_usage_error("audit", "--format: unknown format '%s' (csv or json)", optarg);
                        break;
                case 'u':
                        f.user = optarg;
                        break;
                case 's':
                        if ((r = cli_time_arg("audit", "--since", optarg, &f.since_us)))
                                return r;
                        break;
                case 't':
                        if ((r = cli_time_arg("audit", "--until", optarg, &f.until_us)))
                                return r;
                        break;
                case 'd':
                        f.decision = vigil_decision_from_name(optarg);
                        if (f.decision < 0)
                                return cli_usage_error("audit", "--decision: unknown decision '%s'", optarg);
                        break;
                case 'S':
                        session = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("audit", c, optopt, argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
        if (cli_store_open(g, "audit", false, &st))
                return EXIT_FAIL;
        if (session) {
                if (cli_find_session(st, "audit", session, id)) {
                        vigil_store_close(st);
                        return EXIT_FAIL;
                }
                f.session = id;
        }
        r = outcome_cache_new(st, &ac.outcomes);
        if (r < 0) {
                cli_error("audit: %s", vigil_strerror(r));
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
        if (!ac.json)
                fputs(header, stdout);
        r = vigil_store_events(st, &f, audit_one, &ac);
        ac.outcomes = outcome_cache_free(ac.outcomes);
        if (r < 0) {
                fflush(stdout);
                if (r == -EIO)
                        cli_error("audit: write error");
                else
                        cli_store_error(st, "audit", "read", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
