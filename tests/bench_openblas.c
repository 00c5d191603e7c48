/* bench_openblas.c: OpenBLAS's cblas_sgemm on exactly the GEMM shapes of
 * the network's convolutions (cu_bench_gemm_shapes, the shapes `clunet
 * bench` times the device's GEMM on): per layer, forward (y = W col) and
 * backward (dW += dy col^T, dcol = W^T dy; no dx for the first layer), in
 * GFLOP/s, and the total: the CPU's practical SGEMM ceiling that issue 10
 * measures the convolutions against (>= 60 %). A benchmark, not a test:
 * built only when meson finds OpenBLAS, never linked into clunet.
 *
 *   bench_openblas [-s S] [-c C] [--batch B] [--steps N] [--warmup W]
 *                  [--upsample bilinear|transposed] [--fold] [--cpu-time] [--json]
 *
 * By default each GEMM is one image's, as clunet's ops call theirs (one per
 * image): its median over N timed calls x B is the layer's time. --fold
 * times one GEMM over the whole batch instead (N = B H W for forward and
 * dcol, K = B H W for dW: what a batched im2col would do; needs B times
 * the memory). --cpu-time: times in CPU-seconds of the process (all
 * threads) instead of wall-clock, as `clunet bench --cpu-time`. OpenBLAS
 * uses its default thread count (all CPUs, or OPENBLAS_NUM_THREADS); the
 * JSON says how many. */
#include <cblas.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clunet/bench.h"
#include "clunet/unet.h"

struct opts {
    struct cu_unet_config cfg;
    int batch, steps, warmup, fold, json;
};

static clockid_t bench_clock = CLOCK_MONOTONIC; /* --cpu-time: CLOCK_PROCESS_CPUTIME_ID */

static double now(void)
{
    struct timespec t;
    clock_gettime(bench_clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *rand_matrix(size_t n, uint32_t seed)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    return p;
}

/* Median seconds of one GEMM of shape g; -1 when out of memory. */
static double time_gemm(const struct opts *o, struct cu_bench_gemm_shape g)
{
    if (o->fold) { /* the batch side by side: wider N, or deeper K for dW */
        if (!strcmp(g.what, "dW"))
            g.k *= o->batch, g.lda *= o->batch, g.ldb *= o->batch;
        else
            g.n *= o->batch, g.ldb *= o->batch;
    }
    const size_t arows = (size_t)(g.trans_a ? g.k : g.m), brows = (size_t)(g.trans_b ? g.n : g.k);
    float *a = rand_matrix(arows * (size_t)g.lda, 7), *b = rand_matrix(brows * (size_t)g.ldb, 8);
    float *c = calloc((size_t)g.m * (size_t)g.n, sizeof *c);
    double *t = malloc((size_t)o->steps * sizeof *t), med = -1;
    if (a && b && c && t) {
        for (int i = -o->warmup; i < o->steps; i++) {
            double t0 = now();
            cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
                        g.m, g.n, g.k, 1.0f, a, g.lda, b, g.ldb, g.beta, c, g.n);
            if (i >= 0)
                t[i] = now() - t0;
        }
        qsort(t, (size_t)o->steps, sizeof *t, cmp_double);
        med = o->steps % 2 ? t[o->steps / 2] : 0.5 * (t[o->steps / 2 - 1] + t[o->steps / 2]);
        if (!o->fold)
            med *= o->batch;
    }
    free(a);
    free(b);
    free(c);
    free(t);
    return med;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fold")) {
            o->fold = 1;
            continue;
        }
        if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        }
        if (!strcmp(a, "--cpu-time")) {
            bench_clock = CLOCK_PROCESS_CPUTIME_ID;
            continue;
        }
        if (!v)
            return 0;
        i++;
        if (!strcmp(a, "-s"))
            o->cfg.image_size = atoi(v);
        else if (!strcmp(a, "-c"))
            o->cfg.channel_rate = atof(v);
        else if (!strcmp(a, "--batch"))
            o->batch = atoi(v);
        else if (!strcmp(a, "--steps"))
            o->steps = atoi(v);
        else if (!strcmp(a, "--warmup"))
            o->warmup = atoi(v);
        else if (!strcmp(a, "--upsample") && cu_upsample_parse(v) >= 0)
            o->cfg.upsample = (enum cu_upsample)cu_upsample_parse(v);
        else
            return 0;
    }
    return o->batch >= 1 && o->steps >= 1 && o->warmup >= 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.cfg = cu_unet_config_default(), .batch = 16, .steps = 5, .warmup = 2};
    struct cu_err err = {0};
    if (!parse(argc, argv, &o) || cu_unet_config_check(&o.cfg, &err)) {
        fprintf(stderr,
                "usage: bench_openblas [-s S] [-c C] [--batch B] [--steps N] [--warmup W]\n"
                "                      [--upsample bilinear|transposed] [--fold] [--cpu-time] [--json]\n%s%s",
                err.msg, err.msg[0] ? "\n" : "");
        return 1;
    }
    static struct cu_bench_result r;
    cu_bench_layers(&o.cfg, o.batch, &r);
    double tf = 0, tb = 0, ff = 0, fb = 0;
    json_t *layers = json_array();
    if (!o.json)
        printf("OpenBLAS %s, %d threads; S=%d c=%g batch %d, %s; median of %d after %d warm-up\n"
               "%-12s %10s %8s | %10s %8s\n",
               openblas_get_config(), openblas_get_num_threads(), o.cfg.image_size, o.cfg.channel_rate, o.batch,
               o.fold ? "one GEMM over the batch" : "one GEMM per image x batch", o.steps, o.warmup, "layer",
               "fwd ms", "GFLOP/s", "bwd ms", "GFLOP/s");
    for (int i = 0; i < r.nlayers; i++) {
        const struct cu_bench_layer *l = &r.layer[i];
        struct cu_bench_gemm_shape g[3];
        int n = cu_bench_gemm_shapes(l, i == 0, g);
        double f = 0, b = 0;
        for (int s = 0; s < n; s++) {
            double t = time_gemm(&o, g[s]);
            if (t < 0) {
                fprintf(stderr, "bench_openblas: out of memory for %s %s\n", l->name, g[s].what);
                json_decref(layers);
                return 3;
            }
            *(s == 0 ? &f : &b) += t;
        }
        tf += f, tb += b, ff += l->fwd_flop, fb += l->bwd_flop;
        if (!o.json)
            printf("%-12s %10.2f %8.1f | %10.2f %8.1f\n", l->name, 1e3 * f, l->fwd_flop / f * 1e-9, 1e3 * b,
                   l->bwd_flop / b * 1e-9);
        json_array_append_new(layers, json_pack("{s:s,s:f,s:f,s:f,s:f}", "name", l->name, "forward_s", f,
                                                "backward_s", b, "forward_gflops", l->fwd_flop / f * 1e-9,
                                                "backward_gflops", l->bwd_flop / b * 1e-9));
    }
    if (o.json) {
        json_t *root = json_pack("{s:s,s:s,s:i,s:i,s:f,s:i,s:b,s:i,s:i,s:f,s:f,s:f,s:f,s:o}", "clock",
                                 bench_clock == CLOCK_MONOTONIC ? "wall" : "cpu", "openblas",
                                 openblas_get_config(), "threads", openblas_get_num_threads(), "image_size",
                                 o.cfg.image_size, "channel_rate", o.cfg.channel_rate, "batch", o.batch, "fold",
                                 o.fold, "steps", o.steps, "warmup", o.warmup, "seconds", tf + tb, "gflops",
                                 (ff + fb) / (tf + tb) * 1e-9, "forward_gflops", ff / tf * 1e-9, "backward_gflops",
                                 fb / tb * 1e-9, "layers", layers);
        char *s = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(root);
    } else {
        printf("%-12s %10.2f %8.1f | %10.2f %8.1f\n", "all convs", 1e3 * tf, ff / tf * 1e-9, 1e3 * tb,
               fb / tb * 1e-9);
        printf("all GEMMs, forward and backward: %.1f ms, %.1f GFLOP/s\n", 1e3 * (tf + tb),
               (ff + fb) / (tf + tb) * 1e-9);
        json_decref(layers);
    }
    return 0;
}
