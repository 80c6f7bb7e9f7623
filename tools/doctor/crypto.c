/* sshd's ciphers, MACs and key exchange algorithms against a current
 * recommendation (docs/doctor.md names its sources). Only known-weak names
 * are reported: an algorithm newer than this table is not a finding. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

typedef struct weak {
        const char *pattern; /* fnmatch(3) pattern on the algorithm name */
        const char *why;
} weak;

static const weak weak_ciphers[] = {
        { "*-cbc*", "CBC mode" },
        { "3des-*", "64-bit block cipher" },
        { "blowfish-*", "64-bit block cipher" },
        { "cast128-*", "64-bit block cipher" },
        { "arcfour*", "RC4 is broken" },
        { "none", "no encryption" },
};

static const weak weak_macs[] = {
        { "*md5*", "MD5" },
        { "*sha1*", "SHA-1" },
        { "*ripemd*", "RIPEMD-160" },
        { "*-96*", "truncated tag" },
        { "umac-64*", "64-bit tag" },
        /* Encrypt-and-MAC: the tag is computed over the plaintext. */
        { "hmac-sha2-256", "not encrypt-then-MAC" },
        { "hmac-sha2-512", "not encrypt-then-MAC" },
        { "umac-128@openssh.com", "not encrypt-then-MAC" },
        { "none", "no integrity" },
};

static const weak weak_kex[] = {
        { "*sha1*", "SHA-1" },
        { "diffie-hellman-group1-*", "1024-bit group" },
        { "diffie-hellman-group14-*", "2048-bit group" },
        { "ecdh-sha2-nistp*", "NIST curve (not recommended; prefer curve25519)" },
};

static const char *weak_reason(const weak *t, size_t n, const char *alg)
{
        for (size_t i = 0; i < n; i++)
                if (fnmatch(t[i].pattern, alg, 0) == 0)
                        return t[i].why;
        return NULL;
}

/* Append @s to a growing comma list. */
static int append(char **list, const char *sep, const char *s)
{
        char *n = *list ? doctor_fmt("%s%s%s", *list, sep, s) : strdup(s);

        if (!n)
                return -ENOMEM;
        free(*list);
        *list = n;
        return 0;
}

static void check_list(doctor_ctx *c, const doctor_sshd_conf *s, const char *key, const char *name, const weak *t,
                       size_t n)
{
        const char *v = doctor_sshd_get(s, key);
        _cleanup_free_ char *copy = NULL, *bad = NULL, *good = NULL, *fix = NULL;
        char *save = NULL;

        if (!v || !(copy = strdup(v)))
                return;
        for (char *alg = strtok_r(copy, ",", &save); alg; alg = strtok_r(NULL, ",", &save)) {
                const char *why = weak_reason(t, n, alg);
                _cleanup_free_ char *item = why ? doctor_fmt("%s (%s)", alg, why) : NULL;

                if (why ? (!item || append(&bad, ", ", item) < 0) : append(&good, ",", alg) < 0)
                        return;
        }
        if (!bad)
                return;
        if (good)
                fix = doctor_fmt("set '%s %s' in a drop-in such as " DOCTOR_DROPIN_DIR
                                 "/01-crypto.conf (sshd keeps the first value it reads)",
                                 name, good);
        doctor_finding(c, "crypto", fix ? fix : "configure stronger algorithms (see docs/doctor.md)",
                       "sshd offers weak %s: %s", name, bad);
}

void doctor_check_crypto(doctor_ctx *c)
{
        doctor_sshd_conf s = { 0 };
        _cleanup_free_ char *err = NULL;
        int r = doctor_sshd_dump(c, NULL, &s, &err);

        /* The sshd family reports an sshd that is missing or cannot start. */
        if (r < 0)
                return;
        check_list(c, &s, "ciphers", "Ciphers", weak_ciphers, ELEMENTSOF(weak_ciphers));
        check_list(c, &s, "macs", "MACs", weak_macs, ELEMENTSOF(weak_macs));
        check_list(c, &s, "kexalgorithms", "KexAlgorithms", weak_kex, ELEMENTSOF(weak_kex));
        doctor_sshd_conf_done(&s);
}
