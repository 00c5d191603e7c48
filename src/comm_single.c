/* comm_single.c: comm.h for builds without MPI: there is only the single
 * process (a NULL group), and every collective is the identity; started by
 * mpirun as several processes, it refuses to run.
 * Leaves out: MPI (comm_mpi.c replaces this file when MPI is built in). */
#include "clunet/comm.h"

#include <stdlib.h>

/* Started by an MPI launcher as one of several processes? Each would then
 * train alone and all would write the same run folder: refuse instead. */
static int launched_as_many(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return atoi(v);
    }
    return 0;
}

enum cu_status cu_comm_open(int *argc, char ***argv, struct cu_comm **out, struct cu_err *err)
{
    (void)argc;
    (void)argv;
    *out = NULL;
    int n = launched_as_many();
    if (n)
        return cu_fail(err, CU_EUSAGE,
                       "started as one of %d MPI processes, but this clunet was built without MPI "
                       "(install libopenmpi-dev, then meson setup -Dmpi=enabled)",
                       n);
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
