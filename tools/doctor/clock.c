/* Token lifetimes (exp, nbf, iat, max_token_age) and recording times are
 * only as right as the clock: a clock that runs off lets expired tokens in
 * or keeps valid ones out. The kernel knows whether something (NTP,
 * chrony, systemd-timesyncd) keeps it synchronised. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/timex.h>

#include "doctor.h"

void doctor_check_clock(doctor_ctx *c)
{
        struct timex tx = { .modes = 0 }; /* read only */
        int state = adjtimex(&tx);

        if (state < 0) {
                doctor_note(c, "cannot read the clock's state (adjtimex: %s)", strerror(errno));
                return;
        }
        if (state == TIME_ERROR)
                doctor_finding(c, "clock",
                               "run a time synchronisation service (apt install systemd-timesyncd, or chrony)",
                               "the system clock is not synchronised (adjtimex reports TIME_ERROR, maximum error "
                               "%ld us): token lifetimes and recording times cannot be trusted",
                               tx.maxerror);
}
