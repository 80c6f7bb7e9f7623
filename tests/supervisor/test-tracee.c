/* Reading a process's execve arguments from its memory: a forked child
 * holds known strings at known addresses (the same as the parent's, after
 * fork), in every awkward layout: across a page end, at the edge of an
 * unmapped page, too long, NULL argv, unaligned pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"
#include "vigil-error.h"

#define PAGE 4096

static pid_t child;

/* A child frozen with a copy of our memory. */
static int start_child(void **state)
{
        int p[2];
        char c;

        (void)state;
        assert_int_equal(pipe(p), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                int null = open("/dev/null", O_RDWR);

                /* nothing of the test's output, and gone with the test */
                dup2(null, 1);
                dup2(null, 2);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(p[0]);
                if (write(p[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        return 0;
}

static int stop_child(void **state)
{
        (void)state;
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 0;
}

/* Every read is made three ways, which must agree: alone, and through a
 * window reading 1, 2 or 4 pages ahead (what the supervisor uses). */
static int read_string_all(uint64_t addr, size_t max, char **ret)
{
        static const unsigned pages[] = {1, 2, TRACEE_WINDOW_PAGES};
        static tracee_window w;
        char *a = NULL;
        int r0 = tracee_read_string(child, addr, max, &a);

        for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
                char *b = NULL;

                tracee_window_init(&w, child, pages[i]);
                assert_int_equal(tracee_window_string(&w, addr, max, &b), r0);
                if (r0 == 0)
                        assert_string_equal(a, b);
                free(b);
        }
        if (r0 == 0)
                *ret = a;
        return r0;
}

static int read_argv_all(uint64_t addr, size_t max_args, size_t max_bytes, strv *ret)
{
        static const unsigned pages[] = {1, 2, TRACEE_WINDOW_PAGES};
        static tracee_window w;
        strv a = {0};
        int r0 = tracee_read_argv(child, addr, max_args, max_bytes, &a);

        for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
                strv b = {0};

                tracee_window_init(&w, child, pages[i]);
                assert_int_equal(tracee_window_argv(&w, addr, max_args, max_bytes, &b), r0);
                if (r0 == 0)
                        assert_true(strv_equal(&a, &b));
                strv_clear(&b);
        }
        if (r0 == 0)
                *ret = a;
        return r0;
}

/* Two pages, the second unmapped: a string can end exactly at the edge. */
static char *edge_pages(void)
{
        char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        assert_true(m != MAP_FAILED);
        assert_int_equal(munmap(m + PAGE, PAGE), 0);
        return m;
}

static void test_string_simple(void **state)
{
        static const char s[] = "/usr/bin/env";
        char *got = NULL;

        (void)state;
        start_child(NULL);
        assert_int_equal(read_string_all((uintptr_t)s, 4095, &got), 0);
        assert_string_equal(got, s);
        free(got);
        stop_child(NULL);
}

static void test_string_edges(void **state)
{
        char *m = edge_pages(), *got = NULL;

        (void)state;
        /* "abc\0" ending on the last byte of the mapped page */
        memcpy(m + PAGE - 4, "abc", 4);
        /* an unterminated string running into the unmapped page */
        memset(m, 'z', PAGE - 8);
        m[PAGE - 8] = '\0';
        memcpy(m + PAGE - 6, "xy", 2); /* m[PAGE-6..PAGE-5], then "abc\0" */
        start_child(NULL);
        assert_int_equal(read_string_all((uintptr_t)(m + PAGE - 4), 100, &got), 0);
        assert_string_equal(got, "abc");
        free(got);
        /* a long string, read page by page */
        assert_int_equal(read_string_all((uintptr_t)(m + 10), 8192, &got), 0);
        assert_int_equal(strlen(got), PAGE - 8 - 10);
        free(got);
        /* too long for the bound */
        assert_int_equal(read_string_all((uintptr_t)(m + 10), 100, &got), VIGIL_E_TOO_BIG);
        /* exactly the bound */
        assert_int_equal(read_string_all((uintptr_t)(m + PAGE - 4), 3, &got), 0);
        free(got);
        assert_int_equal(read_string_all((uintptr_t)(m + PAGE - 4), 2, &got), VIGIL_E_TOO_BIG);
        /* unmapped, and NULL */
        assert_int_equal(read_string_all((uintptr_t)(m + PAGE), 100, &got), -EFAULT);
        assert_int_equal(read_string_all(0, 100, &got), -EFAULT);
        stop_child(NULL);
        /* the string runs into the unmapped page without a NUL */
        m[PAGE - 1] = 'q';
        start_child(NULL);
        assert_int_equal(read_string_all((uintptr_t)(m + PAGE - 4), 100, &got), -EFAULT);
        stop_child(NULL);
        munmap(m, PAGE);
}

static void test_argv(void **state)
{
        const char *v[] = {"gcc", "-O2", "", "-o", "a out", "x.c", NULL};
        strv sv = {0};

        (void)state;
        start_child(NULL);
        assert_int_equal(read_argv_all((uintptr_t)v, 100, 4096, &sv), 0);
        assert_int_equal(sv.n, 6);
        for (size_t i = 0; i < 6; i++)
                assert_string_equal(sv.v[i], v[i]);
        assert_null(sv.v[6]);
        strv_clear(&sv);
        /* NULL argv: the kernel accepts it as empty */
        assert_int_equal(read_argv_all(0, 100, 4096, &sv), 0);
        assert_int_equal(sv.n, 0);
        strv_clear(&sv);
        /* bounds: arguments and bytes ("gcc\0-O2\0\0-o\0a out\0x.c\0" is 22 bytes) */
        assert_int_equal(read_argv_all((uintptr_t)v, 5, 4096, &sv), VIGIL_E_TOO_BIG);
        assert_int_equal(read_argv_all((uintptr_t)v, 6, 22, &sv), 0);
        strv_clear(&sv);
        assert_int_equal(read_argv_all((uintptr_t)v, 6, 21, &sv), VIGIL_E_TOO_BIG);
        stop_child(NULL);
}

static void test_argv_awkward(void **state)
{
        char *m = edge_pages();
        char **ptrs = (char **)(m + PAGE - 3 * sizeof(char *)); /* the array ends at the page edge */
        char *big = malloc(3 * PAGE), *bad;
        strv sv = {0};

        (void)state;
        memset(big, 'b', 3 * PAGE - 1);
        big[3 * PAGE - 1] = '\0';
        ptrs[0] = big;
        ptrs[1] = (char *)"short";
        ptrs[2] = NULL;
        start_child(NULL);
        assert_int_equal(read_argv_all((uintptr_t)ptrs, 100, 4 * PAGE, &sv), 0);
        assert_int_equal(sv.n, 2);
        assert_int_equal(strlen(sv.v[0]), 3 * PAGE - 1);
        assert_string_equal(sv.v[1], "short");
        strv_clear(&sv);
        assert_int_equal(read_argv_all((uintptr_t)ptrs, 100, 2 * PAGE, &sv), VIGIL_E_TOO_BIG);
        stop_child(NULL);

        /* no NULL before the unmapped page */
        ptrs[2] = (char *)"more";
        start_child(NULL);
        assert_int_equal(read_argv_all((uintptr_t)ptrs, 100, 4 * PAGE, &sv), -EFAULT);
        stop_child(NULL);

        /* an argument pointing at unmapped memory */
        ptrs[1] = m + PAGE + 16;
        ptrs[2] = NULL;
        start_child(NULL);
        assert_int_equal(read_argv_all((uintptr_t)ptrs, 100, 4 * PAGE, &sv), -EFAULT);
        stop_child(NULL);

        /* an unaligned pointer array */
        bad = malloc(64);
        {
                const char *a = "one", *b = "two";
                char *arr = bad + 3;

                memcpy(arr, &a, sizeof(a));
                memcpy(arr + 8, &b, sizeof(b));
                memset(arr + 16, 0, 8);
                start_child(NULL);
                assert_int_equal(read_argv_all((uintptr_t)arr, 100, 4096, &sv), 0);
                assert_int_equal(sv.n, 2);
                assert_string_equal(sv.v[0], "one");
                assert_string_equal(sv.v[1], "two");
                strv_clear(&sv);
                stop_child(NULL);
        }
        free(bad);
        free(big);
        munmap(m, PAGE);
}

/* One window for a request: the path, then the argv next to it, served
 * from what the first read brought; then a window whose read-ahead was cut
 * by an unmapped page, and a pointer into that page. */
static void test_window_request(void **state)
{
        char *m = edge_pages();
        char *path = m + PAGE - 200, **argv = (char **)(m + PAGE - 64);
        static tracee_window w;
        strv sv = {0};
        char *got = NULL;

        (void)state;
        strcpy(path, "/usr/bin/env");
        strcpy(path + 20, "-i");
        argv[0] = path;
        argv[1] = path + 20;
        argv[2] = NULL;
        start_child(NULL);
        tracee_window_init(&w, child, 2);
        assert_int_equal(tracee_window_string(&w, (uintptr_t)path, 4095, &got), 0);
        assert_string_equal(got, "/usr/bin/env");
        assert_int_equal(w.len, 200); /* the rest of the page: the next is unmapped */
        assert_int_equal(tracee_window_argv(&w, (uintptr_t)argv, 100, 4096, &sv), 0);
        assert_int_equal(sv.n, 2);
        assert_string_equal(sv.v[0], "/usr/bin/env");
        assert_string_equal(sv.v[1], "-i");
        strv_clear(&sv);
        free(got);
        stop_child(NULL);

        argv[1] = m + PAGE + 8;
        start_child(NULL);
        tracee_window_init(&w, child, 2);
        assert_int_equal(tracee_window_argv(&w, (uintptr_t)argv, 100, 4096, &sv), -EFAULT);
        stop_child(NULL);
        munmap(m, PAGE);
}

static void test_many_args(void **state)
{
        /* more than one batch of reads (1024) */
        size_t n = 3000;
        char **v = calloc(n + 1, sizeof(char *));
        char(*bufs)[16] = calloc(n, 16);
        strv sv = {0};

        (void)state;
        for (size_t i = 0; i < n; i++) {
                snprintf(bufs[i], 16, "arg%zu", i);
                v[i] = bufs[i];
        }
        start_child(NULL);
        assert_int_equal(read_argv_all((uintptr_t)v, 5000, 1 << 20, &sv), 0);
        assert_int_equal(sv.n, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(sv.v[i], bufs[i]);
        strv_clear(&sv);
        stop_child(NULL);
        free(v);
        free(bufs);
}

static void *idle_thread(void *arg)
{
        pid_t *tid = arg;

        *tid = gettid();
        for (;;)
                pause();
        return NULL;
}

/* The cheap way (a pidfd) and /proc agree; a pidfd is handed back only for
 * a thread-group leader; a thread's ids name its process. */
static void test_creds(void **state)
{
        static volatile pid_t thread_tid;
        tracee_status a, b;
        pthread_t t;
        int fd = -1;

        (void)state;
        start_child(NULL);
        assert_int_equal(tracee_read_creds(child, &a, &fd), 0);
        assert_int_equal(tracee_read_status(child, &b), 0);
        assert_int_equal(a.tgid, b.tgid);
        assert_int_equal(a.ppid, b.ppid);
        assert_int_equal(a.euid, b.euid);
        assert_int_equal(a.fsuid, b.fsuid);
        assert_int_equal(a.fsgid, b.fsgid);
        assert_true(b.complete);
        if (fd >= 0) {
                assert_false(a.complete);
                assert_int_equal(tracee_complete(child, &a), 0);
                assert_true(a.complete);
                assert_int_equal(a.n_groups, b.n_groups);
                close(fd);
        }
        stop_child(NULL);
        assert_true(tracee_read_creds(child, &a, &fd) < 0);
        assert_int_equal(fd, -1);

        /* a thread of this process */
        thread_tid = 0;
        assert_int_equal(pthread_create(&t, NULL, idle_thread, (void *)&thread_tid), 0);
        while (!thread_tid)
                usleep(1000);
        assert_int_equal(tracee_read_creds(thread_tid, &a, &fd), 0);
        assert_int_equal(fd, -1);
        assert_int_equal(a.tgid, getpid());
        pthread_cancel(t);
        pthread_join(t, NULL);
}

static void test_proc_files(void **state)
{
        tracee_status st;
        strv sv = {0};
        char *cwd = NULL;

        (void)state;
        start_child(NULL);
        assert_int_equal(tracee_read_status(child, &st), 0);
        assert_int_equal(st.tgid, child);
        assert_int_equal(st.ppid, getpid());
        assert_int_equal(st.euid, geteuid());
        assert_int_equal(tracee_read_link(child, "cwd", &cwd), 0);
        assert_true(cwd[0] == '/');
        free(cwd);
        assert_int_equal(tracee_read_cmdline(getpid(), 1 << 20, &sv), 0);
        assert_true(sv.n >= 1);
        strv_clear(&sv);
        assert_int_equal(tracee_read_cmdline(getpid(), 2, &sv), VIGIL_E_TOO_BIG);
        stop_child(NULL);
        assert_true(tracee_read_status(child, &st) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_string_simple), cmocka_unit_test(test_string_edges),
                cmocka_unit_test(test_argv),          cmocka_unit_test(test_argv_awkward),
                cmocka_unit_test(test_window_request),
                cmocka_unit_test(test_many_args),     cmocka_unit_test(test_proc_files),
                cmocka_unit_test(test_creds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
