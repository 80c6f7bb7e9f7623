/* The PAM stacks of sshd and sudo: pam_vigil must be in them, and no
 * control flag may let them succeed when pam_vigil fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pam-stack.h"
#include "vigil-error.h"

#define TARGET "pam_vigil.so"

/* Where libpam looks for a module named without a path: Debian's multiarch
 * directories (/usr/lib/<triplet>/security, /lib/...) and the lib64 ones of
 * RPM distributions. Returns the host path of the first that has @name. */
static char *find_module(const doctor_ctx *c, const char *name)
{
        static const char *const multiarch[] = { "/usr/lib", "/lib" };
        static const char *const plain[] = { "/usr/lib64/security", "/lib64/security", "/usr/lib/security",
                                             "/lib/security" };

        for (size_t i = 0; i < ELEMENTSOF(multiarch); i++) {
                _cleanup_free_ char *dir = doctor_path(c, multiarch[i]);
                struct dirent *de;
                DIR *d;

                if (!dir || !(d = opendir(dir)))
                        continue;
                while ((de = readdir(d))) {
                        char *p;

                        /* A multiarch triplet: "x86_64-linux-gnu", "aarch64-linux-gnu", ... */
                        if (de->d_name[0] == '.' || !strstr(de->d_name, "-linux-"))
                                continue;
                        p = doctor_fmt("%s/%s/security/%s", multiarch[i], de->d_name, name);
                        if (p && doctor_exists(c, p)) {
                                closedir(d);
                                return p;
                        }
                        free(p);
                }
                closedir(d);
        }
        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                char *p = doctor_fmt("%s/%s", plain[i], name);

                if (p && doctor_exists(c, p))
                        return p;
                free(p);
        }
        return NULL;
}

/* Is the module file there, and safe? Reports findings. */
static void check_module_file(doctor_ctx *c, const pam_entry *e)
{
        _cleanup_free_ char *found = NULL;
        int r;

        found = e->module[0] == '/' ? strdup(e->module) : find_module(c, e->module);
        r = found ? doctor_check_owner_mode(c, "pam", found, false, 0755,
                                            "whoever can write the module decides every login")
                  : -ENOENT;
        if (r == -ENOENT)
                doctor_finding(c, "pam", "install libpam-vigil, or correct the module path",
                               "%s:%u uses '%s', which is not installed: every login through this stack fails",
                               e->file, e->line, e->module);
}

/* pam_systemd starts a systemd --user manager for the login; what it runs
 * (systemd-run --user, or its D-Bus API from any allowed interpreter) is
 * outside the supervisor. A pam_succeed_if line that jumps over it for
 * vigil-shell users is the accepted guard. */
static void check_systemd(doctor_ctx *c, const pam_stack *s, const char *service)
{
        for (size_t i = 0; i < s->n; i++) {
                const pam_entry *e = &s->v[i], *prev = i ? &s->v[i - 1] : NULL;

                if (e->kind != PAM_ENTRY_MODULE || strcmp(pam_entry_basename(e), "pam_systemd.so") != 0)
                        continue;
                if (prev && strcmp(pam_entry_basename(prev), "pam_succeed_if.so") == 0 &&
                    strstr(prev->args, DOCTOR_SHELL_PATH) && prev->actions[0] > 0)
                        continue;
                doctor_finding(c, "jobs",
                               "put 'session [success=1 default=ignore] pam_succeed_if.so quiet shell = "
                               DOCTOR_SHELL_PATH "' right before it (and 'loginctl disable-linger USER')",
                               "%s:%u: pam_systemd starts a systemd user manager for every %s login of a supervised "
                               "user; what it runs (systemd-run --user) is not supervised",
                               e->file, e->line, service);
                return;
        }
}

static void check_stack(doctor_ctx *c, const char *service, const char *type)
{
        _cleanup_free_ char *where = doctor_fmt("/etc/pam.d/%s (%s)", service, type), *fix = NULL;
        pam_stack s = { 0 };
        pam_bypass b;
        const pam_entry *target = NULL;
        int r = pam_stack_load(c, service, type, &s);

        if (!where)
                return;
        if (r == -ENOENT) {
                fix = doctor_fmt("create /etc/pam.d/%s with '%s required " TARGET "' (docs/pam.md)", service, type);
                doctor_finding(c, "pam", fix, "%s: neither the file nor /etc/pam.d/other exists", where);
                return;
        }
        if (r == VIGIL_E_TOO_BIG) {
                doctor_finding(c, "pam", "simplify the stack", "%s has more than %u modules: it is not analysed", where,
                               PAM_STACK_MAX_ENTRIES);
                return;
        }
        if (r < 0)
                return;
        if (s.problem)
                doctor_finding(c, "pam", "fix the file so that libpam can read every line",
                               "%s: %s (libpam fails such a line)", where, s.problem);
        for (size_t i = 0; i < s.n; i++)
                if (s.v[i].kind == PAM_ENTRY_MODULE && strcmp(pam_entry_basename(&s.v[i]), TARGET) == 0) {
                        target = &s.v[i];
                        break;
                }
        if (!target) {
                fix = doctor_fmt("add '%s required " TARGET "' to /etc/pam.d/%s (docs/pam.md shows the whole stack)",
                                 type, service);
                doctor_finding(c, "pam", fix, "%s does not use pam_vigil: %s", where,
                               strcmp(type, "auth") == 0      ? "logins are not signed in with a token"
                               : strcmp(type, "account") == 0 ? "require_group is not enforced"
                                                               : "logins are not handed to a supervisor");
                goto out;
        }
        if (target->dash) {
                fix = doctor_fmt("remove the leading '-' from '-%s' at %s:%u", type, target->file, target->line);
                doctor_finding(c, "pam", fix,
                               "%s:%u: '-%s' makes libpam skip pam_vigil silently when the module file is missing",
                               target->file, target->line, type);
        }
        check_module_file(c, target);

        r = pam_stack_bypass(&s, TARGET, &b);
        if (r == -E2BIG)
                doctor_finding(c, "pam", "simplify the stack (fewer substacks and jumps)",
                               "%s has too many paths to analyse: whether pam_vigil can be skipped is not known",
                               where);
        if (r > 0) {
                const pam_entry *e = &s.v[b.culprit];

                if (b.target_ran) {
                        fix = doctor_fmt("make it '%s required " TARGET "' (%s:%u)", type, e->file, e->line);
                        doctor_finding(c, "pam", fix,
                                       "%s: pam_vigil's control '%s' at %s:%u lets the stack succeed when pam_vigil "
                                       "fails (e.g. with %s)",
                                       where, e->control, e->file, e->line, pam_code_name(b.code));
                } else {
                        fix = doctor_fmt("put pam_vigil before %s:%u, or make that line 'required'", e->file,
                                         e->line);
                        doctor_finding(c, "pam", fix,
                                       "%s: '%s %s' at %s:%u lets the stack succeed although pam_vigil did not (when "
                                       "it returns %s)",
                                       where, e->control, pam_entry_basename(e), e->file, e->line,
                                       pam_code_name(b.code));
                }
        }
        if (strcmp(service, "sshd") == 0 && strcmp(type, "session") == 0 && c->n_users > 0)
                check_systemd(c, &s, service);
out:
        pam_stack_done(&s);
}

void doctor_check_pam(doctor_ctx *c)
{
        static const char *const sshd_types[] = { "auth", "account", "session" };
        static const char *const sudo_types[] = { "auth", "account" };

        if (access(c->sshd, X_OK) == 0)
                for (size_t i = 0; i < ELEMENTSOF(sshd_types); i++)
                        check_stack(c, "sshd", sshd_types[i]);
        else
                doctor_note(c, "no sshd: its PAM stack is not checked");
        if (doctor_exists(c, "/usr/bin/sudo")) {
                for (size_t i = 0; i < ELEMENTSOF(sudo_types); i++)
                        check_stack(c, "sudo", sudo_types[i]);
                /* Debian's `sudo -i` has a service of its own. */
                if (doctor_exists(c, "/etc/pam.d/sudo-i"))
                        for (size_t i = 0; i < ELEMENTSOF(sudo_types); i++)
                                check_stack(c, "sudo-i", sudo_types[i]);
        } else
                doctor_note(c, "no sudo: its PAM stack is not checked");
}
