/* `vigil run --token-file F -- CMD` as a user other than root: vigild's
 * session.start with a token. The CLI sends the token, the command and its
 * terminal or stdin/stdout/stderr; vigild verifies the token for the
 * caller's own account (never another: the request has no field that could
 * name one) and starts a supervised session; the CLI then waits on the fd
 * vigild handed back and exits with the session's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "identity.h"
#include "run-vigild.h"
#include "vigil-error.h"

#define EXIT_RUN_FAILED 125
#define CONNECT_MS 5000
/* vigild answers within its request timeout (10 s by default) */
#define CALL_MS 20000

extern char **environ;

/* The same list vigild keeps (the session's locale); vigild decides. */
static bool env_wanted(const char *kv)
{
        static const char *const names[] = { "LANG", "LANGUAGE", "TZ", "COLORTERM" };
        size_t n = strcspn(kv, "=");

        if (kv[n] != '=' || strlen(kv) > 8192)
                return false;
        if (n > 3 && strncmp(kv, "LC_", 3) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == n && strncmp(kv, names[i], n) == 0)
                        return true;
        return false;
}

static int build(vmsg_builder *b, const char *token, char *const *argv, bool pty)
{
        char cwd[PATH_MAX];
        const char *term = getenv("TERM");
        size_t n_env = 0;
        int r;

        r = vmsg_builder_init(b, VT_SESSION_START_TOKEN, 1);
        if (r < 0)
                return r;
        (void)vmsg_add_str(b, VF_TOKEN, token);
        for (size_t i = 0; argv[i]; i++)
                (void)vmsg_add(b, VF_ARGV, argv[i], strlen(argv[i]));
        for (char **e = environ; e && *e && n_env < 256; e++)
                if (env_wanted(*e)) {
                        (void)vmsg_add_str(b, VF_ENV, *e);
                        n_env++;
                }
        if (getcwd(cwd, sizeof cwd) && cwd[0] == '/')
                (void)vmsg_add_str(b, VF_CWD, cwd);
        if (term && *term && strlen(term) <= 64 &&
            strspn(term, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+-") ==
                    strlen(term))
                (void)vmsg_add_str(b, VF_TERM, term);
        if (pty) {
                struct winsize ws;

                (void)vmsg_add_bool(b, VF_PTY, true);
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
                        (void)vmsg_add_u32(b, VF_ROWS, ws.ws_row);
                        (void)vmsg_add_u32(b, VF_COLS, ws.ws_col);
                }
        }
        return 0;
}

int run_through_vigild(const char *token_file, char *const *argv, bool pty)
{
        static const int stdio_fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        const char *socket = secure_getenv("VIGILD_SOCKET");
        char *token = NULL;
        size_t len = 0;
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        unsigned char status;
        ssize_t n;
        int r, end_fd;

        if (pty && !isatty(STDIN_FILENO)) {
                cli_error("run: --pty needs a terminal on standard input");
                return EXIT_RUN_FAILED;
        }
        r = vigil_token_read_file(token_file, &token, &len);
        if (r < 0) {
                cli_error("run: token file '%s': %s", token_file, vigil_strerror(r));
                return EXIT_RUN_FAILED;
        }
        r = build(&b, token, argv, pty);
        explicit_bzero(token, len);
        free(token);
        if (r == 0)
                r = vigild_connect(socket, CONNECT_MS, &c);
        if (r == 0)
                r = vigild_call(c, &b, stdio_fds, pty ? 1 : 3, CALL_MS, &rep);
        vmsg_builder_done(&b);
        c = vigild_conn_free(c);
        if (r < 0) {
                cli_error("run: %s", r == VIGIL_E_PARSE || r == VIGIL_E_TOO_BIG
                                             ? "the token or the command does not fit a vigild request"
                                             : vigild_client_strerror(r));
                vigild_reply_free(rep);
                return EXIT_RUN_FAILED;
        }
        if (vigild_reply_status(rep) != VS_OK) {
                cli_error("run: %s", vigild_reply_error(rep));
                vigild_reply_free(rep);
                return EXIT_RUN_FAILED;
        }
        end_fd = vigild_reply_take_fd(rep, 0);
        vigild_reply_free(rep);
        if (end_fd < 0) {
                cli_error("run: vigild sent no fd to wait on");
                return EXIT_RUN_FAILED;
        }
        /* The session reads the terminal from here on; ^C and ^Z are its. */
        (void)signal(SIGINT, SIG_IGN);
        (void)signal(SIGQUIT, SIG_IGN);
        do
                n = read(end_fd, &status, 1);
        while (n < 0 && errno == EINTR);
        (void)close(end_fd);
        if (n != 1) {
                cli_error("run: the session's supervisor ended without an exit status");
                return EXIT_RUN_FAILED;
        }
        return status;
}
