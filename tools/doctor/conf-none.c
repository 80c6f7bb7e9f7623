/* This build has no configuration library (config/): vigil.conf is not
 * read, and the checks use its defaults. */
#include "doctor.h"

void doctor_check_config(doctor_ctx *c)
{
        doctor_note(c, "this build has no vigil.conf parser: '%s' is not checked, and login_timeout is taken as "
                       "its default (%llus)",
                    c->config, (unsigned long long)c->login_timeout);
}

void doctor_config_done(doctor_ctx *c)
{
        (void)c;
}
