/* The terminal stream. Every byte the session shows goes through one
 * pipeline:
 *
 *   session (pty leader, or stdout/stderr pipes)
 *     -> relay_output() -> masking -> recording (masking.c, record.c)
 *     -> sink: the outer terminal (a queue per channel, non-blocking)
 *
 * vigil's own lines (denied, killed) enter at the same head, so they are
 * masked and recorded like the rest. Input goes the other way through one
 * queue. Nothing blocks the loop: when a queue toward the outer side grows
 * past HIGH, reading from the session pauses until it drains below LOW. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

#define READ_CHUNK 65536u
#define QUEUE_HIGH (256u * 1024)
#define QUEUE_LOW (64u * 1024)
#define QUEUE_MAX (8u * 1024 * 1024)
/* Typed input (a key, a key's escape sequence), not a paste: its echo is
 * polled for (loop_expect()) that long, instead of a wake-up to show it. */
#define ECHO_EXPECT_MAX 16
#define ECHO_POLL_NS (200u * 1000)

static void outq_writable(session *s, watch *w, uint32_t events);
static void make_raw(session *s);
static void close_child_input(session *s);

static outq *outq_of(watch *w)
{
        return (outq *)((char *)w - offsetof(outq, w));
}

static bool any_queue_high(const session *s)
{
        return s->io.out[CH_OUT].len > QUEUE_HIGH || s->io.out[CH_ERR].len > QUEUE_HIGH;
}

static void outq_arm(session *s, outq *q, bool on)
{
        if (q->armed == on || q->fd < 0)
                return;
        if (!q->w.added) {
                if (!on)
                        return;
                if (loop_add(s, &q->w, q->fd, outq_writable, EPOLLOUT) < 0) {
                        /* not pollable (a regular file): writes do not block */
                        return;
                }
        } else
                (void)loop_mod(s, &q->w, on ? EPOLLOUT : 0);
        q->armed = on;
}

/* Write what the queue holds. @return 0, or -errno when the fd is dead. */
static int outq_flush(session *s, outq *q)
{
        while (q->len > 0) {
                ssize_t n = fd_write(q->fd, q->sock, q->buf + q->head, q->len);

                if (n == -EINTR)
                        continue;
                if (n == -EAGAIN) {
                        outq_arm(s, q, true);
                        if (!q->w.added) {
                                /* not pollable and still EAGAIN: wait for it */
                                struct timespec ts = {0, 1000000};

                                (void)nanosleep(&ts, NULL);
                                continue;
                        }
                        return 0;
                }
                if (n < 0) {
                        q->dead = true;
                        q->len = q->head = 0;
                        outq_arm(s, q, false);
                        return (int)n;
                }
                q->head += (size_t)n;
                q->len -= (size_t)n;
                if (q->len > 0) {
                        /* A short write on a non-blocking pipe, socket or
                         * terminal: it is full. Another write would fail. */
                        outq_arm(s, q, true);
                        if (q->w.added)
                                return 0;
                }
        }
        q->head = 0;
        outq_arm(s, q, false);
        return 0;
}

static int outq_push(session *s, outq *q, const void *buf, size_t n)
{
        if (q->dead || q->fd < 0 || n == 0)
                return 0;
        if (q->head + q->len + n > q->cap) {
                /* what was written goes first: often that makes the room */
                if (q->head > 0) {
                        memmove(q->buf, q->buf + q->head, q->len);
                        q->head = 0;
                }
                if (q->len + n > q->cap) {
                        size_t cap = q->cap ? q->cap : 65536;
                        uint8_t *nb;

                        while (cap < q->len + n)
                                cap *= 2;
                        if (cap > QUEUE_MAX)
                                return -ENOBUFS;
                        nb = realloc(q->buf, cap);
                        if (!nb)
                                return -ENOMEM;
                        q->buf = nb;
                        q->cap = cap;
                }
        }
        memcpy(q->buf + q->head + q->len, buf, n);
        q->len += n;
        /* Waiting for room already: a write now would only fail (EAGAIN);
         * the fd's writable event flushes the queue. */
        if (q->armed)
                return 0;
        return outq_flush(s, q);
}

/* The outer side of the terminal went away. */
static void outer_gone(session *s, unsigned ch)
{
        if (s->io.mode == VIGIL_IO_PIPES && ch < 2 && s->io.from_child[ch] >= 0) {
                /* like a pipe to a closed reader: the writer gets SIGPIPE/EPIPE */
                loop_del(s, &s->io.from_w[ch]);
                (void)close(s->io.from_child[ch]);
                s->io.from_child[ch] = -1;
                s->io.from_eof[ch] = true;
        } else if (s->io.mode == VIGIL_IO_PTY && s->child > 0 && !s->child_exited)
                /* the user's terminal hung up */
                (void)kill(-s->child, SIGHUP);
}

static void outq_writable(session *s, watch *w, uint32_t events)
{
        outq *q = outq_of(w);
        int r;

        (void)events;
        r = outq_flush(s, q);
        if (q == &s->io.to_child) {
                if (q->len < QUEUE_LOW && s->io.in_w.added && !s->io.in_eof)
                        (void)loop_mod(s, &s->io.in_w, EPOLLIN);
                if (s->io.in_eof)
                        close_child_input(s);
                return;
        }
        if (r < 0)
                outer_gone(s, q == &s->io.out[CH_ERR] ? CH_ERR : CH_OUT);
        relay_resume(s);
}

void relay_resume(session *s)
{
        if (s->io.read_paused && !any_queue_high(s) && s->io.out[CH_OUT].len < QUEUE_LOW &&
            s->io.out[CH_ERR].len < QUEUE_LOW && !record_backlogged(s))
                relay_pause_reading(s, false);
}

/* After the outer input ended and everything was passed on: EOF for the
 * command (pipes; a pty gets an EOF character instead). */
static void close_child_input(session *s)
{
        outq *q = &s->io.to_child;

        if (s->io.mode != VIGIL_IO_PIPES || q->fd < 0 || (q->len > 0 && !q->dead))
                return;
        loop_del(s, &q->w);
        q->armed = false;
        (void)close(q->fd);
        q->fd = -1;
}

static int sink_write(session *s, relay_stage *st, unsigned ch, const void *buf, size_t n)
{
        outq *q = &s->io.out[ch == CH_ERR && s->io.mode == VIGIL_IO_PIPES ? CH_ERR : CH_OUT];
        int r;

        (void)st;
        r = outq_push(s, q, buf, n);
        if (r == -ENOBUFS || r == -ENOMEM)
                return r;
        if (r < 0)
                outer_gone(s, q == &s->io.out[CH_ERR] ? CH_ERR : CH_OUT);
        if (any_queue_high(s))
                relay_pause_reading(s, true);
        return 0;
}

int relay_output(session *s, unsigned ch, const void *buf, size_t n)
{
        relay_stage *st = s->io.head;

        return st->write(s, st, ch, buf, n);
}

void relay_message(session *s, const char *fmt, ...)
{
        char line[2048];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(line) - 3)
                n = (int)(sizeof(line) - 3);
        /* the outer terminal is raw: it needs the carriage return */
        if (s->io.mode == VIGIL_IO_PTY)
                line[n++] = '\r';
        line[n++] = '\n';
        s->mask.own_line = true;
        (void)relay_output(s, CH_ERR, line, (size_t)n);
        s->mask.own_line = false;
}

void relay_pause_reading(session *s, bool pause)
{
        relay *io = &s->io;

        if (io->read_paused == pause)
                return;
        io->read_paused = pause;
        if (io->mode == VIGIL_IO_PTY) {
                if (io->from_w[0].added)
                        (void)loop_mod(s, &io->from_w[0], pause ? 0 : EPOLLIN);
        } else
                for (unsigned i = 0; i < 2; i++)
                        if (io->from_w[i].added)
                                (void)loop_mod(s, &io->from_w[i], pause ? 0 : EPOLLIN);
}

void relay_session_readable(session *s, watch *w, uint32_t events)
{
        relay *io = &s->io;
        unsigned ch = w == &io->from_w[1] ? CH_ERR : CH_OUT;
        int fd = io->mode == VIGIL_IO_PTY ? io->leader : io->from_child[ch];
        uint8_t buf[READ_CHUNK];
        ssize_t n;

        (void)events;
        /* a few reads per wake-up, then back to the loop so that
         * notifications are not kept waiting behind a flood of output */
        for (int i = 0; i < 4 && !io->read_paused; i++) {
                n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        /* EOF; EIO on a pty leader once no follower is open */
                        loop_del(s, w);
                        io->from_eof[ch] = true;
                        if (io->mode == VIGIL_IO_PIPES) {
                                (void)close(io->from_child[ch]);
                                io->from_child[ch] = -1;
                        }
                        return;
                }
                if (relay_output(s, ch, buf, (size_t)n) < 0) {
                        session_fail(s, -ENOBUFS, "output");
                        return;
                }
        }
}

void relay_drain(session *s)
{
        relay *io = &s->io;

        /* when paused the queues are full: what is unread stays after this point */
        for (unsigned i = 0; i < (io->mode == VIGIL_IO_PTY ? 1u : 2u) && !io->read_paused; i++)
                if (io->from_w[i].added)
                        relay_session_readable(s, &io->from_w[i], EPOLLIN);
}

/* Input from the outer side toward the session. */
static void input_readable(session *s, watch *w, uint32_t events)
{
        relay *io = &s->io;
        uint8_t buf[READ_CHUNK];
        ssize_t n;

        (void)events;
        (void)w;
        n = fd_read(io->in_fd, io->in_sock, buf, sizeof(buf));
        if (n == -EAGAIN || n == -EINTR)
                return;
        if (n <= 0) {
                io->in_eof = true;
                loop_del(s, &io->in_w);
                if (io->mode == VIGIL_IO_PIPES)
                        close_child_input(s);
                else if (io->in_tty) {
                        /* the user's terminal is gone */
                        if (s->child > 0 && !s->child_exited)
                                (void)kill(-s->child, SIGHUP);
                } else {
                        /* input from a file or pipe ended: an EOF character, as script(1) sends */
                        struct termios t;

                        if (tcgetattr(io->leader, &t) == 0)
                                (void)outq_push(s, &io->to_child, &t.c_cc[VEOF], 1);
                }
                return;
        }
        if (outq_push(s, &io->to_child, buf, (size_t)n) < 0) {
                /* the command closed its input: discard the rest */
                io->to_child.dead = true;
                return;
        }
        /* the echo to expect (its output is read later, in this thread) and
         * the input recording, once the keystroke is on its way */
        masking_input(s, buf, (size_t)n);
        /* a keystroke's echo comes back within tens of microseconds */
        if (io->mode == VIGIL_IO_PTY && n <= ECHO_EXPECT_MAX)
                loop_expect(s, ECHO_POLL_NS);
        if (io->to_child.len > QUEUE_HIGH)
                (void)loop_mod(s, &io->in_w, 0);
}

int relay_setup(session *s)
{
        relay *io = &s->io;
        const vigil_session_config *c = s->cfg;
        int r;

        io->mode = c->io;
        io->leader = -1;
        io->tty_fd = -1;
        io->in_fd = -1;
        for (unsigned i = 0; i < 3; i++)
                io->child_end[i] = -1;
        io->from_child[0] = io->from_child[1] = -1;
        io->out[0].fd = io->out[1].fd = io->to_child.fd = -1;
        io->sink.write = sink_write;
        io->head = &io->sink;

        if (c->in_fd >= 0) {
                r = fd_reopen_nonblock(c->in_fd, O_RDONLY, &io->in_fd, &io->in_owned, &io->in_sock);
                if (r < 0)
                        return r;
                io->in_tty = isatty(c->in_fd);
                if (io->in_tty)
                        io->tty_fd = c->in_fd;
        }
        r = fd_reopen_nonblock(c->out_fd, O_WRONLY, &io->out[CH_OUT].fd, &io->out[CH_OUT].owned,
                               &io->out[CH_OUT].sock);
        if (r < 0)
                return r;
        if (c->io == VIGIL_IO_PIPES) {
                r = fd_reopen_nonblock(c->err_fd, O_WRONLY, &io->out[CH_ERR].fd, &io->out[CH_ERR].owned,
                                       &io->out[CH_ERR].sock);
                if (r < 0)
                        return r;
                return pipes_setup(s);
        }
        return pty_setup(s);
}

int relay_child_setup(session *s)
{
        return s->io.mode == VIGIL_IO_PTY ? pty_child_setup(s) : pipes_child_setup(s);
}

int relay_start(session *s)
{
        relay *io = &s->io;
        int r;

        for (unsigned i = 0; i < 3; i++)
                if (io->child_end[i] >= 0) {
                        (void)close(io->child_end[i]);
                        io->child_end[i] = -1;
                }
        r = io->mode == VIGIL_IO_PTY ? pty_start(s) : pipes_start(s);
        if (r < 0)
                return r;
        if (io->in_fd >= 0) {
                r = loop_add(s, &io->in_w, io->in_fd, input_readable, EPOLLIN);
                if (r == -EPERM) {
                        /* a regular file cannot be polled (it never blocks):
                         * relay_pump() reads it between loop turns */
                        io->in_regular = true;
                        r = 0;
                }
                if (r < 0)
                        return r;
        }
        make_raw(s);
        return 0;
}

bool relay_pump(session *s)
{
        relay *io = &s->io;

        if (!io->in_regular || io->in_eof || io->to_child.len >= QUEUE_LOW)
                return false;
        input_readable(s, &io->in_w, EPOLLIN);
        return !io->in_eof;
}

void relay_winch(session *s)
{
        struct winsize ws;

        if (s->io.mode != VIGIL_IO_PTY || s->io.tty_fd < 0)
                return;
        if (ioctl(s->io.tty_fd, TIOCGWINSZ, &ws) == 0 && ioctl(s->io.leader, TIOCSWINSZ, &ws) == 0)
                record_resize(s, ws.ws_col, ws.ws_row);
}

static void make_raw(session *s)
{
        relay *io = &s->io;
        struct termios raw;
        pid_t fg;

        if (io->tty_fd < 0 || io->mode != VIGIL_IO_PTY)
                return;
        /* Only in the foreground: a background vigil must not take the terminal.
         * A terminal that is not the supervisor's controlling terminal at all
         * (ENOTTY: one vigild handed over) is the session's to use. */
        fg = tcgetpgrp(io->tty_fd);
        if (fg >= 0 ? fg != getpgrp() : errno != ENOTTY)
                return;
        if (!io->raw && tcgetattr(io->tty_fd, &io->saved) < 0)
                return;
        raw = io->saved;
        cfmakeraw(&raw);
        if (tcsetattr(io->tty_fd, TCSADRAIN, &raw) == 0)
                io->raw = true;
}

void relay_after_stop(session *s)
{
        if (s->io.raw) {
                s->io.raw = false;
                (void)tcsetattr(s->io.tty_fd, TCSADRAIN, &s->io.saved);
        }
        make_raw(s);
        relay_winch(s);
}

void relay_restore(session *s)
{
        relay *io = &s->io;

        if (io->raw) {
                (void)tcsetattr(io->tty_fd, TCSADRAIN, &io->saved);
                io->raw = false;
        }
}

bool relay_session_eof(const session *s)
{
        if (s->io.mode == VIGIL_IO_PTY)
                return s->io.from_eof[0];
        return s->io.from_eof[0] && s->io.from_eof[1];
}

bool relay_finish(session *s, uint64_t deadline_ns)
{
        relay *io = &s->io;

        /* Flush what waits for the outer side, blocking up to the deadline
         * (a stuck terminal must not keep the supervisor forever). */
        for (unsigned i = 0; i < 2; i++) {
                outq *q = &io->out[i];

                while (q->len > 0 && !q->dead && now_monotonic_ns() < deadline_ns) {
                        struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};

                        if (outq_flush(s, q) < 0)
                                break;
                        if (q->len > 0)
                                (void)poll(&pfd, 1, 50);
                }
        }
        return io->out[0].len == 0 && io->out[1].len == 0;
}

static void outq_done(session *s, outq *q)
{
        loop_del(s, &q->w);
        if (q->owned && q->fd >= 0)
                (void)close(q->fd);
        q->fd = -1;
        free(q->buf);
        q->buf = NULL;
        q->len = q->cap = q->head = 0;
}

void relay_done(session *s)
{
        relay *io = &s->io;

        relay_restore(s);
        loop_del(s, &io->in_w);
        for (unsigned i = 0; i < 2; i++) {
                loop_del(s, &io->from_w[i]);
                if (io->from_child[i] >= 0)
                        (void)close(io->from_child[i]);
                io->from_child[i] = -1;
                outq_done(s, &io->out[i]);
        }
        outq_done(s, &io->to_child);
        if (io->leader >= 0)
                (void)close(io->leader);
        io->leader = -1;
        for (unsigned i = 0; i < 3; i++)
                if (io->child_end[i] >= 0)
                        (void)close(io->child_end[i]);
        if (io->in_owned && io->in_fd >= 0)
                (void)close(io->in_fd);
        io->in_fd = -1;
}
