/* The identity provider, as vigil.conf names it: its TLS must verify (or
 * device sign-ins and key refreshes fail), and the cached JWKS must be
 * recent (a cache the provider has not confirmed for long keeps trusting
 * keys the provider may have retired). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "doctor.h"
#include "fileio.h"
#include "identity.h"

#define CACHE_STALE (24 * 3600) /* seconds */

/* The newest checked_at of the cache files for this issuer; 0 when none. */
static int64_t cache_checked_at(const doctor_ctx *c, const vigil_config *cfg, char **ret_path)
{
        _cleanup_free_ char *state = doctor_fmt("%s/identity", c->store), *dir = NULL;
        int64_t best = 0;
        struct dirent *de;
        DIR *d;

        if (!state || !(dir = doctor_path(c, state)) || !(d = opendir(dir)))
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *text = NULL;
                const char *iss = NULL;
                json_int_t checked = 0;
                json_t *o;
                size_t len;

                if (strncmp(de->d_name, "jwks-", 5) != 0)
                        continue;
                p = doctor_fmt("%s/%s", dir, de->d_name);
                if (!p || read_file_bounded(p, DOCTOR_MAX_FILE, &text, &len) < 0)
                        continue;
                o = json_loadb(text, len, 0, NULL);
                if (o && json_unpack(o, "{s:s, s:I}", "issuer", &iss, "checked_at", &checked) == 0 &&
                    strcmp(iss, cfg->issuer) == 0 && checked > best) {
                        best = checked;
                        free(*ret_path);
                        *ret_path = doctor_fmt("%s/%s", state, de->d_name);
                }
                json_decref(o);
        }
        closedir(d);
        return best;
}

void doctor_check_idp(doctor_ctx *c)
{
        const vigil_config *cfg = c->conf;
        vigil_oidc_provider *prov = NULL;
        _cleanup_free_ char *err = NULL, *cache = NULL;
        int64_t checked;
        int r;

        if (!cfg) {
                doctor_note(c, "no usable vigil.conf: the identity provider is not checked");
                return;
        }
        r = vigil_oidc_discover(cfg, &prov, &err);
        if (r < 0)
                doctor_finding(c, "idp",
                               "check the issuer URL, the provider's certificate, ca_file and this host's network",
                               "the identity provider '%s' cannot be used (%s): device sign-ins fail, and keys are "
                               "not refreshed",
                               cfg->issuer, err ? err : "no reason given");
        vigil_oidc_provider_free(prov);

        if (cfg->jwks_file) {
                (void)doctor_check_owner_mode(c, "idp", cfg->jwks_file, false, 0644,
                                              "whoever can write the key set decides which tokens are valid");
                return;
        }
        checked = cache_checked_at(c, cfg, &cache);
        if (checked == 0)
                doctor_note(c, "no cached JWKS for '%s' yet (the first sign-in fetches it)", cfg->issuer);
        else if (time(NULL) - checked > CACHE_STALE)
                doctor_finding(c, "idp",
                               "make the identity provider reachable from this host; the next sign-in refreshes the "
                               "cache",
                               "the cached JWKS '%s' was last confirmed by the provider %lld hours ago: keys the "
                               "provider has retired since are still trusted",
                               cache, (long long)((time(NULL) - checked) / 3600));
}
