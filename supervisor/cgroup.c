#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "macro.h"
#include "proc-cgroup.h"
#include "util.h"
#include "vigil-error.h"

typedef struct mounts {
        char *v2, *freezer, *pids;
} mounts;

static void mounts_done(mounts *m)
{
        free(m->v2);
        free(m->freezer);
        free(m->pids);
}

static bool has_opt(const char *opts, const char *name)
{
        size_t n = strlen(name);

        for (const char *p = opts; p; p = strchr(p, ',')) {
                if (*p == ',')
                        p++;
                if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        return true;
        }
        return false;
}

/* The cgroup mounts from /proc/self/mountinfo:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". */
static int find_mounts(mounts *ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        mounts m = {0};
        size_t cap = 0;

        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return negative_errno();
        while (getline(&line, &cap, f) > 0) {
                char mp[4096], fstype[64], super[1024];
                const char *dash = strstr(line, " - ");

                if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
                    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
                        continue;
                if (strchr(mp, '\\'))
                        continue; /* an escaped mount point: not one of the usual places */
                if (strcmp(fstype, "cgroup2") == 0 && !m.v2)
                        m.v2 = strdup(mp);
                else if (strcmp(fstype, "cgroup") == 0) {
                        if (has_opt(super, "freezer") && !m.freezer)
                                m.freezer = strdup(mp);
                        if (has_opt(super, "pids") && !m.pids)
                                m.pids = strdup(mp);
                }
        }
        *ret = m;
        return 0;
}

static bool word_in_file(const char *path, const char *word)
{
        char buf[4096];
        size_t n = strlen(word);

        if (read_small_file(path, buf, sizeof(buf), NULL) < 0)
                return false;
        for (char *p = strstr(buf, word); p; p = strstr(p + 1, word))
                if ((p == buf || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

static int mkdir_session(const char *mnt, const char *name, char **ret)
{
        _cleanup_free_ char *parent = NULL, *dir = NULL;

        if (asprintf(&parent, "%s/vigil", mnt) < 0 || asprintf(&dir, "%s/vigil/%s", mnt, name) < 0)
                return -ENOMEM;
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdir(dir, 0755) < 0)
                return negative_errno();
        *ret = TAKE_PTR(dir);
        return 0;
}

static int set_pids_max(const char *dir, unsigned max)
{
        char path[4200], val[16];

        (void)snprintf(path, sizeof(path), "%s/pids.max", dir);
        (void)snprintf(val, sizeof(val), "%u", max);
        return write_knob(path, val);
}

/* v2: pids.max needs the controller enabled in every ancestor's subtree_control. */
static int v2_enable_pids(const char *mnt)
{
        char path[4200];
        int r;

        (void)snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
        if (!word_in_file(path, "pids"))
                return -ENOTSUP;
        (void)snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
        if (!word_in_file(path, "pids")) {
                r = write_knob(path, "+pids");
                if (r < 0)
                        return r;
        }
        (void)snprintf(path, sizeof(path), "%s/vigil", mnt);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        (void)snprintf(path, sizeof(path), "%s/vigil/cgroup.subtree_control", mnt);
        if (!word_in_file(path, "pids"))
                return write_knob(path, "+pids");
        return 0;
}

int session_cgroup_create(const char *name, unsigned pids_max, session_cgroup *ret)
{
        session_cgroup cg = {0};
        mounts m = {0};
        int r;

        r = find_mounts(&m);
        if (r < 0)
                return r;
        if (m.v2) {
                bool pids = v2_enable_pids(m.v2) >= 0;
                char path[4200];

                r = mkdir_session(m.v2, name, &cg.v2);
                if (r < 0)
                        goto fail;
                (void)snprintf(path, sizeof(path), "%s/cgroup.kill", cg.v2);
                if (access(path, W_OK) < 0) {
                        /* before Linux 5.14: no cgroup.kill; use the v1 freezer */
                        (void)rmdir(cg.v2);
                        free(cg.v2);
                        cg.v2 = NULL;
                } else if (pids && set_pids_max(cg.v2, pids_max) >= 0)
                        cg.bounded = true;
        }
        if (!cg.v2) {
                if (!m.freezer) {
                        r = -ENOTSUP;
                        goto fail;
                }
                r = mkdir_session(m.freezer, name, &cg.freezer_v1);
                if (r < 0)
                        goto fail;
        }
        if (!cg.bounded && m.pids) {
                r = mkdir_session(m.pids, name, &cg.pids_v1);
                if (r < 0)
                        goto fail;
                r = set_pids_max(cg.pids_v1, pids_max);
                if (r < 0)
                        goto fail;
                cg.bounded = true;
        }
        mounts_done(&m);
        *ret = cg;
        return 0;
fail:
        mounts_done(&m);
        session_cgroup_destroy(&cg);
        return r;
}

static int attach_one(const char *dir, pid_t pid)
{
        char path[4200], val[16];

        if (!dir)
                return 0;
        (void)snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        (void)snprintf(val, sizeof(val), "%d", (int)pid);
        return write_knob(path, val);
}

pid_t session_cgroup_fork(const session_cgroup *cg, bool *ret_placed)
{
        pid_t pid;

        *ret_placed = false;
        if (cg->v2) {
                _cleanup_close_ int dfd = open(cg->v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct clone_args a = {
                        .flags = CLONE_INTO_CGROUP,
                        .exit_signal = SIGCHLD,
                        .cgroup = (uint64_t)dfd,
                };

                if (dfd >= 0) {
                        pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
                        if (pid >= 0) {
                                *ret_placed = true;
                                return pid;
                        }
                        /* ENOSYS before 5.3, E2BIG/EINVAL before 5.7: fork and move */
                }
        }
        pid = fork();
        return pid < 0 ? negative_errno() : pid;
}

/* Whether @l's path is the session's @dir: both end in "/vigil/<session>".
 * Compared by that end: in a cgroup namespace the two have different roots. */
static bool same_session_dir(const proc_cgroup_line *l, const char *dir)
{
        const char *tail = dir + strlen(dir);
        size_t n;

        for (int slashes = 0; tail > dir; tail--)
                if (tail[-1] == '/' && ++slashes == 2)
                        break;
        if (tail == dir)
                return false;
        n = strlen(tail - 1);
        return l->path_len >= n && memcmp(l->path + l->path_len - n, tail - 1, n) == 0;
}

/* Fail closed: the process is in every cgroup of the session, read back from
 * /proc/PID/cgroup, however it got there. */
static int verify(const session_cgroup *cg, pid_t pid)
{
        char path[64], buf[8192];
        bool v2 = !cg->v2, freezer = !cg->freezer_v1, pids = !cg->pids_v1;
        proc_cgroup_line l;
        ssize_t len;
        size_t pos = 0;
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        r = read_small_file(path, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        while (proc_cgroup_next(buf, (size_t)len, &pos, &l)) {
                if (cg->v2 && l.v2)
                        v2 = same_session_dir(&l, cg->v2);
                else if (cg->freezer_v1 && proc_cgroup_has(&l, "freezer"))
                        freezer = same_session_dir(&l, cg->freezer_v1);
                else if (cg->pids_v1 && proc_cgroup_has(&l, "pids"))
                        pids = same_session_dir(&l, cg->pids_v1);
        }
        return v2 && freezer && pids ? 0 : -ESRCH;
}

int session_cgroup_attach(const session_cgroup *cg, pid_t pid, bool placed)
{
        int r;

        r = placed ? 0 : attach_one(cg->v2, pid);
        if (r >= 0)
                r = attach_one(cg->freezer_v1, pid);
        if (r >= 0)
                r = attach_one(cg->pids_v1, pid);
        if (r >= 0)
                r = verify(cg, pid);
        return r;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};

        (void)nanosleep(&ts, NULL);
}

/* Kill every pid listed in @file; returns how many were listed. */
static int kill_listed(const char *file)
{
        char buf[65536];
        int n = 0, r;

        r = read_small_file(file, buf, sizeof(buf), NULL);
        if (r < 0 && r != VIGIL_E_TOO_BIG)
                return r;
        for (char *p = buf, *end; *p; p = end) {
                long pid = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (pid > 0) {
                        (void)kill((pid_t)pid, SIGKILL);
                        n++;
                }
        }
        return n;
}

static int freezer_kill(const char *dir)
{
        char state[4200], procs[4200], buf[64];

        (void)snprintf(state, sizeof(state), "%s/freezer.state", dir);
        (void)snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
        for (int round = 0; round < 100; round++) {
                int n;

                (void)write_knob(state, "FROZEN");
                for (int i = 0; i < 100; i++) {
                        if (read_small_file(state, buf, sizeof(buf), NULL) >= 0 &&
                            strncmp(buf, "FROZEN", 6) == 0)
                                break;
                        sleep_ms(1);
                }
                n = kill_listed(procs);
                (void)write_knob(state, "THAWED");
                if (n <= 0)
                        return n < 0 ? n : 0;
                sleep_ms(10);
        }
        return -EBUSY;
}

int session_cgroup_kill(const session_cgroup *cg)
{
        char path[4200];

        if (cg->v2) {
                (void)snprintf(path, sizeof(path), "%s/cgroup.kill", cg->v2);
                return write_knob(path, "1");
        }
        if (cg->freezer_v1)
                return freezer_kill(cg->freezer_v1);
        return -ENOTSUP;
}

int session_cgroup_populated(const session_cgroup *cg)
{
        char path[4200], buf[4096];
        const char *p;
        int r;

        if (cg->v2) {
                (void)snprintf(path, sizeof(path), "%s/cgroup.events", cg->v2);
                r = read_small_file(path, buf, sizeof(buf), NULL);
                if (r < 0)
                        return r;
                p = strstr(buf, "populated ");
                return p && p[10] == '1';
        }
        if (cg->freezer_v1) {
                (void)snprintf(path, sizeof(path), "%s/cgroup.procs", cg->freezer_v1);
                r = read_small_file(path, buf, sizeof(buf), NULL);
                if (r == VIGIL_E_TOO_BIG)
                        return 1;
                if (r < 0)
                        return r;
                return buf[0] != '\0';
        }
        return -ENOTSUP;
}

int session_cgroup_tasks(const session_cgroup *cg)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[4200];
        int n = 0, c;

        (void)snprintf(path, sizeof(path), "%s/%s", cg->v2 ? cg->v2 : cg->freezer_v1,
                       cg->v2 ? "cgroup.threads" : "tasks");
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while ((c = getc(f)) != EOF)
                if (c == '\n')
                        n++;
        return n;
}

static void remove_dir(char **dir)
{
        if (!*dir)
                return;
        for (int i = 0; i < 50; i++) {
                if (rmdir(*dir) >= 0 || errno == ENOENT)
                        break;
                if (errno != EBUSY)
                        break;
                sleep_ms(10); /* the last tasks are still leaving */
        }
        free(*dir);
        *dir = NULL;
}

void session_cgroup_destroy(session_cgroup *cg)
{
        remove_dir(&cg->v2);
        remove_dir(&cg->freezer_v1);
        remove_dir(&cg->pids_v1);
        cg->bounded = false;
}
