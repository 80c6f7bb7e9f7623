#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "store.h"

void vbuf_free(vbuf *b)
{
        free(b->p);
        *b = (vbuf){ 0 };
}

void vbuf_reset(vbuf *b)
{
        b->len = 0;
        b->oom = false;
}

uint8_t *vbuf_reserve(vbuf *b, size_t n)
{
        if (b->oom)
                return NULL;
        if (n > SIZE_MAX / 2 - b->len) {
                b->oom = true;
                return NULL;
        }
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                uint8_t *np;

                while (cap < b->len + n)
                        cap *= 2;
                np = realloc(b->p, cap);
                if (!np) {
                        b->oom = true;
                        return NULL;
                }
                b->p = np;
                b->cap = cap;
        }
        return b->p + b->len;
}

void vbuf_put(vbuf *b, const void *p, size_t n)
{
        uint8_t *d;

        if (n == 0)
                return;
        d = vbuf_reserve(b, n);
        if (!d)
                return;
        memcpy(d, p, n);
        b->len += n;
}

void vbuf_u8(vbuf *b, uint8_t v)
{
        vbuf_put(b, &v, 1);
}

void vbuf_varint(vbuf *b, uint64_t v)
{
        uint8_t tmp[10];
        size_t n = 0;

        do {
                uint8_t c = v & 0x7f;

                v >>= 7;
                tmp[n++] = c | (v ? 0x80 : 0);
        } while (v);
        vbuf_put(b, tmp, n);
}

void vbuf_zigzag(vbuf *b, int64_t v)
{
        vbuf_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void vbuf_be32(vbuf *b, uint32_t v)
{
        uint8_t tmp[4];

        be32_put(tmp, v);
        vbuf_put(b, tmp, 4);
}

void vbuf_be64(vbuf *b, uint64_t v)
{
        uint8_t tmp[8];

        be64_put(tmp, v);
        vbuf_put(b, tmp, 8);
}

void vbuf_str(vbuf *b, const char *s)
{
        size_t n;

        if (!s) {
                vbuf_varint(b, 0);
                return;
        }
        n = strnlen(s, VIGIL_STORE_MAX_STRING);
        vbuf_varint(b, (uint64_t)n + 1);
        vbuf_put(b, s, n);
}

void vbuf_strv(vbuf *b, const char *const *v, size_t n)
{
        if (n > VIGIL_STORE_MAX_ARGV)
                n = VIGIL_STORE_MAX_ARGV;
        vbuf_varint(b, n);
        for (size_t i = 0; i < n; i++)
                vbuf_str(b, v[i] ? v[i] : "");
}

uint8_t vdec_u8(vdec *d)
{
        if (d->err || d->pos >= d->len) {
                d->err = true;
                return 0;
        }
        return d->p[d->pos++];
}

uint64_t vdec_varint(vdec *d)
{
        uint64_t v = 0;

        for (unsigned shift = 0; shift < 64; shift += 7) {
                uint8_t c = vdec_u8(d);

                if (d->err)
                        return 0;
                /* The tenth byte may only carry the top bit. */
                if (shift == 63 && c > 1) {
                        d->err = true;
                        return 0;
                }
                v |= (uint64_t)(c & 0x7f) << shift;
                if (!(c & 0x80))
                        return v;
        }
        d->err = true;
        return 0;
}

uint64_t vdec_varint_max(vdec *d, uint64_t max)
{
        uint64_t v = vdec_varint(d);

        if (v > max) {
                d->err = true;
                return 0;
        }
        return v;
}

int64_t vdec_zigzag(vdec *d)
{
        uint64_t v = vdec_varint(d);

        return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

const uint8_t *vdec_bytes(vdec *d, size_t n)
{
        const uint8_t *p;

        if (d->err || n > d->len - d->pos) {
                d->err = true;
                return NULL;
        }
        p = d->p + d->pos;
        d->pos += n;
        return p;
}

uint32_t vdec_be32(vdec *d)
{
        const uint8_t *p = vdec_bytes(d, 4);

        return p ? be32_get(p) : 0;
}

uint64_t vdec_be64(vdec *d)
{
        const uint8_t *p = vdec_bytes(d, 8);

        return p ? be64_get(p) : 0;
}

bool vdec_str(vdec *d, char **ret)
{
        uint64_t n = vdec_varint_max(d, (uint64_t)VIGIL_STORE_MAX_STRING + 1);
        const uint8_t *p;
        char *s;

        *ret = NULL;
        if (d->err)
                return false;
        if (n == 0)
                return true;
        p = vdec_bytes(d, n - 1);
        if (!p)
                return false;
        if (memchr(p, 0, n - 1)) {
                d->err = true;
                return false;
        }
        s = malloc(n);
        if (!s)
                return false;
        memcpy(s, p, n - 1);
        s[n - 1] = 0;
        *ret = s;
        return true;
}

void strv_free(char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

bool vdec_strv(vdec *d, char ***ret, size_t *ret_n)
{
        uint64_t n = vdec_varint_max(d, VIGIL_STORE_MAX_ARGV);
        char **v;

        *ret = NULL;
        *ret_n = 0;
        if (d->err)
                return false;
        /* Each element needs at least one byte: refuse counts the input cannot hold. */
        if (n > d->len - d->pos) {
                d->err = true;
                return false;
        }
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!vdec_str(d, &v[i]) || !v[i]) {
                        d->err = true;
                        strv_free(v, n);
                        return false;
                }
        }
        *ret = v;
        *ret_n = n;
        return true;
}
