/* cli.c: helpers shared by the sub-commands (see include/clunet/cli.h). */
#include "clunet/cli.h"

#include <stdio.h>

int cu_cli_report(const struct cu_err *err)
{
    if (!err || err->status == CU_OK)
        return 0;
    fprintf(stderr, "clunet: %s\n", err->msg);
    return (int)err->status;
}
