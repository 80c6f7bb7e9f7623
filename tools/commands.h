/* The table of `vigil` subcommands; one file per command (cmd-*.c). */
#pragma once

#include "cli.h"

int cmd_policy(int argc, char **argv, const vigil_globals *g);
int cmd_token(int argc, char **argv, const vigil_globals *g);
int cmd_run(int argc, char **argv, const vigil_globals *g);
