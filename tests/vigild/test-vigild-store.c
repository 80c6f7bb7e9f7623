/* vigild's store backend (ops-store.c) against a real store written by
 * tests/store/store-writer: sessions.list, session.replay and session.watch
 * for root, an auditor, a responder and a plain user; what comes back
 * (items, the output byte for byte, start points, errors); following a live
 * session to its end and to its writer's death; and that nothing waits on a
 * reader: a client that stops reading a 24 MiB replay holds up no one, is
 * dropped, and its store reader is killed, as is the reader of a client that
 * hangs up; the per-uid cap bounds the readers. Needs root. */
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* vigild's --request-timeout: a client whose output does not move is dropped
 * after it, which is what test_slow_reader checks the others are answered
 * before. */
#define REQUEST_TIMEOUT "5000"
static tdaemon D;
static tusers U;
static const char *vigild_exe, *writer_exe;
static char store[400], dump[400], manifest[400];

/* The sessions the setup wrote: alice's three (text only), bob's (digests,
 * denied commands), carol's big one. */
static char alice[3][40], bob[40], carol[40];
static size_t alice_out[3];

#define EXPECT(res, st, needle)                                                                             \
        do {                                                                                                \
                tresult r_ = (res);                                                                         \
                if (r_.transport != 0)                                                                      \
                        fail_msg("transport error %d", r_.transport);                                       \
                if (r_.status != (st) || !strstr(r_.error, needle))                                         \
                        fail_msg("expected status %s with '%s', got %s '%s'", vstatus_name(st), needle,     \
                                 vstatus_name(r_.status), r_.error);                                        \
        } while (0)

#define EXPECT_STREAM(res, st, needle)                                                                      \
        do {                                                                                                \
                if ((res).transport != 0)                                                                   \
                        fail_msg("transport error %d", (res).transport);                                    \
                if ((res).status != (st) || !strstr((res).error, needle))                                   \
                        fail_msg("expected status %s with '%s', got %s '%s'", vstatus_name(st), needle,     \
                                 vstatus_name((res).status), (res).error);                                  \
        } while (0)

#define F(...) ((const tfield[]){ __VA_ARGS__, TEND })
#define NOF ((const tfield[]){ TEND })

/* Run store-writer with @args (NULL-terminated); with @out, its stdout's
 * first line is read into it and the writer left running (its pid
 * returned); else waited for (0 when it succeeded). */
static pid_t writer(char *out, size_t outlen, ...)
{
        char *argv[40];
        size_t n = 0;
        int p[2];
        va_list ap;
        pid_t pid;
        int st;

        argv[n++] = (char *)writer_exe;
        argv[n++] = (char *)"--store";
        argv[n++] = store;
        va_start(ap, outlen);
        while (n < 39 && (argv[n] = va_arg(ap, char *)))
                n++;
        va_end(ap);
        argv[n] = NULL;
        H_CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        H_CHECK(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 1);
                execv(writer_exe, argv);
                _exit(127);
        }
        close(p[1]);
        if (out) {
                size_t got = 0;
                char c;

                while (got + 1 < outlen && read(p[0], &c, 1) == 1 && c != '\n')
                        out[got++] = c;
                out[got] = '\0';
                close(p[0]);
                return pid;
        }
        close(p[0]);
        H_CHECK(waitpid(pid, &st, 0) == pid);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Lines "id user commands out_bytes" of the manifest, for @user, in order. */
static size_t manifest_ids(const char *user, char ids[][40], size_t *out, size_t max)
{
        FILE *f = fopen(manifest, "re");
        char line[256];
        size_t n = 0;

        H_CHECK(f);
        while (n < max && fgets(line, sizeof line, f)) {
                char id[40], u[64];
                unsigned long long cmds, bytes;

                if (sscanf(line, "%39s %63s %llu %llu", id, u, &cmds, &bytes) == 4 && strcmp(u, user) == 0) {
                        snprintf(ids[n], 40, "%s", id);
                        if (out)
                                out[n] = (size_t)bytes;
                        n++;
                }
        }
        fclose(f);
        return n;
}

static int setup(void **state)
{
        char conf[512], key[400];
        char one[1][40];

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
                                            "8", NULL });
        snprintf(store, sizeof store, "%s/store", D.dir);
        snprintf(dump, sizeof dump, "%s/dump", D.dir);
        snprintf(manifest, sizeof manifest, "%s/manifest", D.dir);
        snprintf(key, sizeof key, "%s/host.key", D.dir);
        /* the writers seal with it; vigild's readers inherit the variable */
        setenv("VIGIL_HOST_KEY", key, 1);
        H_CHECK(mkdir(dump, 0700) == 0);
        if (writer(NULL, 0, "--sessions", "3", "--commands", "6", "--output", "200k", "--user", "alice", "--dump",
                   dump, "--manifest", manifest, NULL) < 0 ||
            writer(NULL, 0, "--commands", "5", "--output", "64k", "--binary-every", "2", "--deny-every", "3",
                   "--user", "bob", "--manifest", manifest, NULL) < 0 ||
            writer(NULL, 0, "--commands", "10", "--output", "24M", "--kind", "base64", "--user", "carol",
                   "--dump", dump, "--manifest", manifest, NULL) < 0)
                return -1;
        if (manifest_ids("alice", alice, alice_out, 3) != 3 || manifest_ids("bob", one, NULL, 1) != 1)
                return -1;
        snprintf(bob, sizeof bob, "%s", one[0]);
        if (manifest_ids("carol", one, NULL, 1) != 1)
                return -1;
        snprintf(carol, sizeof carol, "%s", one[0]);
        snprintf(conf, sizeof conf, "auditors = local:%s\nresponders = local:%s\n", U.g_aud, U.g_resp);
        tdaemon_write_conf(&D, conf);
        return tdaemon_start(&D);
}

static int teardown(void **state)
{
        int st = D.pid > 0 ? tdaemon_stop(&D) : -1;

        (void)state;
        if (st != 0)
                fprintf(stderr, "vigild did not exit cleanly: %d\n", st);
        tdaemon_cleanup(&D);
        tusers_remove(&U);
        return st == 0 ? 0 : -1;
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_list(void **state)
{
        tstream root, aud, resp, plain, s;

        (void)state;
        root = tstream_as(&D, NULL, VT_SESSIONS_LIST, NOF);
        EXPECT_STREAM(root, VS_OK, "");
        assert_int_equal(root.n_items, 5);
        assert_true(strstr(root.items, alice[0]) && strstr(root.items, bob) && strstr(root.items, carol));
        assert_int_equal(count(root.items, "\"ended\":\"exit\""), 5);
        /* auditors and responders get the same items; others nothing */
        aud = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, NOF);
        EXPECT_STREAM(aud, VS_OK, "");
        assert_string_equal(aud.items, root.items);
        resp = tstream_as(&D, U.responder, VT_SESSIONS_LIST, NOF);
        EXPECT_STREAM(resp, VS_OK, "");
        assert_string_equal(resp.items, root.items);
        plain = tstream_as(&D, U.plain, VT_SESSIONS_LIST, F(TS(VF_USER, U.plain)));
        EXPECT_STREAM(plain, VS_REFUSED, "sessions.list: not permitted for uid");
        assert_int_equal(plain.n_items, 0);

        /* filters */
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_USER, "alice")));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 3);
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_USER, "nobody")));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TI(VF_SINCE, 4000000000000LL)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TB(VF_LIVE, 1)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_HOST, "no-such-host.example")));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_COMMAND, "(")));
        EXPECT_STREAM(s, VS_INVALID, "sessions.list: regex '(': missing closing parenthesis");
        /* the connection goes on after a list: two in a row */
        s = tstream_as(&D, U.responder, VT_SESSIONS_LIST, F(TS(VF_USER, "bob")));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 1);
}

/* exec_off of command @no among a replay's items, or -1 */
static long long exec_off(const tstream *s, unsigned no)
{
        char key[64];
        const char *p;

        snprintf(key, sizeof key, "{\"command\":%u,", no);
        p = strstr(s->items, key);
        p = p ? strstr(p, "\"exec_off\":") : NULL;
        return p ? atoll(p + 11) : -1;
}

static void test_replay(void **state)
{
        char path[600];
        size_t len;
        uint64_t want;
        long long off;
        tstream s;

        (void)state;
        /* the output byte for byte, after the header and every command */
        snprintf(path, sizeof path, "%s/%s.out", dump, alice[1]);
        want = thash_file(path, &len);
        assert_int_equal(len, alice_out[1]);
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, alice[1])));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.data_bytes, len);
        assert_true(s.hash == want);
        assert_true(strncmp(s.items, "{\"session\":\"", 12) == 0 && strstr(s.items, alice[1]));
        assert_int_equal(count(s.items, "{\"command\":"), 6);
        assert_int_equal(count(s.items, "{\"end\":\"exit\",\"exit_status\":0}"), 1);
        /* root, and a prefix without dashes */
        {
                char prefix[40];
                size_t k = 0;

                for (const char *p = alice[1]; *p && k < 20; p++)
                        if (*p != '-')
                                prefix[k++] = *p;
                prefix[k] = '\0';
                s = tstream_as(&D, NULL, VT_SESSION_REPLAY, F(TS(VF_SESSION, prefix)));
                EXPECT_STREAM(s, VS_OK, "");
                assert_true(s.hash == want);
        }
        /* from command 2: what came before is one skip */
        off = exec_off(&s, 2);
        assert_true(off > 0);
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, alice[1]), TU(VF_COMMAND_NO, 2)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.data_bytes, len - (size_t)off);
        {
                char skip[64];

                snprintf(skip, sizeof skip, "{\"skip\":%lld}", off);
                assert_non_null(strstr(s.items, skip));
        }
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, alice[1]), TU(VF_COMMAND_NO, 99)));
        EXPECT_STREAM(s, VS_NOTFOUND, "session.replay: the session has no command 99");
        /* from a time past the end: nothing of the output */
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, alice[1]), TI(VF_AT, 86400000)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.data_bytes, 0);
        /* digests and denied commands */
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, bob)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_true(count(s.items, "{\"omitted\":\"digest\",") >= 1);
        assert_true(count(s.items, "\"decision\":\"deny\"") >= 1);

        /* who may */
        s = tstream_as(&D, U.responder, VT_SESSION_REPLAY, F(TS(VF_SESSION, bob)));
        EXPECT_STREAM(s, VS_REFUSED, "session.replay: not permitted for uid");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.plain, VT_SESSION_REPLAY, F(TS(VF_SESSION, bob)));
        EXPECT_STREAM(s, VS_REFUSED, "session.replay: not permitted for uid");
        assert_int_equal(s.n_items, 0);

        /* no such session, several, not an id: fixed words, never the value */
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, "0000ffff")));
        EXPECT_STREAM(s, VS_NOTFOUND, "session.replay: no such session");
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, "0")));
        EXPECT_STREAM(s, VS_NOTFOUND, "session.replay: ambiguous session prefix");
        s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, "xyz")));
        EXPECT_STREAM(s, VS_INVALID, "session.replay: not a session id");
        assert_null(strstr(s.error, "xyz"));
}

/* A session being written now: the live list has it; a watch follows it to
 * its end, output and all. */
static void test_watch_to_end(void **state)
{
        char ids[1][40];
        size_t out[1];
        tstream s;
        pid_t w;
        int st;

        (void)state;
        w = fork();
        assert_true(w >= 0);
        if (w == 0) {
                execl(writer_exe, writer_exe, "--store", store, "--commands", "20", "--delay-ms", "100", "--output",
                      "40k", "--user", "erin", "--manifest", manifest, (char *)NULL);
                _exit(127);
        }
        /* live: in the list */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                s = tstream_as(&D, U.responder, VT_SESSIONS_LIST, F(TB(VF_LIVE, 1), TS(VF_USER, "erin")));
                if (s.n_items == 1)
                        break;
                poll(NULL, 0, 20);
        }
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 1);
        assert_non_null(strstr(s.items, "\"ended\":\"live\""));
        {
                /* its id, from the item */
                const char *p = strstr(s.items, "\"id\":\"");

                assert_non_null(p);
                snprintf(ids[0], 37, "%s", p + 6);
        }
        /* a responder watches it to the end */
        s = tstream_as(&D, U.responder, VT_SESSION_WATCH, F(TS(VF_SESSION, ids[0])));
        EXPECT_STREAM(s, VS_OK, "");
        assert_non_null(strstr(s.items, "{\"end\":\"exit\",\"exit_status\":0}"));
        assert_true(waitpid(w, &st, 0) == w && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_equal(manifest_ids("erin", ids, out, 1), 1);
        assert_int_equal(s.data_bytes, out[0]);
        /* it ended: no longer live */
        s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TB(VF_LIVE, 1)));
        EXPECT_STREAM(s, VS_OK, "");
        assert_int_equal(s.n_items, 0);
        s = tstream_as(&D, U.plain, VT_SESSION_WATCH, F(TS(VF_SESSION, ids[0])));
        EXPECT_STREAM(s, VS_REFUSED, "session.watch: not permitted");
}

/* A watch whose writer dies: the watch ends with that, not forever. */
static void test_watch_writer_gone(void **state)
{
        char line[600];
        tstream *res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t w, watcher;
        int64_t t0;
        int st;

        (void)state;
        assert_true(res != MAP_FAILED);
        w = writer(line, sizeof line, "--commands", "10", "--output", "20k", "--user", "frank", "--hang", NULL);
        assert_true(strncmp(line, "READY ", 6) == 0);
        /* the readers of earlier steps are gone */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) > 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 0);
        watcher = fork();
        assert_true(watcher >= 0);
        if (watcher == 0) {
                *res = tstream_as(&D, U.auditor, VT_SESSION_WATCH, F(TS(VF_SESSION, line + 6)));
                _exit(0);
        }
        /* the watch follows the session (its reader runs) before the writer dies */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) == 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 1);
        kill(w, SIGKILL);
        waitpid(w, NULL, 0);
        t0 = tnow_ms();
        assert_true(waitpid(watcher, &st, 0) == watcher);
        /* it checks every 3 s or so; the bound is against a watch that never ends */
        fprintf(stderr, "# watch ended %lld ms after its writer died\n", (long long)(tnow_ms() - t0));
        assert_true(tnow_ms() - t0 < TDAEMON_WAIT_MS);
        EXPECT_STREAM(*res, VS_FAILED, "session.watch: the session's writer is gone; the recording ends here");
        assert_true(res->data_bytes > 0);
        munmap(res, sizeof *res);
}

/* A client that asks for 24 MiB and reads none of it: everyone else is
 * answered at once (before it is dropped, which comes REQUEST_TIMEOUT ms
 * after its output stopped moving), it is dropped, and its reader is killed. */
static void test_slow_reader(void **state)
{
        vmsg_builder b;
        int64_t worst = 0, t0;
        int fd, base;

        (void)state;
        base = tdaemon_fd_count_settled(&D);
        fd = traw_connect(&D);
        assert_true(fd >= 0);
        tbuild(&b, VT_SESSION_REPLAY, 1, F(TS(VF_SESSION, carol)));
        assert_int_equal(send(fd, b.buf, b.len, MSG_NOSIGNAL), (ssize_t)b.len);
        vmsg_builder_done(&b);
        /* its reader runs */
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) == 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 1);
        for (int i = 0; i < 20; i++) {
                tstream s;

                t0 = tnow_ms();
                EXPECT(tcall(&D, VT_PING, NOF, NULL, 0), VS_OK, "");
                s = tstream_as(&D, U.auditor, VT_SESSIONS_LIST, F(TS(VF_USER, "alice")));
                EXPECT_STREAM(s, VS_OK, "");
                assert_int_equal(s.n_items, 3);
                if (tnow_ms() - t0 > worst)
                        worst = tnow_ms() - t0;
                /* at once: not held up until the stalled client is dropped */
                if (i == 0 && tdaemon_log_has(&D, "its output did not move"))
                        fail_msg("the first ping and list were answered (in %lld ms) only after the stalled "
                                 "client was dropped",
                                 (long long)(tnow_ms() - t0));
        }
        fprintf(stderr, "# while a reader stalls: ping + list answered within %lld ms (worst of 20, under load)\n",
                (long long)worst);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS;
             !tdaemon_log_has(&D, "its output did not move") && tnow_ms() < end;)
                poll(NULL, 0, 50);
        assert_true(tdaemon_log_has(&D, "its output did not move"));
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) > 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 0);
        close(fd);
        assert_int_equal(tdaemon_fd_count_settled(&D), base);

        /* a reader that keeps up gets all of it: vigild holds back and goes on
         * as the client's queue fills and drains */
        {
                char path[600];
                size_t len;
                uint64_t want;
                tstream s;

                snprintf(path, sizeof path, "%s/%s.out", dump, carol);
                want = thash_file(path, &len);
                t0 = tnow_ms();
                s = tstream_as(&D, U.auditor, VT_SESSION_REPLAY, F(TS(VF_SESSION, carol)));
                EXPECT_STREAM(s, VS_OK, "");
                fprintf(stderr, "# a %zu-byte replay through vigild in %lld ms (under load)\n", len,
                        (long long)(tnow_ms() - t0));
                assert_int_equal(s.data_bytes, len);
                assert_true(s.hash == want);
        }
}

/* A client that hangs up mid-stream costs nothing: its reader is gone. */
static void test_hangup_mid_stream(void **state)
{
        char line[600];
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        pid_t w;
        int base;

        (void)state;
        base = tdaemon_fd_count_settled(&D);
        w = writer(line, sizeof line, "--commands", "10", "--output", "20k", "--user", "gina", "--hang", NULL);
        assert_true(strncmp(line, "READY ", 6) == 0);
        assert_int_equal(vigild_connect(D.sock, 1000, &c), 0);
        tbuild(&b, VT_SESSION_WATCH, 3, F(TS(VF_SESSION, line + 6)));
        assert_int_equal(vigild_send(c, &b, NULL, 0, 1000), 0);
        vmsg_builder_done(&b);
        assert_int_equal(vigild_recv(c, TDAEMON_WAIT_MS, &rep), 0);
        assert_true(rep->msg.type == (VT_SESSION_WATCH | VT_ITEM));
        rep = vigild_reply_free(rep);
        assert_int_equal(tchildren_of(D.pid), 1);
        c = vigild_conn_free(c);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) > 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 0);
        assert_int_equal(tdaemon_fd_count_settled(&D), base);
        kill(w, SIGKILL);
        waitpid(w, NULL, 0);
}

static int five_watches(void *arg)
{
        const char *session = arg;
        vigild_conn *c[5] = { 0 };
        vigild_reply *rep = NULL;
        vmsg_builder b;
        uint32_t st;

        /* four readers at once are the uid's share; the fifth is refused */
        for (int i = 0; i < 5; i++) {
                if (vigild_connect(D.sock, 1000, &c[i]) < 0)
                        return 10 + i;
                tbuild(&b, VT_SESSION_WATCH, 1, F(TS(VF_SESSION, session)));
                if (vigild_send(c[i], &b, NULL, 0, 1000) < 0)
                        return 20 + i;
                vmsg_builder_done(&b);
                if (vigild_recv(c[i], TDAEMON_WAIT_MS, &rep) < 0)
                        return 30 + i;
                st = vigild_reply_status(rep);
                if (i < 4 && (rep->msg.type != (VT_SESSION_WATCH | VT_ITEM)))
                        return 40 + i;
                if (i == 4 && (rep->msg.type != (VT_SESSION_WATCH | VT_REPLY) || st != VS_LIMIT))
                        return 50;
                rep = vigild_reply_free(rep);
        }
        for (int i = 0; i < 5; i++)
                vigild_conn_free(c[i]);
        return 0;
}

static void test_reader_cap(void **state)
{
        char line[600];
        pid_t w;

        (void)state;
        w = writer(line, sizeof line, "--commands", "10", "--output", "20k", "--user", "hank", "--hang", NULL);
        assert_true(strncmp(line, "READY ", 6) == 0);
        assert_int_equal(trun_as(U.auditor, five_watches, line + 6), 0);
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tchildren_of(D.pid) > 0 && tnow_ms() < end;)
                poll(NULL, 0, 20);
        assert_int_equal(tchildren_of(D.pid), 0);
        kill(w, SIGKILL);
        waitpid(w, NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_replay),
                cmocka_unit_test(test_watch_to_end),
                cmocka_unit_test(test_watch_writer_gone),
                cmocka_unit_test(test_slow_reader),
                cmocka_unit_test(test_hangup_mid_stream),
                cmocka_unit_test(test_reader_cap),
        };

        vigild_exe = getenv("VIGILD");
        writer_exe = getenv("STORE_WRITER");
        if (!vigild_exe || !writer_exe) {
                fprintf(stderr, "VIGILD and STORE_WRITER must be set\n");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup, teardown);
}
