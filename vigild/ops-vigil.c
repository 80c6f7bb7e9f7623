/* vigild_ops_vigil: vigild's backends on the real components.
 *
 *   session_start   launch.c: a supervisor process per session (supervisor/)
 *   verify_token    verify-child.c: the identity component, in a child
 *   session_of_pid  here: the pid's cgroup names the session, its record the identity
 *   session_close,  here: the order "end" or "kill" on the session's control
 *   session_kill    socket (sessctl.h)
 *   sessions_list,  ops-store.c: the store, read in a child per request
 *   session_watch,
 *   session_replay
 *   approvals_list, ops-approvals.c: on the store in a child per request,
 *   approvals_decide, judged by approvers/
 *   may_watch */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "fileio.h"
#include "log.h"
#include "ops-approvals.h"
#include "proc-cgroup.h"
#include "sessctl.h"
#include "view.h"
#include "vigil-error.h"

vigild_server *backend_server;

static int init(vigild_server *s)
{
        int r;

        backend_server = s;
        r = sessions_dir_make(vigild_server_run_dir(s));
        if (r < 0)
                vlog(LOG_ERR,
                     "'%s/sessions' cannot be used (it must be a directory of root's, mode 0700): %s",
                     vigild_server_run_dir(s), vigil_strerror(r));
        return r;
}

/* ---- which session a process is in ---- */

/* The session id from /proc/PID/cgroup: the supervisor puts every process
 * of a session in the cgroup vigil/<id> of each hierarchy it uses, and only
 * root can move a process out of it (or into it). */
static int cgroup_session(pid_t pid, char *ret, size_t size)
{
        char path[64];
        _cleanup_free_ char *text = NULL;
        proc_cgroup_line l;
        size_t len = 0, pos = 0;
        int r;

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        r = read_file_bounded(path, 65536, &text, &len);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        while (proc_cgroup_next(text, len, &pos, &l)) {
                const char *p;
                size_t n = proc_cgroup_session(&l, &p);

                if (n == 0 || n >= size)
                        continue;
                memcpy(ret, p, n);
                ret[n] = '\0';
                return 0;
        }
        return -ESRCH;
}

static int session_of_pid(pid_t pid, uint64_t starttime, char **ret_session, vigild_identity **ret_identity)
{
        char id[SESSION_ID_MAX + 1], record[4096];
        vigild_identity *ident = NULL;
        int r;

        r = cgroup_session(pid, id, sizeof id);
        if (r < 0)
                return r;
        /* read after the cgroup: a pid reused in between shows another start time */
        if (starttime == 0 || proc_starttime(pid) != starttime)
                return -ESRCH;
        r = session_path(vigild_server_run_dir(backend_server), id, "", record, sizeof record);
        if (r < 0)
                return -ESRCH;
        r = session_record_read_identity(record, &ident);
        if (r == -ENOENT)
                return -ESRCH; /* a session vigild did not start (root's vigil run) */
        if (r < 0) {
                vlog(LOG_WARNING, "session record '%s': %s", record, vigil_strerror(r));
                return r;
        }
        *ret_session = strdup(id);
        if (!*ret_session) {
                vigild_identity_free(ident);
                return -ENOMEM;
        }
        *ret_identity = ident;
        return 0;
}

/* ---- ending a session ---- */

/* Connect to the session's control socket (sessctl.h) and send the order. */
static int control_send(const char *session, const char *by, const char *reason, int *ret_fd)
{
        char order[SESSCTL_ORDER_MAX + 1];
        int fd = -1, n, r;

        n = sessctl_order(by, reason, order, sizeof order);
        if (n < 0)
                return n;
        r = sessctl_connect(vigild_server_run_dir(backend_server), session, true, &fd);
        if (r < 0)
                return r;
        if (send(fd, order, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
                r = negative_errno();
                (void)close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int session_close(const char *session)
{
        int fd = -1, r;

        /* pam.close: usually the session is over already (its shell exited
         * and sshd closes the login); if not, it ends now. Fire and forget. */
        r = control_send(session, NULL, NULL, &fd);
        if (r < 0)
                return r;
        (void)close(fd);
        vlog(LOG_INFO, "pam.close: session %s told to end", session);
        return 0;
}

typedef struct kill_job {
        vigild_req *r;
        int fd;
        vigild_watch *w;
        char session[SESSCTL_ID_MAX + 1];
        char who[128];
        char reason[1025]; /* validated protocol text */
} kill_job;

static void kill_job_free(kill_job *j)
{
        vigild_watch_free(j->w);
        if (j->fd >= 0)
                (void)close(j->fd);
        free(j);
}

static void kill_cancelled(vigild_req *r, void *userdata)
{
        (void)r;
        kill_job_free(userdata);
}

static void kill_answered(int fd, uint32_t events, void *userdata)
{
        kill_job *j = userdata;
        vigild_req *r = j->r;
        vmsg_builder b = { 0 };
        char buf[16];
        ssize_t n;

        (void)events;
        n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        vigild_req_on_cancel(r, NULL, NULL);
        if (n == 2 && memcmp(buf, "ok", 2) == 0) {
                vlog(LOG_NOTICE, "session.kill: session %s ended by %s%s%s%s", j->session, j->who,
                     j->reason[0] ? " (reason '" : "", j->reason, j->reason[0] ? "')" : "");
                if (vigild_req_reply_begin(r, &b) == 0 && vmsg_add_str(&b, VF_SESSION, j->session) == 0)
                        (void)vigild_req_reply(r, &b, -1);
                vmsg_builder_done(&b);
        } else
                (void)vigild_req_fail(r, VS_FAILED, "the session's supervisor did not confirm");
        kill_job_free(j);
}

/* Who ended it, for the user's line and the supervisor's log: the caller's
 * account (validated by NSS, not sent by the caller) and uid. */
static void who_of(const vigild_caller *by, char *buf, size_t size)
{
        struct passwd pw, *pwr = NULL;
        char pwbuf[4096];

        if (getpwuid_r(by->uid, &pw, pwbuf, sizeof pwbuf, &pwr) == 0 && pwr)
                snprintf(buf, size, "%s, uid %u", pwr->pw_name, (unsigned)by->uid);
        else
                snprintf(buf, size, "uid %u", (unsigned)by->uid);
}

static int session_kill(vigild_req *r, const vigild_caller *by, const char *session, const char *reason)
{
        char id[SESSCTL_ID_MAX + 1], who[128];
        kill_job *j;
        int fd = -1, k;

        /* a prefix of a running session's id, as elsewhere */
        k = sessctl_find(vigild_server_run_dir(backend_server), session, id);
        if (k == -ENOENT)
                return vigild_req_fail(r, VS_NOTFOUND, "no running session with this id");
        if (k == -ENOTUNIQ || k == -EINVAL)
                return vigild_req_fail(r, k == -EINVAL ? VS_INVALID : VS_NOTFOUND, "%s", view_find_phrase(k));
        if (k < 0)
                return k;
        who_of(by, who, sizeof who);
        k = control_send(id, who, reason, &fd);
        if (k == -ENOENT)
                return vigild_req_fail(r, VS_NOTFOUND, "no running session with this id");
        if (k < 0)
                return k;
        j = calloc(1, sizeof *j);
        if (!j) {
                (void)close(fd);
                return -ENOMEM;
        }
        j->r = r;
        j->fd = fd;
        snprintf(j->session, sizeof j->session, "%s", id);
        snprintf(j->who, sizeof j->who, "%s", who);
        snprintf(j->reason, sizeof j->reason, "%s", reason ? reason : "");
        k = vigild_watch_fd(vigild_req_server(r), fd, EPOLLIN, kill_answered, j, &j->w);
        if (k < 0) {
                kill_job_free(j);
                return k;
        }
        vigild_req_on_cancel(r, kill_cancelled, j);
        return 0;
}

const vigild_ops vigild_ops_vigil = {
        .backends = "supervisor identity store approvals",
        .init = init,
        .verify_token = verify_in_child,
        .session_of_pid = session_of_pid,
        .session_start = launch_session,
        .session_close = session_close,
        .session_kill = session_kill,
        .sessions_list = store_sessions_list,
        .session_watch = store_session_watch,
        .session_replay = store_session_replay,
        .approvals_list = approvals_list_op,
        .approvals_decide = approvals_decide_op,
        .may_watch = approvals_may_watch,
};
