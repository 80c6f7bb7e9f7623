/* Fuzz target: vigild's reading of vigil.conf's `auditors` and `responders`
 * (vigild/access.c): the principal list parser on the raw input as one
 * value, and the whole path from a configuration file (config component)
 * to the two lists. Pure: no NSS. A diagnostic must be one line of
 * printable text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config/config.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const principal_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                if (!l->items[i].name || !l->items[i].name[0] || l->n > ACCESS_MAX_PRINCIPALS)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        principal_list l = { 0 };
        vigil_config *cfg = NULL;
        vigild_access *a = NULL;
        char err[512] = "";

        if (size > VIGIL_CONF_MAX_FILE)
                return 0;
        if (principal_list_parse((const char *)data, size, &l, err, sizeof err) < 0) {
                if (!err[0] || !vtext_valid((const uint8_t *)err, strlen(err)))
                        abort();
        } else {
                check_list(&l);
                principal_list_clear(&l);
        }

        if (vigil_config_parse((const char *)data, size, "fuzz", &cfg, NULL) < 0)
                return 0;
        err[0] = '\0';
        if (access_parse_config(cfg, &a, err, sizeof err) < 0) {
                if (!err[0] || !vtext_valid((const uint8_t *)err, strlen(err)))
                        abort();
        } else {
                check_list(&a->auditors);
                check_list(&a->responders);
                access_free(a);
        }
        vigil_config_free(cfg);
        return 0;
}
