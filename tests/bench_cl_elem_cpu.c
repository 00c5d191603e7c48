/* bench_cl_elem_cpu.c: CPU time of the ops of a training step outside the
 * convolutions, at the shapes of the U-Net at S=128 c=0.5, batch 16
 * (bilinear up-sampling): max-pooling, up-sampling, concat (forward and
 * backward), ReLU backward, zeroing, the loss and Adam, each summed over
 * the calls one step makes. A benchmark, not a test (`meson test
 * --benchmark elem_cpu`, or run it directly). CPU seconds of the process
 * (getrusage, all threads: PoCL's workers included), because the
 * development machine is shared (wall ms beside it). Leaves out the convolutions
 * (bench_cl_conv_cpu).
 *   bench_cl_elem_cpu [reps]     default 5 reps after one warm-up
 * Device: $CLUNET_DEVICE, else "cpu". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "clunet/ops.h"
#include "testutil.h"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

enum op { POOL_F, POOL_B, UP_F, UP_B, CAT_F, CAT_B, RELU_B, ZERO, BIAS_G, LOSS_F, LOSS_B, ADAM, NOPS };
static const char *const names[NOPS] = {"maxpool fwd", "maxpool bwd", "upsample fwd", "upsample bwd",
                                        "concat fwd",  "concat bwd",  "relu bwd",     "zero (grads)", "bias grad",
                                        "loss fwd",    "loss bwd",    "adam"};

#define N 16
/* Encoder levels: channels and side of the convolutions' outputs. */
static const int lvl_c[5] = {16, 32, 64, 128, 256}, lvl_s[5] = {128, 64, 32, 16, 8};

static struct cu_tensor *rnd(struct cu_backend *be, int n, int c, int h, int w, uint64_t *rng)
{
    const size_t cnt = (size_t)n * c * h * w;
    float *v = malloc(cnt * sizeof *v);
    if (!v)
        return NULL;
    tu_fill_uniform(v, cnt, rng, -1.0f, 1.0f);
    struct cu_tensor *t = tu_tensor(be, (struct cu_shape){n, c, h, w}, "t", v);
    free(v);
    return t;
}

/* Runs op o once per call a step makes, with tensors made for it. */
static enum cu_status run(struct cu_backend *be, enum op o, struct cu_tensor **t, struct cu_err *err)
{
    enum cu_status st = CU_OK;
    for (int l = 0; !st && l < 4; l++) {
        struct cu_tensor **u = t + 4 * l;
        switch (o) {
        case POOL_F: st = cu_maxpool_forward(be, u[1], u[0], err); break;
        case POOL_B: st = cu_maxpool_backward(be, u[2], u[1], u[0], err); break;
        case UP_F: st = cu_upsample_forward(be, u[1], u[0], err); break;
        case UP_B: st = cu_upsample_backward(be, u[0], u[1], err); break;
        case CAT_F: st = cu_concat_forward(be, u[2], u[0], u[1], err); break;
        case CAT_B: st = cu_concat_backward(be, u[0], u[1], u[2], err); break;
        default: return CU_OK;
        }
    }
    return st;
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1) {
        fprintf(stderr, "usage: bench_cl_elem_cpu [reps]\n");
        return 1;
    }
    const char *spec = getenv("CLUNET_DEVICE");
    struct cu_backend *be;
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open(spec && *spec ? spec : "cpu", &be, &err), &err, "open the device"))
        return tu_finish();
    uint64_t rng = 7;
    /* Per level l = 0..3: pool (x, y, dx), up (x = the level below's output,
     * y), concat (a = skip, b = up, y). */
    struct cu_tensor *pool[16], *up[16], *cat[16], *act[10], *z, *tgt, *dz, *out;
    struct cu_tensor *par[160], *bias[5], *wsq[5];
    int npar = 0;
    for (int l = 0; l < 4; l++) {
        const int c = lvl_c[l], s = lvl_s[l], cb = lvl_c[l + 1];
        pool[4 * l] = rnd(be, N, c, s, s, &rng);
        pool[4 * l + 1] = rnd(be, N, c, s / 2, s / 2, &rng);
        pool[4 * l + 2] = rnd(be, N, c, s, s, &rng);
        pool[4 * l + 3] = NULL;
        up[4 * l] = rnd(be, N, cb, s / 2, s / 2, &rng);
        up[4 * l + 1] = rnd(be, N, cb, s, s, &rng);
        up[4 * l + 2] = up[4 * l + 3] = NULL;
        cat[4 * l] = rnd(be, N, c, s, s, &rng);
        cat[4 * l + 1] = rnd(be, N, cb, s, s, &rng);
        cat[4 * l + 2] = rnd(be, N, c + cb, s, s, &rng);
        cat[4 * l + 3] = NULL;
    }
    for (int l = 0; l < 5; l++) /* two ReLU outputs per level; the decoder's reuse them */
        act[2 * l] = rnd(be, N, lvl_c[l], lvl_s[l], lvl_s[l], &rng),
                act[2 * l + 1] = rnd(be, N, lvl_c[l], lvl_s[l], lvl_s[l], &rng);
    for (int l = 0; l < 5; l++) /* db and a c -> c weight (the call needs one) per level */
        bias[l] = rnd(be, lvl_c[l], 1, 1, 1, &rng), wsq[l] = rnd(be, lvl_c[l], lvl_c[l], 3, 3, &rng);
    z = rnd(be, N, 1, 128, 128, &rng);
    tgt = tu_tensor(be, (struct cu_shape){N, 1, 128, 128}, "t", NULL);
    dz = rnd(be, N, 1, 128, 128, &rng);
    out = tu_tensor(be, (struct cu_shape){1, 1, 1, 2}, "out", NULL);
    /* Parameters: weight and bias of each 3x3 layer (bench_cl_conv_cpu's list) and the head. */
    static const int layers[][2] = {{3, 16},   {16, 16},   {16, 32},  {32, 32},  {32, 64},  {64, 64},  {64, 128},
                                    {128, 128}, {128, 256}, {256, 256}, {384, 128}, {128, 128}, {192, 64}, {64, 64},
                                    {96, 32},  {32, 32},   {48, 16},  {16, 16},  {16, 2}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        for (int k = 0; k < 2; k++) {
            const int cin = k ? 1 : layers[i][0], kk = k ? 1 : 3;
            for (int j = 0; j < 4; j++)
                par[npar++] = rnd(be, layers[i][1], cin, kk, kk, &rng);
        }
    }
    double tot = 0.0;
    printf("CPU ms (and wall ms) per training step (all calls of one step), mean of %d after a warm-up\n", reps);
    for (int o = 0; o < NOPS; o++) {
        double t = 0.0, tw = 0.0;
        int ok = 1;
        for (int r = 0; ok && r <= reps; r++) {
            ok = tu_ok(cu_backend_sync(be, &err), &err, "sync");
            const double c0 = cpu(), w0 = wall();
            enum cu_status st = CU_OK;
            if (o == RELU_B)
                for (int i = 0; !st && i < 10; i++) /* each encoder layer's output and its decoder twin */
                    for (int k = 0; !st && k < 2 - (i >= 8); k++)
                        st = cu_relu_backward(be, act[i ^ 1], act[i], &err);
            else if (o == ZERO)
                for (int i = 0; !st && i < 10; i++)
                    for (int k = 0; !st && k < 2; k++)
                        st = cu_tensor_zero(act[i], &err);
            else if (o == BIAS_G)
                for (int i = 0; !st && i < 10; i++) /* four 3x3 layers per level, two in the middle */
                    for (int k = 0; !st && k < 2 - (i >= 8); k++)
                        st = cu_conv_backward(be, NULL, NULL, bias[i / 2], act[i], act[i ^ 1], wsq[i / 2], &err);
            else if (o == LOSS_F)
                st = cu_loss_forward(be, out, z, tgt, CU_LOSS_BCE, &err);
            else if (o == LOSS_B)
                st = cu_loss_backward(be, dz, z, tgt, CU_LOSS_BCE, &err);
            else if (o == ADAM) {
                const struct cu_adam hp = CU_ADAM_DEFAULTS;
                for (int i = 0; !st && i < npar; i += 4)
                    st = cu_adam_update(be, par[i], par[i + 1], par[i + 2], par[i + 3], &hp, r + 1, &err);
            } else
                st = run(be, (enum op)o, o <= POOL_B ? pool : o <= UP_B ? up : cat, &err);
            ok = tu_ok(st, &err, names[o]) && tu_ok(cu_backend_sync(be, &err), &err, "sync");
            if (r > 0)
                t += cpu() - c0, tw += wall() - w0;
        }
        if (!ok)
            break;
        printf("%-13s %8.2f ms  (wall %.2f ms)\n", names[o], 1e3 * t / reps, 1e3 * tw / reps);
        tot += 1e3 * t / reps;
    }
    printf("all           %8.2f ms\n", tot);
    for (int i = 0; i < 16; i++)
        cu_tensor_free(pool[i]), cu_tensor_free(up[i]), cu_tensor_free(cat[i]);
    for (int i = 0; i < 10; i++)
        cu_tensor_free(act[i]);
    for (int l = 0; l < 5; l++)
        cu_tensor_free(bias[l]), cu_tensor_free(wsq[l]);
    for (int i = 0; i < npar; i++)
        cu_tensor_free(par[i]);
    cu_tensor_free(z), cu_tensor_free(tgt), cu_tensor_free(dz), cu_tensor_free(out);
    cu_backend_free(be);
    return tu_finish();
}
