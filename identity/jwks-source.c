#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "http.h"
#include "identity.h"
#include "jwks-source.h"
#include "macro.h"
#include "reason.h"
#include "statedir.h"
#include "vigil-error.h"

struct jwks_source {
        const vigil_config *cfg;
        vigil_jwks *fixed; /* given by the caller: nothing else is consulted */

        /* jwks_file */
        vigil_jwks *file_keys;
        struct stat file_st;

        /* jwks_uri or discovery */
        char *state_dir;
        char *cache_path;
        bool cache_tried;
        vigil_jwks *remote_keys;
        json_t *remote_doc; /* the JWKS as fetched, for rewriting the cache */
        char *remote_uri;
        int64_t fetched_at; /* when remote_keys were fetched */
        int64_t checked_at; /* last fetch attempt, successful or not */
};

static bool has_remote(const vigil_config *cfg)
{
        return cfg->jwks_uri || !cfg->jwks_file;
}

int jwks_source_new(const vigil_config *cfg, const char *state_dir, vigil_jwks *fixed, jwks_source **ret)
{
        jwks_source *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->cfg = cfg;
        s->fixed = fixed;
        if (!fixed && has_remote(cfg) && state_dir) {
                unsigned char md[32];
                char hex[17];
                _cleanup_free_ char *id = NULL;

                /* One cache per (issuer, jwks_uri): a changed configuration
                 * never reads keys cached for another provider. */
                if (asprintf(&id, "%s\n%s", cfg->issuer, cfg->jwks_uri ? cfg->jwks_uri : "") < 0 ||
                    !EVP_Digest(id, strlen(id), md, NULL, EVP_sha256(), NULL))
                        goto oom;
                for (size_t i = 0; i < 8; i++)
                        (void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
                s->state_dir = strdup(state_dir);
                if (!s->state_dir || asprintf(&s->cache_path, "%s/jwks-%s.json", state_dir, hex) < 0) {
                        s->cache_path = NULL;
                        goto oom;
                }
        }
        *ret = s;
        return 0;
oom:
        jwks_source_free(s);
        return -ENOMEM;
}

jwks_source *jwks_source_free(jwks_source *s)
{
        if (!s)
                return NULL;
        vigil_jwks_free(s->fixed);
        vigil_jwks_free(s->file_keys);
        vigil_jwks_free(s->remote_keys);
        json_decref(s->remote_doc);
        free(s->remote_uri);
        free(s->state_dir);
        free(s->cache_path);
        free(s);
        return NULL;
}

const char *jwks_source_cache_path(const jwks_source *s)
{
        return s->cache_path;
}

static int unknown_kid(const char *kid, char **ret_reason)
{
        _cleanup_free_ char *c = reason_clean(kid);
        return reason_set(ret_reason, VIGIL_E_DENIED, "kid '%s' is not in the JWKS", RC(c));
}

/* ---- jwks_file ------------------------------------------------------------ */

static int file_load(jwks_source *s, char **ret_reason)
{
        _cleanup_free_ char *text = NULL, *why = NULL;
        _cleanup_close_ int fd = -1;
        vigil_jwks *keys = NULL;
        struct stat st;
        size_t len;
        int r;

        fd = open(s->cfg->jwks_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = negative_errno();
                return reason_set(ret_reason, r, "cannot read jwks_file '%s': %s", s->cfg->jwks_file,
                                  vigil_strerror(r));
        }
        /* Whoever can write the key file can sign in as anyone. */
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & S_IWOTH) ||
            ((st.st_mode & S_IWGRP) && st.st_gid != 0))
                return reason_set(
                        ret_reason, -EPERM,
                        "jwks_file '%s' is unsafe: must be a file owned by root and writable by no one else",
                        s->cfg->jwks_file);
        r = read_fd_bounded(fd, VIGIL_JWKS_MAX_SIZE, &text, &len);
        if (r < 0)
                return reason_set(ret_reason, r, "cannot read jwks_file '%s': %s", s->cfg->jwks_file,
                                  vigil_strerror(r));
        r = vigil_jwks_parse(text, len, &keys, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reason_set(ret_reason, -EBADMSG, "jwks_file '%s': %s", s->cfg->jwks_file, RC(why));
        vigil_jwks_free(s->file_keys);
        s->file_keys = keys;
        s->file_st = st;
        return 0;
}

static bool file_changed(const jwks_source *s)
{
        struct stat st;

        if (stat(s->cfg->jwks_file, &st) < 0)
                return true;
        return st.st_ino != s->file_st.st_ino || st.st_dev != s->file_st.st_dev ||
               st.st_size != s->file_st.st_size || st.st_mtim.tv_sec != s->file_st.st_mtim.tv_sec ||
               st.st_mtim.tv_nsec != s->file_st.st_mtim.tv_nsec;
}

/* 0 found, VIGIL_E_DENIED not there, other negative: no key set. */
static int file_find(jwks_source *s, const char *kid, const jwk_key **ret, char **ret_reason)
{
        const jwk_key *k;
        int r;

        if (!s->file_keys) {
                r = file_load(s, ret_reason);
                if (r < 0)
                        return r;
        }
        k = vigil_jwks_find(s->file_keys, kid);
        /* The administrator rotated the file: read it again. */
        if (!k && file_changed(s)) {
                r = file_load(s, ret_reason);
                if (r < 0)
                        return r;
                k = vigil_jwks_find(s->file_keys, kid);
        }
        if (!k)
                return unknown_kid(kid, ret_reason);
        *ret = k;
        return 0;
}

/* ---- jwks_uri / discovery, with the cache ------------------------------------ */

/* The cache: {"issuer", "jwks_uri", "fetched_at", "checked_at", "jwks"}. */
static void cache_write(jwks_source *s)
{
        json_auto_t *o = NULL;
        _cleanup_free_ char *text = NULL;

        if (!s->cache_path || !s->remote_doc || statedir_ensure(s->state_dir) < 0)
                return;
        o = json_pack("{s:s, s:s, s:I, s:I, s:O}", "issuer", s->cfg->issuer, "jwks_uri", s->remote_uri,
                      "fetched_at", (json_int_t)s->fetched_at, "checked_at", (json_int_t)s->checked_at,
                      "jwks", s->remote_doc);
        text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        /* A cache that cannot be written only costs a fetch next time. */
        if (text)
                (void)private_file_replace(s->cache_path, text, strlen(text));
}

static void cache_read(jwks_source *s)
{
        json_auto_t *o = NULL;
        _cleanup_free_ char *text = NULL, *jtext = NULL;
        _cleanup_close_ int fd = -1;
        vigil_jwks *keys = NULL;
        json_int_t fetched, checked;
        const char *iss = NULL, *uri = NULL;
        json_t *jwks = NULL;
        size_t len;

        s->cache_tried = true;
        if (!s->cache_path)
                return;
        /* Keys from a file someone else could have written are not keys. */
        fd = private_file_open(s->cache_path);
        if (fd < 0 || read_fd_bounded(fd, 2 * VIGIL_JWKS_MAX_SIZE, &text, &len) < 0)
                return;
        o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!o || json_unpack(o, "{s:s, s:s, s:I, s:I, s:o}", "issuer", &iss, "jwks_uri", &uri, "fetched_at",
                              &fetched, "checked_at", &checked, "jwks", &jwks) < 0)
                return;
        if (strcmp(iss, s->cfg->issuer) != 0 || (s->cfg->jwks_uri && strcmp(uri, s->cfg->jwks_uri) != 0))
                return;
        jtext = json_dumps(jwks, JSON_COMPACT);
        if (!jtext || vigil_jwks_parse(jtext, strlen(jtext), &keys, NULL) < 0)
                return;
        s->remote_uri = strdup(uri);
        if (!s->remote_uri) {
                vigil_jwks_free(keys);
                return;
        }
        s->remote_keys = keys;
        s->remote_doc = json_incref(jwks);
        s->fetched_at = fetched;
        s->checked_at = checked;
}

static int fetch(jwks_source *s, int64_t now, char **ret_reason)
{
        _cleanup_free_ char *uri = NULL, *text = NULL, *why = NULL, *curi = NULL;
        json_auto_t *doc = NULL;
        vigil_oidc_provider *p = NULL;
        vigil_jwks *keys = NULL;
        size_t len;
        int r;

        s->checked_at = now;
        if (s->cfg->jwks_uri) {
                uri = strdup(s->cfg->jwks_uri);
                if (!uri)
                        return -ENOMEM;
        } else {
                r = vigil_oidc_discover(s->cfg, &p, &why);
                if (r < 0)
                        return reason_set(ret_reason, r, "discovery: %s", RC(why));
                uri = TAKE_PTR(p->jwks_uri);
                vigil_oidc_provider_free(p);
        }
        r = vigil_https_get(uri, s->cfg->ca_file, VIGIL_JWKS_MAX_SIZE, &text, &len, &why);
        if (r < 0)
                return reason_set(ret_reason, r, "jwks: %s", RC(why));
        r = vigil_jwks_parse(text, len, &keys, &why);
        if (r == -ENOMEM)
                return r;
        curi = reason_clean_n(uri, 256);
        if (r < 0)
                return reason_set(ret_reason, -EBADMSG, "jwks: '%s': %s", RC(curi), RC(why));
        doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!doc) {
                vigil_jwks_free(keys);
                return -ENOMEM; /* it parsed a moment ago */
        }
        vigil_jwks_free(s->remote_keys);
        json_decref(s->remote_doc);
        free(s->remote_uri);
        s->remote_keys = keys;
        s->remote_doc = TAKE_PTR(doc);
        s->remote_uri = TAKE_PTR(uri);
        s->fetched_at = now;
        return 0;
}

/* Refetch only if a minute has passed since the last attempt (or the clock
 * went back); a failure keeps the keys we have and is recorded so other
 * processes wait too. */
static void refresh(jwks_source *s, int64_t now)
{
        if (now - s->checked_at < JWKS_REFETCH_INTERVAL && s->checked_at <= now)
                return;
        (void)fetch(s, now, NULL);
        cache_write(s);
}

static int remote_find(jwks_source *s, const char *kid, int64_t now, const jwk_key **ret, char **ret_reason)
{
        const jwk_key *k;
        int r;

        if (!s->remote_keys && !s->cache_tried)
                cache_read(s);
        if (s->remote_keys && (now - s->fetched_at >= JWKS_MAX_AGE || s->fetched_at > now))
                refresh(s, now);
        if (!s->remote_keys) {
                /* Nothing cached: there is no key to fall back on, so try now. */
                r = fetch(s, now, ret_reason);
                if (r < 0)
                        return r;
                cache_write(s);
        }
        k = vigil_jwks_find(s->remote_keys, kid);
        if (!k) {
                refresh(s, now);
                k = vigil_jwks_find(s->remote_keys, kid);
        }
        if (!k)
                return unknown_kid(kid, ret_reason);
        *ret = k;
        return 0;
}

int jwks_source_find(jwks_source *s, const char *kid, int64_t now, const jwk_key **ret, char **ret_reason)
{
        const jwk_key *k;
        int r;

        if (s->fixed) {
                k = vigil_jwks_find(s->fixed, kid);
                if (!k)
                        return unknown_kid(kid, ret_reason);
                *ret = k;
                return 0;
        }
        if (s->cfg->jwks_file) {
                r = file_find(s, kid, ret, has_remote(s->cfg) ? NULL : ret_reason);
                if (r == 0 || !has_remote(s->cfg) || r == -ENOMEM)
                        return r;
        }
        return remote_find(s, kid, now, ret, ret_reason);
}
