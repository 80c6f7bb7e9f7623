/* vigil-shell: the login shell of every vigil account.
 *
 * sshd (or login) starts it after pam_vigil opened the session, as
 * `-vigil-shell` for an interactive login or `vigil-shell -c CMD` for
 * `ssh host cmd`, scp and the sftp subsystem. It runs nothing itself: it
 * hands its terminal (or its stdin, stdout and stderr) and the command to
 * vigild (session.start with the one-time VIGIL_SESSION_REF the PAM module
 * left), which starts the session's supervisor; then it waits on the fd
 * vigild handed back until the session ends, and exits with its status.
 *
 * Started outside a vigil session (no reference, a bad or used one, vigild
 * not running) it refuses: one line on stderr, exit status 1. It never
 * executes anything, so an account whose shell it is cannot get an
 * unsupervised shell through it whatever its environment says (including
 * VIGILD_SOCKET, which names a non-default vigild for tests and unusual
 * installations). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client.h"
#include "macro.h"

#define REF_ENV "VIGIL_SESSION_REF"
#define REF_LEN 64
#define CONNECT_MS 5000
/* vigild answers within its request timeout (10 s by default) */
#define CALL_MS 20000
#define EXIT_REFUSED 1
#define EXIT_NO_STATUS 125

extern char **environ;

static int refuse(const char *fmt, ...) _printf_(1, 2);
static int refuse(const char *fmt, ...)
{
        va_list ap;

        fputs("vigil: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_REFUSED;
}

static bool ref_valid(const char *s)
{
        size_t i;

        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == REF_LEN;
}

/* What of the environment describes the person's locale and connection;
 * vigild applies the same list again (it decides, this only saves sending
 * what it would drop). */
static bool env_wanted(const char *kv)
{
        static const char *const names[] = { "LANG",      "LANGUAGE",   "TZ",
                                             "COLORTERM", "SSH_CLIENT", "SSH_CONNECTION" };
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

static bool term_valid(const char *t)
{
        size_t n = strlen(t);

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = t[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

                if (!alnum && (i == 0 || !strchr("._:+-", c)))
                        return false;
        }
        return true;
}

/* The request; add errors are sticky and vigild_call() checks the message. */
static int build(vmsg_builder *b, const char *ref, const char *cmd, bool pty)
{
        char cwd[PATH_MAX];
        const char *term = getenv("TERM");
        size_t n_env = 0;
        int r;

        r = vmsg_builder_init(b, VT_SESSION_START_REF, 1);
        if (r < 0)
                return r;
        (void)vmsg_add_str(b, VF_REF, ref);
        if (cmd)
                (void)vmsg_add(b, VF_ARGV, cmd, strlen(cmd));
        for (char **e = environ; e && *e && n_env < 256; e++)
                if (env_wanted(*e)) {
                        (void)vmsg_add_str(b, VF_ENV, *e);
                        n_env++;
                }
        if (getcwd(cwd, sizeof cwd) && cwd[0] == '/')
                (void)vmsg_add_str(b, VF_CWD, cwd);
        if (term && term_valid(term))
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

/* Wait for the session's end: one byte, its exit status. */
static int wait_end(int fd)
{
        unsigned char status;
        ssize_t n;

        do
                n = read(fd, &status, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1)
                return status;
        fputs("vigil: the session's supervisor ended without an exit status\n", stderr);
        return EXIT_NO_STATUS;
}

int main(int argc, char **argv)
{
        static const int stdio_fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        const char *cmd = NULL, *socket = secure_getenv("VIGILD_SOCKET");
        char *env_ref, ref[REF_LEN + 1];
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        bool pty;
        int r, end_fd;

        /* `-vigil-shell` or `vigil-shell`: a login; `vigil-shell -c CMD`: a command */
        if (argc == 3 && strcmp(argv[1], "-c") == 0)
                cmd = argv[2];
        else if (argc != 1)
                return refuse("vigil-shell takes no arguments but '-c COMMAND'; refusing to run anything");
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0)
                        return EXIT_REFUSED; /* nowhere to say it */

        env_ref = getenv(REF_ENV);
        if (!env_ref || !*env_ref)
                return refuse("not in a vigil session (no %s); refusing to run anything", REF_ENV);
        if (!ref_valid(env_ref))
                return refuse("%s is not a session reference; refusing to run anything", REF_ENV);
        memcpy(ref, env_ref, sizeof ref);
        /* one use, by us: no copy stays in this process's environment */
        explicit_bzero(env_ref, strlen(env_ref));
        (void)unsetenv(REF_ENV);

        /* the terminal alone when there is one, else the three streams */
        pty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        (void)signal(SIGPIPE, SIG_IGN);

        r = build(&b, ref, cmd, pty);
        explicit_bzero(ref, sizeof ref);
        if (r == 0)
                r = vigild_connect(socket, CONNECT_MS, &c);
        if (r == 0)
                r = vigild_call(c, &b, stdio_fds, pty ? 1 : 3, CALL_MS, &rep);
        vmsg_builder_done(&b);
        c = vigild_conn_free(c);
        if (r < 0) {
                vigild_reply_free(rep);
                return refuse("cannot start the session: %s; refusing to run anything",
                              vigild_client_strerror(r));
        }
        if (vigild_reply_status(rep) != VS_OK) {
                (void)refuse("%s; refusing to run anything", vigild_reply_error(rep));
                vigild_reply_free(rep);
                return EXIT_REFUSED;
        }
        end_fd = vigild_reply_take_fd(rep, 0);
        rep = vigild_reply_free(rep);
        if (end_fd < 0)
                return refuse("vigild started a session but sent nothing to wait on");

        /* The session has the terminal now; what it types is not ours. The
         * supervisor took over a login's terminal, so no job control signal
         * comes here from it; before that, none may end us half-way. */
        (void)signal(SIGINT, SIG_IGN);
        (void)signal(SIGQUIT, SIG_IGN);
        (void)signal(SIGTSTP, SIG_IGN);
        (void)signal(SIGTTIN, SIG_IGN);
        (void)signal(SIGTTOU, SIG_IGN);
        return wait_end(end_fd);
}
