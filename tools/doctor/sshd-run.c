/* sshd's effective configuration, as `sshd -T` prints it: the only reliable
 * way to know what Include, drop-ins, defaults and Match blocks add up to. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor.h"
#include "vigil-error.h"

#define SSHD_TIMEOUT_MS 10000

void doctor_sshd_conf_done(doctor_sshd_conf *s)
{
        free(s->text);
        free(s->keys);
        free(s->vals);
        *s = (doctor_sshd_conf){ 0 };
}

const char *doctor_sshd_get(const doctor_sshd_conf *s, const char *key)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->keys[i], key) == 0)
                        return s->vals[i];
        return NULL;
}

static int parse(char *text, doctor_sshd_conf *ret)
{
        size_t cap = 0, n = 0;
        char **keys = NULL, **vals = NULL;
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');

                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 128;
                        char **nk = reallocarray(keys, nc, sizeof *keys), **nv;

                        if (!nk)
                                goto oom;
                        keys = nk;
                        nv = reallocarray(vals, nc, sizeof *vals);
                        if (!nv)
                                goto oom;
                        vals = nv;
                        cap = nc;
                }
                if (sp)
                        *sp++ = '\0';
                keys[n] = line;
                vals[n] = sp ? sp : line + strlen(line);
                n++;
        }
        ret->keys = keys;
        ret->vals = vals;
        ret->n = n;
        return 0;
oom:
        free(keys);
        free(vals);
        return -ENOMEM;
}

/* sshd's complaint, reduced to one line (its last non-empty line). */
static char *one_line(const char *err, int status)
{
        const char *end = err + strlen(err), *start;

        while (end > err && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        start = end;
        while (start > err && start[-1] != '\n')
                start--;
        if (start == end)
                return WIFEXITED(status) ? doctor_fmt("sshd -T exited with status %d", WEXITSTATUS(status))
                                         : doctor_fmt("sshd -T was killed by signal %d", WTERMSIG(status));
        return strndup(start, (size_t)(end - start));
}

int doctor_sshd_dump(const doctor_ctx *c, const char *spec, doctor_sshd_conf *ret, char **ret_err)
{
        _cleanup_free_ char *cfg = doctor_path(c, c->sshd_config), *out = NULL, *err = NULL;
        char *argv[] = { (char *)c->sshd, (char *)"-T", (char *)"-f", cfg, NULL, NULL, NULL };
        doctor_sshd_conf s = { 0 };
        int status, r;

        if (!cfg)
                return -ENOMEM;
        if (access(c->sshd, X_OK) < 0)
                return -ENOENT;
        if (spec) {
                argv[4] = (char *)"-C";
                argv[5] = (char *)spec;
        }
        r = doctor_run(argv, SSHD_TIMEOUT_MS, &out, &err, &status);
        if (r < 0) {
                *ret_err = doctor_fmt("cannot run '%s -T': %s", c->sshd, vigil_strerror(r));
                return r;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                *ret_err = one_line(err, status);
                return -EINVAL;
        }
        r = parse(out, &s);
        if (r < 0)
                return r;
        s.text = TAKE_PTR(out);
        *ret = s;
        return 0;
}
