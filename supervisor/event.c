#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "event.h"
#include "macro.h"
#include "util.h"

const char *cmd_decision_name(cmd_decision d)
{
        switch (d) {
        case CMD_ALLOW:
                return "allow";
        case CMD_DENY:
                return "deny";
        case CMD_AUDIT:
                return "audit";
        case CMD_KILLED:
                return "killed";
        case CMD_HELD:
                return "held";
        case CMD_APPROVED:
                return "approved";
        case CMD_REJECTED:
                return "rejected";
        case CMD_TIMEOUT:
                return "timeout";
        case CMD_WITHDRAWN:
                return "withdrawn";
        }
        return "deny";
}

cmd_event *cmd_event_free(cmd_event *e)
{
        if (!e)
                return NULL;
        free(e->runas);
        free(e->cwd);
        free(e->exe);
        strv_clear(&e->argv);
        free(e->rule);
        free(e);
        return NULL;
}

char *rfc3339_ms(uint64_t us, char buf[static 32])
{
        time_t t = (time_t)(us / 1000000u);
        struct tm tm;
        size_t n;

        if (!gmtime_r(&t, &tm) || (n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 || n > 20)
                n = (size_t)snprintf(buf, 32, "0000-00-00T00:00:00");
        (void)snprintf(buf + n, 32 - n, ".%03uZ", (unsigned)(us / 1000u % 1000u));
        return buf;
}

/* Length of the valid UTF-8 sequence at @p (RFC 3629), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
        unsigned char c = p[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return (p[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

                return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

                return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
        }
        return 0;
}

int utf8_sanitize(const char *s, char **ret)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t len = strlen(s);
        char *out, *o;

        /* each invalid byte becomes 3 bytes at most */
        out = malloc(len * 3 + 1);
        if (!out)
                return -ENOMEM;
        o = out;
        while (*p) {
                size_t n = utf8_seq(p);

                if (n == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        p++;
                        continue;
                }
                memcpy(o, p, n);
                o += n;
                p += n;
        }
        *o = '\0';
        *ret = out;
        return 0;
}

/* A JSON string from any bytes; NULL on allocation failure. */
static json_t *jstr(const char *s)
{
        _cleanup_free_ char *clean = NULL;

        if (!s)
                return json_null();
        if (utf8_sanitize(s, &clean) < 0)
                return NULL;
        return json_string(clean);
}

static int set_new(json_t *o, const char *key, json_t *v)
{
        if (!v)
                return -ENOMEM;
        return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

int event_format_json(const cmd_event *e, const char *session, const char *user, char **ret, size_t *ret_len)
{
        json_t *o = json_object(), *argv = json_array(), *exitv, *dur;
        char tbuf[32], sbuf[16];
        char *text;
        int r = 0;

        if (!o || !argv) {
                json_decref(o);
                json_decref(argv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < e->argv.n && r == 0; i++) {
                json_t *a = jstr(e->argv.v[i]);

                r = a && json_array_append_new(argv, a) == 0 ? 0 : -ENOMEM;
        }
        if (e->exited && e->exec_mono_ns) {
                if (WIFSIGNALED(e->wait_status))
                        exitv = json_string(signal_name(WTERMSIG(e->wait_status), sbuf));
                else
                        exitv = json_integer(WEXITSTATUS(e->wait_status));
                dur = json_integer((json_int_t)((e->exit_mono_ns - e->exec_mono_ns) / 1000000u));
        } else {
                exitv = json_null();
                dur = json_null();
        }

        if (r == 0)
                r = set_new(o, "time", json_string(rfc3339_ms(e->time_us, tbuf)));
        if (r == 0)
                r = set_new(o, "session", jstr(session));
        if (r == 0)
                r = set_new(o, "user", jstr(user));
        if (r == 0)
                r = set_new(o, "pid", json_integer(e->pid));
        if (r == 0)
                r = set_new(o, "ppid", json_integer(e->ppid));
        if (r == 0)
                r = set_new(o, "runas", jstr(e->runas));
        if (r == 0)
                r = set_new(o, "cwd", jstr(e->cwd));
        if (r == 0)
                r = set_new(o, "exe", jstr(e->exe));
        if (r == 0) {
                r = set_new(o, "argv", argv);
                argv = NULL;
        }
        if (r == 0)
                r = set_new(o, "decision", json_string(cmd_decision_name(e->decision)));
        if (r == 0)
                r = set_new(o, "rule", jstr(e->rule ? e->rule : "default"));
        if (r == 0) {
                r = set_new(o, "exit", exitv);
                exitv = NULL;
        }
        if (r == 0) {
                r = set_new(o, "duration_ms", dur);
                dur = NULL;
        }
        if (r == 0 && e->request[0])
                r = set_new(o, "request", jstr(e->request));
        json_decref(argv);
        json_decref(exitv);
        json_decref(dur);
        if (r < 0) {
                json_decref(o);
                return r;
        }
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret = text;
        *ret_len = strlen(text);
        return 0;
}
