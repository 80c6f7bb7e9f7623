/* vigil replay: play a session's output with its timing.
 *
 * The player reads the items of vigild/view.h (a header, the commands, the
 * output) from a source: the store itself (root), or vigild's
 * session.replay (anyone else), which runs the same code over the store in
 * its backend. Everything after the source is shared, so both ways show the
 * same output. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "replay-common.h"
#include "replay-source.h"
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil replay SESSION [--speed X] [--idle-limit S] [--instant] [--at TIME|--command N]\n"
        "Play a session's output with its timing. Keys: space pauses, q quits,\n"
        "n / p jump to the next / previous command. --instant writes the output at once.\n"
        "--at TIME: an offset from the start (90s, 2m) or an RFC 3339 time; --command N: command N (from 0).\n"
        "Not as root: through vigild, for auditors (vigil.conf).\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        (void)sig;
        interrupted = 1;
}

/* An output item where the player sees it: its place in the stream. */
typedef struct frame {
        const view_item *it;
        uint64_t offset;
        int64_t rel_ms; /* into the session */
} frame;

typedef struct player {
        replay_source *src;
        uint64_t start_us, n_commands;
        double speed, idle_limit; /* idle_limit 0 = none */
        bool instant, interactive, paused, quit;
        /* Frames before these points are written at once (fast-forward), or
         * skipped with --instant. */
        uint64_t ff_off, ff_t; /* ff_t in µs into the session */
        bool ff_by_time;
        int64_t prev_ms;
        uint64_t cur_off;
        bool started;
        uint64_t *cmd_offs; /* exec offsets of commands that ran, ascending */
        size_t n_cmds;
        bool want_cmd, found_cmd; /* --command N */
        uint32_t cmd_no;
        uint64_t cmd_off;
        int jump; /* +1 / -1 requested */
} player;

static void handle_key(player *p, char k)
{
        switch (k) {
        case ' ':
                p->paused = !p->paused;
                break;
        case 'q':
        case 'Q':
                p->quit = true;
                break;
        case 'n':
                p->jump = 1;
                break;
        case 'p':
                p->jump = -1;
                break;
        default:
                break;
        }
}

/* Wait @us microseconds (or while paused), reading keys. */
static void wait_us(player *p, uint64_t us)
{
        struct timespec start, now;

        fflush(stdout);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                uint64_t el;
                int timeout;

                if (interrupted)
                        p->quit = true;
                if (p->quit || p->jump)
                        return;
                clock_gettime(CLOCK_MONOTONIC, &now);
                el = (uint64_t)(now.tv_sec - start.tv_sec) * 1000000u + (uint64_t)(now.tv_nsec / 1000) -
                     (uint64_t)(start.tv_nsec / 1000);
                if (!p->paused && el >= us)
                        return;
                timeout = p->paused ? 200 : (int)((us - el + 999) / 1000);
                if (!p->interactive) {
                        struct timespec ts = { (time_t)((us - el) / 1000000u), (long)((us - el) % 1000000u) * 1000 };

                        (void)nanosleep(&ts, NULL);
                        continue;
                }
                if (poll(&pfd, 1, timeout) > 0) {
                        char k;

                        if (read(STDIN_FILENO, &k, 1) == 1)
                                handle_key(p, k);
                        else
                                p->interactive = false;
                }
                if (p->paused)
                        clock_gettime(CLOCK_MONOTONIC, &start), us = us > el ? us - el : 0;
        }
}

static bool before_start(const player *p, const frame *f)
{
        if (p->ff_by_time)
                return f->rel_ms < 0 || (uint64_t)f->rel_ms * 1000 < p->ff_t;
        return f->offset + f->it->len <= p->ff_off;
}

static void emit(player *p, const frame *f)
{
        const view_item *it = f->it;
        size_t skip = 0;

        /* A start point inside a frame: from that byte on. */
        if (!p->ff_by_time && f->offset < p->ff_off && p->instant)
                skip = (size_t)(p->ff_off - f->offset);
        if (it->kind == VIEW_OUTPUT)
                fwrite(it->data + skip, 1, it->len - skip, stdout);
        else {
                vigil_frame vf = { .kind = it->omit, .len = it->len };

                memcpy(vf.sha256, it->sha256, sizeof vf.sha256);
                replay_marker(stdout, &vf);
        }
        p->cur_off = f->offset + it->len;
}

/* The first items: the header, then the commands. On return the source
 * stands at the first output item (peeked into *ret, r == 1) or at its end. */
static int prelude(player *p, view_item *ret)
{
        view_item it;
        int r = replay_source_next(p->src, &it);

        if (r == 1 && it.kind != VIEW_HEADER)
                r = -EBADMSG;
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        p->start_us = it.start_us;
        p->n_commands = it.n_commands;
        while ((r = replay_source_next(p->src, &it)) == 1 && it.kind == VIEW_COMMAND) {
                if (p->want_cmd && it.no == p->cmd_no && !p->found_cmd) {
                        p->found_cmd = true;
                        p->cmd_off = it.exec_off;
                }
                /* what ran: not denied, nor held and then not approved */
                if (it.decision != VIGIL_DEC_ALLOW && it.decision != VIGIL_DEC_AUDIT &&
                    it.decision != VIGIL_DEC_APPROVED && it.decision != VIGIL_DEC_KILLED)
                        continue;
                if (p->n_cmds % 256 == 0) {
                        uint64_t *n = realloc(p->cmd_offs, (p->n_cmds + 256) * sizeof *n);

                        if (!n)
                                return -ENOMEM;
                        p->cmd_offs = n;
                }
                p->cmd_offs[p->n_cmds++] = it.exec_off;
        }
        if (r == 1)
                *ret = it;
        return r;
}

/* Play from the first output item (@have: *first is it); returns 0, 1 to
 * restart (a jump back), or an error. */
static int play(player *p, view_item *first, bool have)
{
        view_item it;
        uint64_t off = 0;
        int r = have ? 1 : 0;

        p->started = false;
        p->cur_off = 0;
        if (have)
                it = *first;
        while (!p->quit && r == 1) {
                frame f = { .it = &it, .offset = off };

                if (it.kind == VIEW_SKIP)
                        off += it.len;
                if (it.kind != VIEW_OUTPUT && it.kind != VIEW_OMITTED)
                        goto next;
                f.rel_ms = it.time_ms - (int64_t)(p->start_us / 1000);
                off += it.len;
                if (before_start(p, &f)) {
                        if (!p->instant)
                                emit(p, &f); /* fast-forward: the screen needs it */
                        p->cur_off = f.offset + it.len;
                        p->prev_ms = it.time_ms;
                        goto next;
                }
                if (!p->instant && p->started) {
                        uint64_t d = it.time_ms > p->prev_ms ? (uint64_t)(it.time_ms - p->prev_ms) * 1000 : 0;
                        double w = (double)d / p->speed;

                        if (p->idle_limit > 0 && w > p->idle_limit * 1e6)
                                w = p->idle_limit * 1e6;
                        wait_us(p, (uint64_t)w);
                }
                if (p->jump > 0) {
                        /* the next command after what was shown */
                        size_t k = 0;

                        while (k < p->n_cmds && p->cmd_offs[k] <= p->cur_off)
                                k++;
                        p->jump = 0;
                        p->ff_by_time = false;
                        p->ff_off = k < p->n_cmds ? p->cmd_offs[k] : UINT64_MAX;
                        if (before_start(p, &f)) {
                                emit(p, &f);
                                p->prev_ms = it.time_ms;
                                goto next;
                        }
                } else if (p->jump < 0) {
                        size_t k = 0;

                        /* the command before the one now running */
                        while (k < p->n_cmds && p->cmd_offs[k] < p->cur_off)
                                k++;
                        p->jump = 0;
                        p->ff_by_time = false;
                        p->ff_off = k >= 2 ? p->cmd_offs[k - 2] : 0;
                        fflush(stdout);
                        return 1;
                }
                if (p->quit)
                        break;
                emit(p, &f);
                p->started = true;
                p->prev_ms = it.time_ms;
        next:
                r = replay_source_next(p->src, &it);
        }
        fflush(stdout);
        return r < 0 ? r : 0;
}

/* Back to the first output item for a jump back. */
static int restart(player *p, view_item *first, bool *have)
{
        view_item it;
        int r = replay_source_rewind(p->src);

        while (r == 0 && (r = replay_source_next(p->src, &it)) == 1 &&
               (it.kind == VIEW_HEADER || it.kind == VIEW_COMMAND))
                r = 0;
        *have = r == 1;
        if (r == 1)
                *first = it;
        return r < 0 ? r : 0;
}

int cmd_replay(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "speed", required_argument, NULL, 's' },   { "idle-limit", required_argument, NULL, 'i' },
                { "instant", no_argument, NULL, 'I' },        { "at", required_argument, NULL, 'a' },
                { "command", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
                {},
        };
        player p = { .speed = 1 };
        const char *at = NULL, *command = NULL;
        struct termios saved;
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        view_item first;
        bool raw = false, have;
        int c, r, ret = EXIT_FAIL;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        if (parse_positive(optarg, &p.speed) < 0)
                                return cli_usage_error("replay", "--speed: invalid value '%s'", optarg);
                        break;
                case 'i':
                        if (parse_positive(optarg, &p.idle_limit) < 0)
                                return cli_usage_error("replay", "--idle-limit: invalid value '%s'", optarg);
                        break;
                case 'I':
                        p.instant = true;
                        break;
                case 'a':
                        at = optarg;
                        break;
                case 'c':
                        command = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("replay", c, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("replay", "missing SESSION");
        if (optind + 1 < argc)
                return cli_usage_error("replay", "unexpected argument '%s'", argv[optind + 1]);
        if (at && command)
                return cli_usage_error("replay", "--at and --command exclude each other");
        if (command) {
                char *end;
                unsigned long n;

                errno = 0;
                n = strtoul(command, &end, 10);
                if (errno || end == command || *end || n > UINT32_MAX)
                        return cli_usage_error("replay", "--command: invalid number '%s'", command);
                p.want_cmd = true;
                p.cmd_no = (uint32_t)n;
        }
        /* the whole session at hand when the player may jump back (vigild) */
        r = replay_source_open(g, "replay", argv[optind], !p.instant, &p.src);
        if (r)
                return r;
        r = prelude(&p, &first);
        if (r < 0)
                goto fail;
        have = r == 1;
        if (at) {
                uint64_t t;

                if (vigil_parse_duration(at, &t) == 0)
                        p.ff_t = t;
                else if (strlen(at) >= 10 && at[4] == '-' && vigil_parse_time(at, vigil_now_us(), &t) == 0)
                        p.ff_t = t > p.start_us ? t - p.start_us : 0;
                else {
                        ret = cli_usage_error("replay", "--at: invalid time '%s'", at);
                        goto out;
                }
                p.ff_by_time = true;
        }
        if (command) {
                if (!p.found_cmd) {
                        cli_error("replay: session has no command %s (it has %llu, numbered from 0)", command,
                                  (unsigned long long)p.n_commands);
                        goto out;
                }
                p.ff_off = p.cmd_off;
        }

        if (!p.instant && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;

                t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
                t.c_cc[VMIN] = 1;
                t.c_cc[VTIME] = 0;
                if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
                        raw = true;
                        p.interactive = true;
                }
        }
        (void)sigaction(SIGINT, &sa, &old_int);
        (void)sigaction(SIGTERM, &sa, &old_term);
        for (;;) {
                r = play(&p, &first, have);
                if (r != 1 || p.quit)
                        break;
                fputs("\033[H\033[2J", stdout);
                r = restart(&p, &first, &have);
                if (r < 0)
                        break;
        }
        if (raw)
                (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        (void)sigaction(SIGINT, &old_int, NULL);
        (void)sigaction(SIGTERM, &old_term, NULL);
        if (r < 0)
                goto fail;
        ret = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
        goto out;
fail:
        fflush(stdout);
        replay_source_error(p.src, r);
out:
        free(p.cmd_offs);
        replay_source_free(p.src);
        return ret;
}
