/* The one verification path: parse -> header rules -> key by kid -> alg
 * matches key -> signature -> claims -> single use. Each step either passes
 * or ends verification with its reason; nothing after a failed step runs. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "claims.h"
#include "fileio.h"
#include "identity.h"
#include "jwks-source.h"
#include "jws.h"
#include "jwt-parse.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

/* Reading a token file: generous for surrounding blanks, while the size
 * rule itself (VIGIL_TOKEN_MAX) is judged by verification. */
#define TOKEN_READ_MAX (64u * 1024)

struct vigil_verifier {
        const vigil_config *cfg;
        char *state_dir;
        int64_t (*clock)(void *userdata);
        void *clock_userdata;
        jwks_source *keys;
        vigil_jti_store *jti;     /* the one in use */
        vigil_jti_store *own_jti; /* created here, freed here */
        bool allowed[JWS_N_ALGS];
        char *allowed_text; /* for reasons: "RS256 ES256 EdDSA" */
};

static int64_t system_clock(void *userdata)
{
        (void)userdata;
        return (int64_t)time(NULL);
}

vigil_verifier *vigil_verifier_free(vigil_verifier *v)
{
        if (!v)
                return NULL;
        jwks_source_free(v->keys);
        if (v->own_jti)
                v->own_jti->free(v->own_jti);
        free(v->state_dir);
        free(v->allowed_text);
        free(v);
        return NULL;
}

int vigil_verifier_new(const vigil_config *cfg, const vigil_verifier_options *opts, vigil_verifier **ret)
{
        vigil_verifier_options none = {};
        vigil_jwks *fixed = NULL;
        vigil_verifier *v;
        size_t tlen = 1;
        int r;

        if (!opts)
                opts = &none;
        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->cfg = cfg;
        v->clock = opts->clock ? opts->clock : system_clock;
        v->clock_userdata = opts->clock_userdata;
        if (opts->state_dir)
                v->state_dir = strdup(opts->state_dir);
        else if (asprintf(&v->state_dir, "%s/identity", cfg->store) < 0)
                v->state_dir = NULL;
        if (!v->state_dir)
                goto oom;

        for (size_t i = 0; i < cfg->algorithms.n; i++)
                tlen += strlen(cfg->algorithms.v[i]) + 1;
        v->allowed_text = calloc(1, tlen);
        if (!v->allowed_text)
                goto oom;
        for (size_t i = 0; i < cfg->algorithms.n; i++) {
                int a = jws_alg_from_name(cfg->algorithms.v[i]);

                /* The config parser admits only names from VIGIL_CONF_ALGORITHMS. */
                if (a < 0) {
                        r = -EINVAL;
                        goto fail;
                }
                v->allowed[a] = true;
                if (i > 0)
                        strcat(v->allowed_text, " ");
                strcat(v->allowed_text, cfg->algorithms.v[i]);
        }

        if (opts->jwks_text) {
                r = vigil_jwks_parse(opts->jwks_text, opts->jwks_len, &fixed, NULL);
                if (r < 0) {
                        r = r == -ENOMEM ? r : -EINVAL;
                        goto fail;
                }
        }
        r = jwks_source_new(cfg, v->state_dir, fixed, &v->keys);
        if (r < 0) {
                vigil_jwks_free(fixed);
                goto fail;
        }

        if (opts->jti_store)
                v->jti = opts->jti_store;
        else if (cfg->single_use) {
                r = vigil_jti_store_file_new(v->state_dir, &v->own_jti);
                if (r < 0)
                        goto fail;
                v->jti = v->own_jti;
        }
        *ret = v;
        return 0;
oom:
        r = -ENOMEM;
fail:
        vigil_verifier_free(v);
        return r;
}

/* alg and crit and kid, before any key is looked at. */
static int check_header(const vigil_verifier *v, json_t *h, jws_alg *ret_alg, const char **ret_kid,
                        char **ret_reason)
{
        const char *alg = json_string_value(json_object_get(h, "alg"));
        const char *kid = json_string_value(json_object_get(h, "kid"));
        _cleanup_free_ char *c = NULL;
        int a;

        if (!alg)
                return reason_set(ret_reason, VIGIL_E_DENIED, "header has no alg");
        c = reason_clean(alg);
        /* JWS names are case-sensitive, but no spelling of "none" gets the
         * benefit of the doubt. */
        if (strcasecmp(alg, "none") == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' is never accepted (unsigned token)",
                                  RC(c));
        if (strncasecmp(alg, "HS", 2) == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' is never accepted (HMAC)", RC(c));
        a = jws_alg_from_name(alg);
        if (a < 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' is not supported", RC(c));
        if (!v->allowed[a])
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' is not in algorithms (%s)", RC(c),
                                  v->allowed_text);
        /* RFC 7515 4.1.11: an extension we do not implement must not be
         * ignored, and we implement none. */
        if (json_object_get(h, "crit"))
                return reason_set(ret_reason, VIGIL_E_DENIED,
                                  "header has crit; no critical extension is supported");
        /* jku, x5u, jwk and x5c are never read: the key comes from the
         * configured JWKS, chosen by kid, and from nowhere else. */
        if (!kid)
                return reason_set(ret_reason, VIGIL_E_DENIED, "header has no kid");
        *ret_alg = (jws_alg)a;
        *ret_kid = kid;
        return 0;
}

static int check_key(jws_alg a, const jwk_key *k, char **ret_reason)
{
        _cleanup_free_ char *ckid = NULL, *calg = NULL;

        if (k->unusable)
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s", k->unusable);
        ckid = reason_clean(k->kid);
        if (k->kind != jws_alg_key_kind(a))
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' does not match key '%s' (%s)",
                                  jws_alg_name(a), RC(ckid), jwk_kind_name(k->kind));
        if (k->alg && strcmp(k->alg, jws_alg_name(a)) != 0) {
                calg = reason_clean(k->alg);
                return reason_set(ret_reason, VIGIL_E_DENIED, "alg '%s' does not match key '%s' (alg %s)",
                                  jws_alg_name(a), RC(ckid), RC(calg));
        }
        return 0;
}

/* SHA-256 of issuer, newline, jti, in hex: fixed length, nothing to escape. */
static int jti_key(const char *iss, const char *jti, char ret[static 65])
{
        unsigned char md[32];
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok;

        ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, iss, strlen(iss)) &&
             EVP_DigestUpdate(ctx, "\n", 1) && EVP_DigestUpdate(ctx, jti, strlen(jti)) &&
             EVP_DigestFinal_ex(ctx, md, NULL);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof md; i++)
                (void)snprintf(ret + 2 * i, 3, "%02x", md[i]);
        return 0;
}

static int check_single_use(vigil_verifier *v, const vigil_identity *id, int64_t now, bool dry_run,
                            char **ret_reason)
{
        _cleanup_free_ char *c = NULL;
        char key[65];
        int r;

        if (!v->cfg->single_use)
                return 0;
        if (!id->jti)
                return reason_set(ret_reason, VIGIL_E_DENIED,
                                  "jti is missing (single_use = yes requires it)");
        r = jti_key(id->iss, id->jti, key);
        if (r < 0)
                return r;
        /* Kept for as long as the token could still be accepted. */
        r = v->jti->use(v->jti, key, id->exp + (int64_t)v->cfg->clock_skew, now, dry_run);
        if (r == VIGIL_E_DENIED) {
                c = reason_clean(id->jti);
                return reason_set(ret_reason, r, "jti '%s' was already used", RC(c));
        }
        if (r < 0)
                return reason_set(ret_reason, r, "cannot check single use: %s: %s", v->state_dir,
                                  vigil_strerror(r));
        return 0;
}

int vigil_verifier_verify(vigil_verifier *v, const char *token, size_t len, const char *user, unsigned flags,
                          vigil_identity **ret, char **ret_reason)
{
        _cleanup_free_ char *why = NULL;
        vigil_identity *id = NULL;
        vigil_jwt jwt = {};
        const jwk_key *key = NULL;
        const char *kid = NULL;
        int64_t now;
        jws_alg alg = JWS_RS256;
        int r;

        if (ret_reason)
                *ret_reason = NULL;
        if (!v || !token || (!user && !(flags & VIGIL_VERIFY_ANY_USER)))
                return reason_set(ret_reason, -EINVAL, "no account to verify the token for");
        now = v->clock(v->clock_userdata);

        r = vigil_jwt_parse(token, len, &jwt, ret_reason);
        if (r < 0)
                goto out;
        r = check_header(v, jwt.header, &alg, &kid, ret_reason);
        if (r < 0)
                goto out;
        r = jwks_source_find(v->keys, kid, now, &key, &why);
        if (r < 0) {
                if (r == VIGIL_E_DENIED)
                        r = reason_set(ret_reason, r, "%s", RC(why));
                else
                        r = reason_set(ret_reason, r, "cannot get the identity provider's keys: %s",
                                       RC(why));
                goto out;
        }
        r = check_key(alg, key, ret_reason);
        if (r < 0)
                goto out;
        r = jws_verify(alg, key, jwt.signing_input, jwt.signing_input_len, jwt.sig, jwt.sig_len, ret_reason);
        if (r < 0)
                goto out;
        r = vigil_claims_check(v->cfg, jwt.payload, jwt.payload_text, jwt.payload_len, now,
                               (flags & VIGIL_VERIFY_ANY_USER) ? NULL : user, &id, ret_reason);
        if (r < 0)
                goto out;
        r = check_single_use(v, id, now, flags & VIGIL_VERIFY_DRY_RUN, ret_reason);
        if (r < 0)
                goto out;
        *ret = TAKE_PTR(id);
out:
        /* Every failure has its line, even the ones without a story. */
        if (r < 0 && ret_reason && !*ret_reason)
                (void)reason_set(ret_reason, r, "%s", vigil_strerror(r));
        vigil_identity_free(id);
        vigil_jwt_done(&jwt);
        return r;
}

int vigil_token_read_fd(int fd, char **ret_token, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len, start = 0;
        int r;

        r = read_fd_bounded(fd, TOKEN_READ_MAX, &buf, &len);
        if (r < 0)
                return r;
        while (len > 0 && strchr(" \t\r\n", buf[len - 1]) && buf[len - 1])
                buf[--len] = '\0';
        while (start < len && strchr(" \t\r\n", buf[start]) && buf[start])
                start++;
        if (start > 0)
                memmove(buf, buf + start, len - start + 1);
        *ret_len = len - start;
        *ret_token = TAKE_PTR(buf);
        return 0;
}

int vigil_token_read_file(const char *path, char **ret_token, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return vigil_token_read_fd(fd, ret_token, ret_len);
}

int vigil_verify_token_file(const vigil_config *cfg, const vigil_verifier_options *opts, const char *path,
                            const char *user, vigil_identity **ret, char **ret_reason)
{
        _cleanup_free_ char *token = NULL;
        vigil_verifier *v = NULL;
        size_t len;
        int r;

        if (ret_reason)
                *ret_reason = NULL;
        if (!user)
                return reason_set(ret_reason, -EINVAL, "no account to verify the token for");
        r = vigil_token_read_file(path, &token, &len);
        if (r < 0)
                return reason_set(ret_reason, r, "cannot read token file '%s': %s", path, vigil_strerror(r));
        r = vigil_verifier_new(cfg, opts, &v);
        if (r < 0)
                return reason_set(ret_reason, r, "cannot set up verification: %s", vigil_strerror(r));
        r = vigil_verifier_verify(v, token, len, user, 0, ret, ret_reason);
        vigil_verifier_free(v);
        explicit_bzero(token, len);
        return r;
}
