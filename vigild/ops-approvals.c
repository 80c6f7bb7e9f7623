/* vigild's approvals backend: approvals.list, approvals.decide and the
 * approver check of session.watch (ops-approvals.h).
 *
 * Every store access runs in a child forked for the request, as token
 * verification does (verify-child.c): the store is LMDB, which must be
 * opened in the process that uses it, once; a write waits for the store's
 * writer lock; the account and group databases that `local:` reads may sit
 * on a network. None of that may hold up vigild's loop, and vigild's own
 * process never opens the store. The child opens it, judges with
 * approvers/ (the code root's CLI runs), and answers in vigild's own
 * protocol over a socket pair: items, then the final reply, so everything it
 * says passes the same decoder and bounds as a client's message.
 *
 * may_watch is synchronous in vigild's interface: it runs the same child
 * and waits for its one byte, at most MAY_WATCH_MS. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "approvers.h"
#include "backend.h"
#include "config/config.h"
#include "log.h"
#include "ops-approvals.h"
#include "proto.h"
#include "store.h"
#include "validate.h"
#include "vigil-error.h"

#define ITEM_MAX 61440u /* VF_ITEM's bound */
#define ERROR_MAX 360u  /* what fits vigild's refusal line after "approvals.decide: " */
#define MAY_WATCH_MS 3000

/* ---- the child ---- */

/* A verdict already reached in this child: requests of one rule and one
 * requester are judged alike, and judging reads the account and group
 * databases (NSS: files, systemd-userdb, maybe a network directory). */
typedef struct verdict_memo {
        struct verdict_memo *next;
        char *approvers, *user, *subject;
        bool allowed;
} verdict_memo;

typedef struct child_ctx {
        int fd;
        const vigild_approver *a;
        vigil_approver_who who;
        bool all; /* root and auditors see every pending request */
        unsigned n_skipped;
        bool may_watch; /* may_watch: found one */
        verdict_memo *memo;
        unsigned n_memo;
} child_ctx;

static bool same(const char *x, const char *y)
{
        return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static char *dup_opt(const char *s, bool *oom)
{
        char *d = s ? strdup(s) : NULL;

        if (s && !d)
                *oom = true;
        return d;
}

/* May x->who decide @a? Remembered per (approvers, user, subject): the
 * judgement reads nothing else of the request. */
static bool may_decide(child_ctx *x, const vigil_approval *a)
{
        vigil_approver_verdict v;
        verdict_memo *m;
        bool allowed, oom = false;

        for (m = x->memo; m; m = m->next)
                if (same(m->approvers, a->approvers) && same(m->user, a->user) &&
                    same(m->subject, a->subject))
                        return m->allowed;
        allowed = vigil_approver_judge(a, &x->who, &v, NULL) == 0 && vigil_approver_allowed(v);
        if (x->n_memo >= 1024 || !(m = calloc(1, sizeof *m)))
                return allowed;
        m->approvers = dup_opt(a->approvers, &oom);
        m->user = dup_opt(a->user, &oom);
        m->subject = dup_opt(a->subject, &oom);
        if (oom) {
                free(m->approvers);
                free(m->user);
                free(m->subject);
                free(m);
                return allowed;
        }
        m->allowed = allowed;
        m->next = x->memo;
        x->memo = m;
        x->n_memo++;
        return allowed;
}

static void who_of(const vigild_approver *a, vigil_approver_who *ret)
{
        *ret = (vigil_approver_who){ .uid = a->caller->uid, .local = a->user };
        if (a->identity && a->known_by != VIGILD_KNOWN_LOCAL) {
                ret->subject = a->identity->subject;
                ret->username = a->identity->username;
                ret->email = a->identity->email;
                ret->groups = (const char *const *)a->identity->groups;
                ret->n_groups = a->identity->n_groups;
                ret->via = a->known_by == VIGILD_KNOWN_BY_SESSION ? VIGIL_VIA_SESSION : VIGIL_VIA_DEVICE;
        }
}

/* The request as protocol text: JSON with every non-ASCII character
 * escaped (\uXXXX), so that no argv or screen can carry a control, bidi or
 * separator character into vigild's text kind. Without the screen, then
 * without the environment, when it does not fit an item; -E2BIG when even
 * that does not. */
static int item_text(const vigil_approval *a, char **ret)
{
        vigil_approval trimmed = *a;

        for (int step = 0; step < 3; step++) {
                _cleanup_free_ char *raw = NULL;
                json_t *j;
                char *out;
                int r;

                if (step >= 1)
                        trimmed.screen = NULL;
                if (step >= 2) {
                        trimmed.env = NULL;
                        trimmed.n_env = 0;
                }
                r = vigil_approval_to_json(&trimmed, false, &raw);
                if (r < 0)
                        return r;
                j = json_loads(raw, JSON_REJECT_DUPLICATES, NULL);
                if (!j)
                        return -EINVAL;
                out = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
                json_decref(j);
                if (!out)
                        return -ENOMEM;
                if (strlen(out) <= ITEM_MAX && vtext_valid((const uint8_t *)out, strlen(out))) {
                        *ret = out;
                        return 0;
                }
                free(out);
        }
        return -E2BIG;
}

static int send_msg(int fd, vmsg_builder *b)
{
        int r = vmsg_builder_finish(b, 0, NULL);

        if (r == 0 && send(fd, b->buf, b->len, MSG_NOSIGNAL) != (ssize_t)b->len)
                r = negative_errno();
        return r;
}

/* The final reply: ok with an optional item, or a status and one line. */
static void answer(int fd, uint16_t type, vstatus st, const char *item, const char *why)
{
        vmsg_builder b = { 0 };
        char line[ERROR_MAX + 4];
        size_t n;

        if (vmsg_builder_init(&b, (uint16_t)(type | VT_REPLY), 1) < 0)
                return;
        (void)vmsg_add_u32(&b, VF_STATUS, st);
        if (st == VS_OK && item)
                (void)vmsg_add_str(&b, VF_ITEM, item);
        if (st != VS_OK) {
                snprintf(line, sizeof line, "%s", why && *why ? why : vstatus_name(st));
                /* cut back to whole characters of valid text */
                n = strlen(line);
                while (n > 0 && !vtext_valid((const uint8_t *)line, n))
                        line[--n] = '\0';
                (void)vmsg_add_str(&b, VF_ERROR, n ? line : vstatus_name(st));
        }
        (void)send_msg(fd, &b);
        vmsg_builder_done(&b);
}

static int list_one(void *userdata, const vigil_approval *a)
{
        child_ctx *x = userdata;
        _cleanup_free_ char *text = NULL;
        vmsg_builder b = { 0 };
        int r;

        if (!x->all && !may_decide(x, a))
                return 0;
        r = item_text(a, &text);
        if (r < 0) {
                x->n_skipped++;
                return 0;
        }
        r = vmsg_builder_init(&b, VT_APPROVALS_LIST | VT_ITEM, 1);
        if (r == 0) {
                (void)vmsg_add_str(&b, VF_ITEM, text);
                r = send_msg(x->fd, &b);
        }
        vmsg_builder_done(&b);
        return r;
}

static int watch_one(void *userdata, const vigil_approval *a)
{
        child_ctx *x = userdata;
        int64_t now = (int64_t)(vigil_now_us() / 1000u);

        if (now < a->expires_ms && may_decide(x, a)) {
                x->may_watch = true;
                return 1;
        }
        return 0;
}

static vstatus status_of(int r)
{
        switch (r) {
        case -ENOENT:
                return VS_NOTFOUND;
        case -EINVAL:
        case -EEXIST:
        case -EALREADY:
        case -ETIME:
        case -EPERM:
        case -ENOKEY:
                return VS_REFUSED;
        default:
                return VS_FAILED;
        }
}

typedef enum job_kind {
        JOB_LIST,
        JOB_DECIDE,
        JOB_MAY_WATCH,
} job_kind;

typedef struct job_args {
        job_kind kind;
        const vigild_approver *a;
        const char *session;      /* list filter, watch target */
        const vigild_decision *d; /* decide */
        const char *store, *key;
} job_args;

/* A session as the CLI names it (an id or a unique prefix, dashes optional:
 * docs/vigild.md) in the text form requests carry; a full id that the store
 * has no recording of stays as it is (its requests may still be there). */
static const char *session_text(vigil_store *st, const char *session, char buf[VIGIL_SESSION_ID_STRLEN + 1])
{
        uint8_t id[VIGIL_SESSION_ID_LEN];

        if (!session)
                return NULL;
        if (vigil_store_find_session(st, session, id) == 0 || vigil_session_id_parse(session, id) == 0) {
                vigil_session_id_format(id, buf);
                return buf;
        }
        return session;
}

_noreturn_ static void child_main(int fd, const job_args *ja)
{
        vigil_store_options o = {
                .dir = ja->store,
                .key_path = ja->key,
                .flags = ja->kind == JOB_DECIDE ? 0 : VIGIL_STORE_READONLY,
        };
        uint16_t type = ja->kind == JOB_DECIDE ? VT_APPROVALS_DECIDE : VT_APPROVALS_LIST;
        child_ctx x = { .fd = fd, .a = ja->a, .all = ja->a->is_root || ja->a->is_auditor };
        char sid[VIGIL_SESSION_ID_STRLEN + 1];
        vigil_store *st = NULL;
        int r;

        who_of(ja->a, &x.who);
        r = vigil_store_open(&o, &st);
        if (r < 0) {
                char line[300];

                if (ja->kind == JOB_MAY_WATCH)
                        _exit(1);
                snprintf(line, sizeof line, "the store cannot be opened: %s",
                         *vigil_store_open_errmsg() ? vigil_store_open_errmsg() : vigil_strerror(r));
                answer(fd, type, VS_UNAVAILABLE, NULL, line);
                _exit(0);
        }
        if (ja->kind == JOB_MAY_WATCH) {
                char yes;

                r = vigil_approvals_list(st, true, session_text(st, ja->session, sid), watch_one, &x);
                yes = r >= 0 && x.may_watch ? '1' : '0';
                (void)!write(fd, &yes, 1);
        } else if (ja->kind == JOB_LIST) {
                r = vigil_approvals_list(st, true, session_text(st, ja->session, sid), list_one, &x);
                if (r < 0)
                        answer(fd, type, VS_FAILED, NULL, vigil_store_errmsg(st));
                else
                        answer(fd, type, VS_OK, NULL, NULL);
        } else {
                vigil_decision_req d = { .id = ja->d->approval,
                                         .approve = ja->d->approve,
                                         .reason = ja->d->reason };
                _cleanup_free_ char *why = NULL, *text = NULL;
                vigil_approval *after = NULL;

                r = vigil_approver_decide(st, &d, &x.who, &after, &why);
                if (r < 0)
                        answer(fd, type, status_of(r), NULL, why ? why : vigil_strerror(r));
                else {
                        (void)item_text(after, &text); /* without it the reply still says ok */
                        answer(fd, type, VS_OK, text, NULL);
                }
                vigil_approval_free(after);
        }
        vigil_store_close(st);
        _exit(0);
}

/* Fork the child; @ret_fd is vigild's end of the pair. */
static int spawn(const job_args *ja, pid_t *ret_pid, int *ret_fd)
{
        const vigil_config *cfg = vigild_server_config(backend_server);
        job_args args = *ja;
        int sv[2];
        pid_t pid;

        if (!cfg || !cfg->store)
                return -EOPNOTSUPP; /* no vigil.conf: no store to look in */
        args.store = cfg->store;
        /* for tests and unusual layouts, as the sessions' supervisors do */
        args.key = secure_getenv("VIGIL_HOST_KEY");
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        pid = fork();
        if (pid == 0) {
                int keep[1] = { sv[1] };

                child_hygiene(keep, 1);
                child_main(keep[0], &args);
        }
        (void)close(sv[1]);
        if (pid < 0) {
                int r = negative_errno();

                (void)close(sv[0]);
                return r;
        }
        *ret_pid = pid;
        *ret_fd = sv[0];
        return 0;
}

/* ---- vigild's side of list and decide ---- */

typedef struct appr_job {
        vigild_req *r;
        pid_t pid;
        int fd;
        vigild_watch *w;
        char *held; /* an item the client's queue had no room for yet */
        uid_t uid;
        char decision[16];
} appr_job;

static void job_free(appr_job *j)
{
        vigild_watch_free(j->w);
        if (j->fd >= 0)
                (void)close(j->fd);
        free(j->held);
        free(j);
}

static void job_cancelled(vigild_req *r, void *userdata)
{
        appr_job *j = userdata;

        (void)r;
        (void)kill(j->pid, SIGKILL);
        job_free(j);
}

static void job_readable(int fd, uint32_t events, void *userdata);

/* 0 when queued, -EAGAIN when the client's queue is full (then it is held
 * and the child's socket not read until it drains), <0 on failure. */
static int forward_item(appr_job *j, const char *text)
{
        vmsg_builder b = { 0 };
        int k;

        k = vigild_req_item_begin(j->r, &b);
        if (k == 0) {
                (void)vmsg_add_str(&b, VF_ITEM, text);
                k = vigild_req_item(j->r, &b);
        }
        vmsg_builder_done(&b);
        return k;
}

/* The job is over: detach it from the request and free it. Call it before
 * the request is answered: an answered request is dead. */
static vigild_req *job_end(appr_job *j)
{
        vigild_req *r = j->r;

        vigild_req_on_cancel(r, NULL, NULL);
        vigild_req_on_drain(r, NULL, NULL);
        job_free(j);
        return r;
}

/* Give up: the child goes, the caller gets one line. */
static void job_fail(appr_job *j, const char *why)
{
        vigild_req *r;

        (void)kill(j->pid, SIGKILL);
        r = job_end(j);
        (void)vigild_req_fail(r, VS_FAILED, "%s", why);
}

static void job_drained(vigild_req *r, void *userdata)
{
        appr_job *j = userdata;
        int k;

        (void)r;
        if (!j->held)
                return;
        k = forward_item(j, j->held);
        if (k == -EAGAIN)
                return;
        free(j->held);
        j->held = NULL;
        if (k < 0) {
                job_fail(j, "cannot pass a request on");
                return;
        }
        if (vigild_watch_fd(vigild_req_server(j->r), j->fd, EPOLLIN, job_readable, j, &j->w) < 0)
                job_fail(j, "internal error");
}

static void log_decision(uid_t uid, const char *decision, const vmsg *m)
{
        const vmsg_field *f = vmsg_get(m, VF_ITEM);
        vigil_approval *a = NULL;
        _cleanup_free_ char *t = NULL;

        if (f && vigil_approval_from_json(f->val, f->len, &a) == 0)
                t = vigil_approval_decided_text(a);
        vlog(LOG_NOTICE, "approvals.decide: request %s (session %s, command %u, rule %s) by uid=%u: %s",
             a ? a->id : "?", a ? a->session : "?", a ? a->command_no : 0, a && a->rule ? a->rule : "?",
             (unsigned)uid, t ? t : decision);
        vigil_approval_free(a);
}

/* The child's final reply, passed on (the job is freed first). */
static void job_final(appr_job *j, const vmsg *m)
{
        uint32_t st = VS_FAILED;
        const vmsg_field *e = vmsg_get(m, VF_ERROR);
        vmsg_builder b = { 0 };
        uid_t uid = j->uid;
        char decision[sizeof j->decision];
        vigild_req *r;

        memcpy(decision, j->decision, sizeof decision);
        r = job_end(j);
        (void)vmsg_get_u32(m, VF_STATUS, &st);
        if (st > VS_MAX_)
                st = VS_FAILED;
        if (st != VS_OK) {
                if (vigild_req_type(r) == VT_APPROVALS_DECIDE)
                        vlog_limited(LOG_NOTICE, "approvals.decide: refused for uid=%u: %.*s", (unsigned)uid,
                                     e ? (int)e->len : 7, e ? (const char *)e->val : "refused");
                (void)vigild_req_fail(r, (vstatus)st, "%.*s", e ? (int)e->len : 7,
                                      e ? (const char *)e->val : "refused");
                return;
        }
        if (vigild_req_type(r) == VT_APPROVALS_DECIDE)
                log_decision(uid, decision, m);
        if (vigild_req_reply_begin(r, &b) == 0) {
                const vmsg_field *f = vmsg_get(m, VF_ITEM);

                if (f)
                        (void)vmsg_add(&b, VF_ITEM, f->val, f->len);
                (void)vigild_req_reply(r, &b, -1);
        } else
                (void)vigild_req_fail(r, VS_FAILED, "out of memory");
        vmsg_builder_done(&b);
}

static void job_readable(int fd, uint32_t events, void *userdata)
{
        appr_job *j = userdata;
        _cleanup_free_ uint8_t *buf = malloc(VMSG_MAX + 1);
        _cleanup_free_ vmsg *m = malloc(sizeof *m);
        uint16_t type = vigild_req_type(j->r);
        ssize_t n;

        (void)events;
        if (!buf || !m) {
                job_fail(j, "out of memory");
                return;
        }
        n = recv(fd, buf, VMSG_MAX + 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0 || vmsg_decode(buf, (size_t)n, 0, m, NULL) < 0 ||
            (m->type != (type | VT_ITEM) && m->type != (type | VT_REPLY)) ||
            (m->type == (type | VT_ITEM) && type != VT_APPROVALS_LIST)) {
                vlog(LOG_ERR, "%s: the approvals backend ended without an answer", vigild_req_name(j->r));
                job_fail(j, "the approvals backend ended without an answer");
                return;
        }
        if (m->type == (type | VT_ITEM)) {
                _cleanup_free_ char *text = NULL;
                int k;

                if (vmsg_get_str(m, VF_ITEM, &text) < 0)
                        k = -ENOMEM;
                else
                        k = forward_item(j, text);
                if (k == -EAGAIN) {
                        /* pause the child (its socket fills up) until the client reads */
                        j->held = TAKE_PTR(text);
                        j->w = vigild_watch_free(j->w);
                        vigild_req_on_drain(j->r, job_drained, j);
                        return;
                }
                if (k < 0)
                        job_fail(j, "cannot pass a request on");
                return;
        }
        job_final(j, m);
}

static int start(vigild_req *r, const job_args *ja)
{
        appr_job *j = calloc(1, sizeof *j);
        int k;

        if (!j)
                return -ENOMEM;
        j->fd = -1;
        k = spawn(ja, &j->pid, &j->fd);
        if (k < 0) {
                free(j);
                return k;
        }
        j->r = r;
        j->uid = ja->a->caller->uid;
        if (ja->d)
                snprintf(j->decision, sizeof j->decision, "%s", ja->d->approve ? "approved" : "denied");
        k = reap_later(vigild_req_server(r), j->pid);
        if (k == 0)
                k = vigild_watch_fd(vigild_req_server(r), j->fd, EPOLLIN, job_readable, j, &j->w);
        if (k < 0) {
                (void)kill(j->pid, SIGKILL);
                if (!j->w)
                        (void)waitpid(j->pid, NULL, 0);
                job_free(j);
                return k;
        }
        vigild_req_on_cancel(r, job_cancelled, j);
        return 0;
}

static int start_or_say(vigild_req *r, const job_args *ja)
{
        int k = start(r, ja);

        if (k == -EOPNOTSUPP) {
                /* answered: 0, so that nobody touches the request again */
                (void)vigild_req_fail(r, VS_UNAVAILABLE, "no vigil.conf is loaded (it names the store)");
                return 0;
        }
        return k;
}

int approvals_list_op(vigild_req *r, const vigild_approver *a, const char *session)
{
        job_args ja = { .kind = JOB_LIST, .a = a, .session = session };

        return start_or_say(r, &ja);
}

int approvals_decide_op(vigild_req *r, const vigild_approver *a, const vigild_decision *d)
{
        job_args ja = { .kind = JOB_DECIDE, .a = a, .d = d };

        return start_or_say(r, &ja);
}

int approvals_may_watch(const vigild_approver *a, const char *session)
{
        job_args ja = { .kind = JOB_MAY_WATCH, .a = a, .session = session };
        struct pollfd p;
        char yes = 0;
        pid_t pid;
        int fd, k;

        k = spawn(&ja, &pid, &fd);
        if (k < 0)
                return k;
        p = (struct pollfd){ .fd = fd, .events = POLLIN };
        do
                k = poll(&p, 1, MAY_WATCH_MS);
        while (k < 0 && errno == EINTR);
        if (k == 1 && recv(fd, &yes, 1, MSG_DONTWAIT) != 1)
                yes = 0;
        (void)close(fd);
        (void)kill(pid, SIGKILL); /* done or too slow: either way no longer needed */
        if (reap_later(backend_server, pid) < 0)
                (void)waitpid(pid, NULL, 0);
        if (k == 0)
                vlog(LOG_WARNING, "session.watch: the approver check took longer than %d ms; refused",
                     MAY_WATCH_MS);
        return yes == '1' ? 1 : 0;
}
