#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "macro.h"
#include "plan.h"
#include "vigil-error.h"

void exec_input_done(exec_input *in)
{
        if (in->pidfd >= 0)
                (void)close(in->pidfd);
        in->pidfd = -1;
        free(in->path);
        in->path = NULL;
        strv_clear(&in->argv);
        strv_clear(&in->envp);
}

void uid_names_done(uid_names *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->e[i].name);
        c->n = c->next = 0;
}

const char *uid_name(uid_names *c, uid_t uid)
{
        struct passwd pw, *res = NULL;
        char buf[4096], num[16];
        const char *name;
        size_t slot;

        for (size_t i = 0; i < c->n; i++)
                if (c->e[i].uid == uid)
                        return c->e[i].name;
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
                name = res->pw_name;
        else {
                (void)snprintf(num, sizeof(num), "%u", (unsigned)uid);
                name = num;
        }
        if (c->n < ELEMENTSOF(c->e))
                slot = c->n++;
        else {
                slot = c->next;
                c->next = (c->next + 1) % ELEMENTSOF(c->e);
                free(c->e[slot].name);
        }
        c->e[slot].uid = uid;
        c->e[slot].name = strdup(name);
        if (!c->e[slot].name) {
                /* keep the table consistent: drop the slot */
                c->e[slot] = c->e[--c->n];
                return NULL;
        }
        return c->e[slot].name;
}

void exec_plan_done(exec_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->steps[i].exe);
                strv_clear(&p->steps[i].argv);
        }
        free(p->reason);
        free(p->runas);
        free(p->cwd);
        memset(p, 0, sizeof(*p));
}

static int step_from_file(plan_step *s, const exec_file *f)
{
        s->dev = f->st.st_dev;
        s->ino = f->st.st_ino;
        if (f->path) {
                s->exe = strdup(f->path);
                if (!s->exe)
                        return -ENOMEM;
        }
        return 0;
}

/* The argv a script's interpreter gets: [interp, arg?, name, argv[1..]]
 * (fs/binfmt_script.c removes argv[0] and pushes these in front). */
static int script_argv(const char *interp, const char *arg, const char *name, const strv *prev, strv *ret)
{
        strv sv = {0};
        int r;

        r = strv_push(&sv, interp);
        if (r >= 0 && arg)
                r = strv_push(&sv, arg);
        if (r >= 0)
                r = strv_push(&sv, name);
        for (size_t i = 1; r >= 0 && i < prev->n; i++)
                r = strv_push(&sv, prev->v[i]);
        if (r < 0) {
                strv_clear(&sv);
                return r;
        }
        *ret = sv;
        return 0;
}

/* Whether the process may execute @f, as the kernel checks it before it
 * looks at the file's format: the mode bits for the filesystem uid and
 * groups (root needs one x bit). 1 yes, 0 no, -1 when the mode cannot tell
 * (an ACL, too many groups). @full adds what costs system calls: a noexec
 * mount and an ACL that could deny; without it a "yes" may still be refused
 * by the kernel, which is safe (the exec then fails on its own). */
static int may_exec(exec_input *in, const exec_file *f, bool full)
{
        tracee_status *st = &in->st;
        mode_t m = f->st.st_mode;
        struct statvfs vfs;
        char path[64];
        bool member;
        int x;

        if (st->fsuid == 0)
                x = (m & (S_IXUSR | S_IXGRP | S_IXOTH)) ? 1 : 0;
        else if (st->fsuid == f->st.st_uid)
                x = (m & S_IXUSR) ? 1 : 0;
        else if (!(m & S_IXGRP) == !(m & S_IXOTH))
                x = (m & S_IXOTH) ? 1 : 0; /* group or other: the same answer */
        else {
                member = st->fsgid == f->st.st_gid;
                if (!member && tracee_complete(in->tid, st) < 0)
                        return -1; /* the kernel decides */
                for (size_t i = 0; i < st->n_groups && !member; i++)
                        member = st->groups[i] == f->st.st_gid;
                if (member)
                        x = (m & S_IXGRP) ? 1 : 0;
                else
                        x = st->groups_overflow ? -1 : (m & S_IXOTH) ? 1 : 0;
        }
        if (x == 1 && !full)
                return 1;
        if (fstatvfs(f->fd, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
                return 0;
        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
        if (getxattr(path, "system.posix_acl_access", NULL, 0) > 0)
                return -1; /* the kernel decides */
        return x;
}

static bool is_elf(const char *buf, size_t len)
{
        return len >= 4 && memcmp(buf, "\177ELF", 4) == 0;
}

/* Fail closed with a reason of vigil's own (not a rule). */
static int plan_refuse(exec_plan *p, const char *fmt, const char *arg)
{
        free(p->reason);
        if (asprintf(&p->reason, fmt, arg ? arg : "") < 0) {
                p->reason = NULL;
                return -ENOMEM;
        }
        p->action = VIGIL_ACTION_DENY;
        return 0;
}

/* The chain of files: the file named, then each interpreter. Fills steps[]
 * and the image; sets p->error for what the kernel would refuse. */
static int plan_chain(const plan_env *env, exec_ctx *ctx, exec_input *in, exec_plan *p,
                      exec_file *ret_image)
{
        exec_file f = {.fd = -1};
        _cleanup_free_ char *name = NULL;
        int r, x;

        r = exec_resolve(ctx, in->dirfd, in->path, in->at_flags, &f);
        if (r == -EXDEV)
                return plan_refuse(p, "cannot tell which file '%s' is in this process's root", in->path);
        if (r < 0) {
                p->error = r;
                return 0;
        }
        x = may_exec(in, &f, false);
        if (x == 0) {
                p->error = -EACCES;
                r = 0;
                goto out;
        }
        r = exec_filename(in->dirfd, in->path, &name);
        if (r < 0)
                goto out;
        p->n = 1;
        r = step_from_file(&p->steps[0], &f);
        if (r >= 0)
                r = in->argv.n > 0
                            ? strv_copy((const char *const *)in->argv.v, in->argv.n, &p->steps[0].argv)
                            : strv_push(&p->steps[0].argv, ""); /* the kernel runs it with argv {""} */
        if (r < 0)
                goto out;

        for (;;) {
                _cleanup_free_ char *interp = NULL, *arg = NULL;
                char hdr[EXEC_HEADER_SIZE];
                plan_step *prev = &p->steps[p->n - 1], *s;
                exec_file nf = {.fd = -1};
                size_t len = 0;

                if (exec_header(ctx->cache, &f, hdr, &len) < 0)
                        break; /* unreadable even by root: the exec check decides */
                r = shebang_parse(hdr, len, &interp, &arg);
                if (r == -ENOEXEC) {
                        p->error = -ENOEXEC;
                        r = 0;
                        goto out;
                }
                if (r < 0)
                        goto out;
                if (r == 0) {
                        if (!is_elf(hdr, len) && !env->binfmt_misc && may_exec(in, &f, true) == 1) {
                                /* no format takes it: the shell runs it itself */
                                p->error = -ENOEXEC;
                                r = 0;
                                goto out;
                        }
                        break;
                }
                if (p->n >= 1 + EXEC_MAX_INTERP) {
                        p->error = -ELOOP;
                        r = 0;
                        goto out;
                }
                r = exec_resolve(ctx, AT_FDCWD, interp, 0, &nf);
                if (r == -EXDEV) {
                        r = plan_refuse(p, "cannot tell which file interpreter '%s' is", interp);
                        goto out;
                }
                if (r < 0) {
                        p->error = r;
                        r = 0;
                        goto out;
                }
                x = may_exec(in, &nf, false);
                if (x == 0) {
                        exec_file_done(&nf);
                        p->error = -EACCES;
                        r = 0;
                        goto out;
                }
                s = &p->steps[p->n++];
                r = step_from_file(s, &nf);
                if (r >= 0)
                        r = script_argv(interp, arg, name, &prev->argv, &s->argv);
                if (r < 0) {
                        exec_file_done(&nf);
                        goto out;
                }
                /* a nested interpreter gets the outer interpreter's name */
                free(name);
                name = TAKE_PTR(interp);
                exec_file_done(&f);
                f = nf;
        }
        p->image = p->n - 1;
        *ret_image = f;
        return 0;
out:
        exec_file_done(&f);
        return r;
}

/* A loader run as a command: PROG is what runs; judge it too. */
static int plan_ldso(exec_ctx *ctx, exec_plan *p)
{
        plan_step *img = &p->steps[p->image], *s;
        exec_file f = {.fd = -1};
        const char *argv0 = NULL, *prog;
        size_t idx;
        strv sv = {0};
        int r;

        if (!img->exe || !exec_path_is_loader(img->exe))
                return 0;
        if (ldso_find_prog(&img->argv, &idx, &argv0) == 0)
                return 0; /* --help, --version: the loader alone */
        prog = img->argv.v[idx];
        if (!strchr(prog, '/'))
                /* ld.so would search its library path for it */
                return plan_refuse(p, "the loader would search its library path for '%s'", prog);
        r = exec_resolve(ctx, AT_FDCWD, prog, 0, &f);
        if (r < 0)
                return plan_refuse(p, "the loader's program '%s' is not a file that can run", prog);
        s = &p->steps[p->n];
        r = step_from_file(s, &f);
        exec_file_done(&f);
        if (r < 0)
                return r;
        p->n++;
        r = strv_push(&sv, argv0 ? argv0 : prog);
        for (size_t i = idx + 1; r >= 0 && i < img->argv.n; i++)
                r = strv_push(&sv, img->argv.v[i]);
        if (r < 0) {
                strv_clear(&sv);
                return r;
        }
        s->argv = sv;
        p->ldso = true;
        return 0;
}

/* The account the new image runs as: the owner of a set-user-ID image,
 * unless the mount is nosuid or the process has no_new_privs. The exec
 * check compares it with the real result. */
static int plan_runas(const plan_env *env, exec_input *in, const exec_file *img, exec_plan *p)
{
        struct statvfs vfs;
        const char *name;

        p->runas_uid = in->st.euid;
        if ((img->st.st_mode & S_ISUID) && tracee_complete(in->tid, &in->st) >= 0 && !in->st.no_new_privs &&
            fstatvfs(img->fd, &vfs) == 0 && !(vfs.f_flag & ST_NOSUID))
                p->runas_uid = img->st.st_uid;
        name = uid_name(env->names, p->runas_uid);
        if (!name)
                return -ENOMEM;
        p->runas = strdup(name);
        return p->runas ? 0 : -ENOMEM;
}

static int action_rank(vigil_action a)
{
        switch (a) {
        case VIGIL_ACTION_ALLOW:
                return 0;
        case VIGIL_ACTION_AUDIT:
                return 1;
        case VIGIL_ACTION_HOLD:
                return 2;
        case VIGIL_ACTION_DENY:
                return 3;
        }
        return 3;
}

static int plan_judge(const plan_env *env, exec_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                plan_step *s = &p->steps[i];
                vigil_request q = {
                        .user = env->user,
                        .groups = env->groups,
                        .n_groups = env->n_groups,
                        .runas = p->runas,
                        .cwd = p->cwd,
                        .exe = s->exe,
                        .argv = (const char *const *)s->argv.v,
                        .argc = s->argv.n,
                };
                int r;

                r = vigil_policy_decide(env->policy, &q, NULL, NULL, &s->d);
                if (r == VIGIL_E_TOO_BIG)
                        return plan_refuse(p, "the command line is longer than the policy accepts%s", NULL);
                if (r < 0)
                        return plan_refuse(p, "the policy could not decide%s", NULL);
                if (i == 0 || action_rank(s->d.action) > action_rank(p->action)) {
                        p->action = s->d.action;
                        p->deciding = i;
                }
        }
        return 0;
}

int plan_build(const plan_env *env, exec_ctx *ctx, exec_input *in, exec_plan *ret)
{
        exec_plan p = {.action = VIGIL_ACTION_DENY};
        exec_file img = {.fd = -1};
        int r;

        if (ctx->cwd) {
                p.cwd = strdup(ctx->cwd);
                if (!p.cwd) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        r = plan_chain(env, ctx, in, &p, &img);
        if (r < 0)
                goto fail;
        if (p.error || p.reason)
                goto done;
        r = plan_runas(env, in, &img, &p);
        if (r >= 0)
                r = plan_ldso(ctx, &p);
        if (r < 0)
                goto fail;
        if (p.reason)
                goto done;
        r = plan_judge(env, &p);
        if (r < 0)
                goto fail;
done:
        if (!p.runas) {
                const char *name = uid_name(env->names, in->st.euid);

                p.runas_uid = in->st.euid;
                p.runas = name ? strdup(name) : NULL;
                if (!p.runas) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        exec_file_done(&img);
        *ret = p;
        return 0;
fail:
        exec_file_done(&img);
        exec_plan_done(&p);
        return r;
}

char *plan_rule(const exec_plan *p)
{
        const vigil_decision *d;
        char *s;

        if (p->reason || p->n == 0)
                return strdup("default");
        d = &p->steps[p->deciding].d;
        if (!d->file)
                return strdup("default");
        if (asprintf(&s, "%s:%u", d->file, d->line) < 0)
                return NULL;
        return s;
}
