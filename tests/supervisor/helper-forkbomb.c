/* A fork bomb: every process forks as fast as it can, forever. The first
 * one sleeps SECONDS, prints "bomb-done", and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int seconds = argc > 1 ? atoi(argv[1]) : 3;
        pid_t pid = fork();

        if (pid == 0) {
                for (;;) {
                        if (fork() < 0) {
                                struct timespec ts = { 0, 10000000 };

                                nanosleep(&ts, NULL);
                        }
                }
        }
        sleep((unsigned)seconds);
        printf("bomb-done\n");
        fflush(stdout);
        return 0;
}
