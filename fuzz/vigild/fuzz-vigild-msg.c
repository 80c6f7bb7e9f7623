/* Fuzz target: the vigild message decoder (vigild/codec.c, proto-table.c).
 *
 * Input: one byte choosing how many fds "came with" the message (0-3), then
 * the message. Properties checked beyond "no crash, no leak":
 * - a decoded message re-encodes, field by field, to exactly the input bytes
 *   and passes the builder's own check (so decoder and builder agree);
 * - every field lies inside the input, and typed getters work on it;
 * - a refusal's diagnostic is one line of printable text (it is logged and
 *   sent back to clients, so it must never carry the input's bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static vmsg m;
        char err[VMSG_ERR_MAX];
        size_t n_fds;
        vmsg_builder b;

        if (size < 1)
                return 0;
        n_fds = data[0] & 3;
        data++;
        size--;
        err[0] = '\0';
        if (vmsg_decode(data, size, n_fds, &m, err) < 0) {
                if (!err[0] || !vtext_valid((const uint8_t *)err, strlen(err)))
                        abort();
                return 0;
        }
        if (vmsg_builder_init(&b, m.type, m.id) < 0)
                return 0;
        for (size_t i = 0; i < m.n_fields; i++) {
                const vmsg_field *f = &m.fields[i];
                char *s;

                if (f->val < data || f->val + f->len > data + size)
                        abort();
                if (vmsg_add(&b, f->tag, f->val, f->len) < 0)
                        abort();
                s = vmsg_field_strdup(f);
                free(s);
        }
        if (b.len != size || memcmp(b.buf, data, size) != 0)
                abort();
        if (vmsg_builder_finish(&b, n_fds, err) < 0)
                abort();
        {
                uint32_t u;
                int64_t i;
                bool v;
                char *s = NULL;

                (void)vmsg_get_u32(&m, VF_STATUS, &u);
                (void)vmsg_get_i64(&m, VF_EXP, &i);
                (void)vmsg_get_bool(&m, VF_PTY, &v);
                if (vmsg_get_str(&m, VF_USER, &s) == 0)
                        free(s);
                (void)vmsg_count(&m, VF_ARGV);
                (void)vtype_name(m.type);
        }
        vmsg_builder_done(&b);
        return 0;
}
