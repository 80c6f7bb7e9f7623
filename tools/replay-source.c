/* The sources of replay and watch items (replay-source.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay-source.h"
#include "store-cli.h"
#include "via-vigild.h"
#include "vigil-error.h"

/* Output kept for a player that may jump back, through vigild. */
#define KEEP_MAX (512ull << 20)

typedef struct kept {
        view_item it;
        uint8_t *data; /* OUTPUT: the item's bytes, owned */
} kept;

struct replay_source {
        const char *cmd;
        char *arg;
        unsigned flags;
        int err; /* the last error a source call returned, for replay_source_error() */

        /* the store (root) */
        vigil_store *st;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        view_stream *vs;

        /* vigild */
        bool via;
        cli_call call;
        bool done; /* the final reply came */
        kept *items;
        size_t n, pos;
        bool keep;
};

/* ---- the store ---- */

static int store_stream(replay_source *s)
{
        view_stream_opts o = { .follow = s->flags & SOURCE_FOLLOW };

        s->vs = view_stream_free(s->vs);
        return view_stream_new(s->st, s->id, &o, &s->vs);
}

static int open_store(const vigil_globals *g, replay_source *s)
{
        int r;

        if (cli_store_open(g, s->cmd, false, &s->st))
                return EXIT_FAIL;
        if (cli_find_session(s->st, s->cmd, s->arg, s->id))
                return EXIT_FAIL;
        r = store_stream(s);
        if (r < 0) {
                cli_error("%s: %s", s->cmd, vigil_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}

/* ---- vigild ---- */

static int call_next(replay_source *s, view_item *ret)
{
        const vmsg *m;
        int r;

        if (s->done)
                return s->call.status == VS_OK ? 0 : -EPROTO;
        r = cli_call_next(&s->call, &m);
        if (r == 0) {
                s->done = true;
                return s->call.status == VS_OK ? 0 : -EPROTO;
        }
        if (r < 0)
                return r;
        return view_item_decode(m, ret) == 0 ? 1 : -EBADMSG;
}

static int keep_all(replay_source *s)
{
        uint64_t total = 0;
        view_item it;
        int r;

        while ((r = call_next(s, &it)) == 1) {
                kept *k;

                if (s->n % 1024 == 0) {
                        kept *n = realloc(s->items, (s->n + 1024) * sizeof *n);

                        if (!n)
                                return -ENOMEM;
                        s->items = n;
                }
                k = &s->items[s->n];
                *k = (kept){ .it = it };
                if (it.kind == VIEW_OUTPUT) {
                        total += it.len;
                        if (total > KEEP_MAX)
                                return -EFBIG;
                        k->data = malloc(it.len);
                        if (!k->data)
                                return -ENOMEM;
                        memcpy(k->data, it.data, it.len);
                        k->it.data = k->data;
                }
                s->n++;
        }
        cli_call_done(&s->call);
        return r;
}

static int open_vigild(replay_source *s)
{
        char prefix[33];
        vmsg_builder b = { 0 };
        int r;

        if (cli_session_arg(s->cmd, s->arg, prefix))
                return EXIT_FAIL;
        r = vmsg_builder_init(&b, s->flags & SOURCE_FOLLOW ? VT_SESSION_WATCH : VT_SESSION_REPLAY, 1);
        if (r == 0)
                r = vmsg_add_str(&b, VF_SESSION, prefix);
        if (r < 0) {
                vmsg_builder_done(&b);
                cli_error("%s: %s", s->cmd, vigil_strerror(r));
                return EXIT_FAIL;
        }
        r = cli_call_start(&s->call, s->cmd, &b);
        vmsg_builder_done(&b);
        if (r)
                return r;
        if (s->flags & SOURCE_REWIND) {
                /* Errors after some items come after those items, as they would
                 * when streaming. */
                s->keep = true;
                s->err = keep_all(s);
        }
        return 0;
}

/* ---- the interface ---- */

int replay_source_open(const vigil_globals *g, const char *cmd, const char *arg, unsigned flags,
                       replay_source **ret)
{
        replay_source *s = calloc(1, sizeof *s);
        int r;

        if (!s || !(s->arg = strdup(arg))) {
                free(s);
                cli_error("%s: %s", cmd, vigil_strerror(-ENOMEM));
                return EXIT_FAIL;
        }
        s->cmd = cmd;
        s->flags = flags;
        s->via = cli_via_vigild(g);
        r = s->via ? open_vigild(s) : open_store(g, s);
        if (r) {
                replay_source_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int replay_source_next(replay_source *s, view_item *ret)
{
        int r;

        if (s->keep) {
                if (s->pos < s->n) {
                        *ret = s->items[s->pos++].it;
                        return 1;
                }
                return s->err;
        }
        r = s->via ? call_next(s, ret) : view_stream_next(s->vs, ret);
        if (r < 0 && r != -EAGAIN)
                s->err = r;
        return r;
}

int replay_source_rewind(replay_source *s)
{
        if (s->keep) {
                s->pos = 0;
                return 0;
        }
        if (s->via)
                return -EOPNOTSUPP;
        return store_stream(s);
}

void replay_source_set_stop(replay_source *s, const volatile sig_atomic_t *flag)
{
        s->call.stop = flag;
}

void replay_source_error(replay_source *s, int r)
{
        if (!s || r != s->err) {
                cli_error("%s: %s", s ? s->cmd : "replay", vigil_strerror(r));
                return;
        }
        if (r == -EBADMSG) {
                cli_error("%s: vigild sent an item this vigil cannot read", s->cmd);
                return;
        }
        if (r == -EFBIG) {
                cli_error("%s: more than 512 MiB of output: through vigild, use --instant", s->cmd);
                return;
        }
        if (!s->via) {
                cli_error("%s: %s", s->cmd, view_stream_errmsg(s->vs));
                return;
        }
        if (r == -EPROTO && cli_call_find_error(&s->call, s->arg) == EXIT_FAIL)
                return;
        if (r == -EPROTO || s->call.text[0])
                (void)cli_call_fail(&s->call);
        else
                cli_error("%s: %s", s->cmd, vigil_strerror(r));
}

replay_source *replay_source_free(replay_source *s)
{
        if (!s)
                return NULL;
        view_stream_free(s->vs);
        vigil_store_close(s->st);
        cli_call_done(&s->call);
        for (size_t i = 0; i < s->n; i++)
                free(s->items[i].data);
        free(s->items);
        free(s->arg);
        free(s);
        return NULL;
}
