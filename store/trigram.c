/* Lines as shown, and the trigram signatures of the search index.
 *
 * The writer and the search must cut output into lines identically, or the
 * index would rule out a unit that does contain a match: both use
 * line_norm_feed(), which drops terminal escape sequences and control bytes
 * and ends a line at CR or LF. Each unit's signature has one bit per trigram
 * hash (k = 1, a Bloom filter folded down to the smallest power of two that
 * stays at most 60% full, so each of a query's trigrams halves the chance
 * of a false candidate or better). The writer may store "unindexed" instead
 * when the signature would cost too much against the compressed text; that is
 * always sound (the search then reads the unit). */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

enum {
        N_TEXT,
        N_ESC,    /* after ESC */
        N_CSI,    /* ESC [ ... final byte */
        N_STRING, /* OSC, DCS, SOS, PM, APC: up to BEL or ESC \ */
        N_STRING_ESC,
        N_ESC_INTER, /* ESC with intermediate bytes, up to a final byte */
};

static void emit(line_norm *n, line_fn fn, void *userdata)
{
        if (n->line.len)
                fn(userdata, n->line.p, n->line.len);
        vbuf_reset(&n->line);
}

void line_norm_break(line_norm *n, line_fn fn, void *userdata)
{
        emit(n, fn, userdata);
        n->state = N_TEXT;
}

void line_norm_done(line_norm *n)
{
        vbuf_free(&n->line);
        n->state = N_TEXT;
}

/* Length of the run of shown bytes (0x20..0x7e, 0x80..0xff, tab) at @p,
 * at most @max: sixteen bytes at a time (compiler vectors: SSE2, NEON). */
typedef uint8_t u8x16 __attribute__((vector_size(16)));

static size_t shown_run(const uint8_t *p, size_t max)
{
        size_t j = 0;

        while (max - j >= 16) {
                u8x16 v, stop;
                uint64_t w[2];

                memcpy(&v, p + j, sizeof(v));
                stop = (u8x16)((v < 0x20) & (v != '\t')) | (u8x16)(v == 0x7f);
                memcpy(w, &stop, sizeof(w));
                if (w[0] | w[1])
                        break;
                j += 16;
        }
        while (j < max && ((p[j] >= 0x20 && p[j] != 0x7f) || p[j] == '\t'))
                j++;
        return j;
}

void line_norm_feed(line_norm *n, const uint8_t *p, size_t len, line_fn fn, void *userdata)
{
        for (size_t i = 0; i < len; i++) {
                uint8_t c = p[i];

                switch (n->state) {
                case N_TEXT:
                        if ((c >= 0x20 && c != 0x7f) || c == '\t') {
                                /* the common case: a run of shown bytes, appended at once */
                                size_t room = LINE_MAX_LEN - n->line.len, max = len - i < room ? len - i : room;
                                size_t j = i + 1;

                                if (max > 1)
                                        j += shown_run(p + j, max - 1);

                                vbuf_put(&n->line, p + i, j - i);
                                if (n->line.len >= LINE_MAX_LEN)
                                        emit(n, fn, userdata);
                                i = j - 1;
                        } else if (c == '\n' || c == '\r')
                                emit(n, fn, userdata);
                        else if (c == 0x1b)
                                n->state = N_ESC;
                        else if (c == '\b') {
                                if (n->line.len)
                                        n->line.len--;
                        } else if ((c < 0x20 && c != '\t') || c == 0x7f)
                                ; /* not shown */
                        else {
                                vbuf_u8(&n->line, c);
                                if (n->line.len >= LINE_MAX_LEN)
                                        emit(n, fn, userdata);
                        }
                        break;
                case N_ESC:
                        if (c == '[')
                                n->state = N_CSI;
                        else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
                                n->state = N_STRING;
                        else if (c >= 0x20 && c <= 0x2f)
                                n->state = N_ESC_INTER;
                        else
                                n->state = N_TEXT;
                        break;
                case N_CSI:
                        if (c >= 0x40 && c <= 0x7e)
                                n->state = N_TEXT;
                        else if (c == 0x1b)
                                n->state = N_ESC;
                        else if (c == '\n' || c == '\r') {
                                /* A broken sequence must not swallow lines. */
                                n->state = N_TEXT;
                                emit(n, fn, userdata);
                        }
                        break;
                case N_STRING:
                        if (c == 0x07)
                                n->state = N_TEXT;
                        else if (c == 0x1b)
                                n->state = N_STRING_ESC;
                        else if (c == '\n' || c == '\r') {
                                n->state = N_TEXT;
                                emit(n, fn, userdata);
                        }
                        break;
                case N_STRING_ESC:
                        n->state = c == '\\' ? N_TEXT : N_STRING;
                        break;
                case N_ESC_INTER:
                        if (c >= 0x30 && c <= 0x7e)
                                n->state = N_TEXT;
                        else if (!(c >= 0x20 && c <= 0x2f))
                                n->state = N_TEXT;
                        break;
                default:
                        n->state = N_TEXT;
                }
        }
}

uint32_t trigram_hash(uint8_t a, uint8_t b, uint8_t c, bool command)
{
        return trigram_hash_inline(a, b, c, command);
}

/* A unit whose bits are this full after this many bytes is random-looking
 * (base64, binary kept in full): it would be folded into "unindexed" anyway
 * (ordinary text fills a few percent), so it is marked so at once and the
 * rest of it is not hashed; on bulk output that is most of the writer's CPU
 * time. "unindexed" is always a correct signature (the search reads the
 * unit, verify accepts it), so this is a matter of cost only. */
#define SATURATION_MIN_RAW (64u * 1024)
#define SATURATION_CHECK_EVERY (32u * 1024)
#define SATURATION_FILL_PERCENT 25      /* from 256 KiB on: a quarter of the bits set */
#define SATURATION_NEW_PER_BYTE_TENTHS 6 /* before: more than 0.6 distinct bits per byte (text: 0.1-0.3) */
#define SATURATION_EARLY_RAW (16u * 1024)  /* bloom_expect_random(): first check here, */
#define SATURATION_EARLY_TENTHS 8          /* ... against 0.8 bits per byte (base64: 0.95) */

int bloom_init(bloom *b)
{
        /* every field: a caller's bloom may live on the stack */
        *b = (bloom){ .next_check = SATURATION_MIN_RAW };
        b->bits = calloc(1, (1u << BLOOM_MAX_LOG) / 8);
        return b->bits ? 0 : -ENOMEM;
}

void bloom_done(bloom *b)
{
        free(b->bits);
        b->bits = NULL;
}

void bloom_clear(bloom *b)
{
        memset(b->bits, 0, (1u << BLOOM_MAX_LOG) / 8);
        b->raw = 0;
        b->set = 0;
        b->next_check = SATURATION_MIN_RAW;
        b->saturated = false;
        b->early = false;
}

void bloom_expect_random(bloom *b)
{
        if (b->raw < SATURATION_EARLY_RAW) {
                b->early = true;
                b->next_check = SATURATION_EARLY_RAW;
        }
}

static size_t popcount_bytes(const uint8_t *p, size_t n);

void bloom_add_line(bloom *b, const uint8_t *line, size_t len, bool command)
{
        const uint32_t mask = (1u << BLOOM_MAX_LOG) - 1;
        /* The bits set are counted as they are set (the saturation check
         * needs the count; a scan of 64 KiB each time cost more than the
         * hashing). Locals, not b->: stores through a byte pointer may alias
         * anything, which would put a load and a store of b->set on every
         * trigram's path. */
        uint8_t *bits = b->bits;
        size_t set = b->set;

        b->raw += len;
        if (len < 3 || b->saturated)
                return;
        for (size_t i = 0; i + 2 < len; i++) {
                uint32_t h = trigram_hash_inline(line[i], line[i + 1], line[i + 2], command) & mask;
                uint8_t *byte = &bits[h >> 3], bit = (uint8_t)(1u << (h & 7));

                set += !(*byte & bit);
                *byte |= bit;
        }
        b->set = set;
        if (b->raw >= b->next_check && b->early) {
                b->early = false;
                b->next_check = SATURATION_MIN_RAW;
                if (set * 10 > b->raw * SATURATION_EARLY_TENTHS)
                        b->saturated = true;
        } else if (b->raw >= b->next_check) {
                b->next_check = b->raw + SATURATION_CHECK_EVERY;
                /* random data sets a new bit for nearly every byte until the
                 * bits fill up; text repeats its trigrams */
                if (set * 10 > b->raw * SATURATION_NEW_PER_BYTE_TENTHS ||
                    (b->raw >= 4 * SATURATION_MIN_RAW &&
                     set * 100 > (size_t)(1u << BLOOM_MAX_LOG) * SATURATION_FILL_PERCENT))
                        b->saturated = true;
        }
}

void bloom_line_cb(void *userdata, const uint8_t *line, size_t len)
{
        bloom_add_line(userdata, line, len, false);
}

/* Bits set in 8 bytes, without a library call (no POPCNT instruction in
 * the baseline x86-64 the package is built for). */
static inline size_t popcount64(uint64_t x)
{
        x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
        x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
        x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
        return (size_t)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* @n is a multiple of 8 (the signatures are 64 bytes and more). */
static size_t popcount_bytes(const uint8_t *p, size_t n)
{
        size_t c = 0;

        for (size_t i = 0; i < n; i += 8) {
                uint64_t w;

                memcpy(&w, p + i, 8);
                c += popcount64(w);
        }
        return c;
}

enum {
        BLOOM_ALL = 0,     /* unindexed: every query may match */
        BLOOM_EMPTY = 0xff, /* no trigram at all */
};

static void fold_once(uint8_t *work, size_t half)
{
        for (size_t i = 0; i < half; i++)
                work[i] |= work[i + half];
}

static size_t fold_fill(const uint8_t *work, size_t half)
{
        size_t set = 0;

        for (size_t i = 0; i < half; i += 8) {
                uint64_t a, b;

                memcpy(&a, work + i, 8);
                memcpy(&b, work + i + half, 8);
                set += popcount64(a | b);
        }
        return set;
}

void bloom_finish(const bloom *b, size_t max_bytes, vbuf *out)
{
        size_t bytes = (1u << BLOOM_MAX_LOG) / 8;
        unsigned log = BLOOM_MAX_LOG;
        uint8_t *work;

        if (b->saturated) {
                vbuf_u8(out, BLOOM_ALL);
                return;
        }
        if (b->set == 0) {
                vbuf_u8(out, BLOOM_EMPTY);
                return;
        }
        work = malloc(bytes);
        if (!work) {
                out->oom = true;
                return;
        }
        memcpy(work, b->bits, bytes);
        /* Fold halves together while the result stays at most 30% full (each
         * absent trigram of a query then rules a unit out 7 times in 10), and
         * further while it is larger than the budget. */
        while (log > BLOOM_MIN_LOG) {
                size_t half = bytes / 2;

                if ((max_bytes == 0 || bytes <= max_bytes) && fold_fill(work, half) * 10 > half * 8 * 3)
                        break;
                fold_once(work, half);
                bytes = half;
                log--;
        }
        /* Too full to rule much out (random data, or a budget too small for
         * the text): mark the unit unindexed, which the search always reads. */
        if (popcount_bytes(work, bytes) * 10 > bytes * 8 * 6)
                vbuf_u8(out, BLOOM_ALL);
        else {
                vbuf_u8(out, (uint8_t)log);
                vbuf_put(out, work, bytes);
        }
        free(work);
}

int bloom_check_stored(const bloom *b, const uint8_t *sig, size_t len)
{
        size_t bytes = (1u << BLOOM_MAX_LOG) / 8;
        unsigned log;
        uint8_t *work;
        int r = 0;

        if (len < 1)
                return -1;
        if (sig[0] == BLOOM_ALL)
                return len == 1 ? 0 : -1;
        if (sig[0] == BLOOM_EMPTY)
                return len == 1 && b->set == 0 ? 0 : -1;
        log = sig[0];
        if (log < BLOOM_MIN_LOG || log > BLOOM_MAX_LOG || len != 1 + ((size_t)1 << log) / 8)
                return -1;
        work = malloc(bytes);
        if (!work)
                return -ENOMEM;
        memcpy(work, b->bits, bytes);
        for (unsigned l = BLOOM_MAX_LOG; l > log; l--) {
                fold_once(work, bytes / 2);
                bytes /= 2;
        }
        /* Every trigram of the records must be there; extra bits only cost
         * speed and are not a way to hide anything. */
        for (size_t i = 0; i < bytes; i++)
                if (work[i] & ~sig[1 + i]) {
                        r = -1;
                        break;
                }
        free(work);
        return r;
}

bool bloom_stored_may_contain(const uint8_t *val, size_t len, const uint32_t *hashes, size_t n)
{
        unsigned log;
        uint32_t mask;

        if (len < 1)
                return true;
        log = val[0];
        if (log == BLOOM_ALL)
                return true;
        if (log == BLOOM_EMPTY)
                return n == 0;
        if (log < BLOOM_MIN_LOG || log > BLOOM_MAX_LOG || len != 1 + ((size_t)1 << log) / 8)
                return true; /* damaged: never rule a unit out */
        mask = (1u << log) - 1;
        for (size_t i = 0; i < n; i++) {
                uint32_t h = hashes[i] & mask;

                if (!(val[1 + (h >> 3)] & (1u << (h & 7))))
                        return false;
        }
        return true;
}
