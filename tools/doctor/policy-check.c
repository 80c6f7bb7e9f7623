/* The policy must load: a policy that does not parse means no session
 * starts (fail closed), which the administrator should learn before users do. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "doctor.h"
#include "fileio.h"
#include "policy.h"
#include "vigil-error.h"

void doctor_check_policy(doctor_ctx *c)
{
        _cleanup_free_ char *path = doctor_path(c, c->policy), *text = NULL, *fix = NULL;
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        size_t len = 0;
        int r = path ? read_file_bounded(path, VIGIL_POLICY_MAX_FILE, &text, &len) : -ENOMEM;

        if (r == -ENOENT) {
                fix = doctor_fmt("install one: cp /usr/share/vigil/examples/production.policy %s, then adapt it",
                                 c->policy);
                doctor_finding(c, "policy", fix, "there is no policy at '%s': every session is refused", c->policy);
                return;
        }
        if (r < 0) {
                doctor_finding(c, "policy", "make the policy a readable regular file",
                               "cannot read the policy '%s': %s", c->policy, vigil_strerror(r));
                return;
        }
        r = vigil_policy_parse(text, len, c->policy, &p, &d);
        if (r < 0) {
                const vigil_diag *x = NULL;

                for (size_t i = 0; i < d.n && !x; i++)
                        if (d.items[i].level == VIGIL_DIAG_ERROR)
                                x = &d.items[i];
                fix = doctor_fmt("run 'vigil policy check %s' and correct every error", c->policy);
                if (x)
                        doctor_finding(c, "policy", fix,
                                       "the policy does not load (%zu error(s), first %s:%u:%u: %s): every session is "
                                       "refused",
                                       d.n_errors, c->policy, x->line, x->column, x->message);
                else
                        doctor_finding(c, "policy", fix, "the policy does not load (%s): every session is refused",
                                       vigil_strerror(r));
        }
        vigil_policy_free(p);
        vigil_diags_clear(&d);
}
