/* The check at the exec event. The process is stopped in the kernel after
 * its new image was loaded and before any of it ran; no other thread of it
 * is left (exec ended them). What the kernel executed is now fixed: compare
 * it with what the policy allowed. The file by device and inode (paths can
 * be swapped), argv as the new image has it, and the account it runs as. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sup.h"

int verify_exec(pid_t pid, const exec_plan *p, const char **ret_reason)
{
        const plan_step *img = &p->steps[p->image];
        tracee_status st;
        strv argv = {0};
        struct stat sb;
        char path[64];
        bool same;

        (void)snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        if (stat(path, &sb) < 0) {
                *ret_reason = "its executed file cannot be read";
                return 1;
        }
        if (sb.st_dev != img->dev || sb.st_ino != img->ino) {
                *ret_reason = "the file executed is not the one that was allowed";
                return 1;
        }
        if (tracee_read_cmdline(pid, VIGIL_SESSION_MAX_ARGV_BYTES, &argv) < 0) {
                *ret_reason = "its argv cannot be read";
                return 1;
        }
        same = strv_equal(&argv, &img->argv);
        strv_clear(&argv);
        if (!same) {
                *ret_reason = "its argv is not the one that was allowed";
                return 1;
        }
        /* /proc/PID belongs to the effective uid of a dumpable process, to
         * root otherwise (after a set-user-ID exec, or of an unreadable
         * file): a non-root owner there is the effective uid for sure, and
         * saves reading the status; root could be either. */
        (void)snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        if (p->runas_uid != 0 && stat(path, &sb) == 0 && sb.st_uid == p->runas_uid)
                return 0;
        if (tracee_read_status(pid, &st) < 0) {
                *ret_reason = "its credentials cannot be read";
                return 1;
        }
        if (st.euid != p->runas_uid) {
                *ret_reason = "it runs as another account than the one judged";
                return 1;
        }
        return 0;
}
