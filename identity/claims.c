#include <stdbool.h>
#include <string.h>

#include "claims.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

#define NUMERIC_DATE_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

vigil_identity *vigil_identity_free(vigil_identity *id)
{
        if (!id)
                return NULL;
        free(id->iss);
        free(id->sub);
        free(id->email);
        free(id->username);
        for (size_t i = 0; id->groups && i < id->n_groups; i++)
                free(id->groups[i]);
        free(id->groups);
        free(id->jti);
        free(id->claims_json);
        free(id);
        return NULL;
}

/* A NumericDate claim: 1 when present, 0 when absent, VIGIL_E_DENIED when
 * not an integer within years 1970-9999 (fractions are not accepted). */
static int time_claim(json_t *payload, const char *name, int64_t *ret, char **ret_reason)
{
        json_t *v = json_object_get(payload, name);
        json_int_t t;

        if (!v)
                return 0;
        if (!json_is_integer(v))
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s is not an integer", name);
        t = json_integer_value(v);
        if (t < 0 || t > NUMERIC_DATE_MAX)
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s %lld is not a valid time", name,
                                  (long long)t);
        *ret = (int64_t)t;
        return 1;
}

/* An optional string claim: 1 present, 0 absent, VIGIL_E_DENIED other type. */
static int string_claim(json_t *payload, const char *name, const char **ret, char **ret_reason)
{
        json_t *v = json_object_get(payload, name);
        _cleanup_free_ char *c = NULL;

        if (!v)
                return 0;
        if (!json_is_string(v)) {
                c = reason_clean(name);
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s is not a string", RC(c));
        }
        *ret = json_string_value(v);
        return 1;
}

static int check_iss(const vigil_config *cfg, json_t *payload, const char **ret, char **ret_reason)
{
        const char *iss = NULL;
        int r = string_claim(payload, "iss", &iss, ret_reason);

        if (r < 0)
                return r;
        if (r == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "iss is missing");
        if (strcmp(iss, cfg->issuer) != 0) {
                _cleanup_free_ char *a = reason_clean(iss), *b = reason_clean(cfg->issuer);
                return reason_set(ret_reason, VIGIL_E_DENIED, "iss '%s' is not the issuer '%s'", RC(a),
                                  RC(b));
        }
        *ret = iss;
        return 0;
}

static int check_aud(const vigil_config *cfg, json_t *payload, char **ret_reason)
{
        json_t *aud = json_object_get(payload, "aud"), *v;
        _cleanup_free_ char *text = NULL, *a = NULL, *b = NULL;
        bool found = false;
        size_t i;

        if (!aud)
                return reason_set(ret_reason, VIGIL_E_DENIED, "aud is missing");
        if (json_is_string(aud))
                found = strcmp(json_string_value(aud), cfg->audience) == 0;
        else if (json_is_array(aud)) {
                json_array_foreach(aud, i, v) {
                        if (!json_is_string(v))
                                return reason_set(ret_reason, VIGIL_E_DENIED,
                                                  "aud is not a string or an array of strings");
                        if (strcmp(json_string_value(v), cfg->audience) == 0)
                                found = true;
                }
        } else
                return reason_set(ret_reason, VIGIL_E_DENIED, "aud is not a string or an array of strings");
        if (found)
                return 0;

        text = json_is_string(aud) ? strdup(json_string_value(aud)) : json_dumps(aud, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        a = reason_clean(text);
        b = reason_clean(cfg->audience);
        return reason_set(ret_reason, VIGIL_E_DENIED, "aud '%s' does not contain the audience '%s'", RC(a),
                          RC(b));
}

static int check_times(const vigil_config *cfg, json_t *payload, int64_t now, int64_t *ret_exp,
                       int64_t *ret_iat, char **ret_reason)
{
        int64_t skew = (int64_t)cfg->clock_skew, age = (int64_t)cfg->max_token_age, exp = 0, nbf = 0,
                iat = 0;
        char t[32], d[32];
        int r;

        r = time_claim(payload, "exp", &exp, ret_reason);
        if (r < 0)
                return r;
        if (r == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "exp is missing");
        if (now >= exp + skew)
                return reason_set(ret_reason, VIGIL_E_DENIED, "exp %s is in the past", time_format(exp, t));

        r = time_claim(payload, "nbf", &nbf, ret_reason);
        if (r < 0)
                return r;
        if (r > 0 && nbf > now + skew)
                return reason_set(ret_reason, VIGIL_E_DENIED, "nbf %s is in the future",
                                  time_format(nbf, t));

        r = time_claim(payload, "iat", &iat, ret_reason);
        if (r < 0)
                return r;
        if (r == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "iat is missing");
        if (iat > now + skew)
                return reason_set(ret_reason, VIGIL_E_DENIED, "iat %s is in the future",
                                  time_format(iat, t));
        if (now - iat > age + skew)
                return reason_set(ret_reason, VIGIL_E_DENIED, "iat %s is older than max_token_age %s",
                                  time_format(iat, t),
                                  vigil_duration_format(cfg->max_token_age, d, sizeof d));
        *ret_exp = exp;
        *ret_iat = iat;
        return 0;
}

static int check_username(const vigil_config *cfg, json_t *payload, const char *user, const char **ret,
                          char **ret_reason)
{
        _cleanup_free_ char *cn = reason_clean(cfg->username_claim), *cv = NULL, *cu = NULL;
        json_t *v = json_object_get(payload, cfg->username_claim);

        *ret = NULL;
        if (v && !json_is_string(v))
                return reason_set(ret_reason, VIGIL_E_DENIED, "username claim '%s' is not a string", RC(cn));
        if (v)
                *ret = json_string_value(v);
        if (!user)
                return 0;
        if (!v)
                return reason_set(ret_reason, VIGIL_E_DENIED, "username claim '%s' is missing", RC(cn));
        if (strcmp(*ret, user) != 0) {
                cv = reason_clean(*ret);
                cu = reason_clean(user);
                return reason_set(ret_reason, VIGIL_E_DENIED, "username claim '%s' is '%s', not '%s'",
                                  RC(cn), RC(cv), RC(cu));
        }
        return 0;
}

static int bad_groups(const vigil_config *cfg, char **ret_reason)
{
        _cleanup_free_ char *c = reason_clean(cfg->groups_claim);
        return reason_set(ret_reason, VIGIL_E_DENIED, "groups claim '%s' is not an array of strings", RC(c));
}

static int take_groups(const vigil_config *cfg, json_t *payload, vigil_identity *id, char **ret_reason)
{
        json_t *g = json_object_get(payload, cfg->groups_claim), *v;
        size_t i;

        id->groups = calloc(json_is_array(g) ? json_array_size(g) + 1 : 1, sizeof *id->groups);
        if (!id->groups)
                return -ENOMEM;
        if (!g)
                return 0;
        if (!json_is_array(g))
                return bad_groups(cfg, ret_reason);
        json_array_foreach(g, i, v) {
                if (!json_is_string(v))
                        return bad_groups(cfg, ret_reason);
                id->groups[id->n_groups] = strdup(json_string_value(v));
                if (!id->groups[id->n_groups])
                        return -ENOMEM;
                id->n_groups++;
        }
        return 0;
}

static int dup_opt(const char *s, char **ret)
{
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Whether @text, JSON that jansson has just accepted, is already compact:
 * no blank outside its strings. JSON strings hold no raw control characters,
 * so such a text is also on one line. */
static bool json_text_compact(const char *text, size_t len)
{
        bool in_string = false;

        for (size_t i = 0; i < len; i++) {
                char c = text[i];

                if (in_string) {
                        if (c == '\\')
                                i++; /* the escaped character, whatever it is */
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"')
                        in_string = true;
                else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        return false;
        }
        return true;
}

int vigil_claims_check(const vigil_config *cfg, json_t *payload, const char *text, size_t text_len,
                       int64_t now, const char *user, vigil_identity **ret, char **ret_reason)
{
        const char *iss = NULL, *sub = NULL, *email = NULL, *jti = NULL, *username = NULL;
        vigil_identity *id = NULL;
        int64_t exp = 0, iat = 0;
        int r;

        r = check_iss(cfg, payload, &iss, ret_reason);
        if (r < 0)
                return r;
        r = check_aud(cfg, payload, ret_reason);
        if (r < 0)
                return r;
        r = check_times(cfg, payload, now, &exp, &iat, ret_reason);
        if (r < 0)
                return r;
        r = string_claim(payload, "sub", &sub, ret_reason);
        if (r < 0)
                return r;
        if (r == 0 || !*sub)
                return reason_set(ret_reason, VIGIL_E_DENIED, "sub is missing");
        r = check_username(cfg, payload, user, &username, ret_reason);
        if (r < 0)
                return r;
        r = string_claim(payload, "email", &email, ret_reason);
        if (r < 0)
                return r;
        r = string_claim(payload, "jti", &jti, ret_reason);
        if (r < 0)
                return r;

        id = calloc(1, sizeof *id);
        if (!id)
                return -ENOMEM;
        id->exp = exp;
        id->iat = iat;
        r = take_groups(cfg, payload, id, ret_reason);
        if (r < 0)
                goto fail;
        if (dup_opt(iss, &id->iss) < 0 || dup_opt(sub, &id->sub) < 0 || dup_opt(email, &id->email) < 0 ||
            dup_opt(jti, &id->jti) < 0 || dup_opt(username, &id->username) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        /* The text as signed when it is compact (the usual case, and
         * serializing again is a tenth of the time of a whole ES256 token). */
        if (text && strlen(text) == text_len && json_text_compact(text, text_len))
                id->claims_json = strdup(text);
        else
                id->claims_json = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!id->claims_json) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = id;
        return 0;
fail:
        vigil_identity_free(id);
        return r;
}
