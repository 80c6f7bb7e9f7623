#include <string.h>

#include <jansson.h>

#include "http.h"
#include "identity.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

#define DISCOVERY_MAX_SIZE (64u * 1024)
#define WELL_KNOWN "/.well-known/openid-configuration"

vigil_oidc_provider *vigil_oidc_provider_free(vigil_oidc_provider *p)
{
        if (!p)
                return NULL;
        free(p->issuer);
        free(p->jwks_uri);
        free(p->token_endpoint);
        free(p->device_authorization_endpoint);
        free(p);
        return NULL;
}

/* An https:// endpoint from the document, or NULL. */
static int endpoint(json_t *doc, const char *name, bool required, char **ret, char **ret_error)
{
        const char *v = json_string_value(json_object_get(doc, name));

        if (!v || strncmp(v, "https://", 8) != 0 || strlen(v) <= 8) {
                if (required)
                        return reason_set(ret_error, -EPROTO, "discovery document has no https:// %s", name);
                return 0;
        }
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

int vigil_oidc_discover(const vigil_config *cfg, vigil_oidc_provider **ret, char **ret_error)
{
        _cleanup_free_ char *url = NULL, *text = NULL, *a = NULL, *b = NULL;
        json_auto_t *doc = NULL;
        vigil_oidc_provider *p = NULL;
        size_t len = strlen(cfg->issuer);
        json_error_t err;
        const char *iss;
        int r;

        if (len > 0 && cfg->issuer[len - 1] == '/')
                len--;
        if (asprintf(&url, "%.*s" WELL_KNOWN, (int)len, cfg->issuer) < 0)
                return -ENOMEM;
        r = vigil_https_get(url, cfg->ca_file, DISCOVERY_MAX_SIZE, &text, &len, ret_error);
        if (r < 0)
                return r;

        doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(doc)) {
                a = reason_clean_n(url, 256);
                return reason_set(ret_error, -EPROTO, "'%s' is not a JSON object", RC(a));
        }
        /* OpenID Connect Discovery 1.0, 4.3: the document must name exactly
         * the issuer it was fetched for, or an attacker able to serve one
         * document could vouch for another issuer's keys. */
        iss = json_string_value(json_object_get(doc, "issuer"));
        if (!iss || strcmp(iss, cfg->issuer) != 0) {
                a = reason_clean(iss ? iss : "");
                b = reason_clean(cfg->issuer);
                return reason_set(ret_error, -EPROTO, "discovery document names issuer '%s', not '%s'",
                                  RC(a), RC(b));
        }

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->issuer = strdup(iss);
        if (!p->issuer)
                r = -ENOMEM;
        if (r >= 0)
                r = endpoint(doc, "jwks_uri", true, &p->jwks_uri, ret_error);
        if (r >= 0)
                r = endpoint(doc, "token_endpoint", false, &p->token_endpoint, ret_error);
        if (r >= 0)
                r = endpoint(doc, "device_authorization_endpoint", false, &p->device_authorization_endpoint,
                             ret_error);
        if (r < 0) {
                vigil_oidc_provider_free(p);
                return r;
        }
        *ret = p;
        return 0;
}
