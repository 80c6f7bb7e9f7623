/* The store commands through vigild (via-vigild.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sessctl.h"
#include "store-cli.h"
#include "via-vigild.h"
#include "view.h"
#include "vigil-error.h"

#define CONNECT_MS 5000
#define SEND_MS 5000
/* Waits are cut into slices so that c->stop is noticed. */
#define SLICE_MS 250

bool cli_via_vigild(const vigil_globals *g)
{
        return geteuid() != 0 && !g->store_set;
}

static void set_text(cli_call *c, const char *s)
{
        snprintf(c->text, sizeof c->text, "%s", s);
}

int cli_call_start(cli_call *c, const char *cmd, vmsg_builder *b)
{
        int r;

        *c = (cli_call){ .cmd = cmd, .stop = c->stop };
        r = vigild_connect(secure_getenv("VIGILD_SOCKET"), CONNECT_MS, &c->c);
        if (r == 0)
                r = vigild_send(c->c, b, NULL, 0, SEND_MS);
        if (r < 0) {
                set_text(c, r == VIGIL_E_PARSE || r == VIGIL_E_TOO_BIG ? "the request does not fit vigild's protocol"
                                                                       : vigild_client_strerror(r));
                return cli_call_fail(c);
        }
        return 0;
}

int cli_call_next(cli_call *c, const vmsg **ret)
{
        const char *e;
        int r;

        c->rep = vigild_reply_free(c->rep);
        for (;;) {
                if (c->stop && *c->stop)
                        return -EINTR;
                r = vigild_recv(c->c, SLICE_MS, &c->rep);
                if (r != -ETIMEDOUT)
                        break;
        }
        if (r < 0) {
                set_text(c, r == -ECONNRESET ? "vigild closed the connection" : vigild_client_strerror(r));
                return r;
        }
        if (c->rep->msg.type & VT_ITEM) {
                *ret = &c->rep->msg;
                return 1;
        }
        c->status = vigild_reply_status(c->rep);
        e = vigild_reply_error(c->rep);
        /* "<request>: <why>": the request's name says nothing the command does not */
        {
                const char *name = vtype_name(c->rep->msg.type & VT_MASK);
                size_t n = name ? strlen(name) : 0;

                if (n && strncmp(e, name, n) == 0 && e[n] == ':' && e[n + 1] == ' ')
                        e += n + 2;
        }
        set_text(c, e);
        return 0;
}

bool cli_call_pending(const cli_call *c)
{
        struct pollfd p = { .fd = vigild_conn_fd(c->c), .events = POLLIN };

        return poll(&p, 1, 0) > 0;
}

int cli_call_fail(const cli_call *c)
{
        cli_error("%s: %s", c->cmd, c->text[0] ? c->text : "vigild refused");
        return EXIT_FAIL;
}

void cli_call_done(cli_call *c)
{
        c->rep = vigild_reply_free(c->rep);
        c->c = vigild_conn_free(c->c);
}

int cli_session_arg(const char *cmd, const char *arg, char buf[static 33])
{
        if (sessctl_prefix(arg, buf) < 0)
                return cli_find_error(cmd, arg, -EINVAL);
        return 0;
}

int cli_call_find_error(const cli_call *c, const char *arg)
{
        int r;

        if (c->status != VS_NOTFOUND && c->status != VS_INVALID)
                return -1;
        r = view_find_error(c->text);
        return r ? cli_find_error(c->cmd, arg, r) : -1;
}
