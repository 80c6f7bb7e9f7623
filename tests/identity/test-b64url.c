/* The strict base64url decoder every token part goes through: its alphabet
 * table, checked against the RFC 4648 section 5 alphabet for all 256 bytes,
 * and the round trip of every 0-3 byte tail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"
#include "forge.h"
#include "vigil-error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void every_byte(void **state)
{
        (void)state;
        for (int c = 0; c < 256; c++) {
                /* "AA" + c + "A": three bytes whose middle bits come from c. */
                char in[4] = { 'A', 'A', (char)c, 'A' };
                const char *pos = c ? memchr(alphabet, c, 64) : NULL;
                unsigned char *out = NULL;
                size_t n = 0;
                int r = b64url_decode(in, 4, &out, &n);

                if (!pos) {
                        assert_int_equal(r, VIGIL_E_PARSE);
                        assert_null(out);
                        continue;
                }
                assert_int_equal(r, 0);
                assert_int_equal(n, 3);
                /* value v = pos - alphabet sits in bits 11..6 of the 24. */
                assert_int_equal(((out[1] & 0x0f) << 2) | (out[2] >> 6), pos - alphabet);
                free(out);
        }
}

static void round_trip(void **state)
{
        unsigned char data[64];
        (void)state;

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (unsigned char)(i * 37 + 11);
        for (size_t len = 0; len <= sizeof data; len++) {
                char *b = forge_b64url(data, len);
                unsigned char *out = NULL;
                size_t n = 0;

                assert_int_equal(b64url_decode(b, strlen(b), &out, &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(out, data, len);
                free(out);
                free(b);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_byte),
                cmocka_unit_test(round_trip),
        };

        return cmocka_run_group_tests_name("identity-b64url", tests, NULL, NULL);
}
