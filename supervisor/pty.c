/* A fresh pseudo-terminal for the session: its follower becomes the
 * controlling terminal of the session's first process (setsid +
 * TIOCSCTTY), so job control inside works as on a login; the supervisor
 * holds the leader and relays between it and the outer terminal, which it
 * puts in raw mode (relay.c). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "sup.h"

int pty_setup(session *s)
{
        relay *io = &s->io;
        struct winsize ws = {.ws_row = 24, .ws_col = 80};
        struct group gr, *res = NULL;
        char name[128], buf[4096];
        gid_t gid = s->acct.gid;
        int follower;

        io->leader = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (io->leader < 0)
                return negative_errno();
        if (grantpt(io->leader) < 0 || unlockpt(io->leader) < 0 ||
            ptsname_r(io->leader, name, sizeof(name)) != 0)
                return negative_errno();
        follower = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (follower < 0)
                return negative_errno();
        io->child_end[0] = follower;
        /* as login does: the user's terminal, writable by the tty group (write(1)) */
        if (getgrnam_r("tty", &gr, buf, sizeof(buf), &res) == 0 && res)
                gid = res->gr_gid;
        if (fchown(follower, s->acct.uid, gid) < 0 || fchmod(follower, 0620) < 0)
                return negative_errno();
        if (io->tty_fd >= 0) {
                struct termios t;

                /* the session's terminal starts like the user's (erase, intr, ...) */
                if (tcgetattr(io->tty_fd, &t) == 0)
                        (void)tcsetattr(follower, TCSANOW, &t);
                (void)ioctl(io->tty_fd, TIOCGWINSZ, &ws);
        }
        (void)ioctl(io->leader, TIOCSWINSZ, &ws);
        if (fcntl(io->leader, F_SETFL, O_NONBLOCK) < 0)
                return negative_errno();
        /* a second fd for the input direction: epoll keeps one watch per fd */
        io->to_child.fd = fcntl(io->leader, F_DUPFD_CLOEXEC, 3);
        if (io->to_child.fd < 0)
                return negative_errno();
        io->to_child.owned = true;
        return 0;
}

int pty_child_setup(session *s)
{
        int f = s->io.child_end[0];

        if (ioctl(f, TIOCSCTTY, 0) < 0)
                return negative_errno();
        for (int i = 0; i < 3; i++)
                if (dup2(f, i) < 0)
                        return negative_errno();
        return 0;
}

int pty_start(session *s)
{
        return loop_add(s, &s->io.from_w[0], s->io.leader, relay_session_readable, EPOLLIN);
}
