/* Unit tests of the store's encoders and decoders, text handling, search
 * signatures, chain and seal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "literals.h"
#include "reader.h"

/* ---- codec ---- */

static void test_varint(void **state)
{
        static const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63, UINT64_MAX };
        vbuf b = { 0 };
        vdec d;

        (void)state;
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
                vbuf_varint(&b, vals[i]);
                vbuf_zigzag(&b, -(int64_t)(vals[i] >> 1));
        }
        d = vdec_init(b.p, b.len);
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
                assert_true(vdec_varint(&d) == vals[i]);
                assert_true(vdec_zigzag(&d) == -(int64_t)(vals[i] >> 1));
        }
        assert_true(vdec_done(&d));
        /* truncated, overlong, too large for 64 bits */
        {
                static const uint8_t cut[] = { 0x80, 0x80 };
                static const uint8_t over[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
                static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };

                d = vdec_init(cut, sizeof cut);
                (void)vdec_varint(&d);
                assert_true(d.err);
                d = vdec_init(over, sizeof over);
                (void)vdec_varint(&d);
                assert_true(d.err);
                d = vdec_init(eleven, sizeof eleven);
                (void)vdec_varint(&d);
                assert_true(d.err);
        }
        vbuf_free(&b);
}

static void test_strings(void **state)
{
        vbuf b = { 0 };
        vdec d;
        char *s = NULL, **v = NULL;
        size_t n = 0;
        static const char *const argv[] = { "ls", "", "-l" };

        (void)state;
        vbuf_str(&b, "hello");
        vbuf_str(&b, NULL);
        vbuf_strv(&b, argv, 3);
        d = vdec_init(b.p, b.len);
        assert_true(vdec_str(&d, &s));
        assert_string_equal(s, "hello");
        free(s);
        assert_true(vdec_str(&d, &s));
        assert_null(s);
        assert_true(vdec_strv(&d, &v, &n));
        assert_int_equal(n, 3);
        assert_string_equal(v[1], "");
        assert_string_equal(v[2], "-l");
        strv_free(v, n);
        assert_true(vdec_done(&d));
        /* a string with a NUL inside, a length past the end, a huge count */
        {
                static const uint8_t nul[] = { 4, 'a', 0, 'b' };
                static const uint8_t past[] = { 10, 'a' };
                static const uint8_t count[] = { 0xff, 0x1f, 1 };

                d = vdec_init(nul, sizeof nul);
                assert_false(vdec_str(&d, &s));
                assert_true(d.err);
                d = vdec_init(past, sizeof past);
                assert_false(vdec_str(&d, &s));
                d = vdec_init(count, sizeof count);
                assert_false(vdec_strv(&d, &v, &n));
                assert_true(d.err);
        }
        vbuf_free(&b);
}

/* ---- JSON and CSV ---- */

static char *json_of(const char *s, size_t len)
{
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        vigil_json_string(f, s, len);
        fclose(f);
        return buf;
}

static void test_json_escape(void **state)
{
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } cases[] = {
                { "plain", 5, "\"plain\"" },
                { "a\0b", 3, "\"a\\u0000b\"" },
                { "q\"b\\", 4, "\"q\\\"b\\\\\"" },
                { "\n\r\t\x1b\x7f", 5, "\"\\u000a\\u000d\\u0009\\u001b\\u007f\"" },
                { "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
                { "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },
                { "\xff", 1, "\"\\ufffd\"" },
                { "ab\xc3", 3, "\"ab\\ufffd\"" },         /* cut off at the end */
                { "\xc0\x80", 2, "\"\\ufffd\\ufffd\"" }, /* overlong NUL */
                { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
                { "\xe2\x82", 2, "\"\\ufffd\\ufffd\"" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *j = json_of(cases[i].in, cases[i].len);

                assert_string_equal(j, cases[i].out);
                free(j);
        }
        assert_int_equal(vigil_utf8_complete_prefix((const uint8_t *)"ab\xc3", 3), 2);
        assert_int_equal(vigil_utf8_complete_prefix((const uint8_t *)"ab\xe2\x82", 4), 2);
        assert_int_equal(vigil_utf8_complete_prefix((const uint8_t *)"ab\xe2\x82\xac", 5), 5);
        assert_int_equal(vigil_utf8_complete_prefix((const uint8_t *)"ab\xff", 3), 3);
        assert_int_equal(vigil_utf8_complete_prefix((const uint8_t *)"", 0), 0);
}

static void test_csv(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "plain" },
                { "a,b", "\"a,b\"" },
                { "say \"hi\"", "\"say \"\"hi\"\"\"" },
                { "two\nlines", "\"two\nlines\"" },
                { "cr\r", "\"cr\r\"" },
                { "", "" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *buf = NULL;
                size_t n = 0;
                FILE *f = open_memstream(&buf, &n);

                vigil_csv_field(f, cases[i].in, strlen(cases[i].in));
                fclose(f);
                assert_string_equal(buf, cases[i].out);
                free(buf);
        }
}

/* ---- time ---- */

static void test_time(void **state)
{
        uint64_t t, now = 1700000000ull * 1000000u;
        char buf[32];

        (void)state;
        assert_int_equal(vigil_parse_time("2023-11-14T22:13:20Z", now, &t), 0);
        assert_true(t == now);
        assert_int_equal(vigil_parse_time("2023-11-14T23:13:20.5+01:00", now, &t), 0);
        assert_true(t == now + 500000);
        assert_int_equal(vigil_parse_time("2023-11-14", now, &t), 0);
        assert_true(t == 1699920000ull * 1000000u);
        assert_int_equal(vigil_parse_time("2h", now, &t), 0);
        assert_true(t == now - 7200ull * 1000000u);
        assert_int_equal(vigil_parse_time("7d", now, &t), 0);
        assert_true(t == now - 7 * 86400ull * 1000000u);
        assert_int_equal(vigil_parse_time("1h30m", now, &t), 0);
        assert_true(t == now - 5400ull * 1000000u);
        for (const char *const *bad = (const char *const[]){ "", "yesterday", "2h ", "-2h", "12", "2023-13-01",
                                                               "2023-02-30", "2023-11-14T25:00:00Z", "2023-11-14T10:00:00",
                                                               "2023-11-14T10:00:00+1", "1h30", NULL };
             *bad; bad++)
                assert_int_equal(vigil_parse_time(*bad, now, &t), VIGIL_E_PARSE);
        assert_int_equal(vigil_parse_duration("1.5", &t), 0);
        assert_true(t == 1500000);
        assert_int_equal(vigil_parse_duration("2w", &t), 0);
        assert_true(t == 14 * 86400ull * 1000000u);
        assert_int_equal(vigil_parse_duration("99999999999d", &t), VIGIL_E_PARSE);
        vigil_format_time(now + 123456, buf);
        assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
        vigil_format_exit(3 << 8, buf);
        assert_string_equal(buf, "3");
        vigil_format_exit(9, buf);
        assert_string_equal(buf, "SIGKILL");
        vigil_format_exit(-1, buf);
        assert_string_equal(buf, "-");
}

/* ---- regex literals ---- */

static char *lits(const char *re)
{
        vbuf out = { 0 }, text = { 0 };
        size_t n = 0;
        vdec d;

        assert_int_equal(regex_literals(re, &out, &n), 0);
        d = vdec_init(out.p, out.len);
        for (size_t i = 0; i < n; i++) {
                uint64_t len = vdec_varint(&d);

                if (i)
                        vbuf_u8(&text, '|');
                vbuf_put(&text, vdec_bytes(&d, len), len);
        }
        vbuf_u8(&text, 0);
        vbuf_free(&out);
        return (char *)text.p;
}

static void test_literals(void **state)
{
        static const struct {
                const char *re, *lits;
        } cases[] = {
                { "password", "password" },
                { "foo.*bar", "foo|bar" },
                { "ab|cd", "" },
                { "(abc)def", "def" },
                { "(a|b)cdef", "cdef" },
                { "abcd?", "abc" },
                { "abcd*", "abc" },
                { "abcd+e", "abcd" },
                { "xy{0,2}zzz", "zzz" },
                { "abc{2}defg", "abc|defg" },
                { "abc{2,}xyz", "abc|xyz" },
                { "[abc]def", "def" },
                { "[]x]def", "def" },
                { "\\.conf$", ".conf" },
                { "\\d+ errors", " errors" },
                { "(?i)abcdef", "" },
                { "^ls -l /srv", "ls -l /srv" },
                { "caf\xc3\xa9*s", "caf" },
                { "ab", "" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *got = lits(cases[i].re);

                if (strcmp(got, cases[i].lits) != 0)
                        fail_msg("regex '%s': literals '%s', expected '%s'", cases[i].re, got, cases[i].lits);
                free(got);
        }
}

/* ---- lines and signatures ---- */

typedef struct lines {
        char buf[1024];
        size_t n;
} lines;

static void collect(void *userdata, const uint8_t *line, size_t len)
{
        lines *l = userdata;

        memcpy(l->buf + l->n, line, len);
        l->n += len;
        l->buf[l->n++] = '|';
        l->buf[l->n] = 0;
}

static void test_lines(void **state)
{
        static const char in[] = "a\x1b[31mred\x1b[0m\r\nnext\n\x1b]0;title\x07tab\there\nab\bc\x01"
                                 "d\n\x1b[1;2\nbroken\n\x1b(Bend";
        line_norm n = { 0 };
        lines l = { .n = 0 };

        (void)state;
        /* one byte at a time must give the same lines as all at once */
        for (size_t i = 0; i < sizeof in - 1; i++)
                line_norm_feed(&n, (const uint8_t *)in + i, 1, collect, &l);
        line_norm_break(&n, collect, &l);
        assert_string_equal(l.buf, "ared|next|tab\there|acd|broken|end|");
        line_norm_done(&n);
}

/* Lines as a hash of their bytes and lengths (a differential check needs no copy). */
typedef struct line_sum {
        uint64_t h;
        size_t n;
} line_sum;

static void sum_line(void *userdata, const uint8_t *line, size_t len)
{
        line_sum *l = userdata;

        for (size_t i = 0; i < len; i++)
                l->h = (l->h ^ line[i]) * UINT64_C(0x100000001b3);
        l->h = (l->h ^ len) * UINT64_C(0x100000001b3);
        l->n++;
}

/* Whole writes (runs of shown bytes scanned sixteen at a time) and one byte
 * at a time (one by one) must cut the same lines, lines longer than
 * LINE_MAX_LEN included. */
static void test_lines_fast_path(void **state)
{
        static const char *const pieces[] = { "a", "Z", "~", " ", "\t", "\x7f", "\x1f", "\x80", "\xff", "\r",
                                              "\n", "\b", "\x1b[31m", "\x1b]0;t\x07", "\x1b(B", "\x01", "\x19" };
        const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
        size_t cap = 3 * LINE_MAX_LEN, len;
        uint8_t *buf = malloc(cap);

        (void)state;
        assert_non_null(buf);
        srand(4242);
        for (int round = 0; round < 300; round++) {
                line_norm a = { 0 }, b = { 0 };
                line_sum la = { 0 }, lb = { 0 };
                /* some rounds are one line longer than LINE_MAX_LEN */
                size_t want = round % 10 == 0 ? LINE_MAX_LEN + 5000 : (size_t)(rand() % 4000);
                int text_bias = rand() % 16;

                len = 0;
                while (len < want) {
                        const char *pc = round % 10 == 0 || rand() % 16 < text_bias ? pieces[rand() % 4]
                                                                                   : pieces[(size_t)rand() % n_pieces];
                        size_t k = strlen(pc);

                        memcpy(buf + len, pc, k);
                        len += k;
                }
                line_norm_feed(&a, buf, len, sum_line, &la);
                line_norm_break(&a, sum_line, &la);
                for (size_t i = 0; i < len; i++)
                        line_norm_feed(&b, buf + i, 1, sum_line, &lb);
                line_norm_break(&b, sum_line, &lb);
                if (la.h != lb.h || la.n != lb.n)
                        fail_msg("round %d (%zu bytes): %zu lines at once, %zu byte by byte, or they differ", round,
                                 len, la.n, lb.n);
                line_norm_done(&a);
                line_norm_done(&b);
        }
        free(buf);
}

static void test_bloom(void **state)
{
        bloom b;
        vbuf sig = { 0 };
        char line[64];
        unsigned fp = 0;

        (void)state;
        assert_int_equal(bloom_init(&b), 0);
        for (int i = 0; i < 3000; i++) {
                int len = snprintf(line, sizeof line, "line %d of the output, value=%d", i, i * 7919);

                bloom_add_line(&b, (const uint8_t *)line, (size_t)len, false);
        }
        bloom_finish(&b, 0, &sig);
        assert_true(sig.len > 1 && sig.p[0] >= 9 && sig.p[0] <= 19);
        assert_true(sig.len < (1u << 19) / 8); /* folded */
        /* no false negative, for output trigrams */
        for (int i = 0; i < 3000; i += 7) {
                int len = snprintf(line, sizeof line, "value=%d", i * 7919);
                uint32_t h[64];
                size_t nh = 0;

                for (int k = 0; k + 2 < len; k++)
                        h[nh++] = trigram_hash((uint8_t)line[k], (uint8_t)line[k + 1], (uint8_t)line[k + 2], false);
                assert_true(bloom_stored_may_contain(sig.p, sig.len, h, nh));
                /* the command-line variant of the same text was never added */
                for (size_t k = 0; k < nh; k++)
                        h[k] = trigram_hash((uint8_t)line[k], (uint8_t)line[k + 1], (uint8_t)line[k + 2], true);
                fp += bloom_stored_may_contain(sig.p, sig.len, h, nh);
        }
        assert_true(fp < 20);
        /* verify's check: the records' trigrams must all be in the stored form */
        assert_int_equal(bloom_check_stored(&b, sig.p, sig.len), 0);
        {
                size_t k = 1;

                while (k < sig.len && sig.p[k] == 0)
                        k++;
                assert_true(k < sig.len);
                sig.p[k] &= (uint8_t)(sig.p[k] - 1); /* clear one set bit */
                assert_int_equal(bloom_check_stored(&b, sig.p, sig.len), -1);
        }
        /* a budget folds it further */
        {
                vbuf small = { 0 };

                bloom_finish(&b, 1024, &small);
                assert_true(small.len == 1 || small.len <= 1025);
                assert_int_equal(bloom_check_stored(&b, small.p, small.len), 0);
                vbuf_free(&small);
        }
        /* something absent is mostly ruled out: 6 trigrams at <= 60% fill */
        fp = 0;
        for (int i = 0; i < 200; i++) {
                char w[8];
                uint32_t h[6];

                for (int k = 0; k < 8; k++)
                        w[k] = (char)('A' + rand() % 26);
                for (int k = 0; k < 6; k++)
                        h[k] = trigram_hash((uint8_t)w[k], (uint8_t)w[k + 1], (uint8_t)w[k + 2], false);
                fp += bloom_stored_may_contain(sig.p, sig.len, h, 6);
        }
        assert_true(fp < 60);
        /* empty, and random data that is not worth indexing */
        bloom_clear(&b);
        vbuf_reset(&sig);
        bloom_finish(&b, 0, &sig);
        assert_int_equal(sig.len, 1);
        for (int i = 0; i < 20000; i++) {
                uint8_t r[64];

                for (int k = 0; k < 64; k++)
                        r[k] = (uint8_t)(33 + (rand() % 90));
                bloom_add_line(&b, r, sizeof r, false);
        }
        vbuf_reset(&sig);
        bloom_finish(&b, 0, &sig);
        assert_int_equal(sig.len, 1);
        assert_int_equal(sig.p[0], 0); /* matches everything */
        vbuf_free(&sig);
        bloom_done(&b);
}

/* Random-looking data stops being hashed: at 64 KiB, or at 16 KiB after a
 * random-looking unit; text stays indexed; the count of bits set that the
 * checks use is the real one. */
static void test_bloom_saturation(void **state)
{
        bloom b;
        uint8_t r[76];
        char line[96];
        size_t bits;

        (void)state;
        assert_int_equal(bloom_init(&b), 0);
        for (int early = 0; early < 2; early++) {
                size_t limit = early ? 16 * 1024 : 64 * 1024;

                bloom_clear(&b);
                if (early)
                        bloom_expect_random(&b);
                while (!b.saturated) {
                        assert_true(b.raw < limit);
                        for (size_t k = 0; k < sizeof r; k++)
                                r[k] = (uint8_t)("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[rand() % 64]);
                        bloom_add_line(&b, r, sizeof r, false);
                }
                assert_true(b.raw >= limit && b.raw < limit + sizeof r);
        }
        /* text expected to be random is not taken for it */
        bloom_clear(&b);
        bloom_expect_random(&b);
        for (int i = 0; i < 4000; i++) {
                int len = snprintf(line, sizeof line, "-rw-r--r-- 1 root root %6d Nov 27 03:%02d file-%d.txt",
                                   i * 37 % 100000, i % 60, i);

                bloom_add_line(&b, (const uint8_t *)line, (size_t)len, false);
        }
        assert_false(b.saturated);
        assert_true(b.raw > 128 * 1024);
        bits = 0;
        for (size_t k = 0; k < (1u << BLOOM_MAX_LOG) / 8; k++)
                bits += (size_t)__builtin_popcount(b.bits[k]);
        assert_int_equal(b.set, bits);
        bloom_done(&b);
}

static void test_binary(void **state)
{
        uint8_t rnd[4096];
        const char *text = "total 12\r\ndrwxr-xr-x 2 root root 4096 \x1b[01;34mbin\x1b[0m\r\ncaf\xc3\xa9 \xe2\x82\xac\r\n";

        (void)state;
        for (size_t i = 0; i < sizeof rnd; i++)
                rnd[i] = (uint8_t)(rand() >> 7);
        assert_false(looks_binary((const uint8_t *)text, strlen(text), false));
        assert_true(looks_binary(rnd, sizeof rnd, false));
        assert_true(looks_binary((const uint8_t *)"ab\0cd", 5, false));
        /* a UTF-8 sequence split across writes is still text */
        assert_false(looks_binary((const uint8_t *)"caf\xc3", 4, false));
        assert_false(looks_binary((const uint8_t *)"\xa9 ok", 4, false));
        /* once binary, a mostly-text block stays binary */
        assert_true(looks_binary((const uint8_t *)"text\x01", 5, true));
        assert_false(looks_binary((const uint8_t *)"clean text\n", 11, true));
}

/* The byte-at-a-time classification looks_binary() had before its
 * eight-bytes-at-a-time fast path: the two must agree on every input. */
static bool binary_reference(const uint8_t *p, size_t len, bool was_binary)
{
        size_t bad = 0;

        for (size_t i = 0; i < len;) {
                uint8_t c = p[i];

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
                        int n = 0;

                        /* the same UTF-8 rules, spelled out */
                        if (c >= 0xc2 && c <= 0xdf)
                                n = 2;
                        else if (c >= 0xe0 && c <= 0xef)
                                n = 3;
                        else if (c >= 0xf0 && c <= 0xf4)
                                n = 4;
                        if (n && i + (size_t)n > len) {
                                bool ok = true;

                                for (size_t k = i + 1; k < len; k++)
                                        ok = ok && (p[k] & 0xc0) == 0x80;
                                if (ok)
                                        break;
                        }
                        if (n && i + (size_t)n <= len) {
                                uint32_t cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
                                bool ok = true;

                                for (int k = 1; k < n; k++) {
                                        ok = ok && (p[i + (size_t)k] & 0xc0) == 0x80;
                                        cp = cp << 6 | (p[i + (size_t)k] & 0x3f);
                                }
                                if (ok && !((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                                            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))) {
                                        i += (size_t)n;
                                        continue;
                                }
                        }
                        if (!(i < 3 && (c & 0xc0) == 0x80))
                                bad++;
                        i++;
                }
        }
        if (was_binary)
                return bad > 0;
        return bad * 16 > len || (len < 16 && bad > 1);
}

static void test_binary_fast_path(void **state)
{
        /* the edges of the sixteen-byte test's ranges (0x07-0x0f, ESC, 0x20-0x7e) too */
        static const uint8_t pieces[][4] = { "a", "Z", " ", "~", "\x7f", "\x1f", "\n", "\x1b", "\x01", "\xc3\xa9",
                                             "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x80", "\xff", "\xed\xa0\x80",
                                             "\x06", "\x07", "\x0f", "\x10", "\x1a", "\x1c", "\r", "\t" };
        const int n_pieces = (int)(sizeof(pieces) / sizeof(pieces[0]));
        uint8_t buf[600];

        (void)state;
        srand(12345);
        for (int round = 0; round < 20000; round++) {
                size_t len = 0, want = (size_t)(rand() % 300);
                int text_bias = rand() % 8;

                while (len < want) {
                        /* mostly printable runs, with other pieces mixed in */
                        const uint8_t *pc = rand() % 8 < text_bias ? pieces[rand() % 4] : pieces[rand() % n_pieces];
                        size_t n = strnlen((const char *)pc, 4);

                        memcpy(buf + len, pc, n);
                        len += n;
                }
                /* cut at both ends: writes may start and end inside a sequence */
                for (int wb = 0; wb < 2; wb++)
                        for (size_t off = 0; off < 3 && off <= len; off++)
                                for (size_t cut = 0; cut < 3 && off + cut <= len; cut++)
                                        if (looks_binary(buf + off, len - off - cut, wb) !=
                                            binary_reference(buf + off, len - off - cut, wb))
                                                fail_msg("round %d, offset %zu, cut %zu, was_binary %d: differs",
                                                         round, off, cut, wb);
        }
}

/* ---- a real store: chain, seal, writer errors ---- */

typedef struct vres {
        int n_ok, n_bad;
        char msg[300];
} vres;

static int vcb(void *userdata, const uint8_t *id, vigil_verify_status status, const char *message)
{
        vres *v = userdata;

        (void)id;
        if (status == VIGIL_VERIFY_OK)
                v->n_ok++;
        else {
                v->n_bad++;
                snprintf(v->msg, sizeof v->msg, "%s", message ? message : "");
        }
        return 0;
}

static void test_store_roundtrip(void **state)
{
        char dir[] = "/tmp/vigil-unit.XXXXXX", sdir[300], key[300];
        vigil_store_options o = { 0 };
        vigil_store *st = NULL;
        vigil_session *s = NULL;
        vigil_session_meta m = { .user = "tester", .cols = 100, .rows = 30 };
        vigil_record_opts ro = { .output = true, .input = true };
        const char *argv[] = { "echo", "hi" };
        vigil_command_info ci = { .argv = argv, .argc = 2, .decision = VIGIL_DEC_ALLOW, .rule = "default", .cwd = "/" };
        vigil_record_reader *rr = NULL;
        const vigil_record *rec;
        uint8_t id[VIGIL_SESSION_ID_LEN];
        uint32_t no;
        vres v = { 0 };
        int r;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(sdir, sizeof sdir, "%s/s", dir);
        snprintf(key, sizeof key, "%s/k", dir);
        o.dir = sdir;
        o.key_path = key;
        o.flags = VIGIL_STORE_CREATE;
        assert_int_equal(vigil_store_open(&o, &st), 0);
        assert_int_equal(vigil_session_begin(st, &m, &ro, &s), 0);
        memcpy(id, vigil_session_id(s), sizeof id);
        assert_int_equal(vigil_session_command(s, &ci, &no), 0);
        assert_int_equal(vigil_session_output(s, 0, "hi\r\n", 4), 0);
        assert_int_equal(vigil_session_input(s, 0, "x", 1), 0);
        assert_int_equal(vigil_session_command_exit(s, no, 0, 0, -1), 0);
        assert_int_equal(vigil_session_command_exit(s, no, 0, 0, -1), -ENOENT);
        assert_int_equal(vigil_session_command_exit(s, 77, 0, 0, -1), -ENOENT);
        assert_int_equal(vigil_session_resize(s, 0, 120, 40), 0);
        assert_int_equal(vigil_session_masked(s, "jwt", 2), 0);
        assert_true(vigil_session_flush_timeout_ms(s) >= 0);
        assert_int_equal(vigil_session_flush(s, true), 1);
        assert_int_equal(vigil_session_flush(s, true), 0);
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), 0);
        assert_int_equal(vigil_session_output(s, 0, "late", 4), -ESTALE);
        assert_int_equal(vigil_session_end(s, 0, 0, VIGIL_END_EXIT), -ESTALE);
        vigil_session_free(s);
        s = NULL;
        {
                vigil_session_meta bad = { 0 };

                assert_int_equal(vigil_session_begin(st, &bad, &ro, &s), -EINVAL);
        }
        /* the key was created 0600 */
        {
                struct stat ks;

                assert_int_equal(stat(key, &ks), 0);
                assert_int_equal(ks.st_mode & 0777, 0600);
        }
        /* records come back in order, with the chain checked */
        assert_int_equal(vigil_record_reader_new(st, id, &rr), 0);
        {
                static const vigil_record_type want[] = { VIGIL_REC_BEGIN, VIGIL_REC_COMMAND, VIGIL_REC_OUTPUT,
                                                          VIGIL_REC_INPUT, VIGIL_REC_COMMAND_EXIT, VIGIL_REC_RESIZE,
                                                          VIGIL_REC_MASKS, VIGIL_REC_END, VIGIL_REC_SEAL };

                for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
                        r = vigil_record_reader_next(rr, &rec);
                        assert_int_equal(r, 1);
                        assert_int_equal(rec->type, want[i]);
                        if (rec->type == VIGIL_REC_OUTPUT) {
                                assert_int_equal(rec->chunk.n_frames, 1);
                                assert_memory_equal(rec->chunk.frames[0].data, "hi\r\n", 4);
                        }
                }
                assert_int_equal(vigil_record_reader_next(rr, &rec), 0);
        }
        vigil_record_reader_free(rr);
        assert_int_equal(vigil_store_verify(st, NULL, 0, vcb, &v), 0);
        assert_int_equal(v.n_ok, 1);
        assert_int_equal(v.n_bad, 0);
        /* a seal over another head does not verify */
        {
                uint8_t head[32] = { 1 }, pub[32], sig[64];
                const char *why = NULL;

                assert_int_equal(seal_sign(st, id, 9, head, false, pub, sig), 0);
                assert_int_equal(seal_check(st, id, 9, head, false, pub, sig, &why), 0);
                head[0] ^= 1;
                assert_int_equal(seal_check(st, id, 9, head, false, pub, sig, &why), VIGIL_E_CORRUPT);
                head[0] ^= 1;
                assert_int_equal(seal_check(st, id, 9, head, true, pub, sig, &why), VIGIL_E_CORRUPT);
                assert_int_equal(seal_check(st, id, 10, head, false, pub, sig, &why), VIGIL_E_CORRUPT);
        }
        vigil_store_close(st);
        /* read-only: nothing may be written */
        o.flags = VIGIL_STORE_READONLY;
        assert_int_equal(vigil_store_open(&o, &st), 0);
        assert_int_equal(vigil_session_begin(st, &m, &ro, &s), -EROFS);
        vigil_store_close(st);
        {
                char p[400];

                snprintf(p, sizeof p, "%s/data.mdb", sdir);
                assert_int_equal(unlink(p), 0);
                snprintf(p, sizeof p, "%s/lock.mdb", sdir);
                assert_int_equal(unlink(p), 0);
                assert_int_equal(rmdir(sdir), 0);
                assert_int_equal(unlink(key), 0);
                assert_int_equal(rmdir(dir), 0);
        }
}

/* A writer that dies without ending its session leaves an orphan, which
 * vigil_store_seal_orphans() seals once, and only once. */
/* Output as a session made it, for test_store_units(). */
typedef struct outbuf {
        uint8_t *p;
        size_t len, cap;
} outbuf;

static void out_add(outbuf *o, const void *p, size_t n)
{
        if (o->len + n > o->cap) {
                o->cap = (o->len + n) * 2;
                o->p = realloc(o->p, o->cap);
                assert_non_null(o->p);
        }
        memcpy(o->p + o->len, p, n);
        o->len += n;
}

/* Lines of listing-like text (@base64: random base64 lines instead) written
 * in pieces of 4 KiB at times from @t to @t_end, kept in @o too. */
static void write_lines(vigil_session *s, outbuf *o, size_t bytes, bool base64, uint64_t t, uint64_t t_end)
{
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint8_t piece[4096];
        size_t n = 0, done = 0;
        char line[128];

        while (done < bytes) {
                int len;

                if (base64) {
                        for (int k = 0; k < 76; k++)
                                line[k] = b64[rand() % 64];
                        line[76] = '\n';
                        len = 77;
                } else
                        len = snprintf(line, sizeof line, "-rw-r--r-- 1 root root %6d Nov 27 03:%02d file-%d.txt\n",
                                       rand() % 100000, rand() % 60, rand() % 5000);
                if (n + (size_t)len > sizeof piece) {
                        assert_int_equal(vigil_session_output(s, t + (t_end - t) * done / bytes, piece, n), 0);
                        out_add(o, piece, n);
                        n = 0;
                }
                memcpy(piece + n, line, (size_t)len);
                n += (size_t)len;
                done += (size_t)len;
        }
        if (n) {
                assert_int_equal(vigil_session_output(s, t_end, piece, n), 0);
                out_add(o, piece, n);
        }
}

/* Read a session back: every output byte into @got, where each unit starts
 * into @unit_start (up to 16). @return the number of units. */
static uint32_t read_units(vigil_store *st, const uint8_t *id, outbuf *got, uint64_t unit_start[16])
{
        vigil_record_reader *rr = NULL;
        const vigil_record *rec;
        uint32_t n_units = 0;
        int r;

        assert_int_equal(vigil_record_reader_new(st, id, &rr), 0);
        while ((r = vigil_record_reader_next(rr, &rec)) == 1) {
                if (rec->type != VIGIL_REC_OUTPUT)
                        continue;
                if (rec->chunk.unit >= n_units) {
                        assert_true(rec->chunk.unit < 16);
                        unit_start[rec->chunk.unit] = rec->chunk.offset;
                        n_units = rec->chunk.unit + 1;
                }
                for (size_t i = 0; i < rec->chunk.n_frames; i++) {
                        assert_int_equal(rec->chunk.frames[i].kind, VIGIL_FRAME_TEXT);
                        out_add(got, rec->chunk.frames[i].data, rec->chunk.frames[i].len);
                }
        }
        assert_int_equal(r, 0);
        vigil_record_reader_free(rr);
        return n_units;
}

/* Compression units end early when a unit compressed at the strong level
 * turns random-looking or spends the session's budget for it; the records
 * still verify and give back every byte. */
static void test_store_units(void **state)
{
        char dir[] = "/tmp/vigil-unit.XXXXXX", sdir[300], key[300];
        vigil_store_options o = { 0 };
        vigil_store *st = NULL;
        vigil_record_opts ro = { .output = true };
        uint64_t unit_start[16] = { 0 };
        uint8_t id[2][VIGIL_SESSION_ID_LEN];
        outbuf w[2] = { 0 }, got[2] = { 0 };
        uint32_t n_units;
        vres v = { 0 };

        (void)state;
        srand(777);
        assert_non_null(mkdtemp(dir));
        snprintf(sdir, sizeof sdir, "%s/s", dir);
        snprintf(key, sizeof key, "%s/k", dir);
        o.dir = sdir;
        o.key_path = key;
        o.flags = VIGIL_STORE_CREATE;
        assert_int_equal(vigil_store_open(&o, &st), 0);
        for (int k = 0; k < 2; k++) {
                uint64_t t = vigil_now_us();
                vigil_session_meta m = { .user = "tester", .cols = 100, .rows = 30, .start_us = t };
                vigil_session *s = NULL;

                assert_int_equal(vigil_session_begin(st, &m, &ro, &s), 0);
                memcpy(id[k], vigil_session_id(s), VIGIL_SESSION_ID_LEN);
                if (k == 0) {
                        /* text committed early (a strong unit), then base64 in it */
                        write_lines(s, &w[k], 300 * 1024, false, t, t + 1000);
                        assert_int_equal(vigil_session_flush(s, true), 1);
                        write_lines(s, &w[k], 300 * 1024, true, t + 2000, t + 3000);
                } else {
                        /* 1.1 MB of text over 6 s spends the budget (1 MiB at
                         * the start, 32 KiB more per second); the next unit is
                         * strong again but ends after the ~190 KiB earned */
                        write_lines(s, &w[k], 100 * 1024, false, t, t + 300000);
                        assert_int_equal(vigil_session_flush(s, true), 1);
                        write_lines(s, &w[k], 1000 * 1024, false, t + 300000, t + 6000000);
                        assert_int_equal(vigil_session_flush(s, true), 1);
                        write_lines(s, &w[k], 500 * 1024, false, t + 6000000, t + 6100000);
                }
                assert_int_equal(vigil_session_end(s, t + 7000000, 0, VIGIL_END_EXIT), 0);
                vigil_session_free(s);
        }
        assert_int_equal(vigil_store_verify(st, NULL, 0, vcb, &v), 0);
        assert_int_equal(v.n_ok, 2);
        assert_int_equal(v.n_bad, 0);

        /* the first: unit 1 starts inside the base64, once it was seen to be
         * random-looking (a unit otherwise ends after 1 MiB) */
        n_units = read_units(st, id[0], &got[0], unit_start);
        assert_int_equal(got[0].len, w[0].len);
        assert_memory_equal(got[0].p, w[0].p, w[0].len);
        assert_true(n_units >= 2);
        assert_true(unit_start[1] > 300 * 1024 && unit_start[1] < 600 * 1024);
        /* the second: after the first MiB's unit, one much shorter unit */
        n_units = read_units(st, id[1], &got[1], unit_start);
        assert_int_equal(got[1].len, w[1].len);
        assert_memory_equal(got[1].p, w[1].p, w[1].len);
        assert_true(n_units >= 3);
        assert_true(unit_start[1] >= 1024 * 1024 && unit_start[1] < 1100 * 1024);
        assert_true(unit_start[2] - unit_start[1] < 300 * 1024);
        for (int k = 0; k < 2; k++) {
                free(w[k].p);
                free(got[k].p);
        }
        vigil_store_close(st);
        {
                char p[400];

                snprintf(p, sizeof p, "%s/data.mdb", sdir);
                assert_int_equal(unlink(p), 0);
                snprintf(p, sizeof p, "%s/lock.mdb", sdir);
                assert_int_equal(unlink(p), 0);
                assert_int_equal(rmdir(sdir), 0);
                assert_int_equal(unlink(key), 0);
                assert_int_equal(rmdir(dir), 0);
        }
}

static void test_seal_orphans(void **state)
{
        char dir[] = "/tmp/vigil-unit.XXXXXX", sdir[300], key[300], p[400];
        vigil_store_options o = { 0 };
        vigil_store *st = NULL;
        vigil_session_info info = { 0 };
        uint8_t id[VIGIL_SESSION_ID_LEN];
        int pipefd[2], status;
        pid_t pid;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(sdir, sizeof sdir, "%s/s", dir);
        snprintf(key, sizeof key, "%s/k", dir);
        o.dir = sdir;
        o.key_path = key;
        o.flags = VIGIL_STORE_CREATE;
        assert_int_equal(pipe(pipefd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* The child opens the store itself (never a handle from before fork). */
                vigil_session_meta m = { .user = "orphan" };
                vigil_record_opts ro = { .output = true };
                vigil_session *s = NULL;

                if (vigil_store_open(&o, &st) < 0 || vigil_session_begin(st, &m, &ro, &s) < 0 ||
                    vigil_session_output(s, 0, "partial\n", 8) < 0 || vigil_session_flush(s, true) < 0 ||
                    write(pipefd[1], vigil_session_id(s), VIGIL_SESSION_ID_LEN) != VIGIL_SESSION_ID_LEN)
                        _exit(1);
                _exit(0); /* no end, no free: as if killed */
        }
        close(pipefd[1]);
        assert_int_equal(read(pipefd[0], id, sizeof id), (ssize_t)sizeof id);
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);

        assert_int_equal(vigil_store_open(&o, &st), 0);
        assert_int_equal(vigil_session_info_get(st, id, &info), 0);
        assert_false(info.sealed);
        assert_false(vigil_session_writer_alive(&info));
        vigil_session_info_clear(&info);
        assert_int_equal(vigil_store_seal_orphans(st, NULL, NULL), 1);
        assert_int_equal(vigil_store_seal_orphans(st, NULL, NULL), 0);
        assert_int_equal(vigil_session_info_get(st, id, &info), 0);
        assert_true(info.sealed && info.truncated);
        assert_int_equal(info.how, VIGIL_END_LOST);
        vigil_session_info_clear(&info);
        {
                vres v = { 0 };

                assert_int_equal(vigil_store_verify(st, NULL, 0, vcb, &v), 0);
                assert_int_equal(v.n_ok, 1);
                assert_int_equal(v.n_bad, 0);
        }
        vigil_store_close(st);
        snprintf(p, sizeof p, "%s/data.mdb", sdir);
        assert_int_equal(unlink(p), 0);
        snprintf(p, sizeof p, "%s/lock.mdb", sdir);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(rmdir(sdir), 0);
        assert_int_equal(unlink(key), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_decoder_garbage(void **state)
{
        record_decoder dec;
        uint8_t buf[512];
        vbuf canon = { 0 };
        const char *why;

        (void)state;
        record_decoder_init(&dec);
        srand(7);
        for (int round = 0; round < 20000; round++) {
                size_t n = (size_t)(rand() % (int)sizeof buf);

                for (size_t i = 0; i < n; i++)
                        buf[i] = (uint8_t)rand();
                if (n)
                        buf[0] = (uint8_t)(1 + rand() % 9);
                vbuf_reset(&canon);
                (void)record_decode(&dec, 0, buf, n, &canon, &why);
        }
        record_decoder_done(&dec);
        vbuf_free(&canon);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_varint),         cmocka_unit_test(test_strings),
                cmocka_unit_test(test_json_escape),    cmocka_unit_test(test_csv),
                cmocka_unit_test(test_time),           cmocka_unit_test(test_literals),
                cmocka_unit_test(test_lines),
                cmocka_unit_test(test_lines_fast_path),          cmocka_unit_test(test_bloom),
                cmocka_unit_test(test_bloom_saturation),
                cmocka_unit_test(test_binary),         cmocka_unit_test(test_binary_fast_path),
                cmocka_unit_test(test_store_roundtrip),
                cmocka_unit_test(test_store_units),
                cmocka_unit_test(test_seal_orphans),   cmocka_unit_test(test_decoder_garbage),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
