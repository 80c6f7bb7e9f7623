/* A program that execs argv[1..] with a SIGWINCH handler installed
 * (SA_RESTART), so that a signal that interrupts a waiting execve (a kernel
 * without SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) restarts it: the tests send
 * it signals while the exec is held (SIGWINCH: a signal still pending at the
 * exec is ignored by the new program). It writes its pid to argv[1] first. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_winch(int sig)
{
        (void)sig;
        got++;
}

int main(int argc, char **argv)
{
        struct sigaction sa;
        FILE *f;

        if (argc < 3)
                return 2;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_winch;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGWINCH, &sa, NULL);
        f = fopen(argv[1], "w");
        if (!f)
                return 2;
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        execv(argv[2], argv + 2);
        perror("execv");
        return 126;
}
