/* OAuth 2.0 Device Authorization Grant (RFC 8628), the client side: ask the
 * identity provider for a device code, then poll its token endpoint until
 * the person approves (an ID token comes back), denies, or the code or our
 * own deadline runs out. Used by pam_vigil's sign-in and by approvers
 * (`vigil approve`/`deny`) who are not in a vigil session.
 *
 * The token that comes back is NOT verified here: the caller passes it to
 * vigil_verifier_verify() (identity.h) like any other token.
 *
 * No logging: failures come back as codes with a one-line reason, and the
 * caller decides what the user sees. Blocking: vigil_device_poll() sleeps
 * between polls, as RFC 8628 3.5 asks. Text from the identity provider that
 * a person is shown (user code, verification URIs) is checked to be
 * printable ASCII and the URIs https://, so a provider cannot put terminal
 * escapes on their screen. */
#pragma once

#include <stdint.h>

#include "config/config.h"
#include "identity.h"

/* Bounds on what the identity provider may send. */
#define VIGIL_DEVICE_CODE_MAX 4096u
#define VIGIL_DEVICE_USER_CODE_MAX 64u
#define VIGIL_DEVICE_URI_MAX 1024u
#define VIGIL_DEVICE_MAX_EXPIRES_IN (24u * 3600)
#define VIGIL_DEVICE_MAX_INTERVAL 300u
#define VIGIL_DEVICE_DEFAULT_INTERVAL 5u /* RFC 8628 3.2, when the provider names none */
#define VIGIL_DEVICE_SLOW_DOWN_STEP 5u   /* RFC 8628 3.5 */

typedef struct vigil_device_grant {
        char *device_code;               /* secret: wiped when freed */
        char *user_code;                 /* printable ASCII, checked */
        char *verification_uri;          /* https://, printable ASCII, checked */
        char *verification_uri_complete; /* the same, or NULL when not sent */
        unsigned interval;               /* seconds between polls */
        int64_t expires_ms;              /* vigil_device_now_ms() time the code expires */
        int64_t next_poll_ms;            /* vigil_device_now_ms() time of the next poll */
} vigil_device_grant;

/** @return CLOCK_MONOTONIC time in milliseconds. */
int64_t vigil_device_now_ms(void);

/**
 * vigil_device_authorize() - the device authorization request (RFC 8628 3.1).
 * Sends client_id and scope (and client_secret, client_secret_post, when configured).
 * @param[in]  cfg          configuration: client_id (required), client_secret, scopes, ca_file.
 * @param[in]  endpoint     the discovery document's device_authorization_endpoint.
 * @param[in]  deadline_ms  vigil_device_now_ms() time by which everything must be over.
 * @param[out] ret          the grant (free with vigil_device_grant_free()); untouched on failure.
 * @param[out] ret_reason   on failure a malloc'd one-line reason (may stay NULL on -ENOMEM).
 * @return 0; -EPROTO (refused by the provider or a malformed answer); -EINVAL (no client_id);
 *         a network -errno as vigil_https_post_form(); -ENOMEM.
 */
int vigil_device_authorize(const vigil_config *cfg, const char *endpoint, int64_t deadline_ms,
                           vigil_device_grant **ret, char **ret_reason);

/**
 * vigil_device_poll() - poll the token endpoint (RFC 8628 3.4, 3.5) at the
 * grant's interval (slow_down adds VIGIL_DEVICE_SLOW_DOWN_STEP seconds) until
 * there is an answer.
 * @param[in]     cfg            as for vigil_device_authorize().
 * @param[in]     token_endpoint the discovery document's token_endpoint.
 * @param[in,out] g              the grant (its interval and next poll time advance).
 * @param[in]     deadline_ms    give up when the next poll would come after this.
 * @param[out]    ret_id_token   the ID token (malloc'd; the caller wipes and frees); untouched on failure.
 * @param[out]    ret_reason     as for vigil_device_authorize().
 * @return 0; VIGIL_E_DENIED (access_denied, expired_token, the deadline passed, or
 *         another OAuth error); -EPROTO (malformed answer, HTTP status other than
 *         200/400/401, no id_token); a network -errno; -ENOMEM.
 */
int vigil_device_poll(const vigil_config *cfg, const char *token_endpoint, vigil_device_grant *g,
                      int64_t deadline_ms, char **ret_id_token, char **ret_reason);

/**
 * vigil_device_parse_grant() - judge a device authorization response (the
 * parsing half of vigil_device_authorize(), on its own for the fuzzer).
 * @param[in]  status      HTTP status.
 * @param[in]  body        the body (need not be NUL-terminated).
 * @param[in]  len         its length.
 * @param[in]  started_ms  vigil_device_now_ms() time the request was sent.
 * @param[out] ret, ret_reason  as for vigil_device_authorize().
 * @return as vigil_device_authorize(), without the network errors.
 */
int vigil_device_parse_grant(long status, const char *body, size_t len, int64_t started_ms,
                             vigil_device_grant **ret, char **ret_reason);

/**
 * vigil_device_parse_token() - judge one token endpoint response (RFC 8628
 * 3.5): the ID token, or why not.
 * @param[in]     status        HTTP status.
 * @param[in]     body, len     the body.
 * @param[in,out] g             the grant; slow_down raises its interval.
 * @param[out]    ret_id_token  as for vigil_device_poll().
 * @param[out]    ret_reason    as for vigil_device_poll().
 * @return 0; -EAGAIN (authorization_pending, slow_down: poll again); otherwise as vigil_device_poll().
 */
int vigil_device_parse_token(long status, const char *body, size_t len, vigil_device_grant *g,
                             char **ret_id_token, char **ret_reason);

/** Wipe and free a grant. Accepts NULL; returns NULL. */
vigil_device_grant *vigil_device_grant_free(vigil_device_grant *g);

/* ---- the whole sign-in ---------------------------------------------------- */

/**
 * vigil_device_show_fn - show the person where to sign in. @uri and @code
 * passed the printable checks; @uri_complete may be NULL.
 */
typedef void (*vigil_device_show_fn)(void *userdata, const char *uri, const char *code,
                                     const char *uri_complete, int64_t expires_in_s);

/**
 * vigil_device_sign_in() - discovery (vigil_oidc_discover()), the device
 * authorization, @show, then polling until the person approved, denied, or
 * @deadline_ms passed.
 * @param[in]  cfg           configuration: issuer, client_id, client_secret, scopes, ca_file.
 * @param[in]  show          called once with the code (before polling starts).
 * @param[in]  deadline_ms   vigil_device_now_ms() time by which it must be over.
 * @param[out] ret_id_token  the ID token, not yet verified (the caller wipes and frees).
 * @param[out] ret_reason    may be NULL; on failure a malloc'd one-line reason with its
 *                           context ("discovery: ...", "token endpoint: ...").
 * @return 0; as vigil_oidc_discover(), vigil_device_authorize(), vigil_device_poll();
 *         -EPROTO when the provider offers no device flow.
 */
int vigil_device_sign_in(const vigil_config *cfg, vigil_device_show_fn show, void *userdata,
                         int64_t deadline_ms, char **ret_id_token, char **ret_reason);
