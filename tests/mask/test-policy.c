/* The masker built from real policy text (the policy parser's mask
 * statements), as the supervisor will build it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "vigil-error.h"

static vigil_policy *parse(const char *text)
{
        vigil_policy *p = NULL;
        vigil_diags d = {0};
        int k = vigil_policy_parse(text, strlen(text), "test.policy", &p, &d);

        if (k < 0)
                fail_msg("policy: %s", d.n ? d.items[0].message : "?");
        vigil_diags_clear(&d);
        return p;
}

static void test_from_policy(void **state)
{
        (void)state;
        vigil_policy *p = parse("default allow\n"
                                "mask credit-card\n"
                                "mask email replace=<email>\n"
                                "mask regex='acct-[0-9]{8}'\n"
                                "mask regex='(?<k>api_key)=[A-Za-z0-9]{8,}' replace='${k}=****'\n"
                                "mask password-assignment\n");
        vigil_mask_set *set = NULL;
        vigil_mask_stream *s = NULL;
        char *err = NULL, *out;

        assert_int_equal(vigil_mask_set_from_policy(p, &set, &err), 0);
        assert_int_equal(vigil_mask_set_n_rules(set), 5);
        assert_string_equal(vigil_mask_set_rule_name(set, 2), "regex");
        {
                unsigned line = 0;

                assert_string_equal(vigil_mask_set_rule_origin(set, 2, &line), "test.policy");
                assert_int_equal(line, 4);
                assert_null(vigil_mask_set_rule_origin(set, 9, &line));
        }
        out = mask_text(set,
                        "4111 1111 1111 1111 bob@example.com acct-12345678 api_key=abcdefgh12 password=x\n",
                        80, 3, &s);
        assert_string_equal(out, "[MASKED:credit-card] <email> [MASKED:regex] api_key=**** "
                                 "password=[MASKED:password-assignment]\n");
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(vigil_mask_stream_count(s, i), 1);
        free(out);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
        vigil_policy_free(p);
}

/* The parser accepts this; the masker names the file and line. */
static void test_policy_replace_error(void **state)
{
        (void)state;
        vigil_policy *p = parse("default allow\n"
                                "mask credit-card\n"
                                "mask regex='(a)b' replace='$2'\n");
        vigil_mask_set *set = NULL;
        char *err = NULL;

        assert_int_equal(vigil_mask_set_from_policy(p, &set, &err), VIGIL_E_PARSE);
        assert_null(set);
        assert_non_null(err);
        assert_non_null(strstr(err, "test.policy:3: replace= text"));
        free(err);
        vigil_policy_free(p);
        assert_int_equal(vigil_mask_set_from_policy(NULL, &set, NULL), -EINVAL);
}

/* Every example policy shipped with vigil builds a set. */
static void test_example_policies(void **state)
{
        (void)state;
        static const char *const files[] = {"production.policy", "developer.policy"};
        const char *src = getenv("VIGIL_SOURCE_ROOT");

        if (!src)
                fail_msg("VIGIL_SOURCE_ROOT is not set (run through meson test)");
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char path[4096];
                vigil_policy *p = NULL;
                vigil_mask_set *set = NULL;
                char *err = NULL;
                int k;

                snprintf(path, sizeof(path), "%s/policy/examples/%s", src, files[i]);
                k = vigil_policy_load(path, &p, NULL);
                if (k < 0)
                        fail_msg("%s: %s", path, vigil_strerror(k));
                k = vigil_mask_set_from_policy(p, &set, &err);
                if (k < 0)
                        fail_msg("%s: %s", path, err ? err : "?");
                vigil_mask_set_free(set);
                vigil_policy_free(p);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_from_policy),
                cmocka_unit_test(test_policy_replace_error),
                cmocka_unit_test(test_example_policies),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
