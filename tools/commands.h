/* The table of `vigil` subcommands; one file per command (cmd-*.c). */
#pragma once

#include "cli.h"

int cmd_doctor(int argc, char **argv, const vigil_globals *g);
int cmd_policy(int argc, char **argv, const vigil_globals *g);
int cmd_token(int argc, char **argv, const vigil_globals *g);
int cmd_sessions(int argc, char **argv, const vigil_globals *g);
int cmd_replay(int argc, char **argv, const vigil_globals *g);
int cmd_search(int argc, char **argv, const vigil_globals *g);
int cmd_export(int argc, char **argv, const vigil_globals *g);
int cmd_audit(int argc, char **argv, const vigil_globals *g);
int cmd_verify(int argc, char **argv, const vigil_globals *g);
int cmd_watch(int argc, char **argv, const vigil_globals *g);
int cmd_kill(int argc, char **argv, const vigil_globals *g);
int cmd_prune(int argc, char **argv, const vigil_globals *g);
int cmd_store(int argc, char **argv, const vigil_globals *g);
int cmd_run(int argc, char **argv, const vigil_globals *g);
int cmd_approvals(int argc, char **argv, const vigil_globals *g);
int cmd_approve(int argc, char **argv, const vigil_globals *g);
int cmd_deny(int argc, char **argv, const vigil_globals *g);
