/* The session's first process, from fork to exec (child.c). */
#pragma once

#include <sys/types.h>

#include "sup.h"

/* What the child reports to the supervisor before it may go on. */
typedef struct child_report {
        int error; /* 0, or the -errno of the step that failed */
        char what[64];
} child_report;

/**
 * child_run() - set up and exec the session's command. Never returns.
 * Before the supervisor's "go" (read on @sock), failures are reported on
 * @sock; after it, on the session's stderr, with exit status 125 (setup),
 * 126 (cannot execute, denied included) or 127 (not found).
 */
_noreturn_ void child_run(session *s, int sock, pid_t supervisor);

/**
 * child_drop_privileges() - become @a for good: supplementary groups, then
 * gid, then uid, each verified afterwards, and setuid(0) must then fail.
 * @return 0 or -errno (-EPERM when a check fails).
 */
int child_drop_privileges(const account *a);

/**
 * child_env() - the login-like environment: HOME, USER, LOGNAME, SHELL, PATH
 * (with the sbin directories for root), and TERM when @term is given.
 * @param[out] ret  NULL-terminated, malloc'd strings; free with child_env_free().
 * @return 0 or -ENOMEM.
 */
int child_env(const account *a, const char *term, char ***ret);
void child_env_free(char **env);

/**
 * child_env_merge() - add @extra (NAME=VALUE strings, NULL-terminated; may be
 * NULL) to @env from child_env(): a NAME already there is replaced, others
 * are appended; entries without '=' are ignored.
 * @return 0 or -ENOMEM (then *env is still a valid list for child_env_free()).
 */
int child_env_merge(char ***env, char *const *extra);

/**
 * child_exec_search() - execve @argv[0], searched along @path when it has no
 * '/', like execvp(3): a file that is not executable is skipped, a file of
 * no known format runs with /bin/sh.
 * @return the errno of the failure (it returns only on failure).
 */
int child_exec_search(char *const *argv, char *const *env, const char *path);
