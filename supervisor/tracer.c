/* ptrace side: the exec event of every allowed exec, the rare stops of a
 * thread that stays seized, and the exits the supervisor sees (its own
 * children, orphans it reaps as the session's subreaper, tracees).
 *
 * waitpid() is never called blocking: a thread waiting for a verdict could
 * deadlock against it. SIGCHLD arrives on the signalfd and everything that
 * is ready is drained with WNOHANG. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/ptrace.h>

#include "display.h"
#include "sup.h"
#include "util.h"

/* A loader run as a command has this many syscalls to map its program. */
#define LDSO_MAX_STEPS 512u

static void task_free(session *s, task *t)
{
        (void)pidmap_remove(&s->tasks, t->tid);
        pending_end(s, t->pe);
        cmd_event_free(t->ev);
        free(t);
}

static void detach(session *s, task *t, int sig)
{
        (void)ptrace(PTRACE_DETACH, t->tid, 0, sig);
        task_free(s, t);
}

static void killed_message(session *s, const exec_input *in, const char *reason)
{
        _cleanup_free_ char *cmd = NULL;

        if (in->argv.n > 0)
                (void)display_cmdline((const char *const *)in->argv.v, in->argv.n, &cmd);
        else
                (void)display_cmdline((const char *const *)&in->path, 1, &cmd);
        relay_message(s, "vigil: killed: %s (%s)", cmd ? cmd : "?", reason);
}

/* The exec did not run what was judged: kill it before its first instruction. */
static void kill_image(session *s, pid_t pid, cmd_event *e, const exec_input *in, const char *reason)
{
        (void)kill(pid, SIGKILL);
        killed_message(s, in, reason);
        if (!e)
                return;
        e->decision = CMD_KILLED;
        if (!e->exec_mono_ns)
                e->exec_mono_ns = now_monotonic_ns();
        e->exited = true;
        e->wait_status = SIGKILL; /* as waitpid reports a SIGKILL death */
        e->exit_mono_ns = e->exec_mono_ns;
        session_event_end(s, e);
}

/* The command's event (allowed, audited, or an approval remembered for the
 * session) is recorded once its exec is reached. */
static void begin_event(session *s, cmd_event *e, char *remembered, bool drained)
{
        if (drained)
                session_event_begin_drained(s, e);
        else
                session_event_begin(s, e);
        if (remembered[0]) {
                /* remember=session: the approval that let it run */
                vigil_approval_outcome o = {.request = remembered, .remembered = true};

                memcpy(e->request, remembered, sizeof(e->request));
                record_approval(s, e, &o);
        }
}

/* The event of an exec reached: an approved hold's, recorded when it was
 * held, or a new one. NULL when out of memory. */
static cmd_event *exec_event(pending *pe, pid_t pid, uint64_t exec_ns)
{
        cmd_event *e;

        if (pe->ev)
                e = TAKE_PTR(pe->ev);
        else {
                e = notify_event_new(&pe->in, &pe->plan, pe->t_us,
                                     pe->remembered[0]                       ? CMD_APPROVED
                                     : pe->plan.action == VIGIL_ACTION_AUDIT ? CMD_AUDIT
                                                                             : CMD_ALLOW);
                if (!e)
                        return NULL;
        }
        e->pid = pid;
        e->exec_mono_ns = exec_ns;
        return e;
}

static void on_exec(session *s, pid_t pid)
{
        unsigned long former = 0;
        const char *reason = NULL;
        cmd_event *e = NULL;
        task *t, *stale;
        pending *pe;
        proc *p;
        char remembered[sizeof(((pending *)NULL)->remembered)];
        uint64_t exec_ns;
        bool record;
        int pidfd = -1, r;

        if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &former) < 0)
                former = (unsigned long)pid;
        t = pidmap_get(&s->tasks, (pid_t)former);
        if ((pid_t)former != pid) {
                /* A non-leader thread exec'd and took the leader's pid; an
                 * entry for the old leader (gone without an exit report) is stale. */
                stale = pidmap_get(&s->tasks, pid);
                if (stale && stale != t)
                        task_free(s, stale);
        }
        if (!t || !t->pe) {
                /* an exec nobody allowed: cannot happen, so fail closed */
                (void)kill(pid, SIGKILL);
                if (t)
                        task_free(s, t);
                return;
        }
        if (t->tid != pid) {
                (void)pidmap_remove(&s->tasks, t->tid);
                t->tid = pid;
                if (pidmap_put(&s->tasks, pid, t) < 0) {
                        (void)kill(pid, SIGKILL);
                        pending_end(s, t->pe);
                        free(t);
                        return;
                }
        }
        pe = t->pe;
        exec_ns = now_monotonic_ns();
        record = !pe->ev || pe->remembered[0];
        memcpy(remembered, pe->remembered, sizeof(remembered));
        /* the pidfd taken at the notification names this process only if
         * the thread that exec'd led it (else it names the old thread) */
        r = verify_exec(&s->win, pid, &pe->plan, (pid_t)former == pid ? pe->in.pidfd : -1, &reason, &pidfd);
        if ((pid_t)former == pid)
                pe->in.pidfd = -1; /* taken over by verify_exec */
        if (r != 0 || pe->plan.ldso) {
                e = exec_event(pe, pid, exec_ns);
                if (!e) {
                        if (pidfd >= 0)
                                (void)close(pidfd);
                        kill_image(s, pid, NULL, &pe->in, "out of memory");
                        task_free(s, t);
                        return;
                }
                if (record)
                        begin_event(s, e, remembered, false);
        }
        if (r != 0) {
                kill_image(s, pid, e, &pe->in, reason);
                task_free(s, t);
                return;
        }
        if (pe->plan.ldso) {
                /* keep it until the loader has mapped its program */
                if (pidfd >= 0)
                        (void)close(pidfd);
                t->state = TASK_LDSO;
                t->ev = e;
                t->ldso_steps = 0;
                t->ldso_nr = -1;
                if (ptrace(PTRACE_SETOPTIONS, pid, 0,
                           PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0 ||
                    ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0) {
                        t->ev = NULL;
                        kill_image(s, pid, e, &pe->in, "cannot follow the loader");
                        task_free(s, t);
                }
                return;
        }
        /* Let it run, then record: the event is built off the exec's
         * critical path. The output is read up to here first, so the event
         * keeps the position before the program's first instruction. */
        relay_drain(s);
        t->pe = NULL;
        detach(s, t, 0);
        e = exec_event(pe, pid, exec_ns);
        pending_end(s, pe);
        if (!e) {
                /* it runs, and cannot be recorded: end the session (fail closed) */
                if (pidfd >= 0)
                        (void)close(pidfd);
                session_fail(s, -ENOMEM, "event");
                return;
        }
        if (record)
                begin_event(s, e, remembered, true);
        p = proc_get_or_add(s, pid, pidfd);
        if (p)
                proc_add_event(s, p, e);
        else
                session_event_end(s, e); /* exit unknown */
}

/* Whether @addr in @pid is mapped from a file, and which. */
static int mapping_at(pid_t pid, unsigned long addr, dev_t *ret_dev, ino_t *ret_ino)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t cap = 0;

        (void)snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (getline(&line, &cap, f) > 0) {
                unsigned long lo, hi, ino;
                unsigned maj, mnr;

                if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, &maj, &mnr, &ino) != 5)
                        continue;
                if (addr >= lo && addr < hi) {
                        *ret_dev = makedev(maj, mnr);
                        *ret_ino = (ino_t)ino;
                        return ino != 0;
                }
        }
        return 0;
}

/* A loader run as a command: at each syscall stop, look at what its mmap()
 * returned. The first file it maps other than itself is the program it
 * runs; it must be the one judged (the path could have been swapped since). */
static void ldso_step(session *s, task *t)
{
        struct ptrace_syscall_info info;
        const exec_plan *p = &t->pe->plan;
        const plan_step *img = &p->steps[p->image], *prog = &p->steps[p->n - 1];
        dev_t dev;
        ino_t ino;

        if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) <= 0)
                goto fail;
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
                t->ldso_nr = (int)info.entry.nr;
        else if (info.op == PTRACE_SYSCALL_INFO_EXIT && t->ldso_nr == __NR_mmap && !info.exit.is_error &&
                 mapping_at(t->tid, (unsigned long)info.exit.rval, &dev, &ino) > 0 &&
                 !(dev == img->dev && ino == img->ino)) {
                proc *pr;
                cmd_event *e = TAKE_PTR(t->ev);

                if (dev != prog->dev || ino != prog->ino) {
                        kill_image(s, t->tid, e, &t->pe->in,
                                   "the loader mapped another program than the one allowed");
                        task_free(s, t);
                        return;
                }
                pr = proc_get_or_add(s, t->tid, -1);
                if (pr)
                        proc_add_event(s, pr, e);
                else
                        session_event_end(s, e);
                detach(s, t, 0);
                return;
        }
        if (++t->ldso_steps > LDSO_MAX_STEPS)
                goto fail;
        if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
                goto fail;
        return;
fail:
        kill_image(s, t->tid, TAKE_PTR(t->ev), &t->pe->in, "the loader did not map its program");
        task_free(s, t);
}

static void on_stop(session *s, pid_t pid, int status)
{
        task *t = pidmap_get(&s->tasks, pid);
        int event = status >> 16, sig = WSTOPSIG(status);

        if (event == PTRACE_EVENT_EXEC) {
                on_exec(s, pid);
                return;
        }
        if (!t) {
                /* not ours any more: let it go on */
                (void)ptrace(PTRACE_DETACH, pid, 0, event ? 0 : sig);
                return;
        }
        if (t->state == TASK_LDSO) {
                if (sig == (SIGTRAP | 0x80))
                        ldso_step(s, t);
                else if (event == PTRACE_EVENT_STOP)
                        (void)ptrace(PTRACE_LISTEN, pid, 0, 0); /* job control stop: stay stopped */
                else
                        (void)ptrace(PTRACE_SYSCALL, pid, 0, sig);
                return;
        }
        /* A stop before any exec event: the execve failed (a successful one
         * stops at the exec event before it can take a signal). Hand the
         * signal back and let go; a group-stop stays stopped after detach. */
        detach(s, t, event == PTRACE_EVENT_STOP ? 0 : sig);
}

static void on_exit_status(session *s, pid_t pid, int status)
{
        task *t = pidmap_remove(&s->tasks, pid);
        proc *p = pidmap_get(&s->procs, pid);

        if (t) {
                /* a loader that ended before mapping a program: its own exit */
                if (t->ev) {
                        t->ev->exited = true;
                        t->ev->wait_status = status;
                        t->ev->exit_mono_ns = now_monotonic_ns();
                        session_event_end(s, TAKE_PTR(t->ev));
                }
                pending_end(s, t->pe);
                free(t);
        }
        if (p)
                proc_exited(s, p, true, status);
        if (pid == s->child) {
                s->child_exited = true;
                s->child_status = status;
                session_end(s, NULL);
        }
}

void tracer_reap(session *s)
{
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);

                if (pid <= 0)
                        return;
                if (WIFSTOPPED(status))
                        on_stop(s, pid, status);
                else if (WIFEXITED(status) || WIFSIGNALED(status))
                        on_exit_status(s, pid, status);
        }
}

void tracer_detach_all(session *s)
{
        size_t pos = 0;
        pid_t tid;
        void *v;

        while (pidmap_next(&s->tasks, &pos, &tid, &v)) {
                task *t = v;

                (void)ptrace(PTRACE_DETACH, tid, 0, 0);
                task_free(s, t);
        }
}
