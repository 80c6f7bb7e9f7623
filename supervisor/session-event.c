/* Where command events go: the store (record.c) at the exec and at the
 * exit, and the --events file, one JSON line each, at the end. Before
 * either is recorded the output the session wrote so far is read, so that
 * the output positions the store keeps with the event are right. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sup.h"
#include "vigil-error.h"

void session_event_record(session *s, cmd_event *e)
{
        relay_drain(s);
        record_command(s, e);
}

void session_event_begin(session *s, cmd_event *e)
{
        masking_argv(s, e);
        session_event_record(s, e);
}

void session_event_begin_drained(session *s, cmd_event *e)
{
        masking_argv(s, e);
        record_command(s, e);
}

static int write_line(int fd, const char *text, size_t len)
{
        _cleanup_free_ char *line = malloc(len + 1);
        ssize_t n;

        if (!line)
                return -ENOMEM;
        memcpy(line, text, len);
        line[len] = '\n';
        /* one write: with O_APPEND a line is never interleaved with another writer's */
        do
                n = write(fd, line, len + 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return (size_t)n == len + 1 ? 0 : -ENOSPC;
}

void session_event_end(session *s, cmd_event *e)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (e->stored && e->exited && e->exec_mono_ns) {
                relay_drain(s);
                record_command_exit(s, e);
        }
        if (s->cfg->events_fd >= 0 && !s->events_failed) {
                r = event_format_json(e, s->id, s->acct.name, &text, &len);
                if (r >= 0)
                        r = write_line(s->cfg->events_fd, text, len);
                if (r < 0) {
                        const vigil_record_opts *ro = vigil_policy_record(s->cfg->policy);

                        s->events_failed = true;
                        if (ro->on_failure == VIGIL_RECORD_FAIL_CONTINUE)
                                relay_message(
                                        s, "vigil: cannot write command events (%s); going on without them",
                                        vigil_strerror(r));
                        else {
                                relay_message(s,
                                              "vigil: cannot write command events (%s); ending the session",
                                              vigil_strerror(r));
                                session_end(s, "events");
                        }
                }
        }
        cmd_event_free(e);
}
