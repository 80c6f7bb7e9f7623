/* fuzz-mask: random chunkings of random text with planted secrets.
 *
 * Input: byte 0 = mode and options, bytes 1-4 = seed, the rest = filler.
 * The seed drives which secrets are generated (fresh Luhn-valid cards,
 * valid IBANs, random tokens, ...), where they are planted and how the text
 * is cut into feeds (1 byte to 4 KiB).
 *
 * Every run checks:
 *   - the output does not depend on the chunking or on the window scans:
 *     the chunked, windowed stream gives exactly what one feed through a
 *     stream without windows gives;
 *   - the terminal copy equals the recording when no echo is expected.
 * Mode "clean" (byte 0 bit 0 set) maps the filler onto text that cannot hold
 * any secret (lowercase letters, punctuation, escape sequences, UTF-8) and
 * checks the output byte for byte: each planted secret replaced by its mask,
 * everything else unchanged. Mode "raw" keeps the filler as is (any bytes,
 * near-misses, chance matches), uses one of several rule subsets (bits 1-3
 * of byte 0) and checks that no planted secret of an enabled rule survives:
 * each occurs in the output fewer times than in the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "mask-internal.h"

#define MAX_PLANT 12

typedef struct text {
        char *p;
        size_t n, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
        if (n == 0)
                return;
        if (t->n + n > t->cap) {
                t->cap = (t->n + n) * 2 + 256;
                t->p = realloc(t->p, t->cap);
                if (!t->p)
                        abort();
        }
        memcpy(t->p + t->n, s, n);
        t->n += n;
}

static void puts_(text *t, const char *s)
{
        put(t, s, strlen(s));
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return n ? (uint32_t)(rng % n) : 0;
}

static void rand_from(char *out, size_t n, const char *alphabet)
{
        size_t a = strlen(alphabet);

        for (size_t i = 0; i < n; i++)
                out[i] = alphabet[rnd((uint32_t)a)];
        out[n] = 0;
}

#define UPPERNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define B64URL ALNUM "_-"
#define LOWER "abcdefghijklmnopqrstuvwxyz"

/* One planted secret: visible lead, the secret, and the mask name. */
typedef struct plant {
        char lead[64];
        char secret[1024];
        const char *after; /* visible text right after the secret (a closing quote) */
        const char *name;
        const char *replace; /* expected replacement text */
} plant;

static void gen_card(char *out)
{
        int d[16], sum = 0;
        char sep = " -\0"[rnd(3)];
        size_t n = 0;

        d[0] = 4 + (int)rnd(3);
        for (int i = 1; i < 15; i++)
                d[i] = (int)rnd(10);
        for (int i = 0; i < 15; i++) {
                int x = d[14 - i];

                if (i % 2 == 0) {
                        x *= 2;
                        if (x > 9)
                                x -= 9;
                }
                sum += x;
        }
        d[15] = (10 - sum % 10) % 10;
        for (int i = 0; i < 16; i++) {
                if (i && i % 4 == 0 && sep)
                        out[n++] = sep;
                out[n++] = (char)('0' + d[i]);
        }
        out[n] = 0;
}

static void gen_iban(char *out)
{
        char bban[19], num[64];
        unsigned rem = 0;
        size_t n = 0;
        bool spaces = rnd(2);

        rand_from(bban, 18, "0123456789");
        /* check digits: 98 - (BBAN + "DE00" as a number) mod 97; D=13 E=14 */
        snprintf(num, sizeof(num), "%s131400", bban);
        for (const char *c = num; *c; c++)
                rem = (rem * 10 + (unsigned)(*c - '0')) % 97;
        n = (size_t)sprintf(out, "DE%02u", 98 - rem);
        for (int i = 0; i < 18; i++) {
                if (spaces && i % 4 == 0)
                        out[n++] = ' ';
                out[n++] = bban[i];
        }
        out[n] = 0;
}

static void gen(plant *p)
{
        char a[256], b[256], c[256];

        memset(p, 0, sizeof(*p));
        switch (rnd(12)) {
        case 0:
                gen_card(p->secret);
                p->name = "credit-card";
                break;
        case 1:
                rand_from(a, 16, UPPERNUM);
                snprintf(p->secret, sizeof(p->secret), "%s%s", rnd(2) ? "AKIA" : "ASIA", a);
                p->name = "aws-access-key";
                break;
        case 2:
                snprintf(p->lead, sizeof(p->lead), "%s",
                         rnd(2) ? "aws_secret_access_key = " : "AWS_SECRET_ACCESS_KEY=");
                rand_from(p->secret, 40, ALNUM "/+");
                p->name = "aws-secret-key";
                break;
        case 3:
                rand_from(a, 64, ALNUM "+/");
                rand_from(b, 64, ALNUM "+/");
                rand_from(c, 20, ALNUM "+/");
                snprintf(p->secret, sizeof(p->secret),
                         "-----BEGIN %sPRIVATE KEY-----\n%s\r\n%s\n%s==\n-----END %sPRIVATE KEY-----",
                         rnd(2) ? "RSA " : "OPENSSH ", a, b, c, rnd(2) ? "RSA " : "OPENSSH ");
                p->name = "private-key";
                break;
        case 4:
                rand_from(a, 5 + rnd(30), B64URL);
                rand_from(b, 3 + rnd(60), B64URL);
                rand_from(c, rnd(50), B64URL);
                snprintf(p->secret, sizeof(p->secret), "eyJ%s.ey%s.%s", a, b, c);
                /* The signature must not end in a way that extends the token. */
                p->name = "jwt";
                break;
        case 5:
                if (rnd(2)) {
                        rand_from(a, 36, ALNUM);
                        snprintf(p->secret, sizeof(p->secret), "gh%c_%s", "pousr"[rnd(5)], a);
                } else {
                        rand_from(a, 22 + rnd(60), ALNUM "_");
                        snprintf(p->secret, sizeof(p->secret), "github_pat_%s", a);
                }
                p->name = "github-token";
                break;
        case 6:
                rand_from(a, 10 + rnd(40), ALNUM "-");
                snprintf(p->secret, sizeof(p->secret), "xox%c-%s", "abpr"[rnd(4)], a);
                p->name = "slack-token";
                break;
        case 7:
                snprintf(p->secret, sizeof(p->secret), "%03u-%02u-%04u", 1 + rnd(665), 1 + rnd(99),
                         1 + rnd(9999));
                p->name = "ssn-us";
                break;
        case 8:
                rand_from(a, 1 + rnd(20), LOWER);
                rand_from(b, 1 + rnd(20), LOWER);
                rand_from(c, 2 + rnd(6), LOWER);
                snprintf(p->secret, sizeof(p->secret), "%s@%s.%s", a, b, c);
                p->name = "email";
                break;
        case 9:
                gen_iban(p->secret);
                p->name = "iban";
                break;
        case 10: {
                static const char *const leads[] = {"password=", "DB_PASSWORD=", "token: ", "\"secret\": \"",
                                                    "passwd = "};
                size_t k = rnd(5);

                snprintf(p->lead, sizeof(p->lead), "%s", leads[k]);
                rand_from(p->secret, 4 + rnd(30), LOWER "0123456789");
                if (k == 3)
                        p->after = "\"";
                p->name = "password-assignment";
                break;
        }
        default:
                rand_from(a, 6, "0123456789");
                snprintf(p->secret, sizeof(p->secret), "SK-%s", a);
                p->name = "regex";
                p->replace = "SK-XXXXXX";
                break;
        }
}

static const char *const escapes[] = {"\033[31m",       "\033[0m", "\033[1;32m",    "\033[K",
                                      "\033]0;title\a", "\033(B",  "\033[38;5;208m"};

/* Filler that cannot contain a secret, from arbitrary bytes. */
static void clean_filler(text *t, const uint8_t *d, size_t n)
{
        static const char safe[] = LOWER LOWER " \n\r\t,!?()/";

        for (size_t i = 0; i < n; i++) {
                if (d[i] >= 0xf8)
                        puts_(t, escapes[d[i] % (sizeof(escapes) / sizeof(escapes[0]))]);
                else if (d[i] >= 0xf0)
                        puts_(t, "\xc3\xa9"); /* é */
                else
                        put(t, &safe[d[i] % (sizeof(safe) - 1)], 1);
        }
}

/* Rule sets: all detectors (and a regex= rule), or, in raw mode, one of a
 * few subsets (the window scans then run with other minimum run lengths). */
static const char *const subsets[][12] = {
        {NULL}, /* all */
        {"credit-card", NULL},
        {"aws-access-key", NULL},
        {"iban", "ssn-us", NULL},
        {"password-assignment", "aws-secret-key", NULL},
        {"email", "jwt", "private-key", NULL},
        {"github-token", "slack-token", "credit-card", NULL},
        {"regex", NULL},
};
#define N_SUBSETS (sizeof(subsets) / sizeof(subsets[0]))

static bool in_subset(size_t k, const char *name)
{
        if (k == 0)
                return true;
        for (size_t i = 0; subsets[k][i]; i++)
                if (strcmp(subsets[k][i], name) == 0)
                        return true;
        return false;
}

static vigil_mask_set *the_set(size_t k)
{
        static vigil_mask_set *sets[N_SUBSETS];
        vigil_mask_rule rules[VIGIL_MASK_MAX_RULES];
        size_t n = 0;

        if (sets[k])
                return sets[k];
        for (size_t i = 0; vigil_mask_detectors[i]; i++)
                if (in_subset(k, vigil_mask_detectors[i]))
                        rules[n++] = (vigil_mask_rule){.detector = vigil_mask_detectors[i]};
        if (in_subset(k, "regex"))
                rules[n++] = (vigil_mask_rule){.regex = "(SK)-[0-9]{6}(?![0-9])", .replace = "$1-XXXXXX"};
        if (vigil_mask_set_new(rules, n, &sets[k], NULL) < 0)
                abort();
        return sets[k];
}

static size_t count(const char *hay, size_t n, const char *needle)
{
        size_t k = strlen(needle), c = 0;

        for (size_t i = 0; k && i + k <= n; i++)
                if (memcmp(hay + i, needle, k) == 0)
                        c++;
        return c;
}

static void fail(const char *what, const text *in, const vigil_mask_buf *out)
{
        const char *dump = getenv("FUZZ_MASK_DUMP");

        /* FUZZ_MASK_DUMP=FILE: the generated text, for mask-filter. */
        if (dump) {
                FILE *f = fopen(dump, "we");

                if (f) {
                        (void)fwrite(in->p, 1, in->n, f);
                        (void)fclose(f);
                }
        }
        fprintf(stderr, "fuzz-mask: %s\n--- input (%zu)\n%.*s\n--- output (%zu)\n%.*s\n", what, in->n,
                (int)in->n, in->p, out->len, (int)out->len, out->data);
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigil_mask_set *set;
        vigil_mask_stream *s = NULL, *ref = NULL;
        size_t subset;
        vigil_mask_buf out = {0}, term = {0}, rout = {0};
        text in = {0}, want = {0};
        plant pl[MAX_PLANT];
        size_t np, cuts[MAX_PLANT], nf;
        const uint8_t *filler;
        bool clean;

        if (size < 5 || size > 65536)
                return 0;
        clean = data[0] & 1;
        subset = clean ? 0 : (data[0] >> 1) % N_SUBSETS;
        set = the_set(subset);
        rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)data[1] | (uint64_t)data[2] << 8 | (uint64_t)data[3] << 16 |
                                       (uint64_t)data[4] << 24);
        filler = data + 5;
        nf = size - 5;
        np = rnd(MAX_PLANT + 1);
        for (size_t i = 0; i < np; i++) {
                gen(&pl[i]);
                cuts[i] = rnd((uint32_t)nf + 1);
        }
        /* Cut points in order, so the filler keeps its order. */
        for (size_t i = 1; i < np; i++)
                for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                        size_t x = cuts[j];

                        cuts[j] = cuts[j - 1];
                        cuts[j - 1] = x;
                }

        for (size_t i = 0, at = 0; i <= np; i++) {
                size_t end = i < np ? cuts[i] : nf;
                size_t before = in.n;

                if (clean)
                        clean_filler(&in, filler + at, end - at);
                else
                        put(&in, (const char *)filler + at, end - at);
                if (in.n > before)
                        put(&want, in.p + before, in.n - before);
                at = end;
                if (i < np) {
                        static const char *const open[] = {"\n", " ", "\n\033[31m", "\t"};
                        static const char *const close[] = {"\n", " ", "\033[0m\n", "\t"};
                        /* Raw filler may end in anything: only a newline reliably ends it. */
                        size_t d = clean ? rnd(4) : 0;
                        char mask[64];

                        snprintf(mask, sizeof(mask), "[MASKED:%s]", pl[i].name);
                        puts_(&in, open[d]);
                        puts_(&in, pl[i].lead);
                        puts_(&in, pl[i].secret);
                        puts_(&in, pl[i].after ? pl[i].after : "");
                        puts_(&in, close[d]);
                        puts_(&want, open[d]);
                        puts_(&want, pl[i].lead);
                        puts_(&want, pl[i].replace ? pl[i].replace : mask);
                        puts_(&want, pl[i].after ? pl[i].after : "");
                        puts_(&want, close[d]);
                }
        }

        if (vigil_mask_stream_new(set, 0, &s) < 0 || vigil_mask_stream_new(set, 0, &ref) < 0)
                abort();
        mask_stream_debug_no_prefilter(ref);
        for (size_t off = 0; off < in.n;) {
                size_t n = rnd(4) == 0 ? 1 + rnd(4096) : 1 + rnd(64);

                if (n > in.n - off)
                        n = in.n - off;
                if (vigil_mask_stream_feed(s, in.p + off, n, &out, &term) < 0)
                        abort();
                if (vigil_mask_stream_held(s) > VIGIL_MASK_MAX_HOLD)
                        fail("holds more than VIGIL_MASK_MAX_HOLD", &in, &out);
                off += n;
        }
        if (vigil_mask_stream_flush(s, &out, &term) < 0)
                abort();
        if (vigil_mask_stream_feed(ref, in.p, in.n, &rout, NULL) < 0 ||
            vigil_mask_stream_flush(ref, &rout, NULL) < 0)
                abort();

        if (out.len != rout.len || memcmp(out.data, rout.data, out.len) != 0)
                fail("chunked/windowed output differs from one feed without windows", &in, &out);
        if (term.len != out.len || memcmp(term.data, out.data, out.len) != 0)
                fail("terminal copy differs from the recording", &in, &out);
        if (clean) {
                if (want.n != out.len || memcmp(want.p, out.data, out.len) != 0) {
                        fprintf(stderr, "--- expected (%zu)\n%.*s\n", want.n, (int)want.n, want.p);
                        fail("clean text: output is not the input with exactly the planted secrets masked",
                             &in, &out);
                }
        } else {
                for (size_t i = 0; i < np; i++) {
                        size_t planted = 0;

                        if (!in_subset(subset, pl[i].name))
                                continue;
                        for (size_t j = 0; j < np; j++)
                                planted += strcmp(pl[j].secret, pl[i].secret) == 0;
                        if (count(out.data, out.len, pl[i].secret) + planted >
                            count(in.p, in.n, pl[i].secret))
                                fail("a planted secret is visible in the output", &in, &out);
                }
        }
        vigil_mask_stream_free(s);
        vigil_mask_stream_free(ref);
        vigil_mask_buf_done(&out);
        vigil_mask_buf_done(&term);
        vigil_mask_buf_done(&rout);
        free(in.p);
        free(want.p);
        return 0;
}
