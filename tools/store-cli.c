#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-cli.h"
#include "view.h"
#include "vigil-error.h"

int cli_store_open(const vigil_globals *g, const char *cmd, bool write, vigil_store **ret)
{
        vigil_store_options o = {
                .dir = g->store,
                /* For tests and unusual layouts; the supervisor reads the same variable. */
                .key_path = secure_getenv("VIGIL_HOST_KEY"),
                .flags = write ? 0 : VIGIL_STORE_READONLY,
        };
        char why[VIEW_ERR_MAX + 1];
        int r = vigil_store_open(&o, ret);

        if (r < 0) {
                /* the words vigild's store backend sends, for the same output */
                view_store_open_error(g->store, r, why, sizeof why);
                cli_error("%s: %s", cmd, why);
                return EXIT_FAIL;
        }
        return 0;
}

int cli_store_error(vigil_store *st, const char *cmd, const char *what, int r)
{
        char why[VIEW_ERR_MAX + 1];

        view_store_error(st, what, r, why, sizeof why);
        cli_error("%s: %s", cmd, why);
        return EXIT_FAIL;
}

int cli_find_error(const char *cmd, const char *arg, int r)
{
        switch (r) {
        case -ENOENT:
                cli_error("%s: no session '%s'", cmd, arg);
                return EXIT_FAIL;
        case -ENOTUNIQ:
                cli_error("%s: session prefix '%s' is ambiguous; give more of the id", cmd, arg);
                return EXIT_FAIL;
        case -EINVAL:
                cli_error("%s: '%s' is not a session id (hexadecimal, dashes optional)", cmd, arg);
                return EXIT_FAIL;
        default:
                return -1;
        }
}

int cli_find_session(vigil_store *st, const char *cmd, const char *arg, uint8_t ret_id[VIGIL_SESSION_ID_LEN])
{
        int r = vigil_store_find_session(st, arg, ret_id);

        if (r == 0)
                return 0;
        if (cli_find_error(cmd, arg, r) == EXIT_FAIL)
                return EXIT_FAIL;
        return cli_store_error(st, cmd, "find session", r);
}

int cli_time_arg(const char *cmd, const char *opt, const char *arg, uint64_t *ret_us)
{
        if (vigil_parse_time(arg, vigil_now_us(), ret_us) < 0)
                return cli_usage_error(cmd, "%s: invalid time '%s' (RFC 3339, or relative like 2h, 7d)", opt, arg);
        return 0;
}

void cli_format_duration(uint64_t us, char buf[32])
{
        uint64_t s = us / 1000000u;

        if (s >= 3600)
                snprintf(buf, 32, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
                         (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
        else if (s >= 60)
                snprintf(buf, 32, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
        else
                snprintf(buf, 32, "%llu.%01llus", (unsigned long long)s, (unsigned long long)(us / 100000u % 10));
}

const char *cli_how_name(const vigil_session_info *i)
{
        return view_how_name(i);
}
