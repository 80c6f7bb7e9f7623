#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sup.h"

void account_done(account *a)
{
        free(a->name);
        free(a->home);
        free(a->shell);
        free(a->gids);
        for (size_t i = 0; i < a->n_group_names; i++)
                free(a->group_names[i]);
        free(a->group_names);
        memset(a, 0, sizeof(*a));
}

int account_lookup(const char *name, account *ret)
{
        struct passwd pw, *res = NULL;
        _cleanup_free_ char *buf = NULL;
        account a = {0};
        size_t size = 16384;
        int n = 64, r;

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        r = getpwnam_r(name, &pw, buf, size, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ESRCH;
        a.name = strdup(pw.pw_name);
        a.home = strdup(pw.pw_dir && *pw.pw_dir ? pw.pw_dir : "/");
        a.shell = strdup(pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
        a.uid = pw.pw_uid;
        a.gid = pw.pw_gid;
        if (!a.name || !a.home || !a.shell) {
                r = -ENOMEM;
                goto fail;
        }
        for (;;) {
                gid_t *g = realloc(a.gids, (size_t)n * sizeof(gid_t));
                int k = n;

                if (!g) {
                        r = -ENOMEM;
                        goto fail;
                }
                a.gids = g;
                if (getgrouplist(a.name, a.gid, a.gids, &k) >= 0) {
                        a.n_gids = (size_t)k;
                        break;
                }
                if (k <= n || k > 65536) {
                        r = -E2BIG;
                        goto fail;
                }
                n = k;
        }
        a.group_names = calloc(a.n_gids ? a.n_gids : 1, sizeof(char *));
        if (!a.group_names) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = 0; i < a.n_gids; i++) {
                struct group gr, *gres = NULL;
                char gbuf[16384];

                if (getgrgid_r(a.gids[i], &gr, gbuf, sizeof(gbuf), &gres) != 0 || !gres)
                        continue; /* a group without a name cannot be named by the policy */
                a.group_names[a.n_group_names] = strdup(gr.gr_name);
                if (!a.group_names[a.n_group_names]) {
                        r = -ENOMEM;
                        goto fail;
                }
                a.n_group_names++;
        }
        *ret = a;
        return 0;
fail:
        account_done(&a);
        return r;
}
