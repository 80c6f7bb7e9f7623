/* Window scans: cheap passes that find where a built-in detector's match can
 * start, so that its regex runs there and not on every byte. Each scan is
 * conservative (it may report a window where nothing matches, never miss
 * one); the answers are cached per view because several detectors share a
 * trigger and the process loop asks again after every match. */
#include <string.h>

#include "mask-internal.h"

enum {
        C_DIGIT = 1 << 0, /* 0-9 */
        C_DSEP = 1 << 1,  /* ' ' '-' inside a digit run */
        C_UPPER = 1 << 2, /* A-Z 0-9 */
        C_USEP = 1 << 3,  /* ' ' inside an upper run */
};

static const unsigned char cls[256] = {
        [' '] = C_DSEP | C_USEP,
        ['-'] = C_DSEP,
        ['0' ... '9'] = C_DIGIT | C_UPPER,
        ['A' ... 'Z'] = C_UPPER,
};

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bytes in [lo, lo + span] (unsigned) as 0xff lanes. */
static inline __m128i in_range(__m128i x, unsigned char lo, unsigned char span)
{
        __m128i d = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));

        return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)span)), d);
}

static inline __m128i load16(const unsigned char *p)
{
        return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline unsigned run16(const unsigned char *p, bool upper)
{
        __m128i x = load16(p);
        __m128i r = _mm_or_si128(in_range(x, '0', 9), _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));

        r = _mm_or_si128(r, upper ? in_range(x, 'A', 25) : _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
        return (unsigned)_mm_movemask_epi8(r);
}

/* Bit i set when p[i] continues a run: a digit, ' ' or '-' (digits), or
 * A-Z, 0-9, ' ' (upper). */
static inline __attribute__((always_inline)) uint64_t run_mask64(const unsigned char *p, bool upper)
{
        return (uint64_t)run16(p, upper) | (uint64_t)run16(p + 16, upper) << 16 |
               (uint64_t)run16(p + 32, upper) << 32 | (uint64_t)run16(p + 48, upper) << 48;
}
#else
static inline uint64_t run_mask64(const unsigned char *p, bool upper)
{
        unsigned want = upper ? (C_UPPER | C_USEP) : (C_DIGIT | C_DSEP);
        uint64_t m = 0;

        for (int i = 0; i < 64; i++)
                m |= (uint64_t) !!(cls[p[i]] & want) << i;
        return m;
}
#endif

/* Start (>= i) of the first run of at least L run bytes, or vlen. Runs are
 * found 64 bytes at a time: in most text they are short, and base64, the
 * worst case, breaks them every few bytes. */
static inline __attribute__((always_inline)) size_t find_long_run(const unsigned char *u, size_t i,
                                                                  size_t vlen, unsigned L, bool upper)
{
        unsigned want = upper ? (C_UPPER | C_USEP) : (C_DIGIT | C_DSEP);
        size_t base = i, run = 0, run_start = i;

        while (base + 64 <= vlen) {
                uint64_t m = run_mask64(u + base, upper), y = m;
                unsigned lead;

                if (m == ~(uint64_t)0) {
                        if (run == 0)
                                run_start = base;
                        run += 64;
                        if (run >= L)
                                return run_start;
                        base += 64;
                        continue;
                }
                lead = (unsigned)__builtin_ctzll(~m);
                if (run + lead >= L)
                        return run ? run_start : base;
                /* y bit j: bytes j .. j+L-1 are all run bytes (L <= 32). The first
                 * such j follows a non-run byte (the leading run is shorter than L). */
                if (L >= 9 && L <= 32) {
                        y &= y >> 1;
                        y &= y >> 2;
                        y &= y >> 4;
                        if (L > 16) {
                                y &= y >> 8;
                                y &= y >> (L - 16);
                        } else {
                                y &= y >> (L - 8);
                        }
                } else {
                        for (unsigned k = 1; k < L && y;) {
                                unsigned sh = k < L - k ? k : L - k;

                                y &= y >> sh;
                                k += sh;
                        }
                }
                if (y)
                        return base + (size_t)__builtin_ctzll(y);
                run = (unsigned)__builtin_clzll(~m);
                run_start = base + 64 - run;
                base += 64;
        }
        for (; base < vlen; base++) {
                if (!(cls[u[base]] & want)) {
                        run = 0;
                        continue;
                }
                if (run++ == 0)
                        run_start = base;
                if (run >= L)
                        return run_start;
        }
        return vlen;
}

/* The first run (clipped to start >= from, starting before limit) holding at
 * least min counted bytes: digits for TRIG_DIGITS, A-Z 0-9 for TRIG_UPPER. */
static bool scan_run(const char *v, size_t vlen, size_t from, size_t limit, unsigned min, bool upper,
                     size_t *ret_a, size_t *ret_b)
{
        const unsigned char *u = (const unsigned char *)v;
        unsigned counted = upper ? C_UPPER : C_DIGIT, gap = upper ? C_USEP : C_DSEP;
        size_t i = from;

        while (i < vlen) {
                size_t h = upper ? find_long_run(u, i, vlen, min, true)
                                 : find_long_run(u, i, vlen, min, false),
                       e = h;
                unsigned n = 0;

                if (h >= vlen || h >= limit)
                        return false;
                while (e < vlen && (cls[u[e]] & (counted | gap))) {
                        n += !!(cls[u[e]] & counted);
                        e++;
                }
                if (n >= min) {
                        *ret_a = h;
                        *ret_b = e;
                        return true;
                }
                i = e;
        }
        return false;
}

/* Next position >= x of byte b (vlen when none), cached. */
static size_t next_byte(search_ctx *c, scan_cache *k, char b, size_t x)
{
        const char *hit;

        if (k->valid && k->x0 <= x && x <= k->a)
                return k->a;
        hit = x < c->vlen ? memchr(c->view + x, b, c->vlen - x) : NULL;
        k->x0 = x;
        k->a = hit ? (size_t)(hit - c->view) : c->vlen;
        k->valid = true;
        return k->a;
}

/* First t >= x with v[t..t+n) == lit (n >= 2), or vlen. The first two
 * bytes are compared 16 positions at a time, the rest on a hit. */
static size_t find_literal(const char *v, size_t vlen, size_t x, const char *lit, size_t n)
{
        size_t t = x;

#if defined(__SSE2__)
        __m128i b0 = _mm_set1_epi8(lit[0]), b1 = _mm_set1_epi8(lit[1]);

        while (t + 17 <= vlen) {
                const unsigned char *p = (const unsigned char *)v + t;
                __m128i e = _mm_and_si128(_mm_cmpeq_epi8(load16(p), b0), _mm_cmpeq_epi8(load16(p + 1), b1));
                unsigned m = (unsigned)_mm_movemask_epi8(e);

                while (m) {
                        size_t h = t + (size_t)__builtin_ctz(m);

                        if (h + n <= vlen && memcmp(v + h, lit, n) == 0)
                                return h;
                        m &= m - 1;
                }
                t += 16;
        }
#endif
        for (; t + n <= vlen; t++)
                if (v[t] == lit[0] && memcmp(v + t, lit, n) == 0)
                        return t;
        return vlen;
}

static size_t next_literal(search_ctx *c, scan_cache *k, const detector *d, size_t x)
{
        if (k->valid && k->x0 <= x && x <= k->a)
                return k->a;
        k->x0 = x;
        k->a = find_literal(c->view, c->vlen, x, d->lit, strlen(d->lit));
        k->valid = true;
        return k->a;
}

static size_t next_trigger(search_ctx *c, const detector *d, size_t x)
{
        size_t slot = SLOT_DETECTOR + (size_t)(d - mask_detectors);

        switch (d->trig) {
        case TRIG_ASSIGN: {
                size_t a = next_byte(c, &c->cache[SLOT_COLON], ':', x);
                size_t b = next_byte(c, &c->cache[SLOT_EQUAL], '=', x);

                return a < b ? a : b;
        }
        case TRIG_BYTE:
                return next_byte(c, &c->cache[slot], d->byte, x);
        case TRIG_LITERAL:
                return next_literal(c, &c->cache[slot], d, x);
        case TRIG_NONE:
        case TRIG_DIGITS:
        case TRIG_UPPER:
                break;
        }
        return c->vlen;
}

static bool run_window(search_ctx *c, const detector *d, size_t from, size_t limit, size_t *ret_ws,
                       size_t *ret_we)
{
        bool upper = d->trig == TRIG_UPPER;
        scan_cache *k = &c->cache[upper ? SLOT_UPPER : SLOT_DIGITS];

        if (!(k->valid && k->x0 <= from && from <= k->b)) {
                size_t a, b;
                unsigned min = c->set->run_min[upper] ?: d->min;

                k->x0 = from;
                k->valid = true;
                if (scan_run(c->view, c->vlen, from, c->vlen, min, upper, &a, &b)) {
                        k->a = a;
                        k->b = b;
                } else {
                        k->a = k->b = c->vlen;
                }
        }
        if (k->a >= limit || k->a >= c->vlen)
                return false;
        *ret_ws = k->a > from ? k->a : from;
        *ret_we = k->b;
        return true;
}

bool mask_scan_window(search_ctx *c, const detector *d, size_t from, size_t limit, size_t *ret_ws,
                      size_t *ret_we)
{
        size_t back_lo = d->trig == TRIG_BYTE ? d->back_lo : 0;
        size_t back = d->trig == TRIG_LITERAL ? 0 : d->back;
        size_t t, ws, we;

        if (d->trig == TRIG_DIGITS || d->trig == TRIG_UPPER)
                return run_window(c, d, from, limit, ret_ws, ret_we);

        /* Window of trigger t: starts in [t - back, t - back_lo]. The first window
         * ending at or after `from` belongs to the first trigger >= from + back_lo. */
        t = next_trigger(c, d, from + back_lo);
        if (t >= c->vlen)
                return false;
        ws = t >= back ? t - back : 0;
        if (ws < from)
                ws = from;
        if (ws >= limit)
                return false;
        we = t - back_lo;
        for (;;) {
                size_t t2 = next_trigger(c, d, t + 1);

                if (t2 >= c->vlen || (t2 >= back ? t2 - back : 0) > we + 1)
                        break;
                t = t2;
                we = t - back_lo;
        }
        *ret_ws = ws;
        *ret_we = we;
        return true;
}
