/* vigild wire protocol: the whole interface shared by the daemon and its
 * clients (vigil-shell, pam_vigil, the `vigil` CLI when not root).
 *
 * Transport: a SOCK_SEQPACKET Unix socket. One message is one datagram, at
 * most VMSG_MAX bytes; file descriptors ride on the message they belong to
 * (SCM_RIGHTS). There is no framing state to get out of step and no partial
 * message to wait for.
 *
 * A message is a 12-byte header followed by fields, all integers little-endian:
 *
 *   0  4  magic "VGD1" (the 1 is the protocol version)
 *   4  2  type: request type (VT_*), | VT_REPLY for the final reply,
 *             | VT_ITEM for one item of a streamed answer
 *   6  2  flags, must be 0
 *   8  4  id: chosen by the client, echoed in every reply and item
 *  12     fields: tag (2), length (4), value (length bytes), repeated
 *
 * Every tag has one kind (VK_*) and length bounds, everywhere; every message
 * type lists which tags it may carry, how often, which are required and how
 * many fds may come with it. vmsg_decode() checks all of that and the kind of
 * each value before anyone looks at a field, then runs the type's own
 * cross-field check. Fuzzed by fuzz/vigild/fuzz-vigild-msg.c.
 *
 * Protocol and request table: docs/vigild.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIGILD_SOCKET_PATH "/run/vigil/vigild.sock"

#define VMSG_MAGIC "VGD1"
#define VMSG_HDR_SIZE 12u
#define VMSG_FIELD_HDR_SIZE 6u
#define VMSG_MAX 65536u       /* bytes in one message, header included */
#define VMSG_MAX_FIELDS 1024u /* fields in one message */
#define VMSG_MAX_FDS 3u       /* fds attached to one message */
#define VMSG_ERR_MAX 256u     /* size of a decoder diagnostic buffer */

/* Message types. The numbers are the wire format: never renumber. */
enum {
        VT_NONE = 0, /* only as VT_NONE|VT_REPLY: a refusal not tied to a request */
        VT_PING = 1,
        VT_STATUS = 2,
        VT_PAM_REGISTER = 16,
        VT_PAM_LOOKUP = 17,
        VT_PAM_OPEN = 18,
        VT_PAM_CLOSE = 19,
        VT_SESSION_START_REF = 32,
        VT_SESSION_START_TOKEN = 33,
        VT_APPROVALS_LIST = 48,
        VT_APPROVALS_DECIDE = 49,
        VT_SESSIONS_LIST = 64,
        VT_SESSION_WATCH = 65,
        VT_SESSION_REPLAY = 66,
        VT_SESSION_KILL = 67,

        VT_MASK = 0x0fff,
        VT_ITEM = 0x4000,
        VT_REPLY = 0x8000,
};

/* Field tags. The numbers are the wire format: never renumber. */
enum {
        VF_STATUS = 1,   /* reply: VS_* */
        VF_ERROR = 2,    /* reply: one line saying why */
        VF_VERSION = 3,  /* status */
        VF_BACKENDS = 4, /* status: which backends this build has */
        VF_UPTIME = 5,   /* status: seconds */
        VF_CLIENTS = 6,
        VF_PENDING = 7,
        VF_REFS = 8,

        VF_USER = 16,    /* local account name */
        VF_SUBJECT = 17, /* token subject */
        VF_EMAIL = 18,
        VF_GROUP = 19, /* identity-provider group, repeated */
        VF_JTI = 20,
        VF_EXP = 21,     /* token expiry, seconds since the epoch */
        VF_SERVICE = 22, /* PAM service */
        VF_TTY = 23,
        VF_RHOST = 24,  /* client address */
        VF_REF = 25,    /* one-time reference, 64 hex */
        VF_HANDLE = 26, /* pam.open's handle for pam.close, 64 hex */
        VF_TOKEN = 27,  /* an OIDC ID token (JWS compact form) */

        VF_ARGV = 32, /* repeated, in order */
        VF_ENV = 33,  /* NAME=VALUE, repeated */
        VF_CWD = 34,
        VF_TERM = 35,
        VF_PTY = 36, /* bool: the single fd is a terminal */
        VF_ROWS = 37,
        VF_COLS = 38,

        VF_SESSION = 48,  /* session id */
        VF_APPROVAL = 49, /* approval request id */
        VF_DECISION = 50, /* "approve" | "deny" */
        VF_REASON = 51,
        VF_SINCE = 52, /* ms since the epoch */
        VF_UNTIL = 53,
        VF_COMMAND = 54, /* a regular expression over command lines */
        VF_HOST = 55,
        VF_LIVE = 56,       /* bool */
        VF_AT = 57,         /* replay start: ms into the session */
        VF_COMMAND_NO = 58, /* replay start: the Nth command */

        VF_ITEM = 64, /* one record as a JSON object (list and stream answers) */
        VF_DATA = 65, /* raw terminal bytes (watch/replay items) */
        VF_TIME = 66, /* ms since the epoch (watch/replay items) */

        VF_MAX_TAG = 80,
};

/* Reply status (VF_STATUS). The numbers are the wire format. */
typedef enum vstatus {
        VS_OK = 0,
        VS_REFUSED = 1,     /* not permitted for this caller, or not in this state */
        VS_INVALID = 2,     /* malformed message or field */
        VS_UNKNOWN = 3,     /* unknown request type */
        VS_UNAVAILABLE = 4, /* not available in this build, or its backend is down */
        VS_LIMIT = 5,       /* too many connections or pending requests */
        VS_TIMEOUT = 6,     /* the request or the client took too long */
        VS_NOTFOUND = 7,    /* unknown, expired or used reference; unknown session */
        VS_FAILED = 8,      /* the backend tried and failed */
        VS_MAX_ = VS_FAILED,
} vstatus;

/** @return the status's name ("refused", ...); never NULL. */
const char *vstatus_name(uint32_t s);

/* Value kinds. */
typedef enum vkind {
        VK_U32,   /* 4 bytes */
        VK_I64,   /* 8 bytes, two's complement */
        VK_BOOL,  /* 1 byte, 0 or 1 */
        VK_TEXT,  /* UTF-8, one line: no C0/C1 controls, DEL, line separators or bidi overrides */
        VK_NAME,  /* local account or group: [A-Za-z0-9_][A-Za-z0-9_.-]*$? */
        VK_ID,    /* [A-Za-z0-9][A-Za-z0-9._:+-]* */
        VK_WORD,  /* [a-z]+ */
        VK_HEX64, /* exactly 64 of [0-9a-f] */
        VK_TOKEN, /* JWS compact: base64url "." base64url "." base64url (the last may be empty) */
        VK_PATH,  /* absolute; no NUL or control bytes (not necessarily UTF-8) */
        VK_TTY,   /* [A-Za-z0-9/_.:-]+ */
        VK_HOST,  /* printable ASCII, no space */
        VK_ARG,   /* any bytes but NUL, may be empty */
        VK_ENV,   /* NAME=VALUE, NAME [A-Za-z_][A-Za-z0-9_]*, no NUL */
        VK_BYTES, /* anything */
} vkind;

typedef struct vmsg_field {
        uint16_t tag;
        uint32_t len;
        const uint8_t *val; /* points into the decoded buffer; not NUL-terminated */
} vmsg_field;

/* A decoded message: views into the buffer it was decoded from, which must
 * outlive it. */
typedef struct vmsg {
        uint16_t type; /* with VT_REPLY / VT_ITEM bits */
        uint32_t id;
        size_t n_fields;
        vmsg_field fields[VMSG_MAX_FIELDS];
} vmsg;

/**
 * vmsg_decode() - check and decode one message.
 *
 * Checks, in order: header (magic, flags, known type and direction), each
 * field's header and bounds within the message, that the tag is allowed for
 * this type and direction and not repeated past its limit, the value's kind
 * and length, required tags, @n_fds against the type's fd bounds, then the
 * type's cross-field rules. Nothing is allocated.
 *
 * @param[in]  buf       the datagram.
 * @param[in]  len       its length; more than VMSG_MAX is refused.
 * @param[in]  n_fds     fds received with it.
 * @param[out] ret       the decoded message; contents unspecified on failure.
 * @param[out] err       VMSG_ERR_MAX bytes; on failure one line saying what is wrong
 *                       (it names fields, never echoes their values). May be NULL.
 * @return 0, or VIGIL_E_PARSE (malformed), VIGIL_E_TOO_BIG (over a bound).
 */
int vmsg_decode(const void *buf, size_t len, size_t n_fds, vmsg *ret, char *err);

/** First field with @tag, or NULL. */
const vmsg_field *vmsg_get(const vmsg *m, uint16_t tag);
/** Next field with @tag after @prev (NULL: the first). */
const vmsg_field *vmsg_next(const vmsg *m, uint16_t tag, const vmsg_field *prev);
/** Number of fields with @tag. */
size_t vmsg_count(const vmsg *m, uint16_t tag);

/* Typed getters. They assume a message that passed vmsg_decode() (kinds and
 * lengths checked). Return 0, or -ENOENT when the tag is absent (then the
 * out-parameter is untouched). */
int vmsg_get_u32(const vmsg *m, uint16_t tag, uint32_t *ret);
int vmsg_get_i64(const vmsg *m, uint16_t tag, int64_t *ret);
int vmsg_get_bool(const vmsg *m, uint16_t tag, bool *ret);
/** Copy a string field out, NUL-terminated; the caller frees. -ENOMEM possible. */
int vmsg_get_str(const vmsg *m, uint16_t tag, char **ret);
/** Copy a field value out as a NUL-terminated string; the caller frees. */
char *vmsg_field_strdup(const vmsg_field *f);

/* ---- building messages ------------------------------------------------ */

/* A message under construction. Errors are sticky: the first failing add
 * is remembered and vmsg_builder_finish() reports it, so callers may add a
 * run of fields and check once. */
typedef struct vmsg_builder {
        uint8_t *buf; /* VMSG_MAX bytes */
        size_t len;
        int err;
} vmsg_builder;

/**
 * vmsg_builder_init() - start a message.
 * @param[out] b     the builder; release with vmsg_builder_done().
 * @param[in]  type  full type (with VT_REPLY/VT_ITEM bits).
 * @param[in]  id    request id.
 * @return 0 or -ENOMEM.
 */
int vmsg_builder_init(vmsg_builder *b, uint16_t type, uint32_t id);

/** Wipe (messages may carry tokens) and free the buffer. Accepts a zeroed builder. */
void vmsg_builder_done(vmsg_builder *b);

/* Append one field. Over VMSG_MAX: VIGIL_E_TOO_BIG (sticky). */
int vmsg_add(vmsg_builder *b, uint16_t tag, const void *val, size_t len);
int vmsg_add_str(vmsg_builder *b, uint16_t tag, const char *s);
int vmsg_add_u32(vmsg_builder *b, uint16_t tag, uint32_t v);
int vmsg_add_i64(vmsg_builder *b, uint16_t tag, int64_t v);
int vmsg_add_bool(vmsg_builder *b, uint16_t tag, bool v);

/**
 * vmsg_builder_finish() - end the message and check it as the receiver will.
 * @param[in]  b      the builder.
 * @param[in]  n_fds  fds that will be sent with it.
 * @param[out] err    VMSG_ERR_MAX bytes for the reason, or NULL.
 * @return 0 when vmsg_decode() would accept it, else the sticky add error or
 *         the decoder's error. The bytes are b->buf, b->len.
 */
int vmsg_builder_finish(vmsg_builder *b, size_t n_fds, char *err);

/* ---- the table of message types --------------------------------------- */

/** @return the request's name as in docs/vigild.md ("session.start", ...), or NULL if unknown. */
const char *vtype_name(uint16_t type);
/** @return the tag's name ("argv", ...), or NULL if unknown. */
const char *vtag_name(uint16_t tag);

/**
 * vtext_valid() - the VK_TEXT rule on its own (also used for config values).
 * @return true when @s[0..len) is valid UTF-8 with no control, line-separator
 *         or bidi-override code point.
 */
bool vtext_valid(const uint8_t *s, size_t len);
