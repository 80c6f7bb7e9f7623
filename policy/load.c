#include <errno.h>
#include <stdlib.h>

#include "fileio.h"
#include "internal.h"
#include "macro.h"
#include "vigil-error.h"

int vigil_policy_load(const char *path, vigil_policy **ret, vigil_diags *diags)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r, k;

        r = read_file_bounded(path, VIGIL_POLICY_MAX_FILE, &text, &len);
        if (r == VIGIL_E_TOO_BIG) {
                k = diag_add(diags, VIGIL_DIAG_ERROR, 0, 0, "file is larger than %u bytes",
                             VIGIL_POLICY_MAX_FILE);
                return k < 0 ? k : r;
        }
        if (r < 0) {
                k = diag_add(diags, VIGIL_DIAG_ERROR, 0, 0, "cannot read the policy: %s", vigil_strerror(r));
                return k < 0 ? k : r;
        }
        return vigil_policy_parse(text, len, path, ret, diags);
}
