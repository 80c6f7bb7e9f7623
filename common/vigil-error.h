/* vigil's own error codes, in a range no errno uses, and their text. */
#pragma once

enum {
        VIGIL_E_FIRST = -10100,
        VIGIL_E_PARSE = VIGIL_E_FIRST, /* input is malformed; details in the diagnostic */
        VIGIL_E_TOO_BIG,               /* input exceeds a documented bound */
        VIGIL_E_DENIED,                /* a check decided no (not an error of vigil) */
        VIGIL_E_FORMAT,                /* stored data of a format version we do not know */
        VIGIL_E_CORRUPT,               /* stored data fails its own checks */
        VIGIL_E_LAST,
};

/**
 * vigil_strerror() - text of an error code.
 * @param[in] r  a negative errno or a VIGIL_E_* code (the sign is ignored).
 * @return a static string; never NULL.
 */
const char *vigil_strerror(int r);
