/* libcurl, loaded at the first HTTPS request instead of at every start.
 *
 * Linked normally, libcurl brings ~28 libraries (TLS, LDAP, Kerberos, SSH,
 * IDN, ...) into every program that might make a request: `vigil` for any
 * command, vigild, and sudo and sshd through pam_vigil.so. Mapping and
 * relocating them cost each start ~6 ms of CPU and ~7 ms of wall time here,
 * while most starts (`vigil run`, a cached key set) make no request at all. */
#pragma once

#include <curl/curl.h>

/* The oldest libcurl this code relies on: CURLOPT_PROTOCOLS_STR (7.85), and
 * curl_easy_init() initialising the library thread-safely (7.84). */
#define VIGIL_CURL_MIN_VERSION 0x075500

typedef struct vigil_curl {
        void *dl;
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
        CURLcode (*easy_perform)(CURL *h);
        CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
        void (*easy_cleanup)(CURL *h);
        const char *(*easy_strerror)(CURLcode c);
} vigil_curl;

/**
 * vigil_curl_open() - libcurl's functions, for one request.
 * Loaded at the first call and never unloaded (RTLD_NODELETE: its TLS library
 * keeps state that must not vanish); later calls find it loaded and only look
 * the functions up again (microseconds, against a request's milliseconds).
 * Nothing is kept between calls: the PAM module has no mutable state of its
 * own (tests/pam_module/test-exports.sh).
 * @param[out] ret        the functions; vigil_curl_close() it after use.
 * @param[out] err        on failure, a one-line reason (the library or a symbol
 *                        missing, or a libcurl older than 7.85).
 * @return 0 or -ENOPKG.
 */
int vigil_curl_open(vigil_curl *ret, char *err, size_t err_size);

void vigil_curl_close(vigil_curl *c);
