/* vigil approvals [--json] | vigil approvals show ID: the requests held
 * commands wait on (issue 9). Root reads the store; anyone else asks vigild,
 * which shows only what they may decide. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "approvals-cli.h"
#include "commands.h"
#include "vigil-error.h"

static const char usage[] = "Usage: vigil approvals [--json]\n"
                            "       vigil approvals show ID\n"
                            "\n"
                            "List the pending approval requests of held commands, oldest first: id, age,\n"
                            "time left, user, session, who may decide them (approvers=) and the command.\n"
                            "--json prints one JSON object per line instead.\n"
                            "'show ID' prints one request in full: argv, cwd, runas, the environment that\n"
                            "differs from a login default, the rule, the last screenful of the session's\n"
                            "output (control characters escaped), and its state.\n"
                            "\n"
                            "Root reads the store; others go through vigild and see the requests they may\n"
                            "decide. Decide with 'vigil approve ID' or 'vigil deny ID --reason R'.\n";

typedef struct list_ctx {
        bool json;
        int64_t now_ms;
} list_ctx;

static int list_one(void *userdata, const vigil_approval *a)
{
        list_ctx *x = userdata;

        if (x->json) {
                if (cli_approval_print_json(stdout, a) < 0)
                        return -EIO;
        } else
                cli_approval_print_line(stdout, a, x->now_ms);
        return ferror(stdout) ? -EIO : 0;
}

static int show(const vigil_globals *g, int argc, char **argv)
{
        cli_approvals *c = NULL;
        vigil_approval *a = NULL;
        int r;

        if (argc < 2)
                return cli_usage_error("approvals", "show: missing ID");
        if (argc > 2)
                return cli_usage_error("approvals", "show: unexpected argument '%s'", argv[2]);
        if (cli_approvals_open(g, "approvals", false, &c))
                return EXIT_FAIL;
        r = cli_approvals_get(c, argv[1], &a);
        if (r == 0) {
                cli_approval_print_full(stdout, a, cli_now_ms());
                vigil_approval_free(a);
        }
        cli_approvals_close(c);
        return r ? EXIT_FAIL : fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_approvals(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        list_ctx x = { 0 };
        cli_approvals *c = NULL;
        int ch, r;

        optind = 0;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
                switch (ch) {
                case 'j':
                        x.json = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("approvals", ch, optopt, argv[optind - 1]);
                }
        }
        if (optind < argc && strcmp(argv[optind], "show") == 0) {
                if (x.json)
                        return cli_usage_error("approvals", "--json is for the list, not for show");
                return show(g, argc - optind, argv + optind);
        }
        if (optind < argc)
                return cli_usage_error("approvals", "unexpected argument '%s'", argv[optind]);
        if (cli_approvals_open(g, "approvals", false, &c))
                return EXIT_FAIL;
        x.now_ms = cli_now_ms();
        r = cli_approvals_list(c, list_one, &x);
        cli_approvals_close(c);
        if (r == -EIO) {
                cli_error("approvals: write error");
                return EXIT_FAIL;
        }
        if (r)
                return EXIT_FAIL;
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
