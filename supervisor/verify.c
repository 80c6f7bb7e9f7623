/* The check at the exec event. The process is stopped in the kernel after
 * its new image was loaded and before any of it ran; no other thread of it
 * is left (exec ended them). What the kernel executed is now fixed: compare
 * it with what the policy allowed. The file by device and inode (paths can
 * be swapped), argv as the new image has it, and the account it runs as.
 *
 * Reading /proc of a process that has just been created is what costs most
 * here (its entries are built on first use), so the argv comes from the new
 * stack (rsp points at argc, then argv[]) and the credentials from a pidfd,
 * which the supervisor keeps anyway to learn when the process exits. */
#include <errno.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

static int read_stack_argv(tracee_window *w, pid_t pid, strv *ret)
{
        struct user_regs_struct regs;

        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
                return negative_errno();
        tracee_window_init(w, pid, TRACEE_WINDOW_PAGES);
        return tracee_window_argv(w, regs.rsp + sizeof(uint64_t), VIGIL_SESSION_MAX_ARGS,
                                  VIGIL_SESSION_MAX_ARGV_BYTES, ret);
}

/* The effective uid of the new image, or -errno. */
static int image_euid(pid_t pid, int pidfd, uid_t *ret)
{
        pidfd_info_v0 info;
        tracee_status st;
        int r;

        if (pidfd >= 0 && pidfd_get_info(pidfd, PIDFD_INFO_CREDS_, &info) >= 0 && (info.mask & PIDFD_INFO_CREDS_)) {
                *ret = info.euid;
                return 0;
        }
        r = tracee_read_status(pid, &st);
        if (r < 0)
                return r;
        *ret = st.euid;
        return 0;
}

int verify_exec(tracee_window *w, pid_t pid, const exec_plan *p, int pidfd, const char **ret_reason, int *ret_pidfd)
{
        const plan_step *img = &p->steps[p->image];
        strv argv = { 0 };
        struct stat sb;
        char path[64];
        uid_t euid;
        bool same;

        *ret_pidfd = -1;
        (void)snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        if (stat(path, &sb) < 0) {
                *ret_reason = "its executed file cannot be read";
                goto fail;
        }
        if (sb.st_dev != img->dev || sb.st_ino != img->ino) {
                *ret_reason = "the file executed is not the one that was allowed";
                goto fail;
        }
        if (read_stack_argv(w, pid, &argv) < 0) {
                *ret_reason = "its argv cannot be read";
                goto fail;
        }
        same = strv_equal(&argv, &img->argv);
        strv_clear(&argv);
        if (!same) {
                *ret_reason = "its argv is not the one that was allowed";
                goto fail;
        }
        if (pidfd < 0)
                pidfd = pidfd_open_(pid, 0);
        if (image_euid(pid, pidfd, &euid) < 0) {
                *ret_reason = "its credentials cannot be read";
                goto fail;
        }
        if (euid != p->runas_uid) {
                *ret_reason = "it runs as another account than the one judged";
                goto fail;
        }
        *ret_pidfd = pidfd;
        return 0;
fail:
        if (pidfd >= 0)
                (void)close(pidfd);
        return 1;
}
