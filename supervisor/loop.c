#include <errno.h>
#include <sys/epoll.h>

#include "sup.h"

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
        for (int i = s->batch_next; i < s->batch_n; i++)
                if (s->batch[i].data.ptr == w)
                        s->batch[i].data.ptr = NULL;
}

int loop_once(session *s, int timeout_ms)
{
        int n;

        n = epoll_wait(s->epfd, s->batch, (int)ELEMENTSOF(s->batch), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : negative_errno();
        s->batch_n = n;
        for (s->batch_next = 0; s->batch_next < s->batch_n;) {
                struct epoll_event ev = s->batch[s->batch_next++];
                watch *w = ev.data.ptr;

                if (w && w->added)
                        w->fn(s, w, ev.events);
        }
        s->batch_n = s->batch_next = 0;
        return 0;
}
