/* Times and durations as the CLI reads and writes them. */
#define _GNU_SOURCE
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "store-internal.h"

int vigil_parse_duration(const char *s, uint64_t *ret_us)
{
        double total = 0;
        bool any = false;

        if (!s || !*s)
                return VIGIL_E_PARSE;
        while (*s) {
                char *end;
                double v, mult;

                if (!isdigit((unsigned char)*s) && *s != '.')
                        return VIGIL_E_PARSE;
                v = strtod(s, &end);
                if (end == s || v < 0)
                        return VIGIL_E_PARSE;
                s = end;
                switch (*s) {
                case 0:
                        mult = any ? -1 : 1; /* "1h30" is ambiguous */
                        break;
                case 's':
                        mult = 1;
                        break;
                case 'm':
                        mult = 60;
                        break;
                case 'h':
                        mult = 3600;
                        break;
                case 'd':
                        mult = 86400;
                        break;
                case 'w':
                        mult = 7 * 86400;
                        break;
                default:
                        return VIGIL_E_PARSE;
                }
                if (mult < 0)
                        return VIGIL_E_PARSE;
                if (*s)
                        s++;
                total += v * mult;
                any = true;
                if (total > 1e11) /* about 3000 years */
                        return VIGIL_E_PARSE;
        }
        *ret_us = (uint64_t)(total * 1e6 + 0.5);
        return 0;
}

static bool digits(const char *s, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

static int parse_rfc3339(const char *s, uint64_t *ret_us)
{
        struct tm tm = { 0 };
        int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
        uint64_t frac_us = 0;
        time_t t;

        if (strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d))
                return VIGIL_E_PARSE;
        s += 10;
        if (*s) {
                if (*s != 'T' && *s != 't' && *s != ' ')
                        return VIGIL_E_PARSE;
                s++;
                if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' || !digits(s + 6, 2, &sec))
                        return VIGIL_E_PARSE;
                s += 8;
                if (*s == '.') {
                        uint64_t scale = 100000;

                        s++;
                        if (!isdigit((unsigned char)*s))
                                return VIGIL_E_PARSE;
                        for (; isdigit((unsigned char)*s); s++) {
                                frac_us += (uint64_t)(*s - '0') * scale;
                                scale /= 10;
                        }
                }
                if (*s == 'Z' || *s == 'z')
                        s++;
                else if (*s == '+' || *s == '-') {
                        int oh, om, sign = *s == '-' ? -1 : 1;

                        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 || om > 59)
                                return VIGIL_E_PARSE;
                        off = sign * (oh * 3600 + om * 60);
                        s += 6;
                } else
                        return VIGIL_E_PARSE;
                if (*s)
                        return VIGIL_E_PARSE;
        }
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return VIGIL_E_PARSE;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t)-1 || tm.tm_mday != d)
                return VIGIL_E_PARSE;
        t -= off;
        if (t < 0)
                return VIGIL_E_PARSE;
        *ret_us = (uint64_t)t * 1000000u + frac_us;
        return 0;
}

int vigil_parse_time(const char *s, uint64_t now_us, uint64_t *ret_us)
{
        uint64_t d;

        if (!s || !*s)
                return VIGIL_E_PARSE;
        if (strcmp(s, "now") == 0) {
                *ret_us = now_us;
                return 0;
        }
        /* "2024-..." has a '-' at 4; a relative time never does. */
        if (strlen(s) >= 10 && s[4] == '-')
                return parse_rfc3339(s, ret_us);
        if (vigil_parse_duration(s, &d) < 0 || s[strlen(s) - 1] < 'a') /* a unit is required */
                return VIGIL_E_PARSE;
        *ret_us = d > now_us ? 0 : now_us - d;
        return 0;
}

void vigil_format_time(uint64_t us, char buf[32])
{
        time_t t = (time_t)(us / 1000000u);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || tm.tm_year > VIGIL_TIME_LAST_YEAR - 1900) {
                snprintf(buf, 32, "invalid");
                return;
        }
        snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", (tm.tm_year + 1900) % 10000,
                 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (unsigned)(us % 1000000u / 1000u));
}

void vigil_format_exit(int wait_status, char buf[16])
{
        if (wait_status < 0)
                snprintf(buf, 16, "-");
        else if (WIFEXITED(wait_status))
                snprintf(buf, 16, "%d", WEXITSTATUS(wait_status));
        else if (WIFSIGNALED(wait_status)) {
                const char *n = sigabbrev_np(WTERMSIG(wait_status));

                if (n)
                        snprintf(buf, 16, "SIG%s", n);
                else
                        snprintf(buf, 16, "SIG%d", WTERMSIG(wait_status));
        } else
                snprintf(buf, 16, "?");
}
