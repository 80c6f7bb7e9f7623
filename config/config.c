/* vigil.conf parser: a table built from VIGIL_CONFIG_KEYS, one parser per
 * value type, and the checks of keys that are required together. */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "fileio.h"
#include "macro.h"
#include "vigil-error.h"

typedef enum conf_type {
        T_STRING,
        T_PATH,
        T_URL,
        T_BOOL,
        T_DURATION,
        T_LIST,
        T_ENUM,
        T_LIMIT,
} conf_type;

typedef struct key_desc {
        const char *name;
        conf_type type;
        const char *def;
        const char *choices;
        size_t offset;
} key_desc;

static const key_desc keys[VIGIL_CONF_N_KEYS] = {
#define KEY_DESC_(name, type, def, choices) { #name, T_##type, def, choices, offsetof(vigil_config, name) },
        VIGIL_CONFIG_KEYS(KEY_DESC_)
#undef KEY_DESC_
};

const char *vigil_config_key_name(vigil_conf_key k)
{
        if ((unsigned)k >= VIGIL_CONF_N_KEYS)
                return NULL;
        return keys[k].name;
}

bool vigil_strv_contains(const vigil_strv *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], s) == 0)
                        return true;
        return false;
}

/* " shell ..." for messages */
#define USER_KEY_NAME_(name) " " #name
static const char user_key_names[] = VIGIL_CONFIG_USER_KEYS(USER_KEY_NAME_);
#undef USER_KEY_NAME_

bool vigil_config_key_per_user(vigil_conf_key k)
{
#define USER_KEY_IS_(name) || k == VIGIL_CONF_KEY_##name
        return false VIGIL_CONFIG_USER_KEYS(USER_KEY_IS_);
#undef USER_KEY_IS_
}

/* ASCII only, whatever the locale of the process the module runs in */
static bool is_name_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_' || ch == '.' || ch == '-';
}

bool vigil_config_user_name_valid(const char *name, size_t len)
{
        if (len == 0 || len > VIGIL_CONF_MAX_USER)
                return false;
        if (name[len - 1] == '$')
                len--;
        if (len == 0 || name[0] == '.' || name[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_name_char(name[i]))
                        return false;
        return true;
}

const char *vigil_config_user_value(const vigil_config *c, vigil_conf_key k, const char *user,
                                    unsigned *ret_line)
{
        const key_desc *d;

        if (!vigil_config_key_per_user(k))
                return NULL;
        /* the last match would do as well: a KEY.USER appears once (duplicates are refused) */
        for (size_t i = 0; user && i < c->n_per_user; i++)
                if (c->per_user[i].key == k && strcmp(c->per_user[i].user, user) == 0) {
                        if (ret_line)
                                *ret_line = c->per_user[i].line;
                        return c->per_user[i].value;
                }
        d = &keys[k];
        if (ret_line)
                *ret_line = c->line[k];
        return *(char *const *)((const char *)c + d->offset);
}

static void strv_clear(vigil_strv *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static void *field(vigil_config *c, const key_desc *k)
{
        return (char *)c + k->offset;
}

/* Free what a value of @k's type at @dst holds, and reset it. */
static void value_clear(void *dst, const key_desc *k)
{
        switch (k->type) {
        case T_STRING:
        case T_PATH:
        case T_URL:
        case T_ENUM: {
                char **p = dst;
                free(*p);
                *p = NULL;
                break;
        }
        case T_LIST:
                strv_clear(dst);
                break;
        case T_BOOL:
        case T_DURATION:
        case T_LIMIT:
                break;
        }
}

static bool type_is_text(conf_type t)
{
        return t == T_STRING || t == T_PATH || t == T_URL || t == T_ENUM;
}

static void per_user_clear(vigil_config *c)
{
        for (size_t i = 0; i < c->n_per_user; i++) {
                free(c->per_user[i].user);
                free(c->per_user[i].value);
        }
        free(c->per_user);
        c->per_user = NULL;
        c->n_per_user = 0;
}

vigil_config *vigil_config_free(vigil_config *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < VIGIL_CONF_N_KEYS; i++)
                value_clear(field(c, &keys[i]), &keys[i]);
        per_user_clear(c);
        free(c->path);
        free(c);
        return NULL;
}

char *vigil_duration_format(uint64_t s, char *buf, size_t size)
{
        static const struct {
                char unit;
                uint64_t secs;
        } units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
        size_t off = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (s == 0) {
                (void)snprintf(buf, size, "0s");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && off < size; i++) {
                int n;

                if (s < units[i].secs)
                        continue;
                n = snprintf(buf + off, size - off, "%" PRIu64 "%c", s / units[i].secs, units[i].unit);
                if (n < 0)
                        break;
                off += (size_t)n;
                s %= units[i].secs;
        }
        return buf;
}

/* ---- value parsers: 0, or VIGIL_E_PARSE with a reason in why ---------- */

typedef struct why {
        char text[256];
} why;

_printf_(2, 3) static int bad(why *w, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(w->text, sizeof w->text, fmt, ap);
        va_end(ap);
        return VIGIL_E_PARSE;
}

static int parse_duration(const char *v, uint64_t *ret, why *w)
{
        uint64_t total = 0;
        const char *p = v;

        if (!isdigit((unsigned char)*p))
                return bad(w, "'%s' is not a duration (e.g. 30s, 10m, 1h)", v);
        while (*p) {
                uint64_t n = 0, mult;

                if (!isdigit((unsigned char)*p))
                        return bad(w, "'%s' is not a duration (e.g. 30s, 10m, 1h)", v);
                while (isdigit((unsigned char)*p)) {
                        n = n * 10 + (uint64_t)(*p - '0');
                        if (n > VIGIL_CONF_MAX_DURATION)
                                return bad(w, "duration '%s' is longer than 366 days", v);
                        p++;
                }
                switch (*p) {
                case 's':
                        mult = 1;
                        break;
                case 'm':
                        mult = 60;
                        break;
                case 'h':
                        mult = 3600;
                        break;
                case 'd':
                        mult = 86400;
                        break;
                default:
                        return bad(w, "'%s' is not a duration: each number needs a unit s, m, h or d", v);
                }
                p++;
                total += n * mult;
                if (total > VIGIL_CONF_MAX_DURATION)
                        return bad(w, "duration '%s' is longer than 366 days", v);
        }
        *ret = total;
        return 0;
}

static bool word_in(const char *choices, const char *word, size_t len)
{
        const char *p = choices;

        while (*p) {
                size_t n = strcspn(p, " ");

                if (n == len && memcmp(p, word, len) == 0)
                        return true;
                p += n;
                p += strspn(p, " ");
        }
        return false;
}

static int parse_list(const char *v, const char *choices, vigil_strv *ret, why *w)
{
        vigil_strv l = {};
        const char *p = v;
        int r;

        for (;;) {
                size_t n;
                char **nv;

                p += strspn(p, " \t,");
                if (!*p)
                        break;
                n = strcspn(p, " \t,");
                if (choices && !word_in(choices, p, n)) {
                        r = bad(w, "'%.*s' is not one of: %s", (int)n, p, choices);
                        goto fail;
                }
                nv = realloc(l.v, (l.n + 2) * sizeof *nv);
                if (!nv) {
                        r = -ENOMEM;
                        goto fail;
                }
                l.v = nv;
                l.v[l.n] = strndup(p, n);
                if (!l.v[l.n]) {
                        r = -ENOMEM;
                        goto fail;
                }
                l.v[++l.n] = NULL;
                p += n;
        }
        if (l.n == 0)
                return bad(w, "the list is empty");
        *ret = l;
        return 0;
fail:
        strv_clear(&l);
        return r;
}

/* Parse @v as a value of key @k into @dst (a field of the key's C type). */
static int parse_value(void *dst, const key_desc *k, const char *v, why *w)
{
        size_t len = strlen(v);
        char *copy;

        if (len == 0)
                return bad(w, "no value");

        switch (k->type) {
        case T_PATH:
                if (v[0] != '/')
                        return bad(w, "'%s' is not an absolute path", v);
                break;
        case T_URL:
                if (strncmp(v, "https://", 8) != 0)
                        return bad(w, "'%s' is not an https:// URL (no other scheme is used)", v);
                if (v[8] == '\0' || v[8] == '/' || strpbrk(v, " \t"))
                        return bad(w, "'%s' is not a valid https:// URL", v);
                break;
        case T_ENUM:
                if (!k->choices || !word_in(k->choices, v, len) || strpbrk(v, " \t"))
                        return bad(w, "'%s' is not one of: %s", v, k->choices ? k->choices : "");
                break;
        case T_BOOL: {
                bool *b = dst;
                if (strcmp(v, "yes") == 0)
                        *b = true;
                else if (strcmp(v, "no") == 0)
                        *b = false;
                else
                        return bad(w, "'%s' is not yes or no", v);
                return 0;
        }
        case T_DURATION:
                return parse_duration(v, dst, w);
        case T_LIMIT: {
                int64_t *l = dst;
                uint64_t s;
                int r;

                if (strcmp(v, "token") == 0) {
                        *l = VIGIL_CONF_LIMIT_TOKEN;
                        return 0;
                }
                r = parse_duration(v, &s, w);
                if (r < 0) {
                        (void)bad(w, "'%s' is neither 'token' nor a duration (e.g. 8h)", v);
                        return r;
                }
                if (s == 0)
                        return bad(w, "a zero duration would end every session at once");
                *l = (int64_t)s;
                return 0;
        }
        case T_LIST: {
                vigil_strv l;
                int r = parse_list(v, k->choices, &l, w);

                if (r < 0)
                        return r;
                value_clear(dst, k);
                *(vigil_strv *)dst = l;
                return 0;
        }
        case T_STRING:
                break;
        }

        copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        value_clear(dst, k);
        *(char **)dst = copy;
        return 0;
}

/* ---- the file ----------------------------------------------------------- */

_printf_(4, 5) static int fail(char **ret_error, const char *file, unsigned line, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (!ret_error)
                return VIGIL_E_PARSE;
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (line > 0)
                r = asprintf(ret_error, "%s:%u: %s", file, line, msg);
        else
                r = asprintf(ret_error, "%s: %s", file, msg);
        if (r < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return VIGIL_E_PARSE;
}

static const key_desc *find_key(const char *name, size_t len)
{
        for (size_t i = 0; i < VIGIL_CONF_N_KEYS; i++)
                if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
                        return &keys[i];
        return NULL;
}

static bool is_blank(char ch)
{
        return ch == ' ' || ch == '\t';
}

/* Keys that must be there, alone or together. */
static int check_required(const vigil_config *c, unsigned last_line, char **ret_error)
{
        static const vigil_conf_key required[] = { VIGIL_CONF_KEY_issuer, VIGIL_CONF_KEY_audience };

        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!vigil_config_is_set(c, required[i]))
                        return fail(ret_error, c->path, last_line, "missing required key '%s'",
                                    keys[required[i]].name);

        /* Keys come from a file, a URL, or the issuer's discovery document,
         * which is only ever fetched over https. */
        if (!c->jwks_file && !c->jwks_uri && strncmp(c->issuer, "https://", 8) != 0)
                return fail(ret_error, c->path, last_line,
                            "missing required key: set 'jwks_file' or 'jwks_uri', or make 'issuer' an "
                            "https:// URL "
                            "so its discovery document can be fetched");
        return 0;
}

/* `KEY.USER = value`: checked as KEY's own value, kept apart from it. */
static int parse_user_line(vigil_config *c, const key_desc *k, const char *user, size_t ulen,
                           const char *val, unsigned lineno, char **ret_error)
{
        vigil_conf_user_value *nv, *u;
        char *value = NULL;
        why w = {};
        int r;

        if (!vigil_config_key_per_user((vigil_conf_key)(k - keys)))
                return fail(ret_error, c->path, lineno, "'%s' cannot be set per user (only:%s)", k->name,
                            user_key_names);
        if (ulen == 0)
                return fail(ret_error, c->path, lineno, "expected a user name after '%s.'", k->name);
        if (!vigil_config_user_name_valid(user, ulen))
                return fail(ret_error, c->path, lineno,
                            "'%s.%.*s': '%.*s' is not a user name ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most %u "
                            "characters, optionally ending in $)",
                            k->name, (int)ulen, user, (int)ulen, user, VIGIL_CONF_MAX_USER);
        for (size_t i = 0; i < c->n_per_user; i++) {
                const vigil_conf_user_value *o = &c->per_user[i];

                if (o->key == (vigil_conf_key)(k - keys) && strlen(o->user) == ulen &&
                    memcmp(o->user, user, ulen) == 0)
                        return fail(ret_error, c->path, lineno,
                                    "duplicate key '%s.%s' (first set on line %u)", k->name, o->user,
                                    o->line);
        }

        r = parse_value(&value, k, val, &w);
        if (r == VIGIL_E_PARSE)
                return fail(ret_error, c->path, lineno, "bad value for '%s.%.*s': %s", k->name, (int)ulen,
                            user, w.text);
        if (r < 0)
                return r;
        nv = realloc(c->per_user, (c->n_per_user + 1) * sizeof *nv);
        if (!nv) {
                free(value);
                return -ENOMEM;
        }
        c->per_user = nv;
        u = &nv[c->n_per_user];
        *u = (vigil_conf_user_value){
                .key = (vigil_conf_key)(k - keys),
                .user = strndup(user, ulen),
                .value = value,
                .line = lineno,
        };
        if (!u->user) {
                free(value);
                return -ENOMEM;
        }
        c->n_per_user++;
        return 0;
}

static int parse_line(vigil_config *c, char *line, unsigned lineno, char **ret_error)
{
        const key_desc *k;
        char *key, *val, *eq, *end, *dot;
        size_t klen, blen;
        why w = {};
        int r;

        for (char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
                        return fail(ret_error, c->path, lineno, "control character 0x%02x in line",
                                    (unsigned)(unsigned char)*p);

        key = line;
        while (is_blank(*key))
                key++;
        if (*key == '\0' || *key == '#')
                return 0;

        eq = strchr(key, '=');
        if (!eq)
                return fail(ret_error, c->path, lineno, "expected 'key = value'");
        end = eq;
        while (end > key && is_blank(end[-1]))
                end--;
        klen = (size_t)(end - key);
        if (klen == 0)
                return fail(ret_error, c->path, lineno, "expected 'key = value'");
        /* KEY or KEY.USER: the key itself is [a-z0-9_]+ */
        dot = memchr(key, '.', klen);
        blen = dot ? (size_t)(dot - key) : klen;
        for (size_t i = 0; i < blen; i++)
                if (!islower((unsigned char)key[i]) && !isdigit((unsigned char)key[i]) && key[i] != '_')
                        return fail(ret_error, c->path, lineno, "unknown key '%.*s'", (int)klen, key);
        k = find_key(key, blen);
        if (!k)
                return fail(ret_error, c->path, lineno, "unknown key '%.*s'", (int)klen, key);

        val = eq + 1;
        while (is_blank(*val))
                val++;
        end = val + strlen(val);
        while (end > val && is_blank(end[-1]))
                end--;
        *end = '\0';

        if (dot)
                return parse_user_line(c, k, dot + 1, klen - blen - 1, val, lineno, ret_error);

        if (c->line[k - keys])
                return fail(ret_error, c->path, lineno, "duplicate key '%s' (first set on line %u)", k->name,
                            c->line[k - keys]);
        r = parse_value(field(c, k), k, val, &w);
        if (r == VIGIL_E_PARSE)
                return fail(ret_error, c->path, lineno, "bad value for '%s': %s", k->name, w.text);
        if (r < 0)
                return r;
        c->line[k - keys] = lineno;
        return 0;
}

static int set_defaults(vigil_config *c)
{
        /* a per-user value is one string: a per-user key of another type is a bug */
        for (size_t i = 0; i < VIGIL_CONF_N_KEYS; i++)
                if (vigil_config_key_per_user((vigil_conf_key)i) && !type_is_text(keys[i].type))
                        return -EINVAL;
        for (size_t i = 0; i < VIGIL_CONF_N_KEYS; i++) {
                why w = {};
                int r;

                if (!keys[i].def)
                        continue;
                r = parse_value(field(c, &keys[i]), &keys[i], keys[i].def, &w);
                if (r < 0)
                        return r == VIGIL_E_PARSE ? -EINVAL : r; /* a wrong default is a bug */
        }
        return 0;
}

int vigil_config_parse(const char *text, size_t len, const char *filename, vigil_config **ret,
                       char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        vigil_config *c;
        unsigned lineno = 0;
        size_t pos = 0;
        int r;

        if (!filename)
                filename = "vigil.conf";
        if (len > VIGIL_CONF_MAX_FILE) {
                if (ret_error &&
                    asprintf(ret_error, "%s: larger than %u bytes", filename, VIGIL_CONF_MAX_FILE) < 0)
                        *ret_error = NULL;
                return VIGIL_E_TOO_BIG;
        }

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->path = strdup(filename);
        buf = malloc(VIGIL_CONF_MAX_LINE + 1);
        if (!c->path || !buf) {
                r = -ENOMEM;
                goto fail;
        }
        r = set_defaults(c);
        if (r < 0)
                goto fail;

        while (pos < len) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t full = nl ? (size_t)(nl - (text + pos)) : len - pos, n = full;

                lineno++;
                if (n > VIGIL_CONF_MAX_LINE) {
                        r = fail(ret_error, c->path, lineno, "line longer than %u bytes",
                                 VIGIL_CONF_MAX_LINE);
                        goto fail;
                }
                if (memchr(text + pos, '\0', n)) {
                        r = fail(ret_error, c->path, lineno, "NUL byte in line");
                        goto fail;
                }
                memcpy(buf, text + pos, n);
                if (n > 0 && buf[n - 1] == '\r')
                        n--;
                buf[n] = '\0';
                r = parse_line(c, buf, lineno, ret_error);
                if (r < 0)
                        goto fail;
                pos += full + (nl ? 1 : 0);
        }

        r = check_required(c, lineno > 0 ? lineno : 1, ret_error);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        vigil_config_free(c);
        return r;
}

int vigil_config_load(const char *path, vigil_config **ret, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
                goto fail;
        }
        /* Whoever can write this file decides which identity provider vigil
         * trusts: only root (or the caller, for a private test config). */
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & S_IWOTH) ||
            ((st.st_mode & S_IWGRP) && st.st_gid != 0)) {
                if (ret_error &&
                    asprintf(ret_error, "%s: unsafe file: must be owned by root and writable by no one else",
                             path) < 0)
                        *ret_error = NULL;
                return -EPERM;
        }
        r = read_fd_bounded(fd, VIGIL_CONF_MAX_FILE, &text, &len);
        if (r == VIGIL_E_TOO_BIG) {
                if (ret_error &&
                    asprintf(ret_error, "%s: larger than %u bytes", path, VIGIL_CONF_MAX_FILE) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (r < 0)
                goto fail;
        return vigil_config_parse(text, len, path, ret, ret_error);
fail:
        if (ret_error && asprintf(ret_error, "%s: cannot read: %s", path, vigil_strerror(r)) < 0)
                *ret_error = NULL;
        return r;
}
