#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "macro.h"
#include "refs.h"

int refs_init(ref_store *s, size_t max)
{
        *s = (ref_store){ .max = max };
        s->e = calloc(max ? max : 1, sizeof *s->e);
        return s->e ? 0 : -ENOMEM;
}

static void wipe_str(char *p)
{
        if (p) {
                explicit_bzero(p, strlen(p));
                free(p);
        }
}

ref_entry *ref_entry_free(ref_entry *e)
{
        if (!e)
                return NULL;
        vigild_identity_free(e->identity);
        free(e->user);
        free(e->service);
        free(e->tty);
        free(e->rhost);
        wipe_str(e->session);
        explicit_bzero(e, sizeof *e);
        free(e);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ref_entry *, ref_entry_free)

static void remove_at(ref_store *s, size_t i)
{
        ref_entry_free(s->e[i]);
        s->e[i] = s->e[--s->n];
        s->e[s->n] = NULL;
}

void refs_done(ref_store *s)
{
        while (s->n)
                remove_at(s, s->n - 1);
        free(s->e);
        *s = (ref_store){ 0 };
}

void refs_expire(ref_store *s, int64_t now)
{
        for (size_t i = 0; i < s->n;)
                if (s->e[i]->expires_ms <= now)
                        remove_at(s, i);
                else
                        i++;
}

size_t refs_count(const ref_store *s)
{
        return s->n;
}

/* Compare without an early exit, so the time taken says nothing about how
 * much of a guess was right. */
static bool ct_equal(const char *a, const char *b, size_t n)
{
        unsigned char d = 0;

        for (size_t i = 0; i < n; i++)
                d |= (unsigned char)(a[i] ^ b[i]);
        return d == 0;
}

static int random_hex(char *out)
{
        static const char hex[] = "0123456789abcdef";
        uint8_t raw[REF_HEX_LEN / 2];
        ssize_t n;

        /* GRND_NONBLOCK: before the pool is ready there is no reference to
         * give, and the loop must not wait for it. */
        do
                n = getrandom(raw, sizeof raw, GRND_NONBLOCK);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if ((size_t)n != sizeof raw)
                return -EAGAIN;
        for (size_t i = 0; i < sizeof raw; i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[REF_HEX_LEN] = '\0';
        explicit_bzero(raw, sizeof raw);
        return 0;
}

/* Find a live entry of @kind by reference (or by handle). */
static ssize_t find(ref_store *s, int64_t now, ref_kind kind, const char *key, bool by_handle)
{
        if (!key || strlen(key) != REF_HEX_LEN)
                return -1;
        refs_expire(s, now);
        for (size_t i = 0; i < s->n; i++) {
                const char *v = by_handle ? s->e[i]->handle : s->e[i]->ref;

                if (s->e[i]->kind == kind && ct_equal(v, key, REF_HEX_LEN))
                        return (ssize_t)i;
        }
        return -1;
}

static int add(ref_store *s, ref_entry *e)
{
        if (s->n >= s->max)
                return -EBUSY;
        s->e[s->n++] = e;
        return 0;
}

static int dup_opt(const char *src, char **ret)
{
        if (!src) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(src);
        return *ret ? 0 : -ENOMEM;
}

int refs_register(ref_store *s, int64_t now, int64_t ttl_ms, const char *user, const vigild_identity *id,
                  const char *service, char *ret_ref)
{
        _cleanup_(ref_entry_freep) ref_entry *e = NULL;
        int r;

        refs_expire(s, now);
        if (s->n >= s->max)
                return -EBUSY;
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->kind = REF_LOGIN;
        e->expires_ms = now + ttl_ms;
        r = random_hex(e->ref);
        if (r < 0)
                return r;
        r = dup_opt(user, &e->user);
        if (r == 0)
                r = dup_opt(service, &e->service);
        if (r == 0)
                r = vigild_identity_copy(id, &e->identity);
        if (r < 0)
                return r;
        memcpy(ret_ref, e->ref, REF_HEX_LEN + 1);
        return add(s, TAKE_PTR(e));
}

int refs_lookup(ref_store *s, int64_t now, const char *ref, const char *user, const ref_entry **ret)
{
        ssize_t i = find(s, now, REF_LOGIN, ref, false);

        if (i < 0 || strcmp(s->e[i]->user, user) != 0)
                return -ENOENT;
        *ret = s->e[i];
        return 0;
}

int refs_open(ref_store *s, int64_t now, int64_t ttl_ms, const char *ref, const char *user, uid_t uid,
              const char *service, const char *tty, const char *rhost, char *ret_ref, char *ret_handle,
              const ref_entry **ret)
{
        _cleanup_(ref_entry_freep) ref_entry *login = NULL, *e = NULL;
        ssize_t i = find(s, now, REF_LOGIN, ref, false);
        int r;

        if (i < 0)
                return -ENOENT;
        /* Used up from here on, whatever follows. */
        login = s->e[i];
        s->e[i] = s->e[--s->n];
        s->e[s->n] = NULL;
        if (strcmp(login->user, user) != 0)
                return -EPERM;

        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->kind = REF_SESSION;
        e->expires_ms = now + ttl_ms;
        e->uid = uid;
        r = random_hex(e->ref);
        if (r == 0)
                r = random_hex(e->handle);
        if (r < 0)
                return r;
        e->user = TAKE_PTR(login->user);
        e->identity = TAKE_PTR(login->identity);
        r = dup_opt(service ? service : login->service, &e->service);
        if (r == 0)
                r = dup_opt(tty, &e->tty);
        if (r == 0)
                r = dup_opt(rhost, &e->rhost);
        if (r < 0)
                return r;
        r = add(s, e);
        if (r < 0)
                return r;
        memcpy(ret_ref, e->ref, REF_HEX_LEN + 1);
        memcpy(ret_handle, e->handle, REF_HEX_LEN + 1);
        *ret = TAKE_PTR(e);
        return 0;
}

int refs_take_session(ref_store *s, int64_t now, const char *ref, uid_t uid, ref_entry **ret)
{
        ssize_t i = find(s, now, REF_SESSION, ref, false);
        ref_entry *e;

        if (i < 0)
                return -ENOENT;
        e = s->e[i];
        s->e[i] = s->e[--s->n];
        s->e[s->n] = NULL;
        if (e->uid != uid) {
                ref_entry_free(e);
                return -EPERM;
        }
        *ret = e;
        return 0;
}

int refs_mark_started(ref_store *s, int64_t now, const char *handle, uid_t uid, const char *session)
{
        _cleanup_(ref_entry_freep) ref_entry *e = calloc(1, sizeof *e);
        int r;

        if (!e)
                return -ENOMEM;
        if (strlen(handle) != REF_HEX_LEN)
                return -EINVAL;
        refs_expire(s, now);
        e->kind = REF_STARTED;
        e->expires_ms = now + REF_STARTED_TTL_MS;
        e->uid = uid;
        memcpy(e->handle, handle, REF_HEX_LEN + 1);
        r = dup_opt(session, &e->session);
        if (r < 0)
                return r;
        r = add(s, e);
        if (r < 0)
                return r;
        TAKE_PTR(e);
        return 0;
}

int refs_close(ref_store *s, const char *handle, char **ret_session)
{
        /* Expiry does not matter here: closing is always allowed. */
        ssize_t i = find(s, INT64_MIN, REF_SESSION, handle, true);

        if (i < 0)
                i = find(s, INT64_MIN, REF_STARTED, handle, true);
        if (i < 0)
                return -ENOENT;
        *ret_session = TAKE_PTR(s->e[i]->session);
        remove_at(s, (size_t)i);
        return 0;
}
