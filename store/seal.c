/* The host key and session seals: Ed25519 (OpenSSL) over the chain head. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-internal.h"

#define KEY_MAX_FILE 16384

static const char seal_tag[] = "vigil-seal-1";

void store_key_free(void *key);
void store_key_free(void *key)
{
        EVP_PKEY_free(key);
}

static int key_read(vigil_store *st, EVP_PKEY **ret)
{
        _cleanup_close_ int fd = -1;
        char buf[KEY_MAX_FILE];
        struct stat s;
        ssize_t n;
        size_t len = 0;
        BIO *bio;
        EVP_PKEY *k;

        fd = open(st->key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;

                store_set_errmsg(st, "host key '%s': %s", st->key_path, strerror(errno));
                return r;
        }
        if (fstat(fd, &s) < 0)
                return -errno;
        if (!S_ISREG(s.st_mode) || s.st_uid != geteuid() || (s.st_mode & 077)) {
                store_set_errmsg(st, "host key '%s' must be a regular file owned by uid %u with mode 0600",
                                 st->key_path, (unsigned)geteuid());
                return -EPERM;
        }
        while ((n = read(fd, buf + len, sizeof buf - len)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len += (size_t)n;
                if (len == sizeof buf) {
                        store_set_errmsg(st, "host key '%s' is too large", st->key_path);
                        explicit_bzero(buf, sizeof buf);
                        return VIGIL_E_TOO_BIG;
                }
        }
        bio = BIO_new_mem_buf(buf, (int)len);
        k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        explicit_bzero(buf, sizeof buf);
        if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(k);
                store_set_errmsg(st, "host key '%s' is not an Ed25519 private key in PEM", st->key_path);
                return VIGIL_E_PARSE;
        }
        *ret = k;
        return 0;
}

/* Create the key atomically: write a temporary file 0600 in the same directory
 * and link() it into place, which fails if another process won the race. */
static int key_create(vigil_store *st)
{
        _cleanup_free_ char *dircopy = strdup(st->key_path);
        char tmp[4200];
        EVP_PKEY *k = NULL;
        FILE *f = NULL;
        int fd, r = 0;

        if (!dircopy)
                return -ENOMEM;
        if (mkdir(dirname(dircopy), 0755) < 0 && errno != EEXIST) {
                r = -errno;
                store_set_errmsg(st, "cannot create the directory of host key '%s': %s", st->key_path, strerror(errno));
                return r;
        }
        if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", st->key_path) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                store_set_errmsg(st, "cannot create host key '%s': %s", st->key_path, strerror(errno));
                return r;
        }
        (void)fchmod(fd, 0600);
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        f = fdopen(fd, "w");
        if (!k || !f) {
                r = -ENOMEM;
                if (!f)
                        (void)close(fd);
                goto out;
        }
        if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 || fflush(f) != 0 || fsync(fileno(f)) < 0) {
                r = -EIO;
                store_set_errmsg(st, "cannot write host key '%s'", st->key_path);
                goto out;
        }
        if (link(tmp, st->key_path) < 0 && errno != EEXIST) {
                r = -errno;
                store_set_errmsg(st, "cannot create host key '%s': %s", st->key_path, strerror(errno));
        }
out:
        if (f)
                (void)fclose(f);
        (void)unlink(tmp);
        EVP_PKEY_free(k);
        return r;
}

static int key_get(vigil_store *st, bool create, EVP_PKEY **ret)
{
        EVP_PKEY *k = NULL;
        int r;

        if (st->key) {
                *ret = st->key;
                return 0;
        }
        r = key_read(st, &k);
        if (r == -ENOENT && create) {
                r = key_create(st);
                if (r < 0)
                        return r;
                r = key_read(st, &k);
        }
        if (r < 0)
                return r;
        st->key = k;
        *ret = k;
        return 0;
}

static void seal_message(uint8_t *msg, const uint8_t id[ID_LEN], uint64_t covers, const uint8_t head[HASH_LEN],
                         bool truncated)
{
        size_t o = 0;

        memcpy(msg, seal_tag, sizeof seal_tag - 1);
        o += sizeof seal_tag - 1;
        memcpy(msg + o, id, ID_LEN);
        o += ID_LEN;
        be64_put(msg + o, covers);
        o += 8;
        memcpy(msg + o, head, HASH_LEN);
        o += HASH_LEN;
        msg[o] = truncated;
}
#define SEAL_MSG_LEN (sizeof seal_tag - 1 + ID_LEN + 8 + HASH_LEN + 1)

int seal_sign(vigil_store *st, const uint8_t id[ID_LEN], uint64_t covers, const uint8_t head[HASH_LEN],
              bool truncated, uint8_t ret_pub[32], uint8_t ret_sig[64])
{
        uint8_t msg[SEAL_MSG_LEN];
        EVP_PKEY *k = NULL;
        EVP_MD_CTX *ctx = NULL;
        size_t publen = 32, siglen = 64;
        int r;

        r = key_get(st, true, &k);
        if (r < 0)
                return r;
        seal_message(msg, id, covers, head, truncated);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_get_raw_public_key(k, ret_pub, &publen) != 1 || publen != 32 ||
            EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 || EVP_DigestSign(ctx, ret_sig, &siglen, msg, sizeof msg) != 1 ||
            siglen != 64) {
                store_set_errmsg(st, "signing with host key '%s' failed", st->key_path);
                r = -EIO;
        }
        EVP_MD_CTX_free(ctx);
        return r;
}

int seal_check(vigil_store *st, const uint8_t id[ID_LEN], uint64_t covers, const uint8_t head[HASH_LEN],
               bool truncated, const uint8_t pub[32], const uint8_t sig[64], const char **why)
{
        uint8_t msg[SEAL_MSG_LEN], hostpub[32];
        size_t publen = 32;
        EVP_PKEY *k = NULL, *pk = NULL;
        EVP_MD_CTX *ctx = NULL;
        int r;

        r = key_get(st, false, &k);
        if (r < 0) {
                *why = "host key unreadable";
                return r;
        }
        if (EVP_PKEY_get_raw_public_key(k, hostpub, &publen) != 1 || publen != 32)
                return -EIO;
        if (memcmp(hostpub, pub, 32) != 0) {
                *why = "sealed with a key that is not this host's key";
                return VIGIL_E_CORRUPT;
        }
        seal_message(msg, id, covers, head, truncated);
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
        ctx = EVP_MD_CTX_new();
        if (!pk || !ctx) {
                r = -ENOMEM;
                goto out;
        }
        if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) != 1 ||
            EVP_DigestVerify(ctx, sig, 64, msg, sizeof msg) != 1) {
                *why = "seal signature does not match the chain head";
                r = VIGIL_E_CORRUPT;
        }
out:
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pk);
        return r;
}
