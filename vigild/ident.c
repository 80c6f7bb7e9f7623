/* vigild_identity: the verified identity record handed between vigild and
 * its backends (ops.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ops.h"

vigild_identity *vigild_identity_free(vigild_identity *id)
{
        if (!id)
                return NULL;
        free(id->subject);
        free(id->username);
        free(id->email);
        free(id->jti);
        for (size_t i = 0; i < id->n_groups; i++)
                free(id->groups[i]);
        free(id->groups);
        free(id);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vigild_identity *, vigild_identity_free)

static int dup_opt(const char *s, char **ret)
{
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int vigild_identity_copy(const vigild_identity *src, vigild_identity **ret)
{
        _cleanup_(vigild_identity_freep) vigild_identity *id = calloc(1, sizeof *id);

        if (!id)
                return -ENOMEM;
        if (dup_opt(src->subject, &id->subject) < 0 || dup_opt(src->username, &id->username) < 0 ||
            dup_opt(src->email, &id->email) < 0 || dup_opt(src->jti, &id->jti) < 0)
                return -ENOMEM;
        id->exp = src->exp;
        if (src->n_groups) {
                id->groups = calloc(src->n_groups, sizeof *id->groups);
                if (!id->groups)
                        return -ENOMEM;
                for (size_t i = 0; i < src->n_groups; i++) {
                        id->groups[i] = strdup(src->groups[i]);
                        if (!id->groups[i])
                                return -ENOMEM;
                        id->n_groups++;
                }
        }
        *ret = TAKE_PTR(id);
        return 0;
}
