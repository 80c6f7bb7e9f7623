/* The device flow's client (device-flow.h). Everything the provider sends
 * is bounded and checked before it is shown or used; the device code and
 * tokens are wiped from every buffer that held them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "device-flow.h"
#include "form.h"
#include "http.h"
#include "identity.h"
#include "macro.h"
#include "reason.h"
#include "text-clean.h"
#include "vigil-error.h"

#define GRANT_TYPE_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_HTTP_MAX_BODY (64u * 1024) /* a device or token response */

/* The first (innermost) reason is kept: callers add context with reason_wrap(). */
static int dreason(char **ret, int r, const char *fmt, ...) _printf_(3, 4);
static int dreason(char **ret, int r, const char *fmt, ...)
{
        va_list ap;

        if (!ret || *ret)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
        return r;
}

/* "prefix: " + *ret, in the manner of an error chain. */
static int reason_wrap(char **ret, int r, const char *prefix)
{
        char *n;

        if (!ret || !*ret)
                return r;
        if (asprintf(&n, "%s: %s", prefix, *ret) < 0)
                return r;
        free(*ret);
        *ret = n;
        return r;
}

static char *secret_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}

int64_t vigil_device_now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until vigil_device_now_ms() reaches @when; signals do not cut it short. */
static void sleep_until_ms(int64_t when)
{
        struct timespec ts = { .tv_sec = when / 1000, .tv_nsec = (when % 1000) * 1000000 };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

vigil_device_grant *vigil_device_grant_free(vigil_device_grant *g)
{
        if (!g)
                return NULL;
        secret_free(g->device_code);
        free(g->user_code);
        free(g->verification_uri);
        free(g->verification_uri_complete);
        free(g);
        return NULL;
}

/* Client authentication in the body (RFC 6749 2.3.1, 3.2.1): client_id
 * always, for a public client; client_secret too for a confidential one
 * (client_secret_post). */
static int client_form(const vigil_config *cfg, http_form *f)
{
        int r = http_form_add(f, "client_id", cfg->client_id);

        if (r >= 0 && cfg->client_secret)
                r = http_form_add(f, "client_secret", cfg->client_secret);
        return r;
}

/* POST @f to @url; the body is a secret (the caller wipes it). */
static int post(const vigil_config *cfg, const char *url, const http_form *f, int64_t deadline_ms,
                long *ret_status, char **ret_body, size_t *ret_len, char **ret_reason)
{
        /* No request outlives the deadline: each gets what is left of it
         * (at most its own bound), so sshd's LoginGraceTime, set above
         * login_timeout, never cuts off a sign-in that vigil still runs. */
        int64_t left = deadline_ms - vigil_device_now_ms();
        char *why = NULL;
        int r;

        if (left <= 0)
                return dreason(ret_reason, VIGIL_E_DENIED, "login_timeout reached");
        r = vigil_https_post_form(url, cfg->ca_file, f->buf, DEVICE_HTTP_MAX_BODY,
                                  left < VIGIL_HTTP_TOTAL_TIMEOUT_MS ? (long)left : VIGIL_HTTP_TOTAL_TIMEOUT_MS,
                                  ret_status, ret_body, ret_len, &why);
        if (r == -ETIMEDOUT && deadline_ms - vigil_device_now_ms() <= 0) {
                free(why);
                return dreason(ret_reason, VIGIL_E_DENIED, "login_timeout reached during a request");
        }
        if (r < 0 && ret_reason && !*ret_reason)
                *ret_reason = why;
        else
                free(why);
        return r;
}

static int load_object(long status, const char *body, size_t len, json_t **ret, char **ret_reason)
{
        json_error_t jerr;
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

        if (!json_is_object(j)) {
                json_decref(j);
                return dreason(ret_reason, -EPROTO, "HTTP %ld with a body that is not a JSON object",
                                 status);
        }
        *ret = j;
        return 0;
}

static void wipe_free(char *body, size_t len)
{
        if (body) {
                explicit_bzero(body, len);
                free(body);
        }
}

/* A string member that must pass text_printable(); NULL when absent. */
static int printable_member(json_t *o, const char *name, size_t max, bool required, char **ret,
                            char **ret_reason)
{
        json_t *v = json_object_get(o, name);

        if (!v) {
                if (required)
                        return dreason(ret_reason, -EPROTO, "device authorization response has no '%s'",
                                         name);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v) || !text_printable(json_string_value(v), max, false))
                return dreason(
                        ret_reason, -EPROTO,
                        "device authorization response: '%s' is not printable text of at most %zu bytes",
                        name, max);
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static int positive_member(json_t *o, const char *name, unsigned max, unsigned def, unsigned *ret,
                           char **ret_reason)
{
        json_t *v = json_object_get(o, name);

        if (!v) {
                if (!def)
                        return dreason(ret_reason, -EPROTO, "device authorization response has no '%s'",
                                         name);
                *ret = def;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max)
                return dreason(ret_reason, -EPROTO,
                                 "device authorization response: '%s' is not an integer from 0 to %u", name,
                                 max);
        *ret = (unsigned)json_integer_value(v);
        return 0;
}

/* "error: description" from an OAuth error response, cleaned for a log. */
static char *oauth_error_text(json_t *j)
{
        _cleanup_free_ char *e = text_clean(json_string_value(json_object_get(j, "error")), 64);
        _cleanup_free_ char *d = NULL;
        const char *desc = json_string_value(json_object_get(j, "error_description"));
        char *out;

        if (desc)
                d = text_clean(desc, 160);
        if (asprintf(&out, "%s%s%s", RC(e), d ? ": " : "", d ? d : "") < 0)
                return NULL;
        return out;
}

static int scope_text(const vigil_strv *scopes, char **ret)
{
        size_t len = 1;
        char *s;

        for (size_t i = 0; i < scopes->n; i++)
                len += strlen(scopes->v[i]) + 1;
        s = calloc(1, len);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < scopes->n; i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, scopes->v[i]);
        }
        *ret = s;
        return 0;
}

static bool https_uri(const char *s)
{
        return s && strncmp(s, "https://", 8) == 0 && s[8] != '\0';
}

int vigil_device_parse_grant(long status, const char *body, size_t len, int64_t started_ms,
                          vigil_device_grant **ret, char **ret_reason)
{
        json_auto_t *j = NULL;
        _cleanup_free_ char *err = NULL;
        vigil_device_grant *g = NULL;
        unsigned expires_in = 0;
        int r;

        r = load_object(status, body, len, &j, ret_reason);
        if (r < 0)
                return r;
        if (status != 200) {
                err = oauth_error_text(j);
                return dreason(ret_reason, -EPROTO, "device authorization refused (HTTP %ld): %s", status,
                                 RC(err));
        }
        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        r = printable_member(j, "device_code", VIGIL_DEVICE_CODE_MAX, true, &g->device_code, ret_reason);
        if (r >= 0)
                r = printable_member(j, "user_code", VIGIL_DEVICE_USER_CODE_MAX, true, &g->user_code, ret_reason);
        if (r >= 0)
                r = printable_member(j, "verification_uri", VIGIL_DEVICE_URI_MAX, true, &g->verification_uri,
                                     ret_reason);
        if (r >= 0)
                r = printable_member(j, "verification_uri_complete", VIGIL_DEVICE_URI_MAX, false,
                                     &g->verification_uri_complete, ret_reason);
        if (r >= 0)
                r = positive_member(j, "expires_in", VIGIL_DEVICE_MAX_EXPIRES_IN, 0, &expires_in, ret_reason);
        if (r >= 0)
                r = positive_member(j, "interval", VIGIL_DEVICE_MAX_INTERVAL, VIGIL_DEVICE_DEFAULT_INTERVAL,
                                    &g->interval, ret_reason);
        /* The person is sent to these addresses: only https, so that what
         * they type their credentials into is at least authenticated. */
        if (r >= 0 && (!https_uri(g->verification_uri) ||
                       (g->verification_uri_complete && !https_uri(g->verification_uri_complete))))
                r = dreason(ret_reason, -EPROTO,
                              "device authorization response: verification URI is not https://");
        if (r >= 0 && expires_in == 0)
                r = dreason(ret_reason, -EPROTO, "device authorization response: 'expires_in' is 0");
        if (r < 0) {
                vigil_device_grant_free(g);
                return r;
        }
        /* The device code is in jansson's copy of the response too. */
        explicit_bzero((char *)json_string_value(json_object_get(j, "device_code")), strlen(g->device_code));
        if (g->interval == 0)
                g->interval = 1;
        g->expires_ms = started_ms + (int64_t)expires_in * 1000;
        g->next_poll_ms = started_ms + (int64_t)g->interval * 1000;
        *ret = g;
        return 0;
}

int vigil_device_authorize(const vigil_config *cfg, const char *endpoint, int64_t deadline_ms,
                        vigil_device_grant **ret, char **ret_reason)
{
        _cleanup_free_ char *scope = NULL;
        int64_t started = vigil_device_now_ms();
        http_form f = { 0 };
        char *body = NULL;
        size_t len = 0;
        long status = 0;
        int r;

        if (!cfg->client_id)
                return dreason(ret_reason, -EINVAL, "'client_id' is not set in %s", cfg->path);
        r = scope_text(&cfg->scopes, &scope);
        if (r >= 0)
                r = client_form(cfg, &f);
        if (r >= 0)
                r = http_form_add(&f, "scope", scope);
        if (r >= 0)
                r = post(cfg, endpoint, &f, deadline_ms, &status, &body, &len, ret_reason);
        http_form_done(&f);
        if (r < 0)
                return r;
        r = vigil_device_parse_grant(status, body, len, started, ret, ret_reason);
        wipe_free(body, len);
        return r;
}

int vigil_device_parse_token(long status, const char *body, size_t len, vigil_device_grant *g, char **ret_id_token,
                          char **ret_reason)
{
        json_auto_t *j = NULL;
        _cleanup_free_ char *err = NULL;
        const char *e, *tok;
        int r;

        r = load_object(status, body, len, &j, ret_reason);
        if (r < 0)
                return r;
        if (status == 200) {
                tok = json_string_value(json_object_get(j, "id_token"));
                if (!tok)
                        return dreason(ret_reason, -EPROTO,
                                         "the token response has no id_token (is 'openid' in scopes?)");
                if (strlen(tok) >= VIGIL_TOKEN_MAX)
                        return dreason(ret_reason, VIGIL_E_DENIED, "the ID token is %u bytes or more",
                                         VIGIL_TOKEN_MAX);
                *ret_id_token = strdup(tok);
                /* jansson keeps its own copy of the token: wipe it before the decref. */
                explicit_bzero((char *)tok, strlen(tok));
                return *ret_id_token ? 0 : -ENOMEM;
        }
        if (status != 400 && status != 401)
                return dreason(ret_reason, -EPROTO, "the token endpoint answered HTTP %ld", status);
        e = json_string_value(json_object_get(j, "error"));
        if (!e)
                return dreason(ret_reason, -EPROTO,
                                 "the token endpoint answered HTTP %ld without an error code", status);
        if (strcmp(e, "authorization_pending") == 0)
                return -EAGAIN;
        if (strcmp(e, "slow_down") == 0) {
                if (g->interval <= VIGIL_DEVICE_MAX_INTERVAL)
                        g->interval += VIGIL_DEVICE_SLOW_DOWN_STEP;
                return -EAGAIN;
        }
        err = oauth_error_text(j);
        if (strcmp(e, "access_denied") == 0)
                return dreason(ret_reason, VIGIL_E_DENIED, "the sign-in was denied (%s)", RC(err));
        if (strcmp(e, "expired_token") == 0)
                return dreason(ret_reason, VIGIL_E_DENIED, "the device code expired before approval (%s)",
                                 RC(err));
        return dreason(ret_reason, VIGIL_E_DENIED, "the token endpoint refused: %s", RC(err));
}

/* One token request: 0 with *ret_token, -EAGAIN to poll again, or a refusal. */
static int poll_once(const vigil_config *cfg, const char *token_endpoint, vigil_device_grant *g,
                     int64_t deadline_ms, char **ret_token, char **ret_reason)
{
        http_form f = { 0 };
        char *body = NULL;
        size_t len = 0;
        long status = 0;
        int r;

        r = http_form_add(&f, "grant_type", GRANT_TYPE_DEVICE);
        if (r >= 0)
                r = http_form_add(&f, "device_code", g->device_code);
        if (r >= 0)
                r = client_form(cfg, &f);
        if (r >= 0)
                r = post(cfg, token_endpoint, &f, deadline_ms, &status, &body, &len, ret_reason);
        http_form_done(&f);
        if (r < 0)
                return r;
        r = vigil_device_parse_token(status, body, len, g, ret_token, ret_reason);
        wipe_free(body, len);
        return r;
}

int vigil_device_poll(const vigil_config *cfg, const char *token_endpoint, vigil_device_grant *g,
                   int64_t deadline_ms, char **ret_id_token, char **ret_reason)
{
        for (;;) {
                int64_t now = vigil_device_now_ms();
                int r;

                if (g->next_poll_ms < now)
                        g->next_poll_ms = now;
                if (g->next_poll_ms >= deadline_ms)
                        return dreason(ret_reason, VIGIL_E_DENIED,
                                         "login_timeout reached before the sign-in was approved");
                sleep_until_ms(g->next_poll_ms);
                r = poll_once(cfg, token_endpoint, g, deadline_ms, ret_id_token, ret_reason);
                if (r != -EAGAIN)
                        return r;
                g->next_poll_ms = vigil_device_now_ms() + (int64_t)g->interval * 1000;
        }
}

static void provider_freep(vigil_oidc_provider **p)
{
        *p = vigil_oidc_provider_free(*p);
}

int vigil_device_sign_in(const vigil_config *cfg, vigil_device_show_fn show, void *userdata, int64_t deadline_ms,
                         char **ret_id_token, char **ret_reason)
{
        _cleanup_(provider_freep) vigil_oidc_provider *p = NULL;
        vigil_device_grant *g = NULL;
        int r;

        r = vigil_oidc_discover(cfg, &p, ret_reason);
        if (r < 0)
                return reason_wrap(ret_reason, r, "discovery");
        if (!p->device_authorization_endpoint || !p->token_endpoint)
                return dreason(ret_reason, -EPROTO,
                               "the issuer's discovery document has no device_authorization_endpoint or "
                               "token_endpoint");
        r = vigil_device_authorize(cfg, p->device_authorization_endpoint, deadline_ms, &g, ret_reason);
        if (r < 0)
                return reason_wrap(ret_reason, r, "device authorization");
        /* what is left of the sign-in: the code's life or the caller's deadline */
        show(userdata, g->verification_uri, g->user_code, g->verification_uri_complete,
             ((g->expires_ms < deadline_ms ? g->expires_ms : deadline_ms) - vigil_device_now_ms()) / 1000);
        r = vigil_device_poll(cfg, p->token_endpoint, g, deadline_ms, ret_id_token, ret_reason);
        vigil_device_grant_free(g);
        if (r < 0)
                return reason_wrap(ret_reason, r, "token endpoint");
        return 0;
}
