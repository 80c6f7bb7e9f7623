/* The host's accounts, read from its passwd file (under --root), so that
 * tests never depend on the machine's users. Accounts that only NSS knows
 * (LDAP, sssd) are named with `vigil doctor --user`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

void doctor_passwd_free(doctor_pw *pw, size_t n)
{
        for (size_t i = 0; pw && i < n; i++) {
                free(pw[i].name);
                free(pw[i].shell);
        }
        free(pw);
}

const doctor_pw *doctor_passwd_find(const doctor_pw *pw, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(pw[i].name, name) == 0)
                        return &pw[i];
        return NULL;
}

/* name:passwd:uid:gid:gecos:home:shell; a malformed line is skipped. */
static int parse_line(char *line, doctor_pw *ret)
{
        char *f[7];
        char *end;
        unsigned long uid;
        size_t i;

        for (i = 0; i < 7; i++) {
                f[i] = line;
                line = strchr(line, ':');
                if (!line)
                        break;
                *line++ = '\0';
        }
        if (i != 6 || !*f[0])
                return -EINVAL;
        errno = 0;
        uid = strtoul(f[2], &end, 10);
        if (errno || end == f[2] || *end || uid > UINT32_MAX)
                return -EINVAL;
        ret->name = strdup(f[0]);
        ret->shell = strdup(f[6]);
        ret->uid = (uint32_t)uid;
        if (!ret->name || !ret->shell) {
                free(ret->name);
                free(ret->shell);
                return -ENOMEM;
        }
        return 0;
}

int doctor_passwd_read(const doctor_ctx *c, doctor_pw **ret, size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        doctor_pw *pw = NULL;
        size_t n = 0, cap = 0;
        char *save = NULL;
        int r = doctor_read(c, "/etc/passwd", &text);

        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                doctor_pw e;

                line[strcspn(line, "\r")] = '\0';
                if (line[0] == '#' || line[0] == '+' || line[0] == '-')
                        continue;
                r = parse_line(line, &e);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        goto fail;
                if (n == cap) {
                        doctor_pw *np = reallocarray(pw, cap ? cap * 2 : 64, sizeof *pw);

                        if (!np) {
                                free(e.name);
                                free(e.shell);
                                r = -ENOMEM;
                                goto fail;
                        }
                        pw = np;
                        cap = cap ? cap * 2 : 64;
                }
                pw[n++] = e;
        }
        *ret = pw;
        *ret_n = n;
        return 0;
fail:
        doctor_passwd_free(pw, n);
        return r;
}
