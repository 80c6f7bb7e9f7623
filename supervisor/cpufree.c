/* Whether polling would take a CPU from someone: the loop polls for an
 * event due within microseconds only while a CPU is left for the others
 * (loop.c). /proc/loadavg's fourth field counts the runnable tasks of the
 * whole system, this one included; one pread of an fd kept open (~3 us). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sup.h"

int cpufree_open(session *s)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        s->ncpus = n > 0 ? (unsigned)n : 1;
        s->loadavg_fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
        /* unreadable: never poll (the loop still works, only slower) */
        return 0;
}

bool cpufree_now(session *s)
{
        char buf[128], *p;
        unsigned long running;
        ssize_t n;

        if (s->ncpus < 2 || s->loadavg_fd < 0)
                return false;
        n = pread(s->loadavg_fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* "0.50 0.60 0.70 3/345 12345": the runnable count before the slash */
        p = strchr(buf, '/');
        if (!p)
                return false;
        while (p > buf && p[-1] >= '0' && p[-1] <= '9')
                p--;
        running = strtoul(p, NULL, 10);
        /* the others (running minus this thread) leave a CPU idle */
        return running >= 1 && running - 1 < s->ncpus;
}
