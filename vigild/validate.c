#include <string.h>

#include "validate.h"

uint16_t vle16(const uint8_t *p)
{
        return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t vle32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t vle64(const uint8_t *p)
{
        return (uint64_t)vle32(p) | (uint64_t)vle32(p + 4) << 32;
}

/* Decode one UTF-8 sequence at s[*i]; refuses overlong forms, surrogates and
 * values past U+10FFFF. Returns the code point or -1. */
static int32_t utf8_next(const uint8_t *s, size_t len, size_t *i)
{
        uint8_t c = s[*i];
        uint32_t cp, min;
        size_t n;

        if (c < 0x80) {
                (*i)++;
                return c;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                cp = c & 0x1f;
                min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                cp = c & 0x0f;
                min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                cp = c & 0x07;
                min = 0x10000;
        } else
                return -1;
        if (len - *i <= n)
                return -1;
        for (size_t k = 1; k <= n; k++) {
                uint8_t cc = s[*i + k];

                if ((cc & 0xc0) != 0x80)
                        return -1;
                cp = cp << 6 | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *i += n + 1;
        return (int32_t)cp;
}

/* Code points that must not reach a terminal or a log line from a client:
 * controls (C0, DEL, C1, which includes the 8-bit CSI), the Unicode line and
 * paragraph separators, and the bidi embedding/override/isolate controls that
 * can make a line read differently from what it holds. */
static bool cp_forbidden(int32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool vtext_valid(const uint8_t *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                int32_t cp = utf8_next(s, len, &i);

                if (cp < 0 || cp_forbidden(cp))
                        return false;
        }
        return true;
}

static bool is_alnum(uint8_t c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* strchr() would also find the terminating NUL: a NUL byte is never in a set. */
static bool in_set(uint8_t c, const char *set)
{
        return c != 0 && strchr(set, c) != NULL;
}

static bool is_b64url(uint8_t c)
{
        return is_alnum(c) || c == '-' || c == '_';
}

static bool name_valid(const uint8_t *s, size_t len)
{
        if (len == 0 || s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < len; i++) {
                uint8_t c = s[i];

                if (is_alnum(c) || c == '_' || c == '.' || c == '-')
                        continue;
                /* Samba machine accounts end in '$'. */
                if (c == '$' && i == len - 1 && i > 0)
                        continue;
                return false;
        }
        return true;
}

static bool token_valid(const uint8_t *s, size_t len)
{
        size_t dots = 0, seg = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == '.') {
                        /* header and payload must not be empty */
                        if (seg == 0)
                                return false;
                        dots++;
                        seg = 0;
                        continue;
                }
                if (!is_b64url(s[i]))
                        return false;
                seg++;
        }
        return dots == 2;
}

static bool env_valid(const uint8_t *s, size_t len)
{
        const uint8_t *eq = memchr(s, '=', len);

        if (!eq || eq == s || memchr(s, '\0', len))
                return false;
        if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        for (const uint8_t *p = s; p < eq; p++)
                if (!is_alnum(*p) && *p != '_')
                        return false;
        return true;
}

bool vkind_valid(vkind k, const uint8_t *s, size_t len, const char **ret_why)
{
        const char *why = NULL;

        switch (k) {
        case VK_U32:
                if (len != 4)
                        why = "is not a 32-bit integer";
                break;
        case VK_I64:
                if (len != 8)
                        why = "is not a 64-bit integer";
                break;
        case VK_BOOL:
                if (len != 1 || s[0] > 1)
                        why = "is not a boolean";
                break;
        case VK_TEXT:
                if (!vtext_valid(s, len))
                        why = "is not one line of printable UTF-8";
                break;
        case VK_NAME:
                if (!name_valid(s, len))
                        why = "is not a valid account or group name";
                break;
        case VK_ID:
                if (len == 0 || !is_alnum(s[0]))
                        why = "is not a valid id";
                for (size_t i = 0; !why && i < len; i++)
                        if (!is_alnum(s[i]) && !in_set(s[i], "._:+-"))
                                why = "is not a valid id";
                break;
        case VK_WORD:
                if (len == 0)
                        why = "is empty";
                for (size_t i = 0; !why && i < len; i++)
                        if (s[i] < 'a' || s[i] > 'z')
                                why = "is not a lower-case word";
                break;
        case VK_HEX64:
                if (len != 64)
                        why = "is not 64 hex digits";
                for (size_t i = 0; !why && i < len; i++)
                        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                                why = "is not 64 hex digits";
                break;
        case VK_TOKEN:
                if (!token_valid(s, len))
                        why = "is not a compact JWS token";
                break;
        case VK_PATH:
                if (len == 0 || s[0] != '/')
                        why = "is not an absolute path";
                for (size_t i = 0; !why && i < len; i++)
                        if (s[i] < 0x20 || s[i] == 0x7f)
                                why = "contains a control byte";
                break;
        case VK_TTY:
                if (len == 0)
                        why = "is empty";
                for (size_t i = 0; !why && i < len; i++)
                        if (!is_alnum(s[i]) && !in_set(s[i], "/_.:-"))
                                why = "is not a terminal name";
                break;
        case VK_HOST:
                if (len == 0)
                        why = "is empty";
                for (size_t i = 0; !why && i < len; i++)
                        if (s[i] <= 0x20 || s[i] >= 0x7f)
                                why = "is not printable ASCII without spaces";
                break;
        case VK_ARG:
                if (memchr(s, '\0', len))
                        why = "contains a NUL byte";
                break;
        case VK_ENV:
                if (!env_valid(s, len))
                        why = "is not NAME=VALUE";
                break;
        case VK_BYTES:
                break;
        }
        if (why && ret_why)
                *ret_why = why;
        return !why;
}
