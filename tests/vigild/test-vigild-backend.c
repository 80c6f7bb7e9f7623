/* The event loop's asynchronous paths, through the real vigild core and a
 * test backend (testops.c): answers that come later, fds handed back,
 * streams with back-pressure and no timeout, pending timeouts and caps,
 * cancellation when a client leaves, identities from a token or a session,
 * approvers, and a backend reply that breaks the protocol. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static tdaemon D;
static tusers U;
static int stdio3[3];
/* vigild's --request-timeout: well above the test backend's slowest answer
 * (200 ms verify + 100 ms start), which a loaded machine may stretch. */
#define REQUEST_TIMEOUT "2000"
#define REQUEST_TIMEOUT_MS 2000

#define EXPECT(res, st, needle)                                                                             \
        do {                                                                                                \
                tresult r_ = (res);                                                                         \
                if (r_.transport != 0)                                                                      \
                        fail_msg("transport error %d (%s)", r_.transport,                                   \
                                 vigild_client_strerror(r_.transport));                                     \
                if (r_.status != (st) || !strstr(r_.error, needle))                                         \
                        fail_msg("expected status %s with '%s', got %s '%s'", vstatus_name(st), needle,     \
                                 vstatus_name(r_.status), r_.error);                                        \
        } while (0)
#define F(...) ((const tfield[]){ __VA_ARGS__, TEND })
#define NOF ((const tfield[]){ TEND })

static bool events_have(const char *needle)
{
        char path[400], line[2048];
        bool found = false;
        FILE *f;

        snprintf(path, sizeof path, "%s/events", D.dir);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (!found && fgets(line, sizeof line, f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

/* Backends answer later: wait for their trace (TDAEMON_WAIT_MS at most). */
static bool wait_event(const char *needle)
{
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                if (events_have(needle))
                        return true;
                poll(NULL, 0, 20);
        }
        return events_have(needle);
}

static int setup(void **state)
{
        const char *exe = getenv("VIGILD_TESTOPS");
        char conf[512];
        int p[2];

        (void)state;
        if (!exe || geteuid() != 0) {
                fprintf(stderr, "needs root and VIGILD_TESTOPS\n");
                return -1;
        }
        if (tusers_create(&U) < 0) {
                tusers_remove(&U);
                return -1;
        }
        tdaemon_init(&D, exe,
                     (const char *const[]){ "--request-timeout", REQUEST_TIMEOUT, "--max-pending-per-uid",
                                            "2", NULL });
        setenv("VIGILD_TESTOPS_DIR", D.dir, 1);
        snprintf(conf, sizeof conf, "auditors = local:%s, group:idp-auditors\nresponders = local:%s\n",
                 U.g_aud, U.g_resp);
        tdaemon_write_conf(&D, conf);
        if (tdaemon_start(&D) < 0 || pipe2(p, O_CLOEXEC) < 0)
                return -1;
        stdio3[0] = p[0];
        stdio3[1] = stdio3[2] = p[1];
        return 0;
}

static int teardown(void **state)
{
        int st = D.pid > 0 ? tdaemon_stop(&D) : -1;

        (void)state;
        /* exit status 0 also means no leak (LeakSanitizer) in the ASan build */
        if (st != 0)
                fprintf(stderr, "vigild-testops did not exit cleanly: %d\n", st);
        tdaemon_cleanup(&D);
        tusers_remove(&U);
        return st == 0 ? 0 : -1;
}

static void test_login_start_hands_fds_both_ways(void **state)
{
        tresult reg, open, r;
        char want[300];

        (void)state;
        reg = tcall(&D, VT_PAM_REGISTER,
                    F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "sub-123"), TI(VF_EXP, 4000000000LL)), NULL, 0);
        EXPECT(reg, VS_OK, "");
        open = tcall(
                &D, VT_PAM_OPEN,
                F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain), TS(VF_TTY, "pts/3"), TS(VF_RHOST, "192.0.2.1")),
                NULL, 0);
        EXPECT(open, VS_OK, "");
        r = tcall_as(
                &D, U.plain, VT_SESSION_START_REF,
                F(TS(VF_REF, open.ref), TS(VF_ARGV, "/bin/echo"), TS(VF_ARGV, "hi"), TS(VF_ENV, "LANG=C")),
                stdio3, 3);
        EXPECT(r, VS_OK, "");
        snprintf(want, sizeof want, "s-%u", (unsigned)U.plain_uid);
        assert_string_equal(r.session, want);
        assert_int_equal(r.n_fds, 1);
        snprintf(want, sizeof want, "ran %s argc=2 fds=3", U.plain);
        assert_string_equal(r.fd_text, want);
        snprintf(
                want, sizeof want,
                "start form=login user=%s uid=%u argc=2 argv0=/bin/echo n_env=1 fds=3 pty=0 subject=sub-123 "
                "tty=pts/3 rhost=192.0.2.1",
                U.plain, (unsigned)U.plain_uid);
        assert_true(events_have(want));
        /* pam.close ends the started session */
        EXPECT(tcall(&D, VT_PAM_CLOSE, F(TS(VF_HANDLE, open.handle)), NULL, 0), VS_OK, "");
        snprintf(want, sizeof want, "close s-%u", (unsigned)U.plain_uid);
        assert_true(wait_event(want));
        EXPECT(tcall(&D, VT_PAM_CLOSE, F(TS(VF_HANDLE, open.handle)), NULL, 0), VS_NOTFOUND, "");
}

static void test_token_start(void **state)
{
        tresult r;
        char want[300];
        int64_t t0;

        (void)state;
        r = tcall_as(&D, U.plain, VT_SESSION_START_TOKEN,
                     F(TS(VF_TOKEN, "good.x.y"), TS(VF_ARGV, "/bin/make")), stdio3, 3);
        EXPECT(r, VS_OK, "");
        snprintf(want, sizeof want, "ran %s argc=1 fds=3", U.plain);
        assert_string_equal(r.fd_text, want);
        /* the token is verified for the caller's own account */
        snprintf(want, sizeof want, "verify good. %s", U.plain);
        assert_true(events_have(want));
        snprintf(want, sizeof want, "start form=token user=%s uid=%u", U.plain, (unsigned)U.plain_uid);
        assert_true(events_have(want));
        /* refusals by the backend, now or later */
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN, F(TS(VF_TOKEN, "bad.x.y"), TS(VF_ARGV, "x")),
                        stdio3, 3),
               VS_REFUSED, "session.start: token refused");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN, F(TS(VF_TOKEN, "nope.x.y"), TS(VF_ARGV, "x")),
                        stdio3, 3),
               VS_REFUSED, "cannot verify the token");
        /* a verification that answers later */
        t0 = tnow_ms();
        r = tcall_as(&D, U.plain, VT_SESSION_START_TOKEN, F(TS(VF_TOKEN, "slow.x.y"), TS(VF_ARGV, "x")),
                     stdio3, 3);
        EXPECT(r, VS_OK, "");
        assert_true(tnow_ms() - t0 >= 300); /* 200 ms verify + 100 ms start */
}

static void test_stream_backpressure(void **state)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        unsigned n = 0;

        (void)state;
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_SESSIONS_LIST, 11, F(TS(VF_USER, "many")));
        assert_int_equal(vigild_send(c, &b, NULL, 0, 1000), 0);
        vmsg_builder_done(&b);
        /* do not read for a while: the backend, once it started, must be told
         * to wait (it sends 2 MB; the socket takes a fraction) */
        assert_true(wait_event("sessions.list user=many"));
        poll(NULL, 0, 300);
        for (;;) {
                const vmsg_field *f;
                char want[32];

                assert_int_equal(vigild_recv(c, TDAEMON_WAIT_MS, &rep), 0);
                if (rep->msg.type & VT_REPLY)
                        break;
                assert_int_equal(rep->msg.type, VT_SESSIONS_LIST | VT_ITEM);
                assert_int_equal(rep->msg.id, 11);
                f = vmsg_get(&rep->msg, VF_ITEM);
                assert_non_null(f);
                snprintf(want, sizeof want, "{\"n\":%u,", n);
                assert_memory_equal(f->val, want, strlen(want));
                n++;
                rep = vigild_reply_free(rep);
        }
        assert_int_equal(vigild_reply_status(rep), VS_OK);
        assert_int_equal(n, 2000);
        assert_true(events_have("sessions.list many done drains=yes"));
        vigild_reply_free(rep);
        vigild_conn_free(c);
}

static void test_pending_timeout_and_cancel(void **state)
{
        int64_t t0 = tnow_ms();
        tresult r;

        (void)state;
        r = tcall(&D, VT_SESSIONS_LIST, F(TS(VF_USER, "stall")), NULL, 0);
        EXPECT(r, VS_TIMEOUT, "sessions.list: no answer within " REQUEST_TIMEOUT " ms");
        assert_true(tnow_ms() - t0 >= REQUEST_TIMEOUT_MS - 50);
        assert_true(wait_event("cancel sessions.list"));
}

static int count_lines(const char *needle)
{
        char path[400], line[2048];
        int n = 0;
        FILE *f;

        snprintf(path, sizeof path, "%s/events", D.dir);
        f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                n += strstr(line, needle) != NULL;
        fclose(f);
        return n;
}

static void test_disconnect_cancels(void **state)
{
        int before = count_lines("cancel sessions.list"), asked = count_lines("sessions.list user=stall"),
            fds_before = tdaemon_fd_count_settled(&D), fds_after = -1;
        vigild_conn *c = NULL;
        vmsg_builder b;
        vigild_reply *rep = NULL;
        uint32_t pending = 99;
        int k;

        (void)state;
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_SESSIONS_LIST, 1, F(TS(VF_USER, "stall")));
        assert_int_equal(vigild_send(c, &b, NULL, 0, 1000), 0);
        vmsg_builder_done(&b);
        /* the backend has this one (an earlier test's stall left the same line) */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             count_lines("sessions.list user=stall") == asked && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(count_lines("sessions.list user=stall"), asked + 1);
        c = vigild_conn_free(c);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             count_lines("cancel sessions.list") == before && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(count_lines("cancel sessions.list"), before + 1);
        /* nothing left behind: only the status request itself is pending */
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_STATUS, 1, NOF);
        k = vigild_call(c, &b, NULL, 0, TDAEMON_WAIT_MS, &rep);
        assert_int_equal(k, 0);
        assert_int_equal(vmsg_get_u32(&rep->msg, VF_PENDING, &pending), 0);
        assert_int_equal(pending, 1);
        vigild_reply_free(rep);
        vmsg_builder_done(&b);
        vigild_conn_free(c);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             (fds_after = tdaemon_fd_count(&D)) != fds_before && tnow_ms() < end;)
                poll(NULL, 0, 20);
        if (fds_after != fds_before) {
                char cmd[100];

                snprintf(cmd, sizeof cmd, "ls -l /proc/%d/fd >&2", (int)D.pid);
                (void)!system(cmd);
        }
        assert_int_equal(fds_after, fds_before);
}

/* The events file, opened by root before three_stalls() becomes a test user. */
static int events_fd = -1;

static int count_in_events_fd(const char *needle)
{
        char line[2048];
        int n = 0, fd = dup(events_fd);
        FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

        if (!f) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        rewind(f);
        while (fgets(line, sizeof line, f))
                n += strstr(line, needle) != NULL;
        fclose(f);
        return n;
}

/* As the auditor: two requests in flight are the cap; the third is refused. */
static int three_stalls(void *arg)
{
        vigild_conn *c[3] = { 0 };
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int k, st, before = count_in_events_fd("sessions.list user=stall");

        (void)arg;
        if (before < 0)
                return 104;
        tbuild(&b, VT_SESSIONS_LIST, 1, F(TS(VF_USER, "stall")));
        for (int i = 0; i < 3; i++)
                if (vigild_connect(D.sock, 1000, &c[i]) < 0)
                        return 100;
        for (int i = 0; i < 2; i++)
                if (vigild_send(c[i], &b, NULL, 0, 1000) < 0)
                        return 101;
        /* both are in flight (the backend was asked) before the third is sent */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             count_in_events_fd("sessions.list user=stall") < before + 2 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        if (count_in_events_fd("sessions.list user=stall") < before + 2)
                return 105;
        k = vigild_call(c[2], &b, NULL, 0, TDAEMON_WAIT_MS, &rep);
        if (k < 0)
                return 102;
        st = (int)vigild_reply_status(rep);
        if (st == VS_LIMIT && !strstr(vigild_reply_error(rep), "too many requests in progress"))
                st = 103;
        vigild_reply_free(rep);
        vmsg_builder_done(&b);
        for (int i = 0; i < 3; i++)
                vigild_conn_free(c[i]);
        return st;
}

static void test_pending_caps(void **state)
{
        char path[400];

        (void)state;
        snprintf(path, sizeof path, "%s/events", D.dir);
        events_fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(events_fd >= 0);
        assert_int_equal(trun_as(U.auditor, three_stalls, NULL), VS_LIMIT);
        /* root is capped only by the total */
        assert_int_equal(trun_as(NULL, three_stalls, NULL), VS_TIMEOUT);
        close(events_fd);
        events_fd = -1;
}

static void test_watch_streams_past_timeout(void **state)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int64_t t0;
        int items = 0, before = count_lines("cancel session.watch");

        (void)state;
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_SESSION_WATCH, 3, F(TS(VF_SESSION, "live-1")));
        assert_int_equal(vigild_send(c, &b, NULL, 0, 1000), 0);
        vmsg_builder_done(&b);
        t0 = tnow_ms();
        while (tnow_ms() - t0 < REQUEST_TIMEOUT_MS + 1000) { /* well past the request timeout */
                const vmsg_field *f;

                assert_int_equal(vigild_recv(c, TDAEMON_WAIT_MS, &rep), 0);
                assert_int_equal(rep->msg.type, VT_SESSION_WATCH | VT_ITEM);
                f = vmsg_get(&rep->msg, VF_DATA);
                assert_non_null(f);
                assert_non_null(vmsg_get(&rep->msg, VF_TIME));
                items++;
                rep = vigild_reply_free(rep);
        }
        assert_true(items > 20);
        vigild_conn_free(c);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             count_lines("cancel session.watch") == before && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(count_lines("cancel session.watch"), before + 1);

        /* a stream that ends by itself */
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_SESSION_WATCH, 4, F(TS(VF_SESSION, "ends")));
        assert_int_equal(vigild_send(c, &b, NULL, 0, 1000), 0);
        vmsg_builder_done(&b);
        items = 0;
        for (;;) {
                assert_int_equal(vigild_recv(c, TDAEMON_WAIT_MS, &rep), 0);
                if (rep->msg.type & VT_REPLY)
                        break;
                items++;
                rep = vigild_reply_free(rep);
        }
        assert_int_equal(vigild_reply_status(rep), VS_OK);
        assert_int_equal(items, 5);
        vigild_reply_free(rep);
        vigild_conn_free(c);
}

typedef struct watch_arg {
        const char *session;
} watch_arg;

static int watch_one_item(void *arg)
{
        watch_arg *w = arg;
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int st;

        if (vigild_connect(D.sock, 1000, &c) < 0)
                return 100;
        tbuild(&b, VT_SESSION_WATCH, 1, F(TS(VF_SESSION, w->session)));
        if (vigild_send(c, &b, NULL, 0, 1000) < 0 || vigild_recv(c, TDAEMON_WAIT_MS, &rep) < 0)
                return 101;
        st = (rep->msg.type & VT_ITEM) ? 0 : (int)vigild_reply_status(rep);
        vigild_reply_free(rep);
        vmsg_builder_done(&b);
        vigild_conn_free(c);
        return st;
}

static void test_approver_may_watch_held_session(void **state)
{
        char want[100];

        (void)state;
        assert_int_equal(trun_as(U.plain, watch_one_item, &(watch_arg){ "held" }), VS_OK);
        snprintf(want, sizeof want, "may_watch held by %u", (unsigned)U.plain_uid);
        assert_true(events_have(want));
        assert_int_equal(trun_as(U.plain, watch_one_item, &(watch_arg){ "other" }), VS_REFUSED);
        /* auditors and responders are not asked about */
        assert_int_equal(trun_as(U.auditor, watch_one_item, &(watch_arg){ "other" }), VS_OK);
        assert_int_equal(trun_as(U.responder, watch_one_item, &(watch_arg){ "other" }), VS_OK);
}

/* A child that runs as @user and sends @type once the parent has recorded
 * its pid as running in a vigil session whose identity has @group. */
static tresult call_in_session(const char *user, const char *group, uint16_t type, const tfield *fields)
{
        char path[400];
        tresult r;
        int go[2], res[2];
        pid_t pid;
        FILE *f;

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(res, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char x;

                close(go[1]);
                close(res[0]);
                if (tbecome(user) < 0 || read(go[0], &x, 1) != 1)
                        _exit(1);
                r = tcall(&D, type, fields, NULL, 0);
                (void)!write(res[1], &r, sizeof r);
                _exit(0);
        }
        close(go[0]);
        close(res[1]);
        snprintf(path, sizeof path, "%s/sessions", D.dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "%d %s\n", (int)pid, group);
        fclose(f);
        assert_int_equal(write(go[1], "x", 1), 1);
        assert_int_equal(read(res[0], &r, sizeof r), (ssize_t)sizeof r);
        waitpid(pid, NULL, 0);
        close(go[1]);
        close(res[0]);
        unlink(path);
        return r;
}

static void test_idp_group_from_session(void **state)
{
        (void)state;
        /* not an auditor by account... */
        EXPECT(tcall_as(&D, U.plain, VT_SESSIONS_LIST, NOF, NULL, 0), VS_REFUSED, "not permitted");
        /* ...but in a vigil session whose identity has the auditors' IdP group */
        EXPECT(call_in_session(U.plain, "idp-auditors", VT_SESSIONS_LIST, NOF), VS_OK, "");
        assert_true(events_have("starttime=set"));
        /* another group does not do */
        EXPECT(call_in_session(U.plain, "idp-others", VT_SESSIONS_LIST, NOF), VS_REFUSED, "not permitted");
}

static void test_approvers_known_by(void **state)
{
        char want[300];

        (void)state;
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_LIST, NOF, NULL, 0), VS_OK, "");
        snprintf(want, sizeof want,
                 "approvals.list known_by=local user=%s subject=- root=0 auditor=0 responder=0", U.plain);
        assert_true(events_have(want));
        EXPECT(tcall_as(&D, U.auditor, VT_APPROVALS_LIST, F(TS(VF_TOKEN, "good.a.b"), TS(VF_SESSION, "s9")),
                        NULL, 0),
               VS_OK, "");
        snprintf(want, sizeof want,
                 "approvals.list known_by=token user=%s subject=sub-approver root=0 auditor=1 responder=0 "
                 "session=s9",
                 U.auditor);
        assert_true(events_have(want));
        assert_true(events_have("verify good. -")); /* approvers: no username rule */
        EXPECT(call_in_session(U.responder, "ops", VT_APPROVALS_LIST, NOF), VS_OK, "");
        snprintf(want, sizeof want,
                 "approvals.list known_by=session user=%s subject=insession root=0 auditor=0 "
                 "responder=1",
                 U.responder);
        assert_true(events_have(want));
        EXPECT(tcall(&D, VT_APPROVALS_DECIDE,
                     F(TS(VF_APPROVAL, "a1"), TS(VF_DECISION, "deny"),
                       TS(VF_REASON, "not during the freeze")),
                     NULL, 0),
               VS_OK, "");
        assert_true(events_have("decide a1 deny known_by=local reason=not during the freeze"));
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_DECIDE,
                        F(TS(VF_APPROVAL, "a1"), TS(VF_DECISION, "approve"), TS(VF_TOKEN, "bad.x.y")), NULL,
                        0),
               VS_REFUSED, "token refused");
}

static void test_backend_errors(void **state)
{
        (void)state;
        EXPECT(tcall(&D, VT_SESSIONS_LIST, F(TS(VF_USER, "fail")), NULL, 0), VS_FAILED, "sessions.list: ");
        /* a reply that breaks the table never reaches the client */
        EXPECT(tcall(&D, VT_SESSIONS_LIST, F(TS(VF_USER, "badreply")), NULL, 0), VS_FAILED,
               "sessions.list: internal error");
        assert_true(tdaemon_log_has(&D, "the backend's reply breaks the protocol"));
        EXPECT(tcall_as(&D, U.responder, VT_SESSION_KILL, F(TS(VF_SESSION, "s1"), TS(VF_REASON, "incident")),
                        NULL, 0),
               VS_OK, "");
        {
                char want[100];

                snprintf(want, sizeof want, "kill s1 by %u reason=incident", (unsigned)U.responder_uid);
                assert_true(events_have(want));
        }
        EXPECT(tcall(&D, VT_SESSION_REPLAY, F(TS(VF_SESSION, "s1"), TI(VF_AT, 1500)), NULL, 0), VS_OK, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_login_start_hands_fds_both_ways),
                cmocka_unit_test(test_token_start),
                cmocka_unit_test(test_stream_backpressure),
                cmocka_unit_test(test_pending_timeout_and_cancel),
                cmocka_unit_test(test_disconnect_cancels),
                cmocka_unit_test(test_pending_caps),
                cmocka_unit_test(test_watch_streams_past_timeout),
                cmocka_unit_test(test_approver_may_watch_held_session),
                cmocka_unit_test(test_idp_group_from_session),
                cmocka_unit_test(test_approvers_known_by),
                cmocka_unit_test(test_backend_errors),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup, teardown);
}
