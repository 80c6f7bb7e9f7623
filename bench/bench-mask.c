/* bench-mask: masker throughput and keystroke latency, single-threaded.
 *
 *   bench-mask [--mb N] [--chunk BYTES] [--runs R] [--only memcpy|no-rules|all]
 *
 * Builds N MB (default 150) of terminal-like output: base64 lines with a
 * planted secret (one of each built-in detector's kind, in turn) every 500
 * lines, and some coloured lines. Then, each timed R times (best run kept):
 *   memcpy     copying the chunks into an output buffer (the floor);
 *   no-rules   a stream with no mask rules (the stream's own overhead);
 *   all        a stream with every built-in detector, recording and
 *              terminal outputs, as the supervisor will run it.
 * Prints MB/s for each (wall clock and process CPU time), checks that every
 * planted secret was masked, then the latency of a 1-byte feed (a keystroke
 * echo) through the "all" stream: median and 99th percentile in ns.
 * Not a test: numbers depend on the machine and its load. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask.h"

static double clock_s(clockid_t id)
{
        struct timespec t;

        clock_gettime(id, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now(void)
{
        return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a loaded machine the wall clock also counts
 * the time others ran; both are printed. */
static double cpu_now(void)
{
        return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static const char *const planted[] = {
        "card 4111 1111 1111 1111 ok",
        "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ("-----BEGIN RSA PRIVATE "
         "KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
         "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----"),
        "Authorization: Bearer "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "slack xoxb-1234567890-abcdefghij",
        "ssn 123-45-6789",
        "mail john.doe@example.com",
        "IBAN DE89 3704 0044 0532 0130 00",
        "DB_PASSWORD=hunter2",
};
#define N_PLANTED (sizeof(planted) / sizeof(planted[0]))

static char *make_input(size_t size, size_t *ret_len, size_t *ret_planted)
{
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *p = malloc(size + 4096);
        size_t n = 0, line = 0, k = 0;
        uint64_t x = 88172645463325252ull;

        if (!p)
                return NULL;
        while (n < size) {
                line++;
                if (line % 500 == 0) {
                        n += (size_t)sprintf(p + n, "%s\n", planted[k++ % N_PLANTED]);
                        continue;
                }
                if (line % 97 == 0)
                        n += (size_t)sprintf(p + n, "\033[1;32mok\033[0m build step %zu done\n", line);
                for (int i = 0; i < 76; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        p[n++] = b64[x & 63];
                }
                p[n++] = '\n';
        }
        *ret_len = n;
        *ret_planted = k;
        return p;
}

typedef enum { MODE_MEMCPY, MODE_NORULES, MODE_ALL } mode;

static double run(mode m, const vigil_mask_set *set, const char *in, size_t len, size_t chunk,
                  double *ret_cpu)
{
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        double t0, t, c0;

        if (m != MODE_MEMCPY && vigil_mask_stream_new(set, 0, &s) < 0)
                abort();
        rec.data = malloc(1 << 20);
        rec.cap = 1 << 20;
        t0 = now();
        c0 = cpu_now();
        for (size_t off = 0; off < len; off += chunk) {
                size_t n = len - off < chunk ? len - off : chunk;

                if (m == MODE_MEMCPY) {
                        memcpy(rec.data, in + off, n);
                        rec.len = n;
                } else if (vigil_mask_stream_feed(s, in + off, n, &rec, m == MODE_ALL ? &term : NULL) < 0) {
                        abort();
                }
                rec.len = 0;
                term.len = 0;
        }
        if (s && vigil_mask_stream_flush(s, &rec, NULL) < 0)
                abort();
        t = now() - t0;
        *ret_cpu = cpu_now() - c0;
        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(&term);
        vigil_mask_stream_free(s);
        return t;
}

/* Untimed: the whole output at once; no planted secret may be in it. */
static int verify(const vigil_mask_set *set, const char *in, size_t len, size_t chunk, size_t *ret_masks)
{
        static const char *const cores[] = {
                "4111 1111 1111 1111",
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI",
                "MIIBOgIBAAJBAKj34",
                "eyJzdWIi",
                "ghp_abcdef",
                "xoxb-",
                "123-45-6789",
                "john.doe@",
                "DE89 3704",
                "hunter2",
        };
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0};
        size_t masks = 0;
        int bad = 0;

        if (vigil_mask_stream_new(set, 0, &s) < 0)
                abort();
        for (size_t off = 0; off < len; off += chunk)
                if (vigil_mask_stream_feed(s, in + off, len - off < chunk ? len - off : chunk, &rec, NULL) <
                    0)
                        abort();
        if (vigil_mask_stream_flush(s, &rec, NULL) < 0)
                abort();
        for (size_t i = 0; i < sizeof(cores) / sizeof(cores[0]); i++)
                if (memmem(rec.data, rec.len, cores[i], strlen(cores[i]))) {
                        fprintf(stderr, "LEAK: '%s' in the output\n", cores[i]);
                        bad = 1;
                }
        for (char *q = rec.data; (q = memmem(q, rec.len - (size_t)(q - rec.data), "[MASKED:", 8)); q += 8)
                masks++;
        *ret_masks = masks;
        vigil_mask_buf_done(&rec);
        vigil_mask_stream_free(s);
        return bad;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void latency(const vigil_mask_set *set)
{
        enum { N = 20000 };
        static double lat[N];
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        const char *typed = "ls -la /var/log 4111 cat ~/.ssh/config | grep -i host\r";
        size_t tl = strlen(typed);

        if (vigil_mask_stream_new(set, 0, &s) < 0)
                abort();
        /* Some screen content first, as in a session. */
        for (int i = 0; i < 50; i++) {
                const char *line = "drwxr-xr-x  2 root root  4096 Jan  1 00:00 some-directory\r\n";

                (void)vigil_mask_stream_feed(s, line, strlen(line), &rec, &term);
        }
        for (int i = 0; i < N; i++) {
                char c = typed[i % tl];
                double t0;

                vigil_mask_stream_expect_echo(s, &c, 1);
                t0 = now();
                if (vigil_mask_stream_feed(s, &c, 1, &rec, &term) < 0)
                        abort();
                lat[i] = now() - t0;
                if (term.len != 1 && c != '\r' && i > 0) {
                        /* The echo must reach the terminal at once. */
                        fprintf(stderr, "echo of '%c' held back\n", c);
                        exit(1);
                }
                rec.len = 0;
                term.len = 0;
        }
        qsort(lat, N, sizeof(lat[0]), cmp_double);
        printf("keystroke feed (1 byte, all detectors, echo expected): median %.0f ns, p99 %.0f ns\n",
               lat[N / 2] * 1e9, lat[N * 99 / 100] * 1e9);
        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(&term);
        vigil_mask_stream_free(s);
}

int main(int argc, char **argv)
{
        size_t mb = 150, chunk = 65536, runs = 3, len, n_planted, masks = 0;
        vigil_mask_rule rules[32];
        size_t n = 0;
        vigil_mask_set *all = NULL, *none = NULL;
        double best[3] = {1e9, 1e9, 1e9}, cbest[3] = {1e9, 1e9, 1e9};
        int leak, only = -1;
        char *in;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--mb") == 0)
                        mb = strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--chunk") == 0)
                        chunk = strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--runs") == 0)
                        runs = strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--only") == 0) /* for profiling: memcpy, no-rules or all */
                        only = strcmp(argv[i + 1], "memcpy") == 0     ? 0
                               : strcmp(argv[i + 1], "no-rules") == 0 ? 1
                                                                      : 2;
        }
        if (!mb || !chunk || !runs) {
                fprintf(stderr, "usage: bench-mask [--mb N] [--chunk BYTES] [--runs R]\n");
                return 2;
        }
        for (size_t i = 0; vigil_mask_detectors[i]; i++)
                rules[n++] = (vigil_mask_rule){.detector = vigil_mask_detectors[i]};
        if (vigil_mask_set_new(rules, n, &all, NULL) < 0 || vigil_mask_set_new(NULL, 0, &none, NULL) < 0)
                return 1;
        in = make_input(mb << 20, &len, &n_planted);
        if (!in)
                return 1;
        for (size_t r = 0; r < runs; r++)
                for (int m = 0; m < 3; m++) {
                        if (only >= 0 && m != only)
                                continue;
                        double c, t = run((mode)m, m == MODE_ALL ? all : none, in, len, chunk, &c);

                        if (t < best[m])
                                best[m] = t;
                        if (c < cbest[m])
                                cbest[m] = c;
                }
        printf("input %.1f MB, chunk %zu bytes, best of %zu runs\n", (double)len / 1e6, chunk, runs);
        printf("              wall MB/s   cpu MB/s\n");
        printf("memcpy      %10.1f %10.1f\n", (double)len / 1e6 / best[MODE_MEMCPY],
               (double)len / 1e6 / cbest[MODE_MEMCPY]);
        printf("no-rules    %10.1f %10.1f\n", (double)len / 1e6 / best[MODE_NORULES],
               (double)len / 1e6 / cbest[MODE_NORULES]);
        printf("all         %10.1f %10.1f\n", (double)len / 1e6 / best[MODE_ALL],
               (double)len / 1e6 / cbest[MODE_ALL]);
        leak = verify(all, in, len, chunk, &masks);
        printf("planted %zu secrets, %zu masks in the output%s\n", n_planted, masks, leak ? ", LEAKS" : "");
        latency(all);
        free(in);
        vigil_mask_set_free(all);
        vigil_mask_set_free(none);
        return leak;
}
