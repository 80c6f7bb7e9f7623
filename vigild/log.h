/* vigild's log: syslog (LOG_AUTHPRIV) when /dev/log exists, else stderr;
 * or a file (--log-file, for tests and hosts without syslog). One line per
 * event; nothing a client sent is logged unless it passed validation. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/**
 * log_setup() - choose the sink.
 * @param[in] file          append to this file (created 0600) instead of syslog/stderr; may be NULL.
 * @param[in] force_stderr  use stderr even when /dev/log exists.
 * @return 0 or -errno from opening @file.
 */
int log_setup(const char *file, bool force_stderr);
void log_close(void);

/** Log one line at @prio (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO). */
void vlog(int prio, const char *fmt, ...) _printf_(2, 3);

/**
 * vlog_limited() - log a line caused by a client (refusals, garbage), at most
 * VLOG_BURST per second; the rest is counted and reported as one line when
 * logging resumes, so a hostile client cannot flood the log.
 */
void vlog_limited(int prio, const char *fmt, ...) _printf_(2, 3);

#define VLOG_BURST 50
