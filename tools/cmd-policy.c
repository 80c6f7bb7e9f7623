#include "commands.h"

int cmd_policy(int argc, char **argv, const vigil_globals *g)
{
        (void)argc;
        (void)argv;
        (void)g;
        cli_error("policy: not built yet");
        return EXIT_FAIL;
}
