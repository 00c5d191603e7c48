/* test_input_formats.c: TIFF stacks, --channel, --page, percentile
 * normalisation and --skip-bad through the clunet binary (argv[1]).
 *
 * 1. A 16-bit ImageJ stack (3 z-slices x 2 channels, committed fixture)
 *    predicted with --channel 2 gives <id>_p1..p3, each byte-identical to
 *    predicting that page's channel 2 saved alone as a 16-bit PNG (same
 *    samples, same default percentile stretch), and --page 2 gives page 2
 *    alone; without --channel the 2-channel stack is refused (exit 2).
 * 2. The 12-bit/8-bit check: a small model trained here on bright discs
 *    (S=32, 48 images, 12 epochs: ~12 s of CPU on ref; 32 images and
 *    8 epochs learn nothing) predicts 12-bit images (0..4095 in 16-bit PNGs)
 *    and the 8-bit images made from them by the same 1..99.8 percentile
 *    stretch (numpy's linear interpolation, written out here, rounded to
 *    8 bits); at least 95 % of the nuclei must match one-to-one at
 *    IoU > 0.5 (the 8-bit rounding moves a few edge pixels, no more).
 *    With --normalize none (the old v / 65535) the same 12-bit images
 *    give what is printed, for comparison.
 * 3. --skip-bad in predict and eval: a corrupt TIFF among good images is
 *    listed and the rest are written / scored; without it, exit 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/image.h"
#include "clunet/metrics.h"
#include "predict_fixture.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;
static char out_buf[1 << 16], err_buf[1 << 16];

static int run(const char *args)
{
    out_buf[0] = err_buf[0] = '\0';
    return pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)*n + 1);
    if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n)
        free(b), b = NULL;
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b)
{
    long na = -1, nb = -2;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
    free(x), free(y);
    return same;
}

static void mkdirs(const char *name)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", pf_path(name));
    TU_CHECK(system(cmd) == 0, "mkdir %s", name);
}

static void stack_channel(const char *model)
{
    mkdirs("single");
    char stack[4096], args[16384];
    snprintf(stack, sizeof stack, "%s/ij_z3c2.tif", tu_source_path("datasets/images"));
    /* Each page's channel 2 alone, as a 16-bit grey PNG. */
    struct cu_err err = {0};
    for (int p = 0; p < 3; p++) {
        struct cu_raw_image r;
        if (!tu_ok(cu_image_read(stack, p, &r, &err), &err, "stack page"))
            return;
        char name[64];
        snprintf(name, sizeof name, "single/page%d.png", p + 1);
        uint16_t *plane = (uint16_t *)r.data + (size_t)r.w * (size_t)r.h; /* channel 2 */
        tu_ok(cu_png_write_gray16(pf_path(name), plane, r.h, r.w, &err), &err, name);
        cu_raw_free(&r);
    }
    snprintf(args, sizeof args, "predict %s %s --out %s --channel 2 --probabilities --device ref", model, stack,
             pf_path("stack"));
    int rc = run(args);
    TU_CHECK(rc == 0, "predict a 2-channel 16-bit stack with --channel 2: exit %d %s", rc, err_buf);
    snprintf(args, sizeof args, "predict %s %s --out %s --probabilities --device ref", model, pf_path("single"),
             pf_path("single_out"));
    rc = run(args);
    TU_CHECK(rc == 0, "predict the pages saved alone: exit %d %s", rc, err_buf);
    for (int p = 1; p <= 3; p++) {
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s/ij_z3c2_p%d_prob.png", pf_path("stack"), p);
        snprintf(b, sizeof b, "%s/page%d_prob.png", pf_path("single_out"), p);
        TU_CHECK(same_file(a, b), "stack page %d, channel 2 = the same plane predicted alone (%s)", p, a);
    }
    snprintf(args, sizeof args, "predict %s %s --out %s --channel 2 --page 2 --probabilities --device ref", model,
             stack, pf_path("page2"));
    rc = run(args);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/ij_z3c2_prob.png", pf_path("page2"));
    snprintf(b, sizeof b, "%s/page2_prob.png", pf_path("single_out"));
    TU_CHECK(rc == 0 && same_file(a, b) && pf_count_files(pf_path("page2")) == 2,
             "--page 2: that page alone, named by the file: exit %d", rc);
    snprintf(args, sizeof args, "predict %s %s --out %s --device ref", model, stack, pf_path("nochan"));
    rc = run(args);
    TU_CHECK(rc == 2 && strstr(err_buf, "ij_z3c2.tif: the image has 2 channels") && strstr(err_buf, "--channel") &&
                 pf_lines(err_buf) == 1,
             "2 channels without --channel: exit %d: %s", rc, err_buf);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.percentile (linear) of n values (sorted copy). */
static double pct(const double *v, size_t n, double p)
{
    double *s = malloc(sizeof *s * n);
    memcpy(s, v, sizeof *s * n);
    qsort(s, n, sizeof *s, cmp_double);
    double pos = p / 100 * (double)(n - 1), f = floor(pos);
    size_t i = (size_t)f;
    double r = i + 1 < n ? s[i] + (pos - f) * (s[i + 1] - s[i]) : s[n - 1];
    free(s);
    return r;
}

/* Discs as in the training set (tf_make_dataset), at 12 bits. */
static void make_12bit(const char *path12, const char *path8, int h, int w, uint64_t seed)
{
    uint64_t rng = seed;
    size_t n = (size_t)h * (size_t)w;
    double *v = malloc(sizeof *v * n);
    uint16_t *v12 = malloc(sizeof *v12 * n);
    uint8_t *v8 = malloc(n);
    for (size_t q = 0; q < n; q++)
        v[q] = 300 + tu_rand_uniform(&rng, 0, 500);
    int discs = 3 + (int)tu_rand_uniform(&rng, 0, 1.99f);
    for (int d = 0; d < discs; d++) {
        float r = tu_rand_uniform(&rng, 3.5f, 6.0f);
        float cy = tu_rand_uniform(&rng, r, h - r), cx = tu_rand_uniform(&rng, r, w - r);
        double bright = 2400 + tu_rand_uniform(&rng, 0, 1600);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r)
                    v[(size_t)y * w + x] = bright + tu_rand_uniform(&rng, 0, 80);
    }
    for (size_t q = 0; q < n; q++)
        v12[q] = (uint16_t)(v[q] > 4095 ? 4095 : v[q]), v[q] = v12[q];
    double lo = pct(v, n, 1), hi = pct(v, n, 99.8);
    for (size_t q = 0; q < n; q++) {
        double t = (v[q] - lo) / (hi - lo);
        v8[q] = (uint8_t)lround((t < 0 ? 0 : t > 1 ? 1 : t) * 255);
    }
    struct cu_err err = {0};
    tu_ok(cu_png_write_gray16(path12, v12, h, w, &err), &err, path12);
    tu_ok(cu_png_write_gray8(path8, v8, h, w, &err), &err, path8);
    free(v), free(v12), free(v8);
}

static int32_t *read_labels(const char *path, int *h, int *w)
{
    struct cu_labels lb = {0};
    struct cu_err err = {0};
    if (!tu_ok(cu_image_read_labels(path, &lb, &err), &err, path))
        return NULL;
    int32_t *v = malloc(sizeof *v * (size_t)lb.h * (size_t)lb.w);
    for (size_t q = 0; q < (size_t)lb.h * (size_t)lb.w; q++)
        v[q] = (int32_t)lb.v[q];
    *h = lb.h, *w = lb.w;
    cu_labels_free(&lb);
    return v;
}

/* Nuclei of folder a matched at IoU > 0.5 in folder b, over `n` images. */
static void match(const char *a, const char *b, int n, int *matched, int *na, int *nb)
{
    *matched = *na = *nb = 0;
    for (int i = 0; i < n; i++) {
        char pa[4096], pb[4096];
        snprintf(pa, sizeof pa, "%s/t%d_labels.png", a, i);
        snprintf(pb, sizeof pb, "%s/t%d_labels.png", b, i);
        int h, w, h2, w2;
        int32_t *la = read_labels(pa, &h, &w), *lb = read_labels(pb, &h2, &w2);
        struct cu_dsb_score s;
        struct cu_err err = {0};
        if (la && lb && h == h2 && w == w2 && tu_ok(cu_dsb_score(&s, la, lb, h, w, &err), &err, "score"))
            *matched += s.tp[0], *na += s.n_pred, *nb += s.n_true;
        free(la), free(lb);
    }
}

static void twelve_bit(void)
{
    char data[4096], run_dir[4096], args[16384];
    snprintf(data, sizeof data, "%s", pf_path("discs"));
    snprintf(run_dir, sizeof run_dir, "%s", pf_path("run"));
    if (!TU_CHECK(tf_make_dataset(data, 48, 32, 32, 11) == 0, "training discs"))
        return;
    snprintf(args, sizeof args, "train --data %s --out %s -s 32 -c 0.25 -e 12 --batch 8 --lr 3e-3 --device ref -q",
             data, run_dir);
    int rc = run(args);
    if (!TU_CHECK(rc == 0, "train the disc model: exit %d %s", rc, err_buf))
        return;
    enum { N = 8 };
    mkdirs("in12"), mkdirs("in8");
    for (int i = 0; i < N; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "in12/t%d.png", i);
        snprintf(b, sizeof b, "in8/t%d.png", i);
        make_12bit(pf_path(a), pf_path(b), 32, 32, 100 + (uint64_t)i);
    }
    const char *outs[3][2] = {{"in12", "out12"}, {"in8", "out8"}, {"in12", "out12none"}};
    for (int k = 0; k < 3; k++) {
        char in[4096], out[4096];
        snprintf(in, sizeof in, "%s", pf_path(outs[k][0]));
        snprintf(out, sizeof out, "%s", pf_path(outs[k][1]));
        snprintf(args, sizeof args, "predict %s/model.safetensors %s --out %s --instances --device ref %s", run_dir,
                 in, out, k == 2 ? "--normalize none" : "");
        rc = run(args);
        TU_CHECK(rc == 0, "predict %s: exit %d %s", outs[k][0], rc, err_buf);
    }
    int m, n12, n8;
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", pf_path("out12"));
    snprintf(b, sizeof b, "%s", pf_path("out8"));
    match(a, b, N, &m, &n12, &n8);
    int most = n12 > n8 ? n12 : n8;
    TU_CHECK(n8 >= 2 * N && most > 0 && m >= 0.95 * most,
             "12-bit vs its 8-bit percentile stretch: %d of %d / %d nuclei matched at IoU > 0.5 (need 95 %%)", m,
             n12, n8);
    snprintf(a, sizeof a, "%s", pf_path("out12none"));
    match(a, b, N, &m, &n12, &n8);
    printf("for comparison, --normalize none (v / 65535): %d nuclei, %d of the 8-bit image's %d matched\n", n12, m,
           n8);
}

static void skip_bad(const char *model)
{
    char args[16384], bad[4096];
    struct cu_err err = {0};
    mkdirs("mixed"), mkdirs("ev/images"), mkdirs("ev/masks");
    uint8_t g[16 * 16] = {0};
    g[40] = 200;
    tu_ok(cu_png_write_gray8(pf_path("mixed/a.png"), g, 16, 16, &err), &err, "a.png");
    tu_ok(cu_png_write_gray8(pf_path("mixed/c.png"), g, 16, 16, &err), &err, "c.png");
    snprintf(bad, sizeof bad, "%s/bad_truncated.tif", tu_source_path("datasets/images"));
    snprintf(args, sizeof args, "cp %s %s", bad, pf_path("mixed/b.tif"));
    TU_CHECK(system(args) == 0, "copy the corrupt TIFF");
    snprintf(args, sizeof args, "predict %s %s --out %s --device ref", model, pf_path("mixed"), pf_path("sk0"));
    int rc = run(args);
    const char *line = strstr(err_buf, "clunet: ");
    TU_CHECK(rc == 2 && line && strstr(line, "b.tif: file is truncated or corrupt") && !strstr(line + 1, "clunet: "),
             "predict: a corrupt TIFF stops the run, one line, exit %d: %s", rc, err_buf);
    snprintf(args, sizeof args, "predict %s %s --out %s --device ref --skip-bad", model, pf_path("mixed"),
             pf_path("sk1"));
    rc = run(args);
    TU_CHECK(rc == 0 && strstr(err_buf, "skipped 1 bad image (--skip-bad):") && strstr(err_buf, "b.tif: file is") &&
                 pf_count_files(pf_path("sk1")) == 2 && strstr(out_buf, "predicted 2 images"),
             "predict --skip-bad: the corrupt TIFF listed, the 2 others written: exit %d: %s", rc, err_buf);
    /* eval: images/ + masks/ with the corrupt image; a mask for each. */
    tu_ok(cu_png_write_gray8(pf_path("ev/images/a.png"), g, 16, 16, &err), &err, "ev a");
    tu_ok(cu_png_write_gray8(pf_path("ev/masks/a.png"), g, 16, 16, &err), &err, "ev mask a");
    tu_ok(cu_png_write_gray8(pf_path("ev/masks/b.png"), g, 9, 13, &err), &err, "ev mask b"); /* b.tif is 13x9 */
    snprintf(args, sizeof args, "cp %s %s", bad, pf_path("ev/images/b.tif"));
    TU_CHECK(system(args) == 0, "copy the corrupt TIFF");
    snprintf(args, sizeof args, "eval %s %s --out %s --device ref", model, pf_path("ev"), pf_path("ev0"));
    rc = run(args);
    TU_CHECK(rc == 2 && strstr(err_buf, "b.tif: file is truncated"), "eval: a corrupt TIFF stops it: exit %d: %s",
             rc, err_buf);
    snprintf(args, sizeof args, "eval %s %s --out %s --device ref --skip-bad --json", model, pf_path("ev"),
             pf_path("ev1"));
    rc = run(args);
    TU_CHECK(rc == 0 && strstr(err_buf, "skipped 1 bad image (--skip-bad):") && strstr(out_buf, "\"images\": 1"),
             "eval --skip-bad: scored without it: exit %d: %s %s", rc, err_buf, out_buf);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CLUNET\n", argv[0]);
        return 2;
    }
    exe = argv[1];
    char model[4096];
    snprintf(model, sizeof model, "%s", pf_path("model.safetensors"));
    if (!TU_CHECK(pf_make_model(model, 16, 0.125, 3) == 0, "model"))
        return tu_finish();
    stack_channel(model);
    skip_bad(model);
    twelve_bit();
    pf_cleanup();
    return tu_finish();
}
