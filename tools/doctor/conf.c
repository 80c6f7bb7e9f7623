/* vigil.conf through the configuration library: it must load (or every
 * login is refused), and it names the policy, the store and login_timeout
 * that the other checks use. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "doctor.h"

void doctor_check_config(doctor_ctx *c)
{
        _cleanup_free_ char *path = doctor_path(c, c->config), *err = NULL;
        vigil_config *cfg = NULL;
        int r;

        if (!path)
                return;
        r = vigil_config_load(path, &cfg, &err);
        if (r == -ENOENT) {
                doctor_finding(c, "config",
                               "cp /usr/share/vigil/examples/vigil.conf /etc/vigil/vigil.conf, then set issuer, "
                               "audience and client_id (vigil.conf(5))",
                               "there is no '%s': every login is refused", c->config);
                return;
        }
        if (r < 0) {
                doctor_finding(c, "config", "correct vigil.conf (vigil.conf(5) lists every key)",
                               "%s: every login is refused", err ? err : "cannot be loaded");
                return;
        }
        c->conf = cfg;
        c->conf_loaded = true;
#ifdef DOCTOR_HAVE_LOGIN_TIMEOUT
        c->login_timeout = cfg->login_timeout;
#endif
        if (!c->policy_set && cfg->policy)
                c->policy = cfg->policy;
        if (!c->store_set && cfg->store)
                c->store = cfg->store;
}

void doctor_config_done(doctor_ctx *c)
{
        c->conf = vigil_config_free(c->conf);
        c->conf_loaded = false;
}
