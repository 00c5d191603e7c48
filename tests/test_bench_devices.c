/* test_bench_devices.c: `clunet bench --devices` (argv[1]: the binary) at a
 * tiny size on PoCL's CPU device listed twice: the JSON holds the number of
 * devices, the data-parallel step time (min <= median <= max), its images/s
 * (= 2 x batch / median) and the scaling efficiency computed as documented
 * (images/s with 2 / (2 x the first device's alone)); the table prints the
 * line; an empty list entry is a usage error. No speed is asserted: the
 * machine may be shared and slow. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static const char *exe;

static int run(const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", exe, args);
    return tu_run(cmd, out, size);
}

static double num(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* The JSON carries 6 significant digits: equal within 1e-5 relative. */
static int near(double a, double b) { return fabs(a - b) <= 1e-5 * fabs(b); }

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_bench_devices CLUNET\n"), 1;
    exe = argv[1];
    static char out[1 << 16];
    /* --no-startup --no-gemm: those sections are test_bench_cmd's; here only the devices */
    const char *args =
        "bench --devices cpu,cpu -s 32 -c 0.25 --batch 2 --steps 2 --warmup 0 --no-layers --no-startup --no-gemm";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --json", args);
    int rc = run(cmd, out, sizeof out);
    TU_CHECK(rc == 0, "clunet %s exits 0 (%d)", cmd, rc);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    if (TU_CHECK(json_is_object(root), "output is a JSON object (%s)", je.text)) {
        json_t *t = json_object_get(root, "dp_train_step");
        double med = num(t, "median_s"), lo = num(t, "min_s"), hi = num(t, "max_s");
        double ips = num(root, "dp_train_images_per_s"), eff = num(root, "scaling_efficiency");
        double one = num(root, "train_images_per_s");
        TU_CHECK(num(root, "n_devices") == 2 && !strcmp(json_string_value(json_object_get(root, "devices")), "cpu,cpu"),
                 "n_devices 2, devices \"cpu,cpu\"");
        TU_CHECK(lo > 0 && lo <= med && med <= hi && isfinite(hi), "data-parallel step time %g s, min <= median <= max",
                 med);
        TU_CHECK(near(ips, 4 / med), "dp images/s %g = 2 devices x 2 images / median step", ips);
        TU_CHECK(eff > 0 && near(eff, ips / (2 * one)), "efficiency %g = dp images/s / (2 x %g images/s alone)", eff,
                 one);
    }
    json_decref(root);
    rc = run(args, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "data parallel on 2 devices (cpu,cpu)") && strstr(out, "scaling efficiency"),
             "the table prints the data-parallel line");
    rc = run("bench --devices cpu,,cpu --steps 1", out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "empty entry"), "--devices cpu,,cpu: exit 1 naming the empty entry (%d)", rc);
    return tu_finish();
}
