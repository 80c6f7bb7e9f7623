/* Checking replace= text when the policy is loaded, so that a typo in a
 * group reference is a policy error and not a surprise in a session.
 * The syntax is PCRE2's (non-extended) substitution syntax: $$, $N, ${N},
 * $NAME, ${NAME}, $*MARK, ${*MARK}. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask-internal.h"
#include "vigil-error.h"

static int bad(char **ret_error, const char *what, size_t off)
{
        if (ret_error && asprintf(ret_error, "replace= text: %s at offset %zu", what, off) < 0)
                return -ENOMEM;
        return VIGIL_E_PARSE;
}

static bool name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/* A reference to group "name" (digits or a name) must exist in the pattern. */
static int check_ref(pcre2_code *re, const char *name, size_t n, size_t off, char **ret_error)
{
        char buf[40];
        uint32_t cap = 0;

        if (n == 0 || n >= sizeof(buf))
                return bad(ret_error, "bad group reference", off);
        memcpy(buf, name, n);
        buf[n] = 0;
        if (isdigit((unsigned char)buf[0])) {
                char *end;
                unsigned long g;

                errno = 0;
                g = strtoul(buf, &end, 10);
                (void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &cap);
                if (errno || *end || g > cap)
                        return bad(ret_error, "reference to a group the regex does not have", off);
                return 0;
        }
        if (pcre2_substring_number_from_name(re, (PCRE2_SPTR)buf) == PCRE2_ERROR_NOSUBSTRING)
                return bad(ret_error, "reference to a group name the regex does not have", off);
        return 0;
}

int mask_replace_check(pcre2_code *re, const char *t, size_t len, char **ret_error)
{
        for (size_t i = 0; i < len; i++) {
                size_t start, off = i;
                bool brace = false, mark = false;
                int k;

                if (t[i] != '$')
                        continue;
                if (++i >= len)
                        return bad(ret_error, "'$' at the end (write $$ for a dollar sign)", off);
                if (t[i] == '$')
                        continue;
                if (t[i] == '{') {
                        brace = true;
                        i++;
                }
                if (i < len && t[i] == '*') {
                        mark = true;
                        i++;
                }
                start = i;
                if (i < len && isdigit((unsigned char)t[i]) && !mark)
                        while (i < len && isdigit((unsigned char)t[i]))
                                i++;
                else
                        while (i < len && name_char(t[i]))
                                i++;
                if (i == start)
                        return bad(ret_error,
                                   "'$' must be followed by a group number or name (write $$ for a dollar "
                                   "sign)",
                                   off);
                if (brace) {
                        if (i >= len || t[i] != '}')
                                return bad(ret_error, "missing '}'", off);
                } else {
                        i--; /* the loop's i++ moves past the reference */
                }
                if (mark)
                        continue;
                k = check_ref(re, t + start, (brace ? i : i + 1) - start, off, ret_error);
                if (k < 0)
                        return k;
        }
        return 0;
}
