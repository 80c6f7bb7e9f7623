/* The exec race (seccomp_unotify(2), SECCOMP_USER_NOTIF_FLAG_CONTINUE): a
 * second thread rewrites the path between the allowed program and a
 * denied one while the first thread calls execve, thousands of times. The
 * denied program, run with this argv, prints "DENIED-PROGRAM-RAN"; it must
 * never print. Prints a summary line "ran=N denied=N killed=N missing=N other=N".
 * missing: the kernel or the supervisor read the path halfway through a
 * rewrite ("/usr/bin/ecue"), a file that does not exist: ENOENT. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];
static const char *pa, *pb;
static atomic_int stop;

static void *flipper(void *arg)
{
        size_t n = strlen(pa) + 1;

        (void)arg;
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                memcpy(path, pa, n);
                memcpy(path, pb, n);
        }
        return NULL;
}

int main(int argc, char **argv)
{
        int iterations, ran = 0, denied = 0, killed = 0, missing = 0, other = 0, other_st = 0, other_errno = 0;

        if (argc != 4 || strlen(argv[2]) != strlen(argv[3]) || strlen(argv[2]) >= sizeof(path)) {
                fprintf(stderr, "usage: helper-race N ALLOWED DENIED (paths of equal length)\n");
                return 2;
        }
        iterations = atoi(argv[1]);
        pa = argv[2];
        pb = argv[3];
        for (int i = 0; i < iterations; i++) {
                pid_t pid = fork();
                int st;

                if (pid < 0)
                        return 3;
                if (pid == 0) {
                        char *args[] = {(char *)"x", (char *)"DENIED-PROGRAM-RAN", NULL};
                        pthread_t t;

                        strcpy(path, pa);
                        pthread_create(&t, NULL, flipper, NULL);
                        execv(path, args);
                        _exit(errno == EPERM ? 10 : errno == ENOENT ? 12 : 100 + (errno & 127));
                }
                if (waitpid(pid, &st, 0) < 0)
                        return 4;
                if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                        ran++;
                else if (WIFEXITED(st) && WEXITSTATUS(st) == 10)
                        denied++;
                else if (WIFEXITED(st) && WEXITSTATUS(st) == 12)
                        missing++;
                else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                        killed++;
                else {
                        /* what it was, for the failure message */
                        other++;
                        other_st = st;
                        if (WIFEXITED(st) && WEXITSTATUS(st) >= 100)
                                other_errno = WEXITSTATUS(st) - 100;
                }
        }
        printf("ran=%d denied=%d killed=%d missing=%d other=%d other_status=%d other_errno=%d\n", ran, denied, killed,
               missing, other, other_st, other_errno);
        return 0;
}
