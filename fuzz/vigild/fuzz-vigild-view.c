/* Fuzz target: the replay and watch items as the CLI decodes them from
 * vigild (vigild/view-wire.c).
 *
 * Input: one byte choosing the form (even: a JSON `item`, odd: `data` with
 * a `time` from the next 8 bytes), then the value. The value goes into a
 * real session.replay item message, through the protocol's decoder first
 * (as the CLI receives it). Properties beyond "no crash, no leak": an item
 * that decodes encodes again into a message that passes the decoder and
 * decodes to the same item (so what vigild's backend sends and what the CLI
 * reads agree), and a decoded OUTPUT item points inside the message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const view_item *a, const view_item *b)
{
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case VIEW_HEADER:
                return memcmp(a->id, b->id, sizeof a->id) == 0 && a->start_us == b->start_us &&
                       a->n_commands == b->n_commands;
        case VIEW_COMMAND:
                return a->no == b->no && a->decision == b->decision && a->exec_off == b->exec_off;
        case VIEW_OUTPUT:
                return a->time_ms == b->time_ms && a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
        case VIEW_OMITTED:
                return a->omit == b->omit && a->time_ms == b->time_ms && a->len == b->len &&
                       (a->omit != VIGIL_FRAME_DIGEST || memcmp(a->sha256, b->sha256, 32) == 0);
        case VIEW_SKIP:
                return a->len == b->len;
        case VIEW_END:
                return a->how == b->how && a->exit_status == b->exit_status;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static vmsg m, m2;
        vmsg_builder b = { 0 }, b2 = { 0 };
        view_item it, again;
        int64_t t = 0;

        if (size < 1)
                return 0;
        if (vmsg_builder_init(&b, VT_SESSION_REPLAY | VT_ITEM, 1) < 0)
                return 0;
        if (data[0] & 1) {
                if (size < 9)
                        goto out;
                memcpy(&t, data + 1, 8);
                (void)vmsg_add(&b, VF_DATA, data + 9, size - 9);
                (void)vmsg_add_i64(&b, VF_TIME, t);
        } else
                (void)vmsg_add(&b, VF_ITEM, data + 1, size - 1);
        /* only what the protocol lets through reaches the item decoder */
        if (vmsg_builder_finish(&b, 0, NULL) < 0 || vmsg_decode(b.buf, b.len, 0, &m, NULL) < 0)
                goto out;
        if (view_item_decode(&m, &it) < 0)
                goto out;
        if (it.kind == VIEW_OUTPUT && (it.data < b.buf || it.data + it.len > b.buf + b.len))
                abort();
        if (vmsg_builder_init(&b2, VT_SESSION_REPLAY | VT_ITEM, 1) < 0)
                goto out;
        if (view_item_encode(&it, &b2) < 0 || vmsg_builder_finish(&b2, 0, NULL) < 0 ||
            vmsg_decode(b2.buf, b2.len, 0, &m2, NULL) < 0 || view_item_decode(&m2, &again) < 0 || !same(&it, &again))
                abort();
out:
        vmsg_builder_done(&b);
        vmsg_builder_done(&b2);
        return 0;
}
