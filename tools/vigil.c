/* vigil: the administrator's command line. This file only dispatches:
 * global options are taken out of argv wherever they stand (before `--`),
 * then the named command runs with the rest. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"

static int cmd_help(int argc, char **argv, const vigil_globals *g);

static const vigil_command commands[] = {
        { "help", cmd_help, "show the commands, or one command's help" },
        { "doctor", cmd_doctor, "find what would let someone around vigil on this host" },
        { "policy", cmd_policy, "check a policy file, or test what it decides" },
        { "token", cmd_token, "verify an OIDC token as a login would" },
        { "sessions", cmd_sessions, "list recorded sessions" },
        { "replay", cmd_replay, "play a session's output with its timing" },
        { "search", cmd_search, "search what sessions showed and ran" },
        { "export", cmd_export, "export a session as asciicast or JSON" },
        { "audit", cmd_audit, "export command events as CSV or JSON" },
        { "verify", cmd_verify, "check hash chains and seals; seal orphans" },
        { "watch", cmd_watch, "follow a live session's output" },
        { "kill", cmd_kill, "end a running session" },
        { "prune", cmd_prune, "delete old sessions" },
        { "store", cmd_store, "store maintenance (migrate)" },
        { "run", cmd_run, "run a command as a supervised session" },
        { "approvals", cmd_approvals, "list pending approval requests, or show one" },
        { "approve", cmd_approve, "let a held command run" },
        { "deny", cmd_deny, "refuse a held command" },
};

static void print_usage(FILE *f)
{
        fputs("Usage: vigil [--store DIR] [--policy FILE] [--config FILE] COMMAND [ARGS...]\n"
              "       vigil --version\n\nCommands:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fputs("\nGlobal options (before or after COMMAND):\n"
              "  --store DIR     session store (default " VIGIL_DEFAULT_STORE ")\n"
              "  --policy FILE   policy (default " VIGIL_DEFAULT_POLICY ")\n"
              "  --config FILE   configuration (default " VIGIL_DEFAULT_CONFIG ")\n"
              "\nRun 'vigil COMMAND --help' for a command's options.\n",
              f);
}

static const vigil_command *find_command(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int cmd_help(int argc, char **argv, const vigil_globals *g)
{
        const vigil_command *c;
        char help[] = "--help";
        char *sub[3];

        if (argc > 2)
                return cli_usage_error("help", "too many arguments");
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
                print_usage(stdout);
                return EXIT_OK;
        }
        c = find_command(argv[1]);
        if (!c)
                return cli_usage_error("help", "unknown command '%s'", argv[1]);
        if (c->run == cmd_help) {
                print_usage(stdout);
                return EXIT_OK;
        }
        sub[0] = argv[1];
        sub[1] = help;
        sub[2] = NULL;
        return c->run(2, sub, g);
}

/* Take a global option at argv[*i] ("--store D" or "--store=D"). Returns 1
 * when taken, 0 when argv[*i] is not a global option, -1 on a missing value. */
static int take_global(int argc, char **argv, int *i, vigil_globals *g)
{
        static const struct {
                const char *name;
                size_t off_val, off_set;
        } opts[] = {
                { "--store", offsetof(vigil_globals, store), offsetof(vigil_globals, store_set) },
                { "--policy", offsetof(vigil_globals, policy), offsetof(vigil_globals, policy_set) },
                { "--config", offsetof(vigil_globals, config), offsetof(vigil_globals, config_set) },
        };
        const char *a = argv[*i];

        for (size_t k = 0; k < ELEMENTSOF(opts); k++) {
                size_t n = strlen(opts[k].name);
                const char *val;

                if (strncmp(a, opts[k].name, n) != 0)
                        continue;
                if (a[n] == '=')
                        val = a + n + 1;
                else if (a[n] == '\0') {
                        if (*i + 1 >= argc)
                                return -1;
                        val = argv[++*i];
                } else
                        continue;
                *(const char **)((char *)g + opts[k].off_val) = val;
                *(bool *)((char *)g + opts[k].off_set) = true;
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        vigil_globals g = {
                .store = VIGIL_DEFAULT_STORE,
                .policy = VIGIL_DEFAULT_POLICY,
                .config = VIGIL_DEFAULT_CONFIG,
        };
        const vigil_command *c;
        int n = 0, i;

        /* Compact argv in place: drop global options before the first "--". */
        for (i = 1; i < argc; i++) {
                int r;

                if (strcmp(argv[i], "--") == 0)
                        break;
                r = take_global(argc, argv, &i, &g);
                if (r < 0)
                        return cli_usage_error(NULL, "option '%s' needs a value", argv[i]);
                if (r == 0)
                        argv[++n] = argv[i];
        }
        for (; i < argc; i++)
                argv[++n] = argv[i];
        argc = n + 1;
        argv[argc] = NULL;

        if (argc < 2) {
                print_usage(stderr);
                return EXIT_USAGE;
        }
        if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
                printf("vigil " VIGIL_VERSION "\n");
                return EXIT_OK;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                print_usage(stdout);
                return EXIT_OK;
        }
        if (argv[1][0] == '-')
                return cli_usage_error(NULL, "unknown option '%s'", argv[1]);
        c = find_command(argv[1]);
        if (!c)
                return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
        return c->run(argc - 1, argv + 1, &g);
}
