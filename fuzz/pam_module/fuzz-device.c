/* libFuzzer target: what an identity provider answers during a device
 * sign-in (RFC 8628), as pam_vigil judges it: the device authorization
 * response and the token endpoint's answers.
 *
 * Input: byte 0 chooses the parser (even: device authorization, odd: token
 * endpoint), byte 1 the HTTP status (200, 400, 401, 500 by its value mod 4),
 * the rest is the body. Text the person would see must come out printable
 * ASCII and the addresses https://, whatever the body was. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const long statuses[4] = { 200, 400, 401, 500 };
        const char *body;
        char *reason = NULL, *tok = NULL;
        long status;
        size_t len;

        if (size < 2)
                return 0;
        status = statuses[data[1] % 4];
        body = (const char *)data + 2;
        len = size - 2;
        if (data[0] % 2 == 0) {
                pv_device_grant *g = NULL;

                if (pv_device_parse_grant(status, body, len, 1000, &g, &reason) == 0) {
                        if (!pv_text_printable(g->user_code, PV_USER_CODE_MAX, false) ||
                            !pv_text_printable(g->verification_uri, PV_URI_MAX, false) ||
                            strncmp(g->verification_uri, "https://", 8) != 0 ||
                            (g->verification_uri_complete &&
                             !pv_text_printable(g->verification_uri_complete, PV_URI_MAX, false)) ||
                            g->interval == 0 || g->interval > PV_DEVICE_MAX_INTERVAL)
                                abort();
                }
                pv_device_grant_free(g);
        } else {
                pv_device_grant g = { .interval = 5 };
                int r = pv_device_parse_token(status, body, len, &g, &tok, &reason);

                if (r == 0 && (!tok || strlen(tok) >= 16384))
                        abort();
                if (r != 0 && tok)
                        abort();
                pv_secret_free(tok);
        }
        free(reason);
        return 0;
}
