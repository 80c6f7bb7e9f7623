/* Commands that are running: a pidfd per process tells when it exits, and
 * its exit status comes from the zombie's /proc/PID/stat or, once reaped by
 * its parent, from the pidfd itself (Linux 6.15, PIDFD_INFO_EXIT). The
 * supervisor is not the parent of most of them and does not trace them. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "sup.h"
#include "util.h"


/* Field 52 of /proc/PID/stat, the wait status of a zombie. */
static int stat_exit_code(pid_t pid, int *ret)
{
        char path[64], buf[4096];
        const char *p;
        long v;
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        r = read_small_file(path, buf, sizeof(buf), NULL);
        if (r < 0)
                return r;
        p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
        if (!p)
                return -EINVAL;
        p++;
        /* fields 3..52: skip 49 of them */
        for (int i = 0; i < 50; i++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EINVAL;
                p++;
        }
        v = strtol(p, NULL, 10);
        *ret = (int)v;
        return 0;
}

/* How long the loop polls for the next exec after a command ended (loop.c). */
#define NEXT_EXEC_POLL_NS (300u * 1000)

static void proc_readable(session *s, watch *w, uint32_t events)
{
        proc *p = (proc *)((char *)w - offsetof(proc, w));
        struct pidfd_info_v0 info = {.mask = PIDFD_INFO_EXIT_};
        int st = 0;

        (void)events;
        /* Usually its parent has reaped it already: the pidfd keeps the
         * status (Linux 6.15). Otherwise, while the zombie is not reaped,
         * its stat is its own; whether it was still unreaped after the read
         * is what pidfd_send_signal(0) tells (a reaped pid could already
         * name another process). */
        if (pidfd_get_info(p->pidfd, PIDFD_INFO_EXIT_, &info) >= 0 && (info.mask & PIDFD_INFO_EXIT_)) {
                proc_exited(s, p, true, info.exit_code);
                return;
        }
        if (stat_exit_code(p->pid, &st) >= 0 && pidfd_send_signal_(p->pidfd, 0) >= 0) {
                proc_exited(s, p, true, st);
                return;
        }
        /* reaped between the two looks, on a kernel without PIDFD_INFO_EXIT */
        if (pidfd_get_info(p->pidfd, PIDFD_INFO_EXIT_, &info) >= 0 && (info.mask & PIDFD_INFO_EXIT_)) {
                proc_exited(s, p, true, info.exit_code);
                return;
        }
        proc_exited(s, p, false, 0);
}

proc *proc_get_or_add(session *s, pid_t pid, int pidfd)
{
        proc *p = pidmap_get(&s->procs, pid);
        int r;

        if (p) {
                if (pidfd >= 0)
                        (void)close(pidfd);
                return p;
        }
        p = calloc(1, sizeof(*p));
        if (!p) {
                if (pidfd >= 0)
                        (void)close(pidfd);
                return NULL;
        }
        p->pid = pid;
        p->w.first = true;
        p->pidfd = pidfd >= 0 ? pidfd : pidfd_open_(pid, 0);
        if (p->pidfd < 0 || loop_add(s, &p->w, p->pidfd, proc_readable, EPOLLIN) < 0 ||
            (r = pidmap_put(&s->procs, pid, p)) < 0) {
                loop_del(s, &p->w);
                if (p->pidfd >= 0)
                        (void)close(p->pidfd);
                free(p);
                return NULL;
        }
        return p;
}

/* Open events per process: an exec chain (exec of exec of ...) keeps them
 * all until the process exits; beyond this many the oldest ends early. */
#define PROC_MAX_EVENTS 16u

void proc_add_event(session *s, proc *p, cmd_event *e)
{
        e->next = p->events;
        p->events = e;
        if (++p->n_events > PROC_MAX_EVENTS) {
                cmd_event **pp = &p->events;

                while ((*pp)->next)
                        pp = &(*pp)->next;
                session_event_end(s, *pp); /* exit unknown */
                *pp = NULL;
                p->n_events--;
        }
}

void proc_exited(session *s, proc *p, bool known, int wait_status)
{
        uint64_t now = now_monotonic_ns();
        cmd_event *e, *next;

        /* oldest first, so that events come out in exec order */
        for (cmd_event *prev = NULL, *cur = p->events; cur; cur = next) {
                next = cur->next;
                cur->next = prev;
                prev = cur;
                p->events = cur;
        }
        for (e = p->events; e; e = next) {
                next = e->next;
                e->exited = known;
                e->wait_status = wait_status;
                e->exit_mono_ns = now;
                session_event_end(s, e);
        }
        p->events = NULL;
        loop_del(s, &p->w);
        if (p->pidfd >= 0)
                (void)close(p->pidfd);
        (void)pidmap_remove(&s->procs, p->pid);
        free(p);
        /* A command just ended: its shell's next exec usually follows
         * within 100-200 us (fork, then exec). Waking the supervisor from
         * an idle CPU for that notification cost ~55 us of each exec in a
         * shell loop (bench/supervisor/exec-overhead.sh); polling a little
         * instead keeps it ready. */
        loop_expect(s, NEXT_EXEC_POLL_NS);
}

void procs_finish_all(session *s)
{
        size_t pos = 0;
        pid_t pid;
        void *v;

        while (pidmap_next(&s->procs, &pos, &pid, &v))
                proc_readable(s, &((proc *)v)->w, 0);
}
