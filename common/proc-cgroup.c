#include <string.h>

#include "proc-cgroup.h"

bool proc_cgroup_next(const char *text, size_t len, size_t *pos, proc_cgroup_line *ret)
{
        while (*pos < len) {
                const char *line = text + *pos, *end = memchr(line, '\n', len - *pos), *c1, *c2;
                size_t n = end ? (size_t)(end - line) : len - *pos;

                *pos += n + (end ? 1 : 0);
                c1 = memchr(line, ':', n);
                c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
                if (!c2)
                        continue;
                ret->controllers = c1 + 1;
                ret->controllers_len = (size_t)(c2 - c1 - 1);
                ret->path = c2 + 1;
                ret->path_len = n - (size_t)(c2 + 1 - line);
                ret->v2 = c1 == line + 1 && line[0] == '0' && ret->controllers_len == 0;
                return true;
        }
        return false;
}

bool proc_cgroup_has(const proc_cgroup_line *l, const char *name)
{
        size_t n = strlen(name);

        for (const char *p = l->controllers, *end = l->controllers + l->controllers_len; p < end;) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t k = c ? (size_t)(c - p) : (size_t)(end - p);

                if (k == n && memcmp(p, name, n) == 0)
                        return true;
                p += k + 1;
        }
        return false;
}

size_t proc_cgroup_session(const proc_cgroup_line *l, const char **ret)
{
        static const char prefix[] = "/vigil/";
        const size_t plen = sizeof(prefix) - 1;
        const char *id, *slash;

        if (l->path_len <= plen || memcmp(l->path, prefix, plen) != 0)
                return 0;
        id = l->path + plen;
        slash = memchr(id, '/', l->path_len - plen);
        *ret = id;
        return slash ? (size_t)(slash - id) : l->path_len - plen;
}
