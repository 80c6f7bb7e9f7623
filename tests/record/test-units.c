/* Unit tests for the recording's wiring: which session commands are file
 * transfers (their terminal copy is never masked), and sessions recorded
 * under the id the supervisor gave them. */
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

#include "store.h"
#include "sup.h"

static void test_transfer_command(void **state)
{
        static const struct {
                const char *argv[8];
                bool want;
        } cases[] = {
                { { "scp", "-t", "/tmp", NULL }, true },
                { { "/usr/bin/scp", "-v", "-r", "-d", "-t", "--", "dir", NULL }, true },
                { { "scp", "-pt", "/tmp", NULL }, true },
                { { "scp", "-f", "a.txt", NULL }, true },
                { { "scp", "-r", "a", "host:b", NULL }, false },
                { { "scp", "-P", "22", "a", "host:b", NULL }, false },
                { { "scp", "--", "-t", NULL }, false },
                { { "/usr/lib/openssh/sftp-server", NULL }, true },
                { { "internal-sftp", NULL }, true },
                { { "rsync", "--server", "--sender", "-vlogDtpre.iLsfxC", ".", "x", NULL }, true },
                { { "rsync", "-a", "x", "y", NULL }, false },
                { { "/bin/bash", "-c", "scp -t /tmp", NULL }, true },
                { { "/bin/bash", "-c", "/usr/lib/openssh/sftp-server", NULL }, true },
                { { "/bin/sh", "-c", "rsync --server -e.Lsfx . /x", NULL }, true },
                { { "/bin/bash", "-c", "echo scp -t", NULL }, false },
                { { "/bin/bash", "-c", "scp -t /tmp", "extra", NULL }, false },
                { { "bash", "-l", NULL }, false },
                { { "ls", NULL }, false },
                { { "sftp-serverx", NULL }, false },
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                bool got = transfer_command((char *const *)cases[i].argv);

                if (got != cases[i].want)
                        fail_msg("case %zu (%s %s %s): %d, expected %d", i, cases[i].argv[0],
                                 cases[i].argv[1] ? cases[i].argv[1] : "",
                                 cases[i].argv[1] && cases[i].argv[2] ? cases[i].argv[2] : "", got,
                                 cases[i].want);
        }
        assert_false(transfer_command(NULL));
}

static void test_id_parse(void **state)
{
        uint8_t id[VIGIL_SESSION_ID_LEN] = { 0 },
                want[VIGIL_SESSION_ID_LEN] = { 0x01, 0x8f, 0x2a, 0x3b, 0x4c, 0x5d, 0x7e, 0x6f,
                                               0x80, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7 };
        char text[VIGIL_SESSION_ID_STRLEN + 1];

        (void)state;
        assert_int_equal(vigil_session_id_parse("018f2a3b-4c5d-7e6f-8091-a2b3c4d5e6f7", id), 0);
        assert_memory_equal(id, want, sizeof(id));
        assert_int_equal(vigil_session_id_parse("018F2A3B-4C5D-7E6F-8091-A2B3C4D5E6F7", id), 0);
        assert_memory_equal(id, want, sizeof(id));
        vigil_session_id_format(want, text);
        assert_string_equal(text, "018f2a3b-4c5d-7e6f-8091-a2b3c4d5e6f7");
        memset(id, 0x55, sizeof(id));
        assert_int_equal(vigil_session_id_parse("018f2a3b4c5d7e6f8091a2b3c4d5e6f7", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse("018f2a3b-4c5d-7e6f-8091-a2b3c4d5e6f", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse("018f2a3b-4c5d-7e6f-8091-a2b3c4d5e6f77", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse("018f2a3b-4c5d-7e6f-8091-a2b3c4d5e6fg", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse("018f2a3b-4c5d-7e6f-8091+a2b3c4d5e6f7", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse("", id), -EINVAL);
        assert_int_equal(vigil_session_id_parse(NULL, id), -EINVAL);
        for (size_t i = 0; i < sizeof(id); i++)
                assert_int_equal(id[i], 0x55); /* untouched on failure */
}

/* A UUIDv7 text for a time @ms. */
static void id_at(uint64_t ms, uint8_t ret[VIGIL_SESSION_ID_LEN])
{
        memset(ret, 0x5a, VIGIL_SESSION_ID_LEN);
        for (int i = 0; i < 6; i++)
                ret[i] = (uint8_t)(ms >> (40 - 8 * i));
        ret[6] = 0x70 | (ret[6] & 0x0f);
        ret[8] = 0x80 | (ret[8] & 0x3f);
}

static void test_begin_with_id(void **state)
{
        char dir[] = "/tmp/vigil-record-unit.XXXXXX", store[128], key[128], cmd[300];
        vigil_store_options o = { .dir = store, .key_path = key, .flags = VIGIL_STORE_CREATE };
        vigil_record_opts opts = { .output = true };
        uint64_t now = vigil_now_us();
        uint8_t id[VIGIL_SESSION_ID_LEN], bad[VIGIL_SESSION_ID_LEN], found[VIGIL_SESSION_ID_LEN];
        vigil_session_meta meta = { .user = "alice", .uid = 1000, .start_us = now, .id = id };
        vigil_session_info info = { 0 };
        vigil_session *s = NULL, *s2 = NULL;
        vigil_store *st = NULL;
        char text[VIGIL_SESSION_ID_STRLEN + 1];

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(store, sizeof(store), "%s/store", dir);
        snprintf(key, sizeof(key), "%s/host.key", dir);
        assert_int_equal(vigil_store_open(&o, &st), 0);

        id_at(now / 1000 - 5, id);
        assert_int_equal(vigil_session_begin(st, &meta, &opts, &s), 0);
        assert_memory_equal(vigil_session_id(s), id, sizeof(id));
        assert_int_equal(vigil_session_output(s, 0, "hi\n", 3), 0);
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), 0);
        s = vigil_session_free(s);
        vigil_session_id_format(id, text);
        assert_int_equal(vigil_store_find_session(st, text, found), 0);
        assert_memory_equal(found, id, sizeof(id));
        assert_int_equal(vigil_session_info_get(st, id, &info), 0);
        assert_true(info.sealed);
        vigil_session_info_clear(&info);

        /* the same id again: refused, nothing written */
        assert_true(vigil_session_begin(st, &meta, &opts, &s2) < 0);
        assert_null(s2);
        /* not a UUIDv7, or later than the start: refused */
        id_at(now / 1000, bad);
        bad[6] = 0x40 | (bad[6] & 0x0f);
        meta.id = bad;
        assert_int_equal(vigil_session_begin(st, &meta, &opts, &s2), -EINVAL);
        id_at(now / 1000 + 60000, bad);
        assert_int_equal(vigil_session_begin(st, &meta, &opts, &s2), -EINVAL);
        /* without an id: a new one */
        meta.id = NULL;
        assert_int_equal(vigil_session_begin(st, &meta, &opts, &s2), 0);
        assert_memory_not_equal(vigil_session_id(s2), id, sizeof(id));
        assert_int_equal(vigil_session_end(s2, 0, 0, VIGIL_END_EXIT), 0);
        vigil_session_free(s2);
        vigil_store_close(st);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_transfer_command),
                cmocka_unit_test(test_id_parse),
                cmocka_unit_test(test_begin_with_id),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
