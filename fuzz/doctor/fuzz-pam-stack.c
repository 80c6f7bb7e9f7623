/* libFuzzer target: vigil doctor's /etc/pam.d reader and stack analysis.
 * The input is up to four files separated by a line "--": the service
 * "sshd", then "a", "b", "c" that it may include or substack. Each type's
 * stack is loaded and searched for a way past pam_vigil. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pam-stack.h"

static char root[] = "/tmp/fuzz-pam-stack.XXXXXX";

static void put(const char *name, const uint8_t *data, size_t len)
{
        char path[128];
        int fd;

        (void)snprintf(path, sizeof path, "%s/etc/pam.d/%s", root, name);
        if (!data) {
                (void)unlink(path);
                return;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                abort();
        while (len > 0) {
                ssize_t n = write(fd, data, len);

                if (n <= 0)
                        abort();
                data += n;
                len -= (size_t)n;
        }
        (void)close(fd);
}

/* The scratch tree goes when the process ends (replay runs, fuzzing runs). */
static void remove_root(void)
{
        static const char *const files[] = { "sshd", "a", "b", "c" };
        char path[128];

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                (void)snprintf(path, sizeof path, "%s/etc/pam.d/%s", root, files[i]);
                (void)unlink(path);
        }
        (void)snprintf(path, sizeof path, "%s/etc/pam.d", root);
        (void)rmdir(path);
        (void)snprintf(path, sizeof path, "%s/etc", root);
        (void)rmdir(path);
        (void)rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = { "sshd", "a", "b", "c" };
        static const char *const types[] = { "auth", "account", "session", "password" };
        static bool ready;
        doctor_ctx c = { .root = root };
        size_t i = 0;

        if (!ready) {
                char dir[128];

                if (!mkdtemp(root))
                        abort();
                (void)snprintf(dir, sizeof dir, "%s/etc", root);
                (void)mkdir(dir, 0755);
                (void)snprintf(dir, sizeof dir, "%s/etc/pam.d", root);
                (void)mkdir(dir, 0755);
                (void)atexit(remove_root);
                ready = true;
        }
        for (size_t f = 0; f < ELEMENTSOF(names); f++) {
                const uint8_t *start = data + i, *sep = NULL;

                if (i > size || (f > 0 && i == size)) {
                        put(names[f], NULL, 0);
                        continue;
                }
                sep = memmem(start, size - i, "\n--\n", 4);
                put(names[f], start, sep ? (size_t)(sep - start) + 1 : size - i);
                i = sep ? (size_t)(sep - data) + 4 : size + 1;
        }
        for (size_t t = 0; t < ELEMENTSOF(types); t++) {
                pam_stack s = { 0 };
                pam_bypass b;

                if (pam_stack_load(&c, "sshd", types[t], &s) < 0)
                        continue;
                if (pam_stack_bypass(&s, "pam_vigil.so", &b) > 0 && b.culprit >= s.n)
                        abort();
                pam_stack_done(&s);
        }
        return 0;
}
