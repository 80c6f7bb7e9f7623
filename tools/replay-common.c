#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "replay-common.h"

void replay_marker_text(const vigil_frame *fr, char *buf, size_t size)
{
        if (fr->kind == VIGIL_FRAME_CUT) {
                snprintf(buf, size, "\r\n[vigil: output limit reached here; what follows is kept as digests]\r\n");
                return;
        }
        if (fr->kind == VIGIL_FRAME_DIGEST) {
                char hex[65];

                for (int i = 0; i < 32; i++)
                        snprintf(hex + 2 * i, 3, "%02x", fr->sha256[i]);
                snprintf(buf, size, "\r\n[vigil: %llu bytes of binary output not recorded, sha256 %s]\r\n",
                         (unsigned long long)fr->len, hex);
                return;
        }
        buf[0] = 0;
}

void replay_marker(FILE *f, const vigil_frame *fr)
{
        char buf[256];

        replay_marker_text(fr, buf, sizeof buf);
        fputs(buf, f);
}

int parse_positive(const char *s, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}
