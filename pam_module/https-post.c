#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "https-post.h"
#include "macro.h"
#include "text.h"
#include "vigil-error.h"

/* The system trust store as Debian lays it out, named explicitly so that
 * neither libcurl's build defaults nor SSL_CERT_* in the environment of the
 * process hosting the module (sudo keeps some of the user's) decide. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR "/etc/ssl/certs"

static bool unreserved(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_' || c == '~';
}

int pv_form_add(pv_form *f, const char *name, const char *value)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t need = f->len + 1 + 3 * (strlen(name) + strlen(value)) + 2, at = f->len;
        const char *parts[2] = { name, value };

        if (need > f->size) {
                /* Grow by hand rather than realloc: the old buffer may hold a
                 * device code and must be wiped, not left in freed memory. */
                char *nb = malloc(need * 2);

                if (!nb)
                        return -ENOMEM;
                if (f->buf) {
                        memcpy(nb, f->buf, f->len + 1);
                        explicit_bzero(f->buf, f->size);
                        free(f->buf);
                }
                f->buf = nb;
                f->size = need * 2;
        }
        if (at > 0)
                f->buf[at++] = '&';
        for (size_t p = 0; p < 2; p++) {
                for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++) {
                        if (unreserved(*s))
                                f->buf[at++] = (char)*s;
                        else {
                                f->buf[at++] = '%';
                                f->buf[at++] = hex[*s >> 4];
                                f->buf[at++] = hex[*s & 15];
                        }
                }
                if (p == 0)
                        f->buf[at++] = '=';
        }
        f->buf[at] = '\0';
        f->len = at;
        return 0;
}

void pv_form_done(pv_form *f)
{
        if (f->buf) {
                explicit_bzero(f->buf, f->size);
                free(f->buf);
        }
        *f = (pv_form){ 0 };
}

typedef struct body {
        char *data;
        size_t len, size;
        bool too_big;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        body *b = userdata;
        size_t n = size * nmemb;

        if (n > PV_HTTP_MAX_BODY - b->len) {
                b->too_big = true;
                return 0; /* aborts the transfer */
        }
        if (b->len + n + 1 > b->size) {
                /* Responses carry tokens: wipe the old buffer when growing. */
                size_t ns = PV_HTTP_MAX_BODY + 1;
                char *nd = malloc(ns);

                if (!nd)
                        return 0;
                if (b->data) {
                        memcpy(nd, b->data, b->len);
                        explicit_bzero(b->data, b->size);
                        free(b->data);
                }
                b->data = nd;
                b->size = ns;
        }
        memcpy(b->data + b->len, ptr, n);
        b->len += n;
        b->data[b->len] = '\0';
        return n;
}

static int curl_errno(CURLcode c)
{
        /* An if-chain: only these few of libcurl's codes mean something
         * different to the caller. */
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
        if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CERTPROBLEM ||
            c == CURLE_SSL_CACERT_BADFILE)
                return -EBADMSG;
        return -EIO;
}

int pv_https_post(const char *url, const char *ca_file, const pv_form *form, const char *basic_user,
                  const char *basic_pass, long timeout_ms, long *ret_status, char **ret_body, size_t *ret_len,
                  char **ret_error)
{
        _cleanup_free_ char *curl_url = pv_text_clean(url, 128), *curl_err = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *hdrs = NULL;
        body b = { 0 };
        long status = 0;
        bool setup_ok;
        CURLcode c;
        CURL *h;
        int r;

        if (strncmp(url, "https://", 8) != 0)
                return pv_reason(ret_error, -EPROTONOSUPPORT, "'%s' is not an https:// URL", PV_TC(curl_url));
        if (timeout_ms <= 0 || timeout_ms > PV_HTTP_TOTAL_TIMEOUT_MS)
                timeout_ms = PV_HTTP_TOTAL_TIMEOUT_MS;
        h = curl_easy_init();
        if (!h)
                return pv_reason(ret_error, -ENOMEM, "cannot initialise libcurl");
        hdrs = curl_slist_append(NULL, "Accept: application/json");

        /* Every option that decides what is trusted or how long we wait is set
         * here; none is left to defaults or the environment. NOSIGNAL: the
         * host process's signal dispositions are not ours to touch. */
        setup_ok = hdrs && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_CAINFO, ca_file ? ca_file : SYSTEM_CA_BUNDLE) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_CAPATH, SYSTEM_CA_DIR) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                                    timeout_ms < PV_HTTP_CONNECT_TIMEOUT_MS ? timeout_ms
                                                                            : PV_HTTP_CONNECT_TIMEOUT_MS) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil") == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_POSTFIELDS, form->buf ? form->buf : "") == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form->len) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
                   curl_easy_setopt(h, CURLOPT_WRITEDATA, &b) == CURLE_OK;
        if (setup_ok && basic_user)
                setup_ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK &&
                           curl_easy_setopt(h, CURLOPT_USERNAME, basic_user) == CURLE_OK &&
                           curl_easy_setopt(h, CURLOPT_PASSWORD, basic_pass ? basic_pass : "") == CURLE_OK;
        if (!setup_ok) {
                curl_easy_cleanup(h);
                curl_slist_free_all(hdrs);
                return pv_reason(ret_error, -ENOMEM, "cannot set up the request for '%s'", PV_TC(curl_url));
        }

        c = curl_easy_perform(h);
        if (c == CURLE_OK)
                (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);

        if (b.too_big)
                r = pv_reason(ret_error, VIGIL_E_TOO_BIG, "'%s' sent more than %u bytes", PV_TC(curl_url),
                              PV_HTTP_MAX_BODY);
        else if (c != CURLE_OK) {
                curl_err = pv_text_clean(errbuf[0] ? errbuf : curl_easy_strerror(c), 200);
                r = pv_reason(ret_error, curl_errno(c), "POST to '%s' failed: %s", PV_TC(curl_url),
                              PV_TC(curl_err));
        } else if (!b.data && !(b.data = calloc(1, 1)))
                r = -ENOMEM;
        else
                r = 0;
        if (r < 0) {
                if (b.data) {
                        explicit_bzero(b.data, b.size);
                        free(b.data);
                }
                return r;
        }
        *ret_status = status;
        *ret_body = b.data;
        *ret_len = b.len;
        return 0;
}
