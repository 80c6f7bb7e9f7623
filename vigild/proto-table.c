/* What each message type may carry. Bounds here are the protocol's hard
 * limits; docs/vigild.md lists them. */
#include <stdio.h>
#include <string.h>

#include "proto-table.h"
#include "validate.h"
#include "vigil-error.h"

/* clang-format off */
#define FIXED(n, k) { n, k, 0, 0 }
/* clang-format on */
static const vtag_def tag_defs[VF_MAX_TAG] = {
        [VF_STATUS] = FIXED("status", VK_U32),
        [VF_ERROR] = { "error", VK_TEXT, 1, 512 },
        [VF_VERSION] = { "version", VK_TEXT, 1, 64 },
        [VF_BACKENDS] = { "backends", VK_TEXT, 1, 256 },
        [VF_UPTIME] = FIXED("uptime", VK_I64),
        [VF_CLIENTS] = FIXED("clients", VK_U32),
        [VF_PENDING] = FIXED("pending", VK_U32),
        [VF_REFS] = FIXED("refs", VK_U32),

        [VF_USER] = { "user", VK_NAME, 1, 32 },
        [VF_SUBJECT] = { "subject", VK_TEXT, 1, 255 },
        [VF_EMAIL] = { "email", VK_TEXT, 1, 320 },
        [VF_GROUP] = { "group", VK_TEXT, 1, 255 },
        [VF_JTI] = { "jti", VK_TEXT, 1, 255 },
        [VF_EXP] = FIXED("exp", VK_I64),
        [VF_SERVICE] = { "service", VK_NAME, 1, 64 },
        [VF_TTY] = { "tty", VK_TTY, 1, 64 },
        [VF_RHOST] = { "rhost", VK_HOST, 1, 255 },
        [VF_REF] = { "ref", VK_HEX64, 64, 64 },
        [VF_HANDLE] = { "handle", VK_HEX64, 64, 64 },
        [VF_TOKEN] = { "token", VK_TOKEN, 5, 16384 },

        [VF_ARGV] = { "argv", VK_ARG, 0, 32768 },
        [VF_ENV] = { "env", VK_ENV, 2, 8192 },
        [VF_CWD] = { "cwd", VK_PATH, 1, 4096 },
        [VF_TERM] = { "term", VK_ID, 1, 64 },
        [VF_PTY] = FIXED("pty", VK_BOOL),
        [VF_ROWS] = FIXED("rows", VK_U32),
        [VF_COLS] = FIXED("cols", VK_U32),

        [VF_SESSION] = { "session", VK_ID, 1, 64 },
        [VF_APPROVAL] = { "approval", VK_ID, 1, 32 },
        [VF_DECISION] = { "decision", VK_WORD, 1, 16 },
        [VF_REASON] = { "reason", VK_TEXT, 1, 1024 },
        [VF_SINCE] = FIXED("since", VK_I64),
        [VF_UNTIL] = FIXED("until", VK_I64),
        [VF_COMMAND] = { "command", VK_TEXT, 1, 1024 },
        [VF_HOST] = { "host", VK_HOST, 1, 255 },
        [VF_LIVE] = FIXED("live", VK_BOOL),
        [VF_AT] = FIXED("at", VK_I64),
        [VF_COMMAND_NO] = FIXED("command_no", VK_U32),

        [VF_ITEM] = { "item", VK_TEXT, 2, 61440 },
        [VF_DATA] = { "data", VK_BYTES, 1, 61440 },
        [VF_TIME] = FIXED("time", VK_I64),
};

const vtag_def *vtag_def_get(uint16_t tag)
{
        if (tag >= VF_MAX_TAG || !tag_defs[tag].name)
                return NULL;
        return &tag_defs[tag];
}

const char *vtag_name(uint16_t tag)
{
        const vtag_def *d = vtag_def_get(tag);

        return d ? d->name : NULL;
}

/* ---- cross-field rules ------------------------------------------------- */

static int fail(char *err, const char *msg)
{
        if (err)
                snprintf(err, VMSG_ERR_MAX, "%s", msg);
        return VIGIL_E_PARSE;
}

static int get_i64(const vmsg *m, uint16_t tag, int64_t *ret)
{
        return vmsg_get_i64(m, tag, ret);
}

static int check_register(const vmsg *m, size_t n_fds, char *err)
{
        int64_t exp = 0;

        (void)n_fds;
        (void)get_i64(m, VF_EXP, &exp);
        if (exp <= 0)
                return fail(err, "field 'exp' must be a positive time");
        return 0;
}

/* A session's stdio: either one terminal (pty=1) or three fds for stdin,
 * stdout and stderr. */
static int check_start(const vmsg *m, size_t n_fds, char *err)
{
        bool pty = false;
        uint32_t v;

        (void)vmsg_get_bool(m, VF_PTY, &pty);
        if (pty && n_fds != 1)
                return fail(err, "a terminal session takes exactly one fd");
        if (!pty && n_fds != 3)
                return fail(err, "a pipe session takes exactly three fds (stdin, stdout, stderr)");
        if (!pty && (vmsg_get(m, VF_ROWS) || vmsg_get(m, VF_COLS)))
                return fail(err, "fields 'rows' and 'cols' need pty");
        if (vmsg_get_u32(m, VF_ROWS, &v) == 0 && (v == 0 || v > 65535))
                return fail(err, "field 'rows' is out of range");
        if (vmsg_get_u32(m, VF_COLS, &v) == 0 && (v == 0 || v > 65535))
                return fail(err, "field 'cols' is out of range");
        return 0;
}

static bool field_is(const vmsg_field *f, const char *s)
{
        return f && f->len == strlen(s) && memcmp(f->val, s, f->len) == 0;
}

static int check_decide(const vmsg *m, size_t n_fds, char *err)
{
        const vmsg_field *d = vmsg_get(m, VF_DECISION);

        (void)n_fds;
        if (field_is(d, "approve"))
                return 0;
        if (!field_is(d, "deny"))
                return fail(err, "field 'decision' must be 'approve' or 'deny'");
        if (!vmsg_get(m, VF_REASON))
                return fail(err, "a denial needs field 'reason'");
        return 0;
}

static int check_list(const vmsg *m, size_t n_fds, char *err)
{
        int64_t since = 0, until = INT64_MAX;

        (void)n_fds;
        (void)get_i64(m, VF_SINCE, &since);
        (void)get_i64(m, VF_UNTIL, &until);
        if (since < 0 || until < 0)
                return fail(err, "fields 'since' and 'until' must not be negative");
        if (since > until)
                return fail(err, "field 'since' is after 'until'");
        return 0;
}

static int check_replay(const vmsg *m, size_t n_fds, char *err)
{
        int64_t at = 0;

        (void)n_fds;
        if (vmsg_get(m, VF_AT) && vmsg_get(m, VF_COMMAND_NO))
                return fail(err, "fields 'at' and 'command_no' exclude each other");
        if (get_i64(m, VF_AT, &at) == 0 && at < 0)
                return fail(err, "field 'at' must not be negative");
        return 0;
}

/* A watch/replay item is either terminal output (data, time) or one record (item). */
static int check_stream_item(const vmsg *m, char *err)
{
        bool data = vmsg_get(m, VF_DATA), item = vmsg_get(m, VF_ITEM);

        if (data == item)
                return fail(err, "an item carries either 'data' or 'item'");
        if (data && !vmsg_get(m, VF_TIME))
                return fail(err, "field 'data' needs 'time'");
        return 0;
}

/* ---- per-type rules ---------------------------------------------------- */

/* clang-format off */
#define RULES(...) \
        { (const vrule[]){ __VA_ARGS__ }, sizeof((const vrule[]){ __VA_ARGS__ }) / sizeof(vrule) }
#define REQ(t) { t, 1, 1 }
#define OPT(t) { t, 0, 1 }
#define REP(t, n) { t, 0, n }
/* clang-format on */

#define IDENTITY_OUT                                                                                        \
        OPT(VF_USER), OPT(VF_SUBJECT), OPT(VF_EMAIL), REP(VF_GROUP, 256), OPT(VF_JTI), OPT(VF_EXP)
#define START_COMMON REP(VF_ENV, 256), OPT(VF_CWD), OPT(VF_TERM), OPT(VF_PTY), OPT(VF_ROWS), OPT(VF_COLS)
#define ITEM_RULES RULES(REQ(VF_ITEM))
#define STREAM_ITEM_RULES RULES(OPT(VF_ITEM), OPT(VF_DATA), OPT(VF_TIME))

static const vtype_def type_defs[] = {
        { .type = VT_NONE, .name = "none" },
        { .type = VT_PING, .name = "ping", .reply = RULES(OPT(VF_VERSION)) },
        { .type = VT_STATUS,
          .name = "status",
          .reply = RULES(OPT(VF_VERSION), OPT(VF_BACKENDS), OPT(VF_UPTIME), OPT(VF_CLIENTS), OPT(VF_PENDING),
                         OPT(VF_REFS)) },
        { .type = VT_PAM_REGISTER,
          .name = "pam.register",
          .req = RULES(REQ(VF_USER), REQ(VF_SUBJECT), OPT(VF_EMAIL), REP(VF_GROUP, 256), OPT(VF_JTI),
                       REQ(VF_EXP), OPT(VF_SERVICE)),
          .reply = RULES(REQ(VF_REF)),
          .check_req = check_register },
        { .type = VT_PAM_LOOKUP,
          .name = "pam.lookup",
          .req = RULES(REQ(VF_REF), REQ(VF_USER)),
          .reply = RULES(IDENTITY_OUT) },
        { .type = VT_PAM_OPEN,
          .name = "pam.open",
          .req = RULES(REQ(VF_REF), REQ(VF_USER), OPT(VF_SERVICE), OPT(VF_TTY), OPT(VF_RHOST)),
          .reply = RULES(REQ(VF_REF), REQ(VF_HANDLE), IDENTITY_OUT) },
        { .type = VT_PAM_CLOSE, .name = "pam.close", .req = RULES(REQ(VF_HANDLE)) },
        { .type = VT_SESSION_START_REF,
          .name = "session.start",
          .req = RULES(REQ(VF_REF), REP(VF_ARGV, 1024), START_COMMON),
          .req_min_fds = 1,
          .req_max_fds = 3,
          .reply = RULES(OPT(VF_SESSION)),
          .reply_max_fds = 1,
          .check_req = check_start },
        { .type = VT_SESSION_START_TOKEN,
          .name = "session.start",
          .req = RULES(REQ(VF_TOKEN), { VF_ARGV, 1, 1024 }, START_COMMON),
          .req_min_fds = 1,
          .req_max_fds = 3,
          .reply = RULES(OPT(VF_SESSION)),
          .reply_max_fds = 1,
          .check_req = check_start },
        { .type = VT_APPROVALS_LIST,
          .name = "approvals.list",
          .req = RULES(OPT(VF_SESSION), OPT(VF_TOKEN)),
          .item = ITEM_RULES },
        { .type = VT_APPROVALS_DECIDE,
          .name = "approvals.decide",
          .req = RULES(REQ(VF_APPROVAL), REQ(VF_DECISION), OPT(VF_REASON), OPT(VF_TOKEN)),
          .reply = RULES(OPT(VF_ITEM)),
          .check_req = check_decide },
        { .type = VT_SESSIONS_LIST,
          .name = "sessions.list",
          .req = RULES(OPT(VF_USER), OPT(VF_SINCE), OPT(VF_UNTIL), OPT(VF_COMMAND), OPT(VF_HOST),
                       OPT(VF_LIVE)),
          .item = ITEM_RULES,
          .check_req = check_list },
        { .type = VT_SESSION_WATCH,
          .name = "session.watch",
          .req = RULES(REQ(VF_SESSION)),
          .item = STREAM_ITEM_RULES,
          .check_item = check_stream_item },
        { .type = VT_SESSION_REPLAY,
          .name = "session.replay",
          .req = RULES(REQ(VF_SESSION), OPT(VF_AT), OPT(VF_COMMAND_NO)),
          .item = STREAM_ITEM_RULES,
          .check_req = check_replay,
          .check_item = check_stream_item },
        { .type = VT_SESSION_KILL,
          .name = "session.kill",
          .req = RULES(REQ(VF_SESSION), OPT(VF_REASON)),
          .reply = RULES(OPT(VF_SESSION)) },
};

const vtype_def *vtype_def_get(uint16_t type)
{
        for (size_t i = 0; i < sizeof(type_defs) / sizeof(type_defs[0]); i++)
                if (type_defs[i].type == type)
                        return &type_defs[i];
        return NULL;
}

const char *vtype_name(uint16_t type)
{
        const vtype_def *d = vtype_def_get(type & VT_MASK);

        return d ? d->name : NULL;
}

const char *vstatus_name(uint32_t s)
{
        static const char *const names[] = {
                [VS_OK] = "ok",
                [VS_REFUSED] = "refused",
                [VS_INVALID] = "invalid",
                [VS_UNKNOWN] = "unknown request",
                [VS_UNAVAILABLE] = "unavailable",
                [VS_LIMIT] = "limit reached",
                [VS_TIMEOUT] = "timeout",
                [VS_NOTFOUND] = "not found",
                [VS_FAILED] = "failed",
        };

        return s <= VS_MAX_ ? names[s] : "unknown status";
}
