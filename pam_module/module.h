/* What auth.c and account.c share: the per-call context (arguments, PAM
 * user, configuration), logging, and the result mapping. Internal to the
 * module; the module's interface is the PAM one (pam_sm_*). */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "args.h"
#include "config/config.h"
#include "identity.h"

/* pam_set_data() key of the verified identity (a vigil_identity *), from
 * auth to account within one PAM handle. */
#define PV_DATA_IDENTITY "vigil.identity"

/* All the person ever sees when a sign-in fails: no oracle. */
#define PV_REFUSED_TEXT "vigil: sign-in refused"

/* Everything one pam_sm_* call works with. Lives on that call's stack:
 * nothing survives the call except what goes through pam_set_data(). */
typedef struct pv_ctx {
        pam_handle_t *pamh;
        int flags;
        pv_args args;
        const char *user;    /* PAM_USER, owned by libpam */
        char *ulog;          /* the user name cleaned for log lines (pv_text_clean), owned */
        const char *service; /* PAM_SERVICE, owned by libpam */
        vigil_config *cfg;   /* owned */
} pv_ctx;

/**
 * pv_ctx_init() - parse the arguments, get the user and load the configuration.
 * Every failure is logged (pam_syslog) with its reason.
 * @return PAM_SUCCESS; PAM_SERVICE_ERR (bad argument, configuration missing or
 *         invalid, a key the mode needs missing); PAM_USER_UNKNOWN (no user name);
 *         PAM_BUF_ERR.
 */
int pv_ctx_init(pv_ctx *c, pam_handle_t *pamh, int flags, int argc, const char **argv);

/** Release what pv_ctx_init() acquired. */
void pv_ctx_done(pv_ctx *c);

/** Show PV_REFUSED_TEXT to the person (not with PAM_SILENT). */
void pv_tell_refused(const pv_ctx *c);

/**
 * pv_pam_result() - a PAM result for an internal code: VIGIL_E_DENIED and
 * other refusals -> PAM_AUTH_ERR; a provider or vigild that cannot be reached
 * -> PAM_AUTHINFO_UNAVAIL; a failed conversation -> PAM_CONV_ERR; -ENOMEM ->
 * PAM_BUF_ERR. Never PAM_SUCCESS or PAM_IGNORE for a negative code.
 */
int pv_pam_result(int r);

/** Is @group among the identity's groups? */
bool pv_identity_in_group(const vigil_identity *id, const char *group);

/* -ECONNABORTED is reserved for "the conversation failed" inside the module. */
#define PV_E_CONV (-ECONNABORTED)

#define pv_debug(c, ...)                                                                                    \
        do {                                                                                                \
                if ((c)->args.debug)                                                                        \
                        pam_syslog((c)->pamh, LOG_DEBUG, __VA_ARGS__);                                      \
        } while (0)
