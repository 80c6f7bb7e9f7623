/* session.start, both forms. vigild checks everything it can (the table,
 * every field, the fds, the reference or the token's account) and then asks
 * the supervisor backend to start the session; the token form first asks
 * the identity backend to verify the token for the caller's own account. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

typedef struct start_ctx {
        vigild_start_form form;
        uid_t uid;
        char *user;
        ref_entry *ref;            /* login form: the used-up session reference */
        vigild_identity *identity; /* token form: from verify_token */
        char **argv, **env;
        size_t argc, n_env;
        char *cwd, *term;
        bool pty;
        uint32_t rows, cols;
} start_ctx;

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void start_ctx_free(void *p)
{
        start_ctx *x = p;

        if (!x)
                return;
        free(x->user);
        ref_entry_free(x->ref);
        vigild_identity_free(x->identity);
        strv_free(x->argv);
        strv_free(x->env);
        free(x->cwd);
        free(x->term);
        free(x);
}

/* All fields with @tag, copied into a NULL-terminated vector. */
static int strv_from(const vmsg *m, uint16_t tag, char ***ret, size_t *ret_n)
{
        size_t n = vmsg_count(m, tag), i = 0;
        char **v = calloc(n + 1, sizeof *v);

        if (!v)
                return -ENOMEM;
        for (const vmsg_field *f = vmsg_get(m, tag); f; f = vmsg_next(m, tag, f)) {
                v[i] = vmsg_field_strdup(f);
                if (!v[i]) {
                        strv_free(v);
                        return -ENOMEM;
                }
                i++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int start_ctx_new(const vmsg *m, vigild_start_form form, uid_t uid, start_ctx **ret)
{
        start_ctx *x = calloc(1, sizeof *x);
        int k;

        if (!x)
                return -ENOMEM;
        x->form = form;
        x->uid = uid;
        k = strv_from(m, VF_ARGV, &x->argv, &x->argc);
        if (k == 0)
                k = strv_from(m, VF_ENV, &x->env, &x->n_env);
        if (k == 0 && vmsg_get(m, VF_CWD))
                k = vmsg_get_str(m, VF_CWD, &x->cwd);
        if (k == 0 && vmsg_get(m, VF_TERM))
                k = vmsg_get_str(m, VF_TERM, &x->term);
        if (k < 0) {
                start_ctx_free(x);
                return k;
        }
        (void)vmsg_get_bool(m, VF_PTY, &x->pty);
        (void)vmsg_get_u32(m, VF_ROWS, &x->rows);
        (void)vmsg_get_u32(m, VF_COLS, &x->cols);
        *ret = x;
        return 0;
}

static int64_t boottime_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After a login session started: remember its id under pam.open's handle,
 * so pam.close can end it. */
static void record_started(vigild_req *r, const vmsg *reply)
{
        start_ctx *x = r->ctx;
        _cleanup_free_ char *session = NULL;

        if (!x || !x->ref || vmsg_get_str(reply, VF_SESSION, &session) < 0)
                return;
        if (refs_mark_started(&r->srv->refs, boottime_ms(), x->ref->handle, x->uid, session) < 0)
                vlog(LOG_WARNING, "session.start: cannot remember session '%s' for pam.close", session);
}

static int run_start(vigild_req *r, start_ctx *x)
{
        const vigild_ops *ops = r->srv->ops;
        vigild_start st = {
                .form = x->form,
                .uid = x->uid,
                .user = x->user,
                .identity = x->ref ? x->ref->identity : x->identity,
                .service = x->ref ? x->ref->service : NULL,
                .tty = x->ref ? x->ref->tty : NULL,
                .rhost = x->ref ? x->ref->rhost : NULL,
                .handle = x->ref ? x->ref->handle : NULL,
                .argv = x->argv,
                .argc = x->argc,
                .env = x->env,
                .n_env = x->n_env,
                .cwd = x->cwd,
                .term = x->term,
                .pty = x->pty,
                .rows = x->rows,
                .cols = x->cols,
                .n_fds = r->n_fds,
        };
        int k;

        if (!ops->session_start)
                return vigild_req_fail(r, VS_UNAVAILABLE,
                                       "not available in this build (no supervisor backend)");
        k = ops->session_start(r, &st);
        if (k < 0 && !r->done)
                return vigild_req_fail(r, status_from_errno(k), "cannot start the session: %s",
                                       vigil_strerror(k));
        return 0;
}

int handle_session_start_ref(vigild_req *r, const vmsg *m)
{
        vigild_server *s = r->srv;
        const vigild_caller *c = vigild_req_caller(r);
        _cleanup_free_ char *ref = NULL;
        start_ctx *x = NULL;
        ref_entry *e = NULL;
        int k;

        k = vmsg_get_str(m, VF_REF, &ref);
        if (k < 0)
                return k;
        k = refs_take_session(&s->refs, boottime_ms(), ref, c->uid, &e);
        explicit_bzero(ref, strlen(ref));
        if (k == -EPERM)
                vlog(LOG_WARNING,
                     "session.start: a session reference was presented by uid=%u pid=%d, not by its "
                     "account; it is burnt",
                     (unsigned)c->uid, (int)c->pid);
        if (k < 0)
                return vigild_req_fail(r, VS_NOTFOUND, "unknown, expired or used reference");
        vlog(LOG_INFO, "session.start: login of '%s' (uid %u) from vigil-shell pid %d", e->user,
             (unsigned)c->uid, (int)c->pid);
        k = start_ctx_new(m, VIGILD_START_LOGIN, c->uid, &x);
        if (k < 0) {
                ref_entry_free(e);
                return k;
        }
        x->ref = e;
        x->user = strdup(e->user);
        if (!x->user) {
                start_ctx_free(x);
                return -ENOMEM;
        }
        req_set_ctx(r, x, start_ctx_free);
        r->reply_hook = record_started;
        return run_start(r, x);
}

static void token_verified(vigild_req *r, int result, vigild_identity *identity)
{
        start_ctx *x = r->ctx;

        if (r->done) {
                vigild_identity_free(identity);
                return;
        }
        if (result < 0 || !identity) {
                vigild_identity_free(identity);
                vlog_limited(LOG_NOTICE, "session.start: token of uid=%u refused: %s", (unsigned)x->uid,
                             vigil_strerror(result < 0 ? result : -EINVAL));
                (void)vigild_req_fail(r, VS_REFUSED, "token refused: %s",
                                      vigil_strerror(result < 0 ? result : -EINVAL));
                return;
        }
        x->identity = identity;
        vlog(LOG_INFO, "session.start: token session for '%s' (uid %u)", x->user, (unsigned)x->uid);
        (void)run_start(r, x);
}

int handle_session_start_token(vigild_req *r, const vmsg *m)
{
        const vigild_ops *ops = r->srv->ops;
        const vigild_caller *c = vigild_req_caller(r);
        struct passwd pw, *pwr = NULL;
        char pwbuf[16384];
        char *token = NULL;
        start_ctx *x = NULL;
        int k;

        /* The session runs as the caller's own account, so the token must name
         * exactly that account (identity's username rule). */
        if (getpwuid_r(c->uid, &pw, pwbuf, sizeof pwbuf, &pwr) != 0 || !pwr)
                return vigild_req_fail(r, VS_REFUSED, "uid %u has no account name", (unsigned)c->uid);
        if (!ops->verify_token)
                return vigild_req_fail(r, VS_UNAVAILABLE,
                                       "not available in this build (no identity verification backend)");
        k = start_ctx_new(m, VIGILD_START_TOKEN, c->uid, &x);
        if (k < 0)
                return k;
        x->user = strdup(pwr->pw_name);
        if (!x->user) {
                start_ctx_free(x);
                return -ENOMEM;
        }
        req_set_ctx(r, x, start_ctx_free);
        k = vmsg_get_str(m, VF_TOKEN, &token);
        if (k < 0)
                return k;
        k = ops->verify_token(r, token, x->user, token_verified);
        explicit_bzero(token, strlen(token));
        free(token);
        if (k < 0 && !r->done)
                return vigild_req_fail(r, status_from_errno(k), "cannot verify the token: %s",
                                       vigil_strerror(k));
        return 0;
}
