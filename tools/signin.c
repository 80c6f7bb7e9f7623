#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "device-flow.h"
#include "signin.h"
#include "vigil-error.h"

typedef struct show_ctx {
        bool shown;
} show_ctx;

static void show(void *userdata, const char *uri, const char *code, const char *uri_complete,
                 int64_t expires_in_s)
{
        show_ctx *x = userdata;

        /* device-flow.c checked both to be printable ASCII (uri https://) */
        fprintf(stderr, "To sign in, open %s and enter %s\n", uri, code);
        if (uri_complete)
                fprintf(stderr, "or open %s\n", uri_complete);
        fprintf(stderr, "(waiting up to %llds for the sign-in)\n",
                (long long)(expires_in_s > 0 ? expires_in_s : 0));
        fflush(stderr);
        x->shown = true;
}

static int load_config(const vigil_globals *g, const char *cmd, vigil_config **ret)
{
        _cleanup_free_ char *err = NULL;
        int r = vigil_config_load(g->config, ret, &err);

        if (r < 0) {
                cli_error("%s: sign-in needs the identity provider's settings: %s", cmd,
                          err ? err : vigil_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}

int cli_sign_in(const vigil_globals *g, const char *cmd, char **ret_token)
{
        _cleanup_free_ char *reason = NULL;
        vigil_config *cfg = NULL;
        show_ctx x = { 0 };
        char *token = NULL;
        int r;

        if (load_config(g, cmd, &cfg))
                return EXIT_FAIL;
        r = vigil_device_sign_in(cfg, show, &x, vigil_device_now_ms() + (int64_t)cfg->login_timeout * 1000,
                                 &token, &reason);
        vigil_config_free(cfg);
        if (r < 0) {
                cli_error("%s: sign-in failed: %s", cmd, reason ? reason : vigil_strerror(r));
                return EXIT_FAIL;
        }
        *ret_token = token;
        return 0;
}

int cli_verify_approver_token(const vigil_globals *g, const char *cmd, const char *token,
                              vigil_identity **ret)
{
        _cleanup_free_ char *reason = NULL, *state = NULL;
        vigil_verifier_options opts = {};
        vigil_config *cfg = NULL;
        vigil_verifier *v = NULL;
        int r;

        if (load_config(g, cmd, &cfg))
                return EXIT_FAIL;
        /* --store moves the identity state (JWKS cache, spent jti) with the store, as for `vigil token` */
        if (g->store_set && asprintf(&state, "%s/identity", g->store) < 0)
                state = NULL;
        opts.state_dir = state;
        r = vigil_verifier_new(cfg, &opts, &v);
        if (r == 0)
                r = vigil_verifier_verify(v, token, strlen(token), NULL, VIGIL_VERIFY_ANY_USER, ret,
                                          &reason);
        vigil_verifier_free(v);
        vigil_config_free(cfg);
        if (r < 0) {
                cli_error("%s: sign-in refused: %s", cmd, reason ? reason : vigil_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}
