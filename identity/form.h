/* An application/x-www-form-urlencoded body for the OAuth 2.0 endpoints of
 * the device flow (RFC 8628), built so that a secret in it (the device
 * code, a client secret) is wiped when the buffer grows or is freed. The
 * request itself goes through the identity library's
 * vigil_https_post_form() (identity/http.h), which holds the TLS rules. */
#pragma once

#include <stddef.h>

/* A form body under construction. */
typedef struct http_form {
        char *buf; /* NUL-terminated; NULL while empty */
        size_t len, size;
} http_form;

/**
 * http_form_add() - append name=value, percent-encoding all but RFC 3986's
 * unreserved characters.
 * @return 0 or -ENOMEM (the form is then left as it was).
 */
int http_form_add(http_form *f, const char *name, const char *value);

/** Wipe and free the body; the form is empty afterwards. */
void http_form_done(http_form *f);
