/* Telling binary data from text, for pipe mode: a transfer (scp, sftp,
 * rsync, a tarball on stdout) must pass unchanged, since replacing bytes
 * would corrupt it. */
#include <string.h>

#include "mask-internal.h"

#define SAMPLE 4096u

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
        size_t need;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                need = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                need = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                need = 4;
        else
                return 0;
        if (n < need)
                return n == 0 ? 0 : need; /* cut at the sample's end: give it the benefit */
        for (size_t i = 1; i < need; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        return need;
}

static bool odd_control(unsigned char c)
{
        if (c == 0x7f)
                return true;
        if (c >= 0x20)
                return false;
        /* \a \b \t \n \v \f \r and ESC are what text on a terminal uses. */
        return !((c >= 0x07 && c <= 0x0d) || c == 0x1b);
}

bool vigil_mask_looks_binary(const void *data, size_t len)
{
        const unsigned char *p = data;
        size_t n = len < SAMPLE ? len : SAMPLE, odd = 0;

        if (!data || len == 0)
                return false;
        if (memchr(p, 0, len))
                return true;
        for (size_t i = 0; i < n;) {
                size_t k = utf8_len(p + i, n - i);

                if (k == 0) {
                        odd++;
                        i++;
                        continue;
                }
                if (k == 1 && odd_control(p[i]))
                        odd++;
                i += k;
        }
        return odd * 10 > n;
}
