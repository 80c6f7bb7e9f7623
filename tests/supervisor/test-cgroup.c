/* session_cgroup_fork(): the session's first process is created inside the
 * session's v2 cgroup (CLONE_INTO_CGROUP), never moved there; without a
 * usable v2 directory it is an ordinary fork. session_cgroup_attach() reads
 * the membership back and refuses a process that is not in the session's
 * cgroups. Root (it makes cgroups). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"

/* The child's first act: its own v2 cgroup ("0::/path") into @fd; then it
 * waits (as the session's first process waits for its go) until killed. */
static void report_cgroup(int fd)
{
        char buf[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");

        while (f && fgets(buf, sizeof(buf), f))
                if (strncmp(buf, "0::", 3) == 0) {
                        if (write(fd, buf + 3, strcspn(buf + 3, "\n")) < 0)
                                _exit(2);
                        break;
                }
        close(fd);
        for (;;)
                pause();
}

/* What a test made, ended and removed by teardown() whatever the test did. */
static session_cgroup cg;
static pid_t child = -1;

static void end_child(pid_t pid)
{
        int status;

        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        child = -1;
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static int teardown(void **state)
{
        (void)state;
        if (child > 0) {
                (void)kill(child, SIGKILL);
                (void)waitpid(child, NULL, 0);
                child = -1;
        }
        session_cgroup_destroy(&cg);
        return 0;
}

static void test_created_inside(void **state)
{
        char name[64], want[128], got[4096] = "";
        int p[2];
        bool placed;
        ssize_t n;
        pid_t pid;

        (void)state;
        snprintf(name, sizeof(name), "test-cgroup-%d", (int)getpid());
        assert_int_equal(session_cgroup_create(name, 64, &cg), 0);
        assert_int_equal(pipe(p), 0);
        pid = session_cgroup_fork(&cg, &placed);
        if (pid == 0) {
                close(p[0]);
                report_cgroup(p[1]);
        }
        assert_true(pid > 0);
        child = pid;
        close(p[1]);
        n = read(p[0], got, sizeof(got) - 1);
        close(p[0]);
        assert_true(n >= 0);
        assert_int_equal(session_cgroup_attach(&cg, pid, placed), 0);
        end_child(pid);
        if (cg.v2) {
                /* Linux 5.7 and later, which CI's Debian 12 has */
                assert_true(placed);
                snprintf(want, sizeof(want), "/vigil/%s", name);
                assert_string_equal(got, want);
        } else
                assert_false(placed);
}

/* Told it is in the v2 cgroup when it is not: the read-back refuses it. */
static void test_verify(void **state)
{
        char name[64];
        pid_t pid;

        (void)state;
        snprintf(name, sizeof(name), "test-verify-%d", (int)getpid());
        assert_int_equal(session_cgroup_create(name, 64, &cg), 0);
        pid = fork();
        if (pid == 0)
                for (;;)
                        pause();
        assert_true(pid > 0);
        child = pid;
        if (cg.v2)
                assert_int_equal(session_cgroup_attach(&cg, pid, true), -ESRCH);
        /* and moved there, it is accepted */
        assert_int_equal(session_cgroup_attach(&cg, pid, false), 0);
        end_child(pid);
}

static void test_fallback(void **state)
{
        char dir[] = "/nonexistent/vigil-test";
        session_cgroup none = { .v2 = dir };
        int status;
        bool placed = true;
        pid_t pid;

        (void)state;
        pid = session_cgroup_fork(&none, &placed);
        if (pid == 0)
                _exit(7);
        assert_true(pid > 0);
        assert_false(placed);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_created_inside, teardown),
                cmocka_unit_test_teardown(test_verify, teardown),
                cmocka_unit_test(test_fallback),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
