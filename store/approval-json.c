/* Approval requests as JSON: the document the store keeps, the hook's input
 * and the CLI's output. Decoding treats its input as hostile (the fuzzer's
 * entry): bounded, duplicate keys refused, every key known, every type and
 * range checked, the states' invariants enforced, so that what comes out
 * encodes back to the same document. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval-internal.h"

#define TIME_TEXT_LEN 24              /* "2024-05-01T12:00:00.123Z" */
#define TIME_MS_MAX 253402300799999ll /* 9999-12-31T23:59:59.999Z */

static const char *const state_names[] = {
        [VIGIL_APPROVAL_PENDING] = "pending",     [VIGIL_APPROVAL_APPROVED] = "approved",
        [VIGIL_APPROVAL_REJECTED] = "rejected",   [VIGIL_APPROVAL_TIMEOUT] = "timeout",
        [VIGIL_APPROVAL_WITHDRAWN] = "withdrawn",
};

const char *vigil_approval_state_name(vigil_approval_state s)
{
        if ((unsigned)s >= ELEMENTSOF(state_names))
                return NULL;
        return state_names[s];
}

int vigil_approval_state_from_name(const char *name)
{
        if (!name)
                return -EINVAL;
        for (unsigned i = 0; i < ELEMENTSOF(state_names); i++)
                if (strcmp(state_names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

void approver_id_clear(vigil_approver_id *b)
{
        free(b->subject);
        free(b->email);
        strv_free(b->groups, b->n_groups);
        free(b->local);
        free(b->via);
        *b = (vigil_approver_id){ 0 };
}

vigil_approval *vigil_approval_free(vigil_approval *a)
{
        if (!a)
                return NULL;
        free(a->user);
        free(a->subject);
        free(a->email);
        strv_free(a->groups, a->n_groups);
        free(a->host);
        free(a->runas);
        free(a->cwd);
        free(a->exe);
        strv_free(a->argv, a->argc);
        strv_free(a->env, a->n_env);
        free(a->screen);
        free(a->rule);
        free(a->approvers);
        approver_id_clear(&a->decided_by);
        free(a->reason);
        free(a);
        return NULL;
}

bool approval_id_valid(const char *id)
{
        if (!id || strlen(id) != VIGIL_APPROVAL_ID_LEN)
                return false;
        for (const char *p = id; *p; p++)
                if (!strchr(APPROVAL_ID_ALPHABET, *p))
                        return false;
        return true;
}

/* ---- encoding ---- */

/* Length of the valid UTF-8 sequence at @p (at most @n bytes), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        unsigned char c = p[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

                return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

                return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
                               ? 4
                               : 0;
        }
        return 0;
}

/* A JSON string of @s; bytes that are not UTF-8 become U+FFFD (JSON carries
 * only Unicode text; the supervisor keeps the real bytes). NULL on ENOMEM. */
static json_t *jstr(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t len, o = 0;
        char *fixed;
        json_t *j;

        if (!s)
                return json_null();
        len = strlen(s);
        j = json_stringn(s, len);
        if (j)
                return j;
        fixed = malloc(len * 3 + 1);
        if (!fixed)
                return NULL;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq(p + i, len - i);

                if (n == 0) {
                        memcpy(fixed + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(fixed + o, p + i, n);
                o += n;
                i += n;
        }
        j = json_stringn(fixed, o);
        free(fixed);
        return j;
}

static json_t *jstrv(char *const *v, size_t n)
{
        json_t *a;

        if (!v)
                return json_null();
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, jstr(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *jtime(int64_t ms)
{
        char buf[32];

        if (ms < 0 || ms > TIME_MS_MAX)
                return NULL;
        vigil_format_time((uint64_t)ms * 1000u, buf);
        return json_string(buf);
}

static int set(json_t *o, const char *key, json_t *v)
{
        /* json_object_set_new() takes @v even when it fails, and accepts none */
        if (!v)
                return -ENOMEM;
        return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static json_t *approver_json(const vigil_approver_id *b)
{
        json_t *o;

        if (!b->subject && !b->email && !b->groups && !b->local && !b->via)
                return json_null();
        o = json_object();
        if (!o || set(o, "subject", jstr(b->subject)) < 0 || set(o, "email", jstr(b->email)) < 0 ||
            set(o, "groups", jstrv(b->groups, b->n_groups)) < 0 || set(o, "local", jstr(b->local)) < 0 ||
            set(o, "via", jstr(b->via)) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *owner_json(const vigil_approval *a)
{
        static const char hex[] = "0123456789abcdef";
        char boot[33];
        json_t *o = json_object();

        for (int i = 0; i < 16; i++) {
                boot[2 * i] = hex[a->owner_boot[i] >> 4];
                boot[2 * i + 1] = hex[a->owner_boot[i] & 15];
        }
        boot[32] = 0;
        if (!o || a->owner_start > (uint64_t)INT64_MAX || set(o, "pid", json_integer(a->owner_pid)) < 0 ||
            set(o, "start", json_integer((json_int_t)a->owner_start)) < 0 ||
            set(o, "boot", json_string(boot)) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int approval_to_jsonv(const vigil_approval *a, bool with_owner, json_t **ret)
{
        json_t *o = json_object();
        const char *state = vigil_approval_state_name(a->state);
        int r;

        if (!o)
                return -ENOMEM;
        if (!state || !approval_id_valid(a->id)) {
                json_decref(o);
                return -EINVAL;
        }
        r = set(o, "id", json_string(a->id));
        if (r >= 0)
                r = set(o, "session", jstr(a->session));
        if (r >= 0)
                r = set(o, "command_no", json_integer(a->command_no));
        if (r >= 0)
                r = set(o, "user", jstr(a->user));
        if (r >= 0)
                r = set(o, "subject", jstr(a->subject));
        if (r >= 0)
                r = set(o, "email", jstr(a->email));
        if (r >= 0)
                r = set(o, "groups", jstrv(a->groups, a->n_groups));
        if (r >= 0)
                r = set(o, "host", jstr(a->host));
        if (r >= 0)
                r = set(o, "runas", jstr(a->runas));
        if (r >= 0)
                r = set(o, "cwd", jstr(a->cwd));
        if (r >= 0)
                r = set(o, "exe", jstr(a->exe));
        if (r >= 0)
                r = set(o, "argv", jstrv(a->argv, a->argc));
        if (r >= 0)
                r = set(o, "env", jstrv(a->env, a->n_env));
        if (r >= 0)
                r = set(o, "screen", jstr(a->screen));
        if (r >= 0)
                r = set(o, "rule", jstr(a->rule));
        if (r >= 0)
                r = set(o, "approvers", jstr(a->approvers));
        if (r >= 0)
                r = set(o, "remember", json_boolean(a->remember));
        if (r >= 0)
                r = a->created_ms < 0 || a->created_ms > TIME_MS_MAX
                            ? -EINVAL
                            : set(o, "created", jtime(a->created_ms));
        if (r >= 0)
                r = a->expires_ms < 0 || a->expires_ms > TIME_MS_MAX
                            ? -EINVAL
                            : set(o, "expires", jtime(a->expires_ms));
        if (r >= 0)
                r = set(o, "state", json_string(state));
        if (r >= 0)
                r = set(o, "decided_by", approver_json(&a->decided_by));
        if (r >= 0)
                r = a->decided_ms < 0 || a->decided_ms > TIME_MS_MAX
                            ? -EINVAL
                            : set(o, "decided_at",
                                  a->state == VIGIL_APPROVAL_PENDING ? json_null() : jtime(a->decided_ms));
        if (r >= 0)
                r = set(o, "reason", jstr(a->reason));
        if (r >= 0 && with_owner)
                r = set(o, "owner", owner_json(a));
        if (r < 0) {
                json_decref(o);
                return r;
        }
        *ret = o;
        return 0;
}

int vigil_approval_to_json(const vigil_approval *a, bool with_owner, char **ret)
{
        json_t *o = NULL;
        char *text;
        int r;

        if (!a || !ret)
                return -EINVAL;
        r = approval_to_jsonv(a, with_owner, &o);
        if (r < 0)
                return r;
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}

/* ---- decoding ---- */

typedef struct dec {
        bool bad; /* malformed: VIGIL_E_CORRUPT */
        bool oom;
} dec;

static int dec_result(const dec *d)
{
        return d->oom ? -ENOMEM : d->bad ? VIGIL_E_CORRUPT : 0;
}

/* A string field: NULL for null (when @nullable), else a copy of at most @max bytes. */
static char *get_str(dec *d, json_t *o, const char *key, bool nullable, size_t max)
{
        json_t *v = json_object_get(o, key);
        char *c;

        if (!v) {
                d->bad = true;
                return NULL;
        }
        if (json_is_null(v)) {
                if (!nullable)
                        d->bad = true;
                return NULL;
        }
        if (!json_is_string(v) || json_string_length(v) > max) {
                d->bad = true;
                return NULL;
        }
        /* jansson refuses \u0000 unless asked (JSON_ALLOW_NUL): the text has no NUL */
        c = strdup(json_string_value(v));
        if (!c)
                d->oom = true;
        return c;
}

static void get_strv(dec *d, json_t *o, const char *key, bool nullable, size_t max_n, size_t max_len,
                     char ***ret, size_t *ret_n)
{
        json_t *v = json_object_get(o, key), *e;
        char **a;
        size_t n, i;

        *ret = NULL;
        *ret_n = 0;
        if (!v || (json_is_null(v) && !nullable) || (!json_is_null(v) && !json_is_array(v))) {
                d->bad = true;
                return;
        }
        if (json_is_null(v))
                return;
        n = json_array_size(v);
        if (n > max_n) {
                d->bad = true;
                return;
        }
        a = calloc(n + 1, sizeof(char *));
        if (!a) {
                d->oom = true;
                return;
        }
        json_array_foreach(v, i, e) {
                if (!json_is_string(e) || json_string_length(e) > max_len) {
                        d->bad = true;
                        break;
                }
                a[i] = strdup(json_string_value(e));
                if (!a[i]) {
                        d->oom = true;
                        break;
                }
        }
        if (d->bad || d->oom) {
                strv_free(a, n);
                return;
        }
        *ret = a;
        *ret_n = n;
}

static bool digits(const char *s, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* Exactly the form vigil_format_time() writes, so that decoding and encoding
 * agree byte for byte. */
int approval_parse_time(const char *s, int64_t *ret_ms)
{
        int y, mo, d, h, mi, sec, ms;
        struct tm tm = { 0 };
        time_t t;

        if (!s || strlen(s) != TIME_TEXT_LEN || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
            s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) || s[19] != '.' ||
            !digits(s + 20, 3, &ms) || s[23] != 'Z')
                return -EINVAL;
        if (y < 1970 || y > VIGIL_TIME_LAST_YEAR || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
                return -EINVAL;
        *ret_ms = (int64_t)t * 1000 + ms;
        return 0;
}

static int64_t get_time(dec *d, json_t *o, const char *key, bool nullable)
{
        json_t *v = json_object_get(o, key);
        int64_t ms = 0;

        if (!v || (json_is_null(v) && !nullable)) {
                d->bad = true;
                return 0;
        }
        if (json_is_null(v))
                return 0;
        if (!json_is_string(v) || approval_parse_time(json_string_value(v), &ms) < 0)
                d->bad = true;
        return ms;
}

/* Every key of @o must be one of @keys (a NULL-terminated list). */
static void only_keys(dec *d, json_t *o, const char *const *keys)
{
        const char *k;
        json_t *v;

        json_object_foreach(o, k, v) {
                size_t i;

                for (i = 0; keys[i]; i++)
                        if (strcmp(keys[i], k) == 0)
                                break;
                if (!keys[i])
                        d->bad = true;
        }
}

static void get_approver(dec *d, json_t *o, vigil_approver_id *b)
{
        static const char *const keys[] = { "subject", "email", "groups", "local", "via", NULL };
        json_t *v = json_object_get(o, "decided_by");

        if (!v || (!json_is_null(v) && !json_is_object(v))) {
                d->bad = true;
                return;
        }
        if (json_is_null(v))
                return;
        only_keys(d, v, keys);
        b->subject = get_str(d, v, "subject", true, VIGIL_STORE_MAX_STRING);
        b->email = get_str(d, v, "email", true, VIGIL_STORE_MAX_STRING);
        get_strv(d, v, "groups", true, VIGIL_STORE_MAX_ARGV, VIGIL_STORE_MAX_STRING, &b->groups,
                 &b->n_groups);
        b->local = get_str(d, v, "local", true, VIGIL_STORE_MAX_STRING);
        b->via = get_str(d, v, "via", true, VIGIL_STORE_MAX_STRING);
        /* an object stands for someone: at least one way of naming them */
        if (!b->subject && !b->local)
                d->bad = true;
}

static void get_owner(dec *d, json_t *o, vigil_approval *a)
{
        static const char *const keys[] = { "pid", "start", "boot", NULL };
        json_t *v = json_object_get(o, "owner"), *pid, *start, *boot;
        const char *b;

        if (!v)
                return; /* a document without its owner: the hook's, the CLI's */
        if (!json_is_object(v)) {
                d->bad = true;
                return;
        }
        only_keys(d, v, keys);
        pid = json_object_get(v, "pid");
        start = json_object_get(v, "start");
        boot = json_object_get(v, "boot");
        if (!json_is_integer(pid) || !json_is_integer(start) || !json_is_string(boot) ||
            json_integer_value(pid) < 0 || json_integer_value(pid) > INT32_MAX ||
            json_integer_value(start) < 0 || json_string_length(boot) != 32) {
                d->bad = true;
                return;
        }
        a->owner_pid = (int32_t)json_integer_value(pid);
        a->owner_start = (uint64_t)json_integer_value(start);
        b = json_string_value(boot);
        for (int i = 0; i < 32; i++) {
                char c = b[i];
                int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

                if (x < 0) {
                        d->bad = true;
                        return;
                }
                a->owner_boot[i / 2] |= (uint8_t)(i % 2 ? x : x << 4);
        }
}

/* What the states promise: a pending request has no decision; an approval
 * names its approver; the supervisor's own outcomes name none. */
static bool state_consistent(const vigil_approval *a)
{
        bool by = a->decided_by.subject || a->decided_by.local;

        switch (a->state) {
        case VIGIL_APPROVAL_PENDING:
                return !by && a->decided_ms == 0 && !a->reason;
        case VIGIL_APPROVAL_APPROVED:
                return by;
        case VIGIL_APPROVAL_REJECTED:
                return true; /* by an approver, or by vigil (supervisor lost, session ended) */
        case VIGIL_APPROVAL_TIMEOUT:
        case VIGIL_APPROVAL_WITHDRAWN:
                return !by;
        case _VIGIL_APPROVAL_STATE_MAX:
                break;
        }
        return false;
}

int approval_from_jsonv(json_t *o, vigil_approval **ret)
{
        static const char *const keys[] = {
                "id",         "session",   "command_no", "user",    "subject", "email", "groups",
                "host",       "runas",     "cwd",        "exe",     "argv",    "env",   "screen",
                "rule",       "approvers", "remember",   "created", "expires", "state", "decided_by",
                "decided_at", "reason",    "owner",      NULL,
        };
        vigil_approval *a;
        dec d = { 0 };
        json_t *v;
        char *s;
        int r;

        if (!json_is_object(o))
                return VIGIL_E_CORRUPT;
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        only_keys(&d, o, keys);

        s = get_str(&d, o, "id", false, VIGIL_APPROVAL_ID_LEN);
        if (s && approval_id_valid(s))
                memcpy(a->id, s, VIGIL_APPROVAL_ID_LEN + 1);
        else
                d.bad = true;
        free(s);
        s = get_str(&d, o, "session", false, VIGIL_SESSION_ID_STRLEN);
        if (s) {
                uint8_t id[VIGIL_SESSION_ID_LEN];

                /* the canonical (lower case) text only: it encodes back the same */
                if (vigil_session_id_parse(s, id) == 0) {
                        vigil_session_id_format(id, a->session);
                        if (strcmp(a->session, s) != 0)
                                d.bad = true;
                } else
                        d.bad = true;
        }
        free(s);
        v = json_object_get(o, "command_no");
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
                d.bad = true;
        else
                a->command_no = (uint32_t)json_integer_value(v);

        a->user = get_str(&d, o, "user", true, VIGIL_STORE_MAX_STRING);
        a->subject = get_str(&d, o, "subject", true, VIGIL_STORE_MAX_STRING);
        a->email = get_str(&d, o, "email", true, VIGIL_STORE_MAX_STRING);
        get_strv(&d, o, "groups", true, VIGIL_STORE_MAX_ARGV, VIGIL_STORE_MAX_STRING, &a->groups,
                 &a->n_groups);
        a->host = get_str(&d, o, "host", true, VIGIL_STORE_MAX_STRING);
        a->runas = get_str(&d, o, "runas", true, VIGIL_STORE_MAX_STRING);
        a->cwd = get_str(&d, o, "cwd", true, VIGIL_STORE_MAX_STRING);
        a->exe = get_str(&d, o, "exe", true, VIGIL_STORE_MAX_STRING);
        get_strv(&d, o, "argv", false, VIGIL_STORE_MAX_ARGV, VIGIL_STORE_MAX_STRING, &a->argv, &a->argc);
        if (!d.bad && a->argc == 0)
                d.bad = true;
        get_strv(&d, o, "env", true, VIGIL_STORE_MAX_ARGV, VIGIL_STORE_MAX_STRING, &a->env, &a->n_env);
        a->screen = get_str(&d, o, "screen", true, VIGIL_APPROVAL_SCREEN_MAX);
        a->rule = get_str(&d, o, "rule", true, VIGIL_STORE_MAX_STRING);
        a->approvers = get_str(&d, o, "approvers", true, VIGIL_STORE_MAX_STRING);
        v = json_object_get(o, "remember");
        if (!json_is_boolean(v))
                d.bad = true;
        else
                a->remember = json_is_true(v);
        a->created_ms = get_time(&d, o, "created", false);
        a->expires_ms = get_time(&d, o, "expires", false);
        s = get_str(&d, o, "state", false, 16);
        r = vigil_approval_state_from_name(s);
        if (r < 0)
                d.bad = true;
        else
                a->state = (vigil_approval_state)r;
        free(s);
        get_approver(&d, o, &a->decided_by);
        a->decided_ms = get_time(&d, o, "decided_at", true);
        /* decided exactly when not pending */
        if (!d.bad && json_is_null(json_object_get(o, "decided_at")) != (a->state == VIGIL_APPROVAL_PENDING))
                d.bad = true;
        a->reason = get_str(&d, o, "reason", true, APPROVAL_REASON_MAX);
        get_owner(&d, o, a);
        if (!d.bad && !d.oom && !state_consistent(a))
                d.bad = true;
        r = dec_result(&d);
        if (r < 0) {
                vigil_approval_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

int vigil_approval_from_json(const void *p, size_t n, vigil_approval **ret)
{
        json_error_t err;
        json_t *o;
        int r;

        if (!p || !ret)
                return -EINVAL;
        if (n > VIGIL_APPROVAL_JSON_MAX)
                return VIGIL_E_CORRUPT;
        o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
        if (!o)
                return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : VIGIL_E_CORRUPT;
        r = approval_from_jsonv(o, ret);
        json_decref(o);
        return r;
}
