#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "config.h"

/* "name=VALUE" with an absolute VALUE, given at most once. */
static int path_arg(const char *arg, size_t prefix_len, const char **slot, const char **ret_why)
{
        const char *v = arg + prefix_len;

        if (*slot) {
                *ret_why = "given twice";
                return -EINVAL;
        }
        if (v[0] != '/') {
                *ret_why = "needs an absolute path";
                return -EINVAL;
        }
        *slot = v;
        return 0;
}

int pv_args_parse(int argc, const char **argv, pv_args *ret, const char **ret_bad, const char **ret_why)
{
        pv_args a = { .mode = PV_MODE_LOGIN };
        bool seen_sudo = false, seen_debug = false;

        for (int i = 0; i < argc; i++) {
                const char *arg = argv[i], *why = NULL;
                int r = 0;

                if (!arg) {
                        why = "is missing";
                        r = -EINVAL;
                } else if (strncmp(arg, "config=", 7) == 0)
                        r = path_arg(arg, 7, &a.config, &why);
                else if (strncmp(arg, "vigild_socket=", 14) == 0)
                        r = path_arg(arg, 14, &a.vigild_socket, &why);
                else if (strncmp(arg, "vigil_shell=", 12) == 0)
                        r = path_arg(arg, 12, &a.vigil_shell, &why);
                else if (strcmp(arg, "sudo") == 0) {
                        if (seen_sudo) {
                                why = "given twice";
                                r = -EINVAL;
                        }
                        seen_sudo = true;
                        a.mode = PV_MODE_SUDO;
                } else if (strcmp(arg, "debug") == 0) {
                        if (seen_debug) {
                                why = "given twice";
                                r = -EINVAL;
                        }
                        seen_debug = true;
                        a.debug = true;
                } else {
                        why = "is not a pam_vigil argument";
                        r = -EINVAL;
                }
                if (r < 0) {
                        *ret_bad = arg ? arg : "(null)";
                        *ret_why = why;
                        return r;
                }
        }
        if (!a.config)
                a.config = VIGIL_DEFAULT_CONFIG;
        if (!a.vigild_socket)
                a.vigild_socket = VIGILD_SOCKET_PATH;
        if (!a.vigil_shell)
                a.vigil_shell = VIGIL_SBINDIR "/vigil-shell";
        *ret = a;
        return 0;
}
