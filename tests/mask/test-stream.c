/* Streaming: splits, slow drip, holds and their bounds, prompts, flush,
 * escape sequences, counts, replace= groups, echo, binary data, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "vigil-error.h"

#define M(name) "[MASKED:" name "]"

/* Every detector's secret once, with text around. */
static const char sample[] =
        "total 4 items\r\n"
        "card \033[31m4111 1111 1111 1111\033[0m ok\r\n"
        "AKIAIOSFODNN7EXAMPLE aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\r\n"
        "-----BEGIN RSA PRIVATE "
        "KEY-----\r\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\r\n"
        "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\r\n-----END RSA PRIVATE KEY-----\r\n"
        "Bearer "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\r\n"
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789 xoxb-1234567890-abcdefghij ssn 123-45-6789\r\n"
        "mail \033[1mjohn.doe@example.com\033[0m iban DE89 3704 0044 0532 0130 00\r\n"
        "DB_PASSWORD=hunter2 {\"token\": \"abc def\"}\r\n"
        "Enter password: ";

static const char sample_masked[] =
        "total 4 items\r\n"
        "card \033[31m" M("credit-card") "\033[0m ok\r\n" M("aws-access-key") " aws_secret_access_key = " M("aws-secret-key") "\r\n" M(
                "private-key") "\r\n"
                               "Bearer " M("jwt") "\r\n" M("github-token") " " M("slack-token") " ssn " M(
                                       "ssn-us") "\r\n"
                                                 "mail \033[1m" M("email") "\033[0m iban " M(
                                                         "iban") "\r\n"
                                                                 "DB_PASSWORD=" M(
                                                                         "password-assignment") " {"
                                                                                                "\"token\": "
                                                                                                "\"" M("pass"
                                                                                                       "word"
                                                                                                       "-ass"
                                                                                                       "ignm"
                                                                                                       "ent") "\"}\r\n"
                                                                                                              "Enter password: ";

/* The secrets' own text, none of which may ever be released. */
static const char *const secret_parts[] = {
        "4111",    "IOSFODNN7", "wJalrXUtnFEMI", "MIIBOgIBAAJB", "KUpRKfFL", "dozjgNryP4J3", "eyJzdWIi",
        "ghp_abc", "xoxb-",     "123-45",        "john.doe",     "DE89",     "hunter2",      "abc def",
};

static void check_no_secret(const char *out, size_t len)
{
        for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++) {
                size_t k = strlen(secret_parts[i]);

                for (size_t j = 0; j + k <= len; j++)
                        if (memcmp(out + j, secret_parts[i], k) == 0)
                                fail_msg("'%s' released: '%.*s'", secret_parts[i], (int)len, out);
        }
}

static void test_whole(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        char *out = mask_text(set, sample, strlen(sample), 0, &s);

        assert_string_equal(out, sample_masked);
        /* one count per masked secret, two for password-assignment */
        for (size_t i = 0; i < vigil_mask_set_n_rules(set); i++) {
                const char *name = vigil_mask_set_rule_name(set, i);

                assert_int_equal(vigil_mask_stream_count(s, i),
                                 strcmp(name, "password-assignment") == 0 ? 2 : 1);
        }
        assert_int_equal(vigil_mask_stream_count(s, 99), 0);
        assert_null(vigil_mask_set_rule_name(set, 99));
        free(out);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

/* Two feeds split at every byte position; and three feeds around each secret. */
static void test_every_split(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        size_t n = strlen(sample);

        for (size_t k = 0; k <= n; k++) {
                vigil_mask_stream *s = NULL;
                vigil_mask_buf rec = {0};

                assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
                assert_int_equal(vigil_mask_stream_feed(s, sample, k, &rec, NULL), 0);
                check_no_secret(rec.data, rec.len);
                assert_int_equal(vigil_mask_stream_feed(s, sample + k, n - k, &rec, NULL), 0);
                assert_int_equal(vigil_mask_stream_flush(s, &rec, NULL), 0);
                if (rec.len != strlen(sample_masked) || memcmp(rec.data, sample_masked, rec.len) != 0)
                        fail_msg("split at %zu: '%.*s'", k, (int)rec.len, rec.data);
                vigil_mask_buf_done(&rec);
                vigil_mask_stream_free(s);
        }
        for (size_t k = 1; k < n; k += 7)
                for (size_t j = k; j <= n; j += 13) {
                        vigil_mask_stream *s = NULL;
                        vigil_mask_buf rec = {0};

                        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
                        assert_int_equal(vigil_mask_stream_feed(s, sample, k, &rec, NULL), 0);
                        assert_int_equal(vigil_mask_stream_feed(s, sample + k, j - k, &rec, NULL), 0);
                        check_no_secret(rec.data, rec.len);
                        assert_int_equal(vigil_mask_stream_feed(s, sample + j, n - j, &rec, NULL), 0);
                        assert_int_equal(vigil_mask_stream_flush(s, &rec, NULL), 0);
                        if (rec.len != strlen(sample_masked) ||
                            memcmp(rec.data, sample_masked, rec.len) != 0)
                                fail_msg("split at %zu and %zu: '%.*s'", k, j, (int)rec.len, rec.data);
                        vigil_mask_buf_done(&rec);
                        vigil_mask_stream_free(s);
                }
        vigil_mask_set_free(set);
}

/* One byte per feed (pv -L 1): no secret byte ever goes out early. */
static void test_one_byte_at_a_time(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0};
        size_t n = strlen(sample);

        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(vigil_mask_stream_feed(s, sample + i, 1, &rec, NULL), 0);
                check_no_secret(rec.data, rec.len);
        }
        /* The prompt at the end is out before any flush. */
        assert_int_equal(vigil_mask_stream_held(s), 0);
        assert_int_equal(vigil_mask_stream_flush(s, &rec, NULL), 0);
        assert_int_equal(rec.len, strlen(sample_masked));
        assert_memory_equal(rec.data, sample_masked, rec.len);
        vigil_mask_buf_done(&rec);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

/* A PEM key written line by line and in odd-sized pieces: held while it
 * comes, never released in part, masked whole. */
static void test_pem_many_writes(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        char key[8192];
        size_t n = 0;

        n += (size_t)sprintf(key + n, "$ cat id_rsa\r\n-----BEGIN OPENSSH PRIVATE KEY-----\r\n");
        for (int i = 0; i < 40; i++)
                n += (size_t)sprintf(
                        key + n,
                        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAlwAAAAdzc2gtcn%02d\r\n", i);
        n += (size_t)sprintf(key + n, "-----END OPENSSH PRIVATE KEY-----\r\n$ ");
        for (size_t chunk = 1; chunk < 200; chunk += 17) {
                vigil_mask_stream *s = NULL;
                vigil_mask_buf rec = {0};
                size_t max_held = 0;

                assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
                for (size_t off = 0; off < n; off += chunk) {
                        size_t m = chunk < n - off ? chunk : n - off;

                        assert_int_equal(vigil_mask_stream_feed(s, key + off, m, &rec, NULL), 0);
                        assert_null(memmem(rec.data ?: "", rec.len, "b3Blbn", 6));
                        if (vigil_mask_stream_held(s) > max_held)
                                max_held = vigil_mask_stream_held(s);
                }
                /* the whole block was held until the feed with its END line */
                if (max_held + chunk < 40 * 74)
                        fail_msg("chunk %zu: at most %zu bytes held", chunk, max_held);
                assert_int_equal(vigil_mask_stream_held(s), 0);
                assert_int_equal(rec.len, strlen("$ cat id_rsa\r\n" M("private-key") "\r\n$ "));
                assert_memory_equal(rec.data, "$ cat id_rsa\r\n" M("private-key") "\r\n$ ", rec.len);
                vigil_mask_buf_done(&rec);
                vigil_mask_stream_free(s);
        }
        vigil_mask_set_free(set);
}

/* Text a mask leaves visible is not held: prompts appear at once. */
static void test_prompts_released(void **state)
{
        (void)state;
        static const char *const prompts[] = {
                "Enter password: ",
                "Password:",
                "[sudo] password for alice: ",
                "login: ",
                "$ ",
                "user@host:~$ ",
                "root@web1:/etc# ",
                "mysql> ",
                "Card number: ",
                "token = ",
                "Passphrase for key: ",
                ">>> ",
                "Continue? [y/N] ",
                "\033[1;32muser@host\033[0m:\033[1;34m~\033[0m$ ",
        };
        vigil_mask_set *set = all_detectors();

        for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
                vigil_mask_stream *s = NULL;
                vigil_mask_buf rec = {0};

                assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
                assert_int_equal(vigil_mask_stream_feed(s, prompts[i], strlen(prompts[i]), &rec, NULL), 0);
                if (vigil_mask_stream_held(s) != 0)
                        fail_msg("prompt '%s': %zu bytes held", prompts[i], vigil_mask_stream_held(s));
                assert_int_equal(rec.len, strlen(prompts[i]));
                /* and the value typed after it is still masked */
                if (strstr(prompts[i], "password: ") || strstr(prompts[i], "token = ")) {
                        assert_int_equal(vigil_mask_stream_feed(s, "hunter2\r\n", 9, &rec, NULL), 0);
                        assert_null(memmem(rec.data, rec.len, "hunter2", 7));
                }
                vigil_mask_buf_done(&rec);
                vigil_mask_stream_free(s);
        }
        vigil_mask_set_free(set);
}

/* What could still become a secret is held, and only that. */
static void test_held(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0};

        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
        assert_int_equal(vigil_mask_stream_feed(s, "card: 4111 1111", 15, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 9);
        assert_int_equal(rec.len, 6);
        assert_int_equal(vigil_mask_stream_feed(s, " 1111 111", 9, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 18);
        assert_int_equal(vigil_mask_stream_feed(s, "1\n", 2, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 0);
        assert_int_equal(rec.len, strlen("card: " M("credit-card") "\n"));
        /* a number that turns out not to be a card is released as it was */
        rec.len = 0;
        assert_int_equal(vigil_mask_stream_feed(s, "4111 1111 1111 1112", 19, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 19);
        assert_int_equal(vigil_mask_stream_feed(s, "\n", 1, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 0);
        assert_int_equal(rec.len, 20);
        assert_memory_equal(rec.data, "4111 1111 1111 1112\n", 20);
        /* "1112." could still start an e-mail address: held until it cannot */
        rec.len = 0;
        assert_int_equal(vigil_mask_stream_feed(s, "1112.", 5, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 5);
        assert_int_equal(vigil_mask_stream_feed(s, " ", 1, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 0);
        assert_int_equal(rec.len, 6);
        /* flush decides what is held: the end of the stream ends the match */
        rec.len = 0;
        assert_int_equal(vigil_mask_stream_feed(s, "x 4111111111111111", 18, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_held(s), 16);
        assert_int_equal(vigil_mask_stream_flush(s, &rec, NULL), 0);
        assert_int_equal(rec.len, strlen("x " M("credit-card")));
        assert_memory_equal(rec.data, "x " M("credit-card"), rec.len);
        assert_int_equal(vigil_mask_stream_count(s, 0), 2);
        vigil_mask_buf_done(&rec);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

/* Holds are bounded: a regex= rule whose match could go on forever is
 * decided at VIGIL_MASK_MAX_HOLD; a private key longer than the PEM bound is
 * masked up to the bound. */
static void test_hold_bounds(void **state)
{
        (void)state;
        vigil_mask_set *set = one_regex("BEGIN[^!]*END", NULL), *all = all_detectors();
        size_t n = 200 * 1024;
        char *in = malloc(n), *out;
        vigil_mask_stream *s = NULL;

        assert_non_null(in);
        memcpy(in, "BEGIN", 5);
        memset(in + 5, 'x', n - 5);
        out = mask_text(set, in, n, 4096, &s); /* asserts held <= bound after each feed */
        assert_int_equal(strlen(out), n);      /* no END: all of it released unchanged */
        assert_memory_equal(out, in, n);
        free(out);
        vigil_mask_stream_free(s);

        /* a PEM body of 24 KiB: the first 16 KiB are masked */
        {
                size_t k = 0;

                k += (size_t)sprintf(in + k, "-----BEGIN RSA PRIVATE KEY-----\n");
                while (k < 24 * 1024)
                        k += (size_t)sprintf(
                                in + k,
                                "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n");
                k += (size_t)sprintf(in + k, "-----END RSA PRIVATE KEY-----\n");
                out = mask_text(all, in, k, 1000, NULL);
                assert_memory_equal(out, M("private-key"), strlen(M("private-key")));
                assert_true(strlen(out) < k - VIGIL_MASK_MAX_PEM + 200);
                free(out);
        }
        free(in);
        vigil_mask_set_free(set);
        vigil_mask_set_free(all);
}

static void test_replace_groups(void **state)
{
        (void)state;
        vigil_mask_set *set = one_regex("(?<key>api_key)=([A-Za-z0-9]{8,})", "${key}=****");
        char *out = mask_str(set, "x api_key=abcdef123456 y");

        assert_string_equal(out, "x api_key=**** y");
        free(out);
        vigil_mask_set_free(set);

        set = one_regex("(\\d{4})-(\\d{4})-(\\d{4})", "$1-XXXX-$3 ($$)");
        out = mask_text(set, "id 1234-5678-9012.", 18, 1, NULL);
        assert_string_equal(out, "id 1234-XXXX-9012 ($).");
        free(out);
        vigil_mask_set_free(set);

        /* default text for a regex rule; ^ and $ are line anchors */
        set = one_regex("^secret .*$", NULL);
        out = mask_str(set, "a secret b\nsecret stuff\nno\n");
        assert_string_equal(out, "a secret b\n[MASKED:regex]\nno\n");
        free(out);
        vigil_mask_set_free(set);
}

/* Colour codes at a secret's ends, inside it, and split across feeds. */
static void test_escapes(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        static const struct {
                const char *in, *want;
        } rows[] = {
                {"\033[31m4111 1111 1111 1111\033[0m", "\033[31m" M("credit-card") "\033[0m"},
                {"\033[2KAKIAIOSFODNN7EXAMPLE", "\033[2K" M("aws-access-key")},
                {"4111 \033[1m1111\033[0m 1111 1111!", M("credit-card") "\033[1m\033[0m!"},
                {"\033[1;34m\"password\"\033[0m: \033[0;32m\"hunter2\"\033[0m",
                 "\033[1;34m\"password\"\033[0m: \033[0;32m\"" M("password-assignment") "\"\033[0m"},
                {"\033]0;token=abc123\a$ ", "\033]0;token=" M("password-assignment") "\a$ "},
                {"\033[38;5;208mbob@example.com\033[m", "\033[38;5;208m" M("email") "\033[m"},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                for (size_t chunk = 0; chunk < 6; chunk++) {
                        char *out = mask_text(set, rows[i].in, strlen(rows[i].in), chunk, NULL);

                        if (strcmp(out, rows[i].want) != 0)
                                fail_msg("chunk %zu: '%s' gave '%s'", chunk, rows[i].in, out);
                        free(out);
                }
        vigil_mask_set_free(set);
}

/* A control string's ends keep its text apart from the screen's text around
 * it, and a replacement never leaves half of an escape sequence behind. */
static void test_control_strings(void **state)
{
        (void)state;
        vigil_mask_set *all = all_detectors(), *across = one_regex("A[^Z]*Z", NULL),
                       *from = one_regex("\\n0;t", NULL), *only = one_regex("\\n", NULL);
        static const struct {
                int set; /* 0: every detector, 1: A[^Z]*Z, 2: \n0;t, 3: \n */
                const char *in, *want;
        } rows[] = {
                /* the title's "0" is not a 17th digit of the card before it (found by fuzz-mask) */
                {0, " 5787696198604749 \033]0;title\a\n", " " M("credit-card") " \033]0;title\a\n"},
                {0, "5787696198604749\033]0;t\a", M("credit-card") "\033]0;t\a"},
                {0, "\033]0;t\033\\5787696198604749", "\033]0;t\033\\" M("credit-card")},
                {0, "4111 1111\033P1111 1111\033\\", "4111 1111\033P1111 1111\033\\"},
                /* a match across the introducer: no ESC left alone before what follows */
                {1, "xA\033]0;tZy", "x[MASKED:regex]y"},
                /* a match from the introducer on: the introducer stays whole */
                {2, "a\033]0;tb", "a\033][MASKED:regex]b"},
                /* the break alone: the terminal's copy gets the replacement too (mask_text()) */
                {3, "a\033]0;tb", "a\033][MASKED:regex]0;tb"},
        };
        const vigil_mask_set *sets[] = {all, across, from, only};

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                for (size_t chunk = 0; chunk < 6; chunk++) {
                        char *out = mask_text(sets[rows[i].set], rows[i].in, strlen(rows[i].in), chunk, NULL);

                        if (strcmp(out, rows[i].want) != 0)
                                fail_msg("chunk %zu: '%s' gave '%s'", chunk, rows[i].in, out);
                        free(out);
                }
        vigil_mask_set_free(all);
        vigil_mask_set_free(across);
        vigil_mask_set_free(from);
        vigil_mask_set_free(only);
}

/* The echo of the user's keystrokes goes to the terminal at once; the
 * recording stays masked. */
static void test_echo(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        const char *typed = "4111 1111 1111 1111";

        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
        assert_int_equal(vigil_mask_stream_feed(s, "$ ", 2, &rec, &term), 0);
        assert_int_equal(term.len, 2);
        for (size_t i = 0; typed[i]; i++) {
                term.len = 0;
                vigil_mask_stream_expect_echo(s, typed + i, 1);
                assert_int_equal(vigil_mask_stream_feed(s, typed + i, 1, &rec, &term), 0);
                /* the terminal got the keystroke's echo now ... */
                assert_int_equal(term.len, 1);
                assert_int_equal(term.data[0], typed[i]);
                assert_int_equal(vigil_mask_stream_term_held(s), 0);
        }
        /* ... while the recording holds it */
        assert_int_equal(vigil_mask_stream_held(s), strlen(typed));
        assert_int_equal(rec.len, 2);
        term.len = 0;
        vigil_mask_stream_expect_echo(s, "\r", 1);
        assert_int_equal(vigil_mask_stream_feed(s, "\r\n", 2, &rec, &term), 0);
        assert_int_equal(rec.len, strlen("$ " M("credit-card") "\r\n"));
        assert_memory_equal(rec.data, "$ " M("credit-card") "\r\n", rec.len);
        assert_int_equal(term.len, 2); /* no second copy, no mask text on the terminal */
        assert_memory_equal(term.data, "\r\n", 2);

        /* program output that is not the echo drops the expectation */
        rec.len = term.len = 0;
        vigil_mask_stream_expect_echo(s, "5", 1);
        assert_int_equal(vigil_mask_stream_feed(s, "4111 1111 1111 1111 5", 21, &rec, &term), 0);
        assert_int_equal(term.len, 0);
        assert_int_equal(vigil_mask_stream_feed(s, "\n", 1, &rec, &term), 0);
        assert_int_equal(term.len, rec.len);
        assert_memory_equal(term.data, M("credit-card") " 5\n", term.len);

        /* clear_echo forgets */
        rec.len = term.len = 0;
        vigil_mask_stream_expect_echo(s, "7", 1);
        vigil_mask_stream_clear_echo(s);
        assert_int_equal(vigil_mask_stream_feed(s, "7", 1, &rec, &term), 0);
        assert_int_equal(term.len, 0);
        assert_int_equal(vigil_mask_stream_flush(s, &rec, &term), 0);
        assert_int_equal(term.len, 1);

        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(&term);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

static void test_binary(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        char bin[600];

        assert_false(vigil_mask_looks_binary("", 0));
        assert_false(vigil_mask_looks_binary("hello\r\n\tworld\033[0m\a", 18));
        assert_false(vigil_mask_looks_binary("caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac", 16));
        assert_true(vigil_mask_looks_binary("ab\0cd", 5));
        assert_true(vigil_mask_looks_binary("\x1f\x8b\x08\x08\x01\x02\x03\x04\xff\xfe\x80\x81", 12));
        for (size_t i = 0; i < sizeof(bin); i++)
                bin[i] = (char)(0x80 + (i * 37) % 128);
        memcpy(bin + 100, "4111 1111 1111 1111", 19);
        assert_true(vigil_mask_looks_binary(bin, sizeof(bin)));

        /* a sniffing stream masks text, then passes binary data unchanged */
        assert_int_equal(vigil_mask_stream_new(set, VIGIL_MASK_SNIFF_BINARY, &s), 0);
        assert_int_equal(vigil_mask_stream_feed(s, "card 4111 1111 1111 1111", 24, &rec, &term), 0);
        assert_false(vigil_mask_stream_passthrough(s));
        assert_int_equal(vigil_mask_stream_feed(s, bin, sizeof(bin), &rec, &term), 0);
        assert_true(vigil_mask_stream_passthrough(s));
        assert_int_equal(rec.len, strlen("card " M("credit-card")) + sizeof(bin));
        assert_memory_equal(rec.data + rec.len - sizeof(bin), bin, sizeof(bin));
        assert_int_equal(vigil_mask_stream_feed(s, "4111 1111 1111 1111\n", 20, &rec, &term), 0);
        assert_memory_equal(rec.data + rec.len - 20, "4111 1111 1111 1111\n", 20);
        assert_int_equal(term.len, rec.len);
        vigil_mask_stream_free(s);

        /* a recognised transfer passes unchanged from the start */
        rec.len = term.len = 0;
        assert_int_equal(vigil_mask_stream_new(set, VIGIL_MASK_PASSTHROUGH, &s), 0);
        assert_true(vigil_mask_stream_passthrough(s));
        assert_int_equal(vigil_mask_stream_feed(s, "4111 1111 1111 1111\n", 20, &rec, &term), 0);
        assert_int_equal(rec.len, 20);
        assert_memory_equal(rec.data, "4111 1111 1111 1111\n", 20);
        assert_int_equal(vigil_mask_stream_count(s, 0), 0);
        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(&term);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

static void expect_set_error(const vigil_mask_rule *r, size_t n, int want, const char *msg_part)
{
        vigil_mask_set *set = NULL;
        char *err = NULL;

        assert_int_equal(vigil_mask_set_new(r, n, &set, &err), want);
        assert_null(set);
        if (msg_part) {
                assert_non_null(err);
                if (!strstr(err, msg_part))
                        fail_msg("error '%s' lacks '%s'", err, msg_part);
        }
        free(err);
}

static void test_set_errors(void **state)
{
        (void)state;
        vigil_mask_rule r[VIGIL_MASK_MAX_RULES + 1];
        char big[VIGIL_POLICY_MAX_REGEX + 2];

        r[0] = (vigil_mask_rule){.detector = "credit-cards", .file = "p.conf", .line = 7};
        expect_set_error(r, 1, VIGIL_E_PARSE, "p.conf:7: unknown mask detector 'credit-cards'");
        r[0] = (vigil_mask_rule){.detector = "email", .regex = "x", .file = "p.conf", .line = 8};
        expect_set_error(r, 1, VIGIL_E_PARSE, "p.conf:8:");
        r[0] = (vigil_mask_rule){.file = "p.conf", .line = 8};
        expect_set_error(r, 1, VIGIL_E_PARSE, "exactly one");
        r[0] = (vigil_mask_rule){.regex = "a(b", .file = "p.conf", .line = 9};
        expect_set_error(r, 1, VIGIL_E_PARSE,
                         "p.conf:9: mask regex 'a(b': missing closing parenthesis at offset 3");
        r[0] = (vigil_mask_rule){.regex = "(a)", .replace = "$2", .file = "p.conf", .line = 10};
        expect_set_error(r, 1, VIGIL_E_PARSE, "p.conf:10: replace= text: reference to a group");
        r[0] = (vigil_mask_rule){.regex = "(a)", .replace = "${nope}", .file = "p.conf", .line = 10};
        expect_set_error(r, 1, VIGIL_E_PARSE, "group name");
        r[0] = (vigil_mask_rule){.regex = "(a)", .replace = "cost $", .file = "p.conf", .line = 10};
        expect_set_error(r, 1, VIGIL_E_PARSE, "$$");
        r[0] = (vigil_mask_rule){.regex = "(a)", .replace = "${1", .file = "p.conf", .line = 10};
        expect_set_error(r, 1, VIGIL_E_PARSE, "missing '}'");
        r[0] = (vigil_mask_rule){.regex = "(?<=a{300})b", .file = "p.conf", .line = 11};
        expect_set_error(r, 1, VIGIL_E_TOO_BIG, "looks back");
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        r[0] = (vigil_mask_rule){.regex = big, .file = "p.conf", .line = 12};
        expect_set_error(r, 1, VIGIL_E_TOO_BIG, "longer than");
        for (size_t i = 0; i <= VIGIL_MASK_MAX_RULES; i++)
                r[i] = (vigil_mask_rule){.detector = "email"};
        expect_set_error(r, VIGIL_MASK_MAX_RULES + 1, VIGIL_E_TOO_BIG, "more than");
        expect_set_error(NULL, 1, -EINVAL, NULL);

        /* valid replace forms */
        {
                vigil_mask_set *set = NULL;

                r[0] = (vigil_mask_rule){.regex = "(?<n>a)(b)", .replace = "$$ $1 ${2} $n ${n} ${*MARK} $0"};
                assert_int_equal(vigil_mask_set_new(r, 1, &set, NULL), 0);
                vigil_mask_set_free(set);
                /* no rules: nothing is masked */
                assert_int_equal(vigil_mask_set_new(NULL, 0, &set, NULL), 0);
                {
                        char *out = mask_str(set, "4111 1111 1111 1111");

                        assert_string_equal(out, "4111 1111 1111 1111");
                        free(out);
                }
                vigil_mask_set_free(set);
        }
}

/* A regex= rule that backtracks without end fails closed. */
static void test_match_limit(void **state)
{
        (void)state;
        vigil_mask_set *set = one_regex("(a|aa)+$", NULL);
        vigil_mask_stream *s = NULL;
        char in[200];
        char *out;

        memset(in, 'a', sizeof(in) - 2);
        in[sizeof(in) - 2] = 'b';
        in[sizeof(in) - 1] = 0;
        out = mask_text(set, in, strlen(in), 0, &s);
        assert_true(vigil_mask_stream_errors(s) >= 1);
        assert_null(strstr(out, "aaaa"));
        free(out);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
}

static void test_bad_args(void **state)
{
        (void)state;
        vigil_mask_set *set = all_detectors();
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0};

        assert_int_equal(vigil_mask_stream_new(NULL, 0, &s), -EINVAL);
        assert_int_equal(vigil_mask_stream_new(set, 0x100, &s), -EINVAL);
        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
        assert_int_equal(vigil_mask_stream_feed(s, "x", 1, NULL, NULL), -EINVAL);
        assert_int_equal(vigil_mask_stream_feed(s, NULL, 1, &rec, NULL), -EINVAL);
        assert_int_equal(vigil_mask_stream_feed(s, NULL, 0, &rec, NULL), 0);
        assert_int_equal(vigil_mask_stream_flush(s, NULL, NULL), -EINVAL);
        assert_null(vigil_mask_stream_free(s));
        assert_null(vigil_mask_stream_free(NULL));
        assert_null(vigil_mask_set_free(set));
        assert_null(vigil_mask_set_free(NULL));
        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole),
                cmocka_unit_test(test_every_split),
                cmocka_unit_test(test_one_byte_at_a_time),
                cmocka_unit_test(test_pem_many_writes),
                cmocka_unit_test(test_prompts_released),
                cmocka_unit_test(test_held),
                cmocka_unit_test(test_hold_bounds),
                cmocka_unit_test(test_replace_groups),
                cmocka_unit_test(test_escapes),
                cmocka_unit_test(test_control_strings),
                cmocka_unit_test(test_echo),
                cmocka_unit_test(test_binary),
                cmocka_unit_test(test_set_errors),
                cmocka_unit_test(test_match_limit),
                cmocka_unit_test(test_bad_args),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
