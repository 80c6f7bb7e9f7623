/* Reading another process: its memory (the path and argv an execve was
 * called with), its /proc files (status, cwd, cmdline). Every read is
 * bounded. None of this is trusted until the caller has checked, after
 * reading, that the seccomp notification is still valid (the process could
 * have died and its pid been reused) — and what is read from memory can be
 * changed by another thread at any time, which is why the exec is checked
 * again at the exec event (verify.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A NULL-terminated string vector with its count; one allocation per string. */
typedef struct strv {
        char **v; /* v[n] == NULL */
        size_t n;
} strv;

/** Free every string and the vector; leave @sv empty. Accepts an empty strv. */
void strv_clear(strv *sv);
/** Deep copy @n strings of @src into @ret. @return 0 or -ENOMEM. */
int strv_copy(const char *const *src, size_t n, strv *ret);
/** Append a copy of @s. @return 0 or -ENOMEM. */
int strv_push(strv *sv, const char *s);
/** True when both hold the same strings in the same order. */
bool strv_equal(const strv *a, const strv *b);

/**
 * tracee_read_string() - read a NUL-terminated string from @pid's memory.
 * @param[in]  pid      process (or thread) id.
 * @param[in]  addr     address of the first byte in @pid.
 * @param[in]  max      the longest string accepted, without its NUL.
 * @param[out] ret      malloc'd copy the caller frees; untouched on failure.
 * @return 0; -EFAULT when the memory is not readable (as the kernel's own
 *         copy would fail); VIGIL_E_TOO_BIG beyond @max; -ESRCH when the
 *         process is gone; -ENOMEM; other -errno of process_vm_readv.
 */
int tracee_read_string(pid_t pid, uint64_t addr, size_t max, char **ret);

/**
 * tracee_read_argv() - read the argv vector an execve was given.
 * Reads the pointer array up to its NULL, then every string, batching the
 * reads. A NULL @addr gives an empty vector (the kernel accepts it).
 * @param[in]  max_args   most pointers accepted.
 * @param[in]  max_bytes  most bytes accepted, counting each string's NUL.
 * @param[out] ret        the strings; the caller clears it; untouched on failure.
 * @return 0, -EFAULT, VIGIL_E_TOO_BIG, -ESRCH, -ENOMEM.
 */
int tracee_read_argv(pid_t pid, uint64_t addr, size_t max_args, size_t max_bytes, strv *ret);

/* Memory of one request, read ahead: a path and its argv usually lie in
 * the same page or the next, and the argv and its strings on a new stack
 * within a few; one process_vm_readv() for them instead of one per piece. */
#define TRACEE_WINDOW_PAGES 4u

typedef struct tracee_window {
        pid_t pid;
        unsigned pages; /* read ahead this many pages on a miss (at most TRACEE_WINDOW_PAGES); 0: never */
        uint64_t base;
        size_t len; /* bytes of buf that hold the tracee's memory from base */
        unsigned char buf[TRACEE_WINDOW_PAGES * 4096];
} tracee_window;

/** An empty window on @pid's memory that reads @pages ahead on a miss. */
void tracee_window_init(tracee_window *w, pid_t pid, unsigned pages);
/** tracee_read_string() and tracee_read_argv() through @w: what they read
 *  is served from it when it holds it, else read ahead into it. The same
 *  results as theirs. Its contents are one moment's view of the memory:
 *  use a window for one request only. */
int tracee_window_string(tracee_window *w, uint64_t addr, size_t max, char **ret);
int tracee_window_argv(tracee_window *w, uint64_t addr, size_t max_args, size_t max_bytes, strv *ret);

#define TRACEE_MAX_GROUPS 64u

typedef struct tracee_status {
        pid_t tgid, ppid;
        uid_t ruid, euid, fsuid;
        gid_t rgid, egid, fsgid;
        gid_t groups[TRACEE_MAX_GROUPS];
        size_t n_groups;
        bool groups_overflow; /* more than TRACEE_MAX_GROUPS: groups[] is incomplete */
        bool no_new_privs;
        bool complete; /* groups and no_new_privs are known (else only ids) */
} tracee_status;

/**
 * tracee_read_status() - parse /proc/@tid/status.
 * @return 0, -ESRCH/-ENOENT when the task is gone, VIGIL_E_PARSE when a field is missing.
 */
int tracee_read_status(pid_t tid, tracee_status *ret);

/**
 * tracee_read_creds() - the ids of @tid (tgid, ppid, uids, gids) the
 * cheapest way: from a pidfd (Linux 6.13) without building /proc entries
 * for a task that has just been created; else as tracee_read_status().
 * ret->complete says whether groups and no_new_privs came with them.
 * @param[out] ret_pidfd  when @tid leads its thread group, a pidfd for the
 *                        process that the caller takes over; else -1.
 * @return 0, -ESRCH/-ENOENT when the task is gone, VIGIL_E_PARSE.
 */
int tracee_read_creds(pid_t tid, tracee_status *ret, int *ret_pidfd);

/** Fill in groups and no_new_privs when @st is not complete. @return 0 or -errno. */
int tracee_complete(pid_t tid, tracee_status *st);

/**
 * tracee_read_link() - readlink /proc/@tid/@name ("cwd", "exe", "root").
 * @param[out] ret  malloc'd target; a deleted target keeps the kernel's " (deleted)" suffix.
 * @return 0 or -errno.
 */
int tracee_read_link(pid_t tid, const char *name, char **ret);

/**
 * tracee_read_cmdline() - the argv of @pid's current image, from /proc/@pid/cmdline.
 * Meant for a process stopped at its exec event, before the new image ran any
 * code (afterwards a process may rewrite it).
 * @return 0, VIGIL_E_TOO_BIG beyond @max_bytes, -errno.
 */
int tracee_read_cmdline(pid_t pid, size_t max_bytes, strv *ret);
