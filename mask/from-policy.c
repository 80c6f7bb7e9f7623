/* Building the matcher set from a loaded policy. */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "mask-internal.h"

int vigil_mask_set_from_policy(const vigil_policy *p, vigil_mask_set **ret, char **ret_error)
{
        _cleanup_free_ vigil_mask_rule *rules = NULL;
        size_t n;

        if (!p || !ret)
                return -EINVAL;
        n = vigil_policy_n_masks(p);
        rules = calloc(n ?: 1, sizeof(*rules));
        if (!rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const vigil_mask_rule *r = vigil_policy_mask(p, i);

                if (!r)
                        return -EINVAL;
                rules[i] = *r;
        }
        return vigil_mask_set_new(rules, n, ret, ret_error);
}
