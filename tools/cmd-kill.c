/* vigil kill: end a running session. Root sends the order to the session's
 * control socket itself (vigild/sessctl.h); anyone else asks vigild
 * (session.kill, for responders), which sends the same order. The session's
 * user sees one line with the reason and who ended it, every process of the
 * session is killed, its recording is sealed as killed, and the supervisor
 * and vigild log who did it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fileio.h"
#include "sessctl.h"
#include "validate.h"
#include "via-vigild.h"
#include "view.h"
#include "vigil-error.h"

/* How long the supervisor has to confirm (vigild's own request timeout is 10 s). */
#define ANSWER_MS 10000

static const char usage[] =
        "Usage: vigil kill SESSION [--reason R]\n"
        "End a running session: its user sees one line with the reason, every process\n"
        "of it is killed, its recording is sealed as killed; who did it is logged.\n"
        "SESSION: a running session's id, or a unique prefix of it.\n"
        "Not as root: through vigild, for responders (vigil.conf).\n";

static int not_running(const char *arg, int r)
{
        switch (r) {
        case -ENOENT:
                cli_error("kill: no running session '%s'", arg);
                break;
        case -ENOTUNIQ:
                cli_error("kill: session prefix '%s' is ambiguous; give more of the id", arg);
                break;
        default:
                cli_error("kill: '%s' is not a session id (hexadecimal, dashes optional)", arg);
                break;
        }
        return EXIT_FAIL;
}

/* Root, and who logged in as what became root (the audit login uid), for
 * the user's line and the supervisor's log. */
static void who_am_i(char *buf, size_t size)
{
        _cleanup_free_ char *text = NULL;
        struct passwd *pw = getpwuid(getuid());
        unsigned long login = (unsigned long)-1;
        size_t len = 0;

        snprintf(buf, size, "%s, uid %u", pw ? pw->pw_name : "?", (unsigned)getuid());
        if (read_file_bounded("/proc/self/loginuid", 32, &text, &len) == 0) {
                char *end;

                errno = 0;
                login = strtoul(text, &end, 10);
                if (errno || end == text)
                        login = (unsigned long)-1;
        }
        if (login != (unsigned long)-1 && login != (unsigned long)(uint32_t)-1 && login != getuid()) {
                struct passwd *lp = getpwuid((uid_t)login);
                size_t n = strlen(buf);

                if (lp)
                        snprintf(buf + n, size - n, ", login %s", lp->pw_name);
                else
                        snprintf(buf + n, size - n, ", login uid %lu", login);
        }
}

static int kill_direct(const char *arg, const char *reason)
{
        char run_dir[4096], id[SESSCTL_ID_MAX + 1], who[256], order[SESSCTL_ORDER_MAX + 1];
        int r, n;

        r = sessctl_run_dir(secure_getenv("VIGILD_SOCKET"), run_dir, sizeof run_dir);
        if (r < 0) {
                cli_error("kill: VIGILD_SOCKET: %s", vigil_strerror(r));
                return EXIT_FAIL;
        }
        r = sessctl_find(run_dir, arg, id);
        if (r == -ENOENT || r == -ENOTUNIQ || r == -EINVAL)
                return not_running(arg, r);
        if (r < 0) {
                cli_error("kill: '%s/sessions': %s", run_dir, vigil_strerror(r));
                return EXIT_FAIL;
        }
        who_am_i(who, sizeof who);
        n = sessctl_order(who, reason, order, sizeof order);
        if (n < 0) {
                cli_error("kill: %s", vigil_strerror(n));
                return EXIT_FAIL;
        }
        r = sessctl_send_order(run_dir, id, order, (size_t)n, ANSWER_MS);
        if (r == -ENOENT)
                return not_running(arg, r);
        if (r < 0) {
                cli_error("kill: the session's supervisor did not confirm: %s", vigil_strerror(r));
                return EXIT_FAIL;
        }
        printf("session %s ended\n", id);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int kill_via_vigild(const char *arg, const char *reason)
{
        char prefix[33];
        cli_call c = { 0 };
        vmsg_builder b = { 0 };
        const vmsg *m;
        _cleanup_free_ char *id = NULL;
        int r;

        if (sessctl_prefix(arg, prefix) < 0)
                return not_running(arg, -EINVAL);
        r = vmsg_builder_init(&b, VT_SESSION_KILL, 1);
        if (r == 0)
                r = vmsg_add_str(&b, VF_SESSION, prefix);
        if (r == 0 && reason)
                r = vmsg_add_str(&b, VF_REASON, reason);
        if (r < 0) {
                vmsg_builder_done(&b);
                cli_error("kill: %s", vigil_strerror(r));
                return EXIT_FAIL;
        }
        r = cli_call_start(&c, "kill", &b);
        vmsg_builder_done(&b);
        if (r)
                return r;
        r = cli_call_next(&c, &m);
        if (r == 1) {
                cli_error("kill: vigild sent an item to a request that has none");
                cli_call_done(&c);
                return EXIT_FAIL;
        }
        if (r < 0 || c.status != VS_OK) {
                int e = r < 0 ? 0
                        : c.status == VS_NOTFOUND && strcmp(c.text, "no running session with this id") == 0
                                ? -ENOENT
                                : view_find_error(c.text);

                r = e ? not_running(arg, e) : cli_call_fail(&c);
                cli_call_done(&c);
                return r;
        }
        if (vmsg_get(&c.rep->msg, VF_SESSION))
                (void)vmsg_get_str(&c.rep->msg, VF_SESSION, &id);
        cli_call_done(&c);
        printf("session %s ended\n", id ? id : prefix);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_kill(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "reason", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *reason = NULL;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        reason = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("kill", c, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("kill", "missing SESSION");
        if (optind + 1 < argc)
                return cli_usage_error("kill", "unexpected argument '%s'", argv[optind + 1]);
        /* the user sees it on one line; vigild takes the same */
        if (reason && (strlen(reason) == 0 || strlen(reason) > 1024 ||
                       !vtext_valid((const uint8_t *)reason, strlen(reason))))
                return cli_usage_error("kill", "--reason: one line of text, at most 1024 bytes");
        (void)g; /* a running session, not the store: none of the global options applies */
        if (geteuid() != 0)
                return kill_via_vigild(argv[optind], reason);
        return kill_direct(argv[optind], reason);
}
