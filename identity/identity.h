/* vigil identity: OIDC token (JWT) verification against the identity
 * provider's keys (JWKS). The whole public interface.
 *
 * One verification path for every caller (the PAM module, `vigil run
 * --token-file`, vigild, `vigil token verify`):
 *
 *   strict base64url split -> header and payload parsed by jansson with
 *   JSON_REJECT_DUPLICATES -> alg allowed by `algorithms` (never none, never
 *   HMAC) -> key chosen by kid from the configured JWKS only -> alg matches
 *   the key's type -> signature checked with OpenSSL EVP -> claims iss, aud,
 *   exp, nbf, iat (clock_skew), sub, username, groups -> single_use jti.
 *
 * A refusal comes back as VIGIL_E_DENIED with one line saying exactly why
 * (e.g. "exp 2026-11-23T10:00:00Z is in the past"); `vigil token verify`
 * prints it as "rejected: <reason>". Anything that keeps vigil from deciding
 * (no keys reachable and none cached, a state directory it cannot use, out of
 * memory) is a negative errno with a reason line too. Either way the token is
 * not accepted (fail closed). Reasons name what the token said, so callers
 * show them to administrators (stderr of the CLI, syslog), not to the person
 * signing in.
 *
 * Details and the libraries used: docs/identity.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* A token is refused at this size or above (bytes of the compact JWS). */
#define VIGIL_TOKEN_MAX 16384u

/* A verified identity. Every string is owned by the struct; free it all with
 * vigil_identity_free(). */
typedef struct vigil_identity {
        char *iss;      /* the issuer (equals the configured one) */
        char *sub;      /* subject; always present */
        char *email;    /* "email" claim, or NULL */
        char *username; /* the username_claim's value, or NULL when the token has none */
        char **groups;  /* groups_claim's strings, NULL-terminated (never NULL itself) */
        size_t n_groups;
        char *jti;         /* "jti", or NULL */
        int64_t exp;       /* seconds since the epoch */
        int64_t iat;       /* seconds since the epoch */
        char *claims_json; /* the verified payload as compact one-line JSON: the signed text
                            * itself when it is compact, else serialized again by jansson */
} vigil_identity;

/** Free an identity. Accepts NULL; returns NULL. */
vigil_identity *vigil_identity_free(vigil_identity *id);

/* ---- single-use tokens: where used jti values are remembered ------------ */

/* The store component will implement this on LMDB; until then (and when a
 * caller passes none) a root-only file in the state directory does it. */
typedef struct vigil_jti_store vigil_jti_store;
struct vigil_jti_store {
        /**
         * use() - spend a token id, atomically across processes.
         * @param[in] s        this store.
         * @param[in] key      64 hex characters: SHA-256 of issuer, newline, jti.
         * @param[in] expires  seconds since the epoch until which the key must be kept.
         * @param[in] now      current time, for purging expired keys.
         * @param[in] dry_run  only check; remember nothing.
         * @return 0 when @key was not used before (and is now remembered unless @dry_run),
         *         VIGIL_E_DENIED when it was, -errno when the store cannot answer.
         */
        int (*use)(vigil_jti_store *s, const char *key, int64_t expires, int64_t now, bool dry_run);
        /** Free the store. */
        void (*free)(vigil_jti_store *s);
};

/**
 * vigil_jti_store_file_new() - the file-backed store: DIR/jti (0600) under DIR/jti.lock.
 * @param[in]  dir  a private directory (see vigil_verifier_options.state_dir); created 0700 if missing.
 * @param[out] ret  the store; free with ret->free(ret).
 * @return 0 or -ENOMEM. The directory is checked on first use, not here.
 */
int vigil_jti_store_file_new(const char *dir, vigil_jti_store **ret);

/* ---- verifying ----------------------------------------------------------- */

typedef struct vigil_verifier vigil_verifier;

typedef struct vigil_verifier_options {
        /* Private directory (root-only, 0700) for the JWKS cache and the used
         * jti file. NULL: "<store>/identity" with store from the configuration. */
        const char *state_dir;
        /* Current time in seconds; NULL: time(). Tests and benchmarks set it. */
        int64_t (*clock)(void *userdata);
        void *clock_userdata;
        /* Where used jti values go (borrowed; must outlive the verifier).
         * NULL: vigil_jti_store_file_new(state_dir) when single_use = yes. */
        vigil_jti_store *jti_store;
        /* Use this JWKS text instead of jwks_file / jwks_uri: no file, no
         * network, no cache. For benchmarks and fuzzers. */
        const char *jwks_text;
        size_t jwks_len;
} vigil_verifier_options;

/**
 * vigil_verifier_new() - prepare verification for one configuration.
 * Nothing is fetched or read here; keys are loaded on first use.
 * @param[in]  cfg        the configuration; borrowed, must outlive the verifier.
 * @param[in]  opts       NULL for the defaults.
 * @param[out] ret        the verifier (free with vigil_verifier_free()); untouched on failure.
 * @return 0, -ENOMEM, or -EINVAL (jwks_text that is not a JWKS).
 * A verifier is not thread-safe; use one per thread.
 */
int vigil_verifier_new(const vigil_config *cfg, const vigil_verifier_options *opts, vigil_verifier **ret);

/** Free a verifier. Accepts NULL; returns NULL. */
vigil_verifier *vigil_verifier_free(vigil_verifier *v);

enum {
        /* @user is NULL on purpose: skip the username rule (`vigil token verify` without --user). */
        VIGIL_VERIFY_ANY_USER = 1u << 0,
        /* Check single_use but do not spend the jti (`vigil token verify`). */
        VIGIL_VERIFY_DRY_RUN = 1u << 1,
};

/**
 * vigil_verifier_verify() - verify a token for a local account.
 * @param[in]  v           verifier.
 * @param[in]  token       the compact JWS (header.payload.signature); need not be NUL-terminated.
 * @param[in]  len         its length.
 * @param[in]  user        the local account the token must name in username_claim; NULL only
 *                         together with VIGIL_VERIFY_ANY_USER (else -EINVAL).
 * @param[in]  flags       VIGIL_VERIFY_* bits. Without VIGIL_VERIFY_DRY_RUN a single_use
 *                         token is spent: a second verification is refused.
 * @param[out] ret         on success the identity (caller frees); untouched on failure.
 * @param[out] ret_reason  may be NULL; on failure a malloc'd one-line reason (caller frees).
 * @return 0 (valid), VIGIL_E_DENIED (refused by a rule), or a negative errno when vigil
 *         could not decide, always with a reason: no keys to check against (-ECONNREFUSED,
 *         -ETIMEDOUT, -EHOSTUNREACH, -EIO: provider unreachable and nothing cached; -EBADMSG:
 *         TLS/certificate failure, HTTP status, or a JWKS that does not parse; -EPROTO: bad
 *         discovery document; -ENOENT/-EPERM: jwks_file missing or unsafe), the single-use
 *         record unusable (-EPERM, -EACCES, VIGIL_E_CORRUPT, -ENOSPC), -ENOMEM, or -EINVAL
 *         (bad arguments). The caller refuses the token in every one of these cases.
 */
int vigil_verifier_verify(vigil_verifier *v, const char *token, size_t len, const char *user, unsigned flags,
                          vigil_identity **ret, char **ret_reason);

/* ---- reading a token -------------------------------------------------------- */

/**
 * vigil_token_read_fd() - read a token from an fd (a file, or stdin for "-").
 * Surrounding blanks and line ends are dropped; anything else is kept for
 * verification to judge.
 * @param[in]  fd         readable fd; not closed.
 * @param[out] ret_token  malloc'd NUL-terminated token (caller frees); untouched on failure.
 * @param[out] ret_len    its length.
 * @return 0, VIGIL_E_TOO_BIG (VIGIL_TOKEN_MAX bytes or more), -ENOMEM, or -errno from read.
 */
int vigil_token_read_fd(int fd, char **ret_token, size_t *ret_len);

/** As vigil_token_read_fd() on the file at @path (opened O_RDONLY|O_CLOEXEC|O_NOCTTY). */
int vigil_token_read_file(const char *path, char **ret_token, size_t *ret_len);

/**
 * vigil_verify_token_file() - everything `vigil run --token-file F` needs in one call:
 * read the token file, verify it for @user (the account the command will run as)
 * and spend it when single_use = yes.
 * @param[in]  cfg         the loaded configuration.
 * @param[in]  opts        NULL for the defaults (state under the configured store).
 * @param[in]  path        the token file.
 * @param[in]  user        the account the command will run as (never NULL).
 * @param[out] ret         the verified identity (caller frees); untouched on failure.
 * @param[out] ret_reason  may be NULL; on failure a malloc'd one-line reason, e.g.
 *                         "exp 2026-11-23T10:00:00Z is in the past" or
 *                         "cannot read token file '/x': No such file or directory".
 * @return as vigil_verifier_verify(), or the -errno / VIGIL_E_TOO_BIG of reading the file.
 */
int vigil_verify_token_file(const vigil_config *cfg, const vigil_verifier_options *opts, const char *path,
                            const char *user, vigil_identity **ret, char **ret_reason);

/* ---- the identity provider's discovery document -------------------------- */

/* What vigil uses from /.well-known/openid-configuration. */
typedef struct vigil_oidc_provider {
        char *issuer;                        /* equals the configured issuer */
        char *jwks_uri;                      /* https:// */
        char *token_endpoint;                /* https://, or NULL when not advertised */
        char *device_authorization_endpoint; /* https://, or NULL when not advertised */
} vigil_oidc_provider;

/**
 * vigil_oidc_discover() - fetch and check the issuer's discovery document over
 * HTTPS (certificates checked against the system store and ca_file; connect
 * timeout 3 s, total 5 s; no redirects; no proxy from the environment).
 * @param[in]  cfg        configuration (issuer, ca_file).
 * @param[out] ret        the endpoints (free with vigil_oidc_provider_free()); untouched on failure.
 * @param[out] ret_error  may be NULL; on failure a malloc'd one-line reason.
 * @return 0, -EPROTO (not a valid document, or an issuer that differs), or a network -errno.
 */
int vigil_oidc_discover(const vigil_config *cfg, vigil_oidc_provider **ret, char **ret_error);

/** Free the endpoints. Accepts NULL; returns NULL. */
vigil_oidc_provider *vigil_oidc_provider_free(vigil_oidc_provider *p);
