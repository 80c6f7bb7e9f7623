/* Each built-in detector: what it masks, and near-misses and documented
 * non-matches that must stay visible. Every row runs with all detectors on,
 * in one feed and one byte at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "mask-internal.h"

typedef struct row {
        const char *in, *want;
} row;

#define M(name) "[MASKED:" name "]"
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
#define AWSK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define PEMBODY                                                                                             \
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+"        \
        "CqvjWYzvQwECAwEAAQ==\n"

static const row hits[] = {
        /* credit-card */
        {"pay 4111 1111 1111 1111 now", "pay " M("credit-card") " now"},
        {"4111-1111-1111-1111", M("credit-card")},
        {"4111111111111111\n", M("credit-card") "\n"},
        {"amex 378282246310005.", "amex " M("credit-card") "."},
        {"6011111111111117", M("credit-card")},
        {"4222222222222", M("credit-card")},                          /* 13 digits */
        {"4111 1111 1111 1111 123", M("credit-card") " 123"},         /* longest valid prefix */
        {"id 1234-4111 1111 1111 1111", "id 1234-" M("credit-card")}, /* valid part after a separator */
        {"(4111111111111111)", "(" M("credit-card") ")"},
        /* aws-access-key */
        {"key AKIAIOSFODNN7EXAMPLE end", "key " M("aws-access-key") " end"},
        {"ASIAY34FZKBOKMUTVV7A", M("aws-access-key")},
        /* aws-secret-key */
        {"aws_secret_access_key = " AWSK "\n", "aws_secret_access_key = " M("aws-secret-key") "\n"},
        {"export AWS_SECRET_ACCESS_KEY=" AWSK, "export AWS_SECRET_ACCESS_KEY=" M("aws-secret-key")},
        {"\"SecretAccessKey\": \"" AWSK "\",", "\"SecretAccessKey\": \"" M("aws-secret-key") "\","},
        /* private-key */
        {"-----BEGIN RSA PRIVATE KEY-----\n" PEMBODY "-----END RSA PRIVATE KEY-----\n$ ",
         M("private-key") "\n$ "},
        {"-----BEGIN OPENSSH PRIVATE "
         "KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\r\n"
         "-----END OPENSSH PRIVATE KEY-----\r\n",
         M("private-key") "\r\n"},
        {"-----BEGIN PRIVATE KEY-----\n" PEMBODY "-----END PRIVATE KEY-----", M("private-key")},
        {"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
         "AES-128-CBC,0123456789ABCDEF\n\n" PEMBODY "-----END RSA PRIVATE KEY-----",
         M("private-key")},
        {"-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n" PEMBODY
         "=abcd\n-----END PGP PRIVATE KEY BLOCK-----",
         M("private-key")},
        /* JSON-escaped line breaks (a service-account key file) */
        {"  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\nBKcwggSjAgEAAoIB\\n"
         "-----END PRIVATE KEY-----\\n\",",
         "  \"private_key\": \"" M("private-key") "\\n\","},
        /* truncated (head -3 key.pem): up to the last key line */
        {"-----BEGIN RSA PRIVATE KEY-----\n" PEMBODY "user@host:~$ ", M("private-key") "user@host:~$ "},
        /* jwt */
        {"Authorization: Bearer " JWT "\n", "Authorization: Bearer " M("jwt") "\n"},
        {"id_token=" JWT, "id_token=" M("jwt")},
        /* github-token */
        {"ghp_abcdefghijklmnopqrstuvwxyz0123456789", M("github-token")},
        {"x gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 y", "x " M("github-token") " y"},
        {"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678",
         M("github-token")},
        /* slack-token */
        {"xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", M("slack-token")},
        {"SLACK xoxp-1234-abcd-EFGH", "SLACK " M("slack-token")},
        /* ssn-us */
        {"ssn 123-45-6789.", "ssn " M("ssn-us") "."},
        /* email */
        {"mail bob@example.com.", "mail " M("email") "."},
        {"<first.last+tag@mail.example.co.uk>", "<" M("email") ">"},
        /* iban */
        {"IBAN DE89 3704 0044 0532 0130 00 EUR", "IBAN " M("iban") " EUR"},
        {"DE89370400440532013000", M("iban")},
        {"GB82 WEST 1234 5698 7654 32", M("iban")},
        {"FR1420041010050500013M02606", M("iban")},
        /* password-assignment: the key stays, the value goes */
        {"password=hunter2", "password=" M("password-assignment")},
        {"DB_PASSWORD='s3cr3t pass'", "DB_PASSWORD='" M("password-assignment") "'"},
        {"{\"token\": \"abc def\"}", "{\"token\": \"" M("password-assignment") "\"}"},
        {"passwd: swordfish\n", "passwd: " M("password-assignment") "\n"},
        {"client_secret=abc123&scope=x", "client_secret=" M("password-assignment") "&scope=x"},
        {"SECRET_KEY = 'django-insecure'", "SECRET_KEY = '" M("password-assignment") "'"},
        {"GITHUB_TOKEN: xyz", "GITHUB_TOKEN: " M("password-assignment")},
};

/* Near-misses and non-secrets: unchanged. */
static const char *const visible[] = {
        "4111 1111 1111 1112",           /* fails Luhn */
        "4111  1111 1111 1111",          /* double space splits it */
        "order 12345678901234567890 ok", /* 20 digits */
        "123456789012",                  /* 12 digits */
        "AKIAIOSFODNN7EXAMPLEX",         /* 21 characters */
        "akiaiosfodnn7example",          /* lower case */
        AWSK,                            /* a bare 40-character string: no assignment context */
        "-----BEGIN PUBLIC KEY-----\n" PEMBODY "-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\n" PEMBODY "-----END CERTIFICATE-----",
        "eyJhbGciOiJIUzI1NiJ9", /* a JWT header alone */
        "ghp_short",
        "xoxz-123456789012-abcdef", /* not a slack prefix */
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",                 /* never issued */
        "123456789",                   /* SSN digits without dashes */
        "1-123-45-6789",               /* part of a longer dashed number */
        "user@localhost",              /* no dot-TLD */
        "DE89 3704 0044 0532 0130 02", /* IBAN checksum fails */
        "Enter password: ",            /* a prompt */
        "[sudo] password for alice: ",
        "token == null", /* comparison, not assignment */
        "passwords: 3 tokens: 5",
        "secretary: Jane",
        "token_count: 5",
        "password=", /* no value */
        "2024-01-01 12:00:00 build 4521 ok",
        "\033[31mred\033[0m \033]0;title\a plain",
};

/* Documented false positives (docs/masking.md): masked although not secrets. */
static const row known_fp[] = {
        {"ts 1700000000004", "ts " M("credit-card")},                /* a Luhn-valid epoch-ms time */
        {"root@web1.example.com:~# ", M("email") ":~# "},            /* FQDN shell prompt */
        {"git@github.com:org/repo.git", M("email") ":org/repo.git"}, /* scp-style remote */
        {"part 123-45-6789", "part " M("ssn-us")},                   /* any AAA-GG-SSSS number */
        {"password: incorrect", "password: " M("password-assignment")},
};

static void check_row(const vigil_mask_set *set, const char *in, const char *want)
{
        char *out = mask_str(set, in), *out1 = mask_text(set, in, strlen(in), 1, NULL);

        if (strcmp(out, want) != 0)
                fail_msg("input   '%s'\nwant    '%s'\ngot     '%s'", in, want, out);
        if (strcmp(out1, want) != 0)
                fail_msg("one byte at a time:\ninput   '%s'\nwant    '%s'\ngot     '%s'", in, want, out1);
        free(out);
        free(out1);
}

static void test_hits(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();

        for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++)
                check_row(set, hits[i].in, hits[i].want);
        vigil_mask_set_free(set);
}

static void test_visible(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();

        for (size_t i = 0; i < sizeof(visible) / sizeof(visible[0]); i++)
                check_row(set, visible[i], visible[i]);
        vigil_mask_set_free(set);
}

static void test_known_false_positives(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();

        for (size_t i = 0; i < sizeof(known_fp) / sizeof(known_fp[0]); i++)
                check_row(set, known_fp[i].in, known_fp[i].want);
        vigil_mask_set_free(set);
}

/* Each detector alone masks its own hit rows' secrets, and only its own rule
 * is counted. */
static void test_detector_alone(void **state)
{
        (void)state;

        for (size_t d = 0; vigil_mask_detectors[d]; d++) {
                vigil_mask_rule r = {.detector = vigil_mask_detectors[d]};
                char tag[64];
                vigil_mask_set *set = NULL;
                size_t used = 0;

                assert_int_equal(vigil_mask_set_new(&r, 1, &set, NULL), 0);
                snprintf(tag, sizeof(tag), "[MASKED:%s]", vigil_mask_detectors[d]);
                for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
                        vigil_mask_stream *s = NULL;
                        char *out;

                        if (!strstr(hits[i].want, tag))
                                continue;
                        used++;
                        out = mask_text(set, hits[i].in, strlen(hits[i].in), 0, &s);
                        if (strcmp(out, hits[i].want) != 0)
                                fail_msg("%s alone: '%s' gave '%s'", vigil_mask_detectors[d], hits[i].in,
                                         out);
                        assert_true(vigil_mask_stream_count(s, 0) >= 1);
                        free(out);
                        vigil_mask_stream_free(s);
                }
                if (used == 0)
                        fail_msg("no hit row for detector %s", vigil_mask_detectors[d]);
                vigil_mask_set_free(set);
        }
}

/* The policy's list of detector names and the masker's table agree. */
static void test_names_match_policy(void **state)
{
        (void)state;
        size_t n = 0;

        for (; vigil_mask_detectors[n]; n++) {
                assert_non_null(mask_detector_find(vigil_mask_detectors[n]));
                assert_string_equal(mask_detectors[n].name, vigil_mask_detectors[n]);
        }
        assert_int_equal(n, mask_n_detectors);
}

static void test_validators(void **state)
{
        (void)state;
        assert_int_equal(mask_validate_luhn("4111111111111111", 16), 16);
        assert_int_equal(mask_validate_luhn("4111111111111112", 16), 0);
        assert_int_equal(mask_validate_luhn("4111 1111 1111 1111 12", 22), 19);
        assert_int_equal(mask_validate_luhn("411111111111", 12), 0); /* too short */
        assert_int_equal(mask_validate_iban("GB82WEST12345698765432", 22), 22);
        assert_int_equal(mask_validate_iban("GB82WEST12345698765433", 22), 0);
        assert_int_equal(mask_validate_iban("DE89 3704 0044 0532 0130 00 X1", 30), 27);
        assert_int_equal(mask_validate_iban("DE8937040044", 12), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hits),
                cmocka_unit_test(test_visible),
                cmocka_unit_test(test_known_false_positives),
                cmocka_unit_test(test_detector_alone),
                cmocka_unit_test(test_names_match_policy),
                cmocka_unit_test(test_validators),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
