/* cron, at and systemd user managers run commands for a user without a
 * login, so without vigil-shell and without a supervisor. Supervised users
 * must not have them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"

/* allow/deny files as crontab(1) and at(1) read them: with an allow file
 * only its names may; else with a deny file all but its names; else
 * @default_allowed (Debian's cron: everyone; at: root only). */
static bool may_use(const doctor_ctx *c, const char *allow, const char *deny, const char *user, bool default_allowed)
{
        int r = doctor_list_has(c, allow, user);

        if (r != -ENOENT)
                return r == 1;
        r = doctor_list_has(c, deny, user);
        if (r != -ENOENT)
                return r == 0;
        return default_allowed;
}

/* Spooled at jobs are files owned by the user who queued them. */
static bool has_at_jobs(const doctor_ctx *c, uint32_t uid)
{
        _cleanup_free_ char *dir = doctor_path(c, "/var/spool/cron/atjobs");
        DIR *d;
        struct dirent *de;
        bool found = false;

        if (!dir || !(d = opendir(dir)))
                return false;
        while (!found && (de = readdir(d))) {
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                    st.st_uid == uid)
                        found = true;
        }
        closedir(d);
        return found;
}

static void check_user(doctor_ctx *c, const doctor_pw *p, bool cron, bool at)
{
        _cleanup_free_ char *spool = NULL, *spool_rh = NULL, *linger = NULL, *fix = NULL;

        if (cron) {
                if (may_use(c, "/etc/cron.allow", "/etc/cron.deny", p->name, true)) {
                        fix = doctor_fmt("echo %s >> /etc/cron.deny (or keep them out of /etc/cron.allow)", p->name);
                        doctor_finding(c, "jobs", fix,
                                       "supervised user '%s' may install a crontab: cron runs its jobs without "
                                       "the supervisor",
                                       p->name);
                }
                spool = doctor_fmt("/var/spool/cron/crontabs/%s", p->name);
                spool_rh = doctor_fmt("/var/spool/cron/%s", p->name);
                if ((spool && doctor_exists(c, spool)) || (spool_rh && doctor_exists(c, spool_rh))) {
                        free(fix);
                        fix = doctor_fmt("crontab -r -u %s", p->name);
                        doctor_finding(c, "jobs", fix,
                                       "supervised user '%s' has a crontab: its jobs run without the supervisor",
                                       p->name);
                }
        }
        if (at) {
                if (may_use(c, "/etc/at.allow", "/etc/at.deny", p->name, false)) {
                        free(fix);
                        fix = doctor_fmt("echo %s >> /etc/at.deny (or keep them out of /etc/at.allow)", p->name);
                        doctor_finding(c, "jobs", fix,
                                       "supervised user '%s' may queue at/batch jobs: atd runs them without the "
                                       "supervisor",
                                       p->name);
                }
                if (has_at_jobs(c, p->uid)) {
                        free(fix);
                        fix = doctor_fmt("atq, then atrm the jobs of %s", p->name);
                        doctor_finding(c, "jobs", fix,
                                       "supervised user '%s' has queued at jobs: they run without the supervisor",
                                       p->name);
                }
        }
        linger = doctor_fmt("/var/lib/systemd/linger/%s", p->name);
        if (linger && doctor_exists(c, linger)) {
                free(fix);
                fix = doctor_fmt("loginctl disable-linger %s", p->name);
                doctor_finding(c, "jobs", fix,
                               "supervised user '%s' has lingering enabled: their systemd user manager runs "
                               "services (systemd-run --user) with no login and no supervisor",
                               p->name);
        }
}

void doctor_check_jobs(doctor_ctx *c)
{
        bool cron = doctor_exists(c, "/usr/bin/crontab");
        bool at = doctor_exists(c, "/usr/bin/at");
        doctor_pw *pw = NULL;
        size_t n_pw = 0;

        if (c->n_users == 0)
                return;
        if (doctor_passwd_read(c, &pw, &n_pw) < 0) {
                doctor_note(c, "cannot read /etc/passwd: cron/at/systemd checks skipped");
                return;
        }
        for (size_t i = 0; i < c->n_users; i++) {
                const doctor_pw *p = doctor_passwd_find(pw, n_pw, c->users[i]);

                if (p)
                        check_user(c, p, cron, at);
        }
        doctor_passwd_free(pw, n_pw);
}
