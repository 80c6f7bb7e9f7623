/* How `vigil approvals` shows a request. Everything that came from the
 * requester's side (argv, cwd, environment, screen, names) goes through
 * escape.h: an approver's terminal must not be steered by what they review. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals-cli.h"
#include "approvers.h"
#include "escape.h"
#include "store-cli.h"

#define SCREEN_LINES 24

static void put_duration(FILE *f, int64_t ms)
{
        char buf[32];

        cli_format_duration(ms > 0 ? (uint64_t)ms * 1000u : 0, buf);
        fputs(buf, f);
}

static void put_time(FILE *f, int64_t ms)
{
        char buf[32];

        vigil_format_time(ms > 0 ? (uint64_t)ms * 1000u : 0, buf);
        fputs(buf, f);
}

static void put_left(FILE *f, const vigil_approval *a, int64_t now_ms)
{
        if (a->expires_ms > now_ms) {
                fputs("expires in ", f);
                put_duration(f, a->expires_ms - now_ms);
        } else
                fputs("expired", f);
}

void cli_approval_print_line(FILE *f, const vigil_approval *a, int64_t now_ms)
{
        fprintf(f, "%s  age ", a->id);
        put_duration(f, now_ms - a->created_ms);
        fputs("  ", f);
        put_left(f, a, now_ms);
        fputs("  ", f);
        cli_put_str(f, a->user);
        fprintf(f, "  session %.8s  approvers=", a->session);
        if (a->approvers)
                cli_put_str(f, a->approvers);
        else
                fputs("(none: nobody may decide)", f);
        fputs("  ", f);
        cli_put_argv(f, a->argv, a->argc);
        fputc('\n', f);
}

static void put_groups(FILE *f, char *const *groups, size_t n)
{
        if (!n) {
                fputs("none", f);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (i)
                        fputs(", ", f);
                cli_put_str(f, groups[i]);
        }
}

/* The last SCREEN_LINES lines of what the session showed. */
static void put_screen(FILE *f, const char *screen)
{
        size_t len = strlen(screen), start = len;
        unsigned lines = 0;

        while (start > 0) {
                if (screen[start - 1] == '\n' && start != len && ++lines == SCREEN_LINES)
                        break;
                start--;
        }
        cli_put_text(f, screen + start, len - start, true);
        if (len == 0 || screen[len - 1] != '\n')
                fputc('\n', f);
}

void cli_approval_print_full(FILE *f, const vigil_approval *a, int64_t now_ms)
{
        const char *state = vigil_approval_state_name(a->state);

        fprintf(f, "request    %s (%s", a->id, state ? state : "?");
        if (a->state == VIGIL_APPROVAL_PENDING) {
                fputs("; ", f);
                put_left(f, a, now_ms);
        }
        fputs(")\n", f);
        fprintf(f, "session    %s (command %u); watch it live: vigil watch %s\n", a->session, a->command_no,
                a->session);
        fputs("user       ", f);
        cli_put_str(f, a->user);
        if (a->host) {
                fputs(" on ", f);
                cli_put_str(f, a->host);
        }
        fputs("\nidentity   ", f);
        if (a->subject) {
                fputs("subject '", f);
                cli_put_str(f, a->subject);
                fputc('\'', f);
                if (a->email) {
                        fputs(", email ", f);
                        cli_put_str(f, a->email);
                }
                fputs(", groups ", f);
                put_groups(f, a->groups, a->n_groups);
        } else
                fputs("none (a session without a token)", f);
        fputs("\ncommand    ", f);
        cli_put_argv(f, a->argv, a->argc);
        fputs("\nexe        ", f);
        if (a->exe)
                cli_put_str(f, a->exe);
        else
                fputs("(none: a fileless exec)", f);
        fputs("\nrunas      ", f);
        cli_put_str(f, a->runas ? a->runas : "?");
        fputs("\ncwd        ", f);
        cli_put_str(f, a->cwd ? a->cwd : "?");
        fputs("\nenv        ", f);
        if (!a->n_env)
                fputs("(nothing differs from a login default)", f);
        for (size_t i = 0; i < a->n_env; i++) {
                if (i)
                        fputs("\n           ", f);
                cli_put_str(f, a->env[i]);
        }
        fputs("\nrule       ", f);
        cli_put_str(f, a->rule ? a->rule : "?");
        if (a->remember)
                fputs(" (remember=session)", f);
        fputs("\napprovers  ", f);
        if (a->approvers)
                cli_put_str(f, a->approvers);
        else
                fputs("(none: nobody may decide; it is refused when it times out)", f);
        fputs("\ncreated    ", f);
        put_time(f, a->created_ms);
        fputs(" (", f);
        put_duration(f, now_ms - a->created_ms);
        fputs(" ago)\nexpires    ", f);
        put_time(f, a->expires_ms);
        fputc('\n', f);
        if (a->state != VIGIL_APPROVAL_PENDING) {
                _cleanup_free_ char *t = vigil_approval_decided_text(a);

                fputs("decision   ", f);
                cli_put_str(f, t ? t : "?");
                fputc('\n', f);
        }
        fputs("\nlast screenful of the session's output (control characters escaped):\n"
              "--------------------------------------------------------------------------------\n",
              f);
        put_screen(f, a->screen ? a->screen : "");
        fputs("--------------------------------------------------------------------------------\n", f);
}

int cli_approval_print_json(FILE *f, const vigil_approval *a)
{
        _cleanup_free_ char *json = NULL;
        int r = vigil_approval_to_json(a, false, &json);

        if (r < 0)
                return r;
        fputs(json, f);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}
