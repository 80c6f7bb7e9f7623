#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "filter.h"
#include "vigil-error.h"

#define PATH_USER "/usr/local/bin:/usr/bin:/bin"
#define PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The privilege transition, in the one order that works and cannot be
 * undone:
 *   1. setgroups()  needs CAP_SETGID, so it comes while still root;
 *   2. setresgid()  likewise, and before the uid change for the same reason;
 *   3. setresuid()  last: real, effective and saved uid all change, so
 *                   nothing can take root back.
 * Each is then read back, and setuid(0)/setgid(0) must fail. The seccomp
 * filter is already loaded (it needed root, without no_new_privs). */
int child_drop_privileges(const account *a)
{
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        int n;

        if (setgroups(a->n_gids, a->gids) < 0)
                return negative_errno();
        if (setresgid(a->gid, a->gid, a->gid) < 0)
                return negative_errno();
        if (setresuid(a->uid, a->uid, a->uid) < 0)
                return negative_errno();

        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return negative_errno();
        if (ru != a->uid || eu != a->uid || su != a->uid || rg != a->gid || eg != a->gid || sg != a->gid)
                return -EPERM;
        n = getgroups(0, NULL);
        if (n < 0 || (size_t)n != a->n_gids)
                return -EPERM;
        if (a->uid != 0) {
                if (setuid(0) != -1 || errno != EPERM)
                        return -EPERM;
                if (a->gid != 0 && (setgid(0) != -1 || errno != EPERM))
                        return -EPERM;
        }
        return 0;
}

void child_env_free(char **env)
{
        if (!env)
                return;
        for (char **e = env; *e; e++)
                free(*e);
        free(env);
}

int child_env(const account *a, const char *term, char ***ret)
{
        char **env = calloc(7, sizeof(char *));
        size_t n = 0;
        bool ok = true;

        if (!env)
                return -ENOMEM;
        ok = ok && asprintf(&env[n++], "HOME=%s", a->home) >= 0;
        ok = ok && asprintf(&env[n++], "USER=%s", a->name) >= 0;
        ok = ok && asprintf(&env[n++], "LOGNAME=%s", a->name) >= 0;
        ok = ok && asprintf(&env[n++], "SHELL=%s", a->shell) >= 0;
        ok = ok && asprintf(&env[n++], "PATH=%s", a->uid == 0 ? PATH_ROOT : PATH_USER) >= 0;
        if (ok && term)
                ok = asprintf(&env[n++], "TERM=%s", term) >= 0;
        if (!ok) {
                env[n - 1] = NULL; /* asprintf leaves it undefined on failure */
                child_env_free(env);
                return -ENOMEM;
        }
        *ret = env;
        return 0;
}

int child_env_merge(char ***env, char *const *extra)
{
        size_t n = 0, m = 0;
        char **e = *env, **ne;

        while (e[n])
                n++;
        while (extra && extra[m])
                m++;
        ne = realloc(e, (n + m + 1) * sizeof(char *));
        if (!ne)
                return -ENOMEM;
        *env = ne;
        for (size_t i = 0; i < m; i++) {
                const char *eq = strchr(extra[i], '=');
                size_t k, nl;
                char *copy;

                if (!eq || eq == extra[i])
                        continue; /* not NAME=VALUE: nothing to set */
                nl = (size_t)(eq - extra[i]) + 1;
                copy = strdup(extra[i]);
                if (!copy)
                        return -ENOMEM;
                for (k = 0; k < n; k++)
                        if (strncmp(ne[k], extra[i], nl) == 0)
                                break;
                if (k < n)
                        free(ne[k]);
                else
                        n++;
                ne[k] = copy;
                ne[n] = NULL;
        }
        ne[n] = NULL;
        return 0;
}

static int exec_sh(const char *file, char *const *argv, char *const *env)
{
        size_t n = 0;
        char **nv;

        while (argv[n])
                n++;
        nv = calloc(n + 2, sizeof(char *));
        if (!nv)
                return ENOMEM;
        nv[0] = (char *)"sh";
        nv[1] = (char *)file;
        for (size_t i = 1; i < n; i++)
                nv[i + 1] = argv[i];
        (void)execve("/bin/sh", nv, env);
        free(nv);
        return errno;
}

int child_exec_search(char *const *argv, char *const *env, const char *path)
{
        const char *name = argv[0];
        bool eacces = false;
        char buf[PATH_MAX];

        if (strchr(name, '/')) {
                (void)execve(name, argv, env);
                return errno == ENOEXEC ? exec_sh(name, argv, env) : errno;
        }
        for (const char *p = path, *end; p; p = *end ? end + 1 : NULL) {
                size_t dl;

                end = strchrnul(p, ':');
                dl = (size_t)(end - p);
                if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dl, p, dl ? "/" : "", name) >=
                    (int)sizeof(buf))
                        continue;
                (void)execve(buf, argv, env);
                switch (errno) {
                case ENOENT:
                case ENOTDIR:
                case ESTALE:
                case ENODEV:
                case ETIMEDOUT:
                        continue;
                case EACCES:
                        eacces = true;
                        continue;
                case ENOEXEC:
                        return exec_sh(buf, argv, env);
                default:
                        return errno;
                }
        }
        return eacces ? EACCES : ENOENT;
}

static void report(int sock, int error, const char *what, int fd)
{
        child_report rep = {.error = error};
        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
        struct iovec iov = {.iov_base = &rep, .iov_len = sizeof(rep)};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};

        (void)snprintf(rep.what, sizeof(rep.what), "%s", what);
        if (fd >= 0) {
                struct cmsghdr *c;

                m.msg_control = cbuf;
                m.msg_controllen = sizeof(cbuf);
                c = CMSG_FIRSTHDR(&m);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        (void)sendmsg(sock, &m, MSG_NOSIGNAL);
}

_noreturn_ static void fail_early(int sock, int r, const char *what)
{
        report(sock, r, what, -1);
        _exit(125);
}

_noreturn_ static void fail_late(int r, const char *what)
{
        dprintf(STDERR_FILENO, "vigil: %s: %s\n", what, vigil_strerror(r));
        _exit(125);
}

_noreturn_ void child_run(session *s, int sock, pid_t supervisor)
{
        char **env = NULL;
        sigset_t none;
        char go = 0;
        int listener = -1, r, err;

        /* the command starts with default dispositions and an empty mask */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        if (setsid() < 0)
                fail_early(sock, negative_errno(), "setsid");
        r = relay_child_setup(s);
        if (r < 0)
                fail_early(sock, r, "terminal");
        /* Root still: a filter without no_new_privs needs CAP_SYS_ADMIN. */
        r = filter_load(&s->prog, &listener);
        if (r < 0)
                fail_early(sock, r, "seccomp filter");
        report(sock, 0, "", listener);
        (void)close(listener);
        /* The supervisor's loop serves the listener before we go on:
         * the first exec already needs a verdict. */
        if (read(sock, &go, 1) != 1 || go != 'g')
                _exit(125);

        r = child_drop_privileges(&s->acct);
        if (r < 0)
                fail_late(r, "dropping privileges");
        /* set after the uid change, which clears it */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != supervisor)
                _exit(125);
        /* as the account: a directory it could not reach itself is not entered */
        if (s->cfg->cwd) {
                if (chdir(s->cfg->cwd) < 0 && chdir(s->acct.home) < 0 && chdir("/") < 0)
                        fail_late(negative_errno(), "chdir");
        } else if (access(".", X_OK) < 0 && chdir(s->acct.home) < 0 && chdir("/") < 0)
                fail_late(negative_errno(), "chdir");
        r = child_env(&s->acct, s->cfg->term, &env);
        if (r >= 0 && s->cfg->env)
                r = child_env_merge(&env, s->cfg->env);
        if (r < 0)
                fail_late(r, "environment");
        /* only the terminal is inherited */
        (void)close_range(3, ~0U, 0);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);

        err = child_exec_search(s->cfg->argv, env, s->acct.uid == 0 ? PATH_ROOT : PATH_USER);
        /* EPERM: the policy denied it, and the supervisor has said so */
        if (err != EPERM)
                dprintf(STDERR_FILENO, "vigil: %s: %s\n", s->cfg->argv[0], strerror(err));
        _exit(err == ENOENT ? 127 : 126);
}
