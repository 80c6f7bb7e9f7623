/* pam-converse: runs pam_vigil through the real libpam (pam_start_confdir
 * with a service file the test writes) with a scripted conversation, and
 * checks the module behaves as a guest in the process: nothing on stdout or
 * stderr, signal dispositions unchanged, no fd left open.
 *
 *   pam-converse --confdir DIR --service NAME --user USER
 *                [--ops auth,account,setcred,open_session,env,close_session]
 *                [--first ANSWER] [--token-file F] [--part-size N]
 *                [--approve CMD] [--putenv NAME=VALUE] [--silent]
 *                [--tty TTY] [--rhost HOST] [--pause FILE]
 *
 * Conversation: the first prompt gets --first (default: empty); "vigil token
 * part N:" gets the Nth --part-size slice of --token-file (empty when done);
 * "Press Enter once you have signed in" runs --approve (sh -c CMD, with
 * VIGIL_USER_CODE and VIGIL_VERIFICATION_URI from the message before it)
 * and answers empty. Any other prompt fails the conversation.
 *
 * Output (stdout, after PAM is done): the transcript ("prompt-on: ...",
 * "info: ...", "error: ...", "answer: ..."), then "auth: PAM_X", "account:
 * PAM_X" (one line per op; the op "env" prints "env-now: NAME=VALUE" for the
 * PAM environment at that point), "env: NAME=VALUE" for each PAM
 * environment entry at the end, "auth-ms: N",
 * The op "pause" (with --pause FILE) writes the PAM environment at that
 * point to FILE (NAME=VALUE lines, mode 0600) and waits until FILE.go exists
 * (at most 120 s), so that another process can act on an open session
 * before close_session. --tty and --rhost set PAM_TTY and PAM_RHOST, as
 * sshd does.
 * and "hygiene: ok". Exit 0 when all of that could be done; 3 when the
 * module broke a hygiene rule (what it did is printed); 2 on bad usage. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define FIRST_PROMPT "vigil: press Enter to sign in with your browser, or type 'token':"
#define SIGNED_IN_PROMPT "Press Enter once you have signed in"
#define MAX_FDS 1024

typedef struct script {
        const char *first;
        char *token;
        size_t token_len, part_size;
        const char *approve;
        char user_code[128], uri[1024];
        FILE *log; /* transcript, in memory */
        int approvals;
} script;

static void say(script *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        (void)vfprintf(s->log, fmt, ap);
        va_end(ap);
        (void)fputc('\n', s->log);
}

static void note_code(script *s, const char *msg)
{
        /* "To sign in, open URI and enter CODE" */
        char uri[sizeof s->uri], code[sizeof s->user_code];

        if (sscanf(msg, "To sign in, open %1023s and enter %127s", uri, code) == 2) {
                memcpy(s->uri, uri, sizeof uri);
                memcpy(s->user_code, code, sizeof code);
        }
}

static int run_approve(script *s)
{
        pid_t pid;
        int st;

        if (!s->approve)
                return 0;
        if (!s->user_code[0]) {
                say(s, "approve: no code was shown");
                return -1;
        }
        (void)fflush(s->log);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                /* The test's own stdout/stderr are redirected while PAM runs;
                 * the approver's output goes to the real stderr (fd 9). */
                (void)dup2(9, 1);
                (void)dup2(9, 2);
                (void)setenv("VIGIL_USER_CODE", s->user_code, 1);
                (void)setenv("VIGIL_VERIFICATION_URI", s->uri, 1);
                execl("/bin/sh", "sh", "-c", s->approve, (char *)NULL);
                _exit(127);
        }
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        s->approvals++;
        say(s, "approve: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
}

static char *answer_for(script *s, const char *prompt)
{
        unsigned n;
        char tail;

        if (strcmp(prompt, FIRST_PROMPT) == 0) {
                say(s, "answer: '%s'", s->first);
                return strdup(s->first);
        }
        if (sscanf(prompt, "vigil token part %u%c", &n, &tail) == 2 && tail == ':' && n > 0) {
                size_t off = (size_t)(n - 1) * s->part_size, len = 0;
                char *a;

                if (s->token && off < s->token_len)
                        len = s->token_len - off < s->part_size ? s->token_len - off : s->part_size;
                a = strndup(s->token ? s->token + off : "", len);
                say(s, "answer: part %u (%zu characters)", n, len);
                return a;
        }
        if (strcmp(prompt, SIGNED_IN_PROMPT) == 0) {
                if (run_approve(s) < 0)
                        return NULL;
                say(s, "answer: ''");
                return strdup("");
        }
        say(s, "answer: none (unexpected prompt)");
        return NULL;
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
        script *s = data;
        struct pam_response *r = calloc((size_t)n, sizeof *r);

        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                const char *m = msg[i]->msg ? msg[i]->msg : "";

                switch (msg[i]->msg_style) {
                case PAM_PROMPT_ECHO_ON:
                case PAM_PROMPT_ECHO_OFF:
                        say(s, "prompt-%s: %s", msg[i]->msg_style == PAM_PROMPT_ECHO_ON ? "on" : "off", m);
                        r[i].resp = answer_for(s, m);
                        if (!r[i].resp) {
                                for (int j = 0; j < i; j++)
                                        free(r[j].resp);
                                free(r);
                                return PAM_CONV_ERR;
                        }
                        break;
                case PAM_TEXT_INFO:
                        say(s, "info: %s", m);
                        note_code(s, m);
                        break;
                case PAM_ERROR_MSG:
                        say(s, "error: %s", m);
                        break;
                default:
                        say(s, "unknown message style %d", msg[i]->msg_style);
                        free(r);
                        return PAM_CONV_ERR;
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

static const char *pam_name(int r)
{
        static const struct {
                int code;
                const char *name;
        } names[] = {
#define N(x) { x, #x }
                N(PAM_SUCCESS),          N(PAM_OPEN_ERR),     N(PAM_SYMBOL_ERR),
                N(PAM_SERVICE_ERR),      N(PAM_SYSTEM_ERR),   N(PAM_BUF_ERR),
                N(PAM_PERM_DENIED),      N(PAM_AUTH_ERR),     N(PAM_CRED_INSUFFICIENT),
                N(PAM_AUTHINFO_UNAVAIL), N(PAM_USER_UNKNOWN), N(PAM_MAXTRIES),
                N(PAM_NEW_AUTHTOK_REQD), N(PAM_ACCT_EXPIRED), N(PAM_CRED_ERR),
                N(PAM_CONV_ERR),         N(PAM_IGNORE),       N(PAM_ABORT),
                N(PAM_MODULE_UNKNOWN),   N(PAM_INCOMPLETE),   N(PAM_SESSION_ERR),
#undef N
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (names[i].code == r)
                        return names[i].name;
        return "PAM_(other)";
}

static char *read_token(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0, len = 0;
        int c;

        if (!f)
                return NULL;
        while ((c = fgetc(f)) != EOF) {
                if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
                        continue;
                if (len + 1 >= size) {
                        char *nb = realloc(buf, size ? size * 2 : 4096);

                        if (!nb) {
                                free(buf);
                                (void)fclose(f);
                                return NULL;
                        }
                        buf = nb;
                        size = size ? size * 2 : 4096;
                }
                buf[len++] = (char)c;
        }
        (void)fclose(f);
        if (!buf)
                buf = calloc(1, 1);
        else
                buf[len] = '\0';
        *ret_len = len;
        return buf;
}

/* The op "pause": the PAM environment to @path, then wait for @path.go. */
static int pause_op(pam_handle_t *pamh, const char *path)
{
        char go[4096];
        char **now = pam_getenvlist(pamh);
        FILE *f;
        int fd;

        if (!path || snprintf(go, sizeof go, "%s.go", path) >= (int)sizeof go)
                return -1;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) {
                if (fd >= 0)
                        (void)close(fd);
                return -1;
        }
        for (size_t i = 0; now && now[i]; i++) {
                (void)fprintf(f, "%s\n", now[i]);
                free(now[i]);
        }
        free(now);
        if (fclose(f) != 0)
                return -1;
        for (int i = 0; i < 2400; i++) {
                if (access(go, F_OK) == 0)
                        return 0;
                (void)usleep(50000);
        }
        return -1;
}

/* Open fds, as a bitmap. */
static void list_fds(bool open_fds[MAX_FDS])
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;

        memset(open_fds, 0, MAX_FDS * sizeof(bool));
        if (!d)
                return;
        while ((e = readdir(d))) {
                int fd = atoi(e->d_name);

                if (e->d_name[0] != '.' && fd >= 0 && fd < MAX_FDS && fd != dirfd(d))
                        open_fds[fd] = true;
        }
        (void)closedir(d);
}

static void noop_handler(int sig)
{
        (void)sig;
}

static void usage(void)
{
        (void)fputs("usage: pam-converse --confdir DIR --service NAME --user USER\n"
                    "       [--ops auth,account,setcred,open_session,env,close_session]\n"
                    "       [--first ANSWER] [--token-file F] [--part-size N] [--approve CMD]\n"
                    "       [--putenv NAME=VALUE] [--silent] [--tty TTY] [--rhost HOST] [--pause FILE]\n",
                    stderr);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "confdir", required_argument, NULL, 'c' },
                { "service", required_argument, NULL, 's' },
                { "user", required_argument, NULL, 'u' },
                { "ops", required_argument, NULL, 'o' },
                { "first", required_argument, NULL, 'f' },
                { "token-file", required_argument, NULL, 't' },
                { "part-size", required_argument, NULL, 'p' },
                { "approve", required_argument, NULL, 'a' },
                { "putenv", required_argument, NULL, 'e' },
                { "silent", no_argument, NULL, 'q' },
                { "tty", required_argument, NULL, 'T' },
                { "rhost", required_argument, NULL, 'R' },
                { "pause", required_argument, NULL, 'P' },
                {},
        };
        const char *confdir = NULL, *service = NULL, *user = NULL, *ops = "auth,account", *putenvs[16];
        const char *tty = NULL, *rhost = NULL, *pause_file = NULL;
        size_t n_putenv = 0;
        script s = { .first = "", .part_size = 500 };
        char *logbuf = NULL, *ops_copy, *save = NULL, outpath[] = "/tmp/pam-converse-out.XXXXXX";
        size_t logsize = 0;
        bool fds_before[MAX_FDS], fds_after[MAX_FDS], bad = false;
        struct sigaction before[NSIG], after, sa = { .sa_handler = noop_handler };
        struct timespec t0, t1;
        long auth_ms = -1;
        int flags = 0, c, r, out_fd, saved1, saved2;
        pam_handle_t *pamh = NULL;
        struct pam_conv conv = { converse, &s };
        struct stat st;
        char **env;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        confdir = optarg;
                        break;
                case 's':
                        service = optarg;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case 'o':
                        ops = optarg;
                        break;
                case 'f':
                        s.first = optarg;
                        break;
                case 't':
                        s.token = read_token(optarg, &s.token_len);
                        if (!s.token) {
                                (void)fprintf(stderr, "pam-converse: cannot read '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'p':
                        s.part_size = strtoul(optarg, NULL, 10);
                        break;
                case 'a':
                        s.approve = optarg;
                        break;
                case 'e':
                        if (n_putenv == 16)
                                return 2;
                        putenvs[n_putenv++] = optarg;
                        break;
                case 'q':
                        flags |= PAM_SILENT;
                        break;
                case 'T':
                        tty = optarg;
                        break;
                case 'R':
                        rhost = optarg;
                        break;
                case 'P':
                        pause_file = optarg;
                        break;
                default:
                        usage();
                        return 2;
                }
        }
        if (!confdir || !service || !user || s.part_size == 0) {
                usage();
                return 2;
        }
        s.log = open_memstream(&logbuf, &logsize);
        if (!s.log)
                return 1;

        /* The host process's own dispositions, which the module must leave as they are. */
        (void)sigaction(SIGPIPE, &sa, NULL);
        (void)sigaction(SIGCHLD, &sa, NULL);
        for (int i = 1; i < NSIG; i++)
                (void)sigaction(i, NULL, &before[i]);

        /* Everything the module might print lands in a file we check; the
         * approver gets the real stderr as fd 9. */
        (void)fflush(stdout);
        if (dup2(2, 9) < 0 || (saved1 = dup(1)) < 0 || (saved2 = dup(2)) < 0)
                return 1;
        out_fd = mkostemp(outpath, O_CLOEXEC);
        if (out_fd < 0)
                return 1;
        (void)unlink(outpath);
        list_fds(fds_before);
        if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
                return 1;

        r = pam_start_confdir(service, user, &conv, confdir, &pamh);
        if (r != PAM_SUCCESS) {
                say(&s, "pam_start_confdir: %s", pam_name(r));
                bad = true;
        }
        for (size_t i = 0; !bad && i < n_putenv; i++)
                (void)pam_putenv(pamh, putenvs[i]);
        if (!bad && tty)
                (void)pam_set_item(pamh, PAM_TTY, tty);
        if (!bad && rhost)
                (void)pam_set_item(pamh, PAM_RHOST, rhost);
        ops_copy = strdup(ops);
        for (char *op = strtok_r(ops_copy, ",", &save); !bad && op; op = strtok_r(NULL, ",", &save)) {
                if (strcmp(op, "auth") == 0) {
                        (void)clock_gettime(CLOCK_MONOTONIC, &t0);
                        r = pam_authenticate(pamh, flags);
                        (void)clock_gettime(CLOCK_MONOTONIC, &t1);
                        auth_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                } else if (strcmp(op, "account") == 0)
                        r = pam_acct_mgmt(pamh, flags);
                else if (strcmp(op, "setcred") == 0)
                        r = pam_setcred(pamh, PAM_ESTABLISH_CRED | flags);
                else if (strcmp(op, "open_session") == 0)
                        r = pam_open_session(pamh, flags);
                else if (strcmp(op, "close_session") == 0)
                        r = pam_close_session(pamh, flags);
                else if (strcmp(op, "pause") == 0) {
                        if (pause_op(pamh, pause_file) < 0) {
                                say(&s, "pause: failed (no --pause FILE, or FILE.go did not appear)");
                                bad = true;
                                break;
                        }
                        say(&s, "pause: resumed");
                        continue;
                } else if (strcmp(op, "env") == 0) {
                        /* the PAM environment at this point ("env-now: ...") */
                        char **now = pam_getenvlist(pamh);

                        for (size_t i = 0; now && now[i]; i++) {
                                say(&s, "env-now: %s", now[i]);
                                free(now[i]);
                        }
                        free(now);
                        continue;
                } else {
                        say(&s, "unknown op '%s'", op);
                        bad = true;
                        break;
                }
                say(&s, "%s: %s", op, pam_name(r));
        }
        free(ops_copy);
        if (pamh) {
                env = pam_getenvlist(pamh);
                for (size_t i = 0; env && env[i]; i++) {
                        say(&s, "env: %s", env[i]);
                        free(env[i]);
                }
                free(env);
                (void)pam_end(pamh, r);
        }
        /* glibc's syslog() keeps its socket open for the process: not the module's fd. */
        closelog();

        (void)fflush(stdout);
        (void)fflush(stderr);
        (void)dup2(saved1, 1);
        (void)dup2(saved2, 2);
        list_fds(fds_after);
        if (auth_ms >= 0)
                say(&s, "auth-ms: %ld", auth_ms);

        /* The guest rules. */
        if (fstat(out_fd, &st) == 0 && st.st_size > 0) {
                char buf[512] = "";
                ssize_t n = pread(out_fd, buf, sizeof buf - 1, 0);

                say(&s, "hygiene: the module wrote %lld bytes to stdout/stderr: %.*s", (long long)st.st_size,
                    (int)(n > 0 ? n : 0), buf);
                bad = true;
        }
        for (int i = 1; i < NSIG; i++) {
                if (sigaction(i, NULL, &after) < 0)
                        continue;
                if (after.sa_handler != before[i].sa_handler || after.sa_flags != before[i].sa_flags) {
                        say(&s, "hygiene: the disposition of signal %d (%s) changed", i, strsignal(i));
                        bad = true;
                }
        }
        for (int fd = 0; fd < MAX_FDS; fd++)
                if (fds_after[fd] && !fds_before[fd] && fd != out_fd && fd != saved1 && fd != saved2) {
                        char link[64], target[256] = "";

                        (void)snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                        if (readlink(link, target, sizeof target - 1) < 0)
                                target[0] = '\0';
                        say(&s, "hygiene: fd %d (%s) left open", fd, target);
                        bad = true;
                }
        if (!bad)
                say(&s, "hygiene: ok");
        (void)fclose(s.log);
        (void)fputs(logbuf, stdout);
        free(logbuf);
        if (s.token) {
                explicit_bzero(s.token, s.token_len);
                free(s.token);
        }
        return bad ? 3 : 0;
}
