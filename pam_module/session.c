/* pam_sm_open_session / pam_sm_close_session: the hand-off of a login to
 * its supervisor.
 *
 * open_session checks that the account's login shell is vigil-shell (an
 * administrator, an NSS/LDAP entry or chsh may have changed it, and any
 * other shell would run unsupervised), then exchanges the login reference
 * auth left (VIGIL_LOGIN_REF) for a session reference (vigild's pam.open,
 * with the tty and the client address), and leaves that in the PAM
 * environment as VIGIL_SESSION_REF for vigil-shell, which presents it with
 * its terminal or pipes to vigild (session.start). close_session tells
 * vigild (pam.close) that the login is over: an unused reference is
 * dropped, a session still running is ended. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "handoff.h"
#include "module.h"
#include "text.h"
#include "vigil-error.h"

/* pam_set_data() key of the session handle (a string), open -> close. */
#define PV_DATA_HANDLE "vigil.session-handle"

/* What the person sees when their session cannot start. */
#define PV_NO_SESSION_TEXT "vigil: the session cannot start"

static void handle_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        free(data);
}

_printf_(3, 4) static int refuse(const pv_ctx *c, int pam_result, const char *fmt, ...)
{
        _cleanup_free_ char *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&why, fmt, ap) < 0)
                why = NULL;
        va_end(ap);
        pam_syslog(c->pamh, LOG_NOTICE, "session refused for '%s': %s", c->ulog, PV_TC(why));
        if (!(c->flags & PAM_SILENT))
                (void)pam_error(c->pamh, "%s", PV_NO_SESSION_TEXT);
        return pam_result;
}

/* The account's login shell, from NSS as the login itself will see it. */
static int login_shell(const char *user, char **ret)
{
        struct passwd pw, *res = NULL;
        char buf[16384];
        int r;

        r = getpwnam_r(user, &pw, buf, sizeof buf, &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ENOENT;
        *ret = strdup(pw.pw_shell ? pw.pw_shell : "");
        return *ret ? 0 : -ENOMEM;
}

static const char *item_str(pam_handle_t *pamh, int item)
{
        const void *v = NULL;

        return pam_get_item(pamh, item, &v) == PAM_SUCCESS ? v : NULL;
}

int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(pv_ctx_done) pv_ctx c = {};
        _cleanup_free_ char *shell = NULL, *reason = NULL, *clean = NULL, *handle = NULL;
        char env[sizeof PV_SESSION_REF_ENV + 1 + PV_REF_LEN + 1];
        const char *ref;
        pv_opened o = { 0 };
        int r, pr;

        pr = pv_ctx_init(&c, pamh, flags, argc, argv);
        if (pr != PAM_SUCCESS)
                return pr;
        if (c.args.mode == PV_MODE_SUDO) {
                /* a command sudo runs inside a session stays under that
                 * session's supervisor; there is nothing to hand off */
                pam_syslog(pamh, LOG_ERR,
                           "the session phase is for login stacks, not with 'sudo'; refusing");
                return PAM_SERVICE_ERR;
        }

        r = login_shell(c.user, &shell);
        if (r < 0)
                return refuse(&c, PAM_SESSION_ERR, "cannot look the account up: %s", vigil_strerror(r));
        if (strcmp(shell, c.args.vigil_shell) != 0) {
                clean = pv_text_clean(shell, 200);
                return refuse(&c, PAM_SESSION_ERR,
                              "its login shell is '%s', not '%s': it would run unsupervised", PV_TC(clean),
                              c.args.vigil_shell);
        }

        ref = pam_getenv(pamh, PV_REF_ENV);
        if (!ref)
                return refuse(&c, PAM_SESSION_ERR, "no vigil sign-in for this login (%s not set)",
                              PV_REF_ENV);
        r = pv_handoff_open(c.args.vigild_socket, ref, c.user, c.service, item_str(pamh, PAM_TTY),
                            item_str(pamh, PAM_RHOST), &o, &reason);
        /* used up either way: no later module or process gets to try it */
        (void)pam_putenv(pamh, PV_REF_ENV);
        if (r < 0) {
                clean = pv_text_clean(reason ? reason : vigil_strerror(r), 400);
                return refuse(&c, PAM_SESSION_ERR, "hand-off: %s", PV_TC(clean));
        }
        if (c.cfg->session_max == VIGIL_CONF_LIMIT_TOKEN && o.exp <= (int64_t)time(NULL)) {
                explicit_bzero(&o, sizeof o);
                return refuse(&c, PAM_SESSION_ERR,
                              "the sign-in expired before the session (session_max = token)");
        }

        handle = strdup(o.handle);
        (void)snprintf(env, sizeof env, "%s=%s", PV_SESSION_REF_ENV, o.ref);
        explicit_bzero(&o, sizeof o);
        pr = handle ? pam_putenv(pamh, env) : PAM_BUF_ERR;
        explicit_bzero(env, sizeof env);
        if (pr == PAM_SUCCESS && strcmp(c.args.vigild_socket, VIGILD_SOCKET_PATH) != 0) {
                _cleanup_free_ char *sock = NULL;

                pr = asprintf(&sock, "%s=%s", PV_SOCKET_ENV, c.args.vigild_socket) < 0
                             ? PAM_BUF_ERR
                             : pam_putenv(pamh, sock);
        }
        if (pr == PAM_SUCCESS)
                pr = pam_set_data(pamh, PV_DATA_HANDLE, handle, handle_cleanup);
        if (pr != PAM_SUCCESS) {
                (void)pam_putenv(pamh, PV_SESSION_REF_ENV);
                return refuse(&c, pr, "cannot keep the session reference: %s", pam_strerror(pamh, pr));
        }
        handle = NULL; /* the handle's data now */
        pam_syslog(pamh, LOG_INFO, "session for '%s' handed to vigil-shell (vigild has its reference)",
                   c.ulog);
        return PAM_SUCCESS;
}

int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(pv_ctx_done) pv_ctx c = {};
        _cleanup_free_ char *reason = NULL, *clean = NULL;
        const void *data = NULL;
        int r, pr;

        pr = pv_ctx_init(&c, pamh, flags, argc, argv);
        if (pr != PAM_SUCCESS)
                return pr;
        if (pam_get_data(pamh, PV_DATA_HANDLE, &data) != PAM_SUCCESS || !data) {
                pv_debug(&c, "close_session for '%s': no session was opened on this handle", c.ulog);
                return PAM_SUCCESS;
        }
        r = pv_handoff_close(c.args.vigild_socket, data, &reason);
        (void)pam_set_data(pamh, PV_DATA_HANDLE, NULL, NULL);
        (void)pam_putenv(pamh, PV_SESSION_REF_ENV);
        if (r < 0) {
                clean = pv_text_clean(reason ? reason : vigil_strerror(r), 400);
                pam_syslog(pamh, LOG_WARNING, "close_session for '%s': %s", c.ulog, PV_TC(clean));
                return PAM_SESSION_ERR;
        }
        pv_debug(&c, "session of '%s' closed", c.ulog);
        return PAM_SUCCESS;
}
