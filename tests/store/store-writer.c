/* store-writer: writes realistic sessions through the store's writer API,
 * from its own process, so tests can run many writers at once and kill one
 * mid-session (the supervisor will be the real writer).
 *
 * Usage: store-writer --store DIR [options]
 *   --sessions N        sessions, one after the other (default 1)
 *   --commands N        commands per session (default 10)
 *   --output BYTES      output bytes per session (default 64k)
 *   --user U            (default "alice")
 *   --seed S            generator seed (default: pid)
 *   --kind text|base64|raw  what the output looks like (default text)
 *   --file PATH         output is this file's bytes (repeated as needed)
 *   --binary-every K    every K-th command also prints 20 KiB of binary
 *   --binary full|digest, --max-output BYTES, --input: record options
 *   --start-us T --step-us D  synthetic clock: session k starts at T + k*D
 *   --no-end            leave without ending (an orphan once the process is gone)
 *   --hang              flush half-way, print "READY <id>", then wait to be killed
 *   --dump DIR          write DIR/<id>.out with every output byte given to the store
 *   --manifest FILE     append "id user commands out_bytes" per session
 *   --deny-every K      every K-th command is denied
 *   --hold-every K      every K-th command (not denied) is held and decided in
 *                       turn: approved (the next command then runs on it, as
 *                       remember=session), rejected, timeout, withdrawn
 *   --remember-gap G    the command G after an approved one runs on it (default 1)
 *   --exit-status N     the session command's exit status (default 0)
 *   --level L           zstd level
 *   --delay-ms MS       sleep between commands (a slow, live session)
 *   --pace BYTES        output at this many bytes per second of a synthetic
 *                       clock (from --start-us, else now), committed each
 *                       second of it as the supervisor's timer would
 * Exit status: 0, or 1 with one line on stderr naming the failing call. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "vigil-error.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
        /* xorshift64* */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 2685821657736338717ull;
}

static const char *const words[] = {
        "total", "drwxr-xr-x", "-rw-r--r--", "root", "alice", "config", "README.md", "main.c", "Makefile",
        "error:", "warning:", "connected", "to", "database", "server", "listening", "on", "port", "8080",
        "GET", "/api/v1/users", "200", "OK", "404", "Not", "Found", "deploy", "service", "restarted",
        "commit", "merge", "branch", "origin/main", "build", "succeeded", "in", "ms", "tests", "passed",
        "kernel:", "eth0:", "link", "up", "the", "a", "of", "and", "with", "for", "file", "directory",
};

static void gen_text(char *buf, size_t len)
{
        size_t o = 0;

        while (o < len) {
                uint64_t r = rnd();
                const char *w;
                size_t wl;

                if (r % 11 == 0) {
                        char num[24];
                        int n = snprintf(num, sizeof num, "%" PRIu64, rnd() % 100000);

                        w = num;
                        wl = (size_t)n;
                        if (wl > len - o)
                                wl = len - o;
                        memcpy(buf + o, w, wl);
                        o += wl;
                } else {
                        w = words[r % (sizeof words / sizeof words[0])];
                        wl = strlen(w);
                        if (wl > len - o)
                                wl = len - o;
                        memcpy(buf + o, w, wl);
                        o += wl;
                }
                if (o < len)
                        buf[o++] = (r >> 20) % 9 == 0 ? '\n' : ' ';
        }
}

static void gen_base64(char *buf, size_t len)
{
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        for (size_t i = 0; i < len; i++)
                buf[i] = (i + 1) % 77 == 0 ? '\n' : b64[rnd() % 64];
}

static void gen_raw(char *buf, size_t len)
{
        for (size_t i = 0; i < len; i++)
                buf[i] = (char)(rnd() & 0xff);
}

typedef struct opts {
        const char *store, *user, *kind, *file, *dump, *manifest;
        long sessions, commands, binary_every, deny_every, hold_every, remember_gap, level, exit_status, delay_ms;
        uint64_t output, start_us, step_us, pace;
        bool no_end, hang, input;
        vigil_record_opts rec;
} opts;

static char *file_data;
static size_t file_len, file_pos;

static void gen(const opts *o, char *buf, size_t len)
{
        if (file_data) {
                for (size_t i = 0; i < len; i++) {
                        buf[i] = file_data[file_pos++];
                        if (file_pos == file_len)
                                file_pos = 0;
                }
        } else if (strcmp(o->kind, "base64") == 0)
                gen_base64(buf, len);
        else if (strcmp(o->kind, "raw") == 0)
                gen_raw(buf, len);
        else
                gen_text(buf, len);
}

static int die(const char *what, int r, vigil_store *st)
{
        fprintf(stderr, "store-writer: %s: %s (%s)\n", what, vigil_strerror(r), st ? vigil_store_errmsg(st) : "");
        return 1;
}

/* The outcome of a held command (@hold; it is command @c, number @no, hold
 * number @turn) in turn approved, rejected, timeout, withdrawn; or of one that runs on the
 * approval before (remember=session). An approval sets *approved_c and
 * names its request in @req. */
static int decide(vigil_session *s, bool hold, uint32_t no, long c, long turn, uint64_t t, long *approved_c,
                  char req[16])
{
        static char *const groups[] = { "sre", "dba" };
        vigil_approval_outcome ao = { .command_no = no, .decided_us = t ? t + 5 : 0 };
        if (!hold) {
                ao.request = req;
                ao.decision = VIGIL_DEC_APPROVED;
                ao.remembered = true;
                return vigil_session_approval(s, &ao);
        }
        snprintf(req, 16, "q%07ld", c % 10000000);
        ao.request = req;
        switch (turn) {
        case 0:
                ao.decision = VIGIL_DEC_APPROVED;
                ao.by_subject = "bob-sub";
                ao.by_email = "bob@example.com";
                ao.by_groups = (char **)groups;
                ao.by_n_groups = 2;
                ao.by_local = "bob";
                ao.by_via = "device";
                ao.reason = "change 42";
                *approved_c = c;
                break;
        case 1:
                ao.decision = VIGIL_DEC_REJECTED;
                ao.by_local = "dba1";
                ao.by_via = "local";
                ao.reason = "not during the freeze, \"really\"";
                break;
        case 2:
                ao.decision = VIGIL_DEC_TIMEOUT;
                break;
        default:
                ao.decision = VIGIL_DEC_WITHDRAWN;
                ao.reason = "the session ended";
                break;
        }
        return vigil_session_approval(s, &ao);
}

static int run_session(vigil_store *st, const opts *o, long k)
{
        static const char *const groups[] = { "dev", "ops" };
        const char *argv0[] = { "/bin/bash", "-l" };
        vigil_session_meta m = {
                .user = o->user,
                .uid = 1000,
                .subject = "sub-1234",
                .email = "alice@example.com",
                .groups = groups,
                .n_groups = 2,
                .tty = "/dev/pts/7",
                .client = "192.0.2.7 52144",
                .argv = argv0,
                .argc = 2,
                .cols = 80,
                .rows = 24,
        };
        vigil_session *s = NULL;
        char idt[VIGIL_SESSION_ID_STRLEN + 1];
        uint64_t t = 0, per_cmd, written = 0, commit_t;
        FILE *dump = NULL;
        char *buf = NULL;
        char req[16] = "";
        long approved_c = -1, n_holds = 0;
        int r, ret = 1;

#define FAIL(...)                                                                                             \
        do {                                                                                                  \
                die(__VA_ARGS__);                                                                             \
                goto fail;                                                                                    \
        } while (0)
        buf = NULL;
        if (o->start_us) {
                t = o->start_us + (uint64_t)k * o->step_us;
                m.start_us = t;
        } else if (o->pace) {
                t = vigil_now_us();
                m.start_us = t;
        }
        commit_t = t;
        r = vigil_session_begin(st, &m, &o->rec, &s);
        if (r < 0)
                FAIL("vigil_session_begin", r, st);
        vigil_session_id_format(vigil_session_id(s), idt);
        if (o->dump) {
                char path[4096];

                snprintf(path, sizeof path, "%s/%s.out", o->dump, idt);
                dump = fopen(path, "we");
                if (!dump)
                        FAIL("open dump", -errno, NULL);
        }
        per_cmd = o->commands ? o->output / (uint64_t)o->commands : o->output;
        buf = malloc(65536);
        if (!buf)
                FAIL("malloc", -ENOMEM, NULL);
        for (long c = 0; c < (o->commands ? o->commands : 1); c++) {
                char a1[32], cwd[64];
                const char *argv[] = { "ls", "-l", a1 };
                bool deny = o->deny_every && (c + 1) % o->deny_every == 0;
                bool hold = !deny && o->hold_every && (c + 1) % o->hold_every == 0;
                bool remembered = !deny && !hold && approved_c >= 0 && c == approved_c + o->remember_gap;
                vigil_command_info ci = {
                        .pid = 1000 + (int32_t)c,
                        .ppid = 999,
                        .runas = o->user,
                        .cwd = cwd,
                        .exe = "/usr/bin/ls",
                        .argv = argv,
                        .argc = 3,
                        .decision = deny ? VIGIL_DEC_DENY : hold ? VIGIL_DEC_HELD : remembered ? VIGIL_DEC_APPROVED : VIGIL_DEC_ALLOW,
                        .rule = deny ? "/etc/vigil/policy.conf:12" : "default",
                };
                uint32_t no = 0;
                uint64_t left = per_cmd;

                snprintf(a1, sizeof a1, "/srv/dir%ld", c);
                snprintf(cwd, sizeof cwd, "/home/%s", o->user);
                if (t)
                        ci.time_us = t += 1000;
                if (o->commands) {
                        r = vigil_session_command(s, &ci, &no);
                        if (r < 0)
                                FAIL("vigil_session_command", r, st);
                }
                if (o->commands && (hold || remembered)) {
                        r = decide(s, hold, no, c, hold ? n_holds++ % 4 : 0, t, &approved_c, req);
                        if (r < 0)
                                FAIL("vigil_session_approval", r, st);
                        if (hold && approved_c != c)
                                deny = true; /* not approved: it never runs */
                }
                if (o->input) {
                        r = vigil_session_input(s, t ? t += 10 : 0, "ls -l\r", 6);
                        if (r < 0)
                                FAIL("vigil_session_input", r, st);
                }
                while (!deny && left > 0) {
                        size_t n = 1 + rnd() % 8192;

                        if (rnd() % 5 == 0)
                                n = 1 + rnd() % 16; /* echo-sized writes too */
                        if (n > left)
                                n = (size_t)left;
                        gen(o, buf, n);
                        if (t)
                                t += o->pace ? n * 1000000 / o->pace : 100;
                        r = vigil_session_output(s, t, buf, n);
                        if (r < 0)
                                FAIL("vigil_session_output", r, st);
                        if (o->pace && t - commit_t >= 1000000) {
                                r = vigil_session_flush(s, true);
                                if (r < 0)
                                        FAIL("vigil_session_flush", r, st);
                                commit_t = t;
                        }
                        if (dump)
                                fwrite(buf, 1, n, dump);
                        left -= n;
                        written += n;
                        if (o->hang && written >= o->output / 2) {
                                r = vigil_session_flush(s, true);
                                if (r < 0)
                                        FAIL("vigil_session_flush", r, st);
                                if (dump)
                                        fflush(dump);
                                printf("READY %s\n", idt);
                                fflush(stdout);
                                for (;;)
                                        pause();
                        }
                }
                if (o->binary_every && (c + 1) % o->binary_every == 0) {
                        gen_raw(buf, 20480);
                        r = vigil_session_output(s, t ? t += 100 : 0, buf, 20480);
                        if (r < 0)
                                FAIL("vigil_session_output", r, st);
                        if (dump)
                                fwrite(buf, 1, 20480, dump);
                }
                if (c % 50 == 7) {
                        r = vigil_session_resize(s, t ? t += 10 : 0, (uint16_t)(80 + c % 40), 24);
                        if (r < 0)
                                FAIL("vigil_session_resize", r, st);
                }
                if (c % 10 == 3) {
                        r = vigil_session_masked(s, c % 20 == 3 ? "credit-card" : "aws-access-key", 1);
                        if (r < 0)
                                FAIL("vigil_session_masked", r, st);
                }
                if (o->commands && !deny) {
                        r = vigil_session_command_exit(s, no, t ? t += 500 : 0, (int)(c % 3) << 8, -1);
                        if (r < 0)
                                FAIL("vigil_session_command_exit", r, st);
                }
                r = vigil_session_flush(s, false);
                if (r < 0)
                        FAIL("vigil_session_flush", r, st);
                if (o->delay_ms) {
                        struct timespec ts = { o->delay_ms / 1000, (o->delay_ms % 1000) * 1000000L };

                        (void)nanosleep(&ts, NULL);
                        /* what the supervisor's timer would do */
                        r = vigil_session_flush(s, false);
                        if (r < 0)
                                FAIL("vigil_session_flush", r, st);
                }
        }
        if (!o->no_end) {
                r = vigil_session_end(s, t ? t += 1000 : 0, (int)(o->exit_status << 8), VIGIL_END_EXIT);
                if (r < 0)
                        FAIL("vigil_session_end", r, st);
        } else {
                r = vigil_session_flush(s, true);
                if (r < 0)
                        FAIL("vigil_session_flush", r, st);
        }
        if (o->manifest) {
                FILE *f = fopen(o->manifest, "ae");

                if (f) {
                        fprintf(f, "%s %s %ld %" PRIu64 "\n", idt, o->user, o->commands, written);
                        fclose(f);
                }
        }
        ret = 0;
fail:
        vigil_session_free(s);
        free(buf);
        if (dump)
                fclose(dump);
        return ret;
#undef FAIL
}

static uint64_t num(const char *s)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s) {
                fprintf(stderr, "store-writer: bad number '%s'\n", s);
                exit(2);
        }
        switch (*end) {
        case 'k':
                v *= 1024;
                break;
        case 'M':
                v *= 1024 * 1024;
                break;
        default:
                break;
        }
        return v;
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "store", required_argument, NULL, 's' },    { "sessions", required_argument, NULL, 'n' },
                { "commands", required_argument, NULL, 'c' }, { "output", required_argument, NULL, 'o' },
                { "user", required_argument, NULL, 'u' },     { "seed", required_argument, NULL, 'S' },
                { "kind", required_argument, NULL, 'k' },     { "file", required_argument, NULL, 'f' },
                { "binary-every", required_argument, NULL, 'b' }, { "binary", required_argument, NULL, 'B' },
                { "max-output", required_argument, NULL, 'm' }, { "input", no_argument, NULL, 'i' },
                { "start-us", required_argument, NULL, 'T' }, { "step-us", required_argument, NULL, 'D' },
                { "no-end", no_argument, NULL, 'E' },        { "hang", no_argument, NULL, 'H' },
                { "dump", required_argument, NULL, 'd' },     { "manifest", required_argument, NULL, 'M' },
                { "deny-every", required_argument, NULL, 'x' }, { "exit-status", required_argument, NULL, 'e' },
                { "level", required_argument, NULL, 'L' },    { "delay-ms", required_argument, NULL, 'y' },
                { "pace", required_argument, NULL, 'P' },  { "hold-every", required_argument, NULL, 'h' },
                { "remember-gap", required_argument, NULL, 'g' },
                {},
        };
        opts o = {
                .user = "alice",
                .kind = "text",
                .sessions = 1,
                .commands = 10,
                .output = 65536,
                .remember_gap = 1,
                .rec = { .output = true },
        };
        vigil_store_options so = { 0 };
        vigil_store *st = NULL;
        int c, r;

        rng_state = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 's': o.store = optarg; break;
                case 'n': o.sessions = (long)num(optarg); break;
                case 'c': o.commands = (long)num(optarg); break;
                case 'o': o.output = num(optarg); break;
                case 'u': o.user = optarg; break;
                case 'S': rng_state = num(optarg) * 0x9e3779b97f4a7c15ull | 1; break;
                case 'k': o.kind = optarg; break;
                case 'f': o.file = optarg; break;
                case 'b': o.binary_every = (long)num(optarg); break;
                case 'B': o.rec.binary = strcmp(optarg, "full") == 0 ? VIGIL_RECORD_BINARY_FULL : VIGIL_RECORD_BINARY_DIGEST; break;
                case 'm': o.rec.max_output = num(optarg); break;
                case 'i': o.rec.input = true; o.input = true; break;
                case 'T': o.start_us = num(optarg); break;
                case 'D': o.step_us = num(optarg); break;
                case 'E': o.no_end = true; break;
                case 'H': o.hang = true; break;
                case 'd': o.dump = optarg; break;
                case 'M': o.manifest = optarg; break;
                case 'x': o.deny_every = (long)num(optarg); break;
                case 'h': o.hold_every = (long)num(optarg); break;
                case 'g': o.remember_gap = (long)num(optarg); break;
                case 'e': o.exit_status = (long)num(optarg); break;
                case 'L': o.level = (long)num(optarg); break;
                case 'y': o.delay_ms = (long)num(optarg); break;
                case 'P': o.pace = num(optarg); break;
                default: return 2;
                }
        }
        if (!o.store) {
                fprintf(stderr, "store-writer: --store is required\n");
                return 2;
        }
        if (o.file) {
                FILE *f = fopen(o.file, "re");
                struct stat s;

                if (!f || fstat(fileno(f), &s) < 0 || s.st_size == 0)
                        return die("open --file", -errno, NULL);
                file_len = (size_t)s.st_size;
                file_data = malloc(file_len);
                if (!file_data || fread(file_data, 1, file_len, f) != file_len)
                        return die("read --file", -EIO, NULL);
                fclose(f);
        }
        so.dir = o.store;
        so.key_path = getenv("VIGIL_HOST_KEY");
        so.flags = VIGIL_STORE_CREATE;
        so.zstd_level = (int)o.level;
        r = vigil_store_open(&so, &st);
        if (r < 0) {
                fprintf(stderr, "store-writer: open: %s\n", vigil_store_open_errmsg());
                return 1;
        }
        for (long k = 0; k < o.sessions; k++) {
                r = run_session(st, &o, k);
                if (r)
                        break;
        }
        vigil_store_close(st);
        free(file_data);
        return r;
}
