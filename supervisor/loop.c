#include <errno.h>
#include <sys/epoll.h>

#include "sup.h"

int loop_add(session *s, watch *w, int fd, watch_fn fn, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

        w->fd = fd;
        w->fn = fn;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return negative_errno();
        w->added = true;
        return 0;
}

int loop_mod(session *s, watch *w, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = w };

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
}

int loop_once(session *s, int timeout_ms)
{
        struct epoll_event evs[64];
        int n;

        n = epoll_wait(s->epfd, evs, (int)ELEMENTSOF(evs), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : negative_errno();
        /* A handler may remove other watches: each is checked before it runs. */
        for (int i = 0; i < n; i++) {
                watch *w = evs[i].data.ptr;

                if (w->added)
                        w->fn(s, w, evs[i].events);
        }
        return 0;
}
