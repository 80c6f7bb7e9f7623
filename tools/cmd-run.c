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
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "config/config.h"
#include "identity.h"
#include "policy.h"
#include "run-vigild.h"
#include "sessctl.h"
#include "supervisor.h"
#include "vigil-error.h"

enum { EXIT_RUN_FAILED = 125 };

static const char usage_text[] =
        "Usage: vigil run [--user USER] [--policy FILE] [--store DIR] [--events FILE]\n"
        "                 [--token-file FILE] [--pty|--no-pty] -- CMD [ARG...]\n"
        "\n"
        "Run CMD as USER (default: the invoking user) under vigil's supervision: every\n"
        "program it executes is checked against the policy first, and its terminal is\n"
        "relayed. Needs root, or a token: with --token-file, a user other than root\n"
        "has vigild start the session (as that user only, with the host's policy).\n"
        "\n"
        "  --user USER     the account to run as (root only, for another account)\n"
        "  --token-file F  an OIDC token for the account; the session carries its\n"
        "                  identity (the policy's group= sees the token's groups)\n"
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
        vigil_diags d = { 0 };
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

/* Root with --token-file: the identity component's verification for the
 * account the command will run as (spending a single_use token). */
static int verify_token(const vigil_globals *g, const char *path, const char *user, vigil_config **ret_cfg,
                        vigil_identity **ret)
{
        _cleanup_free_ char *err = NULL, *reason = NULL;
        vigil_config *conf = NULL;
        int r;

        r = vigil_config_load(g->config, &conf, &err);
        if (r < 0) {
                (void)run_error("%s", err ? err : vigil_strerror(r));
                return r;
        }
        r = vigil_verify_token_file(conf, NULL, path, user, ret, &reason);
        if (r < 0) {
                (void)run_error("token refused: %s", reason ? reason : vigil_strerror(r));
                vigil_config_free(conf);
                return r;
        }
        *ret_cfg = conf;
        return 0;
}

/* The session's id and its control socket in the run directory's sessions
 * directory (sessctl.h), where vigild's sessions have theirs; on failure
 * @path holds why. */
static int control_socket(char id[static SESSCTL_ID_MAX + 1], char *path, size_t size)
{
        char run_dir[4096] = "?";
        int r;

        r = sessctl_run_dir(secure_getenv("VIGILD_SOCKET"), run_dir, sizeof run_dir);
        if (r == 0)
                r = sessctl_dir_usable(run_dir);
        if (r == 0)
                r = sessctl_id_new(id);
        if (r == 0)
                r = sessctl_socket_path(run_dir, id, path, size);
        if (r < 0)
                snprintf(path, size, "'%s/sessions' is not usable (%s)", run_dir, vigil_strerror(r));
        return r;
}

int cmd_run(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "user", required_argument, NULL, 'u' },
                { "events", required_argument, NULL, 'e' },
                { "token-file", required_argument, NULL, 't' },
                { "pty", no_argument, NULL, 'p' },
                { "no-pty", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        vigil_session_config cfg = { .in_fd = 0, .out_fd = 1, .err_fd = 2, .events_fd = -1 };
        const char *user = NULL, *events = NULL, *token_file = NULL;
        vigil_config *conf = NULL;
        vigil_identity *ident = NULL;
        vigil_session_identity sid = { 0 };
        struct passwd *pw;
        vigil_policy *policy;
        _cleanup_free_ char *self = NULL; /* may be what user points to */
        char *err = NULL, *client = NULL;
        char session_id[SESSCTL_ID_MAX + 1], control[108];
        const char *ssh;
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
                case 't':
                        token_file = optarg;
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
        if (getuid() != 0 && (!self || strcmp(user, self) != 0))
                return run_error("only root can run a session as another user");
        if (geteuid() != 0 && token_file) {
                /* vigild runs it: the host's configuration decides the
                 * policy and where the session is recorded */
                if (g->policy_set || g->store_set || events)
                        return run_error("--policy, --store and --events need root; through vigild the host's "
                                         "configuration decides");
                return run_through_vigild(token_file, argv + optind,
                                          mode >= 0 ? mode == VIGIL_IO_PTY : isatty(STDIN_FILENO));
        }
        if (geteuid() != 0)
                return run_error("needs root (the supervisor loads a seccomp filter and traces execs), or "
                                 "--token-file");
        if (!getpwnam(user))
                return run_error("unknown user '%s'", user);

        if (token_file) {
                r = verify_token(g, token_file, user, &conf, &ident);
                if (r < 0)
                        return EXIT_RUN_FAILED;
                sid = (vigil_session_identity){
                        .subject = ident->sub,
                        .email = ident->email,
                        .jti = ident->jti,
                        .groups = (const char *const *)ident->groups,
                        .n_groups = ident->n_groups,
                        .exp = ident->exp,
                };
                cfg.identity = &sid;
                if (conf->session_max == VIGIL_CONF_LIMIT_TOKEN)
                        cfg.deadline = ident->exp;
                else if (conf->session_max > 0)
                        cfg.deadline = (int64_t)time(NULL) + conf->session_max;
        }

        /* --config given: the host's configuration for what a session needs of
         * it (approval_hook), as it is with --token-file */
        if (!conf && g->config_set) {
                _cleanup_free_ char *cerr = NULL;

                r = vigil_config_load(g->config, &conf, &cerr);
                if (r < 0) {
                        vigil_identity_free(ident);
                        return run_error("%s", cerr ? cerr : vigil_strerror(r));
                }
        }
        /* with a configuration loaded, its policy unless --policy says otherwise */
        policy = load_policy(conf && !g->policy_set ? conf->policy : g->policy);
        if (!policy) {
                vigil_identity_free(ident);
                vigil_config_free(conf);
                return EXIT_RUN_FAILED;
        }
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
        /* the session's record: the store (opened by the supervisor, which
         * applies the policy's record on_failure= when it cannot be used);
         * with a configuration loaded, its store unless --store says otherwise */
        cfg.store_dir = conf && !g->store_set ? conf->store : g->store;
        cfg.store_key = secure_getenv("VIGIL_HOST_KEY");
        if (conf) {
                cfg.approval_hook = conf->approval_hook;
                cfg.approval_hook_user = conf->approval_hook_user;
        }
        ssh = getenv("SSH_CONNECTION");
        if (ssh) {
                /* "ADDR PORT SERVER_ADDR SERVER_PORT": the client's part */
                const char *sp = strchr(ssh, ' ');

                sp = sp ? strchr(sp + 1, ' ') : NULL;
                client = strndup(ssh, sp ? (size_t)(sp - ssh) : strlen(ssh));
                cfg.client = client;
        }
        /* a control socket, so that vigil kill can end it like any other */
        r = control_socket(session_id, control, sizeof control);
        if (r == 0) {
                cfg.session_id = session_id;
                cfg.control_socket = control;
        } else
                fprintf(stderr, "vigil: run: %s; vigil kill cannot end this session\n", control);
        fflush(stdout);
        r = vigil_session_run(&cfg, &status, &err);
        if (r < 0) {
                (void)run_error("%s", err ? err : vigil_strerror(r));
                status = EXIT_RUN_FAILED;
        }
        free(err);
out:
        free(client);
        if (cfg.events_fd >= 0)
                (void)close(cfg.events_fd);
        vigil_policy_free(policy);
        vigil_identity_free(ident);
        vigil_config_free(conf);
        return status;
}
