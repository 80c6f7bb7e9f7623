/* libFuzzer target: what an identity provider answers during a device
 * sign-in (RFC 8628), as identity/device-flow.c judges it for pam_vigil and
 * `vigil approve`: the device authorization response and the token
 * endpoint's answers.
 *
 * Input: byte 0 chooses the parser (even: device authorization, odd: token
 * endpoint), byte 1 the HTTP status (200, 400, 401, 500 by its value mod 4),
 * the rest is the body. Text the person would see must come out printable
 * ASCII and the addresses https://, whatever the body was. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device-flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The oracle, written apart from the code under test: non-empty printable
 * ASCII without blanks, at most @max bytes. */
static bool printable(const char *s, size_t max, bool space)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] > ' ' && s[i] < 0x7f) && !(space && s[i] == ' '))
                        return false;
        return true;
}

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
                vigil_device_grant *g = NULL;

                if (vigil_device_parse_grant(status, body, len, 1000, &g, &reason) == 0) {
                        if (!printable(g->user_code, VIGIL_DEVICE_USER_CODE_MAX, false) ||
                            !printable(g->verification_uri, VIGIL_DEVICE_URI_MAX, false) ||
                            strncmp(g->verification_uri, "https://", 8) != 0 ||
                            (g->verification_uri_complete &&
                             !printable(g->verification_uri_complete, VIGIL_DEVICE_URI_MAX, false)) ||
                            g->interval == 0 || g->interval > VIGIL_DEVICE_MAX_INTERVAL)
                                abort();
                }
                vigil_device_grant_free(g);
        } else {
                vigil_device_grant g = { .interval = 5 };
                int r = vigil_device_parse_token(status, body, len, &g, &tok, &reason);

                if (r == 0 && (!tok || strlen(tok) >= 16384))
                        abort();
                if (r != 0 && tok)
                        abort();
                if (tok) {
                        explicit_bzero(tok, strlen(tok));
                        free(tok);
                }
        }
        free(reason);
        return 0;
}
