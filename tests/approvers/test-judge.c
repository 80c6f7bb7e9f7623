/* Who may decide (approvers/judge.c): approvers= entries against an
 * identity-provider identity and a local account, four-eyes, the verdicts
 * that ask for a sign-in, and the lines that explain a refusal. Local
 * accounts and groups are the host's real ones that Debian always has
 * (root, daemon, nogroup); each test states what it relies on first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approvers.h"

static vigil_approval req(const char *approvers, const char *user, const char *subject)
{
        vigil_approval a = { .id = "k3f9x2ab", .session = "0190a1b2-0000-7000-8000-000000000001" };

        a.approvers = (char *)approvers;
        a.user = (char *)user;
        a.subject = (char *)subject;
        a.rule = (char *)"/etc/vigil/policy.conf:7";
        return a;
}

static const char *const sre_groups[] = { "dev", "sre" };

/* bob, signed in as subject "bob-sub" (username "bob"), working as local account daemon */
static vigil_approver_who bob(void)
{
        vigil_approver_who w = {
                .subject = "bob-sub",
                .username = "bob",
                .email = "bob@example.test",
                .groups = sre_groups,
                .n_groups = 2,
                .via = VIGIL_VIA_SESSION,
                .local = "daemon",
        };
        struct passwd *pw = getpwnam("daemon");

        assert_non_null(pw);
        w.uid = pw->pw_uid;
        return w;
}

static vigil_approver_who local_only(const char *name)
{
        struct passwd *pw = getpwnam(name);
        vigil_approver_who w = { .local = name };

        assert_non_null(pw);
        w.uid = pw->pw_uid;
        return w;
}

static vigil_approver_verdict judge(const char *approvers, const char *user, const char *subject,
                                    const vigil_approver_who *w, char **entry)
{
        vigil_approval a = req(approvers, user, subject);
        vigil_approver_verdict v = (vigil_approver_verdict)-1;

        assert_int_equal(vigil_approver_judge(&a, w, &v, entry), 0);
        return v;
}

static void test_group(void **state)
{
        vigil_approver_who w = bob();
        char *e = NULL;

        (void)state;
        assert_int_equal(judge("group:sre", "vtq-requester", "alice-sub", &w, &e),
                         VIGIL_APPROVER_BY_IDENTITY);
        assert_string_equal(e, "group:sre");
        free(e);
        assert_int_equal(judge("group:ops,group:sre", "vtq-requester", "alice-sub", &w, NULL),
                         VIGIL_APPROVER_BY_IDENTITY);
        /* exact names: no prefixes, no case folding */
        assert_int_equal(judge("group:sr", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
        assert_int_equal(judge("group:SRE", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
        assert_int_equal(judge("group:ops", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
}

static void test_user(void **state)
{
        vigil_approver_who w = bob();

        (void)state;
        assert_int_equal(judge("user:bob-sub", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_BY_IDENTITY);
        assert_int_equal(judge("user:bob", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_BY_IDENTITY);
        /* not the email, not the local account */
        assert_int_equal(judge("user:bob@example.test", "vtq-requester", NULL, &w, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
        assert_int_equal(judge("user:daemon", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
        w.username = NULL;
        assert_int_equal(judge("user:bob", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
}

static void test_local(void **state)
{
        vigil_approver_who root = local_only("root"), daemon = local_only("daemon");
        struct group *ng = getgrnam("nogroup");
        char *e = NULL;

        (void)state;
        assert_non_null(ng);
        /* root is not in nogroup; daemon's primary group is daemon */
        for (char **m = ng->gr_mem; *m; m++)
                assert_string_not_equal(*m, "root");
        assert_int_equal(judge("local:root", "vtq-requester", NULL, &root, &e), VIGIL_APPROVER_BY_LOCAL);
        assert_string_equal(e, "local:root");
        free(e);
        assert_int_equal(judge("local:daemon", "vtq-requester", NULL, &daemon, NULL),
                         VIGIL_APPROVER_BY_LOCAL);
        assert_int_equal(judge("local:nogroup", "vtq-requester", NULL, &root, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
        /* by a group the account is in (its primary group, through getgrouplist) */
        assert_non_null(getgrnam("root"));
        assert_int_equal(judge("local:nogroup,local:root", "vtq-requester", NULL, &root, NULL),
                         VIGIL_APPROVER_BY_LOCAL);
        /* a name that is neither account nor group names nobody */
        assert_int_equal(judge("local:vt-no-such-name", "vtq-requester", NULL, &root, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
        /* an account name that is not the caller's uid is not trusted for groups */
        root.uid = 4242;
        assert_int_equal(judge("local:daemon-nonexistent,local:nogroup", "vtq-requester", NULL, &root, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
}

/* A local account decides only through local:, an identity only through
 * group:/user:, whatever the names are. */
static void test_kinds_do_not_cross(void **state)
{
        vigil_approver_who root = local_only("root"), w = bob();
        static const char *const g_root[] = { "root" };

        (void)state;
        assert_int_equal(judge("group:root", "vtq-requester", NULL, &root, NULL), VIGIL_APPROVER_SIGN_IN);
        assert_int_equal(judge("user:root", "vtq-requester", NULL, &root, NULL), VIGIL_APPROVER_SIGN_IN);
        /* a token group or username "daemon" does not make a local:daemon */
        w.local = NULL;
        w.uid = 4242;
        w.groups = g_root;
        w.n_groups = 1;
        w.username = "daemon";
        assert_int_equal(judge("local:daemon,local:root", "vtq-requester", NULL, &w, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
}

static void test_sign_in(void **state)
{
        vigil_approver_who d = local_only("daemon");

        (void)state;
        /* only an identity-provider entry could name a local-only approver */
        assert_int_equal(judge("group:sre", "vtq-requester", NULL, &d, NULL), VIGIL_APPROVER_SIGN_IN);
        assert_int_equal(judge("local:root,user:bob", "vtq-requester", NULL, &d, NULL),
                         VIGIL_APPROVER_SIGN_IN);
        /* nothing to sign in for */
        assert_int_equal(judge("local:root", "vtq-requester", NULL, &d, NULL), VIGIL_APPROVER_NOT_NAMED);
        /* with an identity already, a sign-in would change nothing */
        d.subject = "dee";
        d.via = VIGIL_VIA_SESSION;
        assert_int_equal(judge("group:sre", "vtq-requester", NULL, &d, NULL), VIGIL_APPROVER_NOT_NAMED);
}

static void test_four_eyes(void **state)
{
        vigil_approver_who w = bob(), root = local_only("root");

        (void)state;
        /* same subject, though the group names them and the account differs */
        assert_int_equal(judge("group:sre", "vtq-requester", "bob-sub", &w, NULL), VIGIL_APPROVER_SELF);
        /* same local account, though another subject */
        assert_int_equal(judge("group:sre", "daemon", "alice-sub", &w, NULL), VIGIL_APPROVER_SELF);
        assert_int_equal(judge("local:root", "root", NULL, &root, NULL), VIGIL_APPROVER_SELF);
        /* same uid under another name */
        root.local = "vt-other-name-for-uid-0";
        assert_int_equal(judge("local:vt-other-name-for-uid-0", "root", NULL, &root, NULL),
                         VIGIL_APPROVER_SELF);
        /* a requester without a subject is not matched by an approver's subject */
        assert_int_equal(judge("group:sre", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_BY_IDENTITY);
}

static void test_none_named(void **state)
{
        vigil_approver_who w = bob(), root = local_only("root");

        (void)state;
        assert_int_equal(judge(NULL, "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NONE_NAMED);
        assert_int_equal(judge("", "vtq-requester", NULL, &root, NULL), VIGIL_APPROVER_NONE_NAMED);
        /* entries that are not entries name nobody */
        assert_int_equal(judge("group:,user:,local:", "vtq-requester", NULL, &w, NULL),
                         VIGIL_APPROVER_NOT_NAMED);
        assert_int_equal(judge("team:sre,sre", "vtq-requester", NULL, &w, NULL), VIGIL_APPROVER_NOT_NAMED);
}

static void test_identity_preferred(void **state)
{
        vigil_approver_who w = bob();
        vigil_approver_id id;
        char *e = NULL;

        (void)state;
        assert_int_equal(judge("local:daemon,group:sre", "vtq-requester", NULL, &w, &e),
                         VIGIL_APPROVER_BY_IDENTITY);
        assert_string_equal(e, "group:sre");
        free(e);
        vigil_approver_id_of(&w, VIGIL_APPROVER_BY_IDENTITY, &id);
        assert_string_equal(id.subject, "bob-sub");
        assert_string_equal(id.email, "bob@example.test");
        assert_int_equal(id.n_groups, 2);
        assert_string_equal(id.local, "daemon");
        assert_string_equal(id.via, "session");
        /* a local: approver is recorded by the account only */
        vigil_approver_id_of(&w, VIGIL_APPROVER_BY_LOCAL, &id);
        assert_null(id.subject);
        assert_null(id.email);
        assert_int_equal(id.n_groups, 0);
        assert_string_equal(id.local, "daemon");
        assert_string_equal(id.via, "local");
}

static void test_refusal_text(void **state)
{
        vigil_approver_who w = bob(), d = local_only("daemon");
        vigil_approval a = req("group:ops\x1b[31m,user:\xe2\x80\xae"
                               "evil",
                               "vtq-requester", "bob-sub");
        char *t;

        (void)state;
        t = vigil_approver_refusal(&a, &w, VIGIL_APPROVER_SELF);
        assert_string_equal(t,
                            "not allowed: you made this request (four-eyes: same identity-provider subject "
                            "'bob-sub')");
        free(t);
        t = vigil_approver_refusal(&a, &w, VIGIL_APPROVER_NOT_NAMED);
        /* control and bidi characters from the policy never reach a terminal */
        assert_null(strchr(t, '\x1b'));
        assert_null(strstr(t, "\xe2\x80\xae"));
        assert_non_null(strstr(t, "approvers=group:ops?[31m,user:?evil does not name you (subject 'bob-sub' "
                                  "(via session, groups dev, sre), local account 'daemon')"));
        free(t);
        t = vigil_approver_refusal(&a, &d, VIGIL_APPROVER_SIGN_IN);
        assert_true(strncmp(t, VIGIL_APPROVER_SIGN_IN_PREFIX, strlen(VIGIL_APPROVER_SIGN_IN_PREFIX)) == 0);
        assert_non_null(strstr(t, "local account 'daemon'"));
        free(t);
        a.approvers = NULL;
        t = vigil_approver_refusal(&a, &d, VIGIL_APPROVER_NONE_NAMED);
        assert_string_equal(t,
                            "not allowed: the rule /etc/vigil/policy.conf:7 names no approvers=, so nobody "
                            "may decide this request (it is refused when it times out)");
        free(t);
}

static void test_id_syntax(void **state)
{
        char id[VIGIL_APPROVAL_ID_LEN + 1] = "";

        (void)state;
        assert_true(vigil_approval_id_normalize("k3f9x2ab", id));
        assert_string_equal(id, "k3f9x2ab");
        assert_true(vigil_approval_id_normalize("K3F9", id));
        assert_string_equal(id, "k3f9");
        /* read as Crockford's base32 reads them, as the store does */
        assert_true(vigil_approval_id_normalize("k3f9x2IO", id));
        assert_string_equal(id, "k3f9x210");
        assert_true(vigil_approval_id_normalize("lLoO", id));
        assert_string_equal(id, "1100");
        strcpy(id, "keep");
        assert_false(vigil_approval_id_normalize("k3f", id)); /* too short a prefix */
        assert_string_equal(id, "keep");
        assert_false(vigil_approval_id_normalize("k3f9x2abc", id)); /* too long */
        assert_false(vigil_approval_id_normalize("k3f9x2au", id));  /* u is not in the alphabet */
        assert_false(vigil_approval_id_normalize("k3f9-2ab", id));
        assert_false(vigil_approval_id_normalize("", id));
        assert_false(vigil_approval_id_normalize("../../x", id));
        assert_string_equal(id, "keep");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_group),        cmocka_unit_test(test_user),
                cmocka_unit_test(test_local),        cmocka_unit_test(test_kinds_do_not_cross),
                cmocka_unit_test(test_sign_in),      cmocka_unit_test(test_four_eyes),
                cmocka_unit_test(test_none_named),   cmocka_unit_test(test_identity_preferred),
                cmocka_unit_test(test_refusal_text), cmocka_unit_test(test_id_syntax),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
