/* pam_vigil.so loads as libpam loads it (dlopen, RTLD_NOW: every symbol
 * resolves), offers the PAM entry points, and nothing else of its insides:
 * the identity, vigild-client and module helpers stay local (pam_vigil.sym). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static int n, failed;

static void check(int ok, const char *what)
{
        n++;
        if (!ok)
                failed++;
        printf("%sok %d - %s\n", ok ? "" : "not ", n, what);
}

int main(void)
{
        static const char *const exported[] = { "pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
                                                "pam_sm_open_session", "pam_sm_close_session" };
        static const char *const hidden[] = { "pv_args_parse",      "vigil_device_poll",
                                              "pv_form_add",        "pv_handoff_register",
                                              "vigil_verifier_new", "vigil_config_load",
                                              "vigild_connect",     "vmsg_decode",
                                              "b64url_decode" };
        const char *path = getenv("PAM_VIGIL_SO");
        void *h;

        if (!path) {
                fprintf(stderr, "PAM_VIGIL_SO is not set\n");
                return 1;
        }
        printf("1..%zu\n", 2 + sizeof exported / sizeof *exported + sizeof hidden / sizeof *hidden);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        check(h != NULL, "dlopen RTLD_NOW");
        if (!h) {
                fprintf(stderr, "%s\n", dlerror());
                return 1;
        }
        for (size_t i = 0; i < sizeof exported / sizeof *exported; i++) {
                char what[128];

                snprintf(what, sizeof what, "%s is exported", exported[i]);
                check(dlsym(h, exported[i]) != NULL, what);
        }
        for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++) {
                char what[128];

                snprintf(what, sizeof what, "%s is not exported", hidden[i]);
                check(dlsym(h, hidden[i]) == NULL, what);
        }
        check(dlclose(h) == 0, "dlclose");
        return failed ? 1 : 0;
}
