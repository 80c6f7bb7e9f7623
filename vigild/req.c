/* Answering requests (request.h): replies, refusals, stream items, the
 * cancel and drain callbacks, and the end of a request's life. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

vigild_req *req_new(client *c, const request_def *def, uint32_t id, int *fds, size_t n_fds)
{
        vigild_req *r = calloc(1, sizeof *r);

        if (!r)
                return NULL;
        r->srv = c->srv;
        r->c = c;
        r->def = def;
        r->id = id;
        for (size_t i = 0; i < VMSG_MAX_FDS; i++)
                r->fds[i] = i < n_fds ? fds[i] : -1;
        r->n_fds = n_fds;
        r->slot = c->slot;
        r->slot->pending++;
        c->srv->n_pending++;
        c->req = r;
        return r;
}

void req_free(vigild_req *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_fds; i++)
                if (r->fds[i] >= 0)
                        (void)close(r->fds[i]);
        if (r->ctx_free)
                r->ctx_free(r->ctx);
        free(r);
}

/* The request is over (answered or cancelled): release its share of the
 * caps, detach it, and move its connection on. */
static void req_end(vigild_req *r, bool answered_ok)
{
        client *c = r->c;

        if (r->done)
                return;
        r->done = true;
        r->slot->pending--;
        r->srv->n_pending--;
        if (c) {
                c->req = NULL;
                r->c = NULL;
                if (!c->base.dead && !(c->phase & PH_CLOSING)) {
                        if (answered_ok && !(r->def->flags & RQ_LAST))
                                client_set_phase(c, PH_READY);
                        else
                                client_set_phase(c, PH_CLOSING);
                }
        }
        if (!r->in_handler)
                req_free(r);
}

void req_set_ctx(vigild_req *r, void *ctx, void (*ctx_free)(void *))
{
        r->ctx = ctx;
        r->ctx_free = ctx_free;
}

void req_cancel(vigild_req *r)
{
        vigild_req_cb cb = r->on_cancel;

        if (r->done)
                return;
        r->on_cancel = NULL;
        if (cb)
                cb(r, r->cancel_ud);
        req_end(r, false);
}

void req_timeout(vigild_req *r)
{
        vigild_req_cb cb = r->on_cancel;

        if (r->done)
                return;
        r->on_cancel = NULL;
        if (cb)
                cb(r, r->cancel_ud);
        (void)vigild_req_fail(r, VS_TIMEOUT, "no answer within %u ms", r->srv->limits.request_timeout_ms);
}

void req_drain(vigild_req *r)
{
        vigild_req_cb cb = r->on_drain;

        r->want_drain = false;
        if (cb && !r->done)
                cb(r, r->drain_ud);
}

vigild_server *vigild_req_server(vigild_req *r)
{
        return r->srv;
}

const vigild_caller *vigild_req_caller(const vigild_req *r)
{
        static const vigild_caller gone = { .uid = (uid_t)-1, .gid = (gid_t)-1, .pid = -1 };

        return r->c ? &r->c->caller : &gone;
}

uint16_t vigild_req_type(const vigild_req *r)
{
        return r->def->type;
}

const char *vigild_req_name(const vigild_req *r)
{
        return r->def->name;
}

bool vigild_req_delegated(const vigild_req *r)
{
        return r->delegated;
}

bool vigild_req_pending(const vigild_req *r)
{
        return !r->done;
}

const vigild_identity *vigild_req_session_identity(vigild_req *r)
{
        return r->c ? client_session_identity(r->c) : NULL;
}

int vigild_req_take_fd(vigild_req *r, size_t i)
{
        int fd;

        if (i >= r->n_fds)
                return -1;
        fd = r->fds[i];
        r->fds[i] = -1;
        return fd;
}

int vigild_req_reply_begin(vigild_req *r, vmsg_builder *b)
{
        int k = vmsg_builder_init(b, (uint16_t)(r->def->type | VT_REPLY), r->id);

        if (k < 0)
                return k;
        return vmsg_add_u32(b, VF_STATUS, VS_OK);
}

static int deliver(vigild_req *r, vmsg_builder *b, int *fds, size_t n_fds)
{
        if (!r->c || r->c->base.dead) {
                for (size_t i = 0; i < n_fds; i++)
                        if (fds[i] >= 0)
                                (void)close(fds[i]);
                return -EPIPE;
        }
        return client_queue(r->c, b->buf, b->len, fds, n_fds);
}

int vigild_req_reply(vigild_req *r, vmsg_builder *b, int fd)
{
        char err[VMSG_ERR_MAX];
        int fds[1] = { fd };
        size_t n_fds = fd >= 0 ? 1 : 0;
        int k;

        if (r->done) {
                if (fd >= 0)
                        (void)close(fd);
                return -ESTALE;
        }
        k = vmsg_builder_finish(b, n_fds, err);
        if (k < 0) {
                vlog(LOG_ERR, "%s: the backend's reply breaks the protocol (%s); refusing instead",
                     r->def->name, err);
                if (fd >= 0)
                        (void)close(fd);
                return vigild_req_fail(r, VS_FAILED, "internal error");
        }
        if (r->reply_hook) {
                vmsg *sent = malloc(sizeof *sent);

                if (sent && vmsg_decode(b->buf, b->len, n_fds, sent, NULL) == 0)
                        r->reply_hook(r, sent);
                free(sent);
        }
        k = deliver(r, b, fds, n_fds);
        req_end(r, true);
        return k;
}

int vigild_req_fail(vigild_req *r, vstatus status, const char *fmt, ...)
{
        char line[VMSG_ERR_MAX + 128];
        vmsg_builder b;
        va_list ap;
        int n, k;

        if (r->done)
                return -ESTALE;
        if (status == VS_OK)
                status = VS_FAILED;
        n = snprintf(line, sizeof line, "%s: ", r->def->name);
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        /* The line must itself pass the protocol (a backend could pass text
         * from elsewhere): replace what is not allowed. */
        for (char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        if (!vtext_valid((const uint8_t *)line, strlen(line)))
                snprintf(line, sizeof line, "%s: %s", r->def->name, vstatus_name(status));
        k = vmsg_builder_init(&b, (uint16_t)(r->def->type | VT_REPLY), r->id);
        if (k == 0) {
                vmsg_add_u32(&b, VF_STATUS, status);
                vmsg_add_str(&b, VF_ERROR, line);
                k = vmsg_builder_finish(&b, 0, NULL);
                if (k == 0)
                        k = deliver(r, &b, NULL, 0);
        }
        vmsg_builder_done(&b);
        req_end(r, false);
        return k;
}

void vigild_req_stream_begin(vigild_req *r)
{
        r->streaming = true;
        if (r->c && !r->c->base.dead)
                client_set_phase(r->c, PH_STREAM);
}

int vigild_req_item_begin(vigild_req *r, vmsg_builder *b)
{
        return vmsg_builder_init(b, (uint16_t)(r->def->type | VT_ITEM), r->id);
}

int vigild_req_item(vigild_req *r, vmsg_builder *b)
{
        char err[VMSG_ERR_MAX];
        int k;

        if (r->done)
                return -ESTALE;
        if (!r->c || r->c->base.dead)
                return -EPIPE;
        if (r->c->out_bytes > VIGILD_OUTQ_HIGH) {
                r->want_drain = true;
                return -EAGAIN;
        }
        k = vmsg_builder_finish(b, 0, err);
        if (k < 0) {
                vlog(LOG_ERR, "%s: the backend's item breaks the protocol (%s)", r->def->name, err);
                return k;
        }
        return deliver(r, b, NULL, 0);
}

void vigild_req_on_drain(vigild_req *r, vigild_req_cb cb, void *userdata)
{
        r->on_drain = cb;
        r->drain_ud = userdata;
}

void vigild_req_on_cancel(vigild_req *r, vigild_req_cb cb, void *userdata)
{
        r->on_cancel = cb;
        r->cancel_ud = userdata;
}
