/* identity/libcurl.c: libcurl loaded at the first request. Built twice: with
 * the real soname (the system's libcurl loads, its functions work, a second
 * open finds it loaded) and with a soname that does not exist (one clear
 * reason, nothing half-filled). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "libcurl.h"

static void test_open(void **state)
{
        char err[256] = "";
        vigil_curl a, b;
        CURL *h;
        int r;

        (void)state;
        r = vigil_curl_open(&a, err, sizeof(err));
#ifdef EXPECT_MISSING
        assert_int_equal(r, -ENOPKG);
        assert_non_null(strstr(err, "cannot load " VIGIL_LIBCURL ": "));
        assert_null(strchr(err, '\n'));
        (void)b;
        (void)h;
#else
        assert_int_equal(r, 0);
        assert_non_null(a.dl);
        /* a real handle, a real option, a real error text */
        h = a.easy_init();
        assert_non_null(h);
        assert_int_equal(a.easy_setopt(h, CURLOPT_URL, "https://127.0.0.1:1/"), CURLE_OK);
        assert_int_equal(a.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https"), CURLE_OK);
        a.easy_cleanup(h);
        assert_string_equal(a.easy_strerror(CURLE_OPERATION_TIMEDOUT), "Timeout was reached");
        /* loaded once: the second open finds the same library */
        assert_int_equal(vigil_curl_open(&b, err, sizeof(err)), 0);
        assert_ptr_equal(a.easy_init, b.easy_init);
        vigil_curl_close(&b);
        vigil_curl_close(&a);
        assert_null(a.dl);
        assert_null(a.easy_init);
#endif
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
