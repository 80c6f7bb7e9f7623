/* Holding a command for approval (issue 9).
 *
 * A `hold` decision leaves the seccomp notification unanswered: the process
 * waits inside its execve (killably: Ctrl-C still ends it) while a request
 * waits in the store (store/approval.h) for someone to decide. Nothing here
 * blocks: a timer polls the store every HOLDS_POLL_MS while something is
 * held (a read transaction each, no lock anyone waits on), and checks that
 * each held notification is still valid. Then:
 *   approved   the answer is CONTINUE (notify_allow_held()): the exec check at
 *              the exec event applies as to any allowed command;
 *   rejected   EPERM, and the approver's reason on the terminal;
 *   expired    the supervisor decides TIMEOUT (a compare-and-set: an approval
 *              that came first wins), then EPERM;
 *   gone       the notification is no longer valid (Ctrl-C killed the
 *              process, the session ends): WITHDRAWN.
 * A call interrupted by a signal and restarted (only without
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, before Linux 5.19) comes back as a
 * new notification for the same thread, file and argv: it takes the place of
 * the old one under the same request.
 *
 * The command's event is recorded when it is held (decision held, with the
 * request's id); its outcome is recorded as an approval record in the
 * session's chain (who, by which identity, when, reason), and the event then
 * carries it. remember=session: an approved command line runs again in the
 * same session without a request; its event says approved and names the
 * request that approved it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "approval.h"
#include "child.h"
#include "display.h"
#include "sup.h"
#include "util.h"
#include "vigil-error.h"

/* A notification that went away waits this long for its restart before its
 * request is withdrawn (unless the thread is gone: then at once). */
#define RESTART_GRACE_NS (1000ull * 1000000ull)
/* The store cannot be read: how long after the expiry the supervisor waits
 * before it gives up on the request and denies. */
#define STORE_GRACE_MS 10000
#define DEFAULT_TIMEOUT_MS (5ull * 60 * 1000)
/* Environment entries a request shows at most (those that differ from a login's). */
#define REQUEST_ENV_MAX 256u
#define REQUEST_ENV_BYTES (64u * 1024)

struct hold {
        uint64_t notif; /* the notification it answers */
        uint64_t t_us;
        exec_input in; /* as the process passed it: what runs, what remember= compares */
        exec_plan plan;
        cmd_event *ev; /* recorded as held; its argv masked */
        char id[VIGIL_APPROVAL_ID_LEN + 1];
        char timeout[32];
        int64_t expires_ms;
        uint64_t gone_since_ns;
        bool remember;
        bool store_failing; /* logged once */
};

static int64_t now_ms(void)
{
        return (int64_t)(now_realtime_us() / 1000u);
}

static void hold_free(hold *h)
{
        if (!h)
                return;
        exec_input_done(&h->in);
        exec_plan_done(&h->plan);
        cmd_event_free(h->ev);
        free(h);
}

/* "5m", "90s", "1h": as the policy's timeout= spells it. */
static void format_timeout(uint64_t ms, char buf[32])
{
        if (ms && ms % 3600000u == 0)
                (void)snprintf(buf, 32, "%lluh", (unsigned long long)(ms / 3600000u));
        else if (ms && ms % 60000u == 0)
                (void)snprintf(buf, 32, "%llum", (unsigned long long)(ms / 60000u));
        else if (ms % 1000u == 0)
                (void)snprintf(buf, 32, "%llus", (unsigned long long)(ms / 1000u));
        else
                (void)snprintf(buf, 32, "%.1fs", (double)ms / 1000.0);
}

/* Text from the store for one line of the terminal: no control bytes. */
static void plain(const char *in, char *buf, size_t size)
{
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && o + 1 < size; p++)
                buf[o++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
        buf[o] = 0;
}

static void who_of(const vigil_approver_id *b, char *buf, size_t size)
{
        plain(b->email ? b->email : b->subject ? b->subject : b->local ? b->local : "vigil", buf, size);
}

static vigil_store *store_of(session *s)
{
        return s->rec.st;
}

static void arm(session *s)
{
        approvals *ap = &s->appr;
        bool want = ap->n > 0;
        struct itimerspec its = {0};

        if (want == ap->armed || ap->timerfd < 0)
                return;
        if (want) {
                its.it_interval.tv_nsec = (long)HOLDS_POLL_MS * 1000000L;
                its.it_value = its.it_interval;
        }
        if (timerfd_settime(ap->timerfd, 0, &its, NULL) == 0)
                ap->armed = want;
}

/* ---- the last screenful ---- */

void holds_screen(session *s, const void *buf, size_t n)
{
        approvals *ap = &s->appr;
        const uint8_t *p = buf;

        if (!ap->screen)
                return;
        if (n >= VIGIL_APPROVAL_SCREEN_MAX) {
                p += n - VIGIL_APPROVAL_SCREEN_MAX;
                n = VIGIL_APPROVAL_SCREEN_MAX;
        }
        while (n > 0) {
                size_t k = VIGIL_APPROVAL_SCREEN_MAX - ap->screen_pos;

                if (k > n)
                        k = n;
                memcpy(ap->screen + ap->screen_pos, p, k);
                ap->screen_pos = (ap->screen_pos + k) % VIGIL_APPROVAL_SCREEN_MAX;
                if (ap->screen_len < VIGIL_APPROVAL_SCREEN_MAX)
                        ap->screen_len = ap->screen_len + k > VIGIL_APPROVAL_SCREEN_MAX ? VIGIL_APPROVAL_SCREEN_MAX
                                                                                      : ap->screen_len + k;
                p += k;
                n -= k;
        }
}

/* The last lines of output as text: whole lines (a wrapped ring loses its
 * first, partial one), at most a terminal's height of them, valid UTF-8
 * ('?' for what is not: never longer than what was kept). */
static char *screen_text(session *s)
{
        approvals *ap = &s->appr;
        size_t len = ap->screen_len;
        size_t start = (ap->screen_pos + VIGIL_APPROVAL_SCREEN_MAX - len) % VIGIL_APPROVAL_SCREEN_MAX;
        struct winsize ws = {0};
        unsigned rows = 0, lines = 0;
        char *raw, *out;
        size_t a = 0, o = 0;

        if (!ap->screen || len == 0)
                return NULL;
        raw = malloc(len + 1);
        out = malloc(len + 1);
        if (!raw || !out) {
                free(raw);
                free(out);
                return NULL;
        }
        for (size_t i = 0; i < len; i++)
                raw[i] = (char)ap->screen[(start + i) % VIGIL_APPROVAL_SCREEN_MAX];
        if (len == VIGIL_APPROVAL_SCREEN_MAX) {
                char *nl = memchr(raw, '\n', len);

                if (nl)
                        a = (size_t)(nl - raw) + 1;
        }
        if (s->io.mode == VIGIL_IO_PTY && s->io.leader >= 0 && ioctl(s->io.leader, TIOCGWINSZ, &ws) == 0)
                rows = ws.ws_row;
        if (rows > 0)
                for (size_t i = len; i > a; i--)
                        /* a line end before the last one starts a line that is counted */
                        if (raw[i - 1] == '\n' && i < len && ++lines >= rows) {
                                a = i;
                                break;
                        }
        for (size_t i = a; i < len;) {
                unsigned char c = (unsigned char)raw[i];
                size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                bool ok = n > 0 && i + n <= len;

                for (size_t k = 1; ok && k < n; k++)
                        ok = ((unsigned char)raw[i + k] & 0xc0) == 0x80;
                /* overlong forms, surrogates and beyond U+10FFFF */
                if (ok && n == 2)
                        ok = c >= 0xc2;
                if (ok && n == 3)
                        ok = !(c == 0xe0 && (unsigned char)raw[i + 1] < 0xa0) &&
                             !(c == 0xed && (unsigned char)raw[i + 1] > 0x9f);
                if (ok && n == 4)
                        ok = c <= 0xf4 && !(c == 0xf0 && (unsigned char)raw[i + 1] < 0x90) &&
                             !(c == 0xf4 && (unsigned char)raw[i + 1] > 0x8f);
                if (!ok || c == 0) {
                        if (c != 0)
                                out[o++] = '?';
                        i++;
                        continue;
                }
                memcpy(out + o, raw + i, n);
                o += n;
                i += n;
        }
        out[o] = 0;
        free(raw);
        return out;
}

/* ---- the request ---- */

static bool env_in(char *const *env, const char *entry)
{
        for (; env && *env; env++)
                if (strcmp(*env, entry) == 0)
                        return true;
        return false;
}

/* The entries of @envp that a login's environment does not have as they are
 * (new names, other values), masked like command lines: values are where
 * secrets live. */
static int env_diff(session *s, const strv *envp, strv *ret)
{
        char **login = NULL;
        strv diff = {0}, masked = {0};
        size_t bytes = 0;
        int r;

        r = child_env(&s->acct, s->cfg->term, &login);
        if (r >= 0 && s->cfg->env)
                r = child_env_merge(&login, s->cfg->env);
        for (size_t i = 0; r >= 0 && i < envp->n && diff.n < REQUEST_ENV_MAX; i++) {
                if (env_in(login, envp->v[i]))
                        continue;
                bytes += strlen(envp->v[i]) + 1;
                if (bytes > REQUEST_ENV_BYTES)
                        break;
                r = strv_push(&diff, envp->v[i]);
        }
        child_env_free(login);
        if (r >= 0 && diff.n > 0)
                r = masking_copy_argv(s, diff.v, &masked);
        strv_clear(&diff);
        if (r < 0)
                return r;
        *ret = masked;
        return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
        char *c;

        if (!s)
                return NULL;
        c = strdup(s);
        if (!c)
                *oom = true;
        return c;
}

static char **strv_dup(const char *const *v, size_t n, bool *oom)
{
        char **c = calloc(n + 1, sizeof(char *));

        if (!c) {
                *oom = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                c[i] = dup_or_null(v[i] ? v[i] : "", oom);
        return c;
}

static int request_new(session *s, const exec_input *in, const exec_plan *p, const cmd_event *e,
                       const vigil_decision *d, uint64_t t_us, vigil_approval **ret)
{
        const vigil_session_identity *id = s->cfg->identity;
        vigil_approval *a = calloc(1, sizeof(*a));
        char host[256];
        strv env = {0};
        bool oom = false;
        int r;

        if (!a)
                return -ENOMEM;
        r = env_diff(s, &in->envp, &env);
        if (r < 0) {
                free(a);
                return r;
        }
        if (gethostname(host, sizeof(host) - 1) < 0)
                (void)snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        (void)snprintf(a->session, sizeof(a->session), "%.36s", s->id);
        a->command_no = s->rec.next_no;
        a->user = dup_or_null(s->acct.name, &oom);
        a->subject = dup_or_null(id ? id->subject : NULL, &oom);
        a->email = dup_or_null(id ? id->email : NULL, &oom);
        a->groups = strv_dup(s->penv.groups, s->penv.n_groups, &oom);
        a->n_groups = a->groups ? s->penv.n_groups : 0;
        a->host = dup_or_null(host, &oom);
        a->runas = dup_or_null(p->runas, &oom);
        a->cwd = dup_or_null(p->cwd, &oom);
        a->exe = dup_or_null(e->exe, &oom);
        a->argv = strv_dup((const char *const *)e->argv.v, e->argv.n, &oom);
        a->argc = a->argv ? e->argv.n : 0;
        if (env.n > 0) {
                a->env = TAKE_PTR(env.v);
                a->n_env = env.n;
        }
        a->screen = screen_text(s);
        a->rule = dup_or_null(e->rule, &oom);
        a->approvers = dup_or_null(d->approvers, &oom);
        a->remember = d->remember_session;
        a->created_ms = (int64_t)(t_us / 1000u);
        a->expires_ms = a->created_ms + (int64_t)(d->timeout_ms ? d->timeout_ms : DEFAULT_TIMEOUT_MS);
        if (oom) {
                vigil_approval_free(a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

/* ---- remember=session ---- */

static const remembered_cmd *remembered_find(session *s, const exec_input *in, const exec_plan *p)
{
        approvals *ap = &s->appr;

        if (p->n == 0)
                return NULL;
        for (size_t i = 0; i < ap->n_rem; i++) {
                const remembered_cmd *m = &ap->rem[i];

                if (m->dev == p->steps[0].dev && m->ino == p->steps[0].ino && strv_equal(&m->argv, &in->argv))
                        return m;
        }
        return NULL;
}

static void remember(session *s, const hold *h)
{
        approvals *ap = &s->appr;
        remembered_cmd *m;

        if (!h->remember || h->plan.n == 0 || remembered_find(s, &h->in, &h->plan))
                return;
        if (ap->n_rem == HOLDS_REMEMBER_MAX) {
                /* the oldest goes: it will be asked for again */
                strv_clear(&ap->rem[0].argv);
                memmove(ap->rem, ap->rem + 1, (HOLDS_REMEMBER_MAX - 1) * sizeof(ap->rem[0]));
                ap->n_rem--;
        }
        m = &ap->rem[ap->n_rem];
        *m = (remembered_cmd){.dev = h->plan.steps[0].dev, .ino = h->plan.steps[0].ino};
        if (strv_copy((const char *const *)h->in.argv.v, h->in.argv.n, &m->argv) < 0)
                return; /* not remembered: asked for again */
        memcpy(m->id, h->id, sizeof(m->id));
        ap->n_rem++;
}

/* ---- holding ---- */

/* The same thread asking again for the same file and argv while its held
 * call's notification is gone: a restart after a signal. */
static hold *find_restarted(session *s, const exec_input *in, const exec_plan *p)
{
        approvals *ap = &s->appr;

        for (size_t i = 0; i < ap->n; i++) {
                hold *h = ap->holds[i];

                if (h->in.tid == in->tid && h->in.st.tgid == in->st.tgid && h->plan.n > 0 && p->n > 0 &&
                    h->plan.steps[0].dev == p->steps[0].dev && h->plan.steps[0].ino == p->steps[0].ino &&
                    strv_equal(&h->in.argv, &in->argv) && !notify_id_valid(s, h->notif))
                        return h;
        }
        return NULL;
}

void notify_hold(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us)
{
        approvals *ap = &s->appr;
        vigil_decision d = p->steps[p->deciding].d; /* a copy: @p moves into the hold */
        _cleanup_free_ char *cmd = NULL;
        vigil_approval *a = NULL;
        const remembered_cmd *m;
        char why[600];
        cmd_event *e;
        hold *h;
        int r;

        /* the retry of a call just denied (a PATH search after a rejection) */
        if (notify_recently_denied(s, in, p)) {
                (void)notify_respond(s, id, -EPERM, false);
                return;
        }
        h = find_restarted(s, in, p);
        if (h) {
                exec_input_done(&h->in);
                exec_plan_done(&h->plan);
                h->in = *in;
                h->plan = *p;
                memset(in, 0, sizeof(*in));
                in->pidfd = -1;
                memset(p, 0, sizeof(*p));
                h->notif = id;
                h->gone_since_ns = 0;
                return;
        }
        if (d.remember_session && (m = remembered_find(s, in, p))) {
                notify_allow_held(s, id, in, p, t_us, NULL, m->id);
                return;
        }
        if (!store_of(s)) {
                notify_deny_reason(s, id, in, p, t_us,
                                   "it needs approval, and the session store that keeps requests cannot be used");
                return;
        }
        if (ap->n >= HOLDS_MAX) {
                notify_deny_reason(s, id, in, p, t_us, "too many commands of this session wait for approval");
                return;
        }
        e = notify_event_new(in, p, t_us, CMD_HELD);
        if (!e) {
                notify_deny_reason(s, id, in, p, t_us, "out of memory");
                return;
        }
        /* what the store, the approvers and the hook see is masked */
        masking_argv(s, e);
        /* the screen up to this moment (the command line typed included) */
        relay_drain(s);
        r = request_new(s, in, p, e, &d, t_us, &a);
        if (r >= 0)
                r = vigil_approval_create(store_of(s), a);
        if (r < 0) {
                const char *msg = r == -ENOMEM ? vigil_strerror(r) : vigil_store_errmsg(store_of(s));

                supervisor_log(s, LOG_ERR, "cannot create an approval request: %s",
                               msg && *msg ? msg : vigil_strerror(r));
                (void)snprintf(why, sizeof(why), "it needs approval, and the request could not be made: %s",
                               msg && *msg ? msg : vigil_strerror(r));
                cmd_event_free(e);
                vigil_approval_free(a);
                notify_deny_reason(s, id, in, p, t_us, why);
                return;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                /* the request exists: it must not stay pending */
                (void)vigil_approval_decide(store_of(s), a->id, VIGIL_APPROVAL_WITHDRAWN, NULL, "out of memory");
                cmd_event_free(e);
                vigil_approval_free(a);
                notify_deny_reason(s, id, in, p, t_us, "out of memory");
                return;
        }
        memcpy(e->request, a->id, sizeof(e->request));
        session_event_record(s, e);
        h->notif = id;
        h->t_us = t_us;
        h->in = *in;
        memset(in, 0, sizeof(*in));
        in->pidfd = -1;
        h->plan = *p;
        memset(p, 0, sizeof(*p));
        h->ev = e;
        memcpy(h->id, a->id, sizeof(h->id));
        h->expires_ms = a->expires_ms;
        h->remember = d.remember_session;
        format_timeout(d.timeout_ms ? d.timeout_ms : DEFAULT_TIMEOUT_MS, h->timeout);
        ap->holds[ap->n++] = h;
        arm(s);
        (void)display_cmdline((const char *const *)e->argv.v, e->argv.n, &cmd);
        relay_message(s, "vigil: held for approval (request %s): %s \xe2\x80\x94 waiting up to %s; Ctrl-C cancels",
                      h->id, cmd ? cmd : "?", h->timeout);
        hooks_request(s, a);
        vigil_approval_free(a);
}

static cmd_decision decision_of(vigil_approval_state st)
{
        switch (st) {
        case VIGIL_APPROVAL_APPROVED:
                return CMD_APPROVED;
        case VIGIL_APPROVAL_TIMEOUT:
                return CMD_TIMEOUT;
        case VIGIL_APPROVAL_WITHDRAWN:
                return CMD_WITHDRAWN;
        case VIGIL_APPROVAL_REJECTED:
        case VIGIL_APPROVAL_PENDING:
        case _VIGIL_APPROVAL_STATE_MAX:
                break;
        }
        return CMD_REJECTED;
}

/* The outcome in the session's own chain: who (by which identity), when, why. */
static void record_outcome(session *s, const hold *h, const vigil_approval *a)
{
        vigil_approval_outcome o = {.request = (char *)h->id};

        if (a) {
                o.by_subject = a->decided_by.subject;
                o.by_email = a->decided_by.email;
                o.by_groups = a->decided_by.groups;
                o.by_n_groups = a->decided_by.n_groups;
                o.by_local = a->decided_by.local;
                o.by_via = a->decided_by.via;
                o.decided_us = a->decided_ms > 0 ? (uint64_t)a->decided_ms * 1000u : 0;
                o.reason = a->reason;
        }
        record_approval(s, h->ev, &o);
}

/* Apply the decided state @st (from @a when the store could be read, which
 * may be NULL). The hold is done afterwards. */
static void resolve(session *s, hold *h, vigil_approval_state st, const vigil_approval *a)
{
        bool valid = notify_id_valid(s, h->notif);
        _cleanup_free_ char *cmd = NULL;
        char who[256], reason[1100];

        h->ev->decision = decision_of(st);
        record_outcome(s, h, a);
        if (a)
                hooks_decided(s, a);
        if (st == VIGIL_APPROVAL_APPROVED && valid) {
                who_of(&a->decided_by, who, sizeof(who));
                relay_message(s, "vigil: approved by %s (request %s)", who, h->id);
                remember(s, h);
                notify_allow_held(s, h->notif, &h->in, &h->plan, h->t_us, TAKE_PTR(h->ev), NULL);
                return;
        }
        if (valid)
                (void)notify_respond(s, h->notif, -EPERM, false);
        notify_note_denied(s, &h->in, &h->plan);
        if (!s->ending) {
                (void)display_cmdline((const char *const *)h->ev->argv.v, h->ev->argv.n, &cmd);
                switch (st) {
                case VIGIL_APPROVAL_REJECTED:
                        who_of(a ? &a->decided_by : &(vigil_approver_id){0}, who, sizeof(who));
                        plain(a ? a->reason : NULL, reason, sizeof(reason));
                        relay_message(s, "vigil: rejected by %s (request %s)%s%s", who, h->id, *reason ? ": " : "",
                                      reason);
                        break;
                case VIGIL_APPROVAL_TIMEOUT:
                        relay_message(s, "vigil: not approved within %s (request %s): %s", h->timeout, h->id,
                                      cmd ? cmd : "?");
                        break;
                case VIGIL_APPROVAL_WITHDRAWN:
                        relay_message(s, "vigil: withdrawn (request %s): %s", h->id, cmd ? cmd : "?");
                        break;
                case VIGIL_APPROVAL_APPROVED: /* approved, but the process is gone */
                case VIGIL_APPROVAL_PENDING:
                case _VIGIL_APPROVAL_STATE_MAX:
                        break;
                }
        }
        session_event_end(s, TAKE_PTR(h->ev));
}

/* The supervisor decides (@to: TIMEOUT, WITHDRAWN). An approver who decided
 * first wins: then that decision applies. */
static void decide_own(session *s, hold *h, vigil_approval_state to, const char *why)
{
        vigil_store *st = store_of(s);
        vigil_approval *a = NULL;
        int r = st ? vigil_approval_decide(st, h->id, to, NULL, why) : -ENOENT;

        if (r < 0 && r != -EALREADY)
                supervisor_log(s, LOG_WARNING, "approval request %s: cannot record it as %s: %s", h->id,
                               vigil_approval_state_name(to), st ? vigil_store_errmsg(st) : "no store");
        if (st && vigil_approval_get(st, h->id, &a) >= 0 && a->state != VIGIL_APPROVAL_PENDING)
                resolve(s, h, a->state, a);
        else
                resolve(s, h, to, NULL);
        vigil_approval_free(a);
}

/* Whether the thread is gone (or a zombie): a restart cannot come any more. */
static bool thread_gone(pid_t tid)
{
        char path[64], buf[512];
        const char *p;

        (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
        if (read_small_file(path, buf, sizeof(buf), NULL) < 0)
                return true;
        p = strrchr(buf, ')');
        return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* One look at a hold. @return true when it is resolved (and may be freed). */
static bool check(session *s, hold *h)
{
        vigil_store *st = store_of(s);
        vigil_approval *a = NULL;
        int64_t now = now_ms();
        int r;

        if (!notify_id_valid(s, h->notif)) {
                uint64_t mono = now_monotonic_ns();

                if (!h->gone_since_ns)
                        h->gone_since_ns = mono;
                if (!s->ending && !thread_gone(h->in.tid) && mono - h->gone_since_ns < RESTART_GRACE_NS)
                        return false;
                decide_own(s, h, VIGIL_APPROVAL_WITHDRAWN, s->ending ? "the session ended" : "cancelled");
                return true;
        }
        r = st ? vigil_approval_get(st, h->id, &a) : -ENOENT;
        if (r < 0) {
                if (!h->store_failing)
                        supervisor_log(s, LOG_WARNING, "approval request %s: cannot read it: %s", h->id,
                                       st ? vigil_store_errmsg(st) : "no store");
                h->store_failing = true;
                if (now < h->expires_ms + STORE_GRACE_MS)
                        return false;
                decide_own(s, h, VIGIL_APPROVAL_TIMEOUT, NULL);
                return true;
        }
        h->store_failing = false;
        if (a->state == VIGIL_APPROVAL_PENDING) {
                vigil_approval_free(a);
                if (now < h->expires_ms)
                        return false;
                decide_own(s, h, VIGIL_APPROVAL_TIMEOUT, NULL);
                return true;
        }
        resolve(s, h, a->state, a);
        vigil_approval_free(a);
        return true;
}

static void check_all(session *s)
{
        approvals *ap = &s->appr;

        for (size_t i = 0; i < ap->n;) {
                hold *h = ap->holds[i];

                if (!check(s, h)) {
                        i++;
                        continue;
                }
                memmove(ap->holds + i, ap->holds + i + 1, (ap->n - i - 1) * sizeof(ap->holds[0]));
                ap->n--;
                hold_free(h);
        }
        arm(s);
}

static void timer_fired(session *s, watch *w, uint32_t events)
{
        uint64_t ticks;

        (void)w;
        (void)events;
        if (read(s->appr.timerfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
                return;
        check_all(s);
}

int holds_setup(session *s)
{
        approvals *ap = &s->appr;

        ap->screen = malloc(VIGIL_APPROVAL_SCREEN_MAX);
        if (!ap->screen)
                return -ENOMEM;
        ap->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (ap->timerfd < 0)
                return negative_errno();
        return loop_add(s, &ap->timer_w, ap->timerfd, timer_fired, EPOLLIN);
}

void holds_end_all(session *s)
{
        approvals *ap = &s->appr;
        vigil_store *st = store_of(s);

        while (ap->n > 0) {
                hold *h = ap->holds[--ap->n];

                decide_own(s, h, VIGIL_APPROVAL_WITHDRAWN, "the session ended");
                hold_free(h);
        }
        arm(s);
        /* what may still be pending of this session (a decision that could
         * not be written) must not wait for a process that is gone */
        if (st)
                (void)vigil_approvals_reap(st, s->id, NULL);
}

void holds_done(session *s)
{
        approvals *ap = &s->appr;

        while (ap->n > 0)
                hold_free(ap->holds[--ap->n]);
        for (size_t i = 0; i < ap->n_rem; i++)
                strv_clear(&ap->rem[i].argv);
        ap->n_rem = 0;
        loop_del(s, &ap->timer_w);
        if (ap->timerfd >= 0)
                (void)close(ap->timerfd);
        ap->timerfd = -1;
        free(ap->screen);
        ap->screen = NULL;
}
