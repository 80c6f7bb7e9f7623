/* session_cgroup_fork(): the session's first process is created inside the
 * session's v2 cgroup (CLONE_INTO_CGROUP), never moved there; without a
 * usable v2 directory it is an ordinary fork. Root (it makes cgroups). */
#include <setjmp.h>
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

/* The child's first act: its own v2 cgroup ("0::/path") into @fd. */
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
        _exit(0);
}

static void test_created_inside(void **state)
{
        char name[64], want[128], got[4096] = "";
        session_cgroup cg = { 0 };
        int p[2], status;
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
        close(p[1]);
        n = read(p[0], got, sizeof(got) - 1);
        close(p[0]);
        assert_true(n >= 0);
        assert_int_equal(session_cgroup_attach(&cg, pid, placed), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (cg.v2) {
                /* Linux 5.7 and later, which CI's Debian 12 has */
                assert_true(placed);
                snprintf(want, sizeof(want), "/vigil/%s", name);
                assert_string_equal(got, want);
        } else
                assert_false(placed);
        session_cgroup_destroy(&cg);
}

static void test_fallback(void **state)
{
        char dir[] = "/nonexistent/vigil-test";
        session_cgroup cg = { .v2 = dir };
        int status;
        bool placed = true;
        pid_t pid;

        (void)state;
        pid = session_cgroup_fork(&cg, &placed);
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
                cmocka_unit_test(test_created_inside),
                cmocka_unit_test(test_fallback),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
