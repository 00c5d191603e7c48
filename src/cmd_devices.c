/* cmd_devices.c: PLACEHOLDER, the cl helper replaces it. */
#include <stdio.h>
#include "clunet/cli.h"
int cu_cmd_devices(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("ref\n");
    return 0;
}
