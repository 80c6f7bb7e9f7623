/* Unit tests: the message decoder field by field, the builder, the table's
 * cross-field rules, the auditors/responders lists and the one-time
 * reference store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "access.h"
#include "ops.h"
#include "proto.h"
#include "refs.h"
#include "vigil-error.h"

#define P(s) s, strlen(s)

static vmsg *M;

/* Build a message from raw pieces, bypassing the builder's checks. */
typedef struct raw {
        uint8_t b[VMSG_MAX + 16];
        size_t len;
} raw;

static void raw_hdr(raw *r, uint16_t type, uint16_t flags)
{
        memcpy(r->b, "VGD1", 4);
        r->b[4] = (uint8_t)type;
        r->b[5] = (uint8_t)(type >> 8);
        r->b[6] = (uint8_t)flags;
        r->b[7] = (uint8_t)(flags >> 8);
        memset(r->b + 8, 0, 4);
        r->len = 12;
}

static void raw_field(raw *r, uint16_t tag, const void *v, uint32_t len)
{
        r->b[r->len++] = (uint8_t)tag;
        r->b[r->len++] = (uint8_t)(tag >> 8);
        for (int i = 0; i < 4; i++)
                r->b[r->len++] = (uint8_t)(len >> (8 * i));
        memcpy(r->b + r->len, v, len);
        r->len += len;
}

static int decode(const raw *r, size_t n_fds, char *err)
{
        return vmsg_decode(r->b, r->len, n_fds, M, err);
}

#define EXPECT_BAD(r, n_fds, needle)                                                                        \
        do {                                                                                                \
                char err_[VMSG_ERR_MAX] = "";                                                               \
                int k_ = decode(r, n_fds, err_);                                                            \
                if (k_ >= 0 || !strstr(err_, needle))                                                       \
                        fail_msg("expected failure with '%s', got %d '%s'", needle, k_, err_);              \
        } while (0)

static const char exp8[8] = { 0, 0x94, 0x35, 0x77, 0, 0, 0, 0 }; /* 2000000000 */

static void test_header(void **state)
{
        raw r;

        (void)state;
        raw_hdr(&r, VT_PING, 0);
        assert_int_equal(decode(&r, 0, NULL), 0);
        assert_int_equal(M->type, VT_PING);

        r.len = 11;
        EXPECT_BAD(&r, 0, "shorter than its header");
        raw_hdr(&r, VT_PING, 0);
        r.b[3] = '2';
        EXPECT_BAD(&r, 0, "not a vigild protocol 1 message");
        raw_hdr(&r, VT_PING, 1);
        EXPECT_BAD(&r, 0, "reserved header flags");
        raw_hdr(&r, 99, 0);
        EXPECT_BAD(&r, 0, "unknown message type 99");
        raw_hdr(&r, VT_NONE, 0);
        EXPECT_BAD(&r, 0, "unknown message type 0");
        raw_hdr(&r, VT_PING | VT_REPLY | VT_ITEM, 0);
        EXPECT_BAD(&r, 0, "unknown message type");
        raw_hdr(&r, VT_PING | 0x1000, 0);
        EXPECT_BAD(&r, 0, "unknown message type");
        raw_hdr(&r, VT_PING | VT_ITEM, 0);
        EXPECT_BAD(&r, 0, "ping has no items");
        raw_hdr(&r, VT_PING, 0);
        r.len = VMSG_MAX + 1;
        EXPECT_BAD(&r, 0, "larger than 65536");
}

static void test_fields_structure(void **state)
{
        raw r;

        (void)state;
        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_SESSION, "abc", 3);
        assert_int_equal(decode(&r, 0, NULL), 0);
        assert_int_equal(M->n_fields, 1);

        r.len -= 1; /* value cut short */
        EXPECT_BAD(&r, 0, "overruns the message");
        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_SESSION, "abc", 3);
        r.b[r.len++] = 1; /* half a field header */
        EXPECT_BAD(&r, 0, "truncated field header");

        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, 77, "x", 1);
        EXPECT_BAD(&r, 0, "unknown field tag 77");

        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_SESSION, "a", 1);
        raw_field(&r, VF_SESSION, "b", 1);
        EXPECT_BAD(&r, 0, "field 'session' is repeated");

        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_TOKEN, "a.b.c", 5);
        raw_field(&r, VF_SESSION, "a", 1);
        EXPECT_BAD(&r, 0, "field 'token' is not allowed in a session.kill request");

        raw_hdr(&r, VT_SESSION_KILL, 0);
        EXPECT_BAD(&r, 0, "missing field 'session'");

        /* a length field claiming 4 GiB */
        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_SESSION, "a", 1);
        r.b[14] = r.b[15] = r.b[16] = r.b[17] = 0xff;
        EXPECT_BAD(&r, 0, "overruns");
}

static void test_kinds(void **state)
{
        raw r;
        char big[16385];

        (void)state;
#define ONE(type, tag, val, len, needle)                                                                    \
        do {                                                                                                \
                raw_hdr(&r, type, 0);                                                                       \
                raw_field(&r, tag, val, len);                                                               \
                EXPECT_BAD(&r, 0, needle);                                                                  \
        } while (0)
        /* ids */
        ONE(VT_SESSION_KILL, VF_SESSION, "a b", 3, "is not a valid id");
        ONE(VT_SESSION_KILL, VF_SESSION, "-ab", 3, "is not a valid id");
        ONE(VT_SESSION_KILL, VF_SESSION, "a\0b", 3, "is not a valid id");
        ONE(VT_SESSION_KILL, VF_SESSION, "", 0, "shorter than 1 bytes");
        memset(big, 'a', sizeof big);
        ONE(VT_SESSION_KILL, VF_SESSION, big, 65, "longer than 64 bytes");
        /* refs */
        ONE(VT_PAM_CLOSE, VF_HANDLE, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeF", 64,
            "is not 64 hex digits");
        ONE(VT_PAM_CLOSE, VF_HANDLE, "abcd", 4, "shorter than 64");
        /* tokens */
        ONE(VT_SESSION_START_TOKEN, VF_TOKEN, "abcde", 5, "not a compact JWS");
        ONE(VT_SESSION_START_TOKEN, VF_TOKEN, "a.b.c.d", 7, "not a compact JWS");
        ONE(VT_SESSION_START_TOKEN, VF_TOKEN, "a..cde", 6, "not a compact JWS");
        ONE(VT_SESSION_START_TOKEN, VF_TOKEN, "a.b+.c", 6, "not a compact JWS");
        ONE(VT_SESSION_START_TOKEN, VF_TOKEN, big, 16385, "longer than 16384");
        /* text: control bytes, bad UTF-8, overlong, surrogates, bidi, C1 */
        ONE(VT_SESSION_KILL, VF_REASON, "a\nb", 3, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "a\x7f", 2, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "\xc0\xaf", 2, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "\xed\xa0\x80", 3, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "\xf4\x90\x80\x80", 4, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "\xe2\x80\xae", 3, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "\xc2\x9b", 2, "printable UTF-8");
        ONE(VT_SESSION_KILL, VF_REASON, "ab\xe2\x82", 4, "printable UTF-8");
        /* names */
        ONE(VT_PAM_LOOKUP, VF_USER, "ro ot", 5, "account or group name");
        ONE(VT_PAM_LOOKUP, VF_USER, "-root", 5, "account or group name");
        ONE(VT_PAM_LOOKUP, VF_USER, "ro$ot", 5, "account or group name");
        /* fixed-size */
        ONE(VT_SESSIONS_LIST, VF_SINCE, "1234", 4, "not a 64-bit integer");
        ONE(VT_SESSIONS_LIST, VF_LIVE, "\x02", 1, "not a boolean");
        ONE(VT_SESSION_REPLAY, VF_COMMAND_NO, "12", 2, "not a 32-bit integer");
#undef ONE

        /* what is allowed */
        raw_hdr(&r, VT_SESSION_KILL, 0);
        raw_field(&r, VF_SESSION, "01HZY8:abc-def.1+x", 18);
        raw_field(&r, VF_REASON, P("caf\xc3\xa9 \xf0\x9f\x94\x92 ok"));
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_hdr(&r, VT_PAM_LOOKUP, 0);
        raw_field(&r, VF_REF, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64);
        raw_field(&r, VF_USER, "host$", 5);
        assert_int_equal(decode(&r, 0, NULL), 0);
}

static void start_common(raw *r, uint16_t type)
{
        raw_hdr(r, type, 0);
        if (type == VT_SESSION_START_REF)
                raw_field(r, VF_REF, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64);
        else
                raw_field(r, VF_TOKEN, "aaa.bbb.ccc", 11);
}

static void test_session_start(void **state)
{
        raw r;

        (void)state;
        /* pipes: exactly three fds */
        start_common(&r, VT_SESSION_START_REF);
        assert_int_equal(decode(&r, 3, NULL), 0);
        EXPECT_BAD(&r, 2, "exactly three fds");
        EXPECT_BAD(&r, 0, "takes 1 to 3 fds, got 0");
        EXPECT_BAD(&r, 4, "takes 1 to 3 fds, got 4");
        /* terminal: exactly one */
        raw_field(&r, VF_PTY, "\x01", 1);
        assert_int_equal(decode(&r, 1, NULL), 0);
        EXPECT_BAD(&r, 3, "exactly one fd");
        raw_field(&r, VF_ROWS, "\x00\x00\x00\x00", 4);
        EXPECT_BAD(&r, 1, "'rows' is out of range");
        /* argv: bytes but no NUL; may be empty strings; order kept */
        start_common(&r, VT_SESSION_START_REF);
        raw_field(&r, VF_ARGV, "sh", 2);
        raw_field(&r, VF_ARGV, "", 0);
        raw_field(&r, VF_ARGV, "a\nb\x01", 4);
        assert_int_equal(decode(&r, 3, NULL), 0);
        assert_int_equal(vmsg_count(M, VF_ARGV), 3);
        raw_field(&r, VF_ARGV, "a\0b", 3);
        EXPECT_BAD(&r, 3, "contains a NUL byte");
        /* env: NAME=VALUE */
        start_common(&r, VT_SESSION_START_REF);
        raw_field(&r, VF_ENV, "TERM=xterm", 10);
        assert_int_equal(decode(&r, 3, NULL), 0);
        raw_field(&r, VF_ENV, "=x", 2);
        EXPECT_BAD(&r, 3, "NAME=VALUE");
        start_common(&r, VT_SESSION_START_REF);
        raw_field(&r, VF_ENV, "1A=x", 4);
        EXPECT_BAD(&r, 3, "NAME=VALUE");
        /* cwd: absolute */
        start_common(&r, VT_SESSION_START_REF);
        raw_field(&r, VF_CWD, "tmp", 3);
        EXPECT_BAD(&r, 3, "absolute path");
        /* the token form needs argv, and names no account */
        start_common(&r, VT_SESSION_START_TOKEN);
        EXPECT_BAD(&r, 3, "missing field 'argv'");
        raw_field(&r, VF_ARGV, "/bin/true", 9);
        assert_int_equal(decode(&r, 3, NULL), 0);
        raw_field(&r, VF_USER, "root", 4);
        EXPECT_BAD(&r, 3, "field 'user' is not allowed in a session.start request");
}

static void test_cross_rules(void **state)
{
        raw r;

        (void)state;
        raw_hdr(&r, VT_APPROVALS_DECIDE, 0);
        raw_field(&r, VF_APPROVAL, "a1", 2);
        raw_field(&r, VF_DECISION, "deny", 4);
        EXPECT_BAD(&r, 0, "a denial needs field 'reason'");
        raw_field(&r, VF_REASON, "no", 2);
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_hdr(&r, VT_APPROVALS_DECIDE, 0);
        raw_field(&r, VF_APPROVAL, "a1", 2);
        raw_field(&r, VF_DECISION, "maybe", 5);
        EXPECT_BAD(&r, 0, "'approve' or 'deny'");

        raw_hdr(&r, VT_SESSIONS_LIST, 0);
        raw_field(&r, VF_SINCE, "\x10\0\0\0\0\0\0\0", 8);
        raw_field(&r, VF_UNTIL, "\x01\0\0\0\0\0\0\0", 8);
        EXPECT_BAD(&r, 0, "'since' is after 'until'");
        raw_hdr(&r, VT_SESSIONS_LIST, 0);
        raw_field(&r, VF_SINCE, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
        EXPECT_BAD(&r, 0, "must not be negative");

        raw_hdr(&r, VT_SESSION_REPLAY, 0);
        raw_field(&r, VF_SESSION, "s", 1);
        raw_field(&r, VF_AT, "\0\0\0\0\0\0\0\0", 8);
        raw_field(&r, VF_COMMAND_NO, "\1\0\0\0", 4);
        EXPECT_BAD(&r, 0, "exclude each other");

        raw_hdr(&r, VT_PAM_REGISTER, 0);
        raw_field(&r, VF_USER, "u", 1);
        raw_field(&r, VF_SUBJECT, "s", 1);
        raw_field(&r, VF_EXP, "\0\0\0\0\0\0\0\0", 8);
        EXPECT_BAD(&r, 0, "'exp' must be a positive time");

        /* at most 256 groups */
        raw_hdr(&r, VT_PAM_REGISTER, 0);
        raw_field(&r, VF_USER, "u", 1);
        raw_field(&r, VF_SUBJECT, "s", 1);
        raw_field(&r, VF_EXP, exp8, 8);
        for (int i = 0; i < 256; i++)
                raw_field(&r, VF_GROUP, "g", 1);
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_field(&r, VF_GROUP, "g", 1);
        EXPECT_BAD(&r, 0, "more than 256 'group' fields");

        /* no fds where none belong */
        raw_hdr(&r, VT_PING, 0);
        EXPECT_BAD(&r, 1, "ping takes no fds");
}

static void test_replies(void **state)
{
        raw r;

        (void)state;
        raw_hdr(&r, VT_PING | VT_REPLY, 0);
        EXPECT_BAD(&r, 0, "reply without 'status'");
        raw_field(&r, VF_STATUS, "\0\0\0\0", 4);
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_field(&r, VF_ERROR, "x", 1);
        EXPECT_BAD(&r, 0, "exactly when it is a refusal");
        raw_hdr(&r, VT_PING | VT_REPLY, 0);
        raw_field(&r, VF_STATUS, "\1\0\0\0", 4);
        EXPECT_BAD(&r, 0, "exactly when it is a refusal");
        raw_field(&r, VF_ERROR, "ping: no", 8);
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_field(&r, VF_VERSION, "1", 1);
        EXPECT_BAD(&r, 0, "nothing but its status and error");
        raw_hdr(&r, VT_PING | VT_REPLY, 0);
        raw_field(&r, VF_STATUS, "\x09\0\0\0", 4);
        EXPECT_BAD(&r, 0, "unknown status 9");
        /* fds: only session.start's success reply, one */
        raw_hdr(&r, VT_SESSION_START_REF | VT_REPLY, 0);
        raw_field(&r, VF_STATUS, "\0\0\0\0", 4);
        assert_int_equal(decode(&r, 1, NULL), 0);
        EXPECT_BAD(&r, 2, "too many fds");
        raw_hdr(&r, VT_PING | VT_REPLY, 0);
        raw_field(&r, VF_STATUS, "\0\0\0\0", 4);
        EXPECT_BAD(&r, 1, "too many fds");
        /* a reply's required fields only on success */
        raw_hdr(&r, VT_PAM_REGISTER | VT_REPLY, 0);
        raw_field(&r, VF_STATUS, "\0\0\0\0", 4);
        EXPECT_BAD(&r, 0, "missing field 'ref'");
        /* stream items */
        raw_hdr(&r, VT_SESSION_WATCH | VT_ITEM, 0);
        raw_field(&r, VF_DATA, "\x1b[0m", 4);
        EXPECT_BAD(&r, 0, "'data' needs 'time'");
        raw_field(&r, VF_TIME, "\0\0\0\0\0\0\0\0", 8);
        assert_int_equal(decode(&r, 0, NULL), 0);
        raw_field(&r, VF_ITEM, "{}", 2);
        EXPECT_BAD(&r, 0, "either 'data' or 'item'");
        raw_hdr(&r, VT_SESSIONS_LIST | VT_ITEM, 0);
        raw_field(&r, VF_ITEM, "{\"id\":\"x\"}", 10);
        assert_int_equal(decode(&r, 0, NULL), 0);
}

static void test_builder(void **state)
{
        vmsg_builder b;
        char err[VMSG_ERR_MAX];
        static char big[VMSG_MAX];
        int64_t v;

        (void)state;
        assert_int_equal(vmsg_builder_init(&b, VT_SESSIONS_LIST, 7), 0);
        vmsg_add_str(&b, VF_USER, "alice");
        vmsg_add_i64(&b, VF_SINCE, -0 + 1234567890123LL);
        vmsg_add_bool(&b, VF_LIVE, true);
        assert_int_equal(vmsg_builder_finish(&b, 0, err), 0);
        assert_int_equal(vmsg_decode(b.buf, b.len, 0, M, NULL), 0);
        assert_int_equal(M->id, 7);
        assert_int_equal(vmsg_get_i64(M, VF_SINCE, &v), 0);
        assert_true(v == 1234567890123LL);
        assert_int_equal(vmsg_get_i64(M, VF_UNTIL, &v), -ENOENT);
        vmsg_builder_done(&b);

        /* the builder refuses to build what the decoder would refuse */
        assert_int_equal(vmsg_builder_init(&b, VT_SESSIONS_LIST, 1), 0);
        vmsg_add_str(&b, VF_USER, "bad name");
        assert_true(vmsg_builder_finish(&b, 0, err) < 0);
        assert_non_null(strstr(err, "account or group name"));
        vmsg_builder_done(&b);

        /* over the message bound: sticky error */
        memset(big, 'a', sizeof big);
        assert_int_equal(vmsg_builder_init(&b, VT_SESSION_START_REF, 1), 0);
        vmsg_add(&b, VF_ARGV, big, 32768);
        assert_int_equal(vmsg_add(&b, VF_ARGV, big, 32768), VIGIL_E_TOO_BIG);
        assert_int_equal(vmsg_add_str(&b, VF_CWD, "/"), VIGIL_E_TOO_BIG);
        assert_int_equal(vmsg_builder_finish(&b, 3, err), VIGIL_E_TOO_BIG);
        vmsg_builder_done(&b);
}

/* access_parse_config() on @text after the keys vigil.conf requires (two lines). */
static int access_conf(const char *text, size_t len, vigild_access **ret, char *err)
{
        char buf[1024];
        vigil_config *cfg = NULL;
        int n, r;

        n = snprintf(buf, sizeof buf, "issuer = https://idp.example\naudience = vigil\n%.*s", (int)len,
                     text);
        assert_true(n > 0 && (size_t)n < sizeof buf);
        r = vigil_config_parse(buf, (size_t)n, "f", &cfg, NULL);
        if (r < 0)
                return r;
        r = access_parse_config(cfg, ret, err, 200);
        vigil_config_free(cfg);
        return r;
}

static void test_access_lists(void **state)
{
        principal_list l;
        char err[200];
        vigild_access *a = NULL;
        gid_t groups[] = { 4242 };
        vigild_caller c = { .uid = 1000, .gid = 100, .groups = groups, .n_groups = 1 };
        vigild_identity id = { .subject = (char *)"s",
                               .groups = (char *[]){ (char *)"ops" },
                               .n_groups = 1 };

        (void)state;
        assert_int_equal(principal_list_parse(P(" group:ops ,local:wheel"), &l, err, sizeof err), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.items[0].kind, PRINCIPAL_IDP_GROUP);
        assert_string_equal(l.items[0].name, "ops");
        assert_string_equal(l.items[1].name, "wheel");
        assert_true(principal_list_wants_identity(&l));
        /* local entries match by what they resolved to */
        l.items[1].has_gid = true;
        l.items[1].gid = 4242;
        assert_true(principal_list_match(&l, &c, NULL));
        l.items[1].gid = 4243;
        assert_false(principal_list_match(&l, &c, NULL));
        /* group: entries need the session identity */
        assert_true(principal_list_match(&l, &c, &id));
        principal_list_clear(&l);

        assert_int_equal(principal_list_parse(P("   "), &l, err, sizeof err), 0);
        assert_int_equal(l.n, 0);
        assert_true(principal_list_parse(P("ops"), &l, err, sizeof err) < 0);
        assert_non_null(strstr(err, "group:NAME or local:NAME"));
        assert_true(principal_list_parse(P("group:a,,local:b"), &l, err, sizeof err) < 0);
        assert_true(principal_list_parse(P("group:a,"), &l, err, sizeof err) < 0);
        assert_true(principal_list_parse(P("local:a b"), &l, err, sizeof err) < 0);
        assert_true(principal_list_parse(P("group:a\x01"), &l, err, sizeof err) < 0);

        /* from vigil.conf, through the config component (LIST values) */
        assert_int_equal(
                access_conf(P("# c\n auditors = local:root, group:Ops\nresponders=group:a group:b\n"), &a,
                            err),
                0);
        assert_int_equal(a->auditors.n, 2);
        assert_int_equal(a->auditors.items[1].kind, PRINCIPAL_IDP_GROUP);
        assert_string_equal(a->auditors.items[1].name, "Ops");
        assert_int_equal(a->responders.n, 2);
        a = access_free(a);
        assert_int_equal(access_conf(P(""), &a, err), 0);
        assert_int_equal(a->auditors.n + a->responders.n, 0);
        a = access_free(a);
        assert_int_equal(access_conf(P("\nauditors = ops\n"), &a, err), VIGIL_E_PARSE);
        assert_string_equal(err, "f:4: auditors: each entry is group:NAME or local:NAME");
        assert_int_equal(access_conf(P("responders = group:a,local:-x\n"), &a, err), VIGIL_E_PARSE);
        assert_string_equal(err, "f:3: responders: 'local:' needs an account or group name");
}

static const vigild_identity ident = { .subject = (char *)"subj",
                                       .groups = (char *[]){ (char *)"g1", (char *)"g2" },
                                       .n_groups = 2,
                                       .exp = 2000000000 };

static void test_refs_once(void **state)
{
        ref_store s;
        char ref[65], sref[65], handle[65];
        const ref_entry *e;
        ref_entry *taken = NULL;
        char *session = NULL;

        (void)state;
        assert_int_equal(refs_init(&s, 8), 0);
        assert_int_equal(refs_register(&s, 1000, 120000, "alice", &ident, "sshd", ref), 0);
        assert_int_equal(strlen(ref), 64);
        /* lookup does not use it up; the wrong user sees nothing */
        assert_int_equal(refs_lookup(&s, 1001, ref, "alice", &e), 0);
        assert_string_equal(e->identity->subject, "subj");
        assert_int_equal(refs_lookup(&s, 1001, ref, "bob", &e), -ENOENT);
        assert_int_equal(refs_lookup(&s, 1002, ref, "alice", &e), 0);
        /* a login reference is not a session reference */
        assert_int_equal(refs_take_session(&s, 1002, ref, 1000, &taken), -ENOENT);
        /* open uses it up */
        assert_int_equal(
                refs_open(&s, 1003, 120000, ref, "alice", 1000, NULL, "pts/1", "10.0.0.1", sref, handle, &e),
                0);
        assert_string_equal(e->service, "sshd");
        assert_int_equal(e->identity->n_groups, 2);
        assert_int_equal(refs_open(&s, 1004, 120000, ref, "alice", 1000, NULL, NULL, NULL, sref, handle, &e),
                         -ENOENT);
        assert_int_equal(refs_lookup(&s, 1004, ref, "alice", &e), -ENOENT);
        /* the session reference: once, and only by its uid */
        assert_int_equal(refs_take_session(&s, 1005, sref, 1000, &taken), 0);
        assert_string_equal(taken->user, "alice");
        assert_string_equal(taken->tty, "pts/1");
        taken = ref_entry_free(taken);
        assert_int_equal(refs_take_session(&s, 1006, sref, 1000, &taken), -ENOENT);
        /* close: the handle is known until the started record or the unused reference goes */
        assert_int_equal(refs_mark_started(&s, 1007, handle, 1000, "sess-1"), 0);
        assert_int_equal(refs_close(&s, handle, &session), 0);
        assert_string_equal(session, "sess-1");
        free(session);
        assert_int_equal(refs_close(&s, handle, &session), -ENOENT);
        assert_int_equal(refs_count(&s), 0);
        refs_done(&s);
}

static void test_refs_burn_expire_cap(void **state)
{
        ref_store s;
        char ref[65], sref[65], handle[65], r2[65];
        const ref_entry *e;
        ref_entry *taken = NULL;
        char *session = (char *)"x";

        (void)state;
        assert_int_equal(refs_init(&s, 2), 0);
        /* the wrong account at open uses the reference up */
        assert_int_equal(refs_register(&s, 0, 1000, "alice", &ident, NULL, ref), 0);
        assert_int_equal(refs_open(&s, 1, 1000, ref, "bob", 1001, NULL, NULL, NULL, sref, handle, &e),
                         -EPERM);
        assert_int_equal(refs_open(&s, 1, 1000, ref, "alice", 1000, NULL, NULL, NULL, sref, handle, &e),
                         -ENOENT);
        /* another uid presenting a session reference burns it */
        assert_int_equal(refs_register(&s, 0, 1000, "alice", &ident, NULL, ref), 0);
        assert_int_equal(refs_open(&s, 1, 1000, ref, "alice", 1000, NULL, NULL, NULL, sref, handle, &e), 0);
        assert_int_equal(refs_take_session(&s, 2, sref, 1001, &taken), -EPERM);
        assert_int_equal(refs_take_session(&s, 2, sref, 1000, &taken), -ENOENT);
        /* expiry: valid until expires_ms, not at it */
        assert_int_equal(refs_register(&s, 0, 1000, "alice", &ident, NULL, ref), 0);
        assert_int_equal(refs_lookup(&s, 999, ref, "alice", &e), 0);
        assert_int_equal(refs_lookup(&s, 1000, ref, "alice", &e), -ENOENT);
        assert_int_equal(refs_count(&s), 0);
        /* the cap, freed again by expiry */
        assert_int_equal(refs_register(&s, 0, 1000, "a", &ident, NULL, ref), 0);
        assert_int_equal(refs_register(&s, 0, 1000, "b", &ident, NULL, r2), 0);
        assert_int_equal(refs_register(&s, 0, 1000, "c", &ident, NULL, r2), -EBUSY);
        assert_int_equal(refs_register(&s, 1000, 1000, "c", &ident, NULL, r2), 0);
        /* an unused session reference is dropped by close */
        assert_int_equal(refs_open(&s, 1001, 1000, r2, "c", 5, NULL, NULL, NULL, sref, handle, &e), 0);
        assert_int_equal(refs_close(&s, handle, &session), 0);
        assert_null(session);
        assert_int_equal(refs_take_session(&s, 1002, sref, 5, &taken), -ENOENT);
        /* guesses of the wrong shape */
        assert_int_equal(refs_lookup(&s, 1002, "", "a", &e), -ENOENT);
        assert_int_equal(refs_lookup(&s, 1002, "zz", "a", &e), -ENOENT);
        refs_done(&s);
}

static void test_refs_unique(void **state)
{
        ref_store s;
        char a[65], b[65];

        (void)state;
        assert_int_equal(refs_init(&s, 4), 0);
        assert_int_equal(refs_register(&s, 0, 1000, "a", &ident, NULL, a), 0);
        assert_int_equal(refs_register(&s, 0, 1000, "a", &ident, NULL, b), 0);
        assert_string_not_equal(a, b);
        refs_done(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header),      cmocka_unit_test(test_fields_structure),
                cmocka_unit_test(test_kinds),       cmocka_unit_test(test_session_start),
                cmocka_unit_test(test_cross_rules), cmocka_unit_test(test_replies),
                cmocka_unit_test(test_builder),     cmocka_unit_test(test_access_lists),
                cmocka_unit_test(test_refs_once),   cmocka_unit_test(test_refs_burn_expire_cap),
                cmocka_unit_test(test_refs_unique),
        };
        int r;

        M = malloc(sizeof *M);
        if (!M)
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        free(M);
        return r;
}
