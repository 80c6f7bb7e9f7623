#include <stdint.h>
#include <stdlib.h>

#include "b64url.h"
#include "macro.h"
#include "vigil-error.h"

/* 0..63 for the base64url alphabet, 64 for anything else. */
static int8_t value_of(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return (int8_t)(c - 'A');
        if (c >= 'a' && c <= 'z')
                return (int8_t)(c - 'a' + 26);
        if (c >= '0' && c <= '9')
                return (int8_t)(c - '0' + 52);
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return 64;
}

int b64url_decode(const char *in, size_t len, unsigned char **ret, size_t *ret_len)
{
        _cleanup_free_ unsigned char *out = NULL;
        uint32_t acc = 0;
        unsigned bits = 0;
        size_t n = 0;

        if (len % 4 == 1)
                return VIGIL_E_PARSE;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int8_t v = value_of((unsigned char)in[i]);

                if (v == 64)
                        return VIGIL_E_PARSE;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (unsigned char)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        /* Leftover bits (2 or 4) must be zero: otherwise two spellings decode
         * to the same bytes, and a token could be altered without changing
         * what is verified. */
        if (acc != 0)
                return VIGIL_E_PARSE;
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}
