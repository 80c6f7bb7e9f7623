/* This build's backends: none. Every operation is absent, and vigild answers
 * each request that needs one with VS_UNAVAILABLE and the line "not available
 * in this build (no <what> backend)". The lead replaces this file's use in
 * main.c with the real components' operations (ops.h). */
#include "ops.h"

const vigild_ops vigild_ops_unavailable = {
        .backends = "none",
};
