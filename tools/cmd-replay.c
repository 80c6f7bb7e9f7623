/* vigil replay: play a session's output with its timing. */
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
#include "store-cli.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil replay SESSION [--speed X] [--idle-limit S] [--instant] [--at TIME|--command N]\n"
        "Play a session's output with its timing. Keys: space pauses, q quits,\n"
        "n / p jump to the next / previous command. --instant writes the output at once.\n"
        "--at TIME: an offset from the start (90s, 2m) or an RFC 3339 time; --command N: command N (from 0).\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        (void)sig;
        interrupted = 1;
}

typedef struct player {
        vigil_store *st;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        double speed, idle_limit; /* idle_limit 0 = none */
        bool instant, interactive, paused, quit;
        /* Frames before these points are written at once (fast-forward), or
         * skipped with --instant. */
        uint64_t ff_off, ff_t;
        bool ff_by_time;
        uint64_t prev_t, cur_off;
        bool started;
        uint64_t *cmd_offs; /* exec offsets of commands that ran, ascending */
        size_t n_cmds;
        int jump; /* +1 / -1 requested */
} player;

static int collect_cmd(void *userdata, const vigil_event *e)
{
        player *p = userdata;
        uint64_t *n;

        /* what ran: not denied, nor held and then not approved */
        if (e->decision != VIGIL_DEC_ALLOW && e->decision != VIGIL_DEC_AUDIT && e->decision != VIGIL_DEC_APPROVED &&
            e->decision != VIGIL_DEC_KILLED)
                return 0;
        n = realloc(p->cmd_offs, (p->n_cmds + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->cmd_offs = n;
        n[p->n_cmds++] = e->exec_off;
        return 0;
}

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

static bool before_start(const player *p, const vigil_frame *f)
{
        if (p->ff_by_time)
                return f->t_us < p->ff_t;
        return f->offset + f->len <= p->ff_off;
}

static void emit(player *p, const vigil_frame *f)
{
        size_t skip = 0;

        /* A start point inside a frame: from that byte on. */
        if (!p->ff_by_time && f->offset < p->ff_off && p->instant)
                skip = (size_t)(p->ff_off - f->offset);
        if (f->kind == VIGIL_FRAME_TEXT || f->kind == VIGIL_FRAME_BINARY)
                fwrite(f->data + skip, 1, f->len - skip, stdout);
        else
                replay_marker(stdout, f);
        p->cur_off = f->offset + f->len;
}

/* Play from the start of the session; returns 0, 1 to restart (a jump back),
 * or an error. */
static int play(player *p)
{
        vigil_record_reader *rr = NULL;
        int r = vigil_record_reader_new(p->st, p->id, &rr);

        if (r < 0)
                return r;
        p->started = false;
        p->cur_off = 0;
        while (!p->quit) {
                const vigil_record *rec;

                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        cli_error("replay: session damaged: %s", vigil_record_reader_problem(rr));
                        r = -EBADMSG;
                        break;
                }
                if (r <= 0)
                        break;
                if (rec->type != VIGIL_REC_OUTPUT)
                        continue;
                for (size_t i = 0; i < rec->chunk.n_frames && !p->quit; i++) {
                        const vigil_frame *f = &rec->chunk.frames[i];

                        if (before_start(p, f)) {
                                if (!p->instant)
                                        emit(p, f); /* fast-forward: the screen needs it */
                                p->cur_off = f->offset + f->len;
                                p->prev_t = f->t_us;
                                continue;
                        }
                        if (!p->instant && p->started) {
                                uint64_t d = f->t_us > p->prev_t ? f->t_us - p->prev_t : 0;
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
                                if (before_start(p, f)) {
                                        emit(p, f);
                                        p->prev_t = f->t_us;
                                        continue;
                                }
                        } else if (p->jump < 0) {
                                size_t k = 0;

                                /* the command before the one now running */
                                while (k < p->n_cmds && p->cmd_offs[k] < p->cur_off)
                                        k++;
                                p->jump = 0;
                                p->ff_by_time = false;
                                p->ff_off = k >= 2 ? p->cmd_offs[k - 2] : 0;
                                r = 1;
                                goto out;
                        }
                        if (p->quit)
                                break;
                        emit(p, f);
                        p->started = true;
                        p->prev_t = f->t_us;
                }
        }
out:
        fflush(stdout);
        vigil_record_reader_free(rr);
        return r < 0 ? r : (r == 1 ? 1 : 0);
}

typedef struct find_cmd {
        uint32_t want;
        uint64_t off;
        bool found;
} find_cmd;

static int find_cb(void *userdata, const vigil_event *e)
{
        find_cmd *f = userdata;

        if (e->no != f->want)
                return 0;
        f->off = e->exec_off;
        f->found = true;
        return 1;
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
        vigil_session_info info = { 0 };
        vigil_event_filter ef = { .decision = -1 };
        vigil_store *st = NULL;
        struct termios saved;
        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        bool raw = false;
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
        }
        if (cli_store_open(g, "replay", false, &st))
                return EXIT_FAIL;
        p.st = st;
        if (cli_find_session(st, "replay", argv[optind], p.id))
                goto out;
        r = vigil_session_info_get(st, p.id, &info);
        if (r < 0) {
                cli_store_error(st, "replay", "read session", r);
                goto out;
        }
        if (at) {
                uint64_t t;

                if (vigil_parse_duration(at, &t) == 0)
                        p.ff_t = t;
                else if (strlen(at) >= 10 && at[4] == '-' && vigil_parse_time(at, vigil_now_us(), &t) == 0)
                        p.ff_t = t > info.start_us ? t - info.start_us : 0;
                else {
                        ret = cli_usage_error("replay", "--at: invalid time '%s'", at);
                        goto out;
                }
                p.ff_by_time = true;
        }
        ef.session = p.id;
        r = vigil_store_events(st, &ef, collect_cmd, &p);
        if (r < 0) {
                cli_store_error(st, "replay", "read commands", r);
                goto out;
        }
        if (command) {
                find_cmd fc = { .want = (uint32_t)strtoul(command, NULL, 10) };

                r = vigil_store_events(st, &ef, find_cb, &fc);
                if (r < 0) {
                        cli_store_error(st, "replay", "read commands", r);
                        goto out;
                }
                if (!fc.found) {
                        cli_error("replay: session has no command %s (it has %llu, numbered from 0)", command,
                                  (unsigned long long)info.n_commands);
                        goto out;
                }
                p.ff_off = fc.off;
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
        do {
                r = play(&p);
                if (r == 1)
                        fputs("\033[H\033[2J", stdout);
        } while (r == 1 && !p.quit);
        if (raw)
                (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        (void)sigaction(SIGINT, &old_int, NULL);
        (void)sigaction(SIGTERM, &old_term, NULL);
        if (r == -EBADMSG)
                goto out;
        if (r < 0) {
                cli_store_error(st, "replay", "read", r);
                goto out;
        }
        ret = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
out:
        vigil_session_info_clear(&info);
        free(p.cmd_offs);
        vigil_store_close(st);
        return ret;
}
