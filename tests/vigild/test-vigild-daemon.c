/* Integration tests against the real vigild binary of this build (its
 * session, identity, store and approvals backends are real; a session that
 * starts is tests/handoff's, the store's answers test-vigild-store's, a
 * decision tests/approvers'): every request type
 * allowed and refused for
 * root and for real unprivileged test users, the one-time references,
 * malformed and oversized messages, caps, stalling clients, 200 clients at
 * once, and a SIGKILL with restart. Needs root (test users, the daemon). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* vigild's --request-timeout: a client that sends nothing is dropped after
 * it, which is what test_200_clients checks the others are answered before. */
#define REQUEST_TIMEOUT "5000"
#define REQUEST_TIMEOUT_MS 5000
static tdaemon D;
static tusers U;
static const char *vigild_exe;
static int stdio3[3]; /* a pipe's ends as stand-in stdio: read, write, write */

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

static const char REF0[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
        char conf[512];
        int p[2];

        (void)state;
        if (geteuid() != 0) {
                fprintf(stderr, "vigild tests need root (test users, the daemon)\n");
                return -1;
        }
        if (tusers_create(&U) < 0) {
                tusers_remove(&U);
                return -1;
        }
        tdaemon_init(&D, vigild_exe,
                     (const char *const[]){ "--request-timeout", REQUEST_TIMEOUT, "--max-clients-per-uid",
                                            "6", NULL });
        snprintf(conf, sizeof conf,
                 "# test\nauditors = local:%s\nresponders = local:%s\n",
                 U.g_aud, U.g_resp);
        tdaemon_write_conf(&D, conf);
        if (tdaemon_start(&D) < 0)
                return -1;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        stdio3[0] = p[0];
        stdio3[1] = p[1];
        stdio3[2] = p[1];
        return 0;
}

static int teardown(void **state)
{
        int st = D.pid > 0 ? tdaemon_stop(&D) : -1;

        (void)state;
        /* exit status 0 also means no leak (LeakSanitizer) in the ASan build */
        if (st != 0)
                fprintf(stderr, "vigild did not exit cleanly: %d\n", st);
        tdaemon_cleanup(&D);
        tusers_remove(&U);
        return st == 0 ? 0 : -1;
}

static void test_ping_anyone(void **state)
{
        (void)state;
        EXPECT(tcall(&D, VT_PING, NOF, NULL, 0), VS_OK, "");
        EXPECT(tcall_as(&D, U.plain, VT_PING, NOF, NULL, 0), VS_OK, "");
}

static void test_status(void **state)
{
        char needle[128];

        (void)state;
        EXPECT(tcall(&D, VT_STATUS, NOF, NULL, 0), VS_OK, "");
        EXPECT(tcall_as(&D, U.auditor, VT_STATUS, NOF, NULL, 0), VS_OK, "");
        EXPECT(tcall_as(&D, U.plain, VT_STATUS, NOF, NULL, 0), VS_REFUSED, "status: not permitted for uid");
        EXPECT(tcall_as(&D, U.responder, VT_STATUS, NOF, NULL, 0), VS_REFUSED, "not permitted");
        snprintf(needle, sizeof needle, "refused status from uid=%u", (unsigned)U.plain_uid);
        assert_true(tdaemon_log_has(&D, needle));
}

static void test_pam_requests_root_only(void **state)
{
        (void)state;
        EXPECT(tcall_as(&D, U.plain, VT_PAM_REGISTER,
                        F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "me"), TI(VF_EXP, 4000000000LL)), NULL, 0),
               VS_REFUSED, "pam.register: not permitted");
        EXPECT(tcall_as(&D, U.auditor, VT_PAM_LOOKUP, F(TS(VF_REF, REF0), TS(VF_USER, U.plain)), NULL, 0),
               VS_REFUSED, "pam.lookup: not permitted");
        EXPECT(tcall_as(&D, U.responder, VT_PAM_OPEN, F(TS(VF_REF, REF0), TS(VF_USER, U.plain)), NULL, 0),
               VS_REFUSED, "pam.open: not permitted");
        EXPECT(tcall_as(&D, U.plain, VT_PAM_CLOSE, F(TS(VF_HANDLE, REF0)), NULL, 0), VS_REFUSED,
               "pam.close: not permitted");
}

static tresult register_for(const char *user)
{
        return tcall(&D, VT_PAM_REGISTER,
                     F(TS(VF_USER, user), TS(VF_SUBJECT, "sub-123"), TS(VF_EMAIL, "u@example.org"),
                       TS(VF_GROUP, "ops"), TS(VF_GROUP, "dev"), TS(VF_JTI, "j1"), TI(VF_EXP, 4000000000LL),
                       TS(VF_SERVICE, "sshd")),
                     NULL, 0);
}

static void test_reference_flow(void **state)
{
        tresult reg, open, r;
        char ref[80], sref[80], handle[80];

        (void)state;
        /* register -> lookup (not used up) -> open (used up) */
        reg = register_for(U.plain);
        EXPECT(reg, VS_OK, "");
        assert_int_equal(strlen(reg.ref), 64);
        strcpy(ref, reg.ref);
        EXPECT(tcall(&D, VT_PAM_LOOKUP, F(TS(VF_REF, ref), TS(VF_USER, U.auditor)), NULL, 0), VS_NOTFOUND,
               "unknown, expired or used reference");
        r = tcall(&D, VT_PAM_LOOKUP, F(TS(VF_REF, ref), TS(VF_USER, U.plain)), NULL, 0);
        EXPECT(r, VS_OK, "");
        assert_string_equal(r.subject, "sub-123");
        assert_int_equal(r.n_groups, 2);
        open = tcall(
                &D, VT_PAM_OPEN,
                F(TS(VF_REF, ref), TS(VF_USER, U.plain), TS(VF_TTY, "pts/7"), TS(VF_RHOST, "192.0.2.7")),
                NULL, 0);
        EXPECT(open, VS_OK, "");
        assert_int_equal(strlen(open.ref), 64);
        assert_int_equal(strlen(open.handle), 64);
        assert_string_not_equal(open.ref, ref);
        strcpy(sref, open.ref);
        strcpy(handle, open.handle);
        EXPECT(tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND,
               "unknown, expired or used reference");
        EXPECT(tcall(&D, VT_PAM_LOOKUP, F(TS(VF_REF, ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND, "");
        /* a login reference is not a session reference */
        reg = register_for(U.plain);
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, reg.ref)), stdio3, 3), VS_NOTFOUND,
               "unknown, expired or used reference");

        /* session.start: the reference is accepted once, by its account; the
         * supervisor process then finds no policy (the test's vigil.conf
         * names none that exists), so no session runs (fail closed) */
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, sref), TS(VF_ARGV, "-bash")), stdio3,
                        3),
               VS_FAILED, "session.start: cannot start the session: policy '");
        assert_true(tdaemon_log_has(&D, "session.start: no session for '"));
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, sref)), stdio3, 3), VS_NOTFOUND,
               "unknown, expired or used reference");
        /* pam.close drops nothing now (used), but knows nothing started either */
        EXPECT(tcall(&D, VT_PAM_CLOSE, F(TS(VF_HANDLE, handle)), NULL, 0), VS_NOTFOUND, "unknown handle");

        /* presented by another account: burnt, and refused for its own account too */
        reg = register_for(U.plain);
        open = tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0);
        EXPECT(open, VS_OK, "");
        EXPECT(tcall_as(&D, U.auditor, VT_SESSION_START_REF, F(TS(VF_REF, open.ref)), stdio3, 3),
               VS_NOTFOUND, "unknown, expired or used reference");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, open.ref)), stdio3, 3), VS_NOTFOUND,
               "");
        assert_true(tdaemon_log_has(&D, "not by its account; it is burnt"));

        /* pam.close drops an unused session reference */
        reg = register_for(U.plain);
        open = tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0);
        EXPECT(tcall(&D, VT_PAM_CLOSE, F(TS(VF_HANDLE, open.handle)), NULL, 0), VS_OK, "");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, open.ref)), stdio3, 3), VS_NOTFOUND,
               "");

        /* open with the wrong account uses the login reference up */
        reg = register_for(U.plain);
        EXPECT(tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.auditor)), NULL, 0), VS_REFUSED,
               "belongs to another account");
        EXPECT(tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND,
               "");
        /* unknown account at open */
        reg = register_for("nosuchuser-vigild");
        EXPECT(tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, "nosuchuser-vigild")), NULL, 0),
               VS_NOTFOUND, "unknown account");
        /* an identity that has already expired is not registered */
        EXPECT(tcall(&D, VT_PAM_REGISTER, F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "s"), TI(VF_EXP, 1000)),
                     NULL, 0),
               VS_REFUSED, "already expired");
}

static void test_reference_expiry(void **state)
{
        tdaemon d2;
        tresult reg, open;

        (void)state;
        /* 2 s: the next request (pam.open) comes well within it, even on a
         * loaded machine; the waits below pass it by 0.3 s */
        tdaemon_init(&d2, vigild_exe, (const char *const[]){ "--ref-ttl", "2", NULL });
        assert_int_equal(tdaemon_start(&d2), 0);
        reg = tcall(&d2, VT_PAM_REGISTER,
                    F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "s"), TI(VF_EXP, 4000000000LL)), NULL, 0);
        EXPECT(reg, VS_OK, "");
        poll(NULL, 0, 2300);
        EXPECT(tcall(&d2, VT_PAM_LOOKUP, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND,
               "");
        EXPECT(tcall(&d2, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND,
               "");
        /* a session reference expires too */
        reg = tcall(&d2, VT_PAM_REGISTER,
                    F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "s"), TI(VF_EXP, 4000000000LL)), NULL, 0);
        open = tcall(&d2, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0);
        EXPECT(open, VS_OK, "");
        poll(NULL, 0, 2300);
        EXPECT(tcall_as(&d2, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, open.ref)), stdio3, 3), VS_NOTFOUND,
               "");
        assert_int_equal(tdaemon_stop(&d2), 0);
        tdaemon_cleanup(&d2);
}

static void test_session_start_fds(void **state)
{
        int dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int pathfd = open("/etc/passwd", O_PATH | O_CLOEXEC);
        int master, slave;
        int bad[3];
        tresult reg, open_;

        (void)state;
        assert_true(dirfd >= 0 && pathfd >= 0);
        assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
        bad[0] = stdio3[0];
        bad[1] = dirfd;
        bad[2] = stdio3[1];
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, REF0)), bad, 3), VS_INVALID,
               "stdio fds must be pipes, sockets, character devices or files");
        bad[1] = pathfd;
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, REF0)), bad, 3), VS_INVALID,
               "not usable");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, REF0), TB(VF_PTY, 1)), stdio3, 1),
               VS_INVALID, "not a terminal");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, REF0), TB(VF_PTY, 1)), stdio3, 3),
               VS_INVALID, "exactly one fd");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF, F(TS(VF_REF, REF0)), NULL, 0), VS_INVALID,
               "takes 1 to 3 fds, got 0");
        /* a real terminal passes the checks and reaches the reference */
        reg = register_for(U.plain);
        open_ = tcall(&D, VT_PAM_OPEN, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0);
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_REF,
                        F(TS(VF_REF, open_.ref), TB(VF_PTY, 1), TU(VF_ROWS, 40), TU(VF_COLS, 120),
                          TS(VF_TERM, "xterm-256color"), TS(VF_ENV, "LANG=C.UTF-8"), TS(VF_CWD, "/tmp")),
                        &slave, 1),
               VS_FAILED, "cannot start the session: policy");
        close(master);
        close(slave);
        close(dirfd);
        close(pathfd);
}

static void test_session_start_token(void **state)
{
        (void)state;
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN,
                        F(TS(VF_TOKEN, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
                          TS(VF_ARGV, "/bin/true")),
                        stdio3, 3),
               VS_REFUSED, "session.start: token refused");
        assert_true(tdaemon_log_has(&D, "token of uid="));
        /* root uses `vigil run` directly, never a token session through vigild */
        EXPECT(tcall(&D, VT_SESSION_START_TOKEN, F(TS(VF_TOKEN, "a.b.c"), TS(VF_ARGV, "/bin/true")), stdio3,
                     3),
               VS_REFUSED, "not permitted for uid 0");
        /* asking to run as another account: there is no such field */
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN,
                        F(TS(VF_TOKEN, "a.b.c"), TS(VF_ARGV, "/bin/true"), TS(VF_USER, "root")), stdio3, 3),
               VS_INVALID, "field 'user' is not allowed in a session.start request");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN, F(TS(VF_TOKEN, "a.b.c")), stdio3, 3),
               VS_INVALID, "missing field 'argv'");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_START_TOKEN,
                        F(TS(VF_TOKEN, "not-a-token"), TS(VF_ARGV, "x")), stdio3, 3),
               VS_INVALID, "not a compact JWS token");
}

static void test_approvals(void **state)
{
        (void)state;
        /* the real approvals backend, on a store this daemon's vigil.conf names and nobody made */
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_LIST, NOF, NULL, 0), VS_UNAVAILABLE,
               "approvals.list: the store cannot be opened");
        EXPECT(tcall(&D, VT_APPROVALS_LIST, F(TS(VF_SESSION, "s1")), NULL, 0), VS_UNAVAILABLE, "");
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_DECIDE,
                        F(TS(VF_APPROVAL, "a7"), TS(VF_DECISION, "approve")), NULL, 0),
               VS_UNAVAILABLE, "approvals.decide: the store cannot be opened");
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_DECIDE, F(TS(VF_APPROVAL, "a7"), TS(VF_DECISION, "deny")),
                        NULL, 0),
               VS_INVALID, "a denial needs field 'reason'");
        EXPECT(tcall_as(&D, U.plain, VT_APPROVALS_DECIDE, F(TS(VF_APPROVAL, "a7"), TS(VF_DECISION, "yes")),
                        NULL, 0),
               VS_INVALID, "'approve' or 'deny'");
}

/* Who may ask (the table); what they get from the real store backend is
 * test-vigild-store's: here the store named in vigil.conf does not exist,
 * which a permitted caller learns and a refused one does not. */
static void test_sessions_rights(void **state)
{
        (void)state;
        /* sessions.list: root, auditors, responders */
        EXPECT(tcall(&D, VT_SESSIONS_LIST, NOF, NULL, 0), VS_FAILED, "sessions.list: store '");
        EXPECT(tcall_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_USER, "alice"), TB(VF_LIVE, 1)), NULL, 0),
               VS_FAILED, "does not exist");
        EXPECT(tcall_as(&D, U.responder, VT_SESSIONS_LIST, NOF, NULL, 0), VS_FAILED, "does not exist");
        EXPECT(tcall_as(&D, U.plain, VT_SESSIONS_LIST, NOF, NULL, 0), VS_REFUSED,
               "sessions.list: not permitted");
        EXPECT(tcall_as(&D, U.auditor, VT_SESSIONS_LIST, F(TI(VF_SINCE, 10), TI(VF_UNTIL, 5)), NULL, 0),
               VS_INVALID, "'since' is after 'until'");
        /* session.watch: root, auditors, responders; others only if the backend
         * says they approve a request held in it (it cannot, here) */
        EXPECT(tcall_as(&D, U.auditor, VT_SESSION_WATCH, F(TS(VF_SESSION, "s1")), NULL, 0), VS_FAILED,
               "does not exist");
        EXPECT(tcall_as(&D, U.responder, VT_SESSION_WATCH, F(TS(VF_SESSION, "s1")), NULL, 0), VS_FAILED,
               "does not exist");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_WATCH, F(TS(VF_SESSION, "s1")), NULL, 0), VS_REFUSED,
               "session.watch: not permitted");
        /* session.replay: root, auditors */
        EXPECT(tcall(&D, VT_SESSION_REPLAY, F(TS(VF_SESSION, "s1"), TU(VF_COMMAND_NO, 3)), NULL, 0),
               VS_FAILED, "does not exist");
        EXPECT(tcall_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, "s1")), NULL, 0), VS_FAILED,
               "does not exist");
        EXPECT(tcall_as(&D, U.responder, VT_SESSION_REPLAY, F(TS(VF_SESSION, "s1")), NULL, 0), VS_REFUSED,
               "session.replay: not permitted");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_REPLAY, F(TS(VF_SESSION, "s1")), NULL, 0), VS_REFUSED, "");
        /* session.kill: root, responders */
        EXPECT(tcall(&D, VT_SESSION_KILL, F(TS(VF_SESSION, "0123abcd")), NULL, 0), VS_NOTFOUND,
               "session.kill: no running session with this id");
        EXPECT(tcall(&D, VT_SESSION_KILL, F(TS(VF_SESSION, "s1")), NULL, 0), VS_INVALID,
               "session.kill: not a session id");
        EXPECT(tcall_as(&D, U.responder, VT_SESSION_KILL,
                        F(TS(VF_SESSION, "0123"), TS(VF_REASON, "incident 42")), NULL, 0),
               VS_NOTFOUND, "");
        EXPECT(tcall_as(&D, U.auditor, VT_SESSION_KILL, F(TS(VF_SESSION, "0123")), NULL, 0), VS_REFUSED,
               "session.kill: not permitted");
        EXPECT(tcall_as(&D, U.plain, VT_SESSION_KILL, F(TS(VF_SESSION, "0123")), NULL, 0), VS_REFUSED, "");
}

static void test_connection_rules(void **state)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int k;

        (void)state;
        /* session.start must be a connection's first request */
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_PING, 1, NOF);
        assert_int_equal(vigild_call(c, &b, NULL, 0, TDAEMON_WAIT_MS, &rep), 0);
        assert_int_equal(vigild_reply_status(rep), VS_OK);
        rep = vigild_reply_free(rep);
        vmsg_builder_done(&b);
        tbuild(&b, VT_SESSION_START_REF, 2, F(TS(VF_REF, REF0)));
        assert_int_equal(vigild_call(c, &b, stdio3, 3, TDAEMON_WAIT_MS, &rep), 0);
        assert_int_equal(vigild_reply_status(rep), VS_REFUSED);
        assert_non_null(strstr(vigild_reply_error(rep), "not permitted at this point of the connection"));
        rep = vigild_reply_free(rep);
        vmsg_builder_done(&b);
        /* and the refusal ended the connection */
        tbuild(&b, VT_PING, 3, NOF);
        k = vigild_call(c, &b, NULL, 0, TDAEMON_WAIT_MS, &rep);
        assert_true(k == -ECONNRESET || k == -EPIPE);
        vmsg_builder_done(&b);
        c = vigild_conn_free(c);

        /* once per connection */
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        for (int i = 0; i < 2; i++) {
                tbuild(&b, VT_PAM_OPEN, (uint32_t)i, F(TS(VF_REF, REF0), TS(VF_USER, "root")));
                assert_int_equal(vigild_call(c, &b, NULL, 0, TDAEMON_WAIT_MS, &rep), 0);
                assert_int_equal(vigild_reply_status(rep), i == 0 ? VS_NOTFOUND : VS_REFUSED);
                rep = vigild_reply_free(rep);
                vmsg_builder_done(&b);
                if (i == 0) {
                        /* a refusal ends the connection: reconnect and use it up for real */
                        c = vigild_conn_free(c);
                        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
                        tresult reg = register_for("root");
                        tbuild(&b, VT_PAM_OPEN, 9, F(TS(VF_REF, reg.ref), TS(VF_USER, "root")));
                        assert_int_equal(vigild_call(c, &b, NULL, 0, TDAEMON_WAIT_MS, &rep), 0);
                        assert_int_equal(vigild_reply_status(rep), VS_OK);
                        rep = vigild_reply_free(rep);
                        vmsg_builder_done(&b);
                }
        }
        c = vigild_conn_free(c);
}

static void test_malformed(void **state)
{
        static uint8_t big[VMSG_MAX + 100];
        uint32_t st;
        char err[600];
        int fd, before, after, dirfd, k;
        vmsg_builder b;

        (void)state;
        before = tdaemon_fd_count_settled(&D);
        /* oversized */
        memcpy(big, "VGD1\x01\0\0\0\0\0\0\0", 12);
        fd = traw_connect(&D);
        assert_int_equal(traw_roundtrip(fd, big, VMSG_MAX + 1, NULL, 0, &st, err, sizeof err), 0);
        assert_int_equal(st, VS_INVALID);
        assert_non_null(strstr(err, "message larger than 65536 bytes"));
        close(fd);
        /* garbage, bad magic, truncated, unknown type, a reply from a client */
        const struct {
                const char *bytes;
                size_t len;
                const char *needle;
        } cases[] = {
                { "hello", 5, "shorter than its header" },
                { "HTTP/1.1 GET /", 14, "not a vigild protocol 1 message" },
                { "VGD1\x63\0\0\0\0\0\0\0", 12, "unknown message type 99" },
                { "VGD1\x01\x80\0\0\0\0\0\0\x01\0\x04\0\0\0\0\0\0\0", 22, "clients send requests only" },
                { "VGD1\x43\0\0\0\0\0\0\0\x30\0\x09\0\0\0abc", 21, "overruns the message" },
                { "VGD1\x43\0\0\0\0\0\0\0\x30\0\x03\0\0\0a\nc", 21, "field 'session' is not a valid id" },
                { "VGD1\x11\0\0\0\0\0\0\0\x10\0\x04\0\0\0ro\0t", 22, "not a valid account or group name" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                fd = traw_connect(&D);
                k = traw_roundtrip(fd, cases[i].bytes, cases[i].len, NULL, 0, &st, err, sizeof err);
                if (k != 0 || st != VS_INVALID || !strstr(err, cases[i].needle))
                        fail_msg("case %zu: %d %u '%s'", i, k, st, err);
                /* and the connection is closed after the refusal */
                assert_int_equal(recv(fd, big, sizeof big, 0), 0);
                close(fd);
        }
        /* fds where none belong, or too many: refused, and closed by vigild */
        dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tbuild(&b, VT_PING, 1, NOF);
        fd = traw_connect(&D);
        assert_int_equal(traw_roundtrip(fd, b.buf, b.len, &dirfd, 1, &st, err, sizeof err), 0);
        assert_int_equal(st, VS_INVALID);
        assert_non_null(strstr(err, "ping takes no fds"));
        close(fd);
        fd = traw_connect(&D);
        assert_int_equal(traw_roundtrip(fd, b.buf, b.len, (int[]){ dirfd, dirfd, dirfd, dirfd, dirfd }, 5,
                                        &st, err, sizeof err),
                         0);
        assert_int_equal(st, VS_INVALID);
        assert_non_null(strstr(err, "too many fds"));
        close(fd);
        vmsg_builder_done(&b);
        close(dirfd);
        /* a disconnect right after connecting, and mid-way, costs nothing */
        for (int i = 0; i < 50; i++)
                close(traw_connect(&D));
        /* all that left no fd behind in the daemon */
        (void)tdaemon_wait_idle(&D);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             (after = tdaemon_fd_count(&D)) != before && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(after, before);
        EXPECT(tcall(&D, VT_PING, NOF, NULL, 0), VS_OK, "");
}

static void test_stalled_client_dropped(void **state)
{
        char buf[1024];
        struct pollfd p;
        int64_t t0 = tnow_ms(), dt;
        int fd = traw_connect(&D);
        vmsg *m = malloc(sizeof *m);
        ssize_t n;
        uint32_t st = 0;

        (void)state;
        assert_true(fd >= 0 && m);
        p = (struct pollfd){ .fd = fd, .events = POLLIN };
        assert_int_equal(poll(&p, 1, TDAEMON_WAIT_MS), 1);
        n = recv(fd, buf, sizeof buf, 0);
        dt = tnow_ms() - t0;
        assert_true(n > 0);
        assert_int_equal(vmsg_decode(buf, (size_t)n, 0, m, NULL), 0);
        assert_int_equal(vmsg_get_u32(m, VF_STATUS, &st), 0);
        assert_int_equal(st, VS_TIMEOUT);
        /* not before the timeout; after it, soon (the poll above is the bound) */
        fprintf(stderr, "# a client that sent nothing was dropped after %lld ms (timeout %d ms)\n",
                (long long)dt, REQUEST_TIMEOUT_MS);
        assert_true(dt >= REQUEST_TIMEOUT_MS - 100);
        assert_int_equal(recv(fd, buf, sizeof buf, 0), 0);
        close(fd);
        free(m);
}

static int open_n(void *arg)
{
        int n = *(int *)arg, last = 0;
        vigild_conn *c[16] = { 0 };

        /* n connections from one account: the (n)th answer tells */
        for (int i = 0; i < n; i++)
                if (vigild_connect(D.sock, 1000, &c[i]) < 0)
                        return 100;
        {
                vmsg_builder b;
                vigild_reply *rep = NULL;

                tbuild(&b, VT_PING, 1, NOF);
                for (int i = 0; i < n; i++) {
                        int k = vigild_call(c[i], &b, NULL, 0, TDAEMON_WAIT_MS, &rep);

                        if (k < 0)
                                return 101;
                        last = (int)vigild_reply_status(rep);
                        if (i < n - 1 && last != VS_OK)
                                return 102;
                        if (i == n - 1 && !strstr(vigild_reply_error(rep), "from this account") &&
                            last != VS_OK)
                                return 103;
                        rep = vigild_reply_free(rep);
                }
                vmsg_builder_done(&b);
        }
        for (int i = 0; i < n; i++)
                vigild_conn_free(c[i]);
        return last;
}

static void test_caps(void **state)
{
        int six = 6, seven = 7;
        tdaemon d2;
        int fds[8];
        uint32_t st;
        char err[300];

        (void)state;
        /* 6 per uid is fine, the 7th is refused with one line */
        assert_int_equal(trun_as(U.plain, open_n, &six), VS_OK);
        assert_int_equal(trun_as(U.plain, open_n, &seven), VS_LIMIT);
        /* root is not capped per uid */
        assert_int_equal(trun_as(NULL, open_n, &seven), VS_OK);
        /* the total cap */
        tdaemon_init(&d2, vigild_exe, (const char *const[]){ "--max-clients", "4", NULL });
        assert_int_equal(tdaemon_start(&d2), 0);
        assert_true(tdaemon_wait_idle(&d2)); /* the start-up ping's connection is gone */
        for (int i = 0; i < 4; i++)
                fds[i] = traw_connect(&d2);
        /* (what tdaemon_wait_idle() goes by sees them) */
        assert_int_equal(tdaemon_connections(&d2), 4);
        fds[4] = traw_connect(&d2);
        {
                vmsg_builder b;

                tbuild(&b, VT_PING, 1, NOF);
                assert_int_equal(traw_roundtrip(fds[4], b.buf, b.len, NULL, 0, &st, err, sizeof err), 0);
                vmsg_builder_done(&b);
        }
        assert_int_equal(st, VS_LIMIT);
        assert_non_null(strstr(err, "too many connections"));
        for (int i = 0; i < 5; i++)
                close(fds[i]);
        assert_true(tdaemon_wait_idle(&d2)); /* vigild closed them: room again */
        EXPECT(tcall(&d2, VT_PING, NOF, NULL, 0), VS_OK, "");
        assert_int_equal(tdaemon_stop(&d2), 0);
        tdaemon_cleanup(&d2);
}

/* 200 clients at once, one that never sends and one that never reads: the
 * others are all answered promptly, i.e. while the one that never sends still
 * waits for its timeout (a loop held up by it, or by the one that never
 * reads, would answer them only after that). */
static void test_200_clients(void **state)
{
        enum { N = 200 };
        int fds[N], staller, flooder, answered = 0;
        static uint8_t rx[VMSG_MAX];
        struct pollfd p[N];
        vmsg_builder b;
        int64_t t0, dt;
        int sent_flood = 0;

        (void)state;
        staller = traw_connect(&D);
        flooder = traw_connect(&D);
        assert_true(staller >= 0 && flooder >= 0);
        tbuild(&b, VT_PING, 5, NOF);
        /* the flooder sends pings and never reads a reply */
        assert_int_equal(fcntl(flooder, F_SETFL, O_NONBLOCK), 0);
        for (int i = 0; i < 200000; i++) {
                if (send(flooder, b.buf, b.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        break;
                sent_flood++;
        }
        assert_true(sent_flood > 100);

        for (int i = 0; i < N; i++) {
                fds[i] = traw_connect(&D);
                assert_true(fds[i] >= 0);
        }
        t0 = tnow_ms();
        for (int i = 0; i < N; i++)
                assert_int_equal(send(fds[i], b.buf, b.len, MSG_NOSIGNAL), (ssize_t)b.len);
        for (int i = 0; i < N; i++)
                p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        while (answered < N && tnow_ms() - t0 < TDAEMON_WAIT_MS) {
                if (poll(p, N, 100) <= 0)
                        continue;
                for (int i = 0; i < N; i++)
                        if (p[i].fd >= 0 && (p[i].revents & POLLIN)) {
                                ssize_t n = recv(fds[i], rx, sizeof rx, 0);
                                vmsg *m = malloc(sizeof *m);
                                uint32_t st = 99;

                                assert_true(n > 0 && m);
                                assert_int_equal(vmsg_decode(rx, (size_t)n, 0, m, NULL), 0);
                                (void)vmsg_get_u32(m, VF_STATUS, &st);
                                assert_int_equal(st, VS_OK);
                                free(m);
                                p[i].fd = -1;
                                answered++;
                        }
        }
        dt = tnow_ms() - t0;
        fprintf(stderr,
                "# 200 clients (one stalling, one flooding) answered in %lld ms (measured under load)\n",
                (long long)dt);
        assert_int_equal(answered, N);
        {
                struct pollfd sp = { .fd = staller, .events = POLLIN };

                /* the staller has not had its timeout yet (it connected first) */
                if (poll(&sp, 1, 0) != 0)
                        fail_msg(
                                "the 200 were answered only after the client that sends nothing was dropped "
                                "(%lld ms; its timeout is %d ms)",
                                (long long)dt, REQUEST_TIMEOUT_MS);
        }
        for (int i = 0; i < N; i++)
                close(fds[i]);
        vmsg_builder_done(&b);
        /* the staller gets its timeout and is gone; so is the flooder, whose
         * output stopped moving */
        {
                struct pollfd sp = { .fd = staller, .events = POLLIN };

                assert_int_equal(poll(&sp, 1, TDAEMON_WAIT_MS), 1);
                assert_true(recv(staller, rx, sizeof rx, 0) > 0);
                assert_int_equal(recv(staller, rx, sizeof rx, 0), 0);
        }
        close(staller);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             !tdaemon_log_has(&D, "its output did not move") && tnow_ms() < end;)
                poll(NULL, 0, 50);
        assert_true(tdaemon_log_has(&D, "its output did not move"));
        close(flooder);
        EXPECT(tcall(&D, VT_PING, NOF, NULL, 0), VS_OK, "");
}

static void test_kill_restart(void **state)
{
        tdaemon d2;
        vigild_conn *c = NULL, *held = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        tresult reg;
        int k;

        (void)state;
        tdaemon_init(&d2, vigild_exe, NULL);
        assert_int_equal(tdaemon_start(&d2), 0);
        reg = tcall(&d2, VT_PAM_REGISTER,
                    F(TS(VF_USER, U.plain), TS(VF_SUBJECT, "s"), TI(VF_EXP, 4000000000LL)), NULL, 0);
        EXPECT(reg, VS_OK, "");
        assert_int_equal(vigild_connect(d2.sock, 1000, &held), 0);
        tdaemon_kill9(&d2);

        /* while it is down: a clear error, new and open connections alike */
        k = vigild_connect(d2.sock, 500, &c);
        assert_int_equal(k, -ECONNREFUSED);
        assert_string_equal(vigild_client_strerror(k), "vigild is not running");
        tbuild(&b, VT_PING, 1, NOF);
        k = vigild_call(held, &b, NULL, 0, 1000, &rep);
        assert_true(k == -EPIPE || k == -ECONNRESET || k == -ECONNREFUSED);
        held = vigild_conn_free(held);
        /* a PAM module's login would be refused: pam.open cannot be answered */
        k = vigild_connect(d2.sock, 500, &c);
        assert_true(k < 0);

        /* back: works, over the stale socket; logins in progress were dropped (fail closed) */
        assert_int_equal(tdaemon_start(&d2), 0);
        EXPECT(tcall(&d2, VT_PING, NOF, NULL, 0), VS_OK, "");
        EXPECT(tcall(&d2, VT_PAM_LOOKUP, F(TS(VF_REF, reg.ref), TS(VF_USER, U.plain)), NULL, 0), VS_NOTFOUND,
               "");
        vmsg_builder_done(&b);
        assert_int_equal(tdaemon_stop(&d2), 0);
        tdaemon_cleanup(&d2);
}

static int start_vigild_as_user(void *arg)
{
        tdaemon *d = arg;
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 2);
        execl(vigild_exe, vigild_exe, "--socket", d->sock, "--log-stderr", (char *)NULL);
        return 127;
}

static void test_daemon_setup_rules(void **state)
{
        struct stat st;
        tdaemon d2;
        char dir[200];

        (void)state;
        /* socket mode 0666 (requests are checked, not the mode) */
        assert_int_equal(lstat(D.sock, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0666);
        /* one daemon per socket */
        tdaemon_init(&d2, vigild_exe, NULL);
        snprintf(d2.sock, sizeof d2.sock, "%s", D.sock);
        assert_int_equal(tdaemon_run_once(&d2), 1);
        assert_true(tdaemon_log_has(&d2, "another vigild is running"));
        /* a directory others can write is refused */
        assert_true(strlen(d2.dir) < 150);
        snprintf(dir, sizeof dir, "%.150s/open", d2.dir);
        assert_int_equal(mkdir(dir, 0777), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        snprintf(d2.sock, sizeof d2.sock, "%s/vigild.sock", dir);
        assert_int_equal(tdaemon_run_once(&d2), 1);
        assert_true(tdaemon_log_has(&d2, "must be a directory owned by root and writable by root only"));
        rmdir(dir);
        /* not as an unprivileged user */
        snprintf(d2.sock, sizeof d2.sock, "%s/vigild.sock", d2.dir);
        assert_int_equal(trun_as(U.plain, start_vigild_as_user, &d2), 1);
        /* a broken configuration: no start */
        tdaemon_write_conf(&d2, "auditors = wheel\n");
        assert_int_equal(tdaemon_run_once(&d2), 1);
        assert_true(tdaemon_log_has(&d2, "vigil.conf:6: auditors: each entry is group:NAME or local:NAME"));
        tdaemon_write_conf(&d2, "auditor = group:x\n");
        assert_int_equal(tdaemon_run_once(&d2), 1);
        assert_true(tdaemon_log_has(&d2, "vigil.conf:6: unknown key 'auditor'"));
        tdaemon_write_conf(&d2, "responders = local:no-such-group-vigild\n");
        assert_int_equal(tdaemon_run_once(&d2), 1);
        assert_true(
                tdaemon_log_has(&d2, "'local:no-such-group-vigild' is neither a local account nor a group"));
        tdaemon_cleanup(&d2);
}

static void test_reload(void **state)
{
        char conf[512];
        tresult r;

        (void)state;
        /* make the plain user an auditor, by account */
        snprintf(conf, sizeof conf, "auditors = local:%s, local:%s\nresponders = local:%s\n", U.g_aud,
                 U.plain, U.g_resp);
        tdaemon_write_conf(&D, conf);
        kill(D.pid, SIGHUP);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                r = tcall_as(&D, U.plain, VT_STATUS, NOF, NULL, 0);
                if (r.status == VS_OK)
                        break;
                poll(NULL, 0, 20);
        }
        EXPECT(r, VS_OK, "");
        /* a broken file takes every right away (fail closed) */
        tdaemon_write_conf(&D, "auditors = everyone\n");
        kill(D.pid, SIGHUP);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                r = tcall_as(&D, U.auditor, VT_STATUS, NOF, NULL, 0);
                if (r.status == VS_REFUSED)
                        break;
                poll(NULL, 0, 20);
        }
        EXPECT(r, VS_REFUSED, "");
        assert_true(tdaemon_log_has(&D, "no auditors or responders and no sessions until it is fixed"));
        /* and back */
        snprintf(conf, sizeof conf, "auditors = local:%s\nresponders = local:%s\n", U.g_aud, U.g_resp);
        tdaemon_write_conf(&D, conf);
        kill(D.pid, SIGHUP);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                r = tcall_as(&D, U.auditor, VT_STATUS, NOF, NULL, 0);
                if (r.status == VS_OK)
                        break;
                poll(NULL, 0, 20);
        }
        EXPECT(r, VS_OK, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ping_anyone),
                cmocka_unit_test(test_status),
                cmocka_unit_test(test_pam_requests_root_only),
                cmocka_unit_test(test_reference_flow),
                cmocka_unit_test(test_reference_expiry),
                cmocka_unit_test(test_session_start_fds),
                cmocka_unit_test(test_session_start_token),
                cmocka_unit_test(test_approvals),
                cmocka_unit_test(test_sessions_rights),
                cmocka_unit_test(test_connection_rules),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_stalled_client_dropped),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_200_clients),
                cmocka_unit_test(test_kill_restart),
                cmocka_unit_test(test_daemon_setup_rules),
                cmocka_unit_test(test_reload),
        };

        vigild_exe = getenv("VIGILD");
        if (!vigild_exe) {
                fprintf(stderr, "VIGILD is not set\n");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup, teardown);
}
