/* vigil doctor: find what would let someone around the supervisor on this
 * host, and say how to fix it. The checks live in tools/doctor/, one family
 * per file; docs/doctor.md explains each. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "doctor/doctor.h"

static const char usage_text[] =
        "Usage: vigil doctor [--json] [--user USER]... [--skip CHECK[,CHECK...]] [--only CHECK[,CHECK...]]\n"
        "\n"
        "Check this host for what would let a login or a command bypass vigil, and print each\n"
        "finding with its fix. Exits 0 when there is nothing to fix, 1 when there are findings.\n"
        "Run it as root. It reads files and runs 'sshd -T'; it changes nothing.\n"
        "\n"
        "  --json          one JSON object per line per finding: {\"check\", \"message\", \"fix\"}\n"
        "  --user USER     also treat USER as supervised (accounts whose login shell is\n"
        "                  " DOCTOR_SHELL_PATH " always are); repeat for more\n"
        "  --skip CHECKS   do not run these checks\n"
        "  --only CHECKS   run only these checks\n"
        "\n"
        "Checks: config sshd crypto dropin pam shells jobs files policy vigild idp clock\n"
        "\n"
        "For tests and for checking a mounted system image:\n"
        "  --root DIR          read the host's files under DIR ('/' by default)\n"
        "  --sshd PATH         the sshd binary to run with -T (default " DOCTOR_SSHD ")\n"
        "  --sshd-config FILE  the sshd configuration (default /etc/ssh/sshd_config)\n"
        "  --socket PATH       vigild's socket (default " DOCTOR_VIGILD_SOCKET ")\n"
        "\n"
        "Notes about checks that could not run go to stderr. docs/doctor.md explains every check.\n";

static const char *const check_names[] = {
#define DOCTOR_NAME_(id, name) name,
        DOCTOR_CHECKS(DOCTOR_NAME_)
#undef DOCTOR_NAME_
};

typedef void (*check_fn)(doctor_ctx *c);
static const check_fn check_fns[] = {
        doctor_check_config, doctor_check_sshd, doctor_check_crypto, doctor_check_dropin,
        doctor_check_pam,    doctor_check_shells, doctor_check_jobs, doctor_check_files,
        doctor_check_policy, doctor_check_vigild, doctor_check_idp,  doctor_check_clock,
};

_Static_assert(ELEMENTSOF(check_fns) == ELEMENTSOF(check_names), "one function per check name");

/* "a,b,c" -> bits; -1 on an unknown name (printed). */
static int parse_checks(const char *list, unsigned *ret)
{
        _cleanup_free_ char *copy = strdup(list);
        unsigned bits = 0;
        char *save = NULL;

        if (!copy)
                return -1;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(check_names); i++)
                        if (strcmp(w, check_names[i]) == 0)
                                break;
                if (i == ELEMENTSOF(check_names)) {
                        cli_usage_error("doctor", "unknown check '%s'", w);
                        return -1;
                }
                bits |= 1u << i;
        }
        *ret = bits;
        return 0;
}

static int add_user(doctor_ctx *c, const char *name)
{
        char **n;

        for (size_t i = 0; i < c->n_users; i++)
                if (strcmp(c->users[i], name) == 0)
                        return 0;
        if (c->n_users >= DOCTOR_MAX_USERS)
                return 0;
        n = reallocarray(c->users, c->n_users + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        c->users = n;
        c->users[c->n_users] = strdup(name);
        if (!c->users[c->n_users])
                return -ENOMEM;
        c->n_users++;
        return 0;
}

/* Supervised users: every account whose login shell is vigil-shell. */
static int find_users(doctor_ctx *c)
{
        doctor_pw *pw = NULL;
        size_t n = 0;
        int r = doctor_passwd_read(c, &pw, &n);

        if (r < 0) {
                doctor_note(c, "cannot read /etc/passwd: %s", strerror(-r));
                return 0;
        }
        for (size_t i = 0; i < n && r >= 0; i++)
                if (strcmp(pw[i].shell, DOCTOR_SHELL_PATH) == 0)
                        r = add_user(c, pw[i].name);
        doctor_passwd_free(pw, n);
        return r;
}

int cmd_doctor(int argc, char **argv, const vigil_globals *g)
{
        enum { OPT_JSON = 0x100, OPT_USER, OPT_SKIP, OPT_ONLY, OPT_ROOT, OPT_SSHD, OPT_SSHD_CONFIG, OPT_SOCKET };
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, OPT_JSON },
                { "user", required_argument, NULL, OPT_USER },
                { "skip", required_argument, NULL, OPT_SKIP },
                { "only", required_argument, NULL, OPT_ONLY },
                { "root", required_argument, NULL, OPT_ROOT },
                { "sshd", required_argument, NULL, OPT_SSHD },
                { "sshd-config", required_argument, NULL, OPT_SSHD_CONFIG },
                { "socket", required_argument, NULL, OPT_SOCKET },
                {},
        };
        doctor_ctx c = {
                .root = "/",
                .sshd = DOCTOR_SSHD,
                .sshd_config = "/etc/ssh/sshd_config",
                .config = g->config,
                .policy = g->policy,
                .store = g->store,
                .policy_set = g->policy_set,
                .store_set = g->store_set,
                .socket = DOCTOR_VIGILD_SOCKET,
                .login_timeout = 90, /* vigil.conf's default */
        };
        unsigned only = ~0u, bits;
        int ch, r = EXIT_FAIL;

        optind = 0;
        while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
                switch (ch) {
                case 'h':
                        fputs(usage_text, stdout);
                        r = EXIT_OK;
                        goto out;
                case OPT_JSON:
                        c.json = true;
                        break;
                case OPT_USER:
                        if (add_user(&c, optarg) < 0)
                                goto out;
                        break;
                case OPT_SKIP:
                case OPT_ONLY:
                        if (parse_checks(optarg, &bits) < 0) {
                                r = EXIT_USAGE;
                                goto out;
                        }
                        if (ch == OPT_SKIP)
                                c.skip |= bits;
                        else
                                only = bits;
                        break;
                case OPT_ROOT:
                case OPT_SSHD:
                case OPT_SSHD_CONFIG:
                case OPT_SOCKET:
                        if (optarg[0] != '/') {
                                r = cli_usage_error("doctor", "'%s' must be an absolute path", optarg);
                                goto out;
                        }
                        if (ch == OPT_ROOT)
                                c.root = optarg;
                        else if (ch == OPT_SSHD)
                                c.sshd = optarg;
                        else if (ch == OPT_SSHD_CONFIG)
                                c.sshd_config = optarg;
                        else
                                c.socket = optarg;
                        break;
                default:
                        r = cli_getopt_error("doctor", ch, optopt, argv[optind - 1]);
                        goto out;
                }
        }
        if (optind < argc) {
                r = cli_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
                goto out;
        }
        c.skip |= ~only;
        if (geteuid() != 0)
                doctor_note(&c, "not running as root: files only root may read are reported as unreadable");
        if (find_users(&c) < 0)
                goto out;

        for (size_t i = 0; i < ELEMENTSOF(check_fns); i++)
                if (!(c.skip & (1u << i)))
                        check_fns[i](&c);

        if (!c.json) {
                if (c.n_findings)
                        printf("vigil doctor: %u finding%s\n", c.n_findings, c.n_findings == 1 ? "" : "s");
                else
                        printf("vigil doctor: no findings\n");
        }
        r = c.n_findings ? EXIT_FAIL : EXIT_OK;
out:
        doctor_config_done(&c);
        for (size_t i = 0; i < c.n_users; i++)
                free(c.users[i]);
        free(c.users);
        return r;
}
