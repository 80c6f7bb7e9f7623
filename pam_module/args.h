/* pam_vigil's module arguments (the words after the module path in a
 * /etc/pam.d file), parsed in one pass into an options struct.
 *
 *   config=PATH         vigil.conf to use (absolute; default VIGIL_DEFAULT_CONFIG)
 *   vigild_socket=PATH  vigild's socket (absolute; default VIGILD_SOCKET_PATH)
 *   vigil_shell=PATH    the login shell every account must have for a session
 *                       (absolute; default VIGIL_SBINDIR/vigil-shell)
 *   sudo                escalation stack: the sign-in must carry sudo_group,
 *                       and no login reference is left for a session phase
 *   debug               log each step (LOG_DEBUG)
 *
 * Anything else, an empty or relative path, or an argument given twice is an
 * error: the stack is misconfigured and the module refuses (PAM_SERVICE_ERR). */
#pragma once

#include <stdbool.h>

typedef enum pv_mode {
        PV_MODE_LOGIN, /* sshd, login: identity handed to the session phase */
        PV_MODE_SUDO,  /* sudo: a fresh sign-in with sudo_group, nothing handed on */
} pv_mode;

typedef struct pv_args {
        const char *config;        /* borrowed from argv */
        const char *vigild_socket; /* borrowed from argv */
        const char *vigil_shell;   /* borrowed from argv, or the built-in default */
        pv_mode mode;
        bool debug;
} pv_args;

/**
 * pv_args_parse() - parse the module arguments.
 * @param[in]  argc     as passed to pam_sm_*.
 * @param[in]  argv     as passed to pam_sm_*; the result borrows its strings.
 * @param[out] ret      the options (defaults filled in); untouched on failure.
 * @param[out] ret_bad  on failure, the offending argument (borrowed from @argv).
 * @param[out] ret_why  on failure, a static phrase saying what is wrong with it.
 * @return 0 or -EINVAL.
 */
int pv_args_parse(int argc, const char **argv, pv_args *ret, const char **ret_bad, const char **ret_why);
