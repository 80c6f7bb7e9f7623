/* mkrequest: put pending approval requests into a real store with
 * vigil_approval_create(), as a supervisor holding a command does, then stay
 * alive as their owner until SIGTERM (a request whose owner is gone is
 * rejected as "supervisor lost" by the next reap).
 *
 *   mkrequest STORE SPECFILE
 *
 * SPECFILE: one JSON object per line: "name" (printed back), "session",
 * "user", "argv" (required), and optionally "subject", "email", "groups",
 * "host", "runas", "cwd", "exe", "env", "screen", "rule", "approvers",
 * "remember", "command_no", "expires_in_ms" (default 600000). The store is
 * created when missing (VIGIL_HOST_KEY as everywhere). Prints "NAME ID" per
 * request, then "ready", and waits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "approval.h"

static char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? strdup(s) : NULL;
}

static char **strv(json_t *o, const char *key, size_t *ret_n)
{
        json_t *a = json_object_get(o, key);
        char **v;

        *ret_n = json_array_size(a);
        v = calloc(*ret_n + 1, sizeof *v);
        for (size_t i = 0; v && i < *ret_n; i++)
                v[i] = strdup(json_string_value(json_array_get(a, i)) ?: "");
        return v;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        vigil_store_options o = { .flags = VIGIL_STORE_CREATE, .key_path = getenv("VIGIL_HOST_KEY") };
        struct sigaction sa = { .sa_handler = on_term };
        vigil_store *st = NULL;
        char line[65536];
        FILE *f;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: mkrequest STORE SPECFILE\n");
                return 2;
        }
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
        o.dir = argv[1];
        r = vigil_store_open(&o, &st);
        if (r < 0) {
                fprintf(stderr, "mkrequest: store: %s\n", vigil_store_open_errmsg());
                return 1;
        }
        f = fopen(argv[2], "re");
        if (!f) {
                fprintf(stderr, "mkrequest: %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        while (fgets(line, sizeof line, f)) {
                json_error_t err;
                json_t *j = json_loads(line, 0, &err);
                vigil_approval *a = calloc(1, sizeof *a);
                const char *session = json_string_value(json_object_get(j, "session"));
                json_int_t in_ms = json_integer_value(json_object_get(j, "expires_in_ms"));

                if (!j || !a || !session) {
                        fprintf(stderr, "mkrequest: bad spec line: %s", line);
                        return 1;
                }
                snprintf(a->session, sizeof a->session, "%s", session);
                a->command_no = (uint32_t)json_integer_value(json_object_get(j, "command_no"));
                a->user = str(j, "user");
                a->subject = str(j, "subject");
                a->email = str(j, "email");
                a->groups = strv(j, "groups", &a->n_groups);
                a->host = str(j, "host");
                a->runas = str(j, "runas");
                a->cwd = str(j, "cwd");
                a->exe = str(j, "exe");
                a->argv = strv(j, "argv", &a->argc);
                a->env = strv(j, "env", &a->n_env);
                a->screen = str(j, "screen");
                a->rule = str(j, "rule");
                a->approvers = str(j, "approvers");
                a->remember = json_is_true(json_object_get(j, "remember"));
                a->expires_ms = (int64_t)(vigil_now_us() / 1000) + (in_ms ? in_ms : 600000);
                r = vigil_approval_create(st, a);
                if (r < 0) {
                        fprintf(stderr, "mkrequest: create: %s\n", vigil_store_errmsg(st));
                        return 1;
                }
                printf("%s %s\n", json_string_value(json_object_get(j, "name")) ?: "-", a->id);
                vigil_approval_free(a);
                json_decref(j);
        }
        fclose(f);
        /* LMDB: nothing stays open across the wait but the environment */
        printf("ready\n");
        fflush(stdout);
        while (!stop)
                pause();
        vigil_store_close(st);
        return 0;
}
