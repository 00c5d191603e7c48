/* comm.h: the process group of a data-parallel training across processes
 * (MPI ranks, `mpirun -n N clunet train ...`).
 *
 * A NULL struct cu_comm * is the single process: rank 0 of 1, and every
 * collective below is the identity (the sums leave buf as it is). Builds
 * without MPI (meson -Dmpi=disabled, or MPI not found) only ever have that.
 *
 * Every collective must be called by every rank in the same order. A rank
 * that fails must not simply return while the others wait in a sum:
 * cu_comm_agree exchanges each rank's status at the points where one may
 * fail alone (reading data, a NaN loss, writing files on rank 0), so that all
 * ranks stop together with the first rank's error.
 *
 * Leaves out: which rank does what in training (train.c), the in-process
 * replicas on several devices (replicas.h). */
#ifndef CLUNET_COMM_H
#define CLUNET_COMM_H

#include <stddef.h>

#include "clunet/status.h"

struct cu_comm;

/* Joins the process group when this process was started by an MPI launcher
 * (and clunet was built with MPI); otherwise *out = NULL (single process).
 * Call once, from main, before anything else reads argv. */
enum cu_status cu_comm_open(int *argc, char ***argv, struct cu_comm **out, struct cu_err *err);
/* Leaves the group (MPI_Finalize); NULL is fine. */
void cu_comm_close(struct cu_comm *c);
/* Ends every rank now with exit code `code` (MPI_Abort): for a rank that
 * fails alone, outside cu_comm_agree, so that the others do not wait
 * forever in a collective. Returns only for NULL (single process). */
void cu_comm_abort(struct cu_comm *c, int code);

int cu_comm_rank(const struct cu_comm *c);
int cu_comm_size(const struct cu_comm *c);

/* In place, buf[i] = the sum of buf[i] over all ranks. */
enum cu_status cu_comm_sum_f32(struct cu_comm *c, float *buf, size_t n, struct cu_err *err);
enum cu_status cu_comm_sum_f64(struct cu_comm *c, double *buf, size_t n, struct cu_err *err);
/* Rank 0's bytes to every rank. */
enum cu_status cu_comm_bcast(struct cu_comm *c, void *buf, size_t bytes, struct cu_err *err);
/* Returns st if every rank passed CU_OK, else the status of the lowest
 * failing rank; a rank that did not fail gets that rank's one-line message
 * in err (prefixed "rank R: "). */
enum cu_status cu_comm_agree(struct cu_comm *c, enum cu_status st, struct cu_err *err);
/* The rank whose failure the last cu_comm_agree returned to every rank, or
 * -1 (it returned CU_OK, or none ran). Rank 0 then holds that message, so
 * the other ranks need not print theirs (cu_cli_report). */
int cu_comm_failed_rank(const struct cu_comm *c);

/* What this build can do: "none" or e.g. "MPI (Open MPI v4.1.4)". */
const char *cu_comm_library(void);

#endif
