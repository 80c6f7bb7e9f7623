#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "testlib.h"

int64_t test_now = TEST_NOW;

int64_t test_clock(void *userdata)
{
        (void)userdata;
        return test_now;
}

const char *test_tmpdir(const char *name)
{
        static char path[4096];
        const char *base = getenv("TMPDIR");

        snprintf(path, sizeof path, "%s/vigil-%s-XXXXXX", base && *base ? base : "/tmp", name);
        if (!mkdtemp(path)) {
                perror("mkdtemp");
                abort();
        }
        return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path) < 0 ? -1 : 0;
}

void test_rm_rf(const char *path)
{
        if (path && *path)
                (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

vigil_config *test_config(const char *fmt, ...)
{
        vigil_config *c = NULL;
        char *text = NULL, *err = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort();
        r = vigil_config_parse(text, strlen(text), "test.conf", &c, &err);
        if (r < 0) {
                fprintf(stderr, "test config: %s\n", err ? err : "?");
                abort();
        }
        free(text);
        return c;
}

char *test_claims(const char *override)
{
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:[s,s], s:s}", "iss", TEST_ISSUER, "aud",
                              TEST_AUDIENCE, "sub", "u-1234", "preferred_username", "alice", "email",
                              "alice@example.com", "iat", (json_int_t)(TEST_NOW - 60), "exp",
                              (json_int_t)(TEST_NOW + 600), "groups", "dev", "ops", "jti", "jti-1");
        char *out;

        if (!o)
                abort();
        if (override) {
                json_error_t err;
                json_t *ov = json_loads(override, 0, &err), *v;
                const char *k;
                void *tmp;

                if (!json_is_object(ov)) {
                        fprintf(stderr, "test_claims: bad override %s: %s\n", override, err.text);
                        abort();
                }
                json_object_foreach_safe(ov, tmp, k, v) {
                        if (json_is_null(v))
                                json_object_del(o, k);
                        else
                                json_object_set(o, k, v);
                }
                json_decref(ov);
        }
        out = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!out)
                abort();
        return out;
}
