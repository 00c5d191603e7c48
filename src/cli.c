/* cli.c: helpers shared by the sub-commands (see include/clunet/cli.h). */
#include "clunet/cli.h"

#include <stdio.h>
#include <string.h>

int cu_cli_report(const struct cu_err *err)
{
    if (!err || err->status == CU_OK)
        return 0;
    fprintf(stderr, "clunet: %s\n", err->msg);
    if (err->detail[0]) {
        size_t len = strlen(err->detail);
        fprintf(stderr, "%s%s", err->detail, err->detail[len - 1] == '\n' ? "" : "\n");
    }
    return (int)err->status;
}
