#include <string.h>

#include "vigil-error.h"

const char *vigil_strerror(int r)
{
        static const char *const texts[] = {
                [VIGIL_E_PARSE - VIGIL_E_FIRST] = "malformed input",
                [VIGIL_E_TOO_BIG - VIGIL_E_FIRST] = "input too large",
                [VIGIL_E_DENIED - VIGIL_E_FIRST] = "denied",
                [VIGIL_E_FORMAT - VIGIL_E_FIRST] = "unknown format version",
                [VIGIL_E_CORRUPT - VIGIL_E_FIRST] = "data is corrupt",
        };

        if (r > 0)
                r = -r;
        if (r >= VIGIL_E_FIRST && r < VIGIL_E_LAST)
                return texts[r - VIGIL_E_FIRST];
        return strerror(-r);
}
