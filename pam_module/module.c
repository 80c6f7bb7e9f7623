#include <errno.h>
#include <string.h>

#include "module.h"
#include "text.h"
#include "vigil-error.h"

int pv_ctx_init(pv_ctx *c, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_free_ char *err = NULL, *clean = NULL;
        const char *bad = NULL, *why = NULL;
        const void *item = NULL;
        int r;

        *c = (pv_ctx){ .pamh = pamh, .flags = flags };
        r = pv_args_parse(argc, argv, &c->args, &bad, &why);
        if (r < 0) {
                clean = pv_text_clean(bad, 128);
                pam_syslog(pamh, LOG_ERR, "module argument '%s' %s; refusing every request", PV_TC(clean),
                           why);
                return PAM_SERVICE_ERR;
        }

        r = pam_get_user(pamh, &c->user, NULL);
        if (r != PAM_SUCCESS || !c->user || !*c->user) {
                pam_syslog(pamh, LOG_NOTICE, "no user name: %s", pam_strerror(pamh, r));
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
        }
        /* The name comes from the client (sshd) or the caller: into a log
         * line only cleaned. */
        c->ulog = pv_text_clean(c->user, 64);
        if (!c->ulog)
                return PAM_BUF_ERR;
        if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
                c->service = item;

        r = vigil_config_load(c->args.config, &c->cfg, &err);
        if (r < 0) {
                clean = pv_text_clean(err ? err : vigil_strerror(r), 400);
                pam_syslog(pamh, LOG_ERR, "configuration: %s; refusing every sign-in", PV_TC(clean));
                return r == -ENOMEM ? PAM_BUF_ERR : PAM_SERVICE_ERR;
        }
        /* Checks of keys only the module uses; the parser owns the rest. */
        if (c->cfg->login_timeout == 0) {
                pam_syslog(pamh, LOG_ERR,
                           "configuration: %s: 'login_timeout' must be above 0s; refusing every sign-in",
                           c->cfg->path);
                return PAM_SERVICE_ERR;
        }
        if (c->args.mode == PV_MODE_SUDO && !c->cfg->sudo_group) {
                pam_syslog(pamh, LOG_ERR,
                           "configuration: %s: the 'sudo' module argument needs 'sudo_group'; refusing "
                           "every sign-in",
                           c->cfg->path);
                return PAM_SERVICE_ERR;
        }
        return PAM_SUCCESS;
}

void pv_ctx_done(pv_ctx *c)
{
        c->cfg = vigil_config_free(c->cfg);
        free(c->ulog);
        c->ulog = NULL;
}

void pv_tell_refused(const pv_ctx *c)
{
        if (!(c->flags & PAM_SILENT))
                (void)pam_error(c->pamh, "%s", PV_REFUSED_TEXT);
}

int pv_pam_result(int r)
{
        switch (r) {
        case VIGIL_E_DENIED:
        case VIGIL_E_PARSE:
        case VIGIL_E_TOO_BIG:
                return PAM_AUTH_ERR;
        case PV_E_CONV:
                return PAM_CONV_ERR;
        case -ENOMEM:
                return PAM_BUF_ERR;
        case -ENOENT:
        case -ECONNREFUSED:
        case -ECONNRESET:
        case -EPIPE:
        case -ETIMEDOUT:
        case -EHOSTUNREACH:
        case -EBADMSG:
        case -EPROTO:
        case -EIO:
        case -EBUSY:
        case -EAGAIN:
        case -ENOKEY:
                return PAM_AUTHINFO_UNAVAIL;
        default:
                return PAM_AUTH_ERR;
        }
}

bool pv_identity_in_group(const vigil_identity *id, const char *group)
{
        for (size_t i = 0; i < id->n_groups; i++)
                if (strcmp(id->groups[i], group) == 0)
                        return true;
        return false;
}
