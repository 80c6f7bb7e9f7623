/* Post-match checks. A regex finds "13-19 digits" or "two letters, two
 * digits, alphanumerics"; these decide whether it is a card number (Luhn) or
 * an IBAN (ISO 13616 mod 97), so that ordinary numbers stay visible.
 *
 * A match may run on into a neighbouring group ("4111 1111 1111 1111 123",
 * "DE89 3704 0044 0532 0130 00 EUR"), so each check is tried on the whole
 * match and then on every shorter prefix that ends where a separator
 * follows, longest first. */
#include <stdbool.h>

#include "mask-internal.h"

static bool is_sep(char c)
{
        return c == ' ' || c == '-';
}

static bool luhn_ok(const char *s, size_t len)
{
        unsigned digits = 0, sum = 0;
        bool dbl = false;

        for (size_t i = len; i-- > 0;) {
                unsigned d;

                if (is_sep(s[i]))
                        continue;
                if (s[i] < '0' || s[i] > '9')
                        return false;
                d = (unsigned)(s[i] - '0');
                if (dbl) {
                        d *= 2;
                        if (d > 9)
                                d -= 9;
                }
                sum += d;
                dbl = !dbl;
                digits++;
        }
        return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

static bool iban_ok(const char *s, size_t len)
{
        char c[40];
        size_t n = 0;
        unsigned rem = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == ' ')
                        continue;
                if (n == sizeof(c))
                        return false;
                c[n++] = s[i];
        }
        if (n < 15 || n > 34)
                return false;
        /* Move country code and check digits to the end, letters count A=10..Z=35,
         * and the whole number mod 97 must be 1. Computed digit by digit. */
        for (size_t k = 0; k < n; k++) {
                char ch = c[(k + 4) % n];

                if (ch >= '0' && ch <= '9')
                        rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
                else if (ch >= 'A' && ch <= 'Z')
                        rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
                else
                        return false;
        }
        return rem == 1;
}

static size_t longest_valid(const char *s, size_t len, bool (*ok)(const char *, size_t))
{
        if (ok(s, len))
                return len;
        for (size_t k = len; k-- > 1;)
                if (is_sep(s[k]) && !is_sep(s[k - 1]) && ok(s, k))
                        return k;
        return 0;
}

size_t mask_validate_luhn(const char *s, size_t len)
{
        return longest_valid(s, len, luhn_ok);
}

size_t mask_validate_iban(const char *s, size_t len)
{
        return longest_valid(s, len, iban_ok);
}
