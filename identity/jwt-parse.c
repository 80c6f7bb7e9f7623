#include <string.h>

#include "b64url.h"
#include "identity.h"
#include "jwt-parse.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

void vigil_jwt_done(vigil_jwt *j)
{
        if (!j)
                return;
        json_decref(j->header);
        json_decref(j->payload);
        free(j->payload_text);
        free(j->sig);
        *j = (vigil_jwt){};
}

/* Decode one part into a JSON object. @what is "header" or "payload";
 * @member names what a duplicate is called in the reason. With @ret_text the
 * decoded JSON text is handed over too. */
static int decode_object(const char *part, size_t len, const char *what, const char *member, json_t **ret,
                         char **ret_text, size_t *ret_len, char **ret_reason)
{
        _cleanup_free_ unsigned char *raw = NULL;
        json_error_t err;
        size_t raw_len;
        json_t *o;
        int r;

        r = b64url_decode(part, len, &raw, &raw_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s is not valid base64url", what);

        o = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &err);
        if (!o) {
                if (json_error_code(&err) == json_error_out_of_memory)
                        return -ENOMEM;
                if (json_error_code(&err) == json_error_duplicate_key) {
                        /* jansson names the key only in its text: "duplicate object key near '"sub"'". */
                        const char *q = strstr(err.text, "near '");
                        _cleanup_free_ char *name = NULL;

                        if (q) {
                                size_t n;

                                q += 6;
                                if (*q == '"')
                                        q++;
                                n = strcspn(q, "\"'");
                                name = strndup(q, n);
                        }
                        _cleanup_free_ char *clean = name ? reason_clean(name) : NULL;
                        return reason_set(ret_reason, VIGIL_E_DENIED, "%s has duplicate %s '%s'", what,
                                          member, RC(clean));
                }
                _cleanup_free_ char *clean = reason_clean(err.text);
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s is not valid JSON: %s", what, RC(clean));
        }
        if (!json_is_object(o)) {
                json_decref(o);
                return reason_set(ret_reason, VIGIL_E_DENIED, "%s is not a JSON object", what);
        }
        *ret = o;
        if (ret_text) {
                *ret_text = (char *)TAKE_PTR(raw);
                *ret_len = raw_len;
        }
        return 0;
}

int vigil_jwt_parse(const char *token, size_t len, vigil_jwt *ret, char **ret_reason)
{
        vigil_jwt j = {};
        const char *dot1, *dot2, *payload, *sig;
        int r;

        *ret = (vigil_jwt){};
        if (len == 0)
                return reason_set(ret_reason, VIGIL_E_DENIED, "token is empty");
        if (len >= VIGIL_TOKEN_MAX)
                return reason_set(ret_reason, VIGIL_E_DENIED, "token is %zu bytes, the limit is %u", len,
                                  VIGIL_TOKEN_MAX - 1);

        dot1 = memchr(token, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
        if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
                return reason_set(ret_reason, VIGIL_E_DENIED,
                                  "token is not three base64url parts separated by '.'");
        payload = dot1 + 1;
        sig = dot2 + 1;

        r = decode_object(token, (size_t)(dot1 - token), "header", "member", &j.header, NULL, NULL,
                          ret_reason);
        if (r < 0)
                goto fail;
        r = decode_object(payload, (size_t)(dot2 - payload), "payload", "claim", &j.payload, &j.payload_text,
                          &j.payload_len, ret_reason);
        if (r < 0)
                goto fail;
        r = b64url_decode(sig, len - (size_t)(sig - token), &j.sig, &j.sig_len);
        if (r == -ENOMEM)
                goto fail;
        if (r < 0) {
                r = reason_set(ret_reason, VIGIL_E_DENIED, "signature is not valid base64url");
                goto fail;
        }
        j.signing_input = token;
        j.signing_input_len = (size_t)(dot2 - token);
        *ret = j;
        return 0;
fail:
        vigil_jwt_done(&j);
        return r;
}
