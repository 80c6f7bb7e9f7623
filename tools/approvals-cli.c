/* Requests from the store (root) or from vigild (everyone else), and the
 * approver's identity. The judgement itself is approvers/'s, the same code
 * vigild runs, so both doors answer alike; vigild's refusals arrive as
 * "approvals.decide: <the same line>" and are printed without the prefix. */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "approvals-cli.h"
#include "approvers.h"
#include "client.h"
#include "fileio.h"
#include "identity.h"
#include "proc-cgroup.h"
#include "signin.h"
#include "store-cli.h"
#include "via-vigild.h"
#include "vigil-error.h"

#define CONNECT_MS 5000
#define CALL_MS 20000 /* vigild answers within its request timeout (10 s by default) */

struct cli_approvals {
        const vigil_globals *g;
        const char *cmd;
        vigil_store *st; /* root: the store; NULL: vigild */
};

int64_t cli_now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_approvals_open(const vigil_globals *g, const char *cmd, bool write, cli_approvals **ret)
{
        cli_approvals *c = calloc(1, sizeof *c);

        if (!c) {
                cli_error("%s: out of memory", cmd);
                return EXIT_FAIL;
        }
        c->g = g;
        c->cmd = cmd;
        /* the store is root's alone (0700); everyone else asks vigild, as the
         * other store commands do (a --store of one's own is read directly) */
        if (!cli_via_vigild(g) && cli_store_open(g, cmd, write, &c->st)) {
                free(c);
                return EXIT_FAIL;
        }
        *ret = c;
        return 0;
}

cli_approvals *cli_approvals_close(cli_approvals *c)
{
        if (c) {
                vigil_store_close(c->st);
                free(c);
        }
        return NULL;
}

/* ---- vigild ---- */

/* vigild's refusal line without its "approvals.decide: " prefix, so that the
 * line reads as it does when root decides on the store. */
static const char *refusal_text(const vigild_reply *rep)
{
        const char *e = vigild_reply_error(rep);
        const char *colon = strstr(e, ": ");

        if (colon && (strncmp(e, "approvals.list: ", 16) == 0 || strncmp(e, "approvals.decide: ", 18) == 0))
                return colon + 2;
        return *e ? e : vstatus_name(vigild_reply_status(rep));
}

static int connect_vigild(cli_approvals *c, vigild_conn **ret)
{
        int r = vigild_connect(secure_getenv("VIGILD_SOCKET"), CONNECT_MS, ret);

        if (r < 0) {
                cli_error("%s: %s (not root: requests go through vigild)", c->cmd,
                          vigild_client_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}

static int item_approval(cli_approvals *c, const vmsg *m, vigil_approval **ret)
{
        const vmsg_field *f = vmsg_get(m, VF_ITEM);
        int r;

        if (!f) {
                cli_error("%s: vigild sent no request", c->cmd);
                return EXIT_FAIL;
        }
        r = vigil_approval_from_json(f->val, f->len, ret);
        if (r < 0) {
                cli_error("%s: vigild sent a request that does not decode: %s", c->cmd, vigil_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}

static int list_vigild(cli_approvals *c, cli_approval_cb cb, void *userdata)
{
        vigild_conn *conn = NULL;
        vmsg_builder b = { 0 };
        int r, ret = EXIT_FAIL;

        if (connect_vigild(c, &conn))
                return EXIT_FAIL;
        r = vmsg_builder_init(&b, VT_APPROVALS_LIST, 1);
        if (r == 0)
                r = vigild_send(conn, &b, NULL, 0, CALL_MS);
        if (r < 0) {
                cli_error("%s: %s", c->cmd, vigild_client_strerror(r));
                goto out;
        }
        for (;;) {
                vigild_reply *rep = NULL;
                vigil_approval *a = NULL;

                r = vigild_recv(conn, CALL_MS, &rep);
                if (r < 0) {
                        cli_error("%s: %s", c->cmd, vigild_client_strerror(r));
                        goto out;
                }
                if (rep->msg.type == (VT_APPROVALS_LIST | VT_ITEM)) {
                        r = item_approval(c, &rep->msg, &a);
                        vigild_reply_free(rep);
                        if (r)
                                goto out;
                        r = cb(userdata, a);
                        vigil_approval_free(a);
                        if (r) {
                                ret = r;
                                goto out;
                        }
                        continue;
                }
                if (vigild_reply_status(rep) != VS_OK)
                        cli_error("%s: %s", c->cmd, refusal_text(rep));
                else
                        ret = 0;
                vigild_reply_free(rep);
                goto out;
        }
out:
        vmsg_builder_done(&b);
        vigild_conn_free(conn);
        return ret;
}

typedef struct decide_reply {
        bool refused;
        bool sign_in; /* refused: only an identity-provider entry could name the caller */
} decide_reply;

static int decide_vigild(cli_approvals *c, const char *id, bool approve, const char *reason,
                         const char *token, vigil_approval **ret, decide_reply *ret_dr)
{
        vigild_conn *conn = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        int r, ret_code = EXIT_FAIL;

        *ret_dr = (decide_reply){ 0 };
        if (connect_vigild(c, &conn))
                return EXIT_FAIL;
        r = vmsg_builder_init(&b, VT_APPROVALS_DECIDE, 1);
        if (r == 0) {
                (void)vmsg_add_str(&b, VF_APPROVAL, id);
                (void)vmsg_add_str(&b, VF_DECISION, approve ? "approve" : "deny");
                if (reason)
                        (void)vmsg_add_str(&b, VF_REASON, reason);
                if (token)
                        (void)vmsg_add_str(&b, VF_TOKEN, token);
                r = vigild_call(conn, &b, NULL, 0, CALL_MS, &rep);
        }
        vmsg_builder_done(&b);
        conn = vigild_conn_free(conn);
        if (r < 0) {
                cli_error("%s: %s", c->cmd,
                          r == VIGIL_E_PARSE || r == VIGIL_E_TOO_BIG
                                  ? "the sign-in token does not fit a vigild request"
                                  : vigild_client_strerror(r));
                goto out;
        }
        if (vigild_reply_status(rep) != VS_OK) {
                const char *why = refusal_text(rep);

                ret_dr->refused = true;
                ret_dr->sign_in = strncmp(why, VIGIL_APPROVER_SIGN_IN_PREFIX,
                                          strlen(VIGIL_APPROVER_SIGN_IN_PREFIX)) == 0;
                if (!ret_dr->sign_in || token)
                        cli_error("%s: %s", c->cmd, why);
                goto out;
        }
        /* decided; the request comes back unless it is too big for an item */
        ret_code = vmsg_get(&rep->msg, VF_ITEM) ? item_approval(c, &rep->msg, ret) : 0;
out:
        vigild_reply_free(rep);
        return ret_code;
}

/* ---- root, on the store ---- */

/* The id of the vigil session this process runs in: the supervisor puts
 * every process of a session in the cgroup vigil/<id> of each hierarchy it
 * uses, and only root can move a process out of it (vigild reads the same
 * for its callers). 0, or -ESRCH when in none. */
static int own_session(uint8_t ret[VIGIL_SESSION_ID_LEN])
{
        _cleanup_free_ char *text = NULL;
        proc_cgroup_line l;
        size_t len = 0, pos = 0;
        int r;

        r = read_file_bounded("/proc/self/cgroup", 65536, &text, &len);
        if (r < 0)
                return r;
        while (proc_cgroup_next(text, len, &pos, &l)) {
                char id[64];
                const char *p;
                size_t n = proc_cgroup_session(&l, &p);

                if (n == 0 || n >= sizeof(id))
                        continue;
                memcpy(id, p, n);
                id[n] = '\0';
                if (vigil_session_id_parse(id, ret) == 0)
                        return 0;
        }
        return -ESRCH;
}

typedef struct root_who {
        vigil_approver_who who;
        vigil_session_info info; /* the session this process runs in */
        vigil_identity *device;  /* a device sign-in */
        char *local;
} root_who;

static void root_who_done(root_who *w)
{
        vigil_session_info_clear(&w->info);
        vigil_identity_free(w->device);
        free(w->local);
        *w = (root_who){ 0 };
}

static int root_who_init(cli_approvals *c, root_who *w)
{
        struct passwd pw, *res = NULL;
        char buf[16384];
        uint8_t sid[VIGIL_SESSION_ID_LEN];

        *w = (root_who){ 0 };
        w->who.uid = geteuid();
        if (getpwuid_r(w->who.uid, &pw, buf, sizeof buf, &res) == 0 && res) {
                w->local = strdup(pw.pw_name);
                if (!w->local)
                        return -ENOMEM;
        }
        w->who.local = w->local;
        /* A session's subject is there only when a token verified for the
         * session's account (the username rule), so that account is also
         * the token's username. A session of another store, or one without
         * a token, gives no identity: the local account, then a sign-in. */
        if (own_session(sid) == 0 && vigil_session_info_get(c->st, sid, &w->info) == 0 && w->info.subject &&
            w->info.end_us == 0) {
                w->who.subject = w->info.subject;
                w->who.username = w->info.user;
                w->who.email = w->info.email;
                w->who.groups = (const char *const *)w->info.groups;
                w->who.n_groups = w->info.n_groups;
                w->who.via = VIGIL_VIA_SESSION;
        }
        return 0;
}

static void root_who_device(root_who *w, vigil_identity *id)
{
        w->device = id;
        w->who.subject = id->sub;
        w->who.username = id->username;
        w->who.email = id->email;
        w->who.groups = (const char *const *)id->groups;
        w->who.n_groups = id->n_groups;
        w->who.via = VIGIL_VIA_DEVICE;
}

static void log_decision(const char *cmd, const vigil_approval *a, const char *what)
{
        _cleanup_free_ char *t = vigil_approval_decided_text(a);

        openlog("vigil", LOG_PID, LOG_AUTHPRIV);
        syslog(LOG_NOTICE, "%s: request %s (session %s, command %u, rule %s): %s", cmd, a->id, a->session,
               a->command_no, a->rule ? a->rule : "?",
               what ? what
               : t  ? t
                    : "?");
        closelog();
}

static int decide_root(cli_approvals *c, const char *id, bool approve, const char *reason,
                       vigil_approval **ret)
{
        vigil_decision_req d = { .id = id, .approve = approve, .reason = reason };
        _cleanup_free_ char *why = NULL;
        root_who w;
        int r;

        if (root_who_init(c, &w) < 0) {
                cli_error("%s: out of memory", c->cmd);
                return EXIT_FAIL;
        }
        r = vigil_approver_decide(c->st, &d, &w.who, ret, &why);
        if (r == -ENOKEY) {
                char *token = NULL;
                vigil_identity *idn = NULL;

                /* only a group:/user: entry could name root here: who is at the console? */
                if (cli_sign_in(c->g, c->cmd, &token)) {
                        root_who_done(&w);
                        return EXIT_FAIL;
                }
                r = cli_verify_approver_token(c->g, c->cmd, token, &idn);
                explicit_bzero(token, strlen(token));
                free(token);
                if (r) {
                        root_who_done(&w);
                        return EXIT_FAIL;
                }
                root_who_device(&w, idn);
                free(why);
                why = NULL;
                r = vigil_approver_decide(c->st, &d, &w.who, ret, &why);
        }
        if (r < 0) {
                _cleanup_free_ char *line = NULL;

                cli_error("%s: %s", c->cmd, why ? why : vigil_strerror(r));
                if (r == -EPERM || r == -ENOKEY) {
                        if (asprintf(&line, "refused for uid %u: %s", (unsigned)w.who.uid, why ? why : "?") <
                            0)
                                line = NULL;
                        openlog("vigil", LOG_PID, LOG_AUTHPRIV);
                        syslog(LOG_NOTICE, "%s: request %s: %s", c->cmd, id, line ? line : "refused");
                        closelog();
                }
                root_who_done(&w);
                return EXIT_FAIL;
        }
        log_decision(c->cmd, *ret, NULL);
        root_who_done(&w);
        return 0;
}

/* ---- the interface ---- */

int cli_approvals_list(cli_approvals *c, cli_approval_cb cb, void *userdata)
{
        int r;

        if (!c->st)
                return list_vigild(c, cb, userdata);
        /* the store's callback returns > 0 to stop: a callback's exit code stops it */
        r = vigil_approvals_list(c->st, true, NULL, (vigil_approval_cb)cb, userdata);
        if (r < 0)
                return cli_store_error(c->st, c->cmd, "list requests", r);
        return r;
}

typedef struct find_ctx {
        const char *prefix;
        vigil_approval *hit;
        unsigned n;
} find_ctx;

static int find_one(void *userdata, const vigil_approval *a)
{
        find_ctx *x = userdata;
        _cleanup_free_ char *json = NULL;

        if (strncmp(a->id, x->prefix, strlen(x->prefix)) != 0)
                return 0;
        if (++x->n > 1)
                return 0;
        /* the callback's request is borrowed: keep a copy through its JSON */
        if (vigil_approval_to_json(a, false, &json) < 0 ||
            vigil_approval_from_json(json, strlen(json), &x->hit) < 0)
                return EXIT_FAIL;
        return 0;
}

int cli_approvals_get(cli_approvals *c, const char *id, vigil_approval **ret)
{
        char low[VIGIL_APPROVAL_ID_LEN + 1];
        find_ctx x = { .prefix = low };
        int r;

        if (!vigil_approval_id_normalize(id, low)) {
                cli_error("%s: '%s' is not a request id (4 to %u characters of 0-9 and a-z without u)",
                          c->cmd, strlen(id) > 16 ? "(too long)" : id, VIGIL_APPROVAL_ID_LEN);
                return EXIT_FAIL;
        }
        if (c->st) {
                r = vigil_approval_get(c->st, low, ret);
                if (r == -ENOENT)
                        cli_error("%s: no approval request '%s'", c->cmd, low);
                else if (r == -EEXIST)
                        cli_error("%s: request prefix '%s' is ambiguous; give more of the id", c->cmd, low);
                else if (r < 0)
                        return cli_store_error(c->st, c->cmd, "read request", r);
                return r < 0 ? EXIT_FAIL : 0;
        }
        r = list_vigild(c, find_one, &x);
        if (r) {
                vigil_approval_free(x.hit);
                return EXIT_FAIL;
        }
        if (x.n > 1) {
                vigil_approval_free(x.hit);
                cli_error("%s: request prefix '%s' is ambiguous; give more of the id", c->cmd, low);
                return EXIT_FAIL;
        }
        if (!x.hit) {
                cli_error("%s: no pending request '%s' that you may decide (vigild shows only those)",
                          c->cmd, low);
                return EXIT_FAIL;
        }
        *ret = x.hit;
        return 0;
}

int cli_approvals_decide(cli_approvals *c, const char *id, bool approve, const char *reason,
                         vigil_approval **ret)
{
        char low[VIGIL_APPROVAL_ID_LEN + 1];
        decide_reply dr;
        char *token = NULL;
        int r;

        if (!vigil_approval_id_normalize(id, low)) {
                cli_error("%s: '%s' is not a request id (4 to %u characters of 0-9 and a-z without u)",
                          c->cmd, strlen(id) > 16 ? "(too long)" : id, VIGIL_APPROVAL_ID_LEN);
                return EXIT_FAIL;
        }
        if (c->st)
                return decide_root(c, low, approve, reason, ret);
        r = decide_vigild(c, low, approve, reason, NULL, ret, &dr);
        if (r == 0 || !dr.sign_in)
                return r;
        /* known only by the local account, and only a group:/user: entry
         * could name the caller: sign in, and let vigild verify the token */
        if (cli_sign_in(c->g, c->cmd, &token))
                return EXIT_FAIL;
        r = decide_vigild(c, low, approve, reason, token, ret, &dr);
        explicit_bzero(token, strlen(token));
        free(token);
        return r;
}
