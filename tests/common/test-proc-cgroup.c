/* common/proc-cgroup.c: the lines of /proc/PID/cgroup as the kernel writes
 * them (a hybrid host: v1 controllers and the v2 line), and what is not a
 * line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proc-cgroup.h"

static const char hybrid[] = "13:pids:/vigil/01a21e43-56ec-7f3c-af40-f09e711f0de2\n"
                             "12:cpu,cpuacct:/\n"
                             "1:name=systemd:/user.slice\n"
                             "0::/vigil/01a21e43-56ec-7f3c-af40-f09e711f0de2/sub\n";

static void test_lines(void **state)
{
        proc_cgroup_line l;
        size_t pos = 0;
        const char *id;

        (void)state;
        assert_true(proc_cgroup_next(hybrid, strlen(hybrid), &pos, &l));
        assert_false(l.v2);
        assert_true(proc_cgroup_has(&l, "pids"));
        assert_false(proc_cgroup_has(&l, "pid"));
        assert_int_equal(proc_cgroup_session(&l, &id), 36);
        assert_memory_equal(id, "01a21e43-56ec-7f3c-af40-f09e711f0de2", 36);

        assert_true(proc_cgroup_next(hybrid, strlen(hybrid), &pos, &l));
        assert_true(proc_cgroup_has(&l, "cpu"));
        assert_true(proc_cgroup_has(&l, "cpuacct"));
        assert_false(proc_cgroup_has(&l, "pids"));
        assert_int_equal(proc_cgroup_session(&l, &id), 0);

        assert_true(proc_cgroup_next(hybrid, strlen(hybrid), &pos, &l));
        assert_false(l.v2);
        assert_false(proc_cgroup_has(&l, "systemd"));
        assert_int_equal(l.path_len, strlen("/user.slice"));

        assert_true(proc_cgroup_next(hybrid, strlen(hybrid), &pos, &l));
        assert_true(l.v2);
        assert_int_equal(l.controllers_len, 0);
        /* a cgroup below the session's is still the session's */
        assert_int_equal(proc_cgroup_session(&l, &id), 36);

        assert_false(proc_cgroup_next(hybrid, strlen(hybrid), &pos, &l));
        assert_int_equal(pos, strlen(hybrid));
}

static void test_not_lines(void **state)
{
        static const char text[] = "garbage\n:\n5:pids\n\n0::/vigil/\n0::/vigil//x\n0::/vigilant/x\n10:freezer:/vigil/a";
        proc_cgroup_line l;
        size_t pos = 0;
        const char *id;

        (void)state;
        /* "garbage", ":" and "5:pids" have no second colon */
        assert_true(proc_cgroup_next(text, strlen(text), &pos, &l));
        assert_true(l.v2);
        assert_int_equal(proc_cgroup_session(&l, &id), 0); /* "/vigil/": no id */
        assert_true(proc_cgroup_next(text, strlen(text), &pos, &l));
        assert_int_equal(proc_cgroup_session(&l, &id), 0); /* an empty id */
        assert_true(proc_cgroup_next(text, strlen(text), &pos, &l));
        assert_int_equal(proc_cgroup_session(&l, &id), 0); /* not /vigil/ */
        /* the last line has no newline */
        assert_true(proc_cgroup_next(text, strlen(text), &pos, &l));
        assert_false(l.v2);
        assert_true(proc_cgroup_has(&l, "freezer"));
        assert_int_equal(proc_cgroup_session(&l, &id), 1);
        assert_memory_equal(id, "a", 1);
        assert_false(proc_cgroup_next(text, strlen(text), &pos, &l));
        pos = 0;
        assert_false(proc_cgroup_next("", 0, &pos, &l));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines),
                cmocka_unit_test(test_not_lines),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
