/* approval-tool: the tests' approver, straight on the store (store/approval.h),
 * so that the supervisor's side is tested without the CLI.
 *
 * Usage: approval-tool STORE COMMAND ...
 *   wait [--session S] [--count N] [--timeout SECS]
 *                  wait until N (default 1) requests of session S (any) are
 *                  pending; print their ids, oldest first, one per line
 *   decide ID approve|reject [--subject S] [--email E] [--group G]... [--local L]
 *                  [--via V] [--reason R]
 *   get ID         the request as JSON (without its owner)
 *   list [--all] [--session S]
 *                  one line per request: ID STATE SESSION
 *   reap           reject the requests of supervisors that are gone; print how many
 * Exit: 0 done; 1 failed (message on stderr, with the errno name for
 * -EALREADY and -EPERM: "EALREADY", "EPERM"); 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "vigil-error.h"

static int fail(vigil_store *st, const char *what, int r)
{
        const char *name = r == -EALREADY ? "EALREADY"
                           : r == -EPERM  ? "EPERM"
                           : r == -ENOENT ? "ENOENT"
                                          : "error";

        fprintf(stderr, "approval-tool: %s: %s (%s): %s\n", what, name, vigil_strerror(r),
                st ? vigil_store_errmsg(st) : vigil_store_open_errmsg());
        return 1;
}

static int open_store(const char *dir, bool write, vigil_store **ret)
{
        vigil_store_options o = { .dir = dir, .flags = write ? 0 : VIGIL_STORE_READONLY };
        int r = vigil_store_open(&o, ret);

        return r < 0 ? fail(NULL, "open", r) : 0;
}

typedef struct ids {
        char (*v)[VIGIL_APPROVAL_ID_LEN + 1];
        size_t n;
        const char *session;
        bool lines;
} ids;

static int collect(void *userdata, const vigil_approval *a)
{
        ids *x = userdata;

        if (x->lines) {
                printf("%s %s %s\n", a->id, vigil_approval_state_name(a->state), a->session);
                return 0;
        }
        x->v = realloc(x->v, (x->n + 1) * sizeof(*x->v));
        if (!x->v)
                return -ENOMEM;
        memcpy(x->v[x->n++], a->id, VIGIL_APPROVAL_ID_LEN + 1);
        return 0;
}

static int cmd_wait(vigil_store *st, int argc, char **argv)
{
        const char *session = NULL;
        size_t want = 1;
        double timeout = 30;
        struct timespec t0, t;

        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
                        session = argv[++i];
                else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
                        want = strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
                        timeout = strtod(argv[++i], NULL);
                else
                        return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                ids x = { 0 };
                int r = vigil_approvals_list(st, true, session, collect, &x);

                if (r < 0)
                        return fail(st, "list", r);
                if (x.n >= want) {
                        for (size_t i = 0; i < x.n; i++)
                                printf("%s\n", x.v[i]);
                        free(x.v);
                        return 0;
                }
                free(x.v);
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > timeout) {
                        fprintf(stderr, "approval-tool: wait: fewer than %zu pending after %.0f s\n", want,
                                timeout);
                        return 1;
                }
                usleep(50 * 1000);
        }
}

static int cmd_decide(vigil_store *st, int argc, char **argv)
{
        vigil_approver_id by = { 0 };
        const char *reason = NULL, *groups[16];
        vigil_approval_state to;
        int r;

        if (argc < 2)
                return 2;
        if (strcmp(argv[1], "approve") == 0)
                to = VIGIL_APPROVAL_APPROVED;
        else if (strcmp(argv[1], "reject") == 0)
                to = VIGIL_APPROVAL_REJECTED;
        else
                return 2;
        for (int i = 2; i < argc; i++) {
                if (i + 1 >= argc)
                        return 2;
                if (strcmp(argv[i], "--subject") == 0)
                        by.subject = argv[++i];
                else if (strcmp(argv[i], "--email") == 0)
                        by.email = argv[++i];
                else if (strcmp(argv[i], "--local") == 0)
                        by.local = argv[++i];
                else if (strcmp(argv[i], "--via") == 0)
                        by.via = argv[++i];
                else if (strcmp(argv[i], "--reason") == 0)
                        reason = argv[++i];
                else if (strcmp(argv[i], "--group") == 0 && by.n_groups < 16)
                        groups[by.n_groups++] = argv[++i];
                else
                        return 2;
        }
        if (by.n_groups)
                by.groups = (char **)groups;
        r = vigil_approval_decide(st, argv[0], to, &by, reason);
        return r < 0 ? fail(st, "decide", r) : 0;
}

int main(int argc, char **argv)
{
        vigil_store *st = NULL;
        const char *cmd;
        int r;

        if (argc < 3)
                goto usage;
        cmd = argv[2];
        if (strcmp(cmd, "wait") == 0) {
                /* the session's supervisor may not have created the store yet */
                vigil_store_options o = { .dir = argv[1], .flags = VIGIL_STORE_READONLY };

                for (int i = 0; vigil_store_open(&o, &st) < 0; i++) {
                        if (i == 600)
                                return fail(NULL, "open", -ENOENT);
                        usleep(50 * 1000);
                }
        } else if (open_store(argv[1], strcmp(cmd, "decide") == 0 || strcmp(cmd, "reap") == 0, &st))
                return 1;
        if (strcmp(cmd, "wait") == 0)
                r = cmd_wait(st, argc - 3, argv + 3);
        else if (strcmp(cmd, "decide") == 0)
                r = cmd_decide(st, argc - 3, argv + 3);
        else if (strcmp(cmd, "get") == 0 && argc == 4) {
                vigil_approval *a = NULL;
                char *text = NULL;

                r = vigil_approval_get(st, argv[3], &a);
                if (r >= 0)
                        r = vigil_approval_to_json(a, false, &text);
                if (r >= 0)
                        printf("%s\n", text);
                r = r < 0 ? fail(st, "get", r) : 0;
                free(text);
                vigil_approval_free(a);
        } else if (strcmp(cmd, "list") == 0) {
                ids x = { .lines = true };
                bool all = false;

                r = 0;
                for (int i = 3; i < argc && r == 0; i++) {
                        if (strcmp(argv[i], "--all") == 0)
                                all = true;
                        else if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
                                x.session = argv[++i];
                        else
                                r = 2;
                }
                if (r == 0) {
                        r = vigil_approvals_list(st, !all, x.session, collect, &x);
                        r = r < 0 ? fail(st, "list", r) : 0;
                }
        } else if (strcmp(cmd, "reap") == 0 && argc == 3) {
                unsigned n = 0;

                r = vigil_approvals_reap(st, NULL, &n);
                if (r >= 0)
                        printf("%u\n", n);
                r = r < 0 ? fail(st, "reap", r) : 0;
        } else
                r = 2;
        vigil_store_close(st);
        if (r == 2)
                goto usage;
        return r;
usage:
        fprintf(stderr, "usage: approval-tool STORE wait|decide|get|list|reap ... (see the source)\n");
        return 2;
}
