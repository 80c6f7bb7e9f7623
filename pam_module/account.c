/* pam_sm_acct_mgmt: may the signed-in identity use this account now?
 * require_group (and, on a sudo stack, sudo_group) must be among the
 * token's groups, and the token must not have expired. The identity comes
 * from auth on the same handle (sshd runs account in the same child as
 * keyboard-interactive auth; sudo on the same handle) or, for a caller that
 * runs account apart from auth, from vigild through the login reference. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "handoff.h"
#include "module.h"
#include "text.h"
#include "vigil-error.h"

/* Log why (values in it already cleaned), tell the person, return @pam_result. */
_printf_(3, 4) static int refuse(const pv_ctx *c, int pam_result, const char *fmt, ...)
{
        _cleanup_free_ char *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&why, fmt, ap) < 0)
                why = NULL;
        va_end(ap);
        pam_syslog(c->pamh, LOG_NOTICE, "account refused for '%s': %s", c->ulog, PV_TC(why));
        pv_tell_refused(c);
        return pam_result;
}

int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(pv_ctx_done) pv_ctx c = {};
        _cleanup_free_ char *reason = NULL;
        vigil_identity *owned = NULL;
        const vigil_identity *id = NULL;
        const void *data = NULL;
        const char *ref, *from = "auth";
        int r, pr;

        pr = pv_ctx_init(&c, pamh, flags, argc, argv);
        if (pr != PAM_SUCCESS) {
                pv_tell_refused(&c);
                return pr;
        }

        if (pam_get_data(pamh, PV_DATA_IDENTITY, &data) == PAM_SUCCESS && data)
                id = data;
        else if (c.args.mode == PV_MODE_SUDO)
                /* sudo skips auth while its timestamp is valid, and then only
                 * asks account: that is no fresh sign-in, so no escalation. */
                return refuse(&c, PAM_AUTH_ERR,
                              "no sign-in on this request (sudo needs a fresh one each time)");
        else {
                ref = pam_getenv(pamh, PV_REF_ENV);
                if (!ref)
                        return refuse(&c, PAM_AUTH_ERR, "no vigil sign-in for this login (%s not set)",
                                      PV_REF_ENV);
                r = pv_handoff_lookup(c.args.vigild_socket, ref, c.user, &owned, &reason);
                if (r < 0) {
                        _cleanup_free_ char *clean = pv_text_clean(reason ? reason : vigil_strerror(r), 400);

                        return refuse(&c, pv_pam_result(r), "hand-off lookup: %s", PV_TC(clean));
                }
                id = owned;
                from = "vigild";
        }

        pr = PAM_SUCCESS;
        if (id->exp + (int64_t)c.cfg->clock_skew <= (int64_t)time(NULL))
                pr = refuse(&c, PAM_AUTH_ERR, "the token expired");
        else if (c.cfg->require_group && !pv_identity_in_group(id, c.cfg->require_group))
                pr = refuse(&c, PAM_PERM_DENIED, "the token's groups do not include require_group '%s'",
                            c.cfg->require_group);
        else if (c.args.mode == PV_MODE_SUDO && !pv_identity_in_group(id, c.cfg->sudo_group))
                pr = refuse(&c, PAM_PERM_DENIED, "the token's groups do not include sudo_group '%s'",
                            c.cfg->sudo_group);
        else
                pv_debug(&c, "account granted for '%s' (identity from %s)", c.ulog, from);
        vigil_identity_free(owned);
        return pr;
}
