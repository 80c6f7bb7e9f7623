/* vigil store migrate: bring the store to this vigil's format version. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil store migrate\n"
        "Bring the store (--store) to this vigil's format version. A store of a newer\n"
        "version is refused and left alone.\n";

int cmd_store(int argc, char **argv, const vigil_globals *g)
{
        uint32_t from = 0;
        int r;

        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(usage, stdout);
                return EXIT_OK;
        }
        if (argc < 2)
                return cli_usage_error("store", "missing subcommand (migrate)");
        if (strcmp(argv[1], "migrate") != 0)
                return cli_usage_error("store", "unknown subcommand '%s'", argv[1]);
        if (argc > 2) {
                if (strcmp(argv[2], "--help") == 0) {
                        fputs(usage, stdout);
                        return EXIT_OK;
                }
                return cli_usage_error("store", "unexpected argument '%s'", argv[2]);
        }
        r = vigil_store_migrate(g->store, &from);
        if (r < 0) {
                const char *m = vigil_store_open_errmsg();

                cli_error("store: migrate: %s", m && *m ? m : vigil_strerror(r));
                return EXIT_FAIL;
        }
        if (from == VIGIL_STORE_FORMAT)
                printf("store '%s' is at format version %u; nothing to migrate\n", g->store, from);
        else
                printf("store '%s' migrated from format version %u to %u\n", g->store, from, VIGIL_STORE_FORMAT);
        return EXIT_OK;
}
