/* vigil token verify [--config F] [--user NAME] TOKEN|-
 *
 * Runs the same verification as a login, prints the verified claims as one
 * JSON object and "valid" (exit 0), or "rejected: <reason>" (exit 1). It
 * never spends a single_use token. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "config/config.h"
#include "identity.h"
#include "vigil-error.h"

static const char token_usage[] =
        "Usage: vigil token verify [--config FILE] [--user NAME] TOKEN|-\n"
        "\n"
        "Verify an OIDC token (JWT) the way a login would: signature against the\n"
        "identity provider's keys, issuer, audience, times, and with --user the\n"
        "username claim. Prints the claims as one JSON object and 'valid' (exit 0),\n"
        "or 'rejected: <reason>' (exit 1). A single_use token is not used up.\n"
        "\n"
        "  -u, --user NAME   the local account the token must name\n"
        "  --config FILE     configuration (default " VIGIL_DEFAULT_CONFIG ")\n"
        "  -                 read the token from standard input (keeps it out of ps)\n";

static int verify(const vigil_globals *g, const char *user, const char *arg)
{
        _cleanup_free_ char *cfg_err = NULL, *token = NULL, *reason = NULL, *state = NULL;
        vigil_verifier_options opts = {};
        vigil_config *cfg = NULL;
        vigil_verifier *v = NULL;
        vigil_identity *id = NULL;
        size_t len;
        int r;

        r = vigil_config_load(g->config, &cfg, &cfg_err);
        if (r < 0) {
                cli_error("%s", cfg_err ? cfg_err : vigil_strerror(r));
                return EXIT_FAIL;
        }

        if (strcmp(arg, "-") == 0) {
                r = vigil_token_read_fd(STDIN_FILENO, &token, &len);
                if (r < 0) {
                        cli_error("token: cannot read the token from standard input: %s", vigil_strerror(r));
                        vigil_config_free(cfg);
                        return EXIT_FAIL;
                }
        } else {
                token = strdup(arg);
                if (!token) {
                        vigil_config_free(cfg);
                        return EXIT_FAIL;
                }
                len = strlen(token);
        }

        /* --store moves the identity state (JWKS cache, used jti) with the store. */
        if (g->store_set) {
                size_t n = strlen(g->store) + sizeof "/identity";

                state = malloc(n);
                if (state)
                        (void)snprintf(state, n, "%s/identity", g->store);
        }
        opts.state_dir = state;
        r = vigil_verifier_new(cfg, &opts, &v);
        if (r == 0)
                r = vigil_verifier_verify(v, token, len, user,
                                          VIGIL_VERIFY_DRY_RUN | (user ? 0 : VIGIL_VERIFY_ANY_USER), &id,
                                          &reason);
        else
                reason = strdup(vigil_strerror(r));
        explicit_bzero(token, len);

        if (r == 0) {
                if (!user)
                        cli_error("token: username rule not applied (no --user)");
                printf("%s\nvalid\n", id->claims_json);
        } else
                printf("rejected: %s\n", reason ? reason : vigil_strerror(r));

        vigil_identity_free(id);
        vigil_verifier_free(v);
        vigil_config_free(cfg);
        return r == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_token(int argc, char **argv, const vigil_globals *g)
{
        static const struct option options[] = {
                { "user", required_argument, NULL, 'u' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *user = NULL;
        int c;

        if (argc < 2)
                return cli_usage_error("token", "missing subcommand 'verify'");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(token_usage, stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[1], "verify") != 0)
                return cli_usage_error("token", "unknown subcommand '%s'", argv[1]);

        argc--;
        argv++;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:u:h", options, NULL)) != -1) {
                switch (c) {
                case 'u':
                        if (!*optarg)
                                return cli_usage_error("token verify", "--user needs a name");
                        user = optarg;
                        break;
                case 'h':
                        fputs(token_usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("token verify", c, optopt, argv[optind - 1]);
                }
        }
        if (optind == argc)
                return cli_usage_error("token verify",
                                       "missing TOKEN (or '-' to read it from standard input)");
        if (optind + 1 < argc)
                return cli_usage_error("token verify", "one TOKEN only");
        return verify(g, user, argv[optind]);
}
