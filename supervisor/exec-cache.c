#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec-cache.h"

void exec_cache_done(exec_cache *c)
{
        for (unsigned i = 0; i < EXEC_CACHE_LINKS; i++) {
                free(c->links[i].name);
                free(c->links[i].target);
        }
        memset(c, 0, sizeof(*c));
}

/* The length of @path's first component with its slash ("/bin" of
 * "/bin/true"), or 0 when it has no second component. */
static size_t first_len(const char *path)
{
        const char *e;

        if (path[0] != '/' || path[1] == '/' || path[1] == '\0')
                return 0;
        e = strchr(path + 1, '/');
        return e && e[1] ? (size_t)(e - path) : 0;
}

static exec_cache_link *link_find(exec_cache *c, const char *path, size_t n)
{
        for (unsigned i = 0; i < EXEC_CACHE_LINKS; i++) {
                exec_cache_link *l = &c->links[i];

                if (l->name && strlen(l->name) == n && memcmp(l->name, path, n) == 0)
                        return l;
        }
        return NULL;
}

int exec_cache_link_rewrite(exec_cache *c, const char *path, char **ret)
{
        size_t n = first_len(path);
        exec_cache_link *l;
        struct stat st;
        char *out;

        if (n == 0 || !(l = link_find(c, path, n)))
                return 0;
        if (lstat(l->name, &st) < 0 || !S_ISLNK(st.st_mode) || st.st_dev != l->dev || st.st_ino != l->ino) {
                /* replaced or gone: forget it, so that the new one can be learned */
                free(l->name);
                free(l->target);
                *l = (exec_cache_link){0};
                return 0;
        }
        out = malloc(strlen(l->target) + strlen(path + n) + 1);
        if (!out)
                return -ENOMEM;
        strcpy(out, l->target);
        strcat(out, path + n);
        *ret = out;
        return 1;
}

void exec_cache_link_learn(exec_cache *c, const char *path)
{
        size_t n = first_len(path);
        char target[PATH_MAX];
        exec_cache_link *l;
        struct stat st;
        ssize_t k;

        if (n == 0 || link_find(c, path, n))
                return;
        l = &c->links[c->next_link];
        free(l->name);
        free(l->target);
        *l = (exec_cache_link){0};
        l->name = strndup(path, n);
        if (!l->name || lstat(l->name, &st) < 0 || !S_ISLNK(st.st_mode))
                goto forget;
        k = readlink(l->name, target + 1, sizeof(target) - 1);
        if (k <= 0 || (size_t)k >= sizeof(target) - 1)
                goto forget;
        target[k + 1] = '\0';
        /* a relative target is relative to "/", where the link is */
        target[0] = '/';
        l->target = strdup(target[1] == '/' ? target + 1 : target);
        if (!l->target)
                goto forget;
        l->dev = st.st_dev;
        l->ino = st.st_ino;
        c->next_link = (c->next_link + 1) % EXEC_CACHE_LINKS;
        return;
forget:
        free(l->name);
        *l = (exec_cache_link){0};
}

static bool same_file(const exec_cache_header *h, const struct stat *st)
{
        return h->used && h->dev == st->st_dev && h->ino == st->st_ino && h->size == st->st_size &&
               h->mtim.tv_sec == st->st_mtim.tv_sec && h->mtim.tv_nsec == st->st_mtim.tv_nsec &&
               h->ctim.tv_sec == st->st_ctim.tv_sec && h->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

bool exec_cache_header_get(const exec_cache *c, const struct stat *st, char *buf, size_t *ret_len)
{
        for (unsigned i = 0; i < EXEC_CACHE_HEADERS; i++)
                if (same_file(&c->headers[i], st)) {
                        memcpy(buf, c->headers[i].buf, c->headers[i].len);
                        *ret_len = c->headers[i].len;
                        return true;
                }
        return false;
}

void exec_cache_header_put(exec_cache *c, const struct stat *st, const char *buf, size_t len)
{
        exec_cache_header *h = &c->headers[c->next_header];

        if (len > EXEC_CACHE_HEADER_SIZE)
                return;
        *h = (exec_cache_header){
                .used = true,
                .dev = st->st_dev,
                .ino = st->st_ino,
                .size = st->st_size,
                .mtim = st->st_mtim,
                .ctim = st->st_ctim,
                .len = len,
        };
        memcpy(h->buf, buf, len);
        c->next_header = (c->next_header + 1) % EXEC_CACHE_HEADERS;
}
