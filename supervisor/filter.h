/* The session's seccomp filter.
 *
 *   execve, execveat            -> user notification (the supervisor decides)
 *   clone with CLONE_NEWUSER    -> EPERM   (a user namespace allows mount tricks
 *   unshare with CLONE_NEWUSER  -> EPERM    that change what a path means)
 *   setns to a user namespace,
 *     or of unknown type (0)    -> EPERM
 *   clone3                      -> ENOSYS  (its flags are in memory the filter
 *                                           cannot read; libc falls back to clone)
 *   chroot, pivot_root, and clone/unshare/setns with CLONE_NEWNS
 *                               -> user notification: the supervisor notes that
 *                                  roots may differ, and lets the call go on
 *   any other architecture      -> the process is killed (i386 int 0x80, x32)
 *   everything else             -> allowed
 *
 * It is loaded by the session's first process while it is still root, so
 * that no_new_privs is not needed (it would stop sudo), and is inherited by
 * every descendant; nobody in the session can remove it. */
#pragma once

#include <linux/filter.h>

/**
 * filter_build() - compile the filter.
 * @param[out] ret  the BPF program; free ret->filter with free().
 * @return 0, -ENOMEM, or the -errno of libseccomp.
 */
int filter_build(struct sock_fprog *ret);

/**
 * filter_load() - install @prog in the calling thread with a new listener,
 * where received notifications wait killable-only (a signal does not turn
 * them into a new request while the supervisor decides).
 * Needs CAP_SYS_ADMIN (no_new_privs is deliberately not set).
 * @param[out] ret_listener  the notification fd (close-on-exec).
 * @return 0 or -errno.
 */
int filter_load(const struct sock_fprog *prog, int *ret_listener);
