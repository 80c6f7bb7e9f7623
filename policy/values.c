/* Option values: durations, sizes, approver lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parser.h"
#include "vigil-error.h"

/* "90s", "10m", "1h": digits and exactly one unit. */
int parse_duration_ms(const char *s, uint64_t *ret)
{
        uint64_t n = 0, unit;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (n > UINT32_MAX)
                        return -ERANGE;
                n = n * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
                return -EINVAL;
        switch (s[i]) {
        case 's':
                unit = 1000;
                break;
        case 'm':
                unit = 60 * 1000;
                break;
        case 'h':
                unit = 60 * 60 * 1000;
                break;
        default:
                return -EINVAL;
        }
        if (n > UINT32_MAX)
                return -ERANGE;
        *ret = n * unit;
        return 0;
}

/* "0", "4096", "64K", "100M", "2G" (powers of 1024). */
int parse_size(const char *s, uint64_t *ret)
{
        uint64_t n = 0, mult = 1;
        size_t i = 0;

        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                uint64_t digit = (uint64_t)(s[i] - '0');

                if (n > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                n = n * 10 + digit;
        }
        if (i == 0)
                return -EINVAL;
        if (s[i]) {
                switch (s[i]) {
                case 'K':
                case 'k':
                        mult = 1024;
                        break;
                case 'M':
                case 'm':
                        mult = 1024 * 1024;
                        break;
                case 'G':
                case 'g':
                        mult = 1024 * 1024 * 1024;
                        break;
                default:
                        return -EINVAL;
                }
                if (s[i + 1])
                        return -EINVAL;
        }
        if (n > UINT64_MAX / mult)
                return -ERANGE;
        *ret = n * mult;
        return 0;
}

/* "group:G,user:U,local:NAME" */
bool approvers_valid(const char *s)
{
        static const char *const kinds[] = { "group:", "user:", "local:" };

        for (;;) {
                const char *end = strchrnul(s, ',');
                bool ok = false;

                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        size_t kl = strlen(kinds[k]);

                        if ((size_t)(end - s) > kl && strncmp(s, kinds[k], kl) == 0)
                                ok = true;
                }
                if (!ok)
                        return false;
                if (!*end)
                        return true;
                s = end + 1;
        }
}
