/* comm_mpi.c: comm.h over MPI, for `mpirun -n N clunet train ...`.
 *
 * The group is a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN, so an
 * MPI failure becomes one CU_EDEVICE line instead of the library aborting.
 * MPI is initialised only when an MPI launcher started this process (its
 * environment says so): a plain `clunet ...` never pays MPI_Init's start-up
 * time nor sees its warnings, and gets the single-process NULL group.
 *
 * Leaves out: builds without MPI (comm_single.c), what each rank does in
 * training (train.c). */
#include "clunet/comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cu_comm {
    MPI_Comm comm;
    int rank, size;
    int failed_rank; /* lowest failing rank of the last failed agree, or -1 */
};

/* The largest element count of one MPI call: counts are int. (The
 * comm_chunks test builds this file with a small one.) */
#ifndef CU_COMM_CHUNK
#define CU_COMM_CHUNK ((size_t)1 << 30)
#endif
#define CHUNK ((size_t)CU_COMM_CHUNK)

/* Variables the launchers of Open MPI, MPICH/Hydra, Intel MPI, PMIx and
 * Slurm's PMI set in every process they start. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                                       "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static enum cu_status mpi_fail(struct cu_err *err, const char *what, int rc)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "MPI error %d", rc);
    s[len > 0 && len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = '\0';
    return cu_fail(err, CU_EDEVICE, "MPI: %s failed: %s", what, s);
}

enum cu_status cu_comm_open(int *argc, char ***argv, struct cu_comm **out, struct cu_err *err)
{
    *out = NULL;
    if (!launched_by_mpi())
        return CU_OK;
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    /* The loader's threads never call MPI; only the main thread does. */
    if (!inited && MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cu_fail(err, CU_EDEVICE, "MPI: MPI_Init_thread failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    struct cu_comm *c = calloc(1, sizeof *c);
    if (!c)
        return cu_fail(err, CU_EDEVICE, "MPI: out of host memory");
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &c->comm);
    if (rc != MPI_SUCCESS) {
        free(c);
        return mpi_fail(err, "MPI_Comm_dup", rc);
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c->comm, &c->rank);
    MPI_Comm_size(c->comm, &c->size);
    c->failed_rank = -1;
    *out = c;
    return CU_OK;
}

void cu_comm_close(struct cu_comm *c)
{
    if (!c)
        return;
    MPI_Comm_free(&c->comm);
    free(c);
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

void cu_comm_abort(struct cu_comm *c, int code)
{
    if (c)
        MPI_Abort(c->comm, code);
}

int cu_comm_rank(const struct cu_comm *c) { return c ? c->rank : 0; }

int cu_comm_size(const struct cu_comm *c) { return c ? c->size : 1; }

int cu_comm_failed_rank(const struct cu_comm *c) { return c ? c->failed_rank : -1; }

static enum cu_status sum(struct cu_comm *c, void *buf, size_t n, size_t elem, MPI_Datatype t, struct cu_err *err)
{
    if (!c || c->size == 1)
        return CU_OK;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = n - off < CHUNK ? n - off : CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * elem, (int)k, t, MPI_SUM, c->comm);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return CU_OK;
}

enum cu_status cu_comm_sum_f32(struct cu_comm *c, float *buf, size_t n, struct cu_err *err)
{
    return sum(c, buf, n, sizeof(float), MPI_FLOAT, err);
}

enum cu_status cu_comm_sum_f64(struct cu_comm *c, double *buf, size_t n, struct cu_err *err)
{
    return sum(c, buf, n, sizeof(double), MPI_DOUBLE, err);
}

static enum cu_status bcast_from(struct cu_comm *c, int root, void *buf, size_t bytes, struct cu_err *err)
{
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t k = bytes - off < CHUNK ? bytes - off : CHUNK;
        int rc = MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, root, c->comm);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast", rc);
    }
    return CU_OK;
}

enum cu_status cu_comm_bcast(struct cu_comm *c, void *buf, size_t bytes, struct cu_err *err)
{
    if (!c || c->size == 1)
        return CU_OK;
    return bcast_from(c, 0, buf, bytes, err);
}

/* The failing rank's status and message, as sent to the others. */
struct verdict {
    int status;
    char msg[sizeof((struct cu_err *)0)->msg];
};

enum cu_status cu_comm_agree(struct cu_comm *c, enum cu_status st, struct cu_err *err)
{
    if (!c)
        return st;
    c->failed_rank = -1;
    if (c->size == 1) {
        if (st)
            c->failed_rank = 0;
        return st;
    }
    /* The lowest failing rank: each rank offers its own number if it
     * failed, else size (no rank); the minimum is the answer. */
    int mine = st ? c->rank : c->size, first = c->size;
    int rc = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Allreduce", rc);
    if (first == c->size)
        return CU_OK;
    struct verdict v = {.status = st};
    if (c->rank == first)
        snprintf(v.msg, sizeof v.msg, "%s", err && err->status ? err->msg : "failed (no message)");
    enum cu_status bst = bcast_from(c, first, &v, sizeof v, err);
    if (bst)
        return bst;
    c->failed_rank = first;
    if (c->rank == first)
        return st;
    v.msg[sizeof v.msg - 1] = '\0';
    if (err && !st)
        cu_fail(err, (enum cu_status)v.status, "rank %d: %s", first, v.msg);
    return (enum cu_status)v.status;
}

const char *cu_comm_library(void)
{
    static char name[MPI_MAX_LIBRARY_VERSION_STRING + 8];
    if (!name[0]) {
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(v, &len);
        v[len > 0 && len < MPI_MAX_LIBRARY_VERSION_STRING ? len : MPI_MAX_LIBRARY_VERSION_STRING - 1] = '\0';
        v[strcspn(v, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4" */
        snprintf(name, sizeof name, "MPI (%s)", v);
    }
    return name;
}
