/* Byte-level encoding of stored values: a growable output buffer and a
 * bounds-checked input cursor. Integers are LEB128 varints (zigzag for signed),
 * strings are varint(len + 1) then the bytes, with 0 meaning "absent".
 * Decoding never reads past the input and reports any overrun or bound
 * violation through the cursor's sticky error flag. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vbuf {
        uint8_t *p;
        size_t len, cap;
        bool oom; /* sticky: an allocation failed, the content is incomplete */
} vbuf;

void vbuf_free(vbuf *b);
void vbuf_reset(vbuf *b); /* keep the allocation */
/* Make room for @n more bytes; returns a pointer to them or NULL (sets oom). */
uint8_t *vbuf_reserve(vbuf *b, size_t n);
void vbuf_put(vbuf *b, const void *p, size_t n);
void vbuf_u8(vbuf *b, uint8_t v);
void vbuf_varint(vbuf *b, uint64_t v);
void vbuf_zigzag(vbuf *b, int64_t v);
void vbuf_be32(vbuf *b, uint32_t v);
void vbuf_be64(vbuf *b, uint64_t v);
void vbuf_str(vbuf *b, const char *s); /* NULL is encoded as absent */
void vbuf_strv(vbuf *b, const char *const *v, size_t n);

typedef struct vdec {
        const uint8_t *p;
        size_t len, pos;
        bool err; /* sticky: malformed or truncated */
} vdec;

static inline vdec vdec_init(const void *p, size_t len)
{
        return (vdec){ .p = p, .len = len };
}
uint8_t vdec_u8(vdec *d);
uint64_t vdec_varint(vdec *d);
/* A varint that must be <= max (else err). */
uint64_t vdec_varint_max(vdec *d, uint64_t max);
int64_t vdec_zigzag(vdec *d);
uint32_t vdec_be32(vdec *d);
uint64_t vdec_be64(vdec *d);
/* Borrow @n bytes; NULL (and err) when fewer remain. */
const uint8_t *vdec_bytes(vdec *d, size_t n);
/* A string as a malloc'd NUL-terminated copy in *ret (NULL when absent). Strings
 * containing NUL or longer than VIGIL_STORE_MAX_STRING set err. Returns false on
 * err or allocation failure (then *ret is NULL). */
bool vdec_str(vdec *d, char **ret);
bool vdec_strv(vdec *d, char ***ret, size_t *ret_n);
static inline bool vdec_done(const vdec *d)
{
        return !d->err && d->pos == d->len;
}

void strv_free(char **v, size_t n);

static inline void be64_put(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}
static inline uint64_t be64_get(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}
static inline void be32_put(uint8_t *p, uint32_t v)
{
        for (int i = 3; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}
static inline uint32_t be32_get(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
