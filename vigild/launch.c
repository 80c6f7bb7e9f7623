/* ops->session_start: start a session's supervisor for vigil-shell (a
 * login) or for a non-root caller with a token (vigil run --token-file).
 *
 * The supervisor runs in a process of its own that vigild does not keep:
 *
 *   vigild --fork--> A --fork--> S (setsid; runs vigil_session_run())
 *                    A exits at once; S is adopted by init
 *
 * so a vigild that dies or restarts leaves running sessions alone (nothing
 * ties them to it: no parent to lose, no PR_SET_PDEATHSIG, no connection
 * they depend on). S is a fork of vigild without exec: what it needs (the
 * request, the configuration) is already in its memory, and the first thing
 * it does is close every fd it has no business with and wipe vigild's
 * secrets from its copy (child_hygiene()).
 *
 * Handshake, over a socket pair, so that a session runs only if its caller
 * learns of it and a caller never waits for a session that will not run:
 *
 *   S: checks (policy loads, events file, record written) -> "ok" | "error <why>"
 *   vigild: on "ok", replies to the caller (session id, and the read end of
 *           the end pipe) -> "go"; on a refusal or a vanished caller it
 *           closes its end instead
 *   S: "go" -> runs the session; EOF -> removes its record and exits
 *
 * The end pipe: S holds the write end and, when the session is over,
 * writes one byte (the exit status, 125 when the session failed) and exits;
 * EOF without a byte means the supervisor died. vigil-shell waits on it,
 * not on vigild. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config/config.h"
#include "log.h"
#include "policy.h"
#include "real-shell.h"
#include "supervisor.h"
#include "vigil-error.h"

/* How long S waits for vigild's "go" after its "ok". */
#define GO_TIMEOUT_MS 30000
#define END_STATUS_FAILED 125

/* Everything S needs, decided in vigild before the fork. */
typedef struct plan {
        char id[40];
        const vigild_start *st; /* borrowed from the request (S has its own copy of the memory) */
        char **argv, **env;
        char *policy;
        char *store;
        char *shell;
        char *hook, *hook_user; /* vigil.conf's approval_hook(_user); hook NULL when none */
        int64_t deadline;
        char record[4096], control[4096], events[4096];
        char tty[256]; /* the login's terminal, when PAM_TTY names none */
        bool has_events;
        vigil_session_identity ident;
        bool has_ident;
} plan;

typedef struct launch {
        vigild_req *r;
        char id[40];
        char *user;
        uid_t uid;
        int ready_fd; /* vigild's end of the handshake */
        int end_fd;   /* the end pipe's read end, for the reply */
        vigild_watch *w;
} launch;

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void plan_done(plan *p)
{
        strv_free(p->argv);
        strv_free(p->env);
        free(p->policy);
        free(p->store);
        free(p->shell);
        free(p->hook);
        free(p->hook_user);
}

static void launch_free(launch *l)
{
        if (!l)
                return;
        vigild_watch_free(l->w);
        if (l->ready_fd >= 0)
                (void)close(l->ready_fd);
        if (l->end_fd >= 0)
                (void)close(l->end_fd);
        free(l->user);
        free(l);
}

/* ---- the plan ---------------------------------------------------------- */

/* The caller's environment is its own business; the session gets only what
 * describes the user's locale and connection, never what changes how
 * programs load or behave (LD_*, BASH_ENV, PATH, ...). */
static bool env_kept(const char *kv)
{
        static const char *const names[] = { "LANG",      "LANGUAGE",   "TZ",
                                             "COLORTERM", "SSH_CLIENT", "SSH_CONNECTION" };
        size_t n = strcspn(kv, "=");

        if (n > 3 && strncmp(kv, "LC_", 3) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == n && strncmp(kv, names[i], n) == 0)
                        return true;
        return false;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof *nv);

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

static int plan_build(const vigil_config *cfg, const vigild_start *st, plan *p, char *why, size_t whylen)
{
        const char *run_dir = vigild_server_run_dir(backend_server), *events_dir, *shell = NULL;
        size_t n = 0, ne = 0;
        char shell_env[4200];
        int r;

        r = session_id_new(p->id);
        if (r < 0) {
                snprintf(why, whylen, "no session id: %s", vigil_strerror(r));
                return r;
        }
        p->st = st;
        /* the account's own `shell.USER` or `shell`; one that anybody but
         * root could change refuses the session (fail closed) */
        r = real_shell_pick(cfg, st->user, &shell, why, whylen);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r;
        p->policy = strdup(cfg->policy);
        p->store = strdup(cfg->store);
        p->shell = strdup(shell);
        if (!p->policy || !p->store || !p->shell)
                return -ENOMEM;
        if (cfg->approval_hook && !(p->hook = strdup(cfg->approval_hook)))
                return -ENOMEM;
        if (cfg->approval_hook_user && !(p->hook_user = strdup(cfg->approval_hook_user)))
                return -ENOMEM;

        /* What runs: a login gets the real shell (vigil.conf `shell.USER` or `shell`), as a
         * login shell, or with its one command line (ssh host cmd, scp,
         * sftp all come as `vigil-shell -c CMD`); a token session runs its
         * argv as `vigil run` would. */
        if (st->form == VIGILD_START_LOGIN) {
                if (st->argc > 1) {
                        snprintf(why, whylen, "a login takes one command line, not %zu arguments", st->argc);
                        return -EINVAL;
                }
                r = strv_push(&p->argv, &n, p->shell);
                if (r == 0)
                        r = strv_push(&p->argv, &n, st->argc ? "-c" : "-l");
                if (r == 0 && st->argc)
                        r = strv_push(&p->argv, &n, st->argv[0]);
        } else {
                r = 0;
                for (size_t i = 0; r == 0 && i < st->argc; i++)
                        r = strv_push(&p->argv, &n, st->argv[i]);
        }
        if (r < 0)
                return r;

        for (size_t i = 0; r == 0 && i < st->n_env; i++)
                if (env_kept(st->env[i]))
                        r = strv_push(&p->env, &ne, st->env[i]);
        if (r == 0 && snprintf(shell_env, sizeof shell_env, "SHELL=%s", p->shell) < (int)sizeof shell_env)
                r = strv_push(&p->env, &ne, shell_env);
        if (r < 0)
                return r;

        if (st->identity) {
                p->ident = (vigil_session_identity){
                        .subject = st->identity->subject,
                        .email = st->identity->email,
                        .jti = st->identity->jti,
                        .groups = (const char *const *)st->identity->groups,
                        .n_groups = st->identity->n_groups,
                        .exp = st->identity->exp,
                };
                p->has_ident = true;
        }

        /* session_max: the token's expiry, or a time from now */
        if (cfg->session_max == VIGIL_CONF_LIMIT_TOKEN) {
                if (!st->identity) {
                        snprintf(why, whylen, "session_max = token, but the session has no token");
                        return -EPERM;
                }
                p->deadline = st->identity->exp;
        } else if (cfg->session_max > 0)
                p->deadline = (int64_t)time(NULL) + cfg->session_max;
        if (p->deadline && p->deadline <= (int64_t)time(NULL)) {
                snprintf(why, whylen, "the sign-in has expired (session_max = token)");
                return -ETIME;
        }

        r = session_path(run_dir, p->id, "", p->record, sizeof p->record);
        if (r == 0)
                r = session_path(run_dir, p->id, ".sock", p->control, sizeof p->control);
        events_dir = vigild_server_events_dir(backend_server);
        if (r == 0 && events_dir) {
                if (snprintf(p->events, sizeof p->events, "%s/%s.jsonl", events_dir, p->id) >=
                    (int)sizeof p->events)
                        r = -ENAMETOOLONG;
                p->has_events = true;
        }
        if (r < 0)
                snprintf(why, whylen, "session paths: %s", vigil_strerror(r));
        return r;
}

/* ---- S: the supervisor process ---------------------------------------- */

static void say(int fd, const char *fmt, ...) _printf_(2, 3);
static void say(int fd, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof line)
                n = (int)sizeof line - 1;
        (void)send(fd, line, (size_t)n, MSG_NOSIGNAL);
}

/* The first error of a policy that does not load, as FILE:LINE:COL: message. */
static vigil_policy *load_policy(const char *path, char *why, size_t whylen)
{
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        int r = vigil_policy_load(path, &p, &d);

        if (r < 0) {
                const vigil_diag *x = NULL;

                for (size_t i = 0; i < d.n && !x; i++)
                        if (d.items[i].level == VIGIL_DIAG_ERROR)
                                x = &d.items[i];
                if (x && x->line)
                        snprintf(why, whylen, "policy %s:%u:%u: %s", path, x->line, x->column, x->message);
                else
                        snprintf(why, whylen, "policy '%s': %s", path, x ? x->message : vigil_strerror(r));
                p = NULL;
        }
        vigil_diags_clear(&d);
        return p;
}

/* Wait for vigild's "go". */
static bool wait_go(int fd)
{
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char buf[8];
        ssize_t n;

        if (poll(&pfd, 1, GO_TIMEOUT_MS) <= 0)
                return false;
        n = recv(fd, buf, sizeof buf, 0);
        return n == 2 && memcmp(buf, "go", 2) == 0;
}

static void write_status(int end_w, int status)
{
        unsigned char b = (unsigned char)status;

        while (write(end_w, &b, 1) < 0 && errno == EINTR)
                ;
}

/* The session's own stderr: where a failure after the hand-over is told. */
static void tell_user(const plan *p, const int *fds, const char *what)
{
        int fd = p->st->pty ? fds[0] : fds[2];

        (void)dprintf(fd, "vigil: cannot start the session: %s\n", what);
}

_noreturn_ static void supervisor_main(const plan *p, int ready, int end_w, const int *fds)
{
        const vigild_start *st = p->st;
        vigil_session_config sc = { .in_fd = -1, .out_fd = -1, .err_fd = -1, .events_fd = -1 };
        session_record rec = { 0 };
        vigil_policy *policy;
        struct rlimit rl;
        char why[600] = "";
        char *err = NULL;
        int status = END_STATUS_FAILED, r;

        if (setsid() < 0) {
                say(ready, "error setsid: %s", strerror(errno));
                _exit(0);
        }
        /* in ps: a session's supervisor, not vigild */
        (void)prctl(PR_SET_NAME, "vigil-session");
        /* A login's terminal becomes the supervisor's controlling terminal,
         * taken from vigil-shell's session (which only waits): the
         * supervisor is then its foreground, so the window size changes
         * (SIGWINCH) and the hang-up when the connection drops (SIGHUP) come
         * to it. Not for a token session: that terminal is the caller's own
         * shell's, which must keep it. Without it the session still runs,
         * only resizes are not seen. */
        if (st->pty && st->form == VIGILD_START_LOGIN)
                (void)ioctl(fds[0], TIOCSCTTY, 1);

        policy = load_policy(p->policy, why, sizeof why);
        if (!policy) {
                say(ready, "error %s", why);
                _exit(0);
        }
        if (p->has_events) {
                sc.events_fd = open(
                        p->events,
                        O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (sc.events_fd < 0) {
                        say(ready, "error events file '%s': %s", p->events, strerror(errno));
                        _exit(0);
                }
        }
        rec = (session_record){
                .supervisor = getpid(),
                .supervisor_start = proc_starttime(getpid()),
                .uid = st->uid,
                .user = st->user,
                .identity = st->identity,
                .tty = p->tty[0] ? p->tty : st->tty,
                .rhost = st->rhost,
        };
        r = session_record_write(p->record, &rec);
        if (r < 0) {
                say(ready, "error session record '%s': %s", p->record, vigil_strerror(r));
                _exit(0);
        }
        say(ready, "ok");
        if (!wait_go(ready)) {
                /* the caller will not learn of it: nothing runs */
                (void)unlink(p->record);
                write_status(end_w, END_STATUS_FAILED);
                _exit(0);
        }
        (void)close(ready);

        /* vigild raised its own fd limit; a session starts with the usual one */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 1024 && rl.rlim_max >= 1024) {
                rl.rlim_cur = 1024;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        sc.user = st->user;
        sc.policy = policy;
        sc.argv = p->argv;
        sc.io = st->pty ? VIGIL_IO_PTY : VIGIL_IO_PIPES;
        sc.in_fd = fds[0];
        sc.out_fd = st->pty ? fds[0] : fds[1];
        sc.err_fd = st->pty ? fds[0] : fds[2];
        sc.session_id = p->id;
        sc.term = st->term;
        sc.identity = p->has_ident ? &p->ident : NULL;
        sc.tty = p->tty[0] ? p->tty : st->tty;
        sc.rhost = st->rhost;
        sc.cwd = st->cwd;
        if (!sc.cwd) {
                /* vigild's own directory is nobody's business: the account's home */
                struct passwd *pw = getpwnam(st->user);

                sc.cwd = pw ? pw->pw_dir : "/";
        }
        if (chdir("/") < 0) {
                /* the session's process changes directory itself */
        }
        sc.env = p->env;
        sc.deadline = p->deadline;
        sc.control_socket = p->control;
        /* recorded in vigil.conf's store, sealed with the host key (the
         * variable is for tests and unusual layouts, as for the vigil CLI) */
        sc.store_dir = p->store;
        sc.store_key = secure_getenv("VIGIL_HOST_KEY");
        sc.approval_hook = p->hook;
        sc.approval_hook_user = p->hook_user;
        r = vigil_session_run(&sc, &status, &err);
        if (r < 0) {
                tell_user(p, fds, err ? err : vigil_strerror(r));
                status = END_STATUS_FAILED;
        }
        free(err);
        /* the hang-up of a login's terminal may come once the status is out */
        (void)signal(SIGHUP, SIG_IGN);
        (void)unlink(p->record);
        write_status(end_w, status);
        _exit(0);
}

/* ---- vigild's side ---------------------------------------------------- */

static void launch_cancelled(vigild_req *r, void *userdata)
{
        launch *l = userdata;

        (void)r;
        /* closing the handshake tells S not to run the session */
        launch_free(l);
}

static void ready_readable(int fd, uint32_t events, void *userdata)
{
        launch *l = userdata;
        vigild_req *r = l->r;
        char msg[700];
        vmsg_builder b = { 0 };
        ssize_t n;
        int k;

        (void)events;
        n = recv(fd, msg, sizeof msg - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        vigild_req_on_cancel(r, NULL, NULL);
        if (n <= 0) {
                vlog(LOG_ERR, "session.start: the supervisor of '%s' exited before the session started",
                     l->user);
                (void)vigild_req_fail(r, VS_FAILED, "cannot start the session: the supervisor exited");
                launch_free(l);
                return;
        }
        msg[n] = '\0';
        if (n != 2 || memcmp(msg, "ok", 2) != 0) {
                const char *why = strncmp(msg, "error ", 6) == 0 ? msg + 6 : "no answer";

                for (char *p = msg; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f)
                                *p = '?';
                vlog(LOG_ERR, "session.start: no session for '%s' (uid %u): %s", l->user, (unsigned)l->uid,
                     why);
                (void)vigild_req_fail(r, VS_FAILED, "cannot start the session: %.300s", why);
                launch_free(l);
                return;
        }
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                (void)vmsg_add_str(&b, VF_SESSION, l->id);
                k = vigild_req_reply(r, &b, l->end_fd);
                l->end_fd = -1; /* taken, whatever happened */
        }
        vmsg_builder_done(&b);
        if (k < 0) {
                /* the caller is gone: S gets EOF instead of "go" and runs nothing */
                vlog(LOG_NOTICE, "session.start: the caller of session %s left; not started", l->id);
                launch_free(l);
                return;
        }
        if (send(l->ready_fd, "go", 2, MSG_DONTWAIT | MSG_NOSIGNAL) != 2)
                vlog(LOG_ERR, "session.start: session %s: the supervisor is gone", l->id);
        else
                vlog(LOG_INFO, "session.start: session %s of '%s' (uid %u) runs", l->id, l->user,
                     (unsigned)l->uid);
        launch_free(l);
}

int launch_session(vigild_req *r, const vigild_start *st)
{
        vigild_server *s = vigild_req_server(r);
        const vigil_config *cfg = vigild_server_config(s);
        int fds[3] = { -1, -1, -1 }, sv[2] = { -1, -1 }, endp[2] = { -1, -1 };
        plan p = { 0 };
        launch *l = NULL;
        char why[300] = "";
        pid_t a;
        int k;

        if (!cfg) {
                for (size_t i = 0; i < st->n_fds; i++) {
                        int fd = vigild_req_take_fd(r, i);

                        if (fd >= 0)
                                (void)close(fd);
                }
                return vigild_req_fail(r, VS_UNAVAILABLE, "no vigil.conf is loaded");
        }
        for (size_t i = 0; i < st->n_fds && i < 3; i++)
                fds[i] = vigild_req_take_fd(r, i);
        k = plan_build(cfg, st, &p, why, sizeof why);
        /* sshd opens the PAM session before it allocates the terminal, so
         * PAM_TTY says "ssh" even for an interactive login: the terminal
         * vigil-shell handed over is the login's */
        if (k == 0 && st->form == VIGILD_START_LOGIN && st->pty && fds[0] >= 0 &&
            (!st->tty || strncmp(st->tty, "/dev/", 5) != 0) && ttyname_r(fds[0], p.tty, sizeof p.tty) != 0)
                p.tty[0] = '\0';
        if (k < 0) {
                vlog(LOG_NOTICE, "session.start: no session for '%s' (uid %u): %s", st->user,
                     (unsigned)st->uid, why[0] ? why : vigil_strerror(k));
                if (why[0])
                        k = vigild_req_fail(r, k == -EINVAL ? VS_INVALID : VS_REFUSED, "%s", why);
                goto out;
        }

        l = calloc(1, sizeof *l);
        if (!l || !(l->user = strdup(st->user))) {
                k = -ENOMEM;
                goto out;
        }
        l->r = r;
        l->uid = st->uid;
        l->ready_fd = l->end_fd = -1;
        memcpy(l->id, p.id, sizeof l->id);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(endp, O_CLOEXEC) < 0) {
                k = negative_errno();
                goto out;
        }

        a = fork();
        if (a == 0) {
                int keep[5] = { sv[1], endp[1], fds[0], fds[1], fds[2] };
                size_t n_keep = st->pty ? 3 : 5;
                pid_t spid;

                child_hygiene(keep, n_keep);
                spid = fork();
                if (spid == 0)
                        supervisor_main(&p, keep[0], keep[1], keep + 2);
                if (spid < 0)
                        say(keep[0], "error fork: %s", strerror(errno));
                _exit(0);
        }
        if (a < 0) {
                k = negative_errno();
                goto out;
        }
        (void)close(sv[1]);
        (void)close(endp[1]);
        sv[1] = endp[1] = -1;
        if (reap_later(s, a) < 0)
                vlog(LOG_WARNING, "session.start: cannot watch process %d; it stays a zombie", (int)a);
        l->ready_fd = TAKE_FD(sv[0]);
        l->end_fd = TAKE_FD(endp[0]);
        k = vigild_watch_fd(s, l->ready_fd, EPOLLIN, ready_readable, l, &l->w);
        if (k < 0)
                goto out;
        vigild_req_on_cancel(r, launch_cancelled, l);
        l = NULL;
        k = 0;
out:
        for (int i = 0; i < 3; i++)
                if (fds[i] >= 0)
                        (void)close(fds[i]);
        for (int i = 0; i < 2; i++) {
                if (sv[i] >= 0)
                        (void)close(sv[i]);
                if (endp[i] >= 0)
                        (void)close(endp[i]);
        }
        launch_free(l);
        plan_done(&p);
        return k;
}
