/* vigil watch: follow a live session's output as it is committed. Root
 * reads the store; anyone else asks vigild (session.watch), whose backend
 * follows the store with the same code (replay-source.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "replay-common.h"
#include "replay-source.h"
#include "vigil-error.h"

static const char usage[] =
        "Usage: vigil watch SESSION\n"
        "Show a session's output so far, then follow it as it is recorded (read-only);\n"
        "returns when the session ends.\n"
        "Not as root: through vigild, for auditors and responders (vigil.conf).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

/* A stream that ends without saying how (it cannot: the store always does) reads as lost. */
static const char *how_word(vigil_end_how h)
{
        const char *w = vigil_end_how_name(h);

        return w ? w : "lost";
}

/* One item: output to stdout; the end as one line on stderr. */
static void show(const view_item *it)
{
        char ex[16];

        switch (it->kind) {
        case VIEW_OUTPUT:
                fwrite(it->data, 1, it->len, stdout);
                break;
        case VIEW_OMITTED: {
                vigil_frame vf = { .kind = it->omit, .len = it->len };

                memcpy(vf.sha256, it->sha256, sizeof vf.sha256);
                replay_marker(stdout, &vf);
                break;
        }
        case VIEW_END:
                vigil_format_exit(it->exit_status, ex);
                fflush(stdout);
                fprintf(stderr, "\r\nvigil: watch: session ended (%s, exit %s)\n", how_word(it->how), ex);
                break;
        case VIEW_HEADER:
        case VIEW_COMMAND:
        case VIEW_SKIP:
                break;
        }
}

int cmd_watch(int argc, char **argv, const vigil_globals *g)
{
        static const struct option opts[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        replay_source *src = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        int c, r;

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
        if (replay_source_open(g, "watch", argv[optind], SOURCE_FOLLOW, &src))
                return EXIT_FAIL;
        replay_source_set_stop(src, &stop);
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        for (;;) {
                view_item it;

                if (stop) {
                        r = -EINTR;
                        break;
                }
                r = replay_source_next(src, &it);
                if (r == 1) {
                        /* live: what came is shown now */
                        show(&it);
                        fflush(stdout);
                        continue;
                }
                if (r == -EAGAIN) {
                        struct timespec ts = { 0, VIEW_FOLLOW_POLL_MS * 1000000L };

                        fflush(stdout);
                        if (stop)
                                break;
                        (void)nanosleep(&ts, NULL);
                        continue;
                }
                break;
        }
        fflush(stdout);
        if (r < 0 && r != -EINTR && r != -EAGAIN) {
                replay_source_error(src, r);
                replay_source_free(src);
                return EXIT_FAIL;
        }
        replay_source_free(src);
        return EXIT_OK;
}
