/* How findings reach the administrator: text for people, JSON lines for machines. */
#define _GNU_SOURCE /* vasprintf */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "doctor.h"

char *doctor_fmt(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

void doctor_finding(doctor_ctx *c, const char *check, const char *fix, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                msg = NULL;
        if (!fix)
                fix = "see docs/doctor.md";
        c->n_findings++;

        if (c->json) {
                json_t *o = json_pack("{s:s, s:s, s:s}", "check", check, "message", msg ? msg : "out of memory",
                                      "fix", fix);
                char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

                /* A finding that cannot be printed still counts (exit 1). */
                if (line)
                        printf("%s\n", line);
                free(line);
                json_decref(o);
        } else
                printf("%s: %s\n  fix: %s\n", check, msg ? msg : "out of memory", fix);
        (void)fflush(stdout);
}

void doctor_note(const doctor_ctx *c, const char *fmt, ...)
{
        va_list ap;

        (void)c;
        fputs("vigil doctor: note: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
