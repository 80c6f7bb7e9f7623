/* Telling binary output (scp payloads, cat of an image) from terminal text. */
#include "store-internal.h"

/* Length of a valid UTF-8 sequence starting at p (1..4), 0 when invalid, or
 * -1 when it is cut off by the end of the buffer. */
static int utf8_seq(const uint8_t *p, size_t len)
{
        uint8_t c = p[0];
        int n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (int i = 1; i < n; i++) {
                if ((size_t)i >= len)
                        return -1;
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return n;
}

size_t vigil_utf8_complete_prefix(const uint8_t *s, size_t len)
{
        /* Only the last three bytes can start an unfinished sequence. */
        size_t start = len > 3 ? len - 3 : 0;

        for (size_t i = start; i < len; i++) {
                if (s[i] >= 0xc2 && s[i] <= 0xf4 && utf8_seq(s + i, len - i) < 0) {
                        /* Make sure it is not itself inside an earlier sequence. */
                        return i;
                }
        }
        return len;
}

/* A write is binary when it holds NUL bytes or when more than 1 in 16 of its
 * bytes are neither printable, whitespace, escape/terminal controls, nor part
 * of valid UTF-8. Once binary, a write must be clean to switch back, so a
 * transfer's occasional text-like block stays with it. */
/* Whether all 8 bytes of @w are printable ASCII (0x20..0x7e): no byte
 * below 0x20 and none above 0x7e (the exact "has less" / "has more" word
 * tests for n <= 128). */
static inline bool printable8(uint64_t w)
{
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);

        return !(((w - ones * 0x20) & ~w & highs) | (((w + ones * (127 - 0x7e)) | w) & highs));
}

/* Whether all bytes of a block are printable ASCII or terminal controls
 * that are never counted (BEL to SI, ESC): nothing in them can make a write
 * binary. Vector code through the compiler's generic vectors (SSE2, NEON). */
typedef uint8_t u8x16 __attribute__((vector_size(16)));

static inline u8x16 plain_lanes(const uint8_t *p)
{
        u8x16 v;

        memcpy(&v, p, sizeof(v));
        /* unsigned wrap-around turns each range test into one comparison */
        return (u8x16)((u8x16)(v - 0x20) < 0x5f) | (u8x16)((u8x16)(v - 0x07) < 0x09) | (u8x16)(v == 0x1b);
}

static inline bool all_lanes(u8x16 ok)
{
        uint64_t w[2];

        memcpy(w, &ok, sizeof(w));
        return (w[0] & w[1]) == UINT64_MAX;
}

static inline bool plain16(const uint8_t *p)
{
        return all_lanes(plain_lanes(p));
}

/* The same for 64 bytes, tested at once. */
static inline bool plain64(const uint8_t *p)
{
        return all_lanes(plain_lanes(p) & plain_lanes(p + 16) & plain_lanes(p + 32) & plain_lanes(p + 48));
}

bool looks_binary(const uint8_t *p, size_t len, bool was_binary)
{
        size_t bad = 0;

        for (size_t i = 0; i < len;) {
                uint8_t c = p[i];

                /* most output is ASCII text with line ends and colours:
                 * many bytes at a time, then eight */
                if (len - i >= 64 && plain64(p + i)) {
                        i += 64;
                        continue;
                }
                if (len - i >= 16 && plain16(p + i)) {
                        i += 16;
                        continue;
                }
                if (len - i >= 8) {
                        uint64_t w;

                        memcpy(&w, p + i, 8);
                        if (printable8(w)) {
                                i += 8;
                                continue;
                        }
                }

                if (c == 0)
                        return true;
                if (c < 0x20) {
                        if (!(c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == 0x07 || c == 0x1b ||
                              c == 0x0e || c == 0x0f || c == 0x0c || c == 0x0b))
                                bad++;
                        i++;
                } else if (c < 0x7f) {
                        i++;
                } else if (c == 0x7f) {
                        bad++;
                        i++;
                } else {
                        int n = utf8_seq(p + i, len - i);

                        if (n > 0)
                                i += (size_t)n;
                        else if (n < 0)
                                break; /* cut off at the end: the next write completes it */
                        else {
                                /* A write may start inside a sequence the last one began. */
                                if (!(i < 3 && (c & 0xc0) == 0x80))
                                        bad++;
                                i++;
                        }
                }
        }
        if (was_binary)
                return bad > 0;
        return bad * 16 > len || (len < 16 && bad > 1);
}
