/* Recording: the session's writer into the store (store/store.h).
 *
 * The store is opened in the supervisor's own process, after the watchdog
 * is forked and before the session's first process is: that process never
 * touches it (it execs the command), so LMDB's rule (use an environment
 * only in the process that opened it) holds. Every call here is one short
 * store call; the store batches and commits when its batch is full or when
 * the loop calls record_flush() after record_timeout_ms().
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

/* The store failed: apply on_failure, once. */
static void record_failed(session *s, int r, const char *what)
{
        recorder *rc = &s->rec;
        const char *detail = rc->st ? vigil_store_errmsg(rc->st) : "";

        if (rc->off || rc->failing)
                return;
        rc->failing = true;
        if (!detail || !*detail)
                detail = vigil_strerror(r);
        if (kill_on_failure(s)) {
                supervisor_log(s, LOG_ERR, "recording failed (%s: %s); the session is ended (record on_failure=kill)",
                               what, detail);
                /* the line goes through the pipeline like any other: stop
                 * recording first so that it does not fail again */
                rc->off = true;
                if (!s->error && asprintf(&s->error, "recording: %s: %s", what, detail) < 0)
                        s->error = NULL;
                relay_message(s, "vigil: recording failed (%s); ending the session", detail);
                session_end(s, "recording");
        } else {
                supervisor_log(s, LOG_WARNING,
                               "recording failed (%s: %s); the session goes on unrecorded (record on_failure=continue)",
                               what, detail);
                rc->off = true;
                relay_message(s, "vigil: recording failed (%s); this session goes on unrecorded", detail);
        }
        /* Dropped, not ended: the store keeps it unsealed, and it is sealed
         * as truncated once this process is gone. */
        rc->rs = vigil_session_free(rc->rs);
        rc->failing = false;
}

static bool recording(const session *s)
{
        return s->rec.rs && !s->rec.off;
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
        int r, n;

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
                supervisor_log(s, LOG_WARNING, "sealing orphaned sessions in '%s': %s, ignoring", c->store_dir,
                               vigil_store_errmsg(rc->st));
        else if (n > 0)
                supervisor_log(s, LOG_NOTICE, "sealed %d orphaned session(s) in '%s' as truncated", n,
                               c->store_dir);

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
        supervisor_log(s, LOG_WARNING, "cannot record the session (%s); it runs unrecorded (record on_failure=continue)",
                       msg);
        relay_message(s, "vigil: cannot record this session (%s); it runs unrecorded", msg);
        rc->st = vigil_store_close(rc->st);
        return 0;
}

int record_output(session *s, const void *buf, size_t n)
{
        int r;

        if (!recording(s) || n == 0)
                return 0;
        r = vigil_session_output(s->rec.rs, 0, buf, n);
        if (r < 0)
                record_failed(s, r, "output");
        return r;
}

void record_input(session *s, const void *buf, size_t n)
{
        int r;

        if (!recording(s) || n == 0)
                return;
        r = vigil_session_input(s->rec.rs, 0, buf, n);
        if (r < 0)
                record_failed(s, r, "input");
}

void record_resize(session *s, unsigned cols, unsigned rows)
{
        int r;

        if (!recording(s) || (cols == s->rec.cols && rows == s->rec.rows))
                return;
        s->rec.cols = cols;
        s->rec.rows = rows;
        r = vigil_session_resize(s->rec.rs, 0, (uint16_t)cols, (uint16_t)rows);
        if (r < 0)
                record_failed(s, r, "resize");
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
        r = vigil_session_command(s->rec.rs, &ci, &e->store_no);
        if (r < 0) {
                record_failed(s, r, "command");
                return;
        }
        e->stored = true;
}

void record_command_exit(session *s, cmd_event *e)
{
        int r;

        /* a denied command never ran; an exit nobody saw is left open */
        if (!recording(s) || !e->stored || !e->exec_mono_ns || !e->exited)
                return;
        r = vigil_session_command_exit(s->rec.rs, e->store_no, 0, e->wait_status,
                                       e->decision == CMD_KILLED ? (int)VIGIL_DEC_KILLED : -1);
        if (r == -ENOENT)
                return; /* recorded as denied: nothing to end */
        if (r < 0)
                record_failed(s, r, "command exit");
}

void record_masked(session *s, const char *name, uint64_t n)
{
        int r;

        if (!recording(s) || n == 0)
                return;
        r = vigil_session_masked(s->rec.rs, name, n);
        if (r < 0)
                record_failed(s, r, "masking counts");
}

int record_timeout_ms(const session *s)
{
        return recording(s) ? vigil_session_flush_timeout_ms(s->rec.rs) : -1;
}

void record_flush(session *s, bool force)
{
        int r;

        if (!recording(s))
                return;
        masking_report(s);
        if (!recording(s))
                return;
        r = vigil_session_flush(s->rec.rs, force);
        if (r < 0)
                record_failed(s, r, "commit");
}

void record_close(session *s)
{
        recorder *rc = &s->rec;
        vigil_end_how how;
        int r, status;

        if (recording(s)) {
                masking_report(s);
                if (recording(s)) {
                        status = s->child_exited ? s->child_status : -1;
                        how = s->child_exited && !s->killed_by_vigil ? VIGIL_END_EXIT : VIGIL_END_KILLED;
                        r = vigil_session_end(rc->rs, 0, status, how);
                        if (r < 0)
                                /* the session is over: on_failure has nothing left to
                                 * decide, but the administrator must learn of it */
                                supervisor_log(s, LOG_ERR, "recording the end of the session failed: %s; it stays "
                                               "unsealed until sealed as truncated",
                                               vigil_store_errmsg(rc->st));
                }
        }
        rc->rs = vigil_session_free(rc->rs);
        rc->st = vigil_store_close(rc->st);
}
