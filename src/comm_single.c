/* comm_single.c: comm.h for builds without MPI: there is only the single
 * process (a NULL group), and every collective is the identity.
 * Leaves out: MPI (comm_mpi.c replaces this file when MPI is built in). */
#include "clunet/comm.h"

enum cu_status cu_comm_open(int *argc, char ***argv, struct cu_comm **out, struct cu_err *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    *out = NULL;
    return CU_OK;
}

void cu_comm_close(struct cu_comm *c) { (void)c; }

void cu_comm_abort(struct cu_comm *c, int code) { (void)c, (void)code; }

int cu_comm_rank(const struct cu_comm *c)
{
    (void)c;
    return 0;
}

int cu_comm_size(const struct cu_comm *c)
{
    (void)c;
    return 1;
}

enum cu_status cu_comm_sum_f32(struct cu_comm *c, float *buf, size_t n, struct cu_err *err)
{
    (void)c, (void)buf, (void)n, (void)err;
    return CU_OK;
}

enum cu_status cu_comm_sum_f64(struct cu_comm *c, double *buf, size_t n, struct cu_err *err)
{
    (void)c, (void)buf, (void)n, (void)err;
    return CU_OK;
}

enum cu_status cu_comm_bcast(struct cu_comm *c, void *buf, size_t bytes, struct cu_err *err)
{
    (void)c, (void)buf, (void)bytes, (void)err;
    return CU_OK;
}

enum cu_status cu_comm_agree(struct cu_comm *c, enum cu_status st, struct cu_err *err)
{
    (void)c, (void)err;
    return st;
}

int cu_comm_failed_rank(const struct cu_comm *c)
{
    (void)c;
    return -1;
}

const char *cu_comm_library(void) { return "none"; }
