/* vigil.conf: the host's one configuration file, parsed into a typed,
 * immutable vigil_config.
 *
 * Syntax: one `key = value` per line. Blank lines and lines whose first
 * non-blank character is `#` are ignored; `#` elsewhere is part of the value
 * (a client_secret may contain one). The value is the rest of the line with
 * blanks trimmed at both ends; there is no quoting. A line may end in CRLF.
 *
 * Every problem is fatal and reported as one line `FILE:LINE: message`: an
 * unknown key, a bad value, a key given twice, a missing required key (LINE is
 * then the last line of the file). Callers refuse to work without a valid
 * configuration (fail closed).
 *
 * Per-user values: a key listed in VIGIL_CONFIG_USER_KEYS may also be given
 * for one account as `KEY.USER = value` (`shell.alice = /bin/zsh`), one line
 * per account, checked like the key's own value; the same KEY.USER twice is a
 * duplicate key. vigil_config_user_value() answers with the account's line
 * when there is one, else with the key's own value. USER is not looked up
 * here (no I/O): a line for an account that does not exist is never used.
 *
 * Adding a key: one line in VIGIL_CONFIG_KEYS below. The line creates the
 * field cfg->NAME (of the C type of its value type), its parser entry, its
 * default and its enum constant VIGIL_CONF_KEY_NAME. Keys that must be present,
 * or depend on each other, are checked in config/config.c:check_required().
 *
 * The library does no I/O beyond reading the file it is given, and never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A list value: words separated by blanks or commas. @v is NULL-terminated
 * and holds @n strings; both owned by the config. */
typedef struct vigil_strv {
        char **v;
        size_t n;
} vigil_strv;

/* Value types and the C type of the field each one fills.
 *   STRING    any non-empty text
 *   PATH      an absolute path
 *   URL       an https:// URL (no other scheme is ever fetched)
 *   BOOL      yes or no
 *   DURATION  a number with a unit s, m, h or d, or several (1h30m); seconds, at most 366 days
 *   LIST      words; with choices, each word must be one of them
 *   ENUM      one word out of choices
 *   LIMIT     `token` (VIGIL_CONF_LIMIT_TOKEN) or a duration above zero; 0 when unset */
#define VIGIL_CONF_CTYPE_STRING char *
#define VIGIL_CONF_CTYPE_PATH char *
#define VIGIL_CONF_CTYPE_URL char *
#define VIGIL_CONF_CTYPE_BOOL bool
#define VIGIL_CONF_CTYPE_DURATION uint64_t
#define VIGIL_CONF_CTYPE_LIST vigil_strv
#define VIGIL_CONF_CTYPE_ENUM char *
#define VIGIL_CONF_CTYPE_LIMIT int64_t

#define VIGIL_CONF_LIMIT_TOKEN ((int64_t)-1)

/* Signature algorithms vigil implements. HMAC and `none` are never among
 * them: a shared secret cannot tell the identity provider from anyone who
 * holds the public configuration. */
#define VIGIL_CONF_ALGORITHMS "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA"

/* The keys: X(name, type, default or NULL, choices or NULL). Defaults are
 * text, parsed by the same code as values from the file. */
#define VIGIL_CONFIG_KEYS(X)                                                                                \
        X(issuer, STRING, NULL, NULL)                                                                       \
        X(audience, STRING, NULL, NULL)                                                                     \
        X(jwks_file, PATH, NULL, NULL)                                                                      \
        X(jwks_uri, URL, NULL, NULL)                                                                        \
        X(client_id, STRING, NULL, NULL)                                                                    \
        X(client_secret, STRING, NULL, NULL)                                                                \
        X(scopes, LIST, "openid", NULL)                                                                     \
        X(ca_file, PATH, NULL, NULL)                                                                        \
        X(username_claim, STRING, "preferred_username", NULL)                                               \
        X(groups_claim, STRING, "groups", NULL)                                                             \
        X(max_token_age, DURATION, "10m", NULL)                                                             \
        X(clock_skew, DURATION, "30s", NULL)                                                                \
        X(algorithms, LIST, "RS256 ES256 EdDSA", VIGIL_CONF_ALGORITHMS)                                     \
        X(single_use, BOOL, "no", NULL)                                                                     \
        X(require_group, STRING, NULL, NULL)                                                                \
        X(sudo_group, STRING, NULL, NULL)                                                                   \
        X(session_max, LIMIT, NULL, NULL)                                                                   \
        X(policy, PATH, "/etc/vigil/policy.conf", NULL)                                                     \
        X(store, PATH, "/var/lib/vigil", NULL)                                                              \
        X(login_timeout, DURATION, "90s", NULL)                                                             \
        X(shell, PATH, "/bin/bash", NULL)                                                                   \
        X(auditors, LIST, NULL, NULL)                                                                       \
        X(responders, LIST, NULL, NULL)                                                                     \
        X(approval_hook, PATH, NULL, NULL)                                                                  \
        X(approval_hook_user, STRING, "nobody", NULL)

/* Keys that may also be set per account (`KEY.USER = value`). Only keys of a
 * text type (STRING, PATH, URL, ENUM) may be listed: a per-user value is one
 * string. */
#define VIGIL_CONFIG_USER_KEYS(X) X(shell)

typedef enum vigil_conf_key {
#define VIGIL_CONF_KEY_ENUM_(name, type, def, choices) VIGIL_CONF_KEY_##name,
        VIGIL_CONFIG_KEYS(VIGIL_CONF_KEY_ENUM_)
#undef VIGIL_CONF_KEY_ENUM_
                VIGIL_CONF_N_KEYS,
} vigil_conf_key;

/* One `KEY.USER = value` line. */
typedef struct vigil_conf_user_value {
        vigil_conf_key key;
        char *user;  /* the account name after the dot */
        char *value; /* parsed and checked as the key's own value would be */
        unsigned line;
} vigil_conf_user_value;

typedef struct vigil_config {
        char *path; /* the file name given to the parser */
#define VIGIL_CONF_FIELD_(name, type, def, choices) VIGIL_CONF_CTYPE_##type name;
        VIGIL_CONFIG_KEYS(VIGIL_CONF_FIELD_)
#undef VIGIL_CONF_FIELD_
        unsigned line[VIGIL_CONF_N_KEYS]; /* line that set each key; 0 = default or unset */
        vigil_conf_user_value *per_user;  /* `KEY.USER` lines, in file order */
        size_t n_per_user;
} vigil_config;

/* Bounds: a configuration is small; anything bigger is a mistake or an attack. */
#define VIGIL_CONF_MAX_FILE (64u * 1024)
#define VIGIL_CONF_MAX_LINE 4096u
#define VIGIL_CONF_MAX_DURATION (366ull * 24 * 3600)
/* The USER of `KEY.USER`: an account name as vigild accepts one,
 * [A-Za-z0-9_][A-Za-z0-9_.-]* with an optional final `$`, at most this long. */
#define VIGIL_CONF_MAX_USER 255u

/**
 * vigil_config_parse() - parse configuration text.
 * @param[in]  text       the text; need not be NUL-terminated; a NUL byte in it is an error.
 * @param[in]  len        its length (at most VIGIL_CONF_MAX_FILE).
 * @param[in]  filename   name used in messages and kept in cfg->path.
 * @param[out] ret        on success the configuration (free with vigil_config_free()); untouched on failure.
 * @param[out] ret_error  may be NULL; on VIGIL_E_PARSE / VIGIL_E_TOO_BIG a malloc'd one-line
 *                        message "FILE:LINE: ..." (no newline) the caller frees; untouched otherwise.
 * @return 0, VIGIL_E_PARSE (the first problem is in *ret_error), VIGIL_E_TOO_BIG, or -ENOMEM.
 */
int vigil_config_parse(const char *text, size_t len, const char *filename, vigil_config **ret,
                       char **ret_error);

/**
 * vigil_config_load() - read and parse a configuration file.
 * The file must be a regular file, owned by root or by the calling user, and
 * writable by nobody else (the configuration names the keys vigil trusts).
 * @param[in]  path       the file, e.g. VIGIL_DEFAULT_CONFIG.
 * @param[out] ret        as vigil_config_parse().
 * @param[out] ret_error  as vigil_config_parse(); for a file that cannot be used the
 *                        message is "FILE: reason".
 * @return 0, VIGIL_E_PARSE, VIGIL_E_TOO_BIG, -EPERM (unsafe ownership or mode), or the
 *         -errno of opening/reading the file. Every failure sets *ret_error (when non-NULL).
 */
int vigil_config_load(const char *path, vigil_config **ret, char **ret_error);

/** Free a configuration. Accepts NULL; returns NULL. */
vigil_config *vigil_config_free(vigil_config *c);

/** @return true when the file set key @k (defaults do not count). */
static inline bool vigil_config_is_set(const vigil_config *c, vigil_conf_key k)
{
        return c->line[k] != 0;
}

/** @return true when @s is one of the words of @l. */
bool vigil_strv_contains(const vigil_strv *l, const char *s);

/** @return true when key @k may be set per account (`KEY.USER`, VIGIL_CONFIG_USER_KEYS). */
bool vigil_config_key_per_user(vigil_conf_key k);

/**
 * vigil_config_user_value() - the value of a per-user key for one account.
 * @param[in]  c         the configuration.
 * @param[in]  k         a key of VIGIL_CONFIG_USER_KEYS (e.g. VIGIL_CONF_KEY_shell).
 * @param[in]  user      the account name (compared byte for byte with the USER of `KEY.USER`).
 * @param[out] ret_line  may be NULL; the line the value comes from: the `KEY.USER` line,
 *                       else the `KEY` line, 0 for the default.
 * @return the account's `KEY.USER` value if the file has one, else the key's own value
 *         (which may be NULL for a key without default that the file did not set); NULL
 *         too when @k is not a per-user key. Owned by @c.
 */
const char *vigil_config_user_value(const vigil_config *c, vigil_conf_key k, const char *user,
                                    unsigned *ret_line);

/** @return true when @name is an account name `KEY.USER` accepts (see VIGIL_CONF_MAX_USER). */
bool vigil_config_user_name_valid(const char *name, size_t len);

/** @return the name of key @k as written in vigil.conf, or NULL when out of range. */
const char *vigil_config_key_name(vigil_conf_key k);

/**
 * vigil_duration_format() - write seconds the way vigil.conf spells them ("10m", "1h30m", "0s").
 * @param[in]  seconds  the duration.
 * @param[out] buf      receives the text; 32 bytes always suffice.
 * @param[in]  size     size of @buf.
 * @return @buf.
 */
char *vigil_duration_format(uint64_t seconds, char *buf, size_t size);
