/* Unit tests of the store's approval requests (store/approval.h) on a real
 * LMDB store: JSON round trip and refusals, create/get/prefix/list, the
 * decision's compare-and-set and four-eyes check, reaping a dead
 * supervisor's requests, pruning, held commands in a session's chain, and
 * the format 1 -> 2 migration. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "approval-internal.h"
#include "config/config.h"

typedef struct fixture {
        char dir[64], sdir[128], key[128];
        vigil_store *st;
} fixture;

static int store_open(fixture *f, unsigned flags, vigil_store **ret)
{
        vigil_store_options o = { .dir = f->sdir, .key_path = f->key, .flags = flags };

        return vigil_store_open(&o, ret);
}

static int setup(void **state)
{
        fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "/tmp/vigil-appr.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->sdir, sizeof f->sdir, "%s/s", f->dir);
        snprintf(f->key, sizeof f->key, "%s/k", f->dir);
        assert_int_equal(store_open(f, VIGIL_STORE_CREATE, &f->st), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fixture *f = *state;
        char cmd[200];

        vigil_store_close(f->st);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static const char *const test_argv[] = { "rm", "-rf", "/srv/data", NULL };
static const char *const test_env[] = { "FOO=bar", "DEBUG=1", NULL };
static const char *const test_groups[] = { "dev", "ops", NULL };

/* A request as the supervisor fills it; strings copied so that
 * vigil_approval_free() may free it. */
static vigil_approval *request_new(const char *session, const char *user, const char *subject)
{
        vigil_approval *a = calloc(1, sizeof *a);

        assert_non_null(a);
        snprintf(a->session, sizeof a->session, "%s", session);
        a->command_no = 3;
        a->user = strdup(user);
        a->subject = subject ? strdup(subject) : NULL;
        a->email = strdup("alice@example.com");
        a->groups = calloc(3, sizeof(char *));
        a->groups[0] = strdup(test_groups[0]);
        a->groups[1] = strdup(test_groups[1]);
        a->n_groups = 2;
        a->host = strdup("web1");
        a->runas = strdup(user);
        a->cwd = strdup("/home/alice");
        a->exe = strdup("/usr/bin/rm");
        a->argv = calloc(4, sizeof(char *));
        for (int i = 0; i < 3; i++)
                a->argv[i] = strdup(test_argv[i]);
        a->argc = 3;
        a->env = calloc(3, sizeof(char *));
        a->env[0] = strdup(test_env[0]);
        a->env[1] = strdup(test_env[1]);
        a->n_env = 2;
        a->screen = strdup("$ ls\r\nfile\r\n\x1b[1m$ \x1b[0m");
        a->rule = strdup("/etc/vigil/policy.conf:12");
        a->approvers = strdup("group:sre,local:dba");
        a->remember = true;
        a->expires_ms = (int64_t)(vigil_now_us() / 1000) + 300000;
        return a;
}

#define SESSION_A "0190f5a0-0000-7000-8000-000000000001"
#define SESSION_B "0190f5a0-0000-7000-8000-000000000002"

static const vigil_approver_id bob = {
        .subject = "bob-sub", .email = "bob@example.com", .local = "bob", .via = "session"
};

/* ---- JSON ---- */

static void test_json_roundtrip(void **state)
{
        vigil_approval *a = request_new(SESSION_A, "alice", "alice-sub"), *b = NULL;
        char *t1 = NULL, *t2 = NULL, *t3 = NULL;

        (void)state;
        memcpy(a->id, "k3f9x2ab", 9);
        a->created_ms = 1714564800123;
        a->expires_ms = 1714565100123;
        a->owner_pid = 4242;
        a->owner_start = 987654321;
        a->owner_boot[0] = 0xab;
        a->owner_boot[15] = 0x01;
        /* bytes that are not UTF-8 become U+FFFD (JSON carries text) */
        free(a->argv[2]);
        a->argv[2] = strdup("/srv/\xff\xfe");
        assert_int_equal(vigil_approval_to_json(a, true, &t1), 0);
        assert_non_null(strstr(t1, "\"id\":\"k3f9x2ab\""));
        assert_non_null(strstr(t1, "\"created\":\"2024-05-01T12:00:00.123Z\""));
        assert_non_null(strstr(t1, "\"state\":\"pending\""));
        assert_non_null(strstr(t1, "\"decided_by\":null"));
        assert_non_null(strstr(t1, "\"decided_at\":null"));
        assert_non_null(strstr(t1, "\"/srv/\xef\xbf\xbd\xef\xbf\xbd\""));
        assert_non_null(strstr(t1, "\"owner\":{\"pid\":4242,\"start\":987654321,\"boot\":\"ab"));
        assert_int_equal(vigil_approval_from_json(t1, strlen(t1), &b), 0);
        assert_string_equal(b->id, "k3f9x2ab");
        assert_string_equal(b->session, SESSION_A);
        assert_int_equal(b->command_no, 3);
        assert_int_equal(b->argc, 3);
        assert_int_equal(b->n_env, 2);
        assert_string_equal(b->env[1], "DEBUG=1");
        assert_int_equal(b->created_ms, 1714564800123);
        assert_int_equal(b->expires_ms, 1714565100123);
        assert_true(b->remember);
        assert_int_equal(b->owner_pid, 4242);
        assert_true(b->owner_start == 987654321);
        assert_int_equal(b->owner_boot[0], 0xab);
        assert_int_equal(b->owner_boot[15], 0x01);
        assert_int_equal(vigil_approval_to_json(b, true, &t2), 0);
        assert_string_equal(t1, t2);
        /* without the owner: the hook's and the CLI's document */
        assert_int_equal(vigil_approval_to_json(b, false, &t3), 0);
        assert_null(strstr(t3, "owner"));
        vigil_approval_free(b);
        b = NULL;
        assert_int_equal(vigil_approval_from_json(t3, strlen(t3), &b), 0);
        assert_int_equal(b->owner_pid, 0);
        /* a decided one */
        b->state = VIGIL_APPROVAL_REJECTED;
        b->decided_ms = 1714564900000;
        b->reason = strdup("not during the freeze");
        b->decided_by.subject = strdup("bob-sub");
        b->decided_by.groups = calloc(1, sizeof(char *));
        free(t2);
        assert_int_equal(vigil_approval_to_json(b, false, &t2), 0);
        assert_non_null(strstr(t2, "\"decided_by\":{\"subject\":\"bob-sub\",\"email\":null,\"groups\":[],"
                                   "\"local\":null,\"via\":null}"));
        assert_non_null(strstr(t2, "\"decided_at\":\"2024-05-01T12:01:40.000Z\""));
        vigil_approval_free(a);
        a = NULL;
        assert_int_equal(vigil_approval_from_json(t2, strlen(t2), &a), 0);
        assert_int_equal(a->state, VIGIL_APPROVAL_REJECTED);
        assert_string_equal(a->reason, "not during the freeze");
        assert_non_null(a->decided_by.groups);
        assert_int_equal(a->decided_by.n_groups, 0);
        vigil_approval_free(a);
        vigil_approval_free(b);
        free(t1);
        free(t2);
        free(t3);
}

/* Replace the first @from in @doc by @to and expect the decoder to refuse it. */
static void expect_refused(const char *doc, const char *from, const char *to)
{
        char buf[8192];
        const char *p = strstr(doc, from);
        vigil_approval *a = NULL;
        int r;

        assert_non_null(p);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - doc), doc, to, p + strlen(from));
        r = vigil_approval_from_json(buf, strlen(buf), &a);
        if (r != VIGIL_E_CORRUPT)
                fail_msg("accepted: %s -> %s (%d)", from, to, r);
        assert_null(a);
}

static void test_json_refused(void **state)
{
        vigil_approval *a = request_new(SESSION_A, "alice", NULL), *b = NULL;
        char *doc = NULL, *big;

        (void)state;
        memcpy(a->id, "k3f9x2ab", 9);
        a->created_ms = 1714564800123;
        a->expires_ms = 1714565100123;
        assert_int_equal(vigil_approval_to_json(a, true, &doc), 0);
        assert_int_equal(vigil_approval_from_json(doc, strlen(doc), &b), 0);
        vigil_approval_free(b);

        expect_refused(doc, "{\"id\"", "{\"id\":\"k3f9x2ab\",\"id\""); /* duplicate key */
        expect_refused(doc, "{\"id\"", "{\"extra\":1,\"id\"");         /* unknown key */
        expect_refused(doc, "\"k3f9x2ab\"", "\"k3f9x2au\"");           /* u is not in the alphabet */
        expect_refused(doc, "\"k3f9x2ab\"", "\"K3F9X2AB\"");           /* stored ids are lower case */
        expect_refused(doc, "\"k3f9x2ab\"", "\"k3f9x2a\"");
        expect_refused(doc, "\"command_no\":3", "\"command_no\":-1");
        expect_refused(doc, "\"command_no\":3", "\"command_no\":4294967296");
        expect_refused(doc, "\"command_no\":3", "\"command_no\":\"3\"");
        expect_refused(doc, "\"remember\":true", "\"remember\":1");
        expect_refused(doc, "\"state\":\"pending\"", "\"state\":\"maybe\"");
        expect_refused(doc, "\"state\":\"pending\"", "\"state\":\"approved\""); /* approved by nobody */
        expect_refused(doc, "\"decided_at\":null", "\"decided_at\":\"2024-05-01T12:00:00.123Z\"");
        expect_refused(doc, "\"decided_by\":null",
                       "\"decided_by\":{\"subject\":\"x\",\"email\":null,\"groups\":null,\"local\":null,"
                       "\"via\":null}");
        expect_refused(doc, "\"reason\":null", "\"reason\":\"why\"");
        expect_refused(doc, "\"created\":\"2024-05-01T12:00:00.123Z\"",
                       "\"created\":\"2024-05-01T12:00:00Z\"");
        expect_refused(doc, "\"created\":\"2024-05-01T12:00:00.123Z\"",
                       "\"created\":\"2024-02-30T12:00:00.123Z\"");
        expect_refused(doc, "\"created\":\"2024-05-01T12:00:00.123Z\"", "\"created\":null");
        expect_refused(doc, "\"argv\":[", "\"argv\":[1,");
        expect_refused(doc, "\"argv\":[\"rm\",\"-rf\",\"/srv/data\"]", "\"argv\":[]");
        expect_refused(doc, "\"session\":\"" SESSION_A "\"",
                       "\"session\":\"0190F5A0-0000-7000-8000-000000000001\"");
        expect_refused(doc, "\"groups\":[\"dev\",\"ops\"]", "\"groups\":\"dev\"");
        expect_refused(doc, "\"user\":\"alice\"", "\"user\":\"al\\u0000ice\"");
        expect_refused(doc, "\"owner\":{\"pid\":", "\"owner\":{\"pid\":-5,\"x\":");
        expect_refused(doc, "\"boot\":\"", "\"boot\":\"zz");
        /* not JSON, not an object, too big */
        assert_int_equal(vigil_approval_from_json("[]", 2, &b), VIGIL_E_CORRUPT);
        assert_int_equal(vigil_approval_from_json("{", 1, &b), VIGIL_E_CORRUPT);
        assert_int_equal(vigil_approval_from_json("", 0, &b), VIGIL_E_CORRUPT);
        big = calloc(1, VIGIL_APPROVAL_JSON_MAX + 2);
        assert_non_null(big);
        memset(big, ' ', VIGIL_APPROVAL_JSON_MAX + 1);
        memcpy(big, doc, strlen(doc));
        assert_int_equal(vigil_approval_from_json(big, VIGIL_APPROVAL_JSON_MAX + 1, &b), VIGIL_E_CORRUPT);
        free(big);
        assert_int_equal(vigil_approval_state_from_name("withdrawn"), VIGIL_APPROVAL_WITHDRAWN);
        assert_int_equal(vigil_approval_state_from_name("WITHDRAWN"), -EINVAL);
        assert_null(vigil_approval_state_name(_VIGIL_APPROVAL_STATE_MAX));
        free(doc);
        vigil_approval_free(a);
}

/* ---- the store ---- */

static void test_create_get(void **state)
{
        fixture *f = *state;
        vigil_approval *a = request_new(SESSION_A, "alice", "alice-sub"), *g = NULL;
        char prefix[8], upper[9];
        int64_t before = (int64_t)(vigil_now_us() / 1000);

        assert_int_equal(vigil_approval_create(f->st, a), 0);
        assert_true(approval_id_valid(a->id));
        assert_int_equal(a->state, VIGIL_APPROVAL_PENDING);
        assert_int_equal(a->owner_pid, getpid());
        assert_true(a->created_ms >= before);
        assert_int_equal(vigil_approval_get(f->st, a->id, &g), 0);
        assert_string_equal(g->id, a->id);
        assert_string_equal(g->argv[2], "/srv/data");
        assert_string_equal(g->screen, a->screen);
        assert_int_equal(g->state, VIGIL_APPROVAL_PENDING);
        vigil_approval_free(g);
        g = NULL;
        /* a prefix of four, upper case, Crockford's lookalikes */
        memcpy(prefix, a->id, 4);
        prefix[4] = 0;
        assert_int_equal(vigil_approval_get(f->st, prefix, &g), 0);
        assert_string_equal(g->id, a->id);
        vigil_approval_free(g);
        g = NULL;
        for (int i = 0; i < 9; i++)
                upper[i] = (char)(a->id[i] == '1'   ? 'L'
                                  : a->id[i] == '0' ? 'O'
                                                    : toupper((unsigned char)a->id[i]));
        assert_int_equal(vigil_approval_get(f->st, upper, &g), 0);
        assert_string_equal(g->id, a->id);
        vigil_approval_free(g);
        g = NULL;
        assert_int_equal(vigil_approval_get(f->st, "abc", &g), -EINVAL);
        assert_int_equal(vigil_approval_get(f->st, "abcdefghj", &g), -EINVAL);
        assert_int_equal(vigil_approval_get(f->st, "abc!", &g), -EINVAL);
        assert_int_equal(vigil_approval_get(f->st, "uuuu", &g), -EINVAL);
        assert_null(g);
        /* missing fields, bad bounds: nothing stored */
        {
                vigil_approval *b = request_new("not-a-session", "alice", NULL);

                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                assert_string_equal(b->id, "");
                snprintf(b->session, sizeof b->session, "%s", SESSION_A);
                b->expires_ms = 0;
                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                b->expires_ms = (int64_t)(vigil_now_us() / 1000) + 1000;
                b->created_ms = b->expires_ms + 1;
                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                b->created_ms = 0;
                free(b->screen);
                b->screen = calloc(1, VIGIL_APPROVAL_SCREEN_MAX + 2);
                memset(b->screen, 'x', VIGIL_APPROVAL_SCREEN_MAX + 1);
                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                /* 8 KiB of bytes that turn into 24 KiB of U+FFFD */
                memset(b->screen, 0xff, VIGIL_APPROVAL_SCREEN_MAX);
                b->screen[VIGIL_APPROVAL_SCREEN_MAX] = 0;
                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                free(b->screen);
                b->screen = NULL;
                /* each string within its bound, the document beyond VIGIL_APPROVAL_JSON_MAX */
                strv_free(b->argv, b->argc);
                b->argv = calloc(6, sizeof(char *));
                for (int i = 0; i < 5; i++) {
                        b->argv[i] = malloc(VIGIL_STORE_MAX_STRING);
                        memset(b->argv[i], 'a', VIGIL_STORE_MAX_STRING - 1);
                        b->argv[i][VIGIL_STORE_MAX_STRING - 1] = 0;
                }
                b->argc = 5;
                assert_int_equal(vigil_approval_create(f->st, b), -E2BIG);
                assert_string_equal(b->id, "");
                strv_free(b->argv, b->argc);
                b->argv = NULL;
                b->argc = 0;
                assert_int_equal(vigil_approval_create(f->st, b), -EINVAL);
                vigil_approval_free(b);
        }
        vigil_approval_free(a);
}

/* Two documents whose ids share their first four characters, written as the
 * store would (ids are random: a shared prefix cannot be forced otherwise). */
static void put_raw(fixture *f, const char *id)
{
        vigil_approval *a = request_new(SESSION_B, "carol", NULL);
        MDB_txn *txn;
        MDB_val k = { 8, (void *)id }, v, pk = { 8, (void *)id }, pv = { 0, (void *)"" };
        char *text = NULL;

        memcpy(a->id, id, 9);
        a->created_ms = 1000;
        a->expires_ms = 2000;
        assert_int_equal(vigil_approval_to_json(a, true, &text), 0);
        v = (MDB_val){ strlen(text), text };
        assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
        assert_int_equal(mdb_put(txn, f->st->approvals, &k, &v, 0), 0);
        assert_int_equal(mdb_put(txn, f->st->approvals_pending, &pk, &pv, 0), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        free(text);
        vigil_approval_free(a);
}

static void test_prefix_ambiguous(void **state)
{
        fixture *f = *state;
        vigil_approval *g = NULL;

        put_raw(f, "zzzz0001");
        put_raw(f, "zzzz0002");
        assert_int_equal(vigil_approval_get(f->st, "zzzz", &g), -EEXIST);
        assert_int_equal(vigil_approval_get(f->st, "zzzz000", &g), -EEXIST);
        assert_int_equal(vigil_approval_get(f->st, "zzzz0002", &g), 0);
        assert_string_equal(g->session, SESSION_B);
        vigil_approval_free(g);
        g = NULL;
        assert_int_equal(vigil_approval_get(f->st, "zzzz0003", &g), -ENOENT);
        assert_int_equal(vigil_approval_get(f->st, "zzzy", &g), -ENOENT);
        /* a damaged document is reported, not misread */
        {
                MDB_txn *txn;
                MDB_val k = { 8, (void *)"zzzz0001" }, v = { 9, (void *)"{\"id\":1}" };

                assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
                assert_int_equal(mdb_put(txn, f->st->approvals, &k, &v, 0), 0);
                assert_int_equal(mdb_txn_commit(txn), 0);
        }
        assert_int_equal(vigil_approval_get(f->st, "zzzz0001", &g), VIGIL_E_CORRUPT);
        assert_non_null(strstr(vigil_store_errmsg(f->st), "damaged"));
        assert_null(g);
}

typedef struct seen {
        char ids[16][9];
        size_t n;
        int stop_after;
} seen;

static int collect(void *userdata, const vigil_approval *a)
{
        seen *s = userdata;

        assert_true(s->n < 16);
        memcpy(s->ids[s->n++], a->id, 9);
        return s->stop_after && (int)s->n == s->stop_after ? 7 : 0;
}

static void test_list_decide(void **state)
{
        fixture *f = *state;
        vigil_approval *a[4], *g = NULL;
        seen s = { 0 };
        vigil_approver_id self_sub = { .subject = "alice-sub", .local = "mallory" };
        vigil_approver_id self_local = { .local = "alice" };

        /* nothing yet: nothing listed, nothing reaped */
        assert_int_equal(vigil_approvals_list(f->st, true, NULL, collect, &s), 0);
        assert_int_equal(vigil_approvals_list(f->st, false, SESSION_A, collect, &s), 0);
        assert_int_equal(s.n, 0);
        assert_int_equal(vigil_approvals_reap(f->st, SESSION_A, NULL), 0);
        for (int i = 0; i < 4; i++) {
                a[i] = request_new(i == 2 ? SESSION_B : SESSION_A, "alice", "alice-sub");
                /* creation order differs from the ids' order */
                a[i]->created_ms = 1700000000000 + i;
                a[i]->expires_ms = a[i]->created_ms + 60000;
                assert_int_equal(vigil_approval_create(f->st, a[i]), 0);
        }
        assert_int_equal(vigil_approvals_list(f->st, true, NULL, collect, &s), 0);
        assert_int_equal(s.n, 4);
        for (int i = 0; i < 4; i++)
                assert_string_equal(s.ids[i], a[i]->id);
        memset(&s, 0, sizeof s);
        assert_int_equal(vigil_approvals_list(f->st, false, SESSION_B, collect, &s), 0);
        assert_int_equal(s.n, 1);
        assert_string_equal(s.ids[0], a[2]->id);
        /* the callback's stop value comes back */
        memset(&s, 0, sizeof s);
        s.stop_after = 2;
        assert_int_equal(vigil_approvals_list(f->st, false, NULL, collect, &s), 7);
        assert_int_equal(s.n, 2);

        /* four eyes: by subject, by local account */
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_APPROVED, &self_sub, NULL),
                         -EPERM);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_APPROVED, &self_local, NULL),
                         -EPERM);
        /* outcome and decider must agree; reasons are one line */
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_APPROVED, NULL, NULL),
                         -EINVAL);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_REJECTED, NULL, "x"),
                         -EINVAL);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_TIMEOUT, &bob, NULL),
                         -EINVAL);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_PENDING, NULL, NULL),
                         -EINVAL);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_REJECTED, &bob, "two\nlines"),
                         -EINVAL);
        assert_int_equal(vigil_approval_decide(f->st, "zzzzzzzz", VIGIL_APPROVAL_REJECTED, &bob, NULL),
                         -ENOENT);
        assert_int_equal(vigil_approval_decide(f->st, "nope", VIGIL_APPROVAL_REJECTED, &bob, NULL), -EINVAL);
        {
                char longr[APPROVAL_REASON_MAX + 2];

                memset(longr, 'r', sizeof longr - 1);
                longr[sizeof longr - 1] = 0;
                assert_int_equal(
                        vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_REJECTED, &bob, longr),
                        -EINVAL);
        }
        /* the compare-and-set: the first decision wins, the others get -EALREADY */
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_APPROVED, &bob, "looks fine"),
                         0);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_TIMEOUT, NULL, NULL),
                         -EALREADY);
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_REJECTED, &bob, "no"),
                         -EALREADY);
        assert_int_equal(vigil_approval_get(f->st, a[0]->id, &g), 0);
        assert_int_equal(g->state, VIGIL_APPROVAL_APPROVED);
        assert_string_equal(g->decided_by.subject, "bob-sub");
        assert_string_equal(g->decided_by.via, "session");
        assert_string_equal(g->reason, "looks fine");
        assert_true(g->decided_ms >= g->created_ms);
        vigil_approval_free(g);
        g = NULL;
        assert_int_equal(vigil_approval_decide(f->st, a[1]->id, VIGIL_APPROVAL_WITHDRAWN, NULL, "Ctrl-C"),
                         0);
        assert_int_equal(vigil_approval_decide(f->st, a[1]->id, VIGIL_APPROVAL_APPROVED, &bob, NULL),
                         -EALREADY);
        /* pending only: the decided ones are gone from it */
        memset(&s, 0, sizeof s);
        assert_int_equal(vigil_approvals_list(f->st, true, NULL, collect, &s), 0);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.ids[0], a[2]->id);
        assert_string_equal(s.ids[1], a[3]->id);
        memset(&s, 0, sizeof s);
        assert_int_equal(vigil_approvals_list(f->st, false, NULL, collect, &s), 0);
        assert_int_equal(s.n, 4);

        /* reap: our own requests have a living owner; a session's are rejected */
        {
                unsigned n = 99;

                assert_int_equal(vigil_approvals_reap(f->st, NULL, &n), 0);
                assert_int_equal(n, 0);
                assert_int_equal(vigil_approvals_reap(f->st, SESSION_B, &n), 0);
                assert_int_equal(n, 1);
                assert_int_equal(vigil_approval_get(f->st, a[2]->id, &g), 0);
                assert_int_equal(g->state, VIGIL_APPROVAL_REJECTED);
                assert_string_equal(g->reason, "session ended");
                assert_null(g->decided_by.subject);
                vigil_approval_free(g);
                g = NULL;
        }
        for (int i = 0; i < 4; i++)
                vigil_approval_free(a[i]);
}

static void test_reap_dead_owner(void **state)
{
        fixture *f = *state;
        char id[VIGIL_APPROVAL_ID_LEN + 1] = "";
        vigil_approval *g = NULL, *mine = request_new(SESSION_A, "alice", NULL);
        int p[2], status;
        unsigned n = 0;
        pid_t pid;

        /* the parent's handle is not for the child (LMDB): close it across the fork */
        f->st = vigil_store_close(f->st);
        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                vigil_store *st = NULL;
                vigil_approval *a = request_new(SESSION_A, "alice", NULL);

                if (store_open(f, 0, &st) < 0 || vigil_approval_create(st, a) < 0)
                        _exit(1);
                if (write(p[1], a->id, VIGIL_APPROVAL_ID_LEN) != VIGIL_APPROVAL_ID_LEN)
                        _exit(1);
                _exit(0); /* gone without deciding: a crashed supervisor */
        }
        close(p[1]);
        assert_int_equal(read(p[0], id, VIGIL_APPROVAL_ID_LEN), VIGIL_APPROVAL_ID_LEN);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        assert_int_equal(store_open(f, 0, &f->st), 0);
        assert_int_equal(vigil_approval_create(f->st, mine), 0);
        assert_int_equal(vigil_approvals_reap(f->st, NULL, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vigil_approval_get(f->st, id, &g), 0);
        assert_int_equal(g->state, VIGIL_APPROVAL_REJECTED);
        assert_string_equal(g->reason, "supervisor lost");
        vigil_approval_free(g);
        g = NULL;
        /* the living owner's request stays */
        assert_int_equal(vigil_approval_get(f->st, mine->id, &g), 0);
        assert_int_equal(g->state, VIGIL_APPROVAL_PENDING);
        vigil_approval_free(g);
        vigil_approval_free(mine);
}

static void test_prune(void **state)
{
        fixture *f = *state;
        vigil_approval *a[3], *g = NULL;
        uint64_t n = 0;

        for (int i = 0; i < 3; i++) {
                a[i] = request_new(SESSION_A, "alice", NULL);
                a[i]->created_ms = i == 2 ? 1700000100000 : 1700000000000;
                a[i]->expires_ms = a[i]->created_ms + 1000;
                assert_int_equal(vigil_approval_create(f->st, a[i]), 0);
        }
        /* a[0]: old, decided; a[1]: old, pending; a[2]: new, decided */
        assert_int_equal(vigil_approval_decide(f->st, a[0]->id, VIGIL_APPROVAL_TIMEOUT, NULL, NULL), 0);
        assert_int_equal(vigil_approval_decide(f->st, a[2]->id, VIGIL_APPROVAL_REJECTED, &bob, "no"), 0);
        assert_int_equal(vigil_approvals_prune(f->st, 1700000050000, true, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vigil_approval_get(f->st, a[0]->id, &g), 0);
        vigil_approval_free(g);
        g = NULL;
        assert_int_equal(vigil_approvals_prune(f->st, 1700000050000, false, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vigil_approval_get(f->st, a[0]->id, &g), -ENOENT);
        assert_int_equal(vigil_approval_get(f->st, a[1]->id, &g), 0);
        vigil_approval_free(g);
        g = NULL;
        assert_int_equal(vigil_approval_get(f->st, a[2]->id, &g), 0);
        vigil_approval_free(g);
        g = NULL;
        /* everything decided, whatever its age; the pending one stays */
        assert_int_equal(vigil_approvals_prune(f->st, INT64_MAX, false, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vigil_approval_get(f->st, a[1]->id, &g), 0);
        vigil_approval_free(g);
        for (int i = 0; i < 3; i++)
                vigil_approval_free(a[i]);
}

static void test_pending_bound(void **state)
{
        fixture *f = *state;
        unsigned made = 0;
        int r;

        for (;;) {
                vigil_approval *a = request_new(SESSION_A, "alice", NULL);

                r = vigil_approval_create(f->st, a);
                vigil_approval_free(a);
                if (r < 0)
                        break;
                made++;
                assert_true(made <= APPROVALS_PENDING_MAX);
        }
        assert_int_equal(r, -EAGAIN);
        assert_int_equal(made, APPROVALS_PENDING_MAX);
}

/* ---- held commands in a session's chain ---- */

typedef struct vres {
        int ok, bad;
        char msg[300];
} vres;

static int vcb(void *userdata, const uint8_t *id, vigil_verify_status status, const char *message)
{
        vres *v = userdata;

        (void)id;
        if (status == VIGIL_VERIFY_OK)
                v->ok++;
        else {
                v->bad++;
                snprintf(v->msg, sizeof v->msg, "%s", message ? message : "");
        }
        return 0;
}

typedef struct evs {
        int decision[8];
        int exited[8];
        size_t n;
} evs;

static int ecb(void *userdata, const vigil_event *e)
{
        evs *x = userdata;

        if (x->n < 8) {
                x->decision[x->n] = e->decision;
                x->exited[x->n] = e->exited;
                x->n++;
        }
        return 0;
}

static void test_held_chain(void **state)
{
        fixture *f = *state;
        vigil_session *s = NULL;
        vigil_session_meta m = { .user = "alice" };
        vigil_record_opts ro = { .output = true };
        const char *argv[] = { "systemctl", "restart", "pay" };
        vigil_command_info ci = {
                .argv = argv, .argc = 3, .decision = VIGIL_DEC_HELD, .rule = "p:1", .cwd = "/"
        };
        char *groups[] = { "sre", NULL };
        vigil_approval_outcome ok = { .request = "k3f9x2ab",
                                      .decision = VIGIL_DEC_APPROVED,
                                      .by_subject = "bob-sub",
                                      .by_groups = groups,
                                      .by_n_groups = 1,
                                      .by_local = "bob",
                                      .by_via = "device",
                                      .reason = "go" };
        vigil_approval_outcome no = { .request = "m4h8q1zz", .decision = VIGIL_DEC_TIMEOUT };
        vigil_approval_outcome again = { .request = "k3f9x2ab",
                                         .decision = VIGIL_DEC_APPROVED,
                                         .remembered = true };
        vigil_record_reader *rr = NULL;
        const vigil_record *rec;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        uint32_t n0, n1, n2;
        vres v = { 0 };
        evs e = { 0 };
        vigil_event_filter ef = { .decision = -1 };
        int approvals = 0;

        assert_int_equal(vigil_session_begin(f->st, &m, &ro, &s), 0);
        memcpy(id, vigil_session_id(s), sizeof id);
        assert_int_equal(vigil_session_command(s, &ci, &n0), 0);
        assert_int_equal(vigil_session_command(s, &ci, &n1), 0);
        /* a held command that was not decided cannot exit */
        assert_int_equal(vigil_session_command_exit(s, n0, 0, 0, -1), -ENOENT);
        ok.command_no = n0;
        no.command_no = n1;
        assert_int_equal(vigil_session_approval(s, &ok), 0);
        assert_int_equal(vigil_session_approval(s, &ok), -ENOENT); /* decided already */
        assert_int_equal(vigil_session_approval(s, &no), 0);
        assert_int_equal(vigil_session_command_exit(s, n1, 0, 0, -1), -ENOENT); /* never ran */
        assert_int_equal(vigil_session_output(s, 0, "restarted\r\n", 11), 0);
        assert_int_equal(vigil_session_command_exit(s, n0, 0, 0, -1), 0);
        /* remember=session: approved at once, naming the earlier request */
        ci.decision = VIGIL_DEC_APPROVED;
        assert_int_equal(vigil_session_command(s, &ci, &n2), 0);
        again.command_no = n2;
        assert_int_equal(vigil_session_approval(s, &again), 0);
        {
                vigil_approval_outcome bad = { .request = "x",
                                               .decision = VIGIL_DEC_ALLOW,
                                               .command_no = n2 };

                assert_int_equal(vigil_session_approval(s, &bad), -EINVAL);
                bad.decision = VIGIL_DEC_REJECTED;
                bad.remembered = true;
                assert_int_equal(vigil_session_approval(s, &bad), -EINVAL);
        }
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), 0);
        vigil_session_free(s);

        assert_int_equal(vigil_store_verify(f->st, id, 0, vcb, &v), 0);
        if (v.bad)
                fail_msg("verify: %s", v.msg);
        assert_int_equal(v.ok, 1);
        ef.session = id;
        assert_int_equal(vigil_store_events(f->st, &ef, ecb, &e), 0);
        assert_int_equal(e.n, 3);
        assert_int_equal(e.decision[0], VIGIL_DEC_APPROVED);
        assert_true(e.exited[0]);
        assert_int_equal(e.decision[1], VIGIL_DEC_TIMEOUT);
        assert_false(e.exited[1]);
        assert_int_equal(e.decision[2], VIGIL_DEC_APPROVED);
        assert_string_equal(vigil_decision_name(VIGIL_DEC_HELD), "held");
        assert_int_equal(vigil_decision_from_name("held"), VIGIL_DEC_HELD);

        assert_int_equal(vigil_record_reader_new(f->st, id, &rr), 0);
        while (vigil_record_reader_next(rr, &rec) == 1) {
                if (rec->type != VIGIL_REC_APPROVAL)
                        continue;
                approvals++;
                if (approvals == 1) {
                        assert_int_equal(rec->approval->command_no, n0);
                        assert_string_equal(rec->approval->request, "k3f9x2ab");
                        assert_string_equal(rec->approval->by_subject, "bob-sub");
                        assert_int_equal(rec->approval->by_n_groups, 1);
                        assert_string_equal(rec->approval->by_groups[0], "sre");
                        assert_string_equal(rec->approval->by_via, "device");
                        assert_string_equal(rec->approval->reason, "go");
                        assert_true(rec->approval->decided_us > 0);
                } else if (approvals == 3) {
                        assert_true(rec->approval->remembered);
                        assert_int_equal(rec->approval->command_no, n2);
                }
        }
        assert_int_equal(approvals, 3);
        assert_string_equal(vigil_record_type_name(VIGIL_REC_APPROVAL), "approval");
        vigil_record_reader_free(rr);
}

/* ---- format 1 ---- */

/* What a format 1 vigil left: the same tables without the approvals, and
 * the version record saying 1 (sessions written without held commands are
 * the same bytes in both formats). */
static void make_format1(fixture *f)
{
        MDB_txn *txn;
        uint8_t b[4] = { 0, 0, 0, 1 };
        MDB_val k = { 6, (void *)"format" }, v = { 4, b };

        assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
        assert_int_equal(mdb_drop(txn, f->st->approvals, 1), 0);
        assert_int_equal(mdb_drop(txn, f->st->approvals_pending, 1), 0);
        assert_int_equal(mdb_put(txn, f->st->meta, &k, &v, 0), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        f->st = vigil_store_close(f->st);
}

static int count_sessions(void *userdata, const vigil_session_info *i)
{
        (void)i;
        (*(int *)userdata)++;
        return 0;
}

static void test_format1(void **state)
{
        fixture *f = *state;
        vigil_session *s = NULL;
        vigil_session_meta m = { .user = "alice" };
        vigil_record_opts ro = { .output = true };
        vigil_session_filter sf = { 0 };
        vigil_approval *a = request_new(SESSION_A, "alice", NULL), *g = NULL;
        vigil_store *ro_st = NULL;
        seen sn = { 0 };
        uint32_t from = 0;
        int n = 0;

        assert_int_equal(vigil_session_begin(f->st, &m, &ro, &s), 0);
        assert_int_equal(vigil_session_output(s, 0, "hello\r\n", 7), 0);
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), 0);
        vigil_session_free(s);
        make_format1(f);
        assert_int_equal(vigil_store_format(f->sdir, &from), 0);
        assert_int_equal(from, 1);

        /* a writer is refused, with what to do */
        assert_int_equal(store_open(f, 0, &f->st), VIGIL_E_FORMAT);
        assert_non_null(strstr(vigil_store_open_errmsg(), "run 'vigil store migrate'"));
        assert_int_equal(store_open(f, VIGIL_STORE_CREATE, &f->st), VIGIL_E_FORMAT);
        /* a reader reads the sessions; approvals say to migrate */
        assert_int_equal(store_open(f, VIGIL_STORE_READONLY, &ro_st), 0);
        assert_int_equal(vigil_store_sessions(ro_st, &sf, count_sessions, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vigil_approvals_list(ro_st, true, NULL, collect, &sn), VIGIL_E_FORMAT);
        assert_non_null(strstr(vigil_store_errmsg(ro_st), "vigil store migrate"));
        assert_int_equal(vigil_approval_get(ro_st, "abcd", &g), VIGIL_E_FORMAT);
        vigil_store_close(ro_st);

        assert_int_equal(vigil_store_migrate(f->sdir, &from), 0);
        assert_int_equal(from, 1);
        assert_int_equal(vigil_store_format(f->sdir, &from), 0);
        assert_int_equal(from, VIGIL_STORE_FORMAT);
        assert_int_equal(vigil_store_migrate(f->sdir, &from), 0);
        assert_int_equal(from, VIGIL_STORE_FORMAT);

        assert_int_equal(store_open(f, 0, &f->st), 0);
        n = 0;
        assert_int_equal(vigil_store_sessions(f->st, &sf, count_sessions, &n), 0);
        assert_int_equal(n, 1);
        {
                vres v = { 0 };

                assert_int_equal(vigil_store_verify(f->st, NULL, 0, vcb, &v), 0);
                assert_int_equal(v.ok, 1);
                assert_int_equal(v.bad, 0);
        }
        assert_int_equal(vigil_approval_create(f->st, a), 0);
        assert_int_equal(vigil_approval_get(f->st, a->id, &g), 0);
        vigil_approval_free(g);
        vigil_approval_free(a);
}

/* ---- vigil.conf's keys ---- */

static void test_config_hook(void **state)
{
        static const char base[] = "issuer = https://idp.example\naudience = vigil\n";
        vigil_config *c = NULL;
        char *err = NULL, text[512];

        (void)state;
        assert_int_equal(vigil_config_parse(base, strlen(base), "t.conf", &c, &err), 0);
        assert_null(c->approval_hook);
        assert_string_equal(c->approval_hook_user, "nobody");
        c = vigil_config_free(c);
        snprintf(text, sizeof text,
                 "%sapproval_hook = /usr/local/bin/hook\napproval_hook_user = vigil-hook\n", base);
        assert_int_equal(vigil_config_parse(text, strlen(text), "t.conf", &c, &err), 0);
        assert_string_equal(c->approval_hook, "/usr/local/bin/hook");
        assert_string_equal(c->approval_hook_user, "vigil-hook");
        c = vigil_config_free(c);
        /* a relative path is refused, with its line */
        snprintf(text, sizeof text, "%sapproval_hook = hook.sh\n", base);
        assert_int_equal(vigil_config_parse(text, strlen(text), "t.conf", &c, &err), VIGIL_E_PARSE);
        assert_non_null(strstr(err, "t.conf:3:"));
        free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_roundtrip),
                cmocka_unit_test(test_json_refused),
                cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prefix_ambiguous, setup, teardown),
                cmocka_unit_test_setup_teardown(test_list_decide, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reap_dead_owner, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pending_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_held_chain, setup, teardown),
                cmocka_unit_test_setup_teardown(test_format1, setup, teardown),
                cmocka_unit_test(test_config_hook),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
