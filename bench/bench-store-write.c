/* bench-store-write: the recording thread's work alone. A file is fed to
 * one session through vigil_session_output() in writes of --write bytes
 * (default 4096, what a read of a pseudo-terminal leader returns), with a
 * commit check after each batch of --batch bytes (default 256 KiB, the
 * supervisor's recording queue batch), as fast as the writer takes it; then
 * the session is ended and sealed. Reports the CPU time (user + system)
 * per MB of output, the wall time, and the store's live bytes per MB.
 *
 * Usage: bench-store-write --store DIR --file PATH [--mb N] [--write BYTES]
 *                          [--batch BYTES] [--level L] [--runs N]
 * The store directory must not exist (it is created, and left for
 * inspection). VIGIL_HOST_KEY names the sealing key (created when missing). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "vigil-error.h"

static double cpu_s(void)
{
        struct rusage ru;

        (void)getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, int r, vigil_store *st)
{
        const char *m = st ? vigil_store_errmsg(st) : NULL;

        fprintf(stderr, "bench-store-write: %s: %s\n", what, m && *m ? m : vigil_strerror(r));
        return 1;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "store", required_argument, NULL, 's' }, { "file", required_argument, NULL, 'f' },
                { "mb", required_argument, NULL, 'm' },    { "write", required_argument, NULL, 'w' },
                { "batch", required_argument, NULL, 'b' }, { "level", required_argument, NULL, 'L' },
                { "runs", required_argument, NULL, 'r' },  {},
        };
        const char *dir = NULL, *file = NULL;
        size_t wsize = 4096, batch = 256 * 1024;
        long mb = 100, level = 0, runs = 1;
        uint8_t *data;
        struct stat sb;
        int c, fd;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 's': dir = optarg; break;
                case 'f': file = optarg; break;
                case 'm': mb = strtol(optarg, NULL, 10); break;
                case 'w': wsize = (size_t)strtoul(optarg, NULL, 10); break;
                case 'b': batch = (size_t)strtoul(optarg, NULL, 10); break;
                case 'L': level = strtol(optarg, NULL, 10); break;
                case 'r': runs = strtol(optarg, NULL, 10); break;
                default: return 2;
                }
        }
        if (!dir || !file || mb <= 0 || wsize == 0 || batch == 0 || runs <= 0) {
                fprintf(stderr, "usage: bench-store-write --store DIR --file PATH [--mb N] [--write BYTES] "
                                "[--batch BYTES] [--level L] [--runs N]\n");
                return 2;
        }
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size <= 0)
                return die("open --file", -errno, NULL);
        data = malloc((size_t)sb.st_size);
        if (!data || read(fd, data, (size_t)sb.st_size) != sb.st_size)
                return die("read --file", -EIO, NULL);
        (void)close(fd);

        for (long run = 0; run < runs; run++) {
                vigil_store_options so = { .dir = dir, .zstd_level = (int)level, .flags = VIGIL_STORE_CREATE };
                vigil_record_opts ro = { .output = true, .binary = VIGIL_RECORD_BINARY_DIGEST };
                const char *av[] = { "cat", file };
                vigil_session_meta meta = { .user = "bench", .uid = 1000, .argv = av, .argc = 2,
                                            .cols = 200, .rows = 50 };
                uint64_t total = (uint64_t)mb * 1000 * 1000, done = 0, off = 0;
                size_t since = 0;
                vigil_store *st = NULL;
                vigil_session *s = NULL;
                double c0, w0, c1, w1;
                int r;

                r = vigil_store_open(&so, &st);
                if (r < 0)
                        return die("vigil_store_open", r, st);
                c0 = cpu_s();
                w0 = wall_s();
                r = vigil_session_begin(st, &meta, &ro, &s);
                if (r < 0)
                        return die("vigil_session_begin", r, st);
                while (done < total) {
                        size_t n = wsize;

                        if (n > total - done)
                                n = (size_t)(total - done);
                        if (n > (uint64_t)sb.st_size - off)
                                n = (size_t)((uint64_t)sb.st_size - off);
                        r = vigil_session_output(s, 0, data + off, n);
                        if (r < 0)
                                return die("vigil_session_output", r, st);
                        off = (off + n) % (uint64_t)sb.st_size;
                        done += n;
                        since += n;
                        if (since >= batch) {
                                since = 0;
                                r = vigil_session_flush(s, false);
                                if (r < 0)
                                        return die("vigil_session_flush", r, st);
                        }
                }
                r = vigil_session_end(s, 0, 0, VIGIL_END_EXIT);
                if (r < 0)
                        return die("vigil_session_end", r, st);
                c1 = cpu_s();
                w1 = wall_s();
                printf("run %ld: %.1f MB in writes of %zu: CPU %.2f ms/MB (%.1f MB per CPU second), wall %.2f s\n",
                       run + 1, (double)total / 1e6, wsize, (c1 - c0) * 1000 / ((double)total / 1e6),
                       (double)total / 1e6 / (c1 - c0), w1 - w0);
                vigil_session_free(s);
                vigil_store_close(st);
        }
        free(data);
        return 0;
}
