/* Session summaries (the sessions table and the begin record) and command
 * events (the events table). */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

#define SUMMARY_VERSION 1
#define EVENT_VERSION 1
#define MAX_MASKS 1024

void vigil_session_info_clear(vigil_session_info *i)
{
        if (!i)
                return;
        free(i->user);
        free(i->subject);
        free(i->email);
        strv_free(i->groups, i->n_groups);
        free(i->host);
        free(i->tty);
        free(i->client);
        strv_free(i->argv, i->argc);
        for (size_t k = 0; k < i->n_masks; k++)
                free(i->masks[k].detector);
        free(i->masks);
        *i = (vigil_session_info){ 0 };
}

void vigil_event_clear(vigil_event *e)
{
        if (!e)
                return;
        free(e->user);
        free(e->host);
        free(e->runas);
        free(e->cwd);
        free(e->exe);
        strv_free(e->argv, e->argc);
        free(e->rule);
        *e = (vigil_event){ 0 };
}

void meta_encode(vbuf *b, const vigil_session_info *i)
{
        uint8_t bits = (i->opts.input ? 1 : 0) | (i->opts.output ? 2 : 0) |
                       (i->opts.binary == VIGIL_RECORD_BINARY_FULL ? 4 : 0) |
                       (i->opts.on_failure == VIGIL_RECORD_FAIL_CONTINUE ? 8 : 0);

        vbuf_str(b, i->user);
        vbuf_varint(b, i->uid);
        vbuf_str(b, i->subject);
        vbuf_str(b, i->email);
        vbuf_strv(b, (const char *const *)i->groups, i->n_groups);
        vbuf_str(b, i->host);
        vbuf_str(b, i->tty);
        vbuf_str(b, i->client);
        vbuf_strv(b, (const char *const *)i->argv, i->argc);
        vbuf_varint(b, i->start_us);
        vbuf_varint(b, i->cols);
        vbuf_varint(b, i->rows);
        vbuf_u8(b, bits);
        vbuf_varint(b, i->opts.max_output);
        vbuf_zigzag(b, i->writer_pid);
        vbuf_varint(b, i->writer_start);
        vbuf_put(b, i->boot_id, 16);
}

static int dec_result(const vdec *d)
{
        return d->err ? VIGIL_E_CORRUPT : -ENOMEM;
}

int meta_decode(vdec *d, vigil_session_info *i)
{
        uint8_t bits;
        const uint8_t *boot;

        if (!vdec_str(d, &i->user) || !i->user)
                return d->err || !i->user ? VIGIL_E_CORRUPT : -ENOMEM;
        i->uid = (uint32_t)vdec_varint_max(d, UINT32_MAX);
        if (!vdec_str(d, &i->subject) || !vdec_str(d, &i->email) || !vdec_strv(d, &i->groups, &i->n_groups) ||
            !vdec_str(d, &i->host) || !vdec_str(d, &i->tty) || !vdec_str(d, &i->client) ||
            !vdec_strv(d, &i->argv, &i->argc))
                return dec_result(d);
        i->start_us = vdec_varint(d);
        i->cols = (uint16_t)vdec_varint_max(d, UINT16_MAX);
        i->rows = (uint16_t)vdec_varint_max(d, UINT16_MAX);
        bits = vdec_u8(d);
        if (bits & ~15u)
                d->err = true;
        i->opts.input = bits & 1;
        i->opts.output = bits & 2;
        i->opts.binary = bits & 4 ? VIGIL_RECORD_BINARY_FULL : VIGIL_RECORD_BINARY_DIGEST;
        i->opts.on_failure = bits & 8 ? VIGIL_RECORD_FAIL_CONTINUE : VIGIL_RECORD_FAIL_KILL;
        i->opts.max_output = vdec_varint(d);
        i->writer_pid = (int32_t)vdec_zigzag(d);
        i->writer_start = vdec_varint(d);
        boot = vdec_bytes(d, 16);
        if (boot)
                memcpy(i->boot_id, boot, 16);
        return d->err ? VIGIL_E_CORRUPT : 0;
}

void summary_encode(vbuf *b, const vigil_session_info *i)
{
        vbuf_u8(b, SUMMARY_VERSION);
        meta_encode(b, i);
        vbuf_varint(b, i->end_us);
        vbuf_zigzag(b, i->exit_status);
        vbuf_u8(b, (uint8_t)i->how);
        vbuf_u8(b, (uint8_t)((i->truncated ? 1 : 0) | (i->sealed ? 2 : 0)));
        vbuf_varint(b, i->n_records);
        vbuf_varint(b, i->n_commands);
        vbuf_varint(b, i->out_bytes);
        vbuf_varint(b, i->in_bytes);
        vbuf_varint(b, i->n_masks);
        for (size_t k = 0; k < i->n_masks; k++) {
                vbuf_str(b, i->masks[k].detector);
                vbuf_varint(b, i->masks[k].count);
        }
}

int masks_decode(vdec *d, vigil_mask_count **ret, size_t *ret_n);
int masks_decode(vdec *d, vigil_mask_count **ret, size_t *ret_n)
{
        uint64_t n = vdec_varint_max(d, MAX_MASKS);
        vigil_mask_count *m;

        *ret = NULL;
        *ret_n = 0;
        if (d->err)
                return VIGIL_E_CORRUPT;
        if (n == 0)
                return 0;
        if (n > d->len - d->pos)
                return VIGIL_E_CORRUPT;
        m = calloc(n, sizeof *m);
        if (!m)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                if (!vdec_str(d, &m[k].detector) || !m[k].detector) {
                        int r = d->err || !m[k].detector ? VIGIL_E_CORRUPT : -ENOMEM;

                        for (size_t j = 0; j <= k; j++)
                                free(m[j].detector);
                        free(m);
                        return r;
                }
                m[k].count = vdec_varint(d);
        }
        *ret = m;
        *ret_n = n;
        return d->err ? VIGIL_E_CORRUPT : 0;
}

int summary_decode(const void *p, size_t n, const uint8_t id[ID_LEN], vigil_session_info *ret)
{
        vdec d = vdec_init(p, n);
        vigil_session_info i = { 0 };
        uint8_t how, flags;
        int r;

        if (vdec_u8(&d) != SUMMARY_VERSION)
                return VIGIL_E_CORRUPT;
        r = meta_decode(&d, &i);
        if (r < 0)
                goto fail;
        i.end_us = vdec_varint(&d);
        i.exit_status = (int)vdec_zigzag(&d);
        how = vdec_u8(&d);
        flags = vdec_u8(&d);
        if (how > VIGIL_END_LOST || (flags & ~3u))
                d.err = true;
        i.how = how;
        i.truncated = flags & 1;
        i.sealed = flags & 2;
        i.n_records = vdec_varint(&d);
        i.n_commands = vdec_varint(&d);
        i.out_bytes = vdec_varint(&d);
        i.in_bytes = vdec_varint(&d);
        r = masks_decode(&d, &i.masks, &i.n_masks);
        if (r < 0)
                goto fail;
        if (!vdec_done(&d)) {
                r = VIGIL_E_CORRUPT;
                goto fail;
        }
        if (id)
                memcpy(i.id, id, ID_LEN);
        *ret = i;
        return 0;
fail:
        vigil_session_info_clear(&i);
        return r;
}

static char *strdup_null(const char *s, bool *oom)
{
        char *c;

        if (!s)
                return NULL;
        c = strdup(s);
        if (!c)
                *oom = true;
        return c;
}

static char **strv_copy(char *const *v, size_t n, bool *oom)
{
        char **c;

        if (!v)
                return NULL;
        c = calloc(n + 1, sizeof *c);
        if (!c) {
                *oom = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                c[i] = strdup_null(v[i], oom);
        return c;
}

int session_info_copy(const vigil_session_info *src, vigil_session_info *dst)
{
        bool oom = false;
        vigil_session_info c = *src;

        c.user = strdup_null(src->user, &oom);
        c.subject = strdup_null(src->subject, &oom);
        c.email = strdup_null(src->email, &oom);
        c.groups = strv_copy(src->groups, src->n_groups, &oom);
        c.host = strdup_null(src->host, &oom);
        c.tty = strdup_null(src->tty, &oom);
        c.client = strdup_null(src->client, &oom);
        c.argv = strv_copy(src->argv, src->argc, &oom);
        c.masks = NULL;
        if (src->n_masks) {
                c.masks = calloc(src->n_masks, sizeof *c.masks);
                if (!c.masks)
                        oom = true;
                for (size_t k = 0; c.masks && k < src->n_masks; k++) {
                        c.masks[k].detector = strdup_null(src->masks[k].detector, &oom);
                        c.masks[k].count = src->masks[k].count;
                }
        }
        if (oom) {
                if (!c.masks)
                        c.n_masks = 0;
                vigil_session_info_clear(&c);
                return -ENOMEM;
        }
        *dst = c;
        return 0;
}

void event_encode(vbuf *b, const vigil_event *e)
{
        vbuf_u8(b, EVENT_VERSION);
        vbuf_varint(b, e->time_us);
        vbuf_str(b, e->user);
        vbuf_str(b, e->host);
        vbuf_zigzag(b, e->pid);
        vbuf_zigzag(b, e->ppid);
        vbuf_str(b, e->runas);
        vbuf_str(b, e->cwd);
        vbuf_str(b, e->exe);
        vbuf_strv(b, (const char *const *)e->argv, e->argc);
        vbuf_u8(b, (uint8_t)e->decision);
        vbuf_str(b, e->rule);
        vbuf_u8(b, e->exited);
        vbuf_zigzag(b, e->exited ? e->wait_status : 0);
        vbuf_varint(b, e->exited ? e->duration_ms : 0);
        vbuf_varint(b, e->exec_t_us);
        vbuf_varint(b, e->exec_off);
        vbuf_varint(b, e->exited ? e->exit_t_us : 0);
        vbuf_varint(b, e->exited ? e->exit_off : 0);
}

int event_decode(const void *p, size_t n, vigil_event *ret)
{
        vdec d = vdec_init(p, n);
        vigil_event e = { 0 };
        uint8_t dec, exited;
        int r = VIGIL_E_CORRUPT;

        if (vdec_u8(&d) != EVENT_VERSION)
                return VIGIL_E_CORRUPT;
        e.time_us = vdec_varint(&d);
        if (!vdec_str(&d, &e.user) || !vdec_str(&d, &e.host))
                goto fail;
        e.pid = (int32_t)vdec_zigzag(&d);
        e.ppid = (int32_t)vdec_zigzag(&d);
        if (!vdec_str(&d, &e.runas) || !vdec_str(&d, &e.cwd) || !vdec_str(&d, &e.exe) ||
            !vdec_strv(&d, &e.argv, &e.argc))
                goto fail;
        dec = vdec_u8(&d);
        if (!vdec_str(&d, &e.rule))
                goto fail;
        exited = vdec_u8(&d);
        if (dec >= _VIGIL_DEC_MAX || exited > 1)
                d.err = true;
        e.decision = dec;
        e.exited = exited;
        e.wait_status = (int)vdec_zigzag(&d);
        e.duration_ms = vdec_varint(&d);
        e.exec_t_us = vdec_varint(&d);
        e.exec_off = vdec_varint(&d);
        e.exit_t_us = vdec_varint(&d);
        e.exit_off = vdec_varint(&d);
        if (!vdec_done(&d))
                goto fail;
        *ret = e;
        return 0;
fail:
        if (!d.err)
                r = -ENOMEM;
        vigil_event_clear(&e);
        return r;
}

const char *vigil_decision_name(vigil_decision_kind d)
{
        static const char *const names[] = {
                [VIGIL_DEC_ALLOW] = "allow",         [VIGIL_DEC_DENY] = "deny",
                [VIGIL_DEC_AUDIT] = "audit",         [VIGIL_DEC_KILLED] = "killed",
                [VIGIL_DEC_APPROVED] = "approved",   [VIGIL_DEC_REJECTED] = "rejected",
                [VIGIL_DEC_TIMEOUT] = "timeout",     [VIGIL_DEC_WITHDRAWN] = "withdrawn",
                [VIGIL_DEC_HELD] = "held",
        };

        if ((unsigned)d >= ELEMENTSOF(names))
                return NULL;
        return names[d];
}

int vigil_decision_from_name(const char *name)
{
        for (int d = 0; d < _VIGIL_DEC_MAX; d++)
                if (strcmp(vigil_decision_name(d), name) == 0)
                        return d;
        return -EINVAL;
}

int user_key(vbuf *b, const char *user, uint64_t start_us, const uint8_t id[ID_LEN])
{
        vbuf_reset(b);
        vbuf_put(b, user, strlen(user));
        vbuf_u8(b, 0);
        vbuf_be64(b, start_us);
        vbuf_put(b, id, ID_LEN);
        if (b->oom)
                return -ENOMEM;
        /* LMDB keys are at most 511 bytes. */
        return b->len <= 511 ? 0 : -ENAMETOOLONG;
}
