/* The real shell of a login: vigil.conf's `shell`, or the account's own
 * `shell.USER`, checked before a session is started with it. */
#pragma once

#include <stddef.h>

#include "config/config.h"

/**
 * real_shell_pick() - the shell a login of @user runs under its supervisor.
 * The path comes from vigil.conf (`shell.USER`, else `shell`, else the
 * default /bin/bash) and must be fit to run every login of the account:
 * a regular file (symbolic links followed), executable, owned by root and
 * writable by no one else (whoever could rewrite it would decide what the
 * account's sessions run before any policy sees an execve of theirs).
 * /etc/shells is not consulted: vigil.conf is root's, and the accounts'
 * login shell is vigil-shell, not this one.
 * @param[in]  cfg     the configuration.
 * @param[in]  user    the account.
 * @param[out] ret     on success the path (owned by @cfg); untouched on failure.
 * @param[out] why     on failure a one-line reason naming the vigil.conf line.
 * @param[in]  whylen  size of @why.
 * @return 0; -ENOENT (no such file), -EACCES (not executable, not a regular file),
 *         -EPERM (not root's, or writable by others), or another -errno of stat().
 */
int real_shell_pick(const vigil_config *cfg, const char *user, const char **ret, char *why, size_t whylen);
