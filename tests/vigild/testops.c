/* vigild-testops: the real vigild core with a test backend, so the tests can
 * drive the paths this build's "not available" backends never reach:
 * answers that come later, streams with back-pressure, cancellation,
 * fds handed back to the caller, identities from a token or from a session,
 * and a backend that breaks the protocol. It stands in for the supervisor,
 * store, identity and approvals components in tests only; it proves nothing
 * about them. Every call is appended to $VIGILD_TESTOPS_DIR/events. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "macro.h"
#include "ops.h"

static vigild_server *srv;
static char events_path[512], sessions_path[512];

_printf_(1, 2) static void event(const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        int fd, n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if (n > (int)sizeof line - 2)
                n = (int)sizeof line - 2;
        line[n++] = '\n';
        fd = open(events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
                (void)!write(fd, line, (size_t)n);
                close(fd);
        }
}

static int init(vigild_server *s)
{
        const char *dir = getenv("VIGILD_TESTOPS_DIR");

        if (!dir)
                return -EINVAL;
        srv = s;
        snprintf(events_path, sizeof events_path, "%s/events", dir);
        snprintf(sessions_path, sizeof sessions_path, "%s/sessions", dir);
        return 0;
}

static vigild_identity *make_identity(const char *subject, const char *group)
{
        vigild_identity *id = calloc(1, sizeof *id);

        if (!id)
                return NULL;
        id->subject = strdup(subject);
        id->groups = calloc(1, sizeof *id->groups);
        if (!id->subject || !id->groups) {
                vigild_identity_free(id);
                return NULL;
        }
        id->groups[0] = strdup(group);
        id->n_groups = id->groups[0] ? 1 : 0;
        id->exp = 4000000000LL;
        return id;
}

/* ---- a timer in the loop ---- */

typedef struct later later;
typedef void (*later_fn)(later *l);
struct later {
        vigild_req *r;
        int tfd;
        vigild_watch *w;
        later_fn fn;
        unsigned count;
        /* what the step needs */
        vigild_verify_done done;
        char text[256];
        char name[64];
};

static void nothing(later *l)
{
        (void)l;
}

static void later_free(later *l)
{
        if (!l)
                return;
        vigild_watch_free(l->w);
        if (l->tfd >= 0)
                close(l->tfd);
        free(l);
}

static void later_fire(int fd, uint32_t ev, void *ud)
{
        later *l = ud;
        uint64_t n;

        (void)ev;
        (void)!read(fd, &n, sizeof n);
        l->count++;
        l->fn(l);
}

static void later_cancel(vigild_req *r, void *ud)
{
        later *l = ud;

        (void)r;
        event("cancel %s", l->name);
        later_free(l);
}

static later *later_new(vigild_req *r, unsigned ms, bool repeat, later_fn fn)
{
        later *l = calloc(1, sizeof *l);
        struct itimerspec its = { .it_value = { ms / 1000, (long)(ms % 1000) * 1000000 } };

        if (!l)
                return NULL;
        if (repeat)
                its.it_interval = its.it_value;
        l->r = r;
        l->fn = fn;
        snprintf(l->name, sizeof l->name, "%s", vigild_req_name(r));
        l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (l->tfd < 0 || timerfd_settime(l->tfd, 0, &its, NULL) < 0 ||
            vigild_watch_fd(srv, l->tfd, EPOLLIN, later_fire, l, &l->w) < 0) {
                later_free(l);
                return NULL;
        }
        vigild_req_on_cancel(r, later_cancel, l);
        return l;
}

/* ---- identity ---- */

static void slow_verified(later *l)
{
        vigild_req *r = l->r;
        vigild_verify_done done = l->done;
        vigild_identity *id = make_identity(l->text, "idp-auditors");

        vigild_req_on_cancel(r, NULL, NULL);
        later_free(l);
        done(r, id ? 0 : -ENOMEM, id);
}

static int verify_token(vigild_req *r, const char *token, const char *username, vigild_verify_done done)
{
        char subject[128];

        snprintf(subject, sizeof subject, "sub-%s", username ? username : "approver");
        event("verify %.5s %s", token, username ? username : "-");
        if (strncmp(token, "good.", 5) == 0) {
                vigild_identity *id = make_identity(subject, "idp-auditors");

                done(r, id ? 0 : -ENOMEM, id);
                return 0;
        }
        if (strncmp(token, "slow.", 5) == 0) {
                later *l = later_new(r, 200, false, slow_verified);

                if (!l)
                        return -ENOMEM;
                l->done = done;
                snprintf(l->text, sizeof l->text, "%s", subject);
                return 0;
        }
        if (strncmp(token, "bad..", 4) == 0) {
                done(r, -EKEYREJECTED, NULL);
                return 0;
        }
        return -EACCES;
}

/* ---- supervisor ---- */

static int session_of_pid(pid_t pid, uint64_t starttime, char **ret_session, vigild_identity **ret_identity)
{
        char line[256], group[128];
        FILE *f = fopen(sessions_path, "re");
        long p;

        if (!f)
                return -ESRCH;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "%ld %127s", &p, group) == 2 && p == (long)pid) {
                        fclose(f);
                        event("session_of_pid %d starttime=%s", (int)pid, starttime ? "set" : "zero");
                        *ret_session = strdup("s-in");
                        *ret_identity = make_identity("insession", group);
                        return 0;
                }
        fclose(f);
        return -ESRCH;
}

static void start_reply(later *l)
{
        vigild_req *r = l->r;
        vmsg_builder b;
        int p[2];

        vigild_req_on_cancel(r, NULL, NULL);
        if (pipe2(p, O_CLOEXEC) < 0) {
                later_free(l);
                (void)vigild_req_fail(r, VS_FAILED, "pipe");
                return;
        }
        (void)!write(p[1], l->text, strlen(l->text));
        close(p[1]);
        if (vigild_req_reply_begin(r, &b) == 0) {
                vmsg_add_str(&b, VF_SESSION, l->name);
                (void)vigild_req_reply(r, &b, p[0]);
        } else
                close(p[0]);
        vmsg_builder_done(&b);
        later_free(l);
}

static int session_start(vigild_req *r, const vigild_start *s)
{
        size_t ok_fds = 0;
        later *l;

        for (size_t i = 0; i < s->n_fds; i++) {
                int fd = vigild_req_take_fd(r, i);
                struct stat st;

                if (fd >= 0 && fstat(fd, &st) == 0)
                        ok_fds++;
                if (fd >= 0)
                        close(fd);
        }
        event("start form=%s user=%s uid=%u argc=%zu argv0=%s n_env=%zu fds=%zu pty=%d subject=%s tty=%s "
              "rhost=%s",
              s->form == VIGILD_START_LOGIN ? "login" : "token", s->user, (unsigned)s->uid, s->argc,
              s->argc ? s->argv[0] : "-", s->n_env, ok_fds, s->pty, s->identity->subject,
              s->tty ? s->tty : "-", s->rhost ? s->rhost : "-");
        l = later_new(r, 100, false, start_reply);
        if (!l)
                return -ENOMEM;
        snprintf(l->text, sizeof l->text, "ran %s argc=%zu fds=%zu", s->user, s->argc, ok_fds);
        snprintf(l->name, sizeof l->name, "s-%u", (unsigned)s->uid);
        return 0;
}

static int session_close(const char *session)
{
        event("close %s", session);
        return 0;
}

static int reply_empty(vigild_req *r)
{
        vmsg_builder b;
        int k = vigild_req_reply_begin(r, &b);

        if (k == 0)
                k = vigild_req_reply(r, &b, -1);
        vmsg_builder_done(&b);
        return k;
}

static int session_kill(vigild_req *r, const vigild_caller *by, const char *session, const char *reason)
{
        event("kill %s by %u reason=%s", session, (unsigned)by->uid, reason ? reason : "-");
        return reply_empty(r);
}

/* ---- store ---- */

static int send_item(vigild_req *r, const char *json)
{
        vmsg_builder b;
        int k = vigild_req_item_begin(r, &b);

        if (k == 0) {
                vmsg_add_str(&b, VF_ITEM, json);
                k = vigild_req_item(r, &b);
        }
        vmsg_builder_done(&b);
        return k;
}

typedef struct many {
        unsigned next, total;
        unsigned drains;
} many;

static void many_cancel(vigild_req *r, void *ud)
{
        (void)r;
        event("cancel sessions.list many");
        free(ud);
}

static void many_pump(vigild_req *r, void *ud)
{
        many *m = ud;
        char json[1100];
        char pad[1001];

        memset(pad, 'x', 1000);
        pad[1000] = '\0';
        while (m->next < m->total) {
                int k;

                snprintf(json, sizeof json, "{\"n\":%u,\"pad\":\"%s\"}", m->next, pad);
                k = send_item(r, json);
                if (k == -EAGAIN) {
                        m->drains++;
                        vigild_req_on_drain(r, many_pump, m);
                        return;
                }
                if (k < 0) {
                        vigild_req_on_cancel(r, NULL, NULL);
                        (void)vigild_req_fail(r, VS_FAILED, "item: %d", k);
                        free(m);
                        return;
                }
                m->next++;
        }
        event("sessions.list many done drains=%s", m->drains ? "yes" : "no");
        vigild_req_on_cancel(r, NULL, NULL);
        free(m);
        (void)reply_empty(r);
}

static int sessions_list(vigild_req *r, const vigild_list_query *q)
{
        const char *u = q->user ? q->user : "";

        event("sessions.list user=%s", u);
        if (strcmp(u, "stall") == 0) {
                later *l = later_new(r, 3600 * 1000, false, nothing);

                return l ? 0 : -ENOMEM;
        }
        if (strcmp(u, "many") == 0) {
                many *m = calloc(1, sizeof *m);

                if (!m)
                        return -ENOMEM;
                m->total = 2000;
                vigild_req_on_cancel(r, many_cancel, m);
                many_pump(r, m);
                return 0;
        }
        if (strcmp(u, "fail") == 0)
                return -EIO;
        if (strcmp(u, "badreply") == 0) {
                vmsg_builder b;
                int k = vigild_req_reply_begin(r, &b);

                if (k == 0) {
                        vmsg_add_str(&b, VF_TOKEN, "a.b.c"); /* not in a sessions.list reply */
                        k = vigild_req_reply(r, &b, -1);
                }
                vmsg_builder_done(&b);
                return k;
        }
        if (send_item(r, "{\"id\":\"s-1\"}") < 0)
                return -EIO;
        return reply_empty(r);
}

static void watch_tick(later *l)
{
        vmsg_builder b;
        char text[32];

        snprintf(text, sizeof text, "tick %u\r\n", l->count);
        if (vigild_req_item_begin(l->r, &b) == 0) {
                vmsg_add_str(&b, VF_DATA, text);
                vmsg_add_i64(&b, VF_TIME, 1700000000000LL + l->count);
                (void)vigild_req_item(l->r, &b);
        }
        vmsg_builder_done(&b);
        if (strcmp(l->text, "ends") == 0 && l->count == 5) {
                vigild_req *r = l->r;

                vigild_req_on_cancel(r, NULL, NULL);
                later_free(l);
                (void)reply_empty(r);
        }
}

static int session_watch(vigild_req *r, const char *session)
{
        later *l = later_new(r, 20, true, watch_tick);

        event("watch %s", session);
        if (!l)
                return -ENOMEM;
        snprintf(l->text, sizeof l->text, "%s", session);
        vigild_req_stream_begin(r);
        return 0;
}

static int session_replay(vigild_req *r, const vigild_replay_query *q)
{
        event("replay %s", q->session);
        if (send_item(r, "{\"t\":0}") < 0)
                return -EIO;
        return reply_empty(r);
}

/* ---- approvals ---- */

static const char *known(vigild_known_by k)
{
        return k == VIGILD_KNOWN_BY_TOKEN ? "token" : k == VIGILD_KNOWN_BY_SESSION ? "session" : "local";
}

static int approvals_list(vigild_req *r, const vigild_approver *a, const char *session)
{
        event("approvals.list known_by=%s user=%s subject=%s root=%d auditor=%d responder=%d session=%s",
              known(a->known_by), a->user ? a->user : "-", a->identity ? a->identity->subject : "-",
              a->is_root, a->is_auditor, a->is_responder, session ? session : "-");
        if (send_item(r, "{\"id\":\"a1\"}") < 0)
                return -EIO;
        return reply_empty(r);
}

static int approvals_decide(vigild_req *r, const vigild_approver *a, const vigild_decision *d)
{
        event("decide %s %s known_by=%s reason=%s", d->approval, d->approve ? "approve" : "deny",
              known(a->known_by), d->reason ? d->reason : "-");
        return reply_empty(r);
}

static int may_watch(const vigild_approver *a, const char *session)
{
        event("may_watch %s by %u", session, (unsigned)a->caller->uid);
        return strcmp(session, "held") == 0;
}

static const vigild_ops testops = {
        .backends = "testops",
        .init = init,
        .verify_token = verify_token,
        .session_of_pid = session_of_pid,
        .session_start = session_start,
        .session_close = session_close,
        .session_kill = session_kill,
        .sessions_list = sessions_list,
        .session_watch = session_watch,
        .session_replay = session_replay,
        .approvals_list = approvals_list,
        .approvals_decide = approvals_decide,
        .may_watch = may_watch,
};

int main(int argc, char **argv)
{
        return vigild_main(argc, argv, &testops);
}
