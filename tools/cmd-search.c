/* vigil search: lines of shown output and command lines matching a regex. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil search REGEX [--user U] [--since T] [--until T]\n"
        "Search what sessions showed (masked output, escape sequences removed) and their\n"
        "command lines. Prints: session, time offset, the command running then, the line\n"
        "(tab-separated). Exit 0 when something matched, 1 when nothing did.\n";

typedef struct search_out {
        unsigned long long hits;
} search_out;

static int hit(void *userdata, const vigil_search_hit *h)
{
        search_out *o = userdata;
        char id[VIGIL_SESSION_ID_STRLEN + 1];
        uint64_t s = h->t_us / 1000000u;

        vigil_session_id_format(h->session, id);
        printf("%s\t+%02llu:%02llu:%02llu.%03llu\t", id, (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
               (unsigned long long)(s % 60), (unsigned long long)(h->t_us / 1000u % 1000u));
        if (h->command)
                fputs(h->command, stdout);
        else
                fputc('-', stdout);
        fputs(h->is_command ? "\t$ " : "\t", stdout);
        fwrite(h->line, 1, h->line_len, stdout);
        fputc('\n', stdout);
        o->hits++;
        return ferror(stdout) ? -EIO : 0;
}

int cmd_search(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' }, { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
                {},
        };
        vigil_search_query q = { 0 };
        search_out o = { 0 };
        vigil_store *st = NULL;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        q.filter.user = optarg;
                        break;
                case 's':
                        if ((r = cli_time_arg("search", "--since", optarg, &q.filter.since_us)))
                                return r;
                        break;
                case 't':
                        if ((r = cli_time_arg("search", "--until", optarg, &q.filter.until_us)))
                                return r;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("search", c, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("search", "missing REGEX");
        if (optind + 1 < argc)
                return cli_usage_error("search", "unexpected argument '%s'", argv[optind + 1]);
        q.regex = argv[optind];
        if (cli_store_open(g, "search", false, &st))
                return EXIT_FAIL;
        r = vigil_store_search(st, &q, hit, &o, NULL);
        if (r == VIGIL_E_PARSE) {
                cli_usage_error("search", "%s", vigil_store_errmsg(st));
                vigil_store_close(st);
                return EXIT_USAGE;
        }
        if (r < 0) {
                if (r == -EIO)
                        cli_error("search: write error");
                else
                        cli_store_error(st, "search", "search", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        if (fflush(stdout) != 0)
                return EXIT_FAIL;
        return o.hits ? EXIT_OK : EXIT_FAIL;
}
