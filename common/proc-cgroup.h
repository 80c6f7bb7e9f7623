/* /proc/PID/cgroup, a line at a time (cgroups(7)): "HIERARCHY:CONTROLLERS:PATH",
 * the v2 line being "0::PATH". One reader for the supervisor's check of a
 * session's first process and for finding which session a process is in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct proc_cgroup_line {
        const char *controllers; /* "pids", "cpu,cpuacct", "name=systemd", "" (v2); not NUL-terminated */
        size_t controllers_len;
        const char *path; /* not NUL-terminated */
        size_t path_len;
        bool v2;
} proc_cgroup_line;

/**
 * proc_cgroup_next() - the next well-formed line of @text from *@pos.
 * Lines without two colons are skipped.
 * @param[in,out] pos  where to start; set past the line returned.
 * @param[out]    ret  the line's parts, pointing into @text.
 * @return true with a line, false at the end of @text.
 */
bool proc_cgroup_next(const char *text, size_t len, size_t *pos, proc_cgroup_line *ret);

/** Whether @l's hierarchy carries the controller @name ("pids", "freezer"). */
bool proc_cgroup_has(const proc_cgroup_line *l, const char *name);

/**
 * proc_cgroup_session() - the session id in a path "/vigil/<id>[/...]": the
 * cgroup of each hierarchy the supervisor puts a session's processes in.
 * @param[out] ret  the id, pointing into the line; not NUL-terminated.
 * @return the id's length, or 0 when the path is not a session's.
 */
size_t proc_cgroup_session(const proc_cgroup_line *l, const char **ret);
