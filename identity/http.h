/* HTTPS to the identity provider (libcurl with OpenSSL): every request vigil
 * makes to it goes through here, so the TLS and timeout rules are in one
 * place. */
#pragma once

#include <stddef.h>

#define VIGIL_HTTP_CONNECT_TIMEOUT_MS 3000L
#define VIGIL_HTTP_TOTAL_TIMEOUT_MS 5000L

/**
 * vigil_https_get() - fetch a URL over https only.
 * Certificates are checked against the system store (/etc/ssl/certs) and, when
 * given, @ca_file; host names are checked; TLS 1.2 or later; no redirects; proxies
 * from the environment are ignored; connect and total timeouts as above.
 * @param[in]  url        an https:// URL (anything else: -EPROTONOSUPPORT).
 * @param[in]  ca_file    extra trust anchors (PEM), or NULL.
 * @param[in]  max_size   refuse bodies larger than this.
 * @param[out] ret_body   malloc'd NUL-terminated body; untouched on failure.
 * @param[out] ret_len    its length.
 * @param[out] ret_error  may be NULL; on failure a malloc'd one-line reason naming the URL.
 * @return 0 (HTTP 200), -EPROTONOSUPPORT, -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH,
 *         -EBADMSG (TLS or certificate failure, HTTP status other than 200), VIGIL_E_TOO_BIG,
 *         -ENOMEM, -EIO (other transfer errors), -ENOPKG (libcurl cannot be loaded: libcurl.h).
 */
int vigil_https_get(const char *url, const char *ca_file, size_t max_size, char **ret_body, size_t *ret_len,
                    char **ret_error);

/**
 * vigil_https_post_form() - POST an application/x-www-form-urlencoded body
 * (the device authorization and token endpoints, RFC 8628), with the same
 * rules as vigil_https_get().
 * @param[in]  form        the body, already percent-encoded (form.h); not logged.
 * @param[in]  timeout_ms  the request's whole bound, connection included: a
 *                         caller with a deadline of its own passes what is left
 *                         of it; clamped to 1 .. VIGIL_HTTP_TOTAL_TIMEOUT_MS.
 * @param[out] ret_status  the HTTP status; any status is a response (the token
 *                         endpoint answers 400 "authorization_pending" while it waits).
 * @param[out] ret_body    malloc'd NUL-terminated body; untouched on failure.
 * @return 0 when a response arrived, else as vigil_https_get() (-EINVAL without @form).
 */
int vigil_https_post_form(const char *url, const char *ca_file, const char *form, size_t max_size,
                          long timeout_ms, long *ret_status, char **ret_body, size_t *ret_len,
                          char **ret_error);
