/* vigild: the privileged broker (docs/vigild.md), with its real backends. */
#include "ops.h"

int main(int argc, char **argv)
{
        return vigild_main(argc, argv, &vigild_ops_vigil);
}
