/* test_bench_cmd.c: `clunet bench` as a user runs it (argv[1] is the built
 * binary), at a tiny size with one timed step, on the cl device ("cpu",
 * PoCL in CI; $CLUNET_DEVICE if set) and on ref: the JSON has every field,
 * typed, with the layer list of the network (names, shapes, FLOPs counted
 * as documented), positive times with min <= median <= max; the table
 * prints; bad options exit 1 with one line. No timing is asserted: the
 * machine may be shared and slow. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *exe;

static int run(const char *args, int with_stderr, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s %s", exe, args, with_stderr ? "2>&1" : "2>/dev/null");
    return tu_run(cmd, out, size);
}

static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

static int str_is(json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && !strcmp(v, want);
}

/* The JSON carries 6 significant digits: equal within 1e-5 relative. */
static int near(double a, double b) { return fabs(a - b) <= 1e-5 * fabs(b); }

static int time_ok(json_t *t)
{
    double med = num(t, "median_s"), lo = num(t, "min_s"), hi = num(t, "max_s");
    return json_is_object(t) && lo > 0 && lo <= med && med <= hi && isfinite(hi);
}

static void check_json(const char *device, const char *backend)
{
    static char out[1 << 16];
    char args[256];
    /* S=32 c=0.25: widths 8..128, side 2 at the bottleneck; batch 2. */
    snprintf(args, sizeof args, "bench --device %s -s 32 -c 0.25 --batch 2 --steps 1 --warmup 0 --json", device);
    int rc = run(args, 0, out, sizeof out);
    TU_CHECK(rc == 0, "%s: clunet %s exits 0 (%d)", device, args, rc);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    if (!TU_CHECK(json_is_object(root), "%s: output is a JSON object (%s)", device, je.text))
        return;
    TU_CHECK(!strcmp(json_string_value(json_object_get(root, "backend")), backend), "%s: backend %s", device,
             backend);
    TU_CHECK(num(root, "image_size") == 32 && num(root, "batch") == 2 && num(root, "steps") == 1,
             "%s: options echoed", device);
    TU_CHECK(time_ok(json_object_get(root, "train_step")) && time_ok(json_object_get(root, "inference")),
             "%s: step and inference times positive, min <= median <= max", device);
    TU_CHECK(num(root, "train_images_per_s") > 0 && num(root, "infer_images_per_s") > 0 && num(root, "open_s") >= 0 &&
                 num(root, "first_step_s") > 0,
             "%s: images/s and start-up times", device);
    TU_CHECK(num(root, "peak_rss_bytes") > 1e6 && num(root, "device_peak_bytes") > 0, "%s: peak memory reported",
             device);
    json_t *layers = json_object_get(root, "layers");
    TU_CHECK(json_array_size(layers) == 20, "%s: 20 convolution layers (%zu)", device, json_array_size(layers));
    json_t *l0 = json_array_get(layers, 0), *l9 = json_array_get(layers, 9), *lh = json_array_get(layers, 19);
    /* enc1.conv1: 3 -> 8 channels at 32x32, k = 3: forward 2*2*3*8*9*1024 FLOPs; backward without dx. */
    double f0 = 2.0 * 2 * 3 * 8 * 9 * 1024;
    TU_CHECK(!strcmp(json_string_value(json_object_get(l0, "name")), "enc1.conv1") &&
                 near(num(l0, "forward_gflop"), f0 * 1e-9) && near(num(l0, "backward_gflop"), f0 * 1e-9),
             "%s: enc1.conv1 FLOPs %.6g / %.6g GFLOP", device, num(l0, "forward_gflop"), num(l0, "backward_gflop"));
    /* mid.conv2: 128 -> 128 at 2x2; backward counts dW and dx. */
    double f9 = 2.0 * 2 * 128 * 128 * 9 * 4;
    TU_CHECK(!strcmp(json_string_value(json_object_get(l9, "name")), "mid.conv2") &&
                 near(num(l9, "backward_gflop"), 2 * f9 * 1e-9),
             "%s: mid.conv2 backward FLOPs %.6g GFLOP", device, num(l9, "backward_gflop"));
    TU_CHECK(!strcmp(json_string_value(json_object_get(lh, "name")), "head.out") && num(lh, "k") == 1,
             "%s: last layer head.out, 1x1", device);
    int times = 1;
    for (size_t i = 0; i < json_array_size(layers); i++)
        times &= time_ok(json_object_get(json_array_get(layers, i), "forward")) &&
                 time_ok(json_object_get(json_array_get(layers, i), "backward"));
    TU_CHECK(times, "%s: every layer has forward and backward times", device);
    TU_CHECK(num(root, "conv_s") > 0 && num(root, "conv_gflops") > 0, "%s: all convolutions: time and GFLOP/s",
             device);
    json_t *ceil = json_object_get(root, "gemm_ceiling"), *su = json_object_get(root, "startup");
    if (strcmp(backend, "cl")) { /* ref: no device GEMM, no kernels to start */
        TU_CHECK(!ceil && !su && !json_object_get(l0, "gemm"), "%s: no GEMM ceiling, no start-up", device);
        json_decref(root);
        return;
    }
    /* The GEMM ceiling: the device's own GEMM (the one its convolutions use), every layer timed. */
    json_t *c0 = json_array_get(ceil, 0);
    const char *impl = json_string_value(json_object_get(c0, "impl"));
    TU_CHECK(json_array_size(ceil) == 1 && impl && !strcmp(impl, json_string_value(json_object_get(root, "gemm"))) &&
                 num(c0, "seconds") > 0 && num(c0, "gflops") > 0 && num(c0, "forward_gflops") > 0 &&
                 num(c0, "backward_gflops") > 0,
             "%s: GEMM ceiling of the device's own GEMM (%s), times and GFLOP/s positive", device, impl ? impl : "?");
    int gemm_ok = 1;
    for (size_t i = 0; impl && i < json_array_size(layers); i++) {
        json_t *g = json_object_get(json_object_get(json_array_get(layers, i), "gemm"), impl);
        gemm_ok &= num(g, "forward_s") > 0 && num(g, "backward_s") > 0 && num(g, "forward_gflops") > 0;
    }
    TU_CHECK(gemm_ok, "%s: every layer has its GEMM times", device);
    /* Start-up: both measured, the first kernel ending after the open (no timing asserted: cold is usually
     * seconds and warm well under one, but a shared machine promises nothing). */
    TU_CHECK(json_is_object(su) && num(su, "cold_open_s") > 0 && num(su, "cold_first_kernel_s") >= num(su, "cold_open_s") &&
                 num(su, "warm_open_s") > 0 && num(su, "warm_first_kernel_s") >= num(su, "warm_open_s"),
             "%s: start-up: cold %.3f s (open %.3f), warm %.3f s (open %.3f)", device, num(su, "cold_first_kernel_s"),
             num(su, "cold_open_s"), num(su, "warm_first_kernel_s"), num(su, "warm_open_s"));
    json_decref(root);
}

/* --no-gemm, --no-startup leave their sections out; --gemm-all times both
 * GEMMs (panel and CLBlast), whichever the device uses. */
static void check_options(const char *device)
{
    static char out[1 << 16];
    char args[256];
    snprintf(args, sizeof args,
             "bench --device %s -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-layers --no-gemm --no-startup "
             "--json",
             device);
    int rc = run(args, 0, out, sizeof out);
    json_t *root = json_loads(out, 0, NULL);
    TU_CHECK(rc == 0 && json_is_object(root) && !json_object_get(root, "gemm_ceiling") &&
                 !json_object_get(root, "startup") && !json_object_get(root, "conv_gflops"),
             "%s: --no-gemm --no-startup --no-layers: those sections absent (rc %d)", device, rc);
    json_decref(root);
    snprintf(args, sizeof args,
             "bench --device %s -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-layers --no-startup --gemm-all "
             "--json",
             device);
    rc = run(args, 0, out, sizeof out);
    root = json_loads(out, 0, NULL);
    json_t *ceil = json_object_get(root, "gemm_ceiling");
    const char *i0 = json_string_value(json_object_get(json_array_get(ceil, 0), "impl"));
    const char *i1 = json_string_value(json_object_get(json_array_get(ceil, 1), "impl"));
    json_t *g = json_object_get(json_array_get(json_object_get(root, "layers"), 19), "gemm");
    TU_CHECK(rc == 0 && json_array_size(ceil) == 2 && i0 && i1 && strcmp(i0, i1) &&
                 (!strcmp(i0, "panel") || !strcmp(i1, "panel")) && (!strcmp(i0, "clblast") || !strcmp(i1, "clblast")) &&
                 num(json_object_get(g, "panel"), "backward_s") > 0 &&
                 num(json_object_get(g, "clblast"), "backward_s") > 0,
             "%s: --gemm-all: panel and CLBlast timed, per layer too (rc %d)", device, rc);
    json_decref(root);
    if (rc != 0) { /* say why: the same run with its stderr */
        rc = run(args, 1, out, sizeof out);
        printf("# rerun (rc %d): %.2000s\n", rc, out);
    }
    snprintf(args, sizeof args, "bench --device %s -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-startup",
             device);
    rc = run(args, 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "GEMM alone") && strstr(out, " GEMM: ") && strstr(out, "% of it"),
             "%s: the table has the GEMM section (rc %d)", device, rc);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_bench_cmd CLUNET\n");
        return 2;
    }
    exe = argv[1];
    const char *env = getenv("CLUNET_DEVICE");
    check_json(env && *env ? env : "cpu", "cl");
    check_options(env && *env ? env : "cpu");
    check_json("ref", "ref");
    static char out[1 << 16];
    int rc = run("bench --device ref -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --upsample transposed", 0, out,
                 sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "training step:") && strstr(out, "images/s") && strstr(out, "dec4.up") &&
                 strstr(out, "all convs"),
             "table with transposed up-sampling (rc %d)", rc);
    /* --data: the trainer's loader timed on a synthetic set the test writes. */
    char dir[] = "/tmp/clunet-bench-XXXXXX", args[512];
    if (TU_CHECK(mkdtemp(dir) != NULL, "temp folder")) {
        snprintf(args, sizeof args, "synth --out %s/d --count 5 --size 40x24 --quiet", dir);
        TU_CHECK(run(args, 0, out, sizeof out) == 0, "synth 5 images");
        snprintf(args, sizeof args,
                 "bench --device ref -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-layers --json --data %s/d",
                 dir);
        rc = run(args, 0, out, sizeof out);
        json_t *root = json_loads(out, 0, NULL);
        TU_CHECK(rc == 0 && num(root, "load_images") == 5 && num(root, "load_s") > 0,
                 "--data: 5 images loaded, time reported (rc %d)", rc);
        json_decref(root);
        snprintf(args, sizeof args, "bench --device ref -s 16 --steps 1 --no-layers --data %s/missing", dir);
        TU_CHECK(run(args, 1, out, sizeof out) == 2 && strstr(out, "missing"), "--data missing folder: exit 2");
        snprintf(args, sizeof args, "rm -rf '%s'", dir);
        TU_CHECK(system(args) == 0, "temp folder removed");
    }
    /* --cpu-time: the JSON says which clock; the times stay positive. */
    rc = run("bench --device ref -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-layers --cpu-time --json", 0, out,
             sizeof out);
    json_t *ct = json_loads(out, 0, NULL);
    TU_CHECK(rc == 0 && str_is(ct, "clock", "cpu") &&
                 time_ok(json_object_get(ct, "train_step")),
             "--cpu-time: clock \"cpu\", step time positive (rc %d)", rc);
    json_decref(ct);
    rc = run("bench --device ref -s 16 -c 0.125 --batch 1 --steps 1 --warmup 0 --no-layers --json", 0, out, sizeof out);
    ct = json_loads(out, 0, NULL);
    TU_CHECK(rc == 0 && str_is(ct, "clock", "wall"), "default clock \"wall\"");
    json_decref(ct);
    rc = run("bench --help", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "usage: clunet bench"), "--help exits 0");
    rc = run("bench --steps 0", 1, out, sizeof out);
    TU_CHECK(rc == 1 && !strncmp(out, "clunet: ", 8) && !strchr(out, '\n')[1], "--steps 0: exit 1, one line: %s",
             out);
    rc = run("bench --frobnicate", 1, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "--frobnicate"), "unknown option: exit 1, names it");
    rc = run("bench -s 20", 1, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "multiple of 16"), "-s 20: exit 1 (%s)", out);
    return tu_finish();
}
