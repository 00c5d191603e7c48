/* bench_cl_conv.c: GFLOP/s of the cl backend's convolution, forward and
 * backward, on one shape (a benchmark, not a test: `meson test --benchmark`
 * or run it directly). FLOPs counted analytically: forward 2*N*Cout*Cin*k*k*H*W,
 * backward twice that (dW and dx GEMMs; im2col/col2im/bias not counted).
 *   bench_cl_conv [N Cin Cout H W k [reps]]   default 16 32 32 128 128 3 3
 * Device: $CLUNET_DEVICE, else "cpu". One warm-up call (CLBlast compiles on
 * first use), then the median of reps calls, each followed by a sync.
 * Also prints GFLOP per CPU-second (getrusage), which a busy shared
 * machine distorts less than wall time. CLUNET_GEMM=clblast|panel picks
 * the GEMM. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "clunet/ops.h"
#include "testutil.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of this process, all threads (PoCL's workers included). */
static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int v[7] = {16, 32, 32, 128, 128, 3, 3};
    for (int i = 1; i < argc && i <= 7; i++)
        v[i - 1] = atoi(argv[i]);
    int n = v[0], cin = v[1], cout = v[2], h = v[3], w = v[4], k = v[5], reps = v[6] < 1 ? 1 : v[6];
    if (reps > 64)
        reps = 64;
    const char *spec = getenv("CLUNET_DEVICE");
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    if (!tu_ok(cu_backend_open(spec && *spec ? spec : "cpu", &be, &err), &err, "open device"))
        return tu_finish();
    struct cu_caps caps;
    cu_backend_caps(be, &caps);
    struct cu_shape sx = {n, cin, h, w}, sy = {n, cout, h, w}, sw = {cout, cin, k, k}, sb = {cout, 1, 1, 1};
    uint64_t rng = 1;
    float *hx = malloc(cu_shape_numel(sx) * sizeof *hx), *hw = malloc(cu_shape_numel(sw) * sizeof *hw);
    tu_fill_uniform(hx, cu_shape_numel(sx), &rng, -1, 1);
    tu_fill_uniform(hw, cu_shape_numel(sw), &rng, -0.1f, 0.1f);
    struct cu_tensor *x = tu_tensor(be, sx, "x", hx), *wt = tu_tensor(be, sw, "w", hw);
    struct cu_tensor *b = tu_tensor(be, sb, "b", NULL), *y = tu_tensor(be, sy, "y", NULL);
    struct cu_tensor *dx = tu_tensor(be, sx, "dx", NULL), *dw = tu_tensor(be, sw, "dw", NULL);
    struct cu_tensor *db = tu_tensor(be, sb, "db", NULL);
    free(hx);
    free(hw);
    double flops = 2.0 * n * cout * cin * k * k * (double)h * w, t[2][64], c0 = 0, w0 = 0;
    for (int r = -1; r < reps; r++) {
        if (r == 0) {
            c0 = cpu();
            w0 = now();
        }
        double t0 = now();
        int ok = tu_ok(cu_conv_forward(be, y, x, wt, b, CU_ACT_RELU, &err), &err, "conv forward") &&
                 tu_ok(cu_backend_sync(be, &err), &err, "sync");
        double t1 = now();
        ok = ok && tu_ok(cu_conv_backward(be, dx, dw, db, y, x, wt, &err), &err, "conv backward") &&
             tu_ok(cu_backend_sync(be, &err), &err, "sync");
        double t2 = now();
        if (!ok)
            break;
        if (r >= 0) {
            t[0][r] = t1 - t0;
            t[1][r] = t2 - t1;
        }
    }
    double cpu_s = cpu() - c0, wall_s = now() - w0;
    qsort(t[0], (size_t)reps, sizeof(double), cmp);
    qsort(t[1], (size_t)reps, sizeof(double), cmp);
    double f = t[0][reps / 2], bw = t[1][reps / 2];
    printf("conv %dx%dx%dx%d k%d -> %d on %s: forward %.1f ms %.2f GFLOP/s, backward %.1f ms %.2f GFLOP/s "
           "(median of %d)\n",
           n, cin, h, w, k, cout, caps.name, 1e3 * f, flops / f * 1e-9, 1e3 * bw, 2 * flops / bw * 1e-9, reps);
    /* On a shared machine wall time depends on the load; FLOPs per CPU
     * second do not (much): what each core achieved while it ran. */
    printf("  %.1f CPU-s in %.1f s wall for %d forward+backward: %.2f GFLOP per CPU-second\n", cpu_s, wall_s, reps,
           3 * flops * reps / cpu_s * 1e-9);
    struct cu_tensor *all[] = {x, wt, b, y, dx, dw, db};
    for (int i = 0; i < 7; i++)
        cu_tensor_free(all[i]);
    cu_backend_free(be);
    return tu_finish();
}
