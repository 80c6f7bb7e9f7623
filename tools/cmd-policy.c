/* vigil policy check|test: the policy engine from the command line. */
#define _GNU_SOURCE /* asprintf, strchrnul */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "mask.h"
#include "policy.h"
#include "vigil-error.h"

#define MAX_GROUPS 1024

static const char usage_text[] =
        "Usage: vigil policy check [FILE]\n"
        "       vigil policy test [FILE] --user USER [--group GROUP]... [--runas USER] [--cwd DIR]\n"
        "                         [--exe PATH] [--explain] -- COMMAND [ARG]...\n"
        "\n"
        "Check a policy file, or show what it decides for one command.\n"
        "FILE defaults to the global --policy (" VIGIL_DEFAULT_POLICY ").\n"
        "\n"
        "check   prints nothing and exits 0 when FILE is valid (warnings go to stderr);\n"
        "        otherwise prints FILE:LINE:COL: message for each problem and exits 1.\n"
        "test    prints 'DECISION FILE:LINE', or 'DECISION default', and exits 0 whatever\n"
        "        the decision (1 on an error). DECISION is allow, deny, hold or audit.\n"
        "\n"
        "test options:\n"
        "  --user USER     the session's local account (required)\n"
        "  --group GROUP   a group of the session's identity; repeat for more\n"
        "                  (the host's group database is never read)\n"
        "  --runas USER    the account the command runs as (default: the --user)\n"
        "  --cwd DIR       the working directory, absolute (default: /)\n"
        "  --exe PATH      the program file (default: COMMAND resolved through $PATH\n"
        "                  as a shell would, relative paths against --cwd)\n"
        "  --explain       also print why each earlier rule did not match\n"
        "\n"
        "The language is described in docs/policy.md.\n";

static void print_diags(const char *file, const vigil_diags *d)
{
        for (size_t i = 0; i < d->n; i++) {
                const vigil_diag *x = &d->items[i];
                const char *w = x->level == VIGIL_DIAG_WARNING ? "warning: " : "";

                if (x->line == 0)
                        fprintf(stderr, "%s: %s%s\n", file, w, x->message);
                else if (x->column == 0)
                        fprintf(stderr, "%s:%u: %s%s\n", file, x->line, w, x->message);
                else
                        fprintf(stderr, "%s:%u:%u: %s%s\n", file, x->line, x->column, w, x->message);
        }
}

/* Load and report; returns the policy or NULL (problems already printed). */
static vigil_policy *load(const char *file)
{
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        int r = vigil_policy_load(file, &p, &d);

        print_diags(file, &d);
        if (r < 0 && d.n == 0)
                fprintf(stderr, "%s: %s\n", file, vigil_strerror(r));
        vigil_diags_clear(&d);
        return r < 0 ? NULL : p;
}

static int policy_check(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *file = NULL;
        vigil_mask_set *set = NULL;
        char *err = NULL;
        vigil_policy *p;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(usage_text, stdout);
                        return EXIT_OK;
                case 1:
                        if (file)
                                return cli_usage_error("policy check", "unexpected argument '%s'", optarg);
                        file = optarg;
                        break;
                default:
                        return cli_getopt_error("policy check", c, optopt, argv[optind - 1]);
                }
        }
        p = load(file ? file : g->policy);
        if (!p)
                return EXIT_FAIL;
        /* The masker compiles mask statements with checks the parser cannot
         * make (replace= groups against the regex, the rule bound); a policy
         * that passes check must also start a session. */
        r = vigil_mask_set_from_policy(p, &set, &err);
        if (r < 0)
                fprintf(stderr, "%s\n", err ? err : vigil_strerror(r));
        free(err);
        vigil_mask_set_free(set);
        vigil_policy_free(p);
        return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* Join dir and name with one '/'. */
static char *path_join(const char *dir, const char *name)
{
        char *s = NULL;

        if (asprintf(&s, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return s;
}

static bool is_exec_file(const char *path)
{
        struct stat st;

        return access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* argv[0] as a shell finds it: with a '/' as a path (relative to cwd),
 * otherwise the first executable regular file along $PATH. The result is
 * realpath'd, the way the supervisor compares exe paths. */
static int resolve_command(const char *argv0, const char *cwd, char **ret)
{
        _cleanup_free_ char *found = NULL;
        const char *path;

        if (strchr(argv0, '/')) {
                found = argv0[0] == '/' ? strdup(argv0) : path_join(cwd, argv0);
                if (!found)
                        return -ENOMEM;
        } else {
                path = getenv("PATH");
                if (!path)
                        path = "/usr/local/bin:/usr/bin:/bin";
                for (const char *s = path;; s++) {
                        const char *e = strchrnul(s, ':');
                        _cleanup_free_ char *dir = strndup(s, (size_t)(e - s)), *cand = NULL;

                        if (!dir)
                                return -ENOMEM;
                        /* An empty or relative $PATH entry means the working directory. */
                        if (dir[0] != '/') {
                                char *abs = path_join(cwd, dir);

                                free(dir);
                                dir = abs;
                                if (!dir)
                                        return -ENOMEM;
                        }
                        cand = path_join(dir, argv0);
                        if (!cand)
                                return -ENOMEM;
                        if (is_exec_file(cand)) {
                                found = TAKE_PTR(cand);
                                break;
                        }
                        if (!*e)
                                return -ENOENT;
                        s = e;
                }
        }
        *ret = realpath(found, NULL);
        return *ret ? 0 : negative_errno();
}

static void explain_line(void *userdata, const char *file, unsigned line, const char *why)
{
        (void)userdata;
        printf("%s:%u: no match: %s\n", file, line, why);
}

static int policy_test(int argc, char **argv, const vigil_globals *g)
{
        enum { OPT_USER = 0x100, OPT_GROUP, OPT_RUNAS, OPT_CWD, OPT_EXE, OPT_EXPLAIN };
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "user", required_argument, NULL, OPT_USER },
                { "group", required_argument, NULL, OPT_GROUP },
                { "runas", required_argument, NULL, OPT_RUNAS },
                { "cwd", required_argument, NULL, OPT_CWD },
                { "exe", required_argument, NULL, OPT_EXE },
                { "explain", no_argument, NULL, OPT_EXPLAIN },
                {},
        };
        const char *file = NULL, *user = NULL, *runas = NULL, *cwd = "/", *exe_opt = NULL;
        _cleanup_free_ const char **groups = NULL;
        _cleanup_free_ char *exe = NULL, *cwd_res = NULL;
        vigil_policy *p = NULL;
        vigil_decision dec;
        vigil_request req;
        size_t n_groups = 0;
        bool explain = false;
        int c, dd, r;

        /* Everything after the first "--" is the command, never an option. */
        for (dd = 1; dd < argc && strcmp(argv[dd], "--") != 0; dd++)
                ;
        groups = calloc((size_t)argc, sizeof *groups);
        if (!groups)
                return EXIT_FAIL;

        optind = 0;
        while ((c = getopt_long(dd, argv, "-:h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(usage_text, stdout);
                        return EXIT_OK;
                case 1:
                        if (file)
                                return cli_usage_error("policy test", "unexpected argument '%s' (the command goes after '--')",
                                                       optarg);
                        file = optarg;
                        break;
                case OPT_USER:
                        user = optarg;
                        break;
                case OPT_GROUP:
                        if (n_groups >= MAX_GROUPS)
                                return cli_usage_error("policy test", "more than %d --group options", MAX_GROUPS);
                        groups[n_groups++] = optarg;
                        break;
                case OPT_RUNAS:
                        runas = optarg;
                        break;
                case OPT_CWD:
                        cwd = optarg;
                        break;
                case OPT_EXE:
                        exe_opt = optarg;
                        break;
                case OPT_EXPLAIN:
                        explain = true;
                        break;
                default:
                        return cli_getopt_error("policy test", c, optopt, argv[optind - 1]);
                }
        }
        if (!user || !user[0])
                return cli_usage_error("policy test", "--user USER is required");
        if (cwd[0] != '/')
                return cli_usage_error("policy test", "--cwd needs an absolute path, got '%s'", cwd);
        if (exe_opt && exe_opt[0] != '/')
                return cli_usage_error("policy test", "--exe needs an absolute path, got '%s'", exe_opt);
        if (dd >= argc)
                return cli_usage_error("policy test", "missing '-- COMMAND [ARG]...'");
        if (dd + 1 >= argc || !argv[dd + 1][0])
                return cli_usage_error("policy test", "missing COMMAND after '--'");

        /* Paths are compared resolved, as the supervisor sees them and as the
         * rules' prefixes were resolved; parts that do not exist on this host
         * are kept as written, so hypothetical paths can be tested too. */
        r = vigil_policy_resolve_path(cwd, &cwd_res);
        if (r < 0) {
                cli_error("policy test: --cwd '%s': %s", cwd, vigil_strerror(r));
                return EXIT_FAIL;
        }
        if (exe_opt) {
                r = vigil_policy_resolve_path(exe_opt, &exe);
                if (r < 0) {
                        cli_error("policy test: --exe '%s': %s", exe_opt, vigil_strerror(r));
                        return EXIT_FAIL;
                }
        } else {
                r = resolve_command(argv[dd + 1], cwd, &exe);
                if (r == -ENOENT && !strchr(argv[dd + 1], '/')) {
                        cli_error("policy test: '%s' not found in PATH (give --exe PATH)", argv[dd + 1]);
                        return EXIT_FAIL;
                }
                if (r < 0) {
                        cli_error("policy test: cannot resolve '%s': %s (give --exe PATH)", argv[dd + 1],
                                  vigil_strerror(r));
                        return EXIT_FAIL;
                }
        }

        if (!file)
                file = g->policy;
        p = load(file);
        if (!p)
                return EXIT_FAIL;

        req = (vigil_request){
                .user = user,
                .groups = groups,
                .n_groups = n_groups,
                .runas = runas ? runas : user,
                .cwd = cwd_res,
                .exe = exe,
                .argv = (const char *const *)(argv + dd + 1),
                .argc = (size_t)(argc - dd - 1),
        };
        r = vigil_policy_decide(p, &req, explain ? explain_line : NULL, NULL, &dec);
        if (r < 0) {
                cli_error("policy test: cannot decide: %s (the supervisor would deny this)", vigil_strerror(r));
                vigil_policy_free(p);
                return EXIT_FAIL;
        }
        if (dec.file)
                printf("%s %s:%u\n", vigil_action_name(dec.action), dec.file, dec.line);
        else
                printf("%s default\n", vigil_action_name(dec.action));
        vigil_policy_free(p);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_policy(int argc, char **argv, const vigil_globals *g)
{
        if (argc < 2)
                return cli_usage_error("policy", "missing subcommand: check or test");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                fputs(usage_text, stdout);
                return EXIT_OK;
        }
        if (strcmp(argv[1], "check") == 0)
                return policy_check(argc - 1, argv + 1, g);
        if (strcmp(argv[1], "test") == 0)
                return policy_test(argc - 1, argv + 1, g);
        if (argv[1][0] == '-')
                return cli_usage_error("policy", "unknown option '%s'", argv[1]);
        return cli_usage_error("policy", "unknown subcommand '%s' (expected check or test)", argv[1]);
}
