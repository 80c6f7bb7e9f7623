/* Recording: the session's writer into the store (store/store.h).
 *
 * The store is opened in the supervisor's own process, after the watchdog
 * is forked and before the session's first process is: that process never
 * touches it (it execs the command), so LMDB's rule (use an environment
 * only in the process that opened it) holds. The first record is written
 * here, at once (a store that does not work stops the session before it
 * starts); from then on every store call is made by the recording's thread
 * (record-worker.c), which the functions here feed, with the time each
 * thing happened. The thread also makes the commits when they are due.
 *
 * A store error is never ignored: the policy's `record on_failure=` decides.
 * kill (the default): the session ends (exit 125), with one line on the
 * user's terminal and one in the log. continue: the same line says that the
 * session goes on unrecorded, and it does; the store keeps what it had
 * committed, unsealed, and the next supervisor start seals it as truncated
 * (the writer handle is dropped, never ended, so nothing pretends the
 * recording was whole). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include "approval.h"
#include "record-worker.h"
#include "sup.h"
#include "util.h"
#include "vigil-error.h"

void supervisor_log(session *s, int prio, const char *fmt, ...)
{
        char line[1024];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (s->cfg->log)
                s->cfg->log(s->cfg->log_userdata, prio, line);
        else
                syslog(LOG_AUTHPRIV | prio, "session %s: %s", s->id, line);
}

static const vigil_record_opts *opts_of(const session *s)
{
        return vigil_policy_record(s->cfg->policy);
}

static bool kill_on_failure(const session *s)
{
        return opts_of(s)->on_failure != VIGIL_RECORD_FAIL_CONTINUE;
}

/* "ADDR PORT" from "ADDR PORT SERVER_ADDR SERVER_PORT" (SSH_CONNECTION). */
static char *client_of(const char *ssh_connection)
{
        const char *sp = strchr(ssh_connection, ' ');

        if (!sp || sp == ssh_connection)
                return NULL;
        sp = strchr(sp + 1, ' ');
        return strndup(ssh_connection, sp ? (size_t)(sp - ssh_connection) : strlen(ssh_connection));
}

static char *client_address(const vigil_session_config *c)
{
        if (c->client)
                return strdup(c->client);
        for (char *const *e = c->env; e && *e; e++)
                if (strncmp(*e, "SSH_CONNECTION=", 15) == 0)
                        return client_of(*e + 15);
        return c->rhost ? strdup(c->rhost) : NULL;
}

/* The store failed: apply on_failure, once. @detail says what and why. */
static void record_failed(session *s, const char *why)
{
        recorder *rc = &s->rec;
        char detail[600];

        if (rc->off || rc->failing)
                return;
        rc->failing = true;
        /* @why may be the thread's message, which goes with it below */
        (void)snprintf(detail, sizeof(detail), "%s", why);
        /* the thread is idle after an error: stop it, and keep the store as
         * it is (what was committed stays, unsealed) */
        loop_del(s, &rc->efd_w);
        rc->q = recq_free(rc->q);
        rc->off = true;
        if (kill_on_failure(s)) {
                supervisor_log(s, LOG_ERR,
                               "recording failed (%s); the session is ended (record on_failure=kill)",
                               detail);
                if (!s->error && asprintf(&s->error, "recording: %s", detail) < 0)
                        s->error = NULL;
                relay_message(s, "vigil: recording failed (%s); ending the session", detail);
                session_end(s, "recording");
        } else {
                supervisor_log(
                        s, LOG_WARNING,
                        "recording failed (%s); the session goes on unrecorded (record on_failure=continue)",
                        detail);
                relay_message(s, "vigil: recording failed (%s); this session goes on unrecorded", detail);
        }
        /* Dropped, not ended: the store keeps it unsealed, and it is sealed
         * as truncated once this process is gone. */
        rc->rs = vigil_session_free(rc->rs);
        rc->failing = false;
        /* the backlog is gone with it */
        relay_resume(s);
}

/* A queueing call failed: the thread's error, or memory. */
static void queue_failed(session *s, int r, const char *what)
{
        const char *msg = NULL;
        char buf[600];

        if (r == -ENOMEM || !s->rec.q || recq_poll(s->rec.q, &msg) >= 0 || !msg) {
                (void)snprintf(buf, sizeof(buf), "%s: %s", what, vigil_strerror(r));
                msg = buf;
        }
        record_failed(s, msg);
}

/* The thread's eventfd: its backlog drained, or it failed. */
static void worker_wakeup(session *s, watch *w, uint32_t events)
{
        const char *msg = NULL;
        int r;

        (void)w;
        (void)events;
        r = recq_poll(s->rec.q, &msg);
        if (r < 0) {
                record_failed(s, msg ? msg : vigil_strerror(r));
                return;
        }
        relay_resume(s);
}

static bool recording(const session *s)
{
        return s->rec.q && !s->rec.off;
}

bool record_backlogged(const session *s)
{
        return recording(s) && recq_backlogged(s->rec.q);
}

int record_open(session *s)
{
        recorder *rc = &s->rec;
        const vigil_session_config *c = s->cfg;
        vigil_store_options o = {
                .dir = c->store_dir,
                .key_path = c->store_key,
                .flags = VIGIL_STORE_CREATE,
        };
        uint8_t id[VIGIL_SESSION_ID_LEN];
        _cleanup_free_ char *client = NULL;
        char ttybuf[256], why[1024];
        const char *tty = c->tty, *msg;
        struct winsize ws = { 0 };
        strv argv = { 0 };
        vigil_session_meta meta;
        int r, n, efd;

        rc->cols = rc->rows = 0;
        if (!c->store_dir || !*c->store_dir) {
                r = -EINVAL;
                msg = "no store given";
                goto fail_open;
        }
        if (vigil_session_id_parse(s->id, id) < 0) {
                r = -EINVAL;
                msg = "the session id is not a UUID";
                goto fail_open;
        }
        r = vigil_store_open(&o, &rc->st);
        if (r < 0) {
                /* the store's message names the directory */
                msg = vigil_store_open_errmsg();
                if (!msg || !*msg) {
                        (void)snprintf(why, sizeof(why), "store '%s': %s", c->store_dir, vigil_strerror(r));
                        msg = why;
                }
                goto fail_open;
        }
        /* Sessions whose supervisor died: sealed now as truncated. A failure
         * here does not concern this session. */
        n = vigil_store_seal_orphans(rc->st, NULL, NULL);
        if (n < 0)
                supervisor_log(s, LOG_WARNING, "sealing orphaned sessions in '%s': %s, ignoring",
                               c->store_dir, vigil_store_errmsg(rc->st));
        else if (n > 0)
                supervisor_log(s, LOG_NOTICE, "sealed %d orphaned session(s) in '%s' as truncated", n,
                               c->store_dir);
        /* Requests held by supervisors that died: rejected now, so that no
         * approval can come for a process that no longer waits. */
        {
                unsigned lost = 0;

                if (vigil_approvals_reap(rc->st, NULL, &lost) < 0)
                        supervisor_log(s, LOG_WARNING, "rejecting the approval requests of lost supervisors in "
                                       "'%s': %s, ignoring", c->store_dir, vigil_store_errmsg(rc->st));
                else if (lost > 0)
                        supervisor_log(s, LOG_NOTICE, "rejected %u approval request(s) of lost supervisors in '%s'",
                                       lost, c->store_dir);
        }

        if (!tty && s->io.tty_fd >= 0 && ttyname_r(s->io.tty_fd, ttybuf, sizeof(ttybuf)) == 0)
                tty = ttybuf;
        if (s->io.mode == VIGIL_IO_PTY)
                (void)ioctl(s->io.leader, TIOCGWINSZ, &ws);
        client = client_address(c);
        r = masking_copy_argv(s, c->argv, &argv);
        if (r < 0) {
                (void)snprintf(why, sizeof(why), "masking the command line: %s", vigil_strerror(r));
                msg = why;
                goto fail_open;
        }
        meta = (vigil_session_meta){
                .user = s->acct.name,
                .uid = s->acct.uid,
                .subject = c->identity ? c->identity->subject : NULL,
                .email = c->identity ? c->identity->email : NULL,
                .groups = c->identity ? c->identity->groups : NULL,
                .n_groups = c->identity ? c->identity->n_groups : 0,
                .tty = tty,
                .client = client,
                .argv = (const char *const *)argv.v,
                .argc = argv.n,
                .cols = ws.ws_col,
                .rows = ws.ws_row,
                .id = id,
        };
        r = vigil_session_begin(rc->st, &meta, opts_of(s), &rc->rs);
        strv_clear(&argv);
        if (r < 0) {
                msg = vigil_store_errmsg(rc->st);
                (void)snprintf(why, sizeof(why), "store '%s': %s", c->store_dir,
                               msg && *msg ? msg : vigil_strerror(r));
                msg = why;
                goto fail_open;
        }
        rc->cols = ws.ws_col;
        rc->rows = ws.ws_row;
        r = recq_new(rc->st, rc->rs, &rc->q, &efd);
        if (r >= 0)
                r = loop_add(s, &rc->efd_w, efd, worker_wakeup, EPOLLIN);
        if (r < 0) {
                (void)snprintf(why, sizeof(why), "recording thread: %s", vigil_strerror(r));
                msg = why;
                rc->q = recq_free(rc->q);
                rc->rs = vigil_session_free(rc->rs);
                goto fail_open;
        }
        return 0;

fail_open:
        rc->off = true;
        if (kill_on_failure(s)) {
                supervisor_log(s, LOG_ERR, "cannot record the session (%s); not starting it", msg);
                if (!s->error && asprintf(&s->error, "recording: %s", msg) < 0)
                        s->error = NULL;
                rc->st = vigil_store_close(rc->st);
                return r;
        }
        supervisor_log(s, LOG_WARNING,
                       "cannot record the session (%s); it runs unrecorded (record on_failure=continue)",
                       msg);
        relay_message(s, "vigil: cannot record this session (%s); it runs unrecorded", msg);
        rc->st = vigil_store_close(rc->st);
        return 0;
}

void record_start(session *s)
{
        int r;

        if (!recording(s))
                return;
        r = recq_start(s->rec.q);
        if (r < 0)
                queue_failed(s, r, "recording thread");
}

int record_output(session *s, const void *buf, size_t n)
{
        int r;

        /* every byte of masked output passes here: the last screenful a
         * held command's request shows comes from it */
        holds_screen(s, buf, n);
        if (!recording(s) || n == 0)
                return 0;
        r = recq_output(s->rec.q, now_realtime_us(), buf, n);
        if (r < 0) {
                queue_failed(s, r, "output");
                return r;
        }
        /* the store is behind: let the session wait, not the memory grow */
        if (recq_backlogged(s->rec.q))
                relay_pause_reading(s, true);
        return 0;
}

void record_input(session *s, const void *buf, size_t n)
{
        int r;

        if (!recording(s) || n == 0)
                return;
        r = recq_input(s->rec.q, now_realtime_us(), buf, n);
        if (r < 0)
                queue_failed(s, r, "input");
}

void record_resize(session *s, unsigned cols, unsigned rows)
{
        int r;

        if (!recording(s) || (cols == s->rec.cols && rows == s->rec.rows))
                return;
        s->rec.cols = cols;
        s->rec.rows = rows;
        r = recq_resize(s->rec.q, now_realtime_us(), cols, rows);
        if (r < 0)
                queue_failed(s, r, "resize");
}

static vigil_decision_kind decision_of(cmd_decision d)
{
        switch (d) {
        case CMD_ALLOW:
                return VIGIL_DEC_ALLOW;
        case CMD_DENY:
                return VIGIL_DEC_DENY;
        case CMD_AUDIT:
                return VIGIL_DEC_AUDIT;
        case CMD_KILLED:
                return VIGIL_DEC_KILLED;
        case CMD_HELD:
                return VIGIL_DEC_HELD;
        case CMD_APPROVED:
                return VIGIL_DEC_APPROVED;
        case CMD_REJECTED:
                return VIGIL_DEC_REJECTED;
        case CMD_TIMEOUT:
                return VIGIL_DEC_TIMEOUT;
        case CMD_WITHDRAWN:
                return VIGIL_DEC_WITHDRAWN;
        }
        return VIGIL_DEC_DENY;
}

void record_command(session *s, cmd_event *e)
{
        vigil_command_info ci;
        int r;

        if (!recording(s))
                return;
        ci = (vigil_command_info){
                .time_us = e->time_us,
                .pid = e->pid,
                .ppid = e->ppid,
                .runas = e->runas,
                .cwd = e->cwd,
                .exe = e->exe,
                .argv = (const char *const *)e->argv.v,
                .argc = e->argv.n,
                .decision = decision_of(e->decision),
                .rule = e->rule ? e->rule : "default",
        };
        r = recq_command(s->rec.q, &ci, s->rec.next_no);
        if (r < 0) {
                queue_failed(s, r, "command");
                return;
        }
        e->store_no = s->rec.next_no++;
        e->stored = true;
}

void record_approval(session *s, const cmd_event *e, const vigil_approval_outcome *o)
{
        vigil_approval_outcome c;
        int r;

        if (!recording(s) || !e->stored)
                return;
        c = *o;
        c.command_no = e->store_no;
        c.decision = decision_of(e->decision);
        r = recq_approval(s->rec.q, &c);
        if (r < 0)
                queue_failed(s, r, "approval");
}

void record_command_exit(session *s, cmd_event *e)
{
        int r;

        /* a denied command never ran; an exit nobody saw is left open */
        if (!recording(s) || !e->stored || !e->exec_mono_ns || !e->exited)
                return;
        r = recq_command_exit(s->rec.q, e->store_no, now_realtime_us(), e->wait_status,
                              e->decision == CMD_KILLED ? (int)VIGIL_DEC_KILLED : -1);
        if (r < 0)
                queue_failed(s, r, "command exit");
}

void record_masked(session *s, const char *name, uint64_t n)
{
        int r;

        if (!recording(s) || n == 0)
                return;
        r = recq_masked(s->rec.q, name, n);
        if (r < 0)
                queue_failed(s, r, "masking counts");
}

void record_tick(session *s)
{
        if (!recording(s))
                return;
        masking_report(s);
        if (recording(s))
                recq_kick(s->rec.q);
}

void record_close(session *s)
{
        recorder *rc = &s->rec;
        const char *msg = NULL;
        vigil_end_how how;
        int r, status;

        if (recording(s)) {
                masking_report(s);
                if (recording(s)) {
                        status = s->child_exited ? s->child_status : -1;
                        how = s->child_exited && !s->killed_by_vigil ? VIGIL_END_EXIT : VIGIL_END_KILLED;
                        r = recq_finish(rc->q, now_realtime_us(), status, how, &msg);
                        if (r < 0)
                                /* the session is over: on_failure has nothing left to
                                 * decide, but the administrator must learn of it */
                                supervisor_log(s, LOG_ERR,
                                               "recording the session failed at its end (%s); it stays "
                                               "unsealed until sealed as truncated",
                                               msg ? msg : vigil_strerror(r));
                }
        }
        loop_del(s, &rc->efd_w);
        rc->q = recq_free(rc->q);
        rc->rs = vigil_session_free(rc->rs);
        rc->st = vigil_store_close(rc->st);
}
