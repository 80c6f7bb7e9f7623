/* approvals.list, approvals.decide, sessions.list, session.watch,
 * session.replay, session.kill: the table already decided who may send
 * them; these build the backend's view of the caller and the query, and
 * hand over. Approvers are judged by the approvals backend, by the identity
 * of the caller's own vigil session, by a fresh token sent with the request,
 * or by the local account alone. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

static int unavailable(vigild_req *r, const char *what)
{
        return vigild_req_fail(r, VS_UNAVAILABLE, "not available in this build (no %s backend)", what);
}

static int backend_result(vigild_req *r, int k)
{
        if (k < 0 && !r->done)
                return vigild_req_fail(r, status_from_errno(k), "%s", vigil_strerror(k));
        return 0;
}

/* ---- approvers ---- */

typedef struct approver_ctx {
        char *user;
        char *session; /* approvals.list filter / watch target */
        char *approval, *reason;
        bool approve;
        vigild_identity *token_identity;
} approver_ctx;

static void approver_ctx_free(void *p)
{
        approver_ctx *x = p;

        if (!x)
                return;
        free(x->user);
        free(x->session);
        free(x->approval);
        free(x->reason);
        vigild_identity_free(x->token_identity);
        free(x);
}

static int approver_ctx_new(vigild_req *r, approver_ctx **ret)
{
        const vigild_caller *c = vigild_req_caller(r);
        struct passwd pw, *pwr = NULL;
        char pwbuf[16384];
        approver_ctx *x = calloc(1, sizeof *x);

        if (!x)
                return -ENOMEM;
        if (getpwuid_r(c->uid, &pw, pwbuf, sizeof pwbuf, &pwr) == 0 && pwr) {
                x->user = strdup(pwr->pw_name);
                if (!x->user) {
                        free(x);
                        return -ENOMEM;
                }
        }
        req_set_ctx(r, x, approver_ctx_free);
        *ret = x;
        return 0;
}

static vigild_approver approver_of(vigild_req *r, approver_ctx *x)
{
        const vigild_caller *c = vigild_req_caller(r);
        vigild_approver a = {
                .caller = c,
                .user = x->user,
                .is_root = c->uid == 0,
                .is_auditor = vigild_req_is_auditor(r),
                .is_responder = vigild_req_is_responder(r),
        };

        if (x->token_identity) {
                a.identity = x->token_identity;
                a.known_by = VIGILD_KNOWN_BY_TOKEN;
        } else if ((a.identity = vigild_req_session_identity(r)))
                a.known_by = VIGILD_KNOWN_BY_SESSION;
        else
                a.known_by = VIGILD_KNOWN_LOCAL;
        return a;
}

static void approvals_go(vigild_req *r)
{
        const vigild_ops *ops = r->srv->ops;
        approver_ctx *x = r->ctx;
        vigild_approver a = approver_of(r, x);
        int k;

        if (vigild_req_type(r) == VT_APPROVALS_LIST) {
                if (!ops->approvals_list) {
                        (void)unavailable(r, "approvals");
                        return;
                }
                k = ops->approvals_list(r, &a, x->session);
        } else {
                vigild_decision d = { .approval = x->approval, .approve = x->approve, .reason = x->reason };

                if (!ops->approvals_decide) {
                        (void)unavailable(r, "approvals");
                        return;
                }
                k = ops->approvals_decide(r, &a, &d);
        }
        (void)backend_result(r, k);
}

static void approver_verified(vigild_req *r, int result, vigild_identity *identity)
{
        approver_ctx *x = r->ctx;

        if (r->done) {
                vigild_identity_free(identity);
                return;
        }
        if (result < 0 || !identity) {
                vigild_identity_free(identity);
                (void)vigild_req_fail(r, VS_REFUSED, "token refused: %s",
                                      vigil_strerror(result < 0 ? result : -EINVAL));
                return;
        }
        x->token_identity = identity;
        approvals_go(r);
}

/* With a token: verify it (no username rule: approvers are known by subject
 * and groups), then go on; without: go on with the session identity or the
 * local account. */
static int approvals_start(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        _cleanup_free_ char *token = NULL;
        int k;

        if (!vmsg_get(m, VF_TOKEN)) {
                approvals_go(r);
                return 0;
        }
        if (!ops->verify_token)
                return unavailable(r, "identity verification");
        k = vmsg_get_str(m, VF_TOKEN, &token);
        if (k < 0)
                return k;
        k = ops->verify_token(r, token, NULL, approver_verified);
        explicit_bzero(token, strlen(token));
        return backend_result(r, k);
}

int handle_approvals_list(vigild_req *r, const vmsg *m)
{
        approver_ctx *x;
        int k;

        if (!r->srv->ops->approvals_list)
                return unavailable(r, "approvals");
        k = approver_ctx_new(r, &x);
        if (k == 0 && vmsg_get(m, VF_SESSION))
                k = vmsg_get_str(m, VF_SESSION, &x->session);
        if (k < 0)
                return k;
        return approvals_start(r, m);
}

int handle_approvals_decide(vigild_req *r, const vmsg *m)
{
        const vmsg_field *d = vmsg_get(m, VF_DECISION);
        approver_ctx *x;
        int k;

        if (!r->srv->ops->approvals_decide)
                return unavailable(r, "approvals");
        k = approver_ctx_new(r, &x);
        if (k == 0)
                k = vmsg_get_str(m, VF_APPROVAL, &x->approval);
        if (k == 0 && vmsg_get(m, VF_REASON))
                k = vmsg_get_str(m, VF_REASON, &x->reason);
        if (k < 0)
                return k;
        /* The decoder allowed only "approve" and "deny". */
        x->approve = d->len == 7 && memcmp(d->val, "approve", 7) == 0;
        return approvals_start(r, m);
}

/* ---- sessions ---- */

int handle_sessions_list(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        _cleanup_free_ char *user = NULL, *command = NULL, *host = NULL;
        vigild_list_query q = { 0 };
        int k = 0;

        if (!ops->sessions_list)
                return unavailable(r, "store");
        if (vmsg_get(m, VF_USER))
                k = vmsg_get_str(m, VF_USER, &user);
        if (k == 0 && vmsg_get(m, VF_COMMAND))
                k = vmsg_get_str(m, VF_COMMAND, &command);
        if (k == 0 && vmsg_get(m, VF_HOST))
                k = vmsg_get_str(m, VF_HOST, &host);
        if (k < 0)
                return k;
        q.user = user;
        q.command = command;
        q.host = host;
        q.has_since = vmsg_get_i64(m, VF_SINCE, &q.since_ms) == 0;
        q.has_until = vmsg_get_i64(m, VF_UNTIL, &q.until_ms) == 0;
        (void)vmsg_get_bool(m, VF_LIVE, &q.live);
        return backend_result(r, ops->sessions_list(r, &q));
}

int handle_session_watch(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        _cleanup_free_ char *session = NULL;
        int k;

        k = vmsg_get_str(m, VF_SESSION, &session);
        if (k < 0)
                return k;
        if (vigild_req_delegated(r)) {
                /* Not root, auditor or responder: only an approver of a request
                 * pending in this session, and only if the backend says so. */
                approver_ctx *x;
                vigild_approver a;

                k = approver_ctx_new(r, &x);
                if (k < 0)
                        return k;
                a = approver_of(r, x);
                k = ops->may_watch ? ops->may_watch(&a, session) : -EOPNOTSUPP;
                if (k <= 0) {
                        vlog_limited(LOG_NOTICE, "refused session.watch from uid=%u pid=%d: %s",
                                     (unsigned)a.caller->uid, (int)a.caller->pid,
                                     k == 0 ? "not an approver of a pending request"
                                            : "approver check not available");
                        return vigild_req_fail(r, VS_REFUSED, "not permitted for uid %u",
                                               (unsigned)a.caller->uid);
                }
        }
        if (!ops->session_watch)
                return unavailable(r, "store");
        return backend_result(r, ops->session_watch(r, session));
}

int handle_session_replay(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        _cleanup_free_ char *session = NULL;
        vigild_replay_query q = { 0 };
        int k;

        if (!ops->session_replay)
                return unavailable(r, "store");
        k = vmsg_get_str(m, VF_SESSION, &session);
        if (k < 0)
                return k;
        q.session = session;
        q.has_at = vmsg_get_i64(m, VF_AT, &q.at_ms) == 0;
        q.has_command_no = vmsg_get_u32(m, VF_COMMAND_NO, &q.command_no) == 0;
        return backend_result(r, ops->session_replay(r, &q));
}

int handle_session_kill(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        _cleanup_free_ char *session = NULL, *reason = NULL;
        int k;

        if (!ops->session_kill)
                return unavailable(r, "supervisor");
        k = vmsg_get_str(m, VF_SESSION, &session);
        if (k == 0 && vmsg_get(m, VF_REASON))
                k = vmsg_get_str(m, VF_REASON, &reason);
        if (k < 0)
                return k;
        vlog(LOG_NOTICE, "session.kill: session '%s' by uid=%u pid=%d", session,
             (unsigned)vigild_req_caller(r)->uid, (int)vigild_req_caller(r)->pid);
        return backend_result(r, ops->session_kill(r, vigild_req_caller(r), session, reason));
}
