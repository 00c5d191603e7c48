/* bench.c: the measurements of `clunet bench` (include/clunet/bench.h):
 * device start-up, training steps and inference of the whole U-Net on
 * synthetic data, then every convolution layer alone on its own shapes.
 * Each timed call is followed by a device sync, so a figure is the time
 * the device took, not the time to enqueue. The GEMM section and the
 * start-up children are in bench_gemm.c and bench_startup.c; printing is
 * cmd_bench.c's. */
#include "clunet/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/bench_impl.h"
#include "train/mem_check.h"
#include "clunet/cl.h"
#include "clunet/backend.h"
#include "clunet/ops.h"
#include "clunet/dataset.h"
#include "clunet/replicas.h"
#include "clunet/util.h"

/* The clock of every figure: wall-clock, or the process's CPU time
 * (--cpu-time; all threads, the OpenCL runtime's workers included). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

double cu_bench_now(void) { return bench_clock == CLOCK_MONOTONIC ? cu_now() : cu_cpu_now(); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct cu_bench_time cu_bench_stats(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    return (struct cu_bench_time){med, t[0], t[n - 1]};
}

static void fill(float *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
}

enum cu_status cu_bench_tensor_rand(struct cu_backend *be, struct cu_shape s, const char *name, uint32_t seed,
                                  float scale, struct cu_tensor **out, struct cu_err *err)
{
    CU_TRY(cu_tensor_new(be, s, name, out, err));
    size_t n = cu_shape_numel(s);
    float *h = malloc(n * sizeof *h);
    if (!h)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", name);
    fill(h, n, seed);
    for (size_t i = 0; i < n; i++)
        h[i] *= scale;
    enum cu_status st = cu_tensor_upload(*out, h, err);
    free(h);
    return st;
}

/* The network's layer table (cu_unet_layers) with each layer's FLOPs for
 * batch images: backward = dW + dx = 2 x forward, but for the first layer,
 * whose dx the network never computes. */
_Static_assert(CU_UNET_MAX_LAYERS <= CU_BENCH_MAX_LAYERS, "bench holds every layer of the network");

void cu_bench_layers(const struct cu_unet_config *cfg, int batch, struct cu_bench_result *r)
{
    struct cu_unet_layer ul[CU_UNET_MAX_LAYERS];
    r->nlayers = cu_unet_layers(cfg, ul);
    for (int i = 0; i < r->nlayers; i++) {
        struct cu_bench_layer *l = &r->layer[i];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", ul[i].name);
        l->cin = ul[i].cin;
        l->cout = ul[i].cout;
        l->k = ul[i].kind == CU_LAYER_TCONV ? 2 : ul[i].k;
        l->side = ul[i].side;
        l->fwd_flop = ul[i].flops * batch;
        l->bwd_flop = (i == 0 ? 1.0 : 2.0) * l->fwd_flop;
    }
}

/* One layer alone: forward (with ReLU) and backward, warm-up + steps runs. */
static enum cu_status time_layer(struct cu_backend *be, const struct cu_bench_opts *o, struct cu_bench_layer *l,
                                 int first, double *t, struct cu_err *err)
{
    const int B = o->batch, up = l->k == 2, in_side = up ? l->side / 2 : l->side;
    struct cu_shape sx = {B, l->cin, in_side, in_side}, sy = {B, l->cout, l->side, l->side};
    struct cu_shape sw = up ? (struct cu_shape){l->cin, l->cout, 2, 2} : (struct cu_shape){l->cout, l->cin, l->k, l->k};
    struct cu_shape sb = {l->cout, 1, 1, 1};
    struct cu_tensor *x = NULL, *w = NULL, *b = NULL, *y = NULL, *dx = NULL, *dw = NULL, *db = NULL;
    enum cu_status st = cu_bench_tensor_rand(be, sx, "x", 1, 1.0f, &x, err);
    if (!st)
        st = cu_bench_tensor_rand(be, sw, "w", 2, 0.1f, &w, err);
    if (!st)
        st = cu_bench_tensor_rand(be, sb, "b", 3, 0.1f, &b, err);
    if (!st)
        st = cu_tensor_new(be, sy, "y", &y, err);
    if (!st && !first)
        st = cu_tensor_new(be, sx, "dx", &dx, err);
    if (!st)
        st = cu_tensor_new(be, sw, "dw", &dw, err);
    if (!st)
        st = cu_tensor_new(be, sb, "db", &db, err);
    for (int pass = 0; !st && pass < 2; pass++) {
        for (int i = -o->warmup; !st && i < o->steps; i++) {
            double t0 = cu_bench_now();
            if (pass == 0)
                st = up ? cu_tconv_forward(be, y, x, w, b, err) : cu_conv_forward(be, y, x, w, b, CU_ACT_RELU, err);
            else
                st = up ? cu_tconv_backward(be, dx, dw, db, y, x, w, err)
                        : cu_conv_backward(be, dx, dw, db, y, x, w, err);
            if (!st)
                st = cu_backend_sync(be, err);
            if (i >= 0)
                t[i] = cu_bench_now() - t0;
        }
        if (!st)
            (pass == 0 ? &l->fwd : &l->bwd)[0] = cu_bench_stats(t, o->steps);
    }
    struct cu_tensor *all[] = {x, w, b, y, dx, dw, db};
    for (int i = 0; i < 7; i++)
        cu_tensor_free(all[i]);
    return st;
}

/* Training steps and inference of the whole network. */
static enum cu_status time_net(struct cu_backend *be, const struct cu_bench_opts *o, struct cu_bench_result *r,
                               double *t, struct cu_err *err)
{
    const int B = o->batch, S = o->cfg.image_size;
    struct cu_unet *net = NULL;
    struct cu_tensor *x = NULL, *tg = NULL, *prob = NULL;
    enum cu_status st = cu_unet_new(be, &o->cfg, B, &net, err);
    if (!st)
        st = cu_unet_init_he(net, 42, err);
    if (!st)
        st = cu_bench_tensor_rand(be, (struct cu_shape){B, o->cfg.input_channels, S, S}, "x", 4, 0.5f, &x, err);
    if (!st)
        st = cu_bench_tensor_rand(be, (struct cu_shape){B, 1, S, S}, "target", 5, 1.0f, &tg, err);
    if (!st) { /* targets 0/1: the sign of uniform noise */
        size_t n = (size_t)B * S * S;
        float *h = malloc(n * sizeof *h);
        if (!h)
            st = cu_fail(err, CU_EDEVICE, "target: out of host memory");
        else {
            fill(h, n, 6);
            for (size_t i = 0; i < n; i++)
                h[i] = h[i] > 0.0f ? 1.0f : 0.0f;
            st = cu_tensor_upload(tg, h, err);
            free(h);
        }
    }
    if (!st)
        st = cu_tensor_new(be, (struct cu_shape){B, 1, S, S}, "prob", &prob, err);
    const struct cu_adam hp = CU_ADAM_DEFAULTS;
    long step = 1;
    float out[2];
    for (int i = -o->warmup - 1; !st && i < o->steps; i++) { /* i = -warmup-1: the first step, timed apart */
        double t0 = cu_bench_now();
        st = cu_unet_train_step(net, x, tg, CU_LOSS_BCE, &hp, step++, out, err);
        if (!st)
            st = cu_backend_sync(be, err);
        if (i == -o->warmup - 1)
            r->first_step_s = cu_bench_now() - t0;
        if (i >= 0)
            t[i] = cu_bench_now() - t0;
    }
    if (!st)
        r->step = cu_bench_stats(t, o->steps);
    for (int i = -o->warmup; !st && i < o->steps; i++) {
        double t0 = cu_bench_now();
        struct cu_tensor *logits = NULL;
        st = cu_unet_forward(net, x, &logits, err);
        if (!st)
            st = cu_sigmoid_forward(be, prob, logits, err);
        if (!st)
            st = cu_backend_sync(be, err);
        if (i >= 0)
            t[i] = cu_bench_now() - t0;
    }
    if (!st)
        r->infer = cu_bench_stats(t, o->steps);
    struct cu_backend_stats bs;
    cu_backend_stats(be, &bs);
    r->device_peak = bs.bytes_peak;
    struct cu_cl_report rep;
    if (cu_cl_report(be, &rep)) /* workspaces only grow: their size now is their peak */
        r->device_peak += rep.workspace_bytes;
    cu_tensor_free(x);
    cu_tensor_free(tg);
    cu_tensor_free(prob);
    cu_unet_free(net);
    return st;
}

/* Data-parallel steps on the k devices of specs, batch images each: the
 * whole step (threads, gradient download, host sum, upload, Adam), every
 * device synced at its end. */
static enum cu_status time_replicas(const struct cu_bench_opts *o, char *const *specs, int k,
                                    struct cu_bench_result *r, double *t, struct cu_err *err)
{
    const int n = k * o->batch, S = o->cfg.image_size;
    const size_t img = (size_t)o->cfg.input_channels * S * S, msk = (size_t)S * S;
    float *x = malloc((size_t)n * img * sizeof *x), *y = malloc((size_t)n * msk * sizeof *y);
    struct cu_replicas *reps = NULL;
    enum cu_status st = x && y ? CU_OK : cu_fail(err, CU_EDEVICE, "bench: out of host memory");
    if (!st) {
        fill(x, (size_t)n * img, 4);
        fill(y, (size_t)n * msk, 6);
        for (size_t i = 0; i < (size_t)n * msk; i++)
            y[i] = y[i] > 0.0f ? 1.0f : 0.0f;
        st = cu_replicas_open(specs, k, NULL, &reps, err);
    }
    st = st ? st : cu_replicas_build(reps, &o->cfg, n, err);
    st = st ? st : cu_replicas_init_he(reps, 42, err);
    const struct cu_adam hp = CU_ADAM_DEFAULTS;
    for (int i = -o->warmup - 1; !st && i < o->steps; i++) { /* one more warm-up: the first step's compiles */
        double t0 = cu_bench_now(), out[2];
        st = cu_replicas_train_step(reps, x, y, n, n, CU_LOSS_BCE, &hp, i + o->warmup + 2, out, err);
        for (int d = 0; !st && d < k; d++)
            st = cu_backend_sync(cu_replicas_backend(reps, d), err);
        if (i >= 0)
            t[i] = cu_bench_now() - t0;
    }
    if (!st) {
        r->n_devices = k;
        r->dp_step = cu_bench_stats(t, o->steps);
        r->dp_images_per_s = n / r->dp_step.med;
        r->efficiency = r->dp_images_per_s / (k * (o->batch / r->step.med));
    }
    cu_replicas_free(reps);
    free(x);
    free(y);
    return st;
}

static enum cu_status bench_one(const struct cu_bench_opts *o, struct cu_bench_result *r, struct cu_err *err);

enum cu_status cu_bench_run(const struct cu_bench_opts *o, struct cu_bench_result *r, struct cu_err *err)
{
    if (!o->devices)
        return bench_one(o, r, err);
    char **specs = NULL;
    int k = 0;
    CU_TRY(cu_device_list_parse(o->devices, &specs, &k, err));
    struct cu_bench_opts first = *o;
    first.device = specs[0];
    double *t = malloc((size_t)(o->steps > 0 ? o->steps : 1) * sizeof *t);
    enum cu_status st = t ? bench_one(&first, r, err) : cu_fail(err, CU_EDEVICE, "bench: out of host memory");
    st = st ? st : time_replicas(o, specs, k, r, t, err);
    free(t);
    cu_device_list_free(specs, k);
    return st;
}

/* The figures of one device. */
static enum cu_status bench_one(const struct cu_bench_opts *o, struct cu_bench_result *r, struct cu_err *err)
{
    memset(r, 0, sizeof *r);
    bench_clock = o->cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
    CU_TRY(cu_unet_config_check(&o->cfg, err));
    if (o->batch < 1 || o->steps < 1 || o->warmup < 0)
        return cu_fail(err, CU_EUSAGE, "bench: --batch and --steps must be >= 1, --warmup >= 0");
    if (o->data) { /* the trainer's loader, as `clunet train --data` runs it */
        struct cu_dataset_opts dopt = {.size = o->cfg.image_size, .need_masks = 1, .threads = 2};
        struct cu_dataset *ds = NULL;
        double t0 = cu_bench_now();
        CU_TRY(cu_dataset_open(o->data, &dopt, &ds, err));
        r->load_s = cu_bench_now() - t0;
        r->load_n = ds->n;
        cu_dataset_free(ds);
    }
    if (o->startup && !(o->device && !strcmp(o->device, "ref")))
        CU_TRY(cu_bench_startup_run(o->device, r, err));
    double *t = malloc((size_t)o->steps * sizeof *t);
    if (!t)
        return cu_fail(err, CU_EDEVICE, "bench: out of host memory");
    struct cu_backend *be = NULL;
    double t0 = cu_bench_now();
    enum cu_status st = cu_backend_open(o->device, &be, err);
    r->open_s = cu_bench_now() - t0;
    if (!st) {
        struct cu_caps caps;
        cu_backend_caps(be, &caps);
        snprintf(r->device, sizeof r->device, "%s", caps.name);
        snprintf(r->backend, sizeof r->backend, "%s", cu_backend_name(be));
        struct cu_cl_report rep;
        if (cu_cl_report(be, &rep))
            snprintf(r->gemm, sizeof r->gemm, "%s", rep.gemm);
        double largest, need = cu_train_mem_estimate(&o->cfg, o->batch, &largest);
        char what[96];
        snprintf(what, sizeof what, "bench at -s %d with --batch %d", o->cfg.image_size, o->batch);
        if (cu_backend_kind(be) == CU_BACKEND_CL) /* an OpenCL driver's buffers under an address-space limit */
            st = cu_as_limit_check(need, what, err);
    }
    if (!st) {
        r->fwd_flop_img = cu_unet_forward_flops(&o->cfg);
        cu_bench_layers(&o->cfg, o->batch, r);
        st = time_net(be, o, r, t, err);
    }
    for (int i = 0; !st && o->layers && i < r->nlayers; i++)
        st = time_layer(be, o, &r->layer[i], i == 0, t, err);
    if (!st)
        st = cu_bench_gemm_run(be, o, r, err);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r->peak_rss_kib = ru.ru_maxrss;
    cu_backend_free(be);
    free(t);
    return st;
}
