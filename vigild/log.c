#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The daemon's single log sink (vigild is one process with one thread). */
static struct {
        int fd; /* file or stderr; -1 for syslog */
        bool syslog;
        time_t window;
        unsigned in_window, suppressed;
} sink = { .fd = STDERR_FILENO };

int log_setup(const char *file, bool force_stderr)
{
        struct stat st;

        if (file) {
                int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

                if (fd < 0)
                        return negative_errno();
                sink.fd = fd;
                sink.syslog = false;
                return 0;
        }
        if (!force_stderr && stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode)) {
                openlog("vigild", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
                sink.syslog = true;
                sink.fd = -1;
                return 0;
        }
        sink.fd = STDERR_FILENO;
        return 0;
}

void log_close(void)
{
        if (sink.syslog)
                closelog();
        else if (sink.fd > STDERR_FILENO)
                (void)close(sink.fd);
        sink.fd = STDERR_FILENO;
        sink.syslog = false;
}

static const char *prio_name(int prio)
{
        switch (prio) {
        case LOG_EMERG:
        case LOG_ALERT:
        case LOG_CRIT:
        case LOG_ERR:
                return "error";
        case LOG_WARNING:
                return "warning";
        case LOG_NOTICE:
                return "notice";
        default:
                return "info";
        }
}

static void emit(int prio, const char *fmt, va_list ap)
{
        char line[1024], stamp[40];
        struct timespec ts;
        struct tm tm;
        int n, k;

        if (sink.syslog) {
                vsyslog(prio, fmt, ap);
                return;
        }
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        n = snprintf(line, sizeof line, "%s.%03ldZ vigild[%d]: %s: ", stamp, ts.tv_nsec / 1000000,
                     (int)getpid(), prio_name(prio));
        if (n < 0)
                return;
        k = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        if (k < 0)
                return;
        n = (size_t)n + (size_t)k >= sizeof line - 1 ? (int)sizeof line - 2 : n + k;
        line[n++] = '\n';
        /* One write per line keeps lines whole in a file several writers share. */
        (void)!write(sink.fd, line, (size_t)n);
}

void vlog(int prio, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap);
        va_end(ap);
}

static void say_suppressed(void)
{
        if (sink.suppressed) {
                vlog(LOG_WARNING, "%u more client messages were not logged (more than %d per second)",
                     sink.suppressed, VLOG_BURST);
                sink.suppressed = 0;
        }
}

void vlog_limited(int prio, const char *fmt, ...)
{
        struct timespec ts;
        va_list ap;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ts.tv_sec != sink.window) {
                sink.window = ts.tv_sec;
                sink.in_window = 0;
                say_suppressed();
        }
        if (sink.in_window >= VLOG_BURST) {
                sink.suppressed++;
                return;
        }
        sink.in_window++;
        va_start(ap, fmt);
        emit(prio, fmt, ap);
        va_end(ap);
}
