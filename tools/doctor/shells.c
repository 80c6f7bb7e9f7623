/* Supervised users' login shells: vigil-shell must be what sshd runs, and
 * must be a shell the system recognises. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

void doctor_check_shells(doctor_ctx *c)
{
        _cleanup_free_ char *fix = NULL;
        doctor_pw *pw = NULL;
        size_t n_pw = 0;
        int r, listed;

        r = doctor_check_owner_mode(c, "shells", DOCTOR_SHELL_PATH, false, 0755,
                                    "whoever can replace the login shell runs every supervised login unsupervised");
        if (r == -ENOENT) {
                if (c->n_users > 0)
                        doctor_finding(c, "shells", "install the vigil package (it ships " DOCTOR_SHELL_PATH ")",
                                       DOCTOR_SHELL_PATH " is missing but %zu account(s) use it as login shell: "
                                       "their logins fail",
                                       c->n_users);
                else
                        doctor_note(c, DOCTOR_SHELL_PATH " is not installed and no account uses it");
                return;
        }

        listed = doctor_list_has(c, "/etc/shells", DOCTOR_SHELL_PATH);
        if (listed == 0 || listed == -ENOENT)
                doctor_finding(c, "shells", "add-shell " DOCTOR_SHELL_PATH,
                               DOCTOR_SHELL_PATH " is not listed in /etc/shells: chsh refuses it, and services "
                               "that check /etc/shells (pam_shells, ftp daemons) treat supervised users as "
                               "having no valid shell");

        if (c->n_users == 0) {
                doctor_note(c, "no account has " DOCTOR_SHELL_PATH " as login shell: no supervised users to check "
                               "(name NSS-only accounts with --user)");
                return;
        }
        /* Accounts named with --user must really have vigil-shell: pam_vigil
         * refuses them otherwise, and an administrator who named them
         * expects them supervised. */
        if (doctor_passwd_read(c, &pw, &n_pw) < 0)
                return;
        for (size_t i = 0; i < c->n_users; i++) {
                const doctor_pw *p = doctor_passwd_find(pw, n_pw, c->users[i]);

                if (!p) {
                        doctor_note(c, "user '%s' is not in /etc/passwd (NSS-only accounts are not examined here)",
                                    c->users[i]);
                        continue;
                }
                if (strcmp(p->shell, DOCTOR_SHELL_PATH) == 0)
                        continue;
                free(fix);
                fix = doctor_fmt("usermod --shell " DOCTOR_SHELL_PATH " %s", p->name);
                doctor_finding(c, "shells", fix,
                               "user '%s' has login shell '%s', not " DOCTOR_SHELL_PATH ": pam_vigil refuses their "
                               "logins, and other ways in (su, console) give them an unsupervised shell",
                               p->name, p->shell);
        }
        doctor_passwd_free(pw, n_pw);
}
