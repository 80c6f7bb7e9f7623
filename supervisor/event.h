/* Command events: one per exec attempt that is a command (executed, denied
 * or killed; a PATH lookup that finds nothing is not one). Formatting is
 * pure; emitting is in session-event.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracee.h"

typedef enum cmd_decision {
        CMD_ALLOW,
        CMD_DENY,
        CMD_AUDIT,
        CMD_KILLED,
        /* a hold (issue 9): held while its request waits, then the outcome */
        CMD_HELD,
        CMD_APPROVED,
        CMD_REJECTED,
        CMD_TIMEOUT,
        CMD_WITHDRAWN,
} cmd_decision;

/** "allow", "deny", "audit", "killed", "held", "approved", "rejected", "timeout", "withdrawn". */
const char *cmd_decision_name(cmd_decision d);

typedef struct cmd_event {
        uint64_t time_us;      /* wall clock of the attempt (the notification) */
        uint64_t exec_mono_ns; /* monotonic time of the exec; 0 when it did not happen */
        pid_t pid, ppid;
        char *runas;
        char *cwd;
        char *exe; /* NULL for a fileless exec */
        strv argv;
        cmd_decision decision;
        char *rule;  /* "FILE:LINE" or "default" */
        bool exited; /* wait_status and duration_ms are known */
        int wait_status;
        uint64_t exit_mono_ns;
        char request[9];   /* a held command's approval request id (remember=session: the
                            * earlier request that approved it), or "" */
        uint32_t store_no; /* its number in the store, when stored */
        bool stored;
        struct cmd_event *next; /* the process's other open events */
} cmd_event;

/** Free everything @e owns and @e itself. Accepts NULL; returns NULL. */
cmd_event *cmd_event_free(cmd_event *e);

/**
 * rfc3339_ms() - format @us (µs since the epoch) as "2025-01-31T12:34:56.789Z".
 * @return @buf.
 */
char *rfc3339_ms(uint64_t us, char buf[static 32]);

/**
 * utf8_sanitize() - a copy of @s in which every byte that is not part of a
 * valid UTF-8 sequence (overlong forms and surrogates included) is replaced
 * by U+FFFD, so that JSON can carry it.
 * @param[out] ret  malloc'd; the caller frees it.
 * @return 0 or -ENOMEM.
 */
int utf8_sanitize(const char *s, char **ret);

/**
 * event_format_json() - one JSON object (no newline) with the fields time,
 * session, user, pid, ppid, runas, cwd, exe, argv, decision, rule, exit,
 * duration_ms, in that order, and for a held command request (the approval
 * request's id) at the end. exit is the exit code, or the name of the
 * killing signal ("SIGKILL"), or null when the exec did not happen (or its
 * end is unknown); duration_ms likewise.
 * @param[out] ret      malloc'd text the caller frees.
 * @param[out] ret_len  its length.
 * @return 0 or -ENOMEM.
 */
int event_format_json(const cmd_event *e, const char *session, const char *user, char **ret,
                      size_t *ret_len);
