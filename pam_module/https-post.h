/* HTTPS POST of an application/x-www-form-urlencoded body, for the OAuth 2.0
 * endpoints of the device flow (RFC 8628). The identity library's GET
 * (identity/http.h) answers only HTTP 200; these endpoints answer errors
 * with HTTP 400 and a JSON body the caller must read, so the status comes
 * back as is. Same trust rules as the GET: https only, certificates checked
 * against the system store and ca_file, host names checked, TLS 1.2 or
 * later, no redirects, no proxy from the environment, no signals. */
#pragma once

#include <stddef.h>

#define PV_HTTP_CONNECT_TIMEOUT_MS 3000L
#define PV_HTTP_TOTAL_TIMEOUT_MS 5000L
#define PV_HTTP_MAX_BODY (64u * 1024)

/* A form body under construction; wiped when freed (it carries the device code). */
typedef struct pv_form {
        char *buf;
        size_t len, size;
} pv_form;

/**
 * pv_form_add() - append name=value, percent-encoding all but RFC 3986's
 * unreserved characters.
 * @return 0 or -ENOMEM (the form is then left as it was).
 */
int pv_form_add(pv_form *f, const char *name, const char *value);

/** Wipe and free the body; the form is empty afterwards. */
void pv_form_done(pv_form *f);

/**
 * pv_https_post() - POST a form and return whatever the server answered.
 * @param[in]  url         https:// URL (anything else: -EPROTONOSUPPORT).
 * @param[in]  ca_file     extra trust anchors (PEM), or NULL.
 * @param[in]  form        the body.
 * @param[in]  basic_user  HTTP Basic user (client_secret_basic), or NULL for none.
 * @param[in]  basic_pass  its password.
 * @param[in]  timeout_ms  bound on the whole request (at most PV_HTTP_TOTAL_TIMEOUT_MS is used).
 * @param[out] ret_status  HTTP status.
 * @param[out] ret_body    malloc'd NUL-terminated body (caller wipes and frees); untouched on failure.
 * @param[out] ret_len     its length.
 * @param[out] ret_error   on failure a malloc'd one-line reason (may be NULL on -ENOMEM).
 * @return 0 when a response arrived (any status); -EPROTONOSUPPORT, -ETIMEDOUT,
 *         -ECONNREFUSED, -EHOSTUNREACH, -EBADMSG (TLS/certificate), VIGIL_E_TOO_BIG
 *         (body over PV_HTTP_MAX_BODY), -ENOMEM, -EIO.
 */
int pv_https_post(const char *url, const char *ca_file, const pv_form *form, const char *basic_user,
                  const char *basic_pass, long timeout_ms, long *ret_status, char **ret_body, size_t *ret_len,
                  char **ret_error);
