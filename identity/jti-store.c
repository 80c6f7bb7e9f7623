/* Used jti values in a private file until the store component keeps them:
 * DIR/jti holds lines "EXPIRES KEY" (decimal seconds, 64 hex characters),
 * rewritten whole (temporary file + rename) under an exclusive flock on
 * DIR/jti.lock, so concurrent logins see each other's writes. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "identity.h"
#include "macro.h"
#include "statedir.h"
#include "vigil-error.h"

#define JTI_KEY_LEN 64
#define JTI_LINE_MAX (20 + 1 + JTI_KEY_LEN + 1)
#define JTI_MAX_ENTRIES 100000u

typedef struct file_store {
        vigil_jti_store base;
        char *dir;
} file_store;

static bool valid_key(const char *key)
{
        size_t n = strspn(key, "0123456789abcdef");
        return n == JTI_KEY_LEN && key[n] == '\0';
}

static int lock_dir(const char *dir, bool exclusive)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (asprintf(&path, "%s/jti.lock", dir) < 0)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        if (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

/* Parse the file into @out (kept lines) and tell whether @key is there. A
 * line that does not parse means the file is not ours to trust: refuse. */
static int scan(const char *text, size_t len, const char *key, int64_t now, FILE *out, size_t *ret_kept,
                bool *ret_found)
{
        size_t pos = 0, kept = 0;
        bool found = false;

        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                char line[JTI_LINE_MAX + 1], k[JTI_KEY_LEN + 1];
                size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
                int64_t exp;
                int used;

                if (!nl || n >= sizeof line)
                        return VIGIL_E_CORRUPT;
                memcpy(line, text + pos, n);
                line[n] = '\0';
                pos += n + 1;
                if (sscanf(line, "%" SCNd64 " %64[0-9a-f]%n", &exp, k, &used) != 2 || (size_t)used != n ||
                    !valid_key(k))
                        return VIGIL_E_CORRUPT;
                if (exp <= now)
                        continue; /* the token has expired: it cannot be replayed */
                if (strcmp(k, key) == 0)
                        found = true;
                if (out)
                        fprintf(out, "%" PRId64 " %s\n", exp, k);
                kept++;
        }
        *ret_kept = kept;
        *ret_found = found;
        return 0;
}

static int file_use(vigil_jti_store *base, const char *key, int64_t expires, int64_t now, bool dry_run)
{
        file_store *s = (file_store *)base;
        _cleanup_free_ char *path = NULL, *text = NULL, *out = NULL;
        _cleanup_close_ int lock = -1, fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        size_t len = 0, out_len = 0, kept;
        bool found;
        int r;

        if (!valid_key(key))
                return -EINVAL;
        /* Checking only: no directory means nothing was ever used. */
        if (dry_run && access(s->dir, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = statedir_ensure(s->dir);
        if (r < 0)
                return r;
        lock = lock_dir(s->dir, !dry_run);
        if (lock < 0)
                return lock;

        if (asprintf(&path, "%s/jti", s->dir) < 0)
                return -ENOMEM;
        fd = private_file_open(path);
        if (fd >= 0) {
                r = read_fd_bounded(fd, (size_t)JTI_MAX_ENTRIES * JTI_LINE_MAX, &text, &len);
                if (r < 0)
                        return r;
        } else if (fd != -ENOENT)
                return fd;

        if (!dry_run) {
                f = open_memstream(&out, &out_len);
                if (!f)
                        return -ENOMEM;
        }
        r = scan(text ? text : "", len, key, now, f, &kept, &found);
        if (r < 0)
                return r;
        if (found)
                return VIGIL_E_DENIED;
        if (dry_run)
                return 0;
        /* Full: refuse single-use tokens rather than forget used ones. */
        if (kept >= JTI_MAX_ENTRIES)
                return -ENOSPC;
        fprintf(f, "%" PRId64 " %s\n", expires, key);
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        return private_file_replace(path, out, out_len);
}

static void file_free(vigil_jti_store *base)
{
        file_store *s = (file_store *)base;

        if (!s)
                return;
        free(s->dir);
        free(s);
}

int vigil_jti_store_file_new(const char *dir, vigil_jti_store **ret)
{
        file_store *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->dir = strdup(dir);
        if (!s->dir) {
                free(s);
                return -ENOMEM;
        }
        s->base.use = file_use;
        s->base.free = file_free;
        *ret = &s->base;
        return 0;
}
