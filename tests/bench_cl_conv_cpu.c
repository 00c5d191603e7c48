/* bench_cl_conv_cpu.c: CPU time of the cl backend's 3x3 convolutions, one
 * layer shape at a time and each part alone: forward (bias + ReLU), weight
 * gradient (dx = NULL), data gradient (dW = NULL). A benchmark, not a test
 * (`meson test --benchmark conv_cpu`, or run it directly). CPU seconds of
 * the process (getrusage, all threads: PoCL's workers included) rather
 * than wall time, because the development machine is shared: another
 * user's load stretches wall time but hardly the CPU time a kernel needs.
 * FLOPs analytic (2 N Cout Cin 9 H W per part), so Winograd's figures are
 * "direct-equivalent" GFLOP per CPU-second and may exceed the FMA peak.
 *   bench_cl_conv_cpu [reps [N Cin Cout H W]...]
 * Default: 2 reps after one warm-up, the 3x3 layers of the U-Net at S=128
 * c=0.5, batch 16 (enc1.conv1 .. head.conv). Device: $CLUNET_DEVICE, else
 * "cpu". CLUNET_NO_WINOGRAD=1 / CLUNET_NO_DW_DIRECT=1 / CLUNET_WINOGRAD=all
 * for A/B (docs/perf-winograd.md). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "clunet/ops.h"
#include "testutil.h"

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static const int unet[][5] = {
    {16, 3, 16, 128, 128},  {16, 16, 16, 128, 128}, {16, 16, 32, 64, 64},   {16, 32, 32, 64, 64},
    {16, 32, 64, 32, 32},   {16, 64, 64, 32, 32},   {16, 64, 128, 16, 16},  {16, 128, 128, 16, 16},
    {16, 128, 256, 8, 8},   {16, 256, 256, 8, 8},   {16, 384, 128, 16, 16}, {16, 128, 128, 16, 16},
    {16, 192, 64, 32, 32},  {16, 64, 64, 32, 32},   {16, 96, 32, 64, 64},   {16, 32, 32, 64, 64},
    {16, 48, 16, 128, 128}, {16, 16, 16, 128, 128}, {16, 16, 2, 128, 128},
};

/* CPU milliseconds per call of forward, dW and dx for one shape (part
 * times summed into tot[3]); 0 on a device error. */
static int layer(struct cu_backend *be, const int *s, int reps, double tot[3])
{
    const int n = s[0], cin = s[1], cout = s[2], h = s[3], w = s[4];
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){n, cin, h, w}, "x", NULL);
    struct cu_tensor *y = tu_tensor(be, (struct cu_shape){n, cout, h, w}, "y", NULL);
    struct cu_tensor *wt = tu_tensor(be, (struct cu_shape){cout, cin, 3, 3}, "w", NULL);
    struct cu_tensor *b = tu_tensor(be, (struct cu_shape){cout, 1, 1, 1}, "b", NULL);
    struct cu_tensor *dx = tu_tensor(be, (struct cu_shape){n, cin, h, w}, "dx", NULL);
    struct cu_tensor *dw = tu_tensor(be, (struct cu_shape){cout, cin, 3, 3}, "dw", NULL);
    struct cu_err err = {0};
    double t[3] = {0, 0, 0};
    int ok = 1;
    for (int r = 0; ok && r <= reps; r++) /* r = 0: warm-up */
        for (int part = 0; ok && part < 3; part++) {
            ok = tu_ok(cu_backend_sync(be, &err), &err, "sync");
            double c0 = cpu();
            enum cu_status st = part == 0   ? cu_conv_forward(be, y, x, wt, b, CU_ACT_RELU, &err)
                                : part == 1 ? cu_conv_backward(be, NULL, dw, NULL, y, x, wt, &err)
                                            : cu_conv_backward(be, dx, NULL, NULL, y, x, wt, &err);
            ok = ok && tu_ok(st, &err, "conv") && tu_ok(cu_backend_sync(be, &err), &err, "sync");
            if (r > 0)
                t[part] += cpu() - c0;
        }
    if (ok) {
        const double gf = 2.0 * n * cout * cin * 9.0 * h * w / 1e9;
        printf("%3d ->%4d @%4d x%4d | fwd %7.1f ms %6.1f | dW %7.1f ms %6.1f | dx %7.1f ms %6.1f\n", cin, cout, h, w,
               1e3 * t[0] / reps, gf * reps / t[0], 1e3 * t[1] / reps, gf * reps / t[1], 1e3 * t[2] / reps,
               gf * reps / t[2]);
        for (int i = 0; i < 3; i++)
            tot[i] += 1e3 * t[i] / reps;
    }
    cu_tensor_free(x), cu_tensor_free(y), cu_tensor_free(wt), cu_tensor_free(b), cu_tensor_free(dx),
        cu_tensor_free(dw);
    return ok;
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 2;
    if (reps < 1 || (argc > 2 && (argc - 2) % 5)) {
        fprintf(stderr, "usage: bench_cl_conv_cpu [reps [N Cin Cout H W]...]\n");
        return 1;
    }
    const char *spec = getenv("CLUNET_DEVICE");
    struct cu_backend *be;
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open(spec && *spec ? spec : "cpu", &be, &err), &err, "open the device"))
        return tu_finish();
    printf("CPU ms per call (GFLOP per CPU-second, direct-equivalent), mean of %d calls after a warm-up\n",
           reps);
    double tot[3] = {0, 0, 0};
    if (argc > 2) {
        for (int a = 2; a + 4 < argc; a += 5) {
            const int s[5] = {atoi(argv[a]), atoi(argv[a + 1]), atoi(argv[a + 2]), atoi(argv[a + 3]),
                              atoi(argv[a + 4])};
            if (!layer(be, s, reps, tot))
                break;
        }
    } else {
        for (size_t i = 0; i < sizeof unet / sizeof unet[0]; i++)
            if (!layer(be, unet[i], reps, tot))
                break;
    }
    printf("total CPU ms: fwd %.1f, dW %.1f, dx %.1f, all %.1f\n", tot[0], tot[1], tot[2], tot[0] + tot[1] + tot[2]);
    cu_backend_free(be);
    return tu_finish();
}
