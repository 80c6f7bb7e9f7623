/* libFuzzer target: the vigil.conf parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vigil_config *c = NULL;
        char *err = NULL;

        if (vigil_config_parse((const char *)data, size, "fuzz.conf", &c, &err) == 0) {
                /* A configuration that parsed has what check_required() promises. */
                if (!c->issuer || !c->audience || c->algorithms.n == 0)
                        abort();
        } else if (err && strchr(err, '\n')) {
                abort(); /* every message is one line */
        }
        vigil_config_free(c);
        free(err);
        return 0;
}
