/* The sshd drop-in that the package ships but does not enable (enabling it
 * changes how everyone logs in: the administrator's decision). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"

/* Does sshd_config include the drop-in directory? Debian's does, at its top. */
static bool includes_dropins(const doctor_ctx *c)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (doctor_read(c, c->sshd_config, &text) < 0)
                return true; /* the sshd family reports an unreadable configuration */
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                if (strncasecmp(line, "include", 7) == 0 && strstr(line, "sshd_config.d"))
                        return true;
        }
        return false;
}

void doctor_check_dropin(doctor_ctx *c)
{
        const char *enabled = DOCTOR_DROPIN_DIR "/" DOCTOR_DROPIN_NAME;
        _cleanup_free_ char *shipped = NULL, *mine = NULL;

        if (access(c->sshd, X_OK) < 0)
                return;
        if (!doctor_exists(c, enabled)) {
                doctor_finding(c, "dropin", "ln -s " DOCTOR_DROPIN_SHIPPED " " DOCTOR_DROPIN_DIR "/ && systemctl reload ssh",
                               "the vigil sshd drop-in is not enabled: nothing turns off the sshd features that "
                               "skip the supervised login shell (the sshd findings name what is still on)");
                return;
        }
        if (!includes_dropins(c))
                doctor_finding(c, "dropin",
                               "add 'Include " DOCTOR_DROPIN_DIR "/*.conf' at the top of /etc/ssh/sshd_config",
                               "'%s' does not include " DOCTOR_DROPIN_DIR ", so the vigil drop-in has no effect",
                               c->sshd_config);
        if (doctor_read(c, DOCTOR_DROPIN_SHIPPED, &shipped) == 0 && doctor_read(c, enabled, &mine) == 0 &&
            strcmp(shipped, mine) != 0)
                doctor_note(c, "%s differs from the shipped %s (edited, or from an older package); the sshd "
                            "findings judge what sshd really uses",
                            enabled, DOCTOR_DROPIN_SHIPPED);
}
