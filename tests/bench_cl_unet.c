/* bench_cl_unet.c: whole U-Net training steps and inference on one device
 * (a benchmark, not a test: `meson test --benchmark cl_unet` or run it
 * directly), to see what the cl ops give together until `clunet bench`
 * reports per layer. FLOPs: cu_unet_forward_flops per image, a training
 * step counted as 3 forwards.
 *   bench_cl_unet [S [batch [steps [c [device [transposed]]]]]]
 * defaults 128 16 3 0.5 cpu (bilinear; any 6th argument: transposed).
 * Synthetic input (a fixed xorshift pattern), He init with seed 42. Prints
 * each step's loss and Dice (compare devices: `... 64 2 3 0.25 ref`), wall
 * time, images/s and GFLOP/s, and GFLOP per CPU-second (getrusage over
 * all threads), which a busy shared machine distorts less. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "clunet/unet.h"
#include "testutil.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

static void fill(float *h, size_t n, uint64_t *r, int mask)
{
    for (size_t i = 0; i < n; i++) {
        *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
        h[i] = mask ? (float)(*r % 3 == 0) : (float)(*r % 1000) / 1000.0f;
    }
}

int main(int argc, char **argv)
{
    struct cu_unet_config cfg = cu_unet_config_default();
    cfg.image_size = argc > 1 ? atoi(argv[1]) : 128;
    int batch = argc > 2 ? atoi(argv[2]) : 16, steps = argc > 3 ? atoi(argv[3]) : 3;
    cfg.channel_rate = argc > 4 ? atof(argv[4]) : 0.5;
    const char *dev = argc > 5 ? argv[5] : "cpu";
    if (argc > 6)
        cfg.upsample = CU_UPSAMPLE_TRANSPOSED;
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    if (!tu_ok(cu_backend_open(dev, &be, &err), &err, "open device") ||
        !tu_ok(cu_unet_new(be, &cfg, batch, &net, &err), &err, "build the U-Net") ||
        !tu_ok(cu_unet_init_he(net, 42, &err), &err, "init"))
        return tu_finish();
    const int s = cfg.image_size;
    struct cu_shape sx = {batch, 3, s, s}, st = {batch, 1, s, s};
    float *hx = malloc(cu_shape_numel(sx) * sizeof *hx), *ht = malloc(cu_shape_numel(st) * sizeof *ht);
    uint64_t r = 1;
    fill(hx, cu_shape_numel(sx), &r, 0);
    fill(ht, cu_shape_numel(st), &r, 1);
    struct cu_tensor *x = tu_tensor(be, sx, "x", hx), *t = tu_tensor(be, st, "t", ht);
    free(hx);
    free(ht);
    struct cu_caps caps;
    cu_backend_caps(be, &caps);
    const struct cu_adam hp = CU_ADAM_DEFAULTS;
    const double flops = cu_unet_forward_flops(&cfg) * batch;
    printf("U-Net S=%d c=%g %s batch %d on %s\n", s, cfg.channel_rate,
           cfg.upsample == CU_UPSAMPLE_TRANSPOSED ? "transposed" : "bilinear", batch, caps.name);
    for (long k = 1; k <= steps + 1; k++) { /* step 1 includes first-use costs */
        float out[2];
        double t0 = now(), c0 = cpu();
        if (!tu_ok(cu_unet_train_step(net, x, t, CU_LOSS_BCE, &hp, k, out, &err), &err, "train step"))
            break;
        double dt = now() - t0, dc = cpu() - c0;
        printf("train step %ld: loss %.6f dice %.6f  %.3f s (%.2f img/s, %.1f GFLOP/s), %.2f CPU-s (%.1f GFLOP per "
               "CPU-s)\n",
               k, out[0], out[1], dt, batch / dt, 3 * flops / dt * 1e-9, dc, 3 * flops / dc * 1e-9);
    }
    for (int k = 0; k < 2; k++) {
        struct cu_tensor *prob;
        double t0 = now(), c0 = cpu();
        if (!tu_ok(cu_unet_predict(net, x, &prob, &err), &err, "predict") ||
            !tu_ok(cu_backend_sync(be, &err), &err, "sync"))
            break;
        double dt = now() - t0, dc = cpu() - c0;
        printf("inference: %.3f s (%.2f img/s, %.1f GFLOP/s), %.2f CPU-s (%.1f GFLOP per CPU-s)\n", dt, batch / dt,
               flops / dt * 1e-9, dc, flops / dc * 1e-9);
    }
    cu_tensor_free(x);
    cu_tensor_free(t);
    cu_unet_free(net);
    cu_backend_free(be);
    return tu_finish();
}
