/* What every `vigil` subcommand shares: the global options and the way
 * usage errors are reported (one line, a hint, exit 2). */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Exit statuses of the CLI. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,  /* the command ran and the answer is "no" or it failed */
        EXIT_USAGE = 2, /* bad command line */
};

typedef struct vigil_globals {
        const char *store;  /* --store DIR, default VIGIL_DEFAULT_STORE */
        const char *policy; /* --policy FILE, default VIGIL_DEFAULT_POLICY */
        const char *config; /* --config FILE, default VIGIL_DEFAULT_CONFIG */
        bool store_set, policy_set, config_set;
} vigil_globals;

/* A subcommand: argv[0] is its name; global options are already removed. */
typedef int (*vigil_command_fn)(int argc, char **argv, const vigil_globals *g);

typedef struct vigil_command {
        const char *name;
        vigil_command_fn run;
        const char *summary;
} vigil_command;

/* Print "vigil: CMD: <message>" and the hint "Try 'vigil CMD --help'." to
 * stderr, return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* Print "vigil: <message>" to stderr. */
void cli_error(const char *fmt, ...) _printf_(1, 2);

/* The option string getopt_long should use: leading '+' (stop at the first
 * non-option, so `-- CMD ARGS` stays intact) and ':' (report missing
 * arguments distinctly). Commands call cli_getopt_error() on '?' or ':'. */
int cli_getopt_error(const char *cmd, int c, int optopt_val, const char *arg);
