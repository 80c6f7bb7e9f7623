/* The request table: for each request type, who may send it, in which phase
 * of a connection, how often, and its handler. A request reaches its handler
 * only after the decoder checked every field (proto-table.c) and this file
 * checked the table row; anything else is refused with one line, logged,
 * and ends the connection. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

#define OPEN_PHASES (PH_FRESH | PH_READY)

static const request_def table[] = {
        { VT_PING, "ping", WHO_ANY, OPEN_PHASES, 0, handle_ping },
        { VT_STATUS, "status", WHO_ROOT | WHO_AUDITOR, OPEN_PHASES, 0, handle_status },
        /* pam_vigil runs as root inside sshd/sudo. */
        { VT_PAM_REGISTER, "pam.register", WHO_ROOT, OPEN_PHASES, 0, handle_pam_register },
        { VT_PAM_LOOKUP, "pam.lookup", WHO_ROOT, OPEN_PHASES, 0, handle_pam_lookup },
        { VT_PAM_OPEN, "pam.open", WHO_ROOT, OPEN_PHASES, RQ_ONCE, handle_pam_open },
        { VT_PAM_CLOSE, "pam.close", WHO_ROOT, OPEN_PHASES, 0, handle_pam_close },
        /* vigil-shell as the logged-in user: the reference decides, and it is
         * bound to that user's uid. The first and only request of its connection. */
        { VT_SESSION_START_REF, "session.start", WHO_ANY, PH_FRESH, RQ_ONCE | RQ_LAST,
          handle_session_start_ref },
        /* `vigil run --token-file` as a non-root account: runs as that account only
         * (the request has no field that could name another). */
        { VT_SESSION_START_TOKEN, "session.start", WHO_USER, PH_FRESH, RQ_ONCE | RQ_LAST,
          handle_session_start_token },
        /* Anyone may ask; the approvals backend shows and lets decide only what
         * the caller's identity may (approvers=, four-eyes). */
        { VT_APPROVALS_LIST, "approvals.list", WHO_ANY, OPEN_PHASES, 0, handle_approvals_list },
        { VT_APPROVALS_DECIDE, "approvals.decide", WHO_ANY, OPEN_PHASES, 0, handle_approvals_decide },
        { VT_SESSIONS_LIST, "sessions.list", WHO_ROOT | WHO_AUDITOR | WHO_RESPONDER, OPEN_PHASES, 0,
          handle_sessions_list },
        /* Approvers may watch a session holding a request they may decide:
         * the backend says so (WHO_BACKEND). */
        { VT_SESSION_WATCH, "session.watch", WHO_ROOT | WHO_AUDITOR | WHO_RESPONDER | WHO_BACKEND,
          OPEN_PHASES, RQ_LAST, handle_session_watch },
        { VT_SESSION_REPLAY, "session.replay", WHO_ROOT | WHO_AUDITOR, OPEN_PHASES, RQ_LAST,
          handle_session_replay },
        { VT_SESSION_KILL, "session.kill", WHO_ROOT | WHO_RESPONDER, OPEN_PHASES, 0, handle_session_kill },
};

_Static_assert(ELEMENTSOF(table) <= 64, "once_used is a 64-bit mask");

const request_def *request_def_get(uint16_t type)
{
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].type == type)
                        return &table[i];
        return NULL;
}

size_t request_defs(const request_def **ret)
{
        *ret = table;
        return ELEMENTSOF(table);
}

static bool match(client *c, const principal_list *l)
{
        const vigild_identity *id = NULL;

        if (principal_list_wants_identity(l))
                id = client_session_identity(c);
        return principal_list_match(l, &c->caller, id);
}

bool vigild_req_is_auditor(vigild_req *r)
{
        return r->c && match(r->c, &r->srv->access->auditors);
}

bool vigild_req_is_responder(vigild_req *r)
{
        return r->c && match(r->c, &r->srv->access->responders);
}

static bool permitted(client *c, const request_def *d, bool *ret_delegated)
{
        const vigild_access *a = c->srv->access;

        *ret_delegated = false;
        if ((d->who & WHO_ROOT) && c->caller.uid == 0)
                return true;
        if ((d->who & WHO_USER) && c->caller.uid != 0)
                return true;
        if ((d->who & WHO_AUDITOR) && match(c, &a->auditors))
                return true;
        if ((d->who & WHO_RESPONDER) && match(c, &a->responders))
                return true;
        if ((d->who & WHO_IN_SESSION) && client_session_identity(c))
                return true;
        if (d->who & WHO_BACKEND) {
                *ret_delegated = true;
                return true;
        }
        return false;
}

/* A session's stdio fds: one terminal, or three fds the caller could itself
 * read or write (pipes, sockets, character devices such as /dev/null, or
 * files a CI job redirected). Never a directory, an O_PATH handle or an
 * anonymous inode (epoll, signalfd, ...), which a root supervisor must not
 * be handed as someone's stdin. */
static int check_stdio_fds(const vmsg *m, const int *fds, size_t n, const char **ret_why)
{
        bool pty = false;

        (void)vmsg_get_bool(m, VF_PTY, &pty);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                int fl = fcntl(fds[i], F_GETFL);

                if (fl < 0 || fstat(fds[i], &st) < 0 || (fl & O_PATH)) {
                        *ret_why = "an fd is not usable";
                        return -EBADF;
                }
                if (pty) {
                        if (!S_ISCHR(st.st_mode) || !isatty(fds[i])) {
                                *ret_why = "pty is set but the fd is not a terminal";
                                return -EINVAL;
                        }
                        continue;
                }
                if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode) &&
                    !S_ISREG(st.st_mode)) {
                        *ret_why = "stdio fds must be pipes, sockets, character devices or files";
                        return -EINVAL;
                }
        }
        return 0;
}

vstatus status_from_errno(int r)
{
        switch (r) {
        case -EOPNOTSUPP:
                return VS_UNAVAILABLE;
        case -EPERM:
        case -EACCES:
        case VIGIL_E_DENIED:
                return VS_REFUSED;
        case -ENOENT:
        case -ESRCH:
                return VS_NOTFOUND;
        case -EBUSY:
        case -EAGAIN:
                return VS_LIMIT;
        case -ETIMEDOUT:
                return VS_TIMEOUT;
        case -EINVAL:
        case VIGIL_E_PARSE:
        case VIGIL_E_TOO_BIG:
                return VS_INVALID;
        default:
                return VS_FAILED;
        }
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                (void)close(fds[i]);
}

#define REFUSE(c, m, d, st, ...)                                                                            \
        do {                                                                                                \
                char line_[VMSG_ERR_MAX];                                                                   \
                snprintf(line_, sizeof line_, __VA_ARGS__);                                                 \
                vlog_limited(LOG_NOTICE, "refused %s from uid=%u pid=%d: %s", (d)->name,                    \
                             (unsigned)(c)->caller.uid, (int)(c)->caller.pid, line_);                       \
                client_refuse((c), (m)->type, (m)->id, (st), "%s: %s", (d)->name, line_);                   \
        } while (0)

void dispatch(client *c, const vmsg *m, int *fds, size_t n_fds)
{
        const request_def *d = request_def_get(m->type);
        vigild_server *s = c->srv;
        const char *why = NULL;
        bool delegated;
        vigild_req *r;
        int k;

        if (!d) {
                close_all(fds, n_fds);
                vlog_limited(LOG_NOTICE, "refused unknown request type %u from uid=%u pid=%d", m->type,
                             (unsigned)c->caller.uid, (int)c->caller.pid);
                client_refuse(c, VT_NONE, 0, VS_UNKNOWN, "unknown request type %u", m->type);
                return;
        }
        if (!(c->phase & d->phases)) {
                close_all(fds, n_fds);
                /* One request at a time: a second one while the first is in
                 * flight ends both. */
                if (c->req)
                        req_cancel(c->req);
                REFUSE(c, m, d, VS_REFUSED, "not permitted at this point of the connection");
                return;
        }
        if ((d->flags & RQ_ONCE) && (c->once_used & (1ull << (d - table)))) {
                close_all(fds, n_fds);
                REFUSE(c, m, d, VS_REFUSED, "only once per connection");
                return;
        }
        if (!permitted(c, d, &delegated)) {
                close_all(fds, n_fds);
                REFUSE(c, m, d, VS_REFUSED, "not permitted for uid %u", (unsigned)c->caller.uid);
                return;
        }
        if (n_fds && check_stdio_fds(m, fds, n_fds, &why) < 0) {
                close_all(fds, n_fds);
                REFUSE(c, m, d, VS_INVALID, "%s", why);
                return;
        }
        if (s->n_pending >= s->limits.max_pending ||
            (c->caller.uid != 0 && c->slot->pending >= s->limits.max_pending_per_uid)) {
                close_all(fds, n_fds);
                REFUSE(c, m, d, VS_LIMIT, "too many requests in progress; try again later");
                return;
        }
        r = req_new(c, d, m->id, fds, n_fds);
        if (!r) {
                close_all(fds, n_fds);
                REFUSE(c, m, d, VS_FAILED, "out of memory");
                return;
        }
        c->once_used |= 1ull << (d - table);
        r->delegated = delegated;
        r->in_handler = true;
        client_set_phase(c, PH_PENDING);
        k = d->handler(r, m);
        r->in_handler = false;
        if (!r->done && k < 0) {
                if (k == -EOPNOTSUPP)
                        (void)vigild_req_fail(r, VS_UNAVAILABLE, "not available in this build");
                else
                        (void)vigild_req_fail(r, status_from_errno(k), "%s", vigil_strerror(k));
        }
        if (r->done)
                req_free(r);
}
