/* The file-backed store of used jti values: once only, across processes,
 * expired entries dropped, and a store it cannot trust refuses (fail closed). */
#include <errno.h>
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

#include "forge.h"
#include "identity.h"
#include "testlib.h"
#include "vigil-error.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = calloc(1, 65536);

        assert_non_null(f);
        assert_non_null(buf);
        assert_true(fread(buf, 1, 65535, f) < 65535);
        fclose(f);
        return buf;
}

static void once_only(void **state)
{
        const char *dir = test_tmpdir("jti");
        char sd[2048], file[4096], *text;
        vigil_jti_store *s = NULL;
        struct stat st;
        (void)state;

        snprintf(sd, sizeof sd, "%s/store/identity", dir);
        snprintf(file, sizeof file, "%s/jti", sd);
        assert_int_equal(vigil_jti_store_file_new(sd, &s), 0);
        /* A check on a store that does not exist yet creates nothing. */
        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, true), 0);
        assert_int_equal(stat(sd, &st), -1);

        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, false), 0);
        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, false), VIGIL_E_DENIED);
        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, true), VIGIL_E_DENIED);
        assert_int_equal(s->use(s, K2, TEST_NOW + 50, TEST_NOW, true), 0);
        assert_int_equal(s->use(s, K2, TEST_NOW + 50, TEST_NOW, false), 0);

        /* Root-only, as created. */
        assert_int_equal(stat(sd, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* After K2's expiry it is dropped from the file at the next write. */
        assert_int_equal(s->use(s, "3333333333333333333333333333333333333333333333333333333333333333",
                                TEST_NOW + 500, TEST_NOW + 60, false),
                         0);
        text = read_all(file);
        assert_null(strstr(text, K2));
        assert_non_null(strstr(text, K1));
        free(text);
        assert_int_equal(s->use(s, "not hex", TEST_NOW + 1, TEST_NOW, false), -EINVAL);
        s->free(s);
        test_rm_rf(dir);
}

static void concurrent_processes(void **state)
{
        const char *dir = test_tmpdir("jti-race");
        char sd[4096];
        pid_t pids[8];
        int wins = 0;
        (void)state;

        snprintf(sd, sizeof sd, "%s/identity", dir);
        for (size_t i = 0; i < 8; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        vigil_jti_store *s = NULL;
                        int r;

                        if (vigil_jti_store_file_new(sd, &s) < 0)
                                _exit(3);
                        r = s->use(s, K1, TEST_NOW + 100, TEST_NOW, false);
                        s->free(s);
                        _exit(r == 0 ? 0 : r == VIGIL_E_DENIED ? 1 : 2);
                }
        }
        for (size_t i = 0; i < 8; i++) {
                int status;
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                assert_true(WEXITSTATUS(status) <= 1);
                wins += WEXITSTATUS(status) == 0;
        }
        assert_int_equal(wins, 1);
        test_rm_rf(dir);
}

static void untrusted_store_refuses(void **state)
{
        const char *dir = test_tmpdir("jti-bad");
        char sd[2048], file[4096];
        vigil_jti_store *s = NULL;
        (void)state;

        snprintf(sd, sizeof sd, "%s/identity", dir);
        snprintf(file, sizeof file, "%s/jti", sd);
        assert_int_equal(vigil_jti_store_file_new(sd, &s), 0);
        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, false), 0);

        /* Readable by others: someone may have edited it. */
        assert_int_equal(chmod(file, 0644), 0);
        assert_int_equal(s->use(s, K2, TEST_NOW + 100, TEST_NOW, false), -EPERM);
        assert_int_equal(chmod(file, 0600), 0);

        /* A line that does not parse. */
        forge_write_file(file, "12 zz\n", 0600);
        assert_int_equal(s->use(s, K2, TEST_NOW + 100, TEST_NOW, false), VIGIL_E_CORRUPT);
        forge_write_file(file, "", 0600);
        assert_int_equal(s->use(s, K2, TEST_NOW + 100, TEST_NOW, false), 0);

        /* A directory open to others. */
        assert_int_equal(chmod(sd, 0755), 0);
        assert_int_equal(s->use(s, K1, TEST_NOW + 100, TEST_NOW, false), -EPERM);
        s->free(s);
        test_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(once_only),
                cmocka_unit_test(concurrent_processes),
                cmocka_unit_test(untrusted_store_refuses),
        };

        return cmocka_run_group_tests_name("identity-jti", tests, NULL, NULL);
}
