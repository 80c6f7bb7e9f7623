/* No backends at all: every operation is absent, and vigild answers each
 * request that needs one with VS_UNAVAILABLE and the line "not available in
 * this build (no <what> backend)". The vigild binary uses vigild_ops_vigil
 * (ops-vigil.c); this is for running the core without components. */
#include "ops.h"

const vigild_ops vigild_ops_unavailable = {
        .backends = "none",
};
