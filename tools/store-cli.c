#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-cli.h"
#include "vigil-error.h"

int cli_store_open(const vigil_globals *g, const char *cmd, bool write, vigil_store **ret)
{
        vigil_store_options o = {
                .dir = g->store,
                /* For tests and unusual layouts; the supervisor reads the same variable. */
                .key_path = secure_getenv("VIGIL_HOST_KEY"),
                .flags = write ? 0 : VIGIL_STORE_READONLY,
        };
        int r = vigil_store_open(&o, ret);

        if (r < 0) {
                const char *m = vigil_store_open_errmsg();

                if (m && *m)
                        cli_error("%s: %s", cmd, m);
                else
                        cli_error("%s: cannot open store '%s': %s", cmd, g->store, vigil_strerror(r));
                return EXIT_FAIL;
        }
        return 0;
}

int cli_store_error(vigil_store *st, const char *cmd, const char *what, int r)
{
        const char *m = st ? vigil_store_errmsg(st) : NULL;

        if (m && *m)
                cli_error("%s: %s: %s", cmd, what, m);
        else
                cli_error("%s: %s: %s", cmd, what, vigil_strerror(r));
        return EXIT_FAIL;
}

int cli_find_session(vigil_store *st, const char *cmd, const char *arg, uint8_t ret_id[VIGIL_SESSION_ID_LEN])
{
        int r = vigil_store_find_session(st, arg, ret_id);

        switch (r) {
        case 0:
                return 0;
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
                return cli_store_error(st, cmd, "find session", r);
        }
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
        switch (i->how) {
        case VIGIL_END_EXIT:
                return "exit";
        case VIGIL_END_KILLED:
                return "killed";
        case VIGIL_END_LOST:
                return "lost";
        case VIGIL_END_LIVE:
                break;
        }
        return vigil_session_writer_alive(i) ? "live" : "orphan";
}
