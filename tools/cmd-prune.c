/* vigil prune: retention. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "approval.h"
#include "store-cli.h"

static const char usage[] =
        "Usage: vigil prune --older-than DUR [--dry-run]\n"
        "Delete sessions that started more than DUR ago (90m, 30d, 12w) and are not live,\n"
        "and the approval requests created before then that were decided.\n"
        "LMDB reuses the space; the file does not shrink (see docs/store.md: mdb_copy -c).\n";

typedef struct prune_out {
        bool dry;
} prune_out;

static int pruned(void *userdata, const vigil_session_info *i)
{
        prune_out *o = userdata;
        char id[VIGIL_SESSION_ID_STRLEN + 1], t[32];

        vigil_session_id_format(i->id, id);
        vigil_format_time(i->start_us, t);
        printf("%s %s %s %s\n", o->dry ? "would prune" : "pruned", id, i->user, t);
        return 0;
}

int cmd_prune(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "older-than", required_argument, NULL, 'o' },
                { "dry-run", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *older = NULL;
        prune_out o = { 0 };
        uint64_t dur = 0, now, n = 0, na = 0;
        vigil_store *st = NULL;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        older = optarg;
                        break;
                case 'n':
                        o.dry = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("prune", c, optopt, argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cli_usage_error("prune", "unexpected argument '%s'", argv[optind]);
        if (!older)
                return cli_usage_error("prune", "--older-than DUR is required");
        if (vigil_parse_duration(older, &dur) < 0 || dur == 0)
                return cli_usage_error("prune", "--older-than: invalid duration '%s' (like 30d, 12w, 90m)", older);
        if (cli_store_open(g, "prune", !o.dry, &st))
                return EXIT_FAIL;
        now = vigil_now_us();
        r = vigil_store_prune(st, dur < now ? now - dur : 0, o.dry, pruned, &o, &n);
        if (r < 0) {
                fflush(stdout);
                cli_store_error(st, "prune", "prune", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        /* the requests of the same age that were decided (pending ones wait on) */
        r = vigil_approvals_prune(st, (int64_t)((dur < now ? now - dur : 0) / 1000u), o.dry, &na);
        if (r < 0) {
                fflush(stdout);
                cli_store_error(st, "prune", "prune approval requests", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        printf("%s %llu sessions and %llu decided approval requests\n", o.dry ? "would prune" : "pruned",
               (unsigned long long)n, (unsigned long long)na);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
