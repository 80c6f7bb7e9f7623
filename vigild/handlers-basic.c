/* ping and status: answered by vigild itself. */
#include "config.h"
#include "loop-internal.h"

int handle_ping(vigild_req *r, const vmsg *m)
{
        vmsg_builder b;
        int k;

        (void)m;
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                vmsg_add_str(&b, VF_VERSION, VIGIL_VERSION);
                k = vigild_req_reply(r, &b, -1);
        }
        vmsg_builder_done(&b);
        return k;
}

int handle_status(vigild_req *r, const vmsg *m)
{
        vigild_server *s = vigild_req_server(r);
        vmsg_builder b;
        int k;

        (void)m;
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                vmsg_add_str(&b, VF_VERSION, VIGIL_VERSION);
                vmsg_add_str(&b, VF_BACKENDS, s->ops->backends ? s->ops->backends : "none");
                vmsg_add_i64(&b, VF_UPTIME, (vigild_now_ms() - s->started_ms) / 1000);
                vmsg_add_u32(&b, VF_CLIENTS, s->n_clients);
                vmsg_add_u32(&b, VF_PENDING, s->n_pending);
                vmsg_add_u32(&b, VF_REFS, (uint32_t)refs_count(&s->refs));
                k = vigild_req_reply(r, &b, -1);
        }
        vmsg_builder_done(&b);
        return k;
}
