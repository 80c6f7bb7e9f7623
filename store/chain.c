/* The per-session hash chain: h[n] = SHA-256("vigil-chain-1" | h[n-1] | id |
 * be64 n | canonical record), h[-1] = 32 zero bytes. */
#include <openssl/evp.h>

#include "store-internal.h"

static const char chain_tag[] = "vigil-chain-1";

struct chain_hasher {
        EVP_MD_CTX *ctx;
        bool failed;
};

chain_hasher *chain_hasher_new(const uint8_t prev[HASH_LEN], const uint8_t id[ID_LEN], uint64_t seq)
{
        chain_hasher *h = calloc(1, sizeof *h);
        uint8_t seqb[8];

        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                chain_hasher_free(h);
                return NULL;
        }
        be64_put(seqb, seq);
        chain_hasher_add(h, chain_tag, sizeof chain_tag - 1);
        chain_hasher_add(h, prev, HASH_LEN);
        chain_hasher_add(h, id, ID_LEN);
        chain_hasher_add(h, seqb, 8);
        return h;
}

void chain_hasher_add(chain_hasher *h, const void *p, size_t n)
{
        if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
                h->failed = true;
}

int chain_hasher_finish(chain_hasher *h, uint8_t out[HASH_LEN])
{
        unsigned len = 0;
        int r = 0;

        if (h->failed || EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != HASH_LEN)
                r = -EIO;
        chain_hasher_free(h);
        return r;
}

void chain_hasher_free(chain_hasher *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

int sha256_buf(const void *p, size_t n, uint8_t out[32])
{
        unsigned len = 0;

        return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

void *sha256_new(void)
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();

        if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(c);
                return NULL;
        }
        return c;
}

void sha256_add(void *c, const void *p, size_t n)
{
        if (n)
                (void)EVP_DigestUpdate(c, p, n);
}

int sha256_finish(void *c, uint8_t out[32])
{
        unsigned len = 0;
        int r = EVP_DigestFinal_ex(c, out, &len) == 1 && len == 32 ? 0 : -EIO;

        EVP_MD_CTX_free(c);
        return r;
}

void sha256_free(void *c)
{
        EVP_MD_CTX_free(c);
}
