/* bench_comm.c: time of cu_comm_sum_f32 on a gradient-sized buffer, for
 * docs/SCALING.md. Run under mpirun: `mpirun -n 2 build/tests/bench_comm
 * [MFLOATS] [REPS]` (default 7.847205 M floats: the c=1 U-Net's
 * parameters, 31.4 MB); rank 0 prints the median time and the ring
 * all-reduce's "bus bandwidth" 2(p-1)/p x bytes / time. Not a test: it
 * checks nothing but that the sum is right. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clunet/comm.h"
#include "testutil.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct cu_comm *c = NULL;
    struct cu_err err = {0};
    tu_ok(cu_comm_open(&argc, &argv, &c, &err), &err, "cu_comm_open");
    size_t n = (size_t)((argc > 1 ? atof(argv[1]) : 7.847205) * 1e6);
    int reps = argc > 2 ? atoi(argv[2]) : 10, p = cu_comm_size(c), r = cu_comm_rank(c);
    if (reps < 1 || reps > 1000)
        reps = 10;
    float *g = malloc(n * sizeof *g);
    double t[1000];
    for (int k = 0; k <= reps && g; k++) {
        for (size_t i = 0; i < n; i++)
            g[i] = 1.0f;
        double t0 = now();
        tu_ok(cu_comm_sum_f32(c, g, n, &err), &err, "sum");
        if (k > 0)
            t[k - 1] = now() - t0; /* the first is a warm-up */
    }
    TU_CHECK(g && g[0] == (float)p && g[n - 1] == (float)p, "sum of ones = %d", p);
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    double med = t[reps / 2], bytes = (double)n * sizeof(float);
    if (r == 0)
        printf("%s, %d ranks: sum of %.2f MB: median %.2f ms (min %.2f, max %.2f) over %d; bus bandwidth %.2f GB/s\n",
               cu_comm_library(), p, bytes / 1e6, 1e3 * med, 1e3 * t[0], 1e3 * t[reps - 1], reps,
               2.0 * (p - 1) / p * bytes / med / 1e9);
    free(g);
    int rc = tu_finish();
    cu_comm_close(c);
    return rc;
}
