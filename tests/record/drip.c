/* drip [-c CHUNK] [-d MS] [-a AT] [FILE]: write FILE (or stdin) to stdout in
 * pieces of CHUNK bytes (default 1), one write() each, pausing MS
 * milliseconds between them (a slow program printing a secret piece by
 * piece, like `pv -L`). With -a AT: two writes only, split at byte AT, with
 * the pause between them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long number(const char *s)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < 0) {
                fprintf(stderr, "drip: bad number '%s'\n", s);
                exit(2);
        }
        return v;
}

static void put(const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(1, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        perror("drip: write");
                        exit(1);
                }
                p += w;
                n -= (size_t)w;
        }
}

static void pause_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int main(int argc, char **argv)
{
        long chunk = 1, delay = 0, at = -1;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        int c, fd = 0;

        while ((c = getopt(argc, argv, "c:d:a:")) != -1) {
                switch (c) {
                case 'c':
                        chunk = number(optarg);
                        break;
                case 'd':
                        delay = number(optarg);
                        break;
                case 'a':
                        at = number(optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (chunk < 1)
                chunk = 1;
        if (optind < argc && (fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
                perror("drip: open");
                return 1;
        }
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        cap = cap ? cap * 2 : 65536;
                        buf = realloc(buf, cap);
                        if (!buf)
                                return 1;
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        perror("drip: read");
                        return 1;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (at >= 0) {
                size_t a = (size_t)at < len ? (size_t)at : len;

                put(buf, a);
                pause_ms(delay);
                put(buf + a, len - a);
                free(buf);
                return 0;
        }
        for (size_t off = 0; off < len; off += (size_t)chunk) {
                size_t n = len - off < (size_t)chunk ? len - off : (size_t)chunk;

                if (off)
                        pause_ms(delay);
                put(buf + off, n);
        }
        free(buf);
        return 0;
}
