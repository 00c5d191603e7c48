/* cli.c: helpers shared by the sub-commands (see include/clunet/cli.h). */
#include "clunet/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/comm.h"

static struct cu_comm *the_comm;
static int quiet;

void cu_cli_set_quiet(int q) { quiet = q; }

int cu_cli_quiet(void) { return quiet; }

static const char *device; /* the global --device: a pointer into argv */

void cu_cli_set_device(const char *spec) { device = spec; }

const char *cu_cli_device(void)
{
    const char *env = getenv("CLUNET_DEVICE");
    return device ? device : env && *env ? env : NULL;
}

void cu_cli_set_comm(struct cu_comm *c) { the_comm = c; }

struct cu_comm *cu_cli_comm(void) { return the_comm; }

void cu_cli_exit_codes(FILE *f)
{
    fprintf(f, "exit codes:\n");
    for (const struct cu_exit_code *c = cu_exit_codes; c->meaning; c++) {
        fprintf(f, "  %-4d ", c->code);
        for (const char *p = c->meaning; *p; p++)
            fprintf(f, *p == '\n' ? "\n       " : "%c", *p);
        fprintf(f, "\n");
    }
}

int cu_cli_report(const struct cu_err *err)
{
    if (!err || err->status == CU_OK)
        return 0;
    int rank = cu_comm_rank(the_comm), failed = cu_comm_failed_rank(the_comm);
    if (cu_comm_size(the_comm) > 1 && failed >= 0 && rank != 0)
        return (int)err->status; /* rank 0 prints the agreed failure */
    if (rank != 0 && failed < 0)
        fprintf(stderr, "clunet: rank %d: %s\n", rank, err->msg); /* a failure of this rank alone */
    else
        fprintf(stderr, "clunet: %s\n", err->msg); /* rank 0's, or already "rank R: ..." */
    if (err->detail[0]) {
        size_t len = strlen(err->detail);
        fprintf(stderr, "%s%s", err->detail, err->detail[len - 1] == '\n' ? "" : "\n");
    }
    return (int)err->status;
}
