/* --no-pty: stdin, stdout and stderr through three pipes, so that stdout
 * and stderr stay apart (ssh host cmd, scp, CI jobs) and both still pass
 * through the output pipeline. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sup.h"

int pipes_setup(session *s)
{
        relay *io = &s->io;
        int in[2], out[2], err[2];

        if (pipe2(in, O_CLOEXEC) < 0)
                return negative_errno();
        io->child_end[0] = in[0];
        io->to_child.fd = in[1];
        io->to_child.owned = true;
        if (pipe2(out, O_CLOEXEC) < 0)
                return negative_errno();
        io->from_child[0] = out[0];
        io->child_end[1] = out[1];
        if (pipe2(err, O_CLOEXEC) < 0)
                return negative_errno();
        io->from_child[1] = err[0];
        io->child_end[2] = err[1];
        if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(err[0], F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();
        return 0;
}

int pipes_child_setup(session *s)
{
        for (int i = 0; i < 3; i++)
                if (dup2(s->io.child_end[i], i) < 0)
                        return negative_errno();
        return 0;
}

int pipes_start(session *s)
{
        int r;

        r = loop_add(s, &s->io.from_w[0], s->io.from_child[0], relay_session_readable, EPOLLIN);
        if (r >= 0)
                r = loop_add(s, &s->io.from_w[1], s->io.from_child[1], relay_session_readable, EPOLLIN);
        return r;
}
