/* The session's cgroups: how its processes are found and ended, and the
 * bound on how many there can be.
 *
 * A cgroup v2 directory (vigil/<session> at the top of the hierarchy) holds
 * every process of the session: it is inherited across fork and cannot be
 * left without root. cgroup.kill ends them all at once, forks in flight
 * included. Where the host has no cgroup v2, a v1 freezer does the same:
 * freeze, kill what is listed, thaw, until empty.
 *
 * The pids controller bounds processes per session (pids.max), in v2 where
 * it is enabled there, else in v1. RLIMIT_NPROC cannot: it counts per uid,
 * and sudo inside the session runs as root. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct session_cgroup {
        char *v2;         /* the session's directory in the v2 hierarchy, or NULL */
        char *freezer_v1; /* the session's v1 freezer directory (only without v2), or NULL */
        char *pids_v1;    /* the session's v1 pids directory (when v2 has no pids controller), or NULL */
        bool bounded;     /* a pids.max holds the session */
} session_cgroup;

/**
 * session_cgroup_create() - create the session's cgroups.
 * @param[in]  name      a unique name (the session id).
 * @param[in]  pids_max  the bound on tasks.
 * @return 0; -ENOTSUP when the host has neither cgroup v2 nor a v1 freezer
 *         (a session could not be ended for sure: none starts); -errno.
 *         ret->bounded says whether a pids controller was found.
 */
int session_cgroup_create(const char *name, unsigned pids_max, session_cgroup *ret);

/**
 * session_cgroup_fork() - fork(), with the child created inside the session's
 * v2 cgroup where the kernel can (clone3 with CLONE_INTO_CGROUP, Linux 5.7).
 *
 * Moving a process into a cgroup afterwards (a write to cgroup.procs) takes
 * the kernel's cgroup_threadgroup_rwsem for writing, which first waits for an
 * RCU grace period: 7-25 ms of every session's start on the development VM
 * (bench/supervisor/cgroup-fork). Created there, the child never moves. The
 * v1 hierarchies (freezer, pids) have no such flag: session_cgroup_attach()
 * still moves the child into those.
 *
 * A raw system call (glibc has no clone3 wrapper): call it only while the
 * process is single-threaded, and the child must not use glibc's idea of its
 * own thread id (raise(), pthread_kill(), error-checking mutexes) before it
 * execs. It falls back to fork() when clone3 fails.
 * @param[out] ret_placed  true when the child was created inside the v2 cgroup.
 * @return as fork(): the child's pid in the parent, 0 in the child; or -errno.
 */
pid_t session_cgroup_fork(const session_cgroup *cg, bool *ret_placed);

/** Move @pid into every cgroup of the session (@placed: it is in the v2 one
 * already, session_cgroup_fork()), then read /proc/PID/cgroup back: the
 * session does not start unless the process is in each of them.
 * @return 0, -ESRCH when it is not where it must be, or -errno. */
int session_cgroup_attach(const session_cgroup *cg, pid_t pid, bool placed);

/**
 * session_cgroup_kill() - SIGKILL every process of the session, so that none
 * can escape by forking. v2: one write to cgroup.kill. v1: freeze, kill, thaw,
 * repeated until empty (up to about a second).
 * @return 0 or -errno.
 */
int session_cgroup_kill(const session_cgroup *cg);

/** 1 when processes remain in the session, 0 when none, or -errno. */
int session_cgroup_populated(const session_cgroup *cg);

/** Number of tasks in the session (for the count without a pids controller), or -errno. */
int session_cgroup_tasks(const session_cgroup *cg);

/** Remove the (empty) directories and free the paths. Accepts an empty struct. */
void session_cgroup_destroy(session_cgroup *cg);
