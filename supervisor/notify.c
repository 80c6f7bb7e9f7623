/* The notification loop's handler: one execve/execveat waiting in the
 * kernel. Read what it asks for, judge it (plan.c), and answer:
 *   - what the kernel would refuse anyway (nothing there, not executable):
 *     that error, at once, and no event (a PATH search is not a command);
 *   - deny: EPERM, one line on the terminal, an event;
 *   - hold: no answer yet; a request waits for a decision (hold.c), which
 *     ends in notify_allow_held() or a denial;
 *   - allow/audit: PTRACE_SEIZE the thread with only PTRACE_O_TRACEEXEC,
 *     then CONTINUE. The exec event (tracer.c) checks that what runs is what
 *     was judged. That is one extra stop per exec, and none per fork or exit.
 * Nothing here blocks on one notification: an answer is a function call
 * (notify_deny/notify_allow) that hold.c makes later for a held one. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "display.h"
#include "sup.h"
#include "util.h"
#include "vigil-error.h"

/* How long the loop polls for the exec stop of an exec just let go (loop.c). */
#define EXEC_STOP_POLL_NS (200u * 1000)

void pending_free(pending *pe)
{
        if (!pe)
                return;
        cmd_event_free(pe->ev);
        exec_plan_done(&pe->plan);
        exec_input_done(&pe->in);
        free(pe);
}

void pending_end(session *s, pending *pe)
{
        if (!pe)
                return;
        if (pe->ev)
                session_event_end(s, TAKE_PTR(pe->ev));
        pending_free(pe);
}

static int respond(session *s, uint64_t id, int error, bool cont)
{
        memset(s->resp, 0, s->resp_size);
        s->resp->id = id;
        if (cont)
                s->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        else
                s->resp->error = error;
        return RET_NERRNO(ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, s->resp));
}

int notify_respond(session *s, uint64_t id, int error, bool cont)
{
        return respond(s, id, error, cont);
}

static bool id_valid(session *s, uint64_t id)
{
        return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

bool notify_id_valid(session *s, uint64_t id)
{
        return id_valid(s, id);
}

/* The event every command gets, from what was asked for. */
cmd_event *notify_event_new(const exec_input *in, const exec_plan *p, uint64_t t_us, cmd_decision d)
{
        cmd_event *e = calloc(1, sizeof(*e));
        const char *exe = p->n > 0 ? p->steps[0].exe : NULL;

        if (!e)
                return NULL;
        e->time_us = t_us;
        e->pid = in->st.tgid;
        e->ppid = in->st.ppid;
        e->decision = d;
        e->runas = strdup(p->runas ? p->runas : "?");
        e->cwd = strdup(p->cwd ? p->cwd : "?");
        e->exe = exe ? strdup(exe) : NULL;
        e->rule = plan_rule(p);
        if (!e->runas || !e->cwd || (exe && !e->exe) || !e->rule ||
            (in->argv.n > 0 ? strv_copy((const char *const *)in->argv.v, in->argv.n, &e->argv)
                            : strv_push(&e->argv, in->path)) < 0)
                return cmd_event_free(e);
        return e;
}

/* "(FILE:LINE: message)" or "(default)" or "(reason)". */
static void deny_message(session *s, const exec_input *in, const exec_plan *p)
{
        _cleanup_free_ char *cmd = NULL, *rule = NULL;
        const vigil_decision *d = p->n > 0 ? &p->steps[p->deciding].d : NULL;
        const char *msg = NULL;

        if (in->argv.n > 0)
                (void)display_cmdline((const char *const *)in->argv.v, in->argv.n, &cmd);
        else
                (void)display_cmdline((const char *const *)&in->path, 1, &cmd);
        if (p->reason) {
                relay_message(s, "vigil: denied: %s (%s)", cmd ? cmd : "?", p->reason);
                return;
        }
        rule = plan_rule(p);
        if (d)
                msg = d->message;
        relay_message(s, "vigil: denied: %s (%s%s%s)", cmd ? cmd : "?", rule ? rule : "default",
                      msg ? ": " : "", msg ? msg : "");
}

static uint64_t argv_hash(const exec_input *in)
{
        uint64_t h = 1469598103934665603ull;

        for (size_t i = 0; i < in->argv.n; i++)
                for (const unsigned char *c = (const unsigned char *)in->argv.v[i];; c++) {
                        h = (h ^ *c) * 1099511628211ull;
                        if (!*c)
                                break;
                }
        return h;
}

/* The same process asking again for the same file with the same argv
 * right after a denial is the same request: a shell trying each $PATH entry
 * (/bin and /usr/bin are one directory on merged-/usr systems), or a call
 * restarted after a signal. It is denied again, silently. */
bool notify_recently_denied(session *s, const exec_input *in, const exec_plan *p)
{
        dev_t dev = p->n > 0 ? p->steps[0].dev : 0;
        ino_t ino = p->n > 0 ? p->steps[0].ino : 0;

        return s->last_deny.tgid == in->st.tgid && s->last_deny.dev == dev && s->last_deny.ino == ino &&
               s->last_deny.argv_hash == argv_hash(in) && now_monotonic_ns() - s->last_deny.mono_ns < 2000000000ull;
}

void notify_note_denied(session *s, const exec_input *in, const exec_plan *p)
{
        s->last_deny.tgid = in->st.tgid;
        s->last_deny.dev = p->n > 0 ? p->steps[0].dev : 0;
        s->last_deny.ino = p->n > 0 ? p->steps[0].ino : 0;
        s->last_deny.argv_hash = argv_hash(in);
        s->last_deny.mono_ns = now_monotonic_ns();
}

static bool deny_repeated(session *s, const exec_input *in, const exec_plan *p)
{
        bool same = notify_recently_denied(s, in, p);

        notify_note_denied(s, in, p);
        return same;
}

void notify_deny(session *s, uint64_t id, const exec_input *in, const exec_plan *p, uint64_t t_us)
{
        cmd_event *e;
        int r;

        r = respond(s, id, -EPERM, false);
        if (r == -ENOENT)
                /* interrupted before the answer: if it is retried, the retry
                 * is the request, and gets the message and the event */
                return;
        if (deny_repeated(s, in, p))
                return;
        deny_message(s, in, p);
        e = notify_event_new(in, p, t_us, CMD_DENY);
        if (!e) {
                session_fail(s, -ENOMEM, "event");
                return;
        }
        session_event_begin(s, e);
        session_event_end(s, e);
}

/* The working directory for the event, when the decision did not need it
 * (no cwd= rule): read once the process is answered or about to be. Its
 * exec does not change it. Unreadable (the process is gone): "?". */
static void plan_cwd(exec_plan *p, pid_t tid)
{
        if (!p->cwd)
                (void)exec_read_cwd(tid, &p->cwd);
}

/* Fail closed with a reason of vigil's own. */
static void deny_reason(session *s, uint64_t id, const exec_input *in, exec_plan *p, uint64_t t_us,
                        const char *reason)
{
        plan_cwd(p, in->tid);
        free(p->reason);
        p->reason = strdup(reason);
        notify_deny(s, id, in, p, t_us);
}

void notify_deny_reason(session *s, uint64_t id, const exec_input *in, exec_plan *p, uint64_t t_us,
                        const char *reason)
{
        deny_reason(s, id, in, p, t_us, reason);
}

void notify_allow(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us)
{
        notify_allow_held(s, id, in, p, t_us, NULL, NULL);
}

/* An approved command that cannot be let go: it fails as the kernel's own
 * error would, and its event ends (approved, never ran). */
static void held_not_run(session *s, uint64_t id, cmd_event *ev, int error)
{
        (void)respond(s, id, error, false);
        if (ev)
                session_event_end(s, ev);
}

void notify_allow_held(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us, cmd_event *ev,
                       const char *remembered)
{
        task *t = pidmap_get(&s->tasks, in->tid);
        pending *pe;
        int r;

        if (!t) {
                if (ptrace(PTRACE_SEIZE, in->tid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0) {
                        int err = errno;

                        if (ev && err != ESRCH)
                                relay_message(s, "vigil: cannot let the approved command run: it is traced by "
                                                 "another process, so its exec cannot be checked");
                        if (ev || err == ESRCH)
                                held_not_run(s, id, ev, -EPERM);
                        else
                                deny_reason(
                                        s, id, in, p, t_us,
                                        "it is traced by another process, so its exec cannot be checked");
                        return;
                }
                t = calloc(1, sizeof(*t));
                if (!t || pidmap_put(&s->tasks, in->tid, t) < 0) {
                        free(t);
                        (void)ptrace(PTRACE_DETACH, in->tid, 0, 0);
                        if (ev)
                                held_not_run(s, id, ev, -EPERM);
                        else
                                deny_reason(s, id, in, p, t_us, "out of memory");
                        return;
                }
                t->tid = in->tid;
        }
        pe = calloc(1, sizeof(*pe));
        if (!pe) {
                if (ev)
                        held_not_run(s, id, ev, -EPERM);
                else
                        deny_reason(s, id, in, p, t_us, "out of memory");
                return;
        }
        pe->id = id;
        pe->t_us = t_us;
        pe->ev = ev;
        if (remembered)
                (void)snprintf(pe->remembered, sizeof(pe->remembered), "%s", remembered);
        pe->plan = *p;
        memset(p, 0, sizeof(*p));
        /* the event shows what was asked for: keep the argv as passed */
        pe->in = *in;
        memset(in, 0, sizeof(*in));
        in->pidfd = -1;
        pending_end(s, t->pe);
        t->pe = pe;
        t->state = TASK_AWAIT_EXEC;
        r = respond(s, id, 0, true);
        if (r >= 0) {
                /* while the kernel loads the program: off its critical path */
                plan_cwd(&pe->plan, pe->in.tid);
                loop_expect(s, EXEC_STOP_POLL_NS);
        }
        if (r < 0) {
                /* killed while waiting; its exit reaches the tracer */
                pending_end(s, t->pe);
                t->pe = NULL;
                t->state = TASK_IDLE;
        }
}

static void handle(session *s, const struct seccomp_notif *req)
{
        exec_input in = {.tid = (pid_t)req->pid, .dirfd = AT_FDCWD, .pidfd = -1};
        exec_ctx ctx = {.rootfd = -1, .cwdfd = -1};
        exec_plan plan = {0};
        uint64_t t_us = now_realtime_us(), path_addr, argv_addr, envp_addr;
        tracee_window *win = &s->win;
        int r;

        if (req->data.arch != AUDIT_ARCH_X86_64) {
                (void)respond(s, req->id, -ENOSYS, false);
                return;
        }
        switch (req->data.nr) {
        case __NR_execve:
                path_addr = req->data.args[0];
                argv_addr = req->data.args[1];
                envp_addr = req->data.args[2];
                break;
        case __NR_execveat:
                in.dirfd = (int)req->data.args[0];
                path_addr = req->data.args[1];
                argv_addr = req->data.args[2];
                envp_addr = req->data.args[3];
                in.at_flags = (int)req->data.args[4];
                break;
        case __NR_chroot:
        case __NR_pivot_root:
        case __NR_unshare:
        case __NR_setns:
        case __NR_clone:
                /* A process may get another root or mount namespace: from
                 * now on every exec's paths are resolved in its own root
                 * (until then the check is skipped, as nothing can differ).
                 * The call itself goes on; the kernel checks its privileges. */
                s->penv.roots_may_differ = true;
                (void)respond(s, req->id, 0, true);
                return;
        default:
                (void)respond(s, req->id, -ENOSYS, false);
                return;
        }

        r = tracee_read_creds(in.tid, &in.st, &in.pidfd);
        if (r < 0) {
                (void)respond(s, req->id, -EPERM, false); /* gone, or /proc unreadable: fail closed */
                return;
        }
        tracee_window_init(win, in.tid, 2);
        r = tracee_window_string(win, path_addr, PATH_MAX - 1, &in.path);
        if (r < 0) {
                (void)respond(s, req->id,
                              r == VIGIL_E_TOO_BIG ? -ENAMETOOLONG
                              : r == -EFAULT       ? -EFAULT
                                                   : -EPERM,
                              false);
                goto out;
        }
        r = tracee_window_argv(win, argv_addr, VIGIL_SESSION_MAX_ARGS, VIGIL_SESSION_MAX_ARGV_BYTES,
                               &in.argv);
        if (r == -EFAULT) {
                (void)respond(s, req->id, -EFAULT, false);
                goto out;
        }
        /* The cwd only when a rule asks about it; otherwise it is read for
         * the event after the answer (an exec resolves relative paths from
         * the cwd's fd, not from its name). */
        r = r >= 0 ? exec_ctx_open(in.tid, in.st.tgid, s->penv.roots_may_differ, s->penv.policy_cwd, &ctx) : r;
        ctx.cache = &s->exec_cache;
        if (r == VIGIL_E_TOO_BIG || (r >= 0 && (r = plan_build(&s->penv, &ctx, &in, &plan)) < 0)) {
                if (!id_valid(s, req->id))
                        goto out;
                plan.cwd = ctx.cwd ? strdup(ctx.cwd) : NULL;
                deny_reason(s, req->id, &in, &plan, t_us,
                            r == VIGIL_E_TOO_BIG ? "the command line is too long to check"
                                                 : "out of memory");
                goto out;
        }
        if (r < 0) {
                (void)respond(s, req->id, -EPERM, false);
                goto out;
        }
        /* A held command's request shows the environment it would get
         * (what differs from a login's); unreadable, it shows none. */
        if (!plan.error && !plan.reason && plan.action == VIGIL_ACTION_HOLD &&
            tracee_window_argv(win, envp_addr, HOLD_ENV_MAX, HOLD_ENV_MAX_BYTES, &in.envp) < 0)
                strv_clear(&in.envp);
        /* Everything read above is the waiting thread's only if its
         * notification is still pending now (else its pid may be reused). */
        if (!id_valid(s, req->id))
                goto out;
        if (plan.error) {
                (void)respond(s, req->id, plan.error, false);
                goto out;
        }
        if (plan.reason || plan.action == VIGIL_ACTION_DENY) {
                plan_cwd(&plan, in.tid);
                notify_deny(s, req->id, &in, &plan, t_us);
        } else if (plan.action == VIGIL_ACTION_HOLD) {
                plan_cwd(&plan, in.tid);
                notify_hold(s, req->id, &in, &plan, t_us);
        } else
                notify_allow(s, req->id, &in, &plan, t_us);
out:
        exec_plan_done(&plan);
        exec_ctx_done(&ctx);
        exec_input_done(&in);
}

void notify_readable(session *s, watch *w, uint32_t events)
{
        (void)w;
        if (events & EPOLLIN) {
                memset(s->req, 0, s->req_size);
                if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, s->req) < 0) {
                        if (errno != ENOENT && errno != EINTR)
                                session_fail(s, negative_errno(), "seccomp: receive");
                        return;
                }
                handle(s, s->req);
                return;
        }
        if (events & (EPOLLHUP | EPOLLERR)) {
                /* no process with the filter is left */
                loop_del(s, &s->notify_w);
                (void)close(s->listener);
                s->listener = -1;
        }
}
