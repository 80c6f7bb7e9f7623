/* What putting a session's first process into its cgroup costs, three ways,
 * interleaved, a pause between rounds (as between session starts):
 *   fork             fork() alone (the anchor)
 *   fork+move        fork(), then the pid written to the new cgroup's
 *                    cgroup.procs (how vigil did it)
 *   clone-into       clone3(CLONE_INTO_CGROUP): created inside it (vigil now,
 *                    supervisor/cgroup.c)
 * Each time from the call until the parent has the child where it must be.
 * A move takes cgroup_threadgroup_rwsem for writing, which first waits for an
 * RCU grace period unless another move happened just before: hence the pause.
 * Usage: build/bench/supervisor/bench-cgroup-fork [ROUNDS] [PAUSE_MS]
 * Root; needs a cgroup v2 mount; makes and removes vigil-bench-PID there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int v2_mount(char *buf, size_t size)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096], mp[4096], fs[64];

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                const char *dash = strstr(line, " - ");

                if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && sscanf(dash + 3, "%63s", fs) == 1 &&
                    strcmp(fs, "cgroup2") == 0) {
                        snprintf(buf, size, "%s", mp);
                        fclose(f);
                        return 0;
                }
        }
        fclose(f);
        return -1;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One round of @mode in a fresh cgroup @dir. @return ms, or -1. */
static double one(int mode, const char *dir)
{
        char procs[4400], val[32];
        double t0, t;
        pid_t pid;
        int fd = -1;

        if (mkdir(dir, 0755) < 0)
                return -1;
        if (mode == 2)
                fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        t0 = now_ms();
        if (mode == 2) {
                struct clone_args a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)fd };

                pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
        } else
                pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        if (pid < 0)
                return -1;
        if (mode == 1) {
                int pf;

                snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
                snprintf(val, sizeof(val), "%d", (int)pid);
                pf = open(procs, O_WRONLY | O_CLOEXEC);
                if (pf < 0 || write(pf, val, strlen(val)) < 0)
                        t0 = -1e9;
                if (pf >= 0)
                        close(pf);
        }
        t = now_ms() - t0;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (fd >= 0)
                close(fd);
        /* the killed child leaves the cgroup when it is reaped */
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
                usleep(1000);
        return t < 0 ? -1 : t;
}

int main(int argc, char **argv)
{
        static const char *const names[] = { "fork", "fork+move", "clone-into" };
        int rounds = argc > 1 ? atoi(argv[1]) : 15, pause_ms = argc > 2 ? atoi(argv[2]) : 300;
        char mnt[4096], top[4200], dir[4300];
        double *v[3];
        int n[3] = { 0 }, rc = 0;

        if (rounds < 1 || v2_mount(mnt, sizeof(mnt)) < 0) {
                fprintf(stderr, "bench-cgroup-fork: %s\n", rounds < 1 ? "ROUNDS must be 1 or more" : "no cgroup v2 mount");
                return 1;
        }
        snprintf(top, sizeof(top), "%s/vigil-bench-%d", mnt, (int)getpid());
        if (mkdir(top, 0755) < 0) {
                fprintf(stderr, "bench-cgroup-fork: mkdir %s: %s\n", top, strerror(errno));
                return 1;
        }
        for (int m = 0; m < 3; m++)
                v[m] = calloc((size_t)rounds, sizeof(double));
        for (int r = 0; r < rounds; r++)
                for (int m = 0; m < 3; m++) {
                        double t;

                        usleep((useconds_t)pause_ms * 1000);
                        snprintf(dir, sizeof(dir), "%s/r%d-%d", top, r, m);
                        t = one(m, dir);
                        if (t < 0) {
                                fprintf(stderr, "bench-cgroup-fork: %s failed: %s\n", names[m], strerror(errno));
                                rc = 1;
                                goto out;
                        }
                        v[m][n[m]++] = t;
                }
        printf("first process into a new cgroup (v2 at %s), %d rounds, %d ms apart: median ms\n", mnt, rounds, pause_ms);
        for (int m = 0; m < 3; m++) {
                double med = median(v[m], n[m]);

                printf("  %-11s %7.3f ms  (min %.3f, max %.3f)\n", names[m], med, v[m][0], v[m][n[m] - 1]);
        }
out:
        rmdir(top);
        for (int m = 0; m < 3; m++)
                free(v[m]);
        return rc;
}
