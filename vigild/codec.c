/* Encoding and decoding of vigild messages (proto.h). The decoder trusts
 * nothing: every length is checked against what is left before it is used,
 * and every value against its kind before a caller can see it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "proto-table.h"
#include "validate.h"
#include "vigil-error.h"

_printf_(3, 4) static int bad(char *err, int r, const char *fmt, ...)
{
        va_list ap;

        if (err) {
                va_start(ap, fmt);
                vsnprintf(err, VMSG_ERR_MAX, fmt, ap);
                va_end(ap);
        }
        return r;
}

static const vrule *find_rule(const vrules *rs, uint16_t tag)
{
        for (size_t i = 0; i < rs->n; i++)
                if (rs->rules[i].tag == tag)
                        return &rs->rules[i];
        return NULL;
}

/* Every final reply may carry a status and, when it is a refusal, one line. */
static const vrule reply_status_rule = { VF_STATUS, 1, 1 };
static const vrule reply_error_rule = { VF_ERROR, 0, 1 };

static const char *dir_name(uint16_t type)
{
        return (type & VT_REPLY) ? "reply" : (type & VT_ITEM) ? "item" : "request";
}

int vmsg_decode(const void *buf, size_t len, size_t n_fds, vmsg *m, char *err)
{
        const uint8_t *p = buf;
        uint16_t counts[VF_MAX_TAG] = { 0 };
        const vtype_def *def;
        const vrules *rules;
        bool is_reply, is_item;
        size_t off;
        uint32_t status = VS_OK;

        if (len > VMSG_MAX)
                return bad(err, VIGIL_E_TOO_BIG, "message larger than %u bytes", VMSG_MAX);
        if (len < VMSG_HDR_SIZE)
                return bad(err, VIGIL_E_PARSE, "message shorter than its header");
        if (memcmp(p, VMSG_MAGIC, 4) != 0)
                return bad(err, VIGIL_E_PARSE, "not a vigild protocol 1 message");
        m->type = vle16(p + 4);
        m->id = vle32(p + 8);
        m->n_fields = 0;
        if (vle16(p + 6) != 0)
                return bad(err, VIGIL_E_PARSE, "reserved header flags are set");

        is_reply = m->type & VT_REPLY;
        is_item = m->type & VT_ITEM;
        def = vtype_def_get(m->type & VT_MASK);
        if (!def || (m->type & ~(VT_MASK | VT_REPLY | VT_ITEM)) || (is_reply && is_item) ||
            (!is_reply && def->type == VT_NONE))
                return bad(err, VIGIL_E_PARSE, "unknown message type %u", m->type & VT_MASK);
        if (is_item && def->item.n == 0)
                return bad(err, VIGIL_E_PARSE, "%s has no items", def->name);
        rules = is_reply ? &def->reply : is_item ? &def->item : &def->req;

        for (off = VMSG_HDR_SIZE; off < len;) {
                const vtag_def *td;
                const vrule *rule;
                const char *why = NULL;
                uint16_t tag;
                uint32_t flen;

                if (len - off < VMSG_FIELD_HDR_SIZE)
                        return bad(err, VIGIL_E_PARSE, "truncated field header");
                tag = vle16(p + off);
                flen = vle32(p + off + 2);
                off += VMSG_FIELD_HDR_SIZE;
                if (flen > len - off)
                        return bad(err, VIGIL_E_PARSE, "field overruns the message");
                td = vtag_def_get(tag);
                if (!td)
                        return bad(err, VIGIL_E_PARSE, "unknown field tag %u", tag);
                rule = find_rule(rules, tag);
                if (!rule && is_reply && tag == VF_STATUS)
                        rule = &reply_status_rule;
                if (!rule && is_reply && tag == VF_ERROR)
                        rule = &reply_error_rule;
                if (!rule)
                        return bad(err, VIGIL_E_PARSE, "field '%s' is not allowed in a %s %s", td->name,
                                   def->name, dir_name(m->type));
                if (++counts[tag] > rule->max_count)
                        return rule->max_count == 1
                                       ? bad(err, VIGIL_E_PARSE, "field '%s' is repeated", td->name)
                                       : bad(err, VIGIL_E_TOO_BIG, "more than %u '%s' fields",
                                             rule->max_count, td->name);
                if (td->max_len && flen > td->max_len)
                        return bad(err, VIGIL_E_TOO_BIG, "field '%s' is longer than %u bytes", td->name,
                                   td->max_len);
                if (td->max_len && flen < td->min_len)
                        return bad(err, VIGIL_E_PARSE, "field '%s' is shorter than %u bytes", td->name,
                                   td->min_len);
                if (!vkind_valid(td->kind, p + off, flen, &why))
                        return bad(err, VIGIL_E_PARSE, "field '%s' %s", td->name, why);
                if (m->n_fields == VMSG_MAX_FIELDS)
                        return bad(err, VIGIL_E_TOO_BIG, "more than %u fields", VMSG_MAX_FIELDS);
                m->fields[m->n_fields++] = (vmsg_field){ .tag = tag, .len = flen, .val = p + off };
                off += flen;
        }

        if (is_reply) {
                if (!counts[VF_STATUS])
                        return bad(err, VIGIL_E_PARSE, "reply without 'status'");
                (void)vmsg_get_u32(m, VF_STATUS, &status);
                if (status > VS_MAX_)
                        return bad(err, VIGIL_E_PARSE, "unknown status %u", status);
                if ((status != VS_OK) != (counts[VF_ERROR] != 0))
                        return bad(err, VIGIL_E_PARSE, "a reply has 'error' exactly when it is a refusal");
                if (status != VS_OK && m->n_fields != 2)
                        return bad(err, VIGIL_E_PARSE, "a refusal carries nothing but its status and error");
                if (n_fds > (status == VS_OK ? def->reply_max_fds : 0))
                        return bad(err, VIGIL_E_PARSE, "%s reply carries too many fds", def->name);
        } else if (is_item) {
                if (n_fds > 0)
                        return bad(err, VIGIL_E_PARSE, "items carry no fds");
        } else if (n_fds < def->req_min_fds || n_fds > def->req_max_fds) {
                if (def->req_max_fds == 0)
                        return bad(err, VIGIL_E_PARSE, "%s takes no fds", def->name);
                return bad(err, VIGIL_E_PARSE, "%s takes %u to %u fds, got %zu", def->name, def->req_min_fds,
                           def->req_max_fds, n_fds);
        }

        if (status == VS_OK)
                for (size_t i = 0; i < rules->n; i++)
                        if (counts[rules->rules[i].tag] < rules->rules[i].min_count)
                                return bad(err, VIGIL_E_PARSE, "missing field '%s'",
                                           vtag_name(rules->rules[i].tag));

        if (!is_reply && !is_item && def->check_req)
                return def->check_req(m, n_fds, err);
        if (is_item && def->check_item)
                return def->check_item(m, err);
        return 0;
}

const vmsg_field *vmsg_next(const vmsg *m, uint16_t tag, const vmsg_field *prev)
{
        size_t i = prev ? (size_t)(prev - m->fields) + 1 : 0;

        for (; i < m->n_fields; i++)
                if (m->fields[i].tag == tag)
                        return &m->fields[i];
        return NULL;
}

const vmsg_field *vmsg_get(const vmsg *m, uint16_t tag)
{
        return vmsg_next(m, tag, NULL);
}

size_t vmsg_count(const vmsg *m, uint16_t tag)
{
        size_t n = 0;

        for (size_t i = 0; i < m->n_fields; i++)
                n += m->fields[i].tag == tag;
        return n;
}

int vmsg_get_u32(const vmsg *m, uint16_t tag, uint32_t *ret)
{
        const vmsg_field *f = vmsg_get(m, tag);

        if (!f || f->len != 4)
                return -ENOENT;
        *ret = vle32(f->val);
        return 0;
}

int vmsg_get_i64(const vmsg *m, uint16_t tag, int64_t *ret)
{
        const vmsg_field *f = vmsg_get(m, tag);

        if (!f || f->len != 8)
                return -ENOENT;
        *ret = (int64_t)vle64(f->val);
        return 0;
}

int vmsg_get_bool(const vmsg *m, uint16_t tag, bool *ret)
{
        const vmsg_field *f = vmsg_get(m, tag);

        if (!f || f->len != 1)
                return -ENOENT;
        *ret = f->val[0] != 0;
        return 0;
}

char *vmsg_field_strdup(const vmsg_field *f)
{
        char *s = malloc((size_t)f->len + 1);

        if (!s)
                return NULL;
        memcpy(s, f->val, f->len);
        s[f->len] = '\0';
        return s;
}

int vmsg_get_str(const vmsg *m, uint16_t tag, char **ret)
{
        const vmsg_field *f = vmsg_get(m, tag);
        char *s;

        if (!f)
                return -ENOENT;
        s = vmsg_field_strdup(f);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- builder ------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

int vmsg_builder_init(vmsg_builder *b, uint16_t type, uint32_t id)
{
        *b = (vmsg_builder){ 0 };
        b->buf = malloc(VMSG_MAX);
        if (!b->buf)
                return -ENOMEM;
        memcpy(b->buf, VMSG_MAGIC, 4);
        put16(b->buf + 4, type);
        put16(b->buf + 6, 0);
        put32(b->buf + 8, id);
        b->len = VMSG_HDR_SIZE;
        return 0;
}

void vmsg_builder_done(vmsg_builder *b)
{
        if (b->buf) {
                explicit_bzero(b->buf, b->len);
                free(b->buf);
        }
        *b = (vmsg_builder){ 0 };
}

int vmsg_add(vmsg_builder *b, uint16_t tag, const void *val, size_t len)
{
        if (b->err)
                return b->err;
        if (!b->buf)
                return b->err = -EINVAL;
        if (len > VMSG_MAX || VMSG_MAX - b->len < VMSG_FIELD_HDR_SIZE + len)
                return b->err = VIGIL_E_TOO_BIG;
        put16(b->buf + b->len, tag);
        put32(b->buf + b->len + 2, (uint32_t)len);
        if (len)
                memcpy(b->buf + b->len + VMSG_FIELD_HDR_SIZE, val, len);
        b->len += VMSG_FIELD_HDR_SIZE + len;
        return 0;
}

int vmsg_add_str(vmsg_builder *b, uint16_t tag, const char *s)
{
        if (!s)
                return b->err ? b->err : (b->err = -EINVAL);
        return vmsg_add(b, tag, s, strlen(s));
}

int vmsg_add_u32(vmsg_builder *b, uint16_t tag, uint32_t v)
{
        uint8_t x[4];

        put32(x, v);
        return vmsg_add(b, tag, x, sizeof x);
}

int vmsg_add_i64(vmsg_builder *b, uint16_t tag, int64_t v)
{
        uint8_t x[8];

        put32(x, (uint32_t)((uint64_t)v & 0xffffffffu));
        put32(x + 4, (uint32_t)((uint64_t)v >> 32));
        return vmsg_add(b, tag, x, sizeof x);
}

int vmsg_add_bool(vmsg_builder *b, uint16_t tag, bool v)
{
        uint8_t x = v ? 1 : 0;

        return vmsg_add(b, tag, &x, 1);
}

int vmsg_builder_finish(vmsg_builder *b, size_t n_fds, char *err)
{
        vmsg *m;
        int r;

        if (b->err)
                return bad(err, b->err, "cannot build message: %s", vigil_strerror(b->err));
        /* vmsg is large (VMSG_MAX_FIELDS views); keep it off the caller's stack,
         * which may be a PAM module's inside someone else's process. */
        m = malloc(sizeof *m);
        if (!m)
                return -ENOMEM;
        r = vmsg_decode(b->buf, b->len, n_fds, m, err);
        free(m);
        return r;
}
