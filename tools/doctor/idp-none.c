/* This build has no identity library (identity/): the identity provider's
 * TLS and the JWKS cache are not checked. */
#include "doctor.h"

void doctor_check_idp(doctor_ctx *c)
{
        doctor_note(c, "this build has no identity library: the identity provider's TLS and the JWKS cache are "
                       "not checked");
}
