/* vigil watch: follow a live session's output as it is committed. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "commands.h"
#include "replay-common.h"
#include "store-cli.h"
#include "vigil-error.h"

#define POLL_NS (200 * 1000 * 1000)

static const char usage[] =
        "Usage: vigil watch SESSION\n"
        "Show a session's output so far, then follow it as it is recorded (read-only);\n"
        "returns when the session ends.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

int cmd_watch(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        uint8_t id[VIGIL_SESSION_ID_LEN];
        vigil_record_reader *rr = NULL;
        vigil_store *st = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        int c, r, ret = EXIT_FAIL, idle = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        return cli_getopt_error("watch", c, optopt, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("watch", "missing SESSION");
        if (optind + 1 < argc)
                return cli_usage_error("watch", "unexpected argument '%s'", argv[optind + 1]);
        if (cli_store_open(g, "watch", false, &st))
                return EXIT_FAIL;
        if (cli_find_session(st, "watch", argv[optind], id))
                goto out;
        r = vigil_record_reader_new(st, id, &rr);
        if (r < 0) {
                cli_store_error(st, "watch", "read", r);
                goto out;
        }
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        while (!stop) {
                const vigil_record *rec;

                r = vigil_record_reader_next(rr, &rec);
                if (r == VIGIL_E_CORRUPT) {
                        cli_error("watch: session damaged: %s", vigil_record_reader_problem(rr));
                        goto out;
                }
                if (r < 0) {
                        cli_store_error(st, "watch", "read", r);
                        goto out;
                }
                if (r == 0) {
                        struct timespec ts = { 0, POLL_NS };

                        fflush(stdout);
                        /* Every few seconds without news: is anyone still writing? */
                        if (++idle % 15 == 0) {
                                vigil_session_info i = { 0 };

                                if (vigil_session_info_get(st, id, &i) == 0 && !i.sealed && !vigil_session_writer_alive(&i)) {
                                        vigil_session_info_clear(&i);
                                        fflush(stdout);
                                        cli_error("watch: the session's writer is gone; the recording ends here");
                                        goto out;
                                }
                                vigil_session_info_clear(&i);
                        }
                        (void)nanosleep(&ts, NULL);
                        continue;
                }
                idle = 0;
                if (rec->type == VIGIL_REC_END) {
                        char ex[16];

                        vigil_format_exit(rec->end.exit_status, ex);
                        fflush(stdout);
                        fprintf(stderr, "\r\nvigil: watch: session ended (%s, exit %s)\n",
                                rec->end.how == VIGIL_END_EXIT ? "exit" : rec->end.how == VIGIL_END_KILLED ? "killed" : "lost", ex);
                        ret = EXIT_OK;
                        goto out;
                }
                if (rec->type != VIGIL_REC_OUTPUT)
                        continue;
                for (size_t k = 0; k < rec->chunk.n_frames; k++) {
                        const vigil_frame *f = &rec->chunk.frames[k];

                        if (f->kind == VIGIL_FRAME_TEXT || f->kind == VIGIL_FRAME_BINARY)
                                fwrite(f->data, 1, f->len, stdout);
                        else
                                replay_marker(stdout, f);
                }
        }
        ret = EXIT_OK;
out:
        fflush(stdout);
        vigil_record_reader_free(rr);
        vigil_store_close(st);
        return ret;
}
