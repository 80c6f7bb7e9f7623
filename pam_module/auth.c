/* pam_sm_authenticate: the person chooses a browser sign-in (RFC 8628
 * device flow) or hands over a token in parts; both end in the identity
 * library's one verification, for the PAM user. The verified identity stays
 * with the PAM handle for account (pam_set_data) and, for logins, goes to
 * vigild for the session phase, with only a reference in the PAM
 * environment (handoff.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device-flow.h"
#include "handoff.h"
#include "module.h"
#include "text.h"
#include "vigil-error.h"

#define FIRST_PROMPT "vigil: press Enter to sign in with your browser, or type 'token':"
#define PART_PROMPT "vigil token part %u:"
#define SIGNED_IN_PROMPT "Press Enter once you have signed in"
#define PART_MAX 500u /* characters per answer: under PAM_MAX_RESP_SIZE (512) and sudo's limits */

static void identity_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        vigil_identity_free(data);
}

static void vigil_verifier_freep(vigil_verifier **v)
{
        *v = vigil_verifier_free(*v);
}

static void vigil_oidc_provider_freep(vigil_oidc_provider **p)
{
        *p = vigil_oidc_provider_free(*p);
}

static void vigil_device_grant_freep(vigil_device_grant **g)
{
        *g = vigil_device_grant_free(*g);
}

/* One conversation prompt; the answer is the caller's (a secret to wipe). */
static int ask(const pv_ctx *c, int style, char **ret, const char *prompt)
{
        char *answer = NULL;
        int pr = pam_prompt(c->pamh, style, &answer, "%s", prompt);

        if (pr != PAM_SUCCESS || !answer) {
                pv_secret_free(answer);
                return PV_E_CONV;
        }
        *ret = answer;
        return 0;
}

/* "vigil token part N:" until an empty answer. The buffer is sized once
 * so that no partial token is ever left behind by a realloc. */
static int read_token_parts(const pv_ctx *c, char **ret, size_t *ret_len, char **ret_reason)
{
        _cleanup_secret_ char *tok = calloc(1, VIGIL_TOKEN_MAX);
        size_t len = 0;

        if (!tok)
                return -ENOMEM;
        for (unsigned n = 1;; n++) {
                _cleanup_secret_ char *part = NULL;
                char prompt[sizeof PART_PROMPT + 16];
                size_t plen;
                int r;

                (void)snprintf(prompt, sizeof prompt, PART_PROMPT, n);
                r = ask(c, PAM_PROMPT_ECHO_OFF, &part, prompt);
                if (r < 0)
                        return pv_reason(ret_reason, r, "the conversation failed at part %u", n);
                plen = strlen(part);
                if (plen == 0)
                        break;
                if (plen > PART_MAX)
                        return pv_reason(ret_reason, VIGIL_E_TOO_BIG,
                                         "part %u has %zu characters, more than %u", n, plen, PART_MAX);
                if (plen >= VIGIL_TOKEN_MAX - len)
                        return pv_reason(ret_reason, VIGIL_E_TOO_BIG,
                                         "the token reaches %u bytes at part %u", VIGIL_TOKEN_MAX, n);
                memcpy(tok + len, part, plen);
                len += plen;
        }
        if (len == 0)
                return pv_reason(ret_reason, VIGIL_E_DENIED, "no token: the first part was empty");
        *ret = TAKE_PTR(tok);
        *ret_len = len;
        return 0;
}

/* Discovery, device authorization, the instructions, then polling. */
static int device_sign_in(const pv_ctx *c, int64_t deadline_ms, char **ret, size_t *ret_len,
                          char **ret_reason)
{
        _cleanup_(vigil_oidc_provider_freep) vigil_oidc_provider *p = NULL;
        _cleanup_(vigil_device_grant_freep) vigil_device_grant *g = NULL;
        _cleanup_secret_ char *answer = NULL;
        char *tok = NULL;
        int r;

        r = vigil_oidc_discover(c->cfg, &p, ret_reason);
        if (r < 0)
                return pv_reason_wrap(ret_reason, r, "discovery");
        if (!p->device_authorization_endpoint || !p->token_endpoint)
                return pv_reason(ret_reason, -EPROTO,
                                 "the issuer's discovery document has no device_authorization_endpoint or "
                                 "token_endpoint");
        r = vigil_device_authorize(c->cfg, p->device_authorization_endpoint, deadline_ms, &g, ret_reason);
        if (r < 0)
                return pv_reason_wrap(ret_reason, r, "device authorization");
        pv_debug(c, "device code for '%s': user code %s, expires in %lld s, interval %u s", c->ulog,
                 g->user_code, (long long)((g->expires_ms - vigil_device_now_ms()) / 1000), g->interval);

        /* sshd's keyboard-interactive passes messages on only together with
         * the next prompt, so the instructions go out with one and polling
         * starts once it is answered. */
        if (pam_info(c->pamh, "To sign in, open %s and enter %s", g->verification_uri, g->user_code) !=
                    PAM_SUCCESS ||
            (g->verification_uri_complete &&
             pam_info(c->pamh, "or open %s", g->verification_uri_complete) != PAM_SUCCESS))
                return pv_reason(ret_reason, PV_E_CONV, "the conversation failed showing the code");
        r = ask(c, PAM_PROMPT_ECHO_ON, &answer, SIGNED_IN_PROMPT);
        if (r < 0)
                return pv_reason(ret_reason, r, "the conversation failed at '" SIGNED_IN_PROMPT "'");

        r = vigil_device_poll(c->cfg, p->token_endpoint, g, deadline_ms, &tok, ret_reason);
        if (r < 0)
                return pv_reason_wrap(ret_reason, r, "token endpoint");
        *ret = tok;
        *ret_len = strlen(tok);
        return 0;
}

static int account_exists(const char *user)
{
        struct passwd pw, *res = NULL;
        long n = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = n > 0 ? (size_t)n : 16384;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                int r;

                if (!buf)
                        return -ENOMEM;
                r = getpwnam_r(user, &pw, buf, size, &res);
                if (r == ERANGE && size < (1u << 20)) {
                        size *= 2;
                        continue;
                }
                if (r != 0)
                        return -r;
                return res ? 0 : -ENOENT;
        }
}

/* Verify for the PAM user, then the checks that need a local view. */
static int verify(const pv_ctx *c, const char *tok, size_t len, vigil_identity **ret, char **ret_reason)
{
        _cleanup_(vigil_verifier_freep) vigil_verifier *v = NULL;
        vigil_identity *id = NULL;
        int r;

        r = vigil_verifier_new(c->cfg, NULL, &v);
        if (r < 0)
                return pv_reason(ret_reason, r, "verify: %s", vigil_strerror(r));
        r = vigil_verifier_verify(v, tok, len, c->user, 0, &id, ret_reason);
        if (r < 0)
                return pv_reason_wrap(ret_reason, r, "verify");
        /* After verification, so that an unknown account goes through the
         * same prompts and the same refusal as a bad token. */
        r = account_exists(c->user);
        if (r < 0) {
                vigil_identity_free(id);
                if (r == -ENOENT)
                        return pv_reason(ret_reason, VIGIL_E_DENIED, "no local account '%s'", c->ulog);
                return pv_reason(ret_reason, r, "looking up account '%s': %s", c->ulog, vigil_strerror(r));
        }
        if (c->args.mode == PV_MODE_SUDO && !pv_identity_in_group(id, c->cfg->sudo_group)) {
                vigil_identity_free(id);
                return pv_reason(ret_reason, VIGIL_E_DENIED,
                                 "the token's groups do not include sudo_group '%s'", c->cfg->sudo_group);
        }
        *ret = id;
        return 0;
}

/* The identity to vigild, the reference into the PAM environment. */
static int hand_off(const pv_ctx *c, const vigil_identity *id, char **ret_reason)
{
        char ref[PV_REF_LEN + 1], env[sizeof PV_REF_ENV + 1 + PV_REF_LEN + 1];
        int r, pr;

        r = pv_handoff_register(c->args.vigild_socket, c->user, c->service, id, ref, ret_reason);
        if (r < 0)
                return pv_reason_wrap(ret_reason, r, "hand-off");
        (void)snprintf(env, sizeof env, "%s=%s", PV_REF_ENV, ref);
        pr = pam_putenv(c->pamh, env);
        explicit_bzero(ref, sizeof ref);
        explicit_bzero(env, sizeof env);
        if (pr != PAM_SUCCESS)
                return pv_reason(ret_reason, -ENOMEM, "hand-off: pam_putenv: %s", pam_strerror(c->pamh, pr));
        return 0;
}

static void log_signed_in(const pv_ctx *c, const char *method, const vigil_identity *id)
{
        _cleanup_free_ char *sub = pv_text_clean(id->sub, 128), *email = pv_text_clean(id->email, 128),
                            *groups = NULL;
        size_t len = 0;
        char tbuf[32];
        struct tm tm;
        time_t t = (time_t)id->exp;

        for (size_t i = 0; i < id->n_groups; i++)
                len += strlen(id->groups[i]) * 4 + 1;
        groups = calloc(1, len + 1);
        for (size_t i = 0; groups && i < id->n_groups; i++) {
                _cleanup_free_ char *g = pv_text_clean(id->groups[i], strlen(id->groups[i]));

                if (i > 0)
                        strcat(groups, ",");
                strcat(groups, PV_TC(g));
        }
        if (!gmtime_r(&t, &tm) || strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void)snprintf(tbuf, sizeof tbuf, "%lld", (long long)id->exp);
        pam_syslog(c->pamh, LOG_INFO,
                   "signed in '%s' (%s): subject '%s', email '%s', groups [%s], expires %s", c->ulog, method,
                   PV_TC(sub), id->email ? PV_TC(email) : "", groups ? groups : "?", tbuf);
}

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(pv_ctx_done) pv_ctx c = {};
        _cleanup_secret_ char *choice = NULL, *tok = NULL;
        _cleanup_free_ char *reason = NULL, *clean = NULL;
        vigil_identity *id = NULL;
        const char *method = "first prompt";
        int64_t deadline_ms;
        size_t len = 0;
        int r, pr;

        pr = pv_ctx_init(&c, pamh, flags, argc, argv);
        if (pr != PAM_SUCCESS) {
                pv_tell_refused(&c);
                return pr;
        }
        /* Nothing from an earlier attempt on this handle may count for this one. */
        (void)pam_set_data(pamh, PV_DATA_IDENTITY, NULL, NULL);
        if (pam_getenv(pamh, PV_REF_ENV))
                (void)pam_putenv(pamh, PV_REF_ENV);

        deadline_ms = vigil_device_now_ms() + (int64_t)c.cfg->login_timeout * 1000;
        r = ask(&c, PAM_PROMPT_ECHO_ON, &choice, FIRST_PROMPT);
        if (r < 0)
                r = pv_reason(&reason, r, "the conversation failed at the first prompt");
        else if (strcmp(choice, "token") == 0) {
                method = "token";
                r = read_token_parts(&c, &tok, &len, &reason);
        } else if (choice[0] == '\0') {
                method = "device";
                r = device_sign_in(&c, deadline_ms, &tok, &len, &reason);
        } else
                r = pv_reason(&reason, VIGIL_E_DENIED, "the first answer was neither empty nor 'token'");
        if (r >= 0)
                r = verify(&c, tok, len, &id, &reason);
        if (r >= 0 && c.args.mode == PV_MODE_LOGIN) {
                r = hand_off(&c, id, &reason);
                if (r < 0)
                        id = vigil_identity_free(id);
        }
        if (r < 0) {
                clean = pv_text_clean(reason ? reason : vigil_strerror(r), 600);
                pam_syslog(pamh, LOG_NOTICE, "sign-in refused for '%s' (%s): %s", c.ulog, method,
                           PV_TC(clean));
                pv_tell_refused(&c);
                return pv_pam_result(r);
        }

        pr = pam_set_data(pamh, PV_DATA_IDENTITY, id, identity_cleanup);
        if (pr != PAM_SUCCESS) {
                vigil_identity_free(id);
                (void)pam_putenv(pamh, PV_REF_ENV);
                pam_syslog(pamh, LOG_ERR, "sign-in refused for '%s' (%s): pam_set_data: %s", c.ulog, method,
                           pam_strerror(pamh, pr));
                pv_tell_refused(&c);
                return PAM_BUF_ERR;
        }
        log_signed_in(&c, method, id);
        return PAM_SUCCESS;
}

/* No credentials to establish: the identity travels by pam_set_data and
 * the hand-off reference. */
int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        const char *bad = NULL, *why = NULL;
        pv_args args;

        (void)flags;
        if (pv_args_parse(argc, argv, &args, &bad, &why) < 0) {
                _cleanup_free_ char *clean = pv_text_clean(bad, 128);

                pam_syslog(pamh, LOG_ERR, "module argument '%s' %s; refusing every request", PV_TC(clean),
                           why);
                return PAM_SERVICE_ERR;
        }
        return PAM_SUCCESS;
}
