/* vigil verify: check the hash chains, seals and derived tables. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "store-cli.h"

static const char usage[] =
        "Usage: vigil verify [SESSION] [--seal-orphans]\n"
        "Check every session (or one): each record's hash, the chain, the seal against\n"
        "the host key, and the summaries and indexes against the records. Exit 0 when all\n"
        "is intact; otherwise exit 1 and one line per broken session naming the first bad\n"
        "record. Nothing is written unless --seal-orphans is given, which seals sessions\n"
        "whose writer is gone as truncated.\n";

typedef struct verify_ctx {
        unsigned long long ok, live, bad, sealed;
} verify_ctx;

static int report(void *userdata, const uint8_t *id, vigil_verify_status status, const char *message)
{
        verify_ctx *c = userdata;
        char idt[VIGIL_SESSION_ID_STRLEN + 1];

        vigil_session_id_format(id, idt);
        switch (status) {
        case VIGIL_VERIFY_OK:
                c->ok++;
                break;
        case VIGIL_VERIFY_LIVE:
                c->live++;
                break;
        case VIGIL_VERIFY_SEALED_NOW:
                c->sealed++;
                printf("%s: %s\n", idt, message ? message : "sealed");
                break;
        case VIGIL_VERIFY_BROKEN:
        case VIGIL_VERIFY_UNSEALED:
                c->bad++;
                printf("%s: %s\n", idt, message ? message : "broken");
                break;
        }
        return 0;
}

int cmd_verify(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "seal-orphans", no_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool seal = false;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        verify_ctx vc = { 0 };
        vigil_store *st = NULL;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        seal = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("verify", c, optopt, argv[optind - 1]);
                }
        }
        if (optind + 1 < argc)
                return cli_usage_error("verify", "unexpected argument '%s'", argv[optind + 1]);
        if (cli_store_open(g, "verify", seal, &st))
                return EXIT_FAIL;
        if (optind < argc && cli_find_session(st, "verify", argv[optind], id)) {
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        r = vigil_store_verify(st, optind < argc ? id : NULL, seal ? VIGIL_VERIFY_SEAL_ORPHANS : 0, report, &vc);
        if (r < 0) {
                fflush(stdout);
                cli_store_error(st, "verify", "verify", r);
                vigil_store_close(st);
                return EXIT_FAIL;
        }
        vigil_store_close(st);
        if (vc.bad == 0)
                fprintf(stderr, "vigil: verify: %llu sessions intact (%llu sealed, %llu live%s)\n",
                        vc.ok + vc.live + vc.sealed, vc.ok + vc.sealed, vc.live, vc.sealed ? ", some sealed now" : "");
        if (fflush(stdout) != 0)
                return EXIT_FAIL;
        return vc.bad ? EXIT_FAIL : EXIT_OK;
}
