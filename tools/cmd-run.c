/* vigil run: one supervised session from the command line. Exit statuses
 * follow env(1): 125 when vigil fails, 126 when CMD cannot be executed
 * (denied included), 127 when it is not found, else CMD's own (128+N for
 * signal N). Nothing of CMD runs unless every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "policy.h"
#include "supervisor.h"
#include "vigil-error.h"

enum { EXIT_RUN_FAILED = 125 };

static const char usage_text[] =
        "Usage: vigil run [--user USER] [--policy FILE] [--store DIR] [--events FILE]\n"
        "                 [--pty|--no-pty] -- CMD [ARG...]\n"
        "\n"
        "Run CMD as USER (default: the invoking user) under vigil's supervision: every\n"
        "program it executes is checked against the policy first, and its terminal is\n"
        "relayed. Needs root.\n"
        "\n"
        "  --user USER     the account to run as (root only, for another account)\n"
        "  --policy FILE   the policy (default " VIGIL_DEFAULT_POLICY ")\n"
        "  --store DIR     the session store (default " VIGIL_DEFAULT_STORE ")\n"
        "  --events FILE   also append every command event to FILE as a JSON line\n"
        "  --pty           a fresh pseudo-terminal (default when stdin is a terminal)\n"
        "  --no-pty        stdin, stdout and stderr through pipes, kept apart\n"
        "\n"
        "Exit status: CMD's own; 128+N when signal N killed it; 126 when it could not be\n"
        "executed (denied included); 127 when it was not found; 125 when vigil failed.\n";

static int run_error(const char *fmt, ...) _printf_(1, 2);
static int run_error(const char *fmt, ...)
{
        va_list ap;

        fputs("vigil: run: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_RUN_FAILED;
}

/* The first error of a policy that does not load, as FILE:LINE:COL: message. */
static vigil_policy *load_policy(const char *path)
{
        vigil_diags d = {0};
        vigil_policy *p = NULL;
        int r;

        r = vigil_policy_load(path, &p, &d);
        if (r < 0) {
                const vigil_diag *x = NULL;

                for (size_t i = 0; i < d.n && !x; i++)
                        if (d.items[i].level == VIGIL_DIAG_ERROR)
                                x = &d.items[i];
                if (!x)
                        (void)run_error("policy '%s': %s", path, vigil_strerror(r));
                else if (x->line == 0)
                        (void)run_error("policy '%s': %s", path, x->message);
                else
                        (void)run_error("policy %s:%u:%u: %s", path, x->line, x->column, x->message);
        }
        vigil_diags_clear(&d);
        return r < 0 ? NULL : p;
}

/* Until the store exists (issue 4): the directory must be usable, that is
 * exist as a directory root can write, or be created 0700. */
static int check_store(const char *dir)
{
        struct stat st;

        if (stat(dir, &st) < 0) {
                if (errno != ENOENT)
                        return run_error("store '%s': %s", dir, strerror(errno));
                if (mkdir(dir, 0700) < 0)
                        return run_error("store '%s': cannot create it: %s", dir, strerror(errno));
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return run_error("store '%s': not a directory", dir);
        if (access(dir, W_OK | X_OK) < 0)
                return run_error("store '%s': %s", dir, strerror(errno));
        return 0;
}

int cmd_run(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                {"user", required_argument, NULL, 'u'}, {"events", required_argument, NULL, 'e'},
                {"pty", no_argument, NULL, 'p'},        {"no-pty", no_argument, NULL, 'P'},
                {"help", no_argument, NULL, 'h'},       {},
        };
        vigil_session_config cfg = {.in_fd = 0, .out_fd = 1, .err_fd = 2, .events_fd = -1};
        const char *user = NULL, *events = NULL;
        struct passwd *pw;
        vigil_policy *policy;
        char *self = NULL, *err = NULL;
        int mode = -1, c, r, status = EXIT_RUN_FAILED;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
                switch (c) {
                case 'u':
                        user = optarg;
                        break;
                case 'e':
                        events = optarg;
                        break;
                case 'p':
                        mode = VIGIL_IO_PTY;
                        break;
                case 'P':
                        mode = VIGIL_IO_PIPES;
                        break;
                case 'h':
                        fputs(usage_text, stdout);
                        return EXIT_OK;
                default:
                        (void)cli_getopt_error("run", c, optopt, argv[optind - 1]);
                        return EXIT_RUN_FAILED;
                }
        }
        if (optind >= argc) {
                (void)cli_usage_error("run", "no command given");
                return EXIT_RUN_FAILED;
        }

        /* who: a caller that is not root may only run as itself */
        pw = getpwuid(getuid());
        if (pw)
                self = strdup(pw->pw_name);
        if (!user)
                user = self;
        if (!user)
                return run_error("the invoking user (uid %u) has no name", (unsigned)getuid());
        if (getuid() != 0 && (!self || strcmp(user, self) != 0)) {
                free(self);
                return run_error("only root can run a session as another user");
        }
        free(self);
        if (geteuid() != 0)
                return run_error("needs root (the supervisor loads a seccomp filter and traces execs)");
        if (!getpwnam(user))
                return run_error("unknown user '%s'", user);

        policy = load_policy(g->policy);
        if (!policy)
                return EXIT_RUN_FAILED;
        if (check_store(g->store) != 0)
                goto out;
        if (events) {
                cfg.events_fd = open(events, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
                if (cfg.events_fd < 0) {
                        (void)run_error("events '%s': %s", events, strerror(errno));
                        goto out;
                }
        }

        cfg.user = user;
        cfg.policy = policy;
        cfg.argv = argv + optind;
        cfg.io = mode >= 0 ? (vigil_io_mode)mode : isatty(STDIN_FILENO) ? VIGIL_IO_PTY : VIGIL_IO_PIPES;
        cfg.term = getenv("TERM");
        fflush(stdout);
        r = vigil_session_run(&cfg, &status, &err);
        if (r < 0) {
                (void)run_error("%s", err ? err : vigil_strerror(r));
                status = EXIT_RUN_FAILED;
        }
        free(err);
out:
        if (cfg.events_fd >= 0)
                (void)close(cfg.events_fd);
        vigil_policy_free(policy);
        return status;
}
