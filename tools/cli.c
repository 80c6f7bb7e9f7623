#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
        va_list ap;

        fputs("vigil: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "vigil: %s%s", cmd ? cmd : "", cmd ? ": " : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (try 'vigil %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
        return EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, int optopt_val, const char *arg)
{
        if (c == ':')
                return cli_usage_error(cmd, "option '%s' needs a value", arg ? arg : "?");
        if (optopt_val)
                return cli_usage_error(cmd, "unknown option '-%c'", optopt_val);
        return cli_usage_error(cmd, "unknown option '%s'", arg ? arg : "?");
}
