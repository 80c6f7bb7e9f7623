/* A decision from start to end, and the lines that explain a refusal. The
 * lines travel through vigild's one-line errors (at most a few hundred
 * bytes of protocol text): every name in them is cut and cleaned here. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approvers.h"
#include "macro.h"
#include "store.h"
#include "vigil-error.h"

#define NAME_MAX_SHOWN 64u
#define LIST_MAX_SHOWN 100u /* approvers= */
#define WHY_MAX 360u        /* bytes of a message: it must fit in a vigild refusal line */
#define REASON_MAX 1024u

/* The length of the valid UTF-8 character at @s (at most @n bytes) and its
 * code point, or 0 when the bytes there are not one. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *ret)
{
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                len = 1, cp = s[0];
        else if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1fu;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0fu;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07u;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return len;
}

/* @s as printable one-line text of at most @max bytes (cut on a character
 * boundary, "..." added). Control characters (C0, DEL, C1), invalid UTF-8,
 * line separators and bidirectional controls become '?': the line may be
 * shown on a terminal and must pass vigild's text rule. */
static void put(FILE *f, const char *s, size_t max)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t n = strlen((const char *)p), i = 0;

        while (i < n) {
                uint32_t cp = 0;
                size_t l = utf8_char(p + i, n - i, &cp);

                if (i + (l ? l : 1) > max) {
                        fputs("...", f);
                        return;
                }
                if (l == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
                    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
                    cp == 0x200f || cp == 0x061c || cp == 0xfeff)
                        fputc('?', f);
                else
                        fwrite(p + i, 1, l, f);
                i += l ? l : 1;
        }
}

static char *finish(FILE *f, char **buf)
{
        if (fclose(f) != 0) {
                free(*buf);
                return NULL;
        }
        return *buf;
}

/* "subject 'bob' (via session, groups dev, ops), local account 'bob'" */
static void put_who(FILE *f, const vigil_approver_who *who)
{
        if (who->subject) {
                size_t shown = 0;

                fputs("subject '", f);
                put(f, who->subject, NAME_MAX_SHOWN);
                fprintf(f, "' (via %s, groups ", who->via ? who->via : "?");
                for (size_t i = 0; i < who->n_groups && shown < 120; i++) {
                        if (i)
                                fputs(", ", f);
                        if (i == 8 || (i > 0 && shown > 100)) {
                                fprintf(f, "and %zu more", who->n_groups - i);
                                break;
                        }
                        put(f, who->groups[i], 40);
                        shown += strlen(who->groups[i]) + 2;
                }
                if (!who->n_groups)
                        fputs("none", f);
                fputs("), ", f);
        }
        if (who->local) {
                fputs("local account '", f);
                put(f, who->local, NAME_MAX_SHOWN);
                fputc('\'', f);
        } else
                fprintf(f, "uid %u without an account", (unsigned)who->uid);
}

char *vigil_approver_refusal(const vigil_approval *a, const vigil_approver_who *who,
                             vigil_approver_verdict v)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        switch (v) {
        case VIGIL_APPROVER_NONE_NAMED:
                fputs("not allowed: the rule ", f);
                put(f, a->rule ? a->rule : "?", 200);
                fputs(" names no approvers=, so nobody may decide this request (it is refused when it "
                      "times out)",
                      f);
                break;
        case VIGIL_APPROVER_SELF:
                fputs("not allowed: you made this request (four-eyes: ", f);
                if (who->subject && a->subject && strcmp(who->subject, a->subject) == 0) {
                        fputs("same identity-provider subject '", f);
                        put(f, who->subject, NAME_MAX_SHOWN);
                } else {
                        fputs("same local account '", f);
                        put(f, a->user, NAME_MAX_SHOWN);
                }
                fputs("')", f);
                break;
        case VIGIL_APPROVER_SIGN_IN:
                fputs(VIGIL_APPROVER_SIGN_IN_PREFIX "approvers=", f);
                put(f, a->approvers, LIST_MAX_SHOWN);
                fputs(" names identity-provider groups or users, and you are known only as ", f);
                put_who(f, who);
                break;
        case VIGIL_APPROVER_NOT_NAMED:
                fputs("not allowed: approvers=", f);
                put(f, a->approvers, LIST_MAX_SHOWN);
                fputs(" does not name you (", f);
                put_who(f, who);
                fputc(')', f);
                break;
        case VIGIL_APPROVER_BY_IDENTITY:
        case VIGIL_APPROVER_BY_LOCAL:
                fputs("allowed", f);
                break;
        }
        return finish(f, &buf);
}

static void put_time(FILE *f, int64_t ms)
{
        char t[32];

        vigil_format_time(ms > 0 ? (uint64_t)ms * 1000u : 0, t);
        fputs(t, f);
}

char *vigil_approval_decided_text(const vigil_approval *a)
{
        const vigil_approver_id *by = &a->decided_by;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        switch (a->state) {
        case VIGIL_APPROVAL_PENDING:
                fputs("pending", f);
                return finish(f, &buf);
        case VIGIL_APPROVAL_APPROVED:
        case VIGIL_APPROVAL_REJECTED:
                fputs(a->state == VIGIL_APPROVAL_APPROVED ? "approved" : "rejected", f);
                break;
        case VIGIL_APPROVAL_TIMEOUT:
                fputs("timed out", f);
                break;
        case VIGIL_APPROVAL_WITHDRAWN:
                fputs("withdrawn", f);
                break;
        case _VIGIL_APPROVAL_STATE_MAX:
        default:
                fputs("in an unknown state", f);
                break;
        }
        if (by->subject || by->local) {
                fputs(" by ", f);
                if (by->subject) {
                        fputs("subject '", f);
                        put(f, by->subject, NAME_MAX_SHOWN);
                        fputs("' ", f);
                }
                if (by->local) {
                        fputs("local account '", f);
                        put(f, by->local, NAME_MAX_SHOWN);
                        fputs("' ", f);
                }
                fputs("(via ", f);
                put(f, by->via ? by->via : "?", 16);
                fputc(')', f);
        }
        if (a->decided_ms) {
                fputs(" at ", f);
                put_time(f, a->decided_ms);
        }
        if (a->reason && *a->reason) {
                fputs(": ", f);
                put(f, a->reason, 160);
        }
        return finish(f, &buf);
}

/* One line of text a denial may carry: what the store and vigild's
 * protocol accept (no control characters, at most 1024 bytes). */
static bool reason_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > REASON_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* The message for the person who asked, cut to WHY_MAX bytes on a
 * character boundary: the same text whichever door it leaves by. */
static int why(char **ret, int r, const char *fmt, ...) _printf_(3, 4);
static int why(char **ret, int r, const char *fmt, ...)
{
        va_list ap;
        size_t n;

        if (!ret)
                return r;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
        if (*ret && strlen(*ret) > WHY_MAX) {
                n = WHY_MAX - 3;
                while (n > 0 && ((unsigned char)(*ret)[n] & 0xc0) == 0x80)
                        n--;
                memcpy(*ret + n, "...", 4);
        }
        return r;
}

static int already(const vigil_approval *a, char **ret_why)
{
        _cleanup_free_ char *t = vigil_approval_decided_text(a);

        return why(ret_why, -EALREADY, "request %s was already decided: %s", a->id, t ? t : "?");
}

/* Is the supervisor that holds @a still running (same boot, pid and start
 * time)? The store's own test for writers, which vigil_approvals_reap()
 * applies to requests too. */
static bool owner_alive(const vigil_approval *a)
{
        vigil_session_info i = { .writer_pid = a->owner_pid, .writer_start = a->owner_start };

        memcpy(i.boot_id, a->owner_boot, sizeof i.boot_id);
        return vigil_session_writer_alive(&i);
}

int vigil_approver_decide(vigil_store *st, const vigil_decision_req *d, const vigil_approver_who *who,
                          vigil_approval **ret, char **ret_why)
{
        char id[VIGIL_APPROVAL_ID_LEN + 1];
        vigil_approval *a = NULL, *after = NULL;
        vigil_approver_verdict v;
        vigil_approver_id by;
        _cleanup_free_ char *entry = NULL;
        struct timespec ts;
        int64_t now = d->now_ms;
        int r;

        if (ret_why)
                *ret_why = NULL;
        if (!d->id || !vigil_approval_id_normalize(d->id, id))
                return why(ret_why, -EINVAL,
                           "'%s' is not a request id (4 to %u characters of 0-9 and a-z "
                           "without u)",
                           d->id ? (strlen(d->id) > 16 ? "(too long)" : d->id) : "", VIGIL_APPROVAL_ID_LEN);
        if (!d->approve && !d->reason)
                return why(ret_why, -EINVAL, "a denial needs a reason (--reason)");
        if (d->reason && !reason_ok(d->reason))
                return why(ret_why, -EINVAL, "the reason must be one line of 1 to %u bytes", REASON_MAX);
        if (now <= 0) {
                (void)clock_gettime(CLOCK_REALTIME, &ts);
                now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        }

        r = vigil_approval_get(st, id, &a);
        if (r == 0 && a->state == VIGIL_APPROVAL_PENDING && !owner_alive(a)) {
                /* Its supervisor is gone and holds nothing: reject it as lost
                 * (with every other such request) before anyone approves a
                 * command no process waits for, then read it again. */
                (void)vigil_approvals_reap(st, NULL, NULL);
                a = vigil_approval_free(a);
                r = vigil_approval_get(st, id, &a);
        }
        if (r == -ENOENT)
                return why(ret_why, r, "no approval request '%s'", id);
        if (r == -EEXIST)
                return why(ret_why, r, "request prefix '%s' is ambiguous; give more of the id", id);
        if (r < 0)
                return why(ret_why, r, "cannot read request '%s': %s", id, vigil_strerror(r));
        if (a->state != VIGIL_APPROVAL_PENDING) {
                r = already(a, ret_why);
                goto out;
        }
        if (now >= a->expires_ms) {
                char t[32];

                vigil_format_time((uint64_t)a->expires_ms * 1000u, t);
                r = why(ret_why, -ETIME, "request %s expired at %s; its session refuses the command", a->id,
                        t);
                goto out;
        }
        r = vigil_approver_judge(a, who, &v, &entry);
        if (r < 0)
                goto out;
        if (!vigil_approver_allowed(v)) {
                _cleanup_free_ char *t = vigil_approver_refusal(a, who, v);

                r = why(ret_why, v == VIGIL_APPROVER_SIGN_IN ? -ENOKEY : -EPERM, "%s",
                        t ? t : "not allowed");
                goto out;
        }
        vigil_approver_id_of(who, v, &by);
        r = vigil_approval_decide(st, a->id, d->approve ? VIGIL_APPROVAL_APPROVED : VIGIL_APPROVAL_REJECTED,
                                  &by, d->reason);
        if (r == -EALREADY) {
                /* someone (or the deadline) was first: say who */
                if (vigil_approval_get(st, a->id, &after) == 0)
                        r = already(after, ret_why);
                else
                        r = why(ret_why, -EALREADY, "request %s was already decided", a->id);
                goto out;
        }
        if (r == -EPERM) {
                r = why(ret_why, r, "not allowed: you made this request (four-eyes)");
                goto out;
        }
        if (r < 0) {
                r = why(ret_why, r, "cannot record the decision on %s: %s", a->id, vigil_strerror(r));
                goto out;
        }
        if (vigil_approval_get(st, a->id, &after) < 0) {
                /* decided: answer with what we know rather than an error */
                a->state = d->approve ? VIGIL_APPROVAL_APPROVED : VIGIL_APPROVAL_REJECTED;
                a->decided_ms = now;
                *ret = TAKE_PTR(a);
                return 0;
        }
        *ret = TAKE_PTR(after);
        r = 0;
out:
        vigil_approval_free(after);
        vigil_approval_free(a);
        return r;
}
