/* A fork bomb: every process forks as fast as it can, forever. The first
 * one watches its own pids cgroup until forks are refused at the limit (or
 * SECONDS pass), then prints "bomb-done current=C max=M refused=R" and
 * exits 0 with _exit(): in a sanitizer build, the leak check at exit()
 * would need a new task, and the session has none left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];

static long read_num(const char *file, const char *key)
{
        char path[4200], line[256];
        long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                if (!key) {
                        v = strcmp(line, "max\n") == 0 ? 0 : atol(line);
                        break;
                }
                if (strncmp(line, key, strlen(key)) == 0) {
                        v = atol(line + strlen(key));
                        break;
                }
        }
        fclose(f);
        return v;
}

/* Our pids cgroup: v1 "N:pids:/p" or v2 "0::/p" with a pids.max there. */
static void find_dir(void)
{
        static const char *const roots[] = {"/sys/fs/cgroup/pids", "/sys/fs/cgroup",
                                            "/sys/fs/cgroup/unified"};
        char line[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");

        while (f && fgets(line, sizeof(line), f)) {
                char *p = strchr(line, ':'), *q;

                line[strcspn(line, "\n")] = '\0';
                if (!p || !(q = strchr(p + 1, ':')))
                        continue;
                if (!(strncmp(p + 1, "pids:", 5) == 0 || (p == line + 1 && line[0] == '0' && p[1] == ':')))
                        continue;
                for (size_t i = 0; i < 3; i++) {
                        char path[4200];

                        snprintf(path, sizeof(path), "%s%s/pids.max", roots[i], q + 1);
                        if (access(path, R_OK) == 0) {
                                snprintf(dir, sizeof(dir), "%s%s", roots[i], q + 1);
                                fclose(f);
                                return;
                        }
                }
        }
        if (f)
                fclose(f);
}

int main(int argc, char **argv)
{
        int seconds = argc > 1 ? atoi(argv[1]) : 3;
        struct timespec ts = {0, 20000000};
        long refused = 0, current = 0, max = 0;
        pid_t pid;

        find_dir();
        pid = fork();
        if (pid == 0) {
                for (;;)
                        if (fork() < 0)
                                nanosleep(&ts, NULL);
        }
        for (int i = 0; i < seconds * 50; i++) {
                nanosleep(&ts, NULL);
                refused = read_num("pids.events", "max ");
                current = read_num("pids.current", NULL);
                if (refused > 0)
                        break;
        }
        max = read_num("pids.max", NULL);
        printf("bomb-done current=%ld max=%ld refused=%ld\n", current, max, refused);
        fflush(stdout);
        _exit(0);
}
