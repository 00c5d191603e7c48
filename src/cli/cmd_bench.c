/* cmd_bench.c: `clunet bench`: parses its flags, runs cu_bench_run
 * (src/bench.c) and prints the figures as a table or as JSON. Nothing is
 * measured here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/bench.h"
#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/train_fields.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet bench [--device SPEC | --devices LIST] [-s S] [-c C] [--batch B]\n"
            "                    [--steps N] [--warmup W] [--upsample bilinear|transposed]\n"
            "                    [--no-layers] [--no-gemm | --gemm-all] [--no-startup] [--cpu-time]\n"
            "                    [--data DIR] [--json]\n\n"
            "Times the U-Net on a device with synthetic data: whole training steps\n"
            "(forward + loss + backward + Adam) and inference (forward + sigmoid) in ms\n"
            "and images/s, then each convolution layer alone, forward and backward, in ms\n"
            "and GFLOP/s. FLOPs are counted from the layer shapes: 2 x multiply-adds per\n"
            "convolution; backward = 2 x forward (dW and dx), less dx of the first layer.\n"
            "Every timed call ends with a device sync; W warm-up runs are excluded; each\n"
            "figure is the median of N runs, with min and max. Also printed: the time to\n"
            "open the device (context + kernel build or binary-cache load; run\n"
            "`clunet --no-kernel-cache bench` for a cold build), the first training\n"
            "step apart (first-use compiles), peak host memory (getrusage) and peak\n"
            "device memory (tensors + convolution/GEMM workspaces).\n\n"
            "On an OpenCL device two more sections: kernel start-up, cold and warm: the\n"
            "time from opening the device to the end of its first kernel, in a fresh\n"
            "child process with empty kernel caches (clunet's, PoCL's, NVIDIA's, in a\n"
            "temporary folder), then in a second one with the caches the first filled;\n"
            "and the ceiling: the device's GEMM alone (the one the convolutions use:\n"
            "the panel GEMM on CPU devices, CLBlast elsewhere) on every layer's im2col\n"
            "GEMM shapes for one image (forward y = W col: M = Cout, N = H W,\n"
            "K = 9 Cin; dW += dy col^T: M = Cout, N = 9 Cin, K = H W; dcol = W^T dy:\n"
            "M = 9 Cin, N = H W, K = Cout), each call synced, median x batch, and the\n"
            "convolutions' GFLOP/s as a share of it.\n\n"
            "  --device SPEC  as the global --device (also CLUNET_DEVICE)\n"
            "  --devices LIST as clunet train --devices (0:0,0:1; cpu,cpu; all; gpu):\n"
            "                 the single-device figures are the first device's; then whole\n"
            "                 data-parallel training steps on all K devices, B images\n"
            "                 each (K x B per step, gradients summed on the host),\n"
            "                 their images/s, and the scaling efficiency = images/s\n"
            "                 with K devices / (K x images/s of the first alone);\n"
            "                 1.0 is perfect. A device listed twice shares its\n"
            "                 hardware: expect about 1/K there.\n"
            "  -s S           image size, a multiple of 16 (128)\n"
            "  -c C           channel rate (0.5)\n"
            "  --batch B      images per step (16)\n"
            "  --steps N      timed runs per figure (5)\n"
            "  --warmup W     untimed runs before them (2)\n"
            "  --upsample U   bilinear (default) or transposed\n"
            "  --no-layers    skip the per-layer timings\n"
            "  --no-gemm      skip the GEMM ceiling\n"
            "  --gemm-all     time both GEMMs (panel and CLBlast), not only the device's\n"
            "  --no-startup   skip the cold and warm start-up (two child processes; the\n"
            "                 cold one builds every kernel: seconds on PoCL)\n"
            "  --cpu-time     every time in CPU-seconds of the process (all its threads,\n"
            "                 the OpenCL runtime's included), not wall-clock: images/s and\n"
            "                 GFLOP/s become per CPU-second, which other processes' load\n"
            "                 changes less on a shared machine (a CPU device only); the\n"
            "                 start-up stays wall-clock\n"
            "  --data DIR     also time loading DIR (a training layout) at SxS, as\n"
            "                 `clunet train --data DIR` does (2 threads)\n"
            "  --json         one JSON object instead of the table\n"
            "  -q, --quiet    accepted, as by every command (bench prints only its figures)\n"
            "  -h, --help     this help\n\n"
            "CLUNET_GEMM=clblast|panel forces the GEMM of the cl backend (default:\n"
            "panel on CPU devices, CLBlast elsewhere). On CPU devices 3x3 layers with\n"
            "enough channels run as Winograd F(4x4,3x3) or F(2x2,3x3); CLUNET_NO_WINOGRAD=1\n"
            "turns that off, CLUNET_WINO_TILE=2 keeps F(2x2,3x3) everywhere,\n"
            "CLUNET_NO_DW_DIRECT=1 turns off the direct weight gradient of small\n"
            "layers (docs/cl-ops.md, docs/perf-winograd.md).\n");
    fprintf(f, "\n");
    cu_cli_exit_codes(f);
}

/* Fills o; *help when -h was given (nothing after it is read). */
static int parse_args(int argc, char **argv, struct cu_bench_opts *o, int *json, int *help, struct cu_err *err)
{
    enum { O_JSON = CU_ARG_LONG, O_NO_LAYERS, O_NO_GEMM, O_GEMM_ALL, O_NO_STARTUP, O_CPU_TIME, O_DATA, O_DEVICE,
           O_DEVICES, O_BATCH, O_STEPS, O_WARMUP, O_UPSAMPLE };
    static const struct cu_opt opts[] = {
        {"json", O_JSON, 0},         {"no-layers", O_NO_LAYERS, 0}, {"no-gemm", O_NO_GEMM, 0},
        {"gemm-all", O_GEMM_ALL, 0}, {"no-startup", O_NO_STARTUP, 0}, {"cpu-time", O_CPU_TIME, 0},
        {"data", O_DATA, 1},         {"device", O_DEVICE, 1},       {"devices", O_DEVICES, 1},
        {NULL, 's', 1},              {NULL, 'c', 1},                {"batch", O_BATCH, 1},
        {"steps", O_STEPS, 1},       {"warmup", O_WARMUP, 1},       {"upsample", O_UPSAMPLE, 1},
        {"quiet", 'q', 0},           {"help", 'h', 0},              {NULL, 0, 0},
    };
    struct cu_args a;
    cu_args_init(&a, "bench", argc, argv, opts, err);
    /* -s, -c, --batch, --upsample: read and range-checked as by clunet train */
    struct cu_train_config tc;
    cu_train_config_default(&tc);
    tc.image_size = o->cfg.image_size, tc.channel_rate = o->cfg.channel_rate, tc.upsample = o->cfg.upsample;
    tc.batch = o->batch;
    int key, bad = 0;
    while (!bad && !*help && (key = cu_args_next(&a)) > 0) {
        switch (key) {
        case 'h': *help = 1; break;
        case O_JSON: *json = 1; break;
        case O_NO_LAYERS: o->layers = 0; break;
        case O_NO_GEMM: o->gemm = CU_BENCH_GEMM_NONE; break;
        case O_GEMM_ALL: o->gemm = CU_BENCH_GEMM_ALL; break;
        case O_NO_STARTUP: o->startup = 0; break;
        case O_CPU_TIME: o->cpu_time = 1; break;
        case 'q': break; /* bench prints only its figures */
        case O_DATA: o->data = a.val; break;
        case O_DEVICE: o->device = a.val; break;
        case O_DEVICES: o->devices = a.val; break;
        case 's': bad = cu_arg_train_field(&a, cu_train_field_by_flag("-s"), &tc); break;
        case 'c': bad = cu_arg_train_field(&a, cu_train_field_by_flag("-c"), &tc); break;
        case O_BATCH: bad = cu_arg_train_field(&a, cu_train_field_by_flag("--batch"), &tc); break;
        case O_STEPS: bad = cu_arg_int(&a, 1, 1000000, &o->steps); break;
        case O_WARMUP: bad = cu_arg_int(&a, 0, 1000000, &o->warmup); break;
        case O_UPSAMPLE: bad = cu_arg_train_field(&a, cu_train_field_by_flag("--upsample"), &tc); break;
        case CU_ARG_POS: bad = cu_arg_extra(&a); break;
        }
    }
    o->cfg.image_size = tc.image_size, o->cfg.channel_rate = tc.channel_rate;
    o->cfg.upsample = (enum cu_upsample)tc.upsample, o->batch = tc.batch;
    return err->status;
}

static double ips(int batch, double s) { return s > 0 ? batch / s : 0; }

/* Seconds and FLOPs of all layers, forward and backward: timed alone
 * (gemm < 0) or the GEMMs of implementation gemm. */
struct totals {
    double tf, tb, ff, fb;
};

static struct totals totals(const struct cu_bench_result *r, int gemm)
{
    struct totals s = {0, 0, 0, 0};
    for (int i = 0; i < r->nlayers; i++) {
        const struct cu_bench_layer *l = &r->layer[i];
        s.tf += gemm < 0 ? l->fwd.med : l->gemm_fwd_s[gemm];
        s.tb += gemm < 0 ? l->bwd.med : l->gemm_bwd_s[gemm];
        s.ff += l->fwd_flop;
        s.fb += l->bwd_flop;
    }
    return s;
}

static double gflops(double flop, double s) { return s > 0 ? flop / s * 1e-9 : 0; }

static void print_gemm(const struct cu_bench_opts *o, const struct cu_bench_result *r)
{
    printf("\nGEMM alone (the ceiling of an im2col convolution): the device's SGEMM on each layer's\n"
           "GEMM shapes for one image, each call synced, median x batch %d; GFLOP/s\n", o->batch);
    printf("%-12s", "layer");
    for (int j = 0; j < r->ngemm; j++)
        printf(" | %7s fwd %7s bwd", r->gemm_impl[j], r->gemm_impl[j]);
    printf("\n");
    for (int i = 0; i < r->nlayers; i++) {
        const struct cu_bench_layer *l = &r->layer[i];
        printf("%-12s", l->name);
        for (int j = 0; j < r->ngemm; j++)
            printf(" | %11.1f %11.1f", gflops(l->fwd_flop, l->gemm_fwd_s[j]), gflops(l->bwd_flop, l->gemm_bwd_s[j]));
        printf("\n");
    }
    const struct totals c = totals(r, -1);
    for (int j = 0; j < r->ngemm; j++) {
        const struct totals g = totals(r, j);
        printf("%s GEMM: %.1f ms for all layers, forward and backward: %.1f GFLOP/s (forward %.1f, backward %.1f)",
               r->gemm_impl[j], 1e3 * (g.tf + g.tb), gflops(g.ff + g.fb, g.tf + g.tb), gflops(g.ff, g.tf),
               gflops(g.fb, g.tb));
        if (o->layers)
            printf("; the convolutions reach %.0f %% of it", 100.0 * (g.tf + g.tb) / (c.tf + c.tb));
        printf("\n");
    }
}

static void print_table(const struct cu_bench_opts *o, const struct cu_bench_result *r)
{
    const int B = o->batch;
    printf("device: %s (%s%s%s)\n", r->device, r->backend, r->gemm[0] ? ", GEMM " : "", r->gemm);
    printf("model: S=%d c=%g %s, batch %d; median of %d runs after %d warm-up (min-max)%s\n", o->cfg.image_size,
           o->cfg.channel_rate, cu_upsample_name(o->cfg.upsample), B, o->steps, o->warmup,
           o->cpu_time ? "; every time in CPU-seconds (--cpu-time)" : "");
    printf("start-up: open device %.3f s, first training step %.3f s\n", r->open_s, r->first_step_s);
    if (r->startup)
        printf("kernel start-up, fresh process, open to first kernel done: cold %.3f s (open %.3f s), "
               "warm %.3f s (open %.3f s)\n",
               r->cold_first_s, r->cold_open_s, r->warm_first_s, r->warm_open_s);
    const double gf_step = 3.0 * r->fwd_flop_img * B * 1e-9, gf_inf = r->fwd_flop_img * B * 1e-9;
    printf("training step: %.1f ms (%.1f-%.1f)  %.2f images/s  %.1f GFLOP/s (3 x forward)\n", 1e3 * r->step.med,
           1e3 * r->step.min, 1e3 * r->step.max, ips(B, r->step.med), gf_step / r->step.med);
    printf("inference:     %.1f ms (%.1f-%.1f)  %.2f images/s  %.1f GFLOP/s\n", 1e3 * r->infer.med,
           1e3 * r->infer.min, 1e3 * r->infer.max, ips(B, r->infer.med), gf_inf / r->infer.med);
    printf("forward GFLOP per image: %.3f\n", r->fwd_flop_img * 1e-9);
    if (o->data)
        printf("data: %d images of %s loaded at %dx%d in %.2f s\n", r->load_n, o->data, o->cfg.image_size,
               o->cfg.image_size, r->load_s);
    printf("peak memory: host RSS %.1f MiB, device %.1f MiB\n", r->peak_rss_kib / 1024.0,
           (double)r->device_peak / 1048576.0);
    if (r->n_devices)
        printf("data parallel on %d devices (%s), %d images each: step %.1f ms (%.1f-%.1f)  %.2f images/s  "
               "scaling efficiency %.2f (vs %d x %.2f images/s of the first alone)\n",
               r->n_devices, o->devices, B, 1e3 * r->dp_step.med, 1e3 * r->dp_step.min, 1e3 * r->dp_step.max,
               r->dp_images_per_s, r->efficiency, r->n_devices, ips(B, r->step.med));
    if (!o->layers) {
        if (r->ngemm)
            print_gemm(o, r);
        return;
    }
    printf("\n%-12s %5s %5s %2s %5s | %9s %8s %7s | %9s %8s %7s\n", "layer", "Cin", "Cout", "k", "side", "fwd ms",
           "(spread)", "GFLOP/s", "bwd ms", "(spread)", "GFLOP/s");
    double tf = 0, tb = 0, ff = 0, fb = 0;
    for (int i = 0; i < r->nlayers; i++) {
        const struct cu_bench_layer *l = &r->layer[i];
        printf("%-12s %5d %5d %2d %5d | %9.2f %8.2f %7.1f | %9.2f %8.2f %7.1f\n", l->name, l->cin, l->cout, l->k,
               l->side, 1e3 * l->fwd.med, 1e3 * (l->fwd.max - l->fwd.min), l->fwd_flop / l->fwd.med * 1e-9,
               1e3 * l->bwd.med, 1e3 * (l->bwd.max - l->bwd.min), l->bwd_flop / l->bwd.med * 1e-9);
        tf += l->fwd.med;
        tb += l->bwd.med;
        ff += l->fwd_flop;
        fb += l->bwd_flop;
    }
    printf("%-12s %5s %5s %2s %5s | %9.2f %8s %7.1f | %9.2f %8s %7.1f\n", "all convs", "", "", "", "", 1e3 * tf, "",
           ff / tf * 1e-9, 1e3 * tb, "", fb / tb * 1e-9);
    printf("convolutions alone: %.1f ms of the %.1f ms training step (the rest: pooling, up-sampling, concat,\n"
           "ReLU backward, loss, Adam, and differences between timing layers alone and in the network)\n",
           1e3 * (tf + tb), 1e3 * r->step.med);
    if (r->ngemm)
        print_gemm(o, r);
}

static json_t *jtime(struct cu_bench_time t)
{
    return json_pack("{s:f,s:f,s:f}", "median_s", t.med, "min_s", t.min, "max_s", t.max);
}

static void print_json(const struct cu_bench_opts *o, const struct cu_bench_result *r)
{
    const int B = o->batch;
    json_t *layers = json_array();
    for (int i = 0; o->layers && i < r->nlayers; i++) {
        const struct cu_bench_layer *l = &r->layer[i];
        json_array_append_new(layers,
                              json_pack("{s:s,s:i,s:i,s:i,s:i,s:o,s:o,s:f,s:f,s:f,s:f}", "name", l->name, "cin",
                                        l->cin, "cout", l->cout, "k", l->k, "side", l->side, "forward", jtime(l->fwd),
                                        "backward", jtime(l->bwd), "forward_gflop", l->fwd_flop * 1e-9,
                                        "backward_gflop", l->bwd_flop * 1e-9, "forward_gflops",
                                        l->fwd_flop / l->fwd.med * 1e-9, "backward_gflops",
                                        l->bwd_flop / l->bwd.med * 1e-9));
    }
    for (int i = 0; r->ngemm && i < r->nlayers; i++) {
        const struct cu_bench_layer *l = &r->layer[i];
        json_t *g = json_object();
        for (int j = 0; j < r->ngemm; j++)
            json_object_set_new(g, r->gemm_impl[j],
                                json_pack("{s:f,s:f,s:f,s:f}", "forward_s", l->gemm_fwd_s[j], "backward_s",
                                          l->gemm_bwd_s[j], "forward_gflops", gflops(l->fwd_flop, l->gemm_fwd_s[j]),
                                          "backward_gflops", gflops(l->bwd_flop, l->gemm_bwd_s[j])));
        if (o->layers)
            json_object_set_new(json_array_get(layers, (size_t)i), "gemm", g);
        else
            json_array_append_new(layers, json_pack("{s:s,s:i,s:i,s:i,s:i,s:f,s:f,s:o}", "name", l->name, "cin",
                                                    l->cin, "cout", l->cout, "k", l->k, "side", l->side,
                                                    "forward_gflop", l->fwd_flop * 1e-9, "backward_gflop",
                                                    l->bwd_flop * 1e-9, "gemm", g));
    }
    json_t *root = json_pack(
        "{s:s,s:s,s:s,s:i,s:f,s:s,s:i,s:i,s:i,s:f,s:f,s:f,s:o,s:f,s:f,s:o,s:f,s:f,s:I,s:I,s:o}", "device",
        r->device, "backend", r->backend, "gemm", r->gemm, "image_size", o->cfg.image_size, "channel_rate",
        o->cfg.channel_rate, "upsample", cu_upsample_name(o->cfg.upsample), "batch", B, "steps", o->steps, "warmup",
        o->warmup, "open_s", r->open_s, "first_step_s", r->first_step_s, "forward_gflop_per_image",
        r->fwd_flop_img * 1e-9, "train_step", jtime(r->step), "train_images_per_s", ips(B, r->step.med),
        "train_gflops", 3.0 * r->fwd_flop_img * B * 1e-9 / r->step.med, "inference", jtime(r->infer),
        "infer_images_per_s", ips(B, r->infer.med), "infer_gflops", r->fwd_flop_img * B * 1e-9 / r->infer.med,
        "peak_rss_bytes", (json_int_t)r->peak_rss_kib * 1024, "device_peak_bytes", (json_int_t)r->device_peak,
        "layers", layers);
    const struct totals c = totals(r, -1);
    if (o->layers) { /* all convolution layers alone, forward + backward */
        json_object_set_new(root, "conv_s", json_real(c.tf + c.tb));
        json_object_set_new(root, "conv_gflops", json_real(gflops(c.ff + c.fb, c.tf + c.tb)));
    }
    if (r->ngemm) {
        json_t *ceil = json_array();
        for (int j = 0; j < r->ngemm; j++) {
            const struct totals g = totals(r, j);
            json_array_append_new(ceil, json_pack("{s:s,s:f,s:f,s:f,s:f}", "impl", r->gemm_impl[j], "seconds",
                                                  g.tf + g.tb, "gflops", gflops(g.ff + g.fb, g.tf + g.tb),
                                                  "forward_gflops", gflops(g.ff, g.tf), "backward_gflops",
                                                  gflops(g.fb, g.tb)));
        }
        json_object_set_new(root, "gemm_ceiling", ceil);
    }
    if (r->startup)
        json_object_set_new(root, "startup",
                            json_pack("{s:f,s:f,s:f,s:f}", "cold_open_s", r->cold_open_s, "cold_first_kernel_s",
                                      r->cold_first_s, "warm_open_s", r->warm_open_s, "warm_first_kernel_s",
                                      r->warm_first_s));
    json_object_set_new(root, "clock", json_string(o->cpu_time ? "cpu" : "wall"));
    if (r->n_devices) {
        json_object_set_new(root, "devices", json_string(o->devices));
        json_object_set_new(root, "n_devices", json_integer(r->n_devices));
        json_object_set_new(root, "dp_train_step", jtime(r->dp_step));
        json_object_set_new(root, "dp_train_images_per_s", json_real(r->dp_images_per_s));
        json_object_set_new(root, "scaling_efficiency", json_real(r->efficiency));
    }
    if (o->data) {
        json_object_set_new(root, "load_images", json_integer(r->load_n));
        json_object_set_new(root, "load_s", json_real(r->load_s));
    }
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(root);
}

int cu_cmd_bench(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--startup-child")) /* src/bench_startup.c's child */
        return cu_bench_startup_child(argv[2]);
    struct cu_bench_opts o = {.device = cu_cli_device(), .cfg = cu_unet_config_default(), .batch = 16,
                              .steps = 5, .warmup = 2, .layers = 1, .gemm = CU_BENCH_GEMM_DEVICE, .startup = 1};
    int json = 0, want_help = 0;
    struct cu_err err = {0};
    struct cu_bench_result *r = calloc(1, sizeof *r);
    if (!r) {
        cu_fail(&err, CU_EDEVICE, "bench: out of host memory");
        return cu_cli_report(&err);
    }
    enum cu_status st = parse_args(argc, argv, &o, &json, &want_help, &err);
    if (!st && want_help) {
        help(stdout);
        free(r);
        return 0;
    }
    if (!st)
        st = cu_bench_run(&o, r, &err);
    if (!st)
        (json ? print_json : print_table)(&o, r);
    free(r);
    return st ? cu_cli_report(&err) : 0;
}
