#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libcurl.h"
#include "macro.h"

#ifndef VIGIL_LIBCURL
#define VIGIL_LIBCURL "libcurl.so.4"
#endif

static int sym(void *dl, const char *name, void **ret, char *err, size_t err_size)
{
        *ret = dlsym(dl, name);
        if (*ret)
                return 0;
        (void)snprintf(err, err_size, "%s has no %s", VIGIL_LIBCURL, name);
        return -ENOPKG;
}

int vigil_curl_open(vigil_curl *ret, char *err, size_t err_size)
{
        curl_version_info_data *(*version_info)(CURLversion);
        const curl_version_info_data *v;
        vigil_curl c = { 0 };
        const struct {
                const char *name;
                void **slot;
        } fns[] = {
                { "curl_easy_init", (void **)&c.easy_init },
                { "curl_easy_setopt", (void **)&c.easy_setopt },
                { "curl_easy_perform", (void **)&c.easy_perform },
                { "curl_easy_getinfo", (void **)&c.easy_getinfo },
                { "curl_easy_cleanup", (void **)&c.easy_cleanup },
                { "curl_easy_strerror", (void **)&c.easy_strerror },
        };
        const char *e;
        int r;

        /* By soname, through the system's search path only: for a set-user-ID
         * caller (sudo) the dynamic loader ignores LD_LIBRARY_PATH, as it
         * does for the libraries a program is linked with. */
        c.dl = dlopen(VIGIL_LIBCURL, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!c.dl) {
                e = dlerror();
                (void)snprintf(err, err_size, "cannot load %s: %s", VIGIL_LIBCURL, e ? e : "unknown error");
                return -ENOPKG;
        }
        r = sym(c.dl, "curl_version_info", (void **)&version_info, err, err_size);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fns); i++)
                r = sym(c.dl, fns[i].name, fns[i].slot, err, err_size);
        if (r >= 0) {
                v = version_info(CURLVERSION_NOW);
                if (!v || v->version_num < VIGIL_CURL_MIN_VERSION) {
                        (void)snprintf(err, err_size, "%s is libcurl %s; vigil needs 7.85 or later", VIGIL_LIBCURL,
                                       v && v->version ? v->version : "(unknown)");
                        r = -ENOPKG;
                }
        }
        if (r < 0) {
                vigil_curl_close(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void vigil_curl_close(vigil_curl *c)
{
        if (c->dl)
                (void)dlclose(c->dl);
        memset(c, 0, sizeof(*c));
}
