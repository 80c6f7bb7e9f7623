/* vigil approve ID [--reason R] | vigil deny ID --reason R: decide a held
 * command (issue 9). Who may: approvers.h; how the caller is known:
 * approvals-cli.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "approvals-cli.h"
#include "approvers.h"
#include "commands.h"
#include "proto.h"

static const char approve_usage[] = "Usage: vigil approve ID [--reason R]\n"
                                    "Let a held command run, exactly as it was requested.\n";
static const char deny_usage[] = "Usage: vigil deny ID --reason R\n"
                                 "Refuse a held command; its user sees the reason.\n";
static const char common_usage[] =
        "\n"
        "ID is the request's id or a prefix of at least 4 characters ('vigil approvals').\n"
        "Only someone the rule's approvers= names may decide, never the requester:\n"
        "known by the vigil session they work in, by their local account for a\n"
        "local: entry, or else by a sign-in at the identity provider, which this\n"
        "command starts when it is needed (it prints where to sign in).\n"
        "  --reason R   one line, at most 1024 bytes (required to deny)\n";

static int decide(int argc, char **argv, const vigil_globals *g, bool approve)
{
        static const struct option opts[] = {
                { "reason", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *cmd = approve ? "approve" : "deny", *reason = NULL;
        cli_approvals *c = NULL;
        vigil_approval *a = NULL;
        int ch, r;

        optind = 0;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (ch) {
                case 'r':
                        reason = optarg;
                        break;
                case 'h':
                        fputs(approve ? approve_usage : deny_usage, stdout);
                        fputs(common_usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error(cmd, ch, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "missing ID");
        if (optind + 1 < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
        if (!approve && !reason)
                return cli_usage_error(cmd, "a denial needs --reason R (its user sees it)");
        /* the protocol's rule for one line of text, on both doors alike */
        if (reason &&
            (!*reason || strlen(reason) > 1024 || !vtext_valid((const uint8_t *)reason, strlen(reason))))
                return cli_usage_error(cmd,
                                       "--reason must be one line of text, 1 to 1024 bytes, without control "
                                       "characters");
        if (cli_approvals_open(g, cmd, true, &c))
                return EXIT_FAIL;
        r = cli_approvals_decide(c, argv[optind], approve, reason, &a);
        cli_approvals_close(c);
        if (r)
                return EXIT_FAIL;
        if (a) {
                _cleanup_free_ char *t = vigil_approval_decided_text(a);

                printf("request %s: %s\n", a->id, t ? t : approve ? "approved" : "rejected");
        } else
                printf("request %s: %s\n", argv[optind], approve ? "approved" : "rejected");
        vigil_approval_free(a);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_approve(int argc, char **argv, const vigil_globals *g)
{
        return decide(argc, argv, g, true);
}

int cmd_deny(int argc, char **argv, const vigil_globals *g)
{
        return decide(argc, argv, g, false);
}
