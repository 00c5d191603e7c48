/* test_comm.c: the process group of comm.h.
 *
 * Run plainly it checks the single process: no launcher, so the group is
 * NULL, rank 0 of 1, and every collective leaves its buffer as it is.
 * Under `mpirun -n N` (the comm_mpi2 test, MPI builds only) it checks the
 * real collectives: sums of known per-rank values, a broadcast, and
 * cu_comm_agree when one rank fails, then that a plain failure is not
 * mistaken for an agreed one. Leaves out: training (test_train_mpi). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/comm.h"
#include "testutil.h"

static void check_single(struct cu_comm *c)
{
    struct cu_err err = {0};
    TU_CHECK(c == NULL, "no MPI launcher: the single-process group (NULL)");
    TU_CHECK(cu_comm_rank(c) == 0 && cu_comm_size(c) == 1, "rank %d of %d", cu_comm_rank(c), cu_comm_size(c));
    float f[5] = {1.5f, -2.0f, 0.0f, 1e30f, -0.0f};
    float f0[5];
    memcpy(f0, f, sizeof f);
    tu_ok(cu_comm_sum_f32(c, f, 5, &err), &err, "sum_f32");
    TU_CHECK(!memcmp(f, f0, sizeof f), "sum_f32 of one process is the identity (bit for bit)");
    double d[3] = {3.25, -1e-300, 7.0}, d0[3];
    memcpy(d0, d, sizeof d);
    tu_ok(cu_comm_sum_f64(c, d, 3, &err), &err, "sum_f64");
    TU_CHECK(!memcmp(d, d0, sizeof d), "sum_f64 of one process is the identity");
    char b[8] = "abcdefg";
    tu_ok(cu_comm_bcast(c, b, sizeof b, &err), &err, "bcast");
    TU_CHECK(!strcmp(b, "abcdefg"), "bcast of one process leaves the bytes");
    TU_CHECK(cu_comm_agree(c, CU_OK, &err) == CU_OK, "agree(ok) = ok");
    cu_fail(&err, CU_EINPUT, "x.png: bad");
    TU_CHECK(cu_comm_agree(c, CU_EINPUT, &err) == CU_EINPUT, "agree(EINPUT) = EINPUT");
    TU_CHECK(!strcmp(err.msg, "x.png: bad"), "agree keeps the message: %s", err.msg);
    const char *lib = cu_comm_library();
    TU_CHECK(lib && (!strcmp(lib, "none") || !strncmp(lib, "MPI (", 5)), "library: %s", lib ? lib : "(null)");
}

static void check_group(struct cu_comm *c)
{
    struct cu_err err = {0};
    int r = cu_comm_rank(c), n = cu_comm_size(c);
    TU_CHECK(n >= 2 && r >= 0 && r < n, "rank %d of %d", r, n);
    /* Small integers in float are exact, so the sum must be exact whatever
     * the order: element i of rank r is r + 1 + i, summed n(n+1)/2 + n*i. */
    enum { N = 1000 };
    float *f = malloc(N * sizeof *f);
    double *d = malloc(N * sizeof *d);
    for (int i = 0; i < N; i++)
        f[i] = (float)(r + 1 + i), d[i] = (double)(r + 1) * 0.5 + i;
    tu_ok(cu_comm_sum_f32(c, f, N, &err), &err, "sum_f32");
    tu_ok(cu_comm_sum_f64(c, d, N, &err), &err, "sum_f64");
    int bad = 0;
    for (int i = 0; i < N; i++) {
        bad += f[i] != (float)(n * (n + 1) / 2 + n * i);
        bad += d[i] != n * (n + 1) * 0.25 + (double)n * i;
    }
    TU_CHECK(bad == 0, "sums of %d elements on %d ranks: %d wrong", N, n, bad);
    /* Zero-filled array with each rank's own slots: the sum is an exact
     * all-gather (the data loader relies on it). */
    float g[6] = {0};
    for (int i = r; i < 6; i += n)
        g[i] = 0.1f * (float)(i + 1);
    tu_ok(cu_comm_sum_f32(c, g, 6, &err), &err, "gather by sum");
    for (int i = 0; i < 6; i++)
        bad += g[i] != 0.1f * (float)(i + 1);
    TU_CHECK(bad == 0, "sum over zero-filled shards is an exact gather");
    /* Larger than a few chunks when comm_mpi.c is built with a small
     * CU_COMM_CHUNK (the comm_chunks_mpi2 test): every chunk summed and
     * broadcast, the last one partial. */
    enum { M = 2503 };
    float *big = malloc(M * sizeof *big);
    char *bytes = malloc(M);
    for (int i = 0; i < M; i++)
        big[i] = (float)(i % 97) * (float)(r + 1), bytes[i] = (char)(r == 0 ? i % 101 : 0);
    tu_ok(cu_comm_sum_f32(c, big, M, &err), &err, "sum of 2503");
    tu_ok(cu_comm_bcast(c, bytes, M, &err), &err, "bcast of 2503 bytes");
    for (int i = 0; i < M; i++)
        bad += big[i] != (float)(i % 97) * (float)(n * (n + 1) / 2) || bytes[i] != (char)(i % 101);
    TU_CHECK(bad == 0, "sum and bcast of %d elements, every chunk", M);
    free(big);
    free(bytes);
    char b[32] = {0};
    snprintf(b, sizeof b, "from rank %d", r);
    tu_ok(cu_comm_bcast(c, b, sizeof b, &err), &err, "bcast");
    TU_CHECK(!strcmp(b, "from rank 0"), "bcast: rank %d got \"%s\"", r, b);

    TU_CHECK(cu_comm_agree(c, CU_OK, &err) == CU_OK && cu_comm_failed_rank(c) == -1, "agree: all ok");
    /* Rank 1 fails with an input error, the last rank (if another) with a
     * device error: everyone gets rank 1's. */
    struct cu_err e2 = {0};
    enum cu_status st = CU_OK;
    if (r == 1)
        st = cu_fail(&e2, CU_EINPUT, "bad.png: not a PNG");
    else if (r == n - 1)
        st = cu_fail(&e2, CU_EDEVICE, "device lost");
    enum cu_status got = cu_comm_agree(c, st, &e2);
    TU_CHECK(got == CU_EINPUT, "agree: rank %d returns rank 1's status (%d)", r, (int)got);
    TU_CHECK(cu_comm_failed_rank(c) == 1, "agree: failed rank %d", cu_comm_failed_rank(c));
    if (r == 1)
        TU_CHECK(!strcmp(e2.msg, "bad.png: not a PNG"), "failing rank keeps its message: %s", e2.msg);
    else if (r != n - 1)
        TU_CHECK(!strcmp(e2.msg, "rank 1: bad.png: not a PNG"), "rank %d got: %s", r, e2.msg);
    TU_CHECK(cu_comm_agree(c, CU_OK, &err) == CU_OK && cu_comm_failed_rank(c) == -1,
             "a later agree that passes clears the failed rank");
    free(f);
    free(d);
}

int main(int argc, char **argv)
{
    struct cu_comm *c = NULL;
    struct cu_err err = {0};
    tu_ok(cu_comm_open(&argc, &argv, &c, &err), &err, "cu_comm_open");
    if (argc > 1 && !strcmp(argv[1], "group"))
        check_group(c);
    else
        check_single(c);
    int rc = tu_finish();
    cu_comm_close(c);
    return rc;
}
