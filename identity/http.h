/* HTTPS GET for the identity provider's documents (libcurl with OpenSSL). */
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
 *         -ENOMEM, -EIO (other transfer errors).
 */
int vigil_https_get(const char *url, const char *ca_file, size_t max_size, char **ret_body, size_t *ret_len,
                    char **ret_error);
