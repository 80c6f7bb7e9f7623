#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>

#include "sup.h"
#include "util.h"

/* A yield that took longer than this gave the CPU to another task. */
#define POLL_PREEMPTED_NS (20u * 1000)

int loop_add(session *s, watch *w, int fd, watch_fn fn, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = w};

        w->fd = fd;
        w->fn = fn;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return negative_errno();
        w->added = true;
        return 0;
}

int loop_mod(session *s, watch *w, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = w};

        if (!w->added)
                return -ENOENT;
        return RET_NERRNO(epoll_ctl(s->epfd, EPOLL_CTL_MOD, w->fd, &ev));
}

void loop_del(session *s, watch *w)
{
        if (!w->added)
                return;
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
        w->added = false;
        /* The watch may be freed right after: drop it from the batch being
         * dispatched, so that no event is delivered to freed memory. */
        for (int i = 0; i < s->batch_n; i++)
                if (s->batch[i].data.ptr == w)
                        s->batch[i].data.ptr = NULL;
}

void loop_expect(session *s, uint64_t ns)
{
        uint64_t until = now_monotonic_ns() + ns;

        if (until > s->poll_until_ns)
                s->poll_until_ns = until;
}

int loop_once(session *s, int timeout_ms)
{
        int n;

        n = 0;
        if (timeout_ms != 0 && s->poll_until_ns) {
                /* Only while a CPU is idle besides this one: polling on a
                 * busy machine takes a CPU from the work itself. */
                if (cpufree_now(s)) {
                        /* An event is due (loop_expect()): an exec stop
                         * after its exec was let go, a keystroke's echo, the
                         * next exec of a shell whose command ended. On an
                         * idle CPU, sleeping until then costs a wake-up
                         * (~60-100 us on these machines,
                         * ../shared/notes/supervision-facts.md) on the
                         * critical path. Poll for a bounded time instead,
                         * yielding to whatever else wants this CPU (the exec
                         * itself, when it runs here). Measured: most exec
                         * stops come within 50 us of the answer. */
                        uint64_t t = now_monotonic_ns(), before;

                        while ((n = epoll_wait(s->epfd, s->batch, (int)ELEMENTSOF(s->batch), 0)) == 0 &&
                               t < s->poll_until_ns) {
                                before = t;
                                (void)sched_yield();
                                t = now_monotonic_ns();
                                /* Another task had this CPU for a while: the CPUs
                                 * are busy (make -j2), and a task that keeps
                                 * polling gets the CPU back only after the others'
                                 * time slices, while one that sleeps is woken at
                                 * once when its event comes. Sleep. */
                                if (t - before > POLL_PREEMPTED_NS)
                                        break;
                        }
                }
                s->poll_until_ns = 0;
        }
        if (n == 0)
                n = epoll_wait(s->epfd, s->batch, (int)ELEMENTSOF(s->batch), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : negative_errno();
        s->batch_n = n;
        for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < s->batch_n; i++) {
                        struct epoll_event ev = s->batch[i];
                        watch *w = ev.data.ptr;

                        if (!w || w->first != (pass == 0))
                                continue;
                        s->batch[i].data.ptr = NULL;
                        if (w->added)
                                w->fn(s, w, ev.events);
                }
        s->batch_n = 0;
        return 0;
}
