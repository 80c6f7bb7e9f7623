#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "libcurl.h"
#include "macro.h"
#include "reason.h"
#include "vigil-error.h"

/* The system trust store as Debian's ca-certificates lays it out. Set
 * explicitly so that neither libcurl's build defaults nor SSL_CERT_FILE /
 * SSL_CERT_DIR in a caller's environment (sudo runs the PAM stack with the
 * user's environment) choose what vigil trusts. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR "/etc/ssl/certs" /* skipped when absent: ca_file alone then decides */

typedef struct response_body {
        char *data;
        size_t len, max;
        bool too_big;
} response_body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        response_body *b = userdata;
        size_t n = size * nmemb;
        char *nd;

        if (n > b->max - b->len) {
                b->too_big = true;
                return 0; /* aborts the transfer */
        }
        /* Not realloc: the body carries device codes and ID tokens, and a
         * moved block would leave a copy in freed memory. */
        nd = malloc(b->len + n + 1);
        if (!nd)
                return 0;
        if (b->data) {
                memcpy(nd, b->data, b->len);
                explicit_bzero(b->data, b->len);
                free(b->data);
        }
        b->data = nd;
        memcpy(b->data + b->len, ptr, n);
        b->len += n;
        b->data[b->len] = '\0';
        return n;
}

/* libcurl's result as -errno. An if-chain: CURLcode has a hundred values
 * and only these few mean something different to the caller. */
static int curl_errno(CURLcode c)
{
        if (c == CURLE_OPERATION_TIMEDOUT)
                return -ETIMEDOUT;
        if (c == CURLE_COULDNT_CONNECT)
                return -ECONNREFUSED;
        if (c == CURLE_COULDNT_RESOLVE_HOST)
                return -EHOSTUNREACH;
        if (c == CURLE_OUT_OF_MEMORY)
                return -ENOMEM;
        if (c == CURLE_UNSUPPORTED_PROTOCOL)
                return -EPROTONOSUPPORT;
        if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR ||
            c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CACERT_BADFILE)
                return -EBADMSG;
        return -EIO;
}

/* One request: GET, or POST of @form. 0 when a response came, whatever its status. */
static int https_request(const char *url, const char *ca_file, const char *form, size_t max_size,
                         long timeout_ms, long *ret_status, char **ret_body, size_t *ret_len,
                         char **ret_error)
{
        _cleanup_free_ char *curl_err = NULL, *curl_url = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        response_body b = { .max = max_size };
        char load_error[256];
        vigil_curl api;
        long status = 0;
        CURLcode cc;
        CURL *h;
        int r;

        curl_url = reason_clean_n(url, 256);
        if (strncmp(url, "https://", 8) != 0)
                return reason_set(ret_error, -EPROTONOSUPPORT, "'%s' is not an https:// URL", RC(curl_url));
        r = vigil_curl_open(&api, load_error, sizeof(load_error));
        if (r < 0)
                return reason_set(ret_error, r, "%s", load_error);
        /* curl_easy_init() initialises libcurl itself, thread-safely since
         * 7.84 (vigil_curl_open() refuses older ones; Debian 12 has 7.88). */
        h = api.easy_init();
        if (!h) {
                vigil_curl_close(&api);
                return reason_set(ret_error, -ENOMEM, "cannot initialise libcurl");
        }

        /* Every option that decides what is trusted or how long we wait is set
         * here, none is left to defaults or the environment. */
        if (api.easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_CAINFO, ca_file ? ca_file : SYSTEM_CA_BUNDLE) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_CAPATH, access(SYSTEM_CA_DIR, F_OK) == 0 ? SYSTEM_CA_DIR : NULL) !=
                    CURLE_OK ||
            api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                            timeout_ms < VIGIL_HTTP_CONNECT_TIMEOUT_MS ? timeout_ms
                                                                       : VIGIL_HTTP_CONNECT_TIMEOUT_MS) !=
                    CURLE_OK ||
            api.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_size) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_USERAGENT, "vigil") != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
            api.easy_setopt(h, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
            (form && api.easy_setopt(h, CURLOPT_POSTFIELDS, form) != CURLE_OK)) {
                api.easy_cleanup(h);
                vigil_curl_close(&api);
                return reason_set(ret_error, -ENOMEM, "cannot set up the request for '%s'", RC(curl_url));
        }

        cc = api.easy_perform(h);
        if (cc == CURLE_OK)
                (void)api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        api.easy_cleanup(h);

        if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED)
                r = reason_set(ret_error, VIGIL_E_TOO_BIG, "'%s' sent more than %zu bytes", RC(curl_url),
                               max_size);
        else if (cc != CURLE_OK) {
                curl_err = reason_clean_n(errbuf[0] ? errbuf : api.easy_strerror(cc), 256);
                r = reason_set(ret_error, curl_errno(cc), "fetching '%s' failed: %s", RC(curl_url),
                               RC(curl_err));
        } else if (!b.data) {
                b.data = strdup("");
                r = b.data ? 0 : -ENOMEM;
        } else
                r = 0;
        vigil_curl_close(&api);
        if (r < 0) {
                if (b.data)
                        explicit_bzero(b.data, b.len);
                free(b.data);
                return r;
        }
        *ret_status = status;
        *ret_body = b.data;
        *ret_len = b.len;
        return 0;
}

int vigil_https_get(const char *url, const char *ca_file, size_t max_size, char **ret_body, size_t *ret_len,
                    char **ret_error)
{
        _cleanup_free_ char *body = NULL, *curl_url = NULL;
        long status;
        size_t len;
        int r;

        r = https_request(url, ca_file, NULL, max_size, VIGIL_HTTP_TOTAL_TIMEOUT_MS, &status, &body, &len,
                          ret_error);
        if (r < 0)
                return r;
        if (status != 200) {
                curl_url = reason_clean_n(url, 256);
                return reason_set(ret_error, -EBADMSG, "fetching '%s' failed: HTTP status %ld", RC(curl_url),
                                  status);
        }
        *ret_body = TAKE_PTR(body);
        *ret_len = len;
        return 0;
}

int vigil_https_post_form(const char *url, const char *ca_file, const char *form, size_t max_size,
                          long timeout_ms, long *ret_status, char **ret_body, size_t *ret_len,
                          char **ret_error)
{
        if (!form)
                return reason_set(ret_error, -EINVAL, "no form to post");
        if (timeout_ms < 1)
                timeout_ms = 1;
        if (timeout_ms > VIGIL_HTTP_TOTAL_TIMEOUT_MS)
                timeout_ms = VIGIL_HTTP_TOTAL_TIMEOUT_MS;
        return https_request(url, ca_file, form, max_size, timeout_ms, ret_status, ret_body, ret_len,
                             ret_error);
}
