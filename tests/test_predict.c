/* test_predict.c: the predictor and `clunet predict` (argv[1] is the built
 * binary), on a tiny He-initialised model (S=16, c=0.125) saved by the
 * test and tiny synthetic images it writes itself.
 *
 * Library: the TTA views turn back exactly; resize and tile modes on an
 * S x S image equal one forward pass; tile mode on long and short axes
 * equals the test's own tiling written from predict.h's description
 * (origins, mirrored padding, raised-cosine blend); TTA equals the mean of
 * 8 forward passes; the batch size changes nothing; cl agrees with ref.
 * Command: masks at the original size for odd sizes and every flavour,
 * both modes, every optional output, the submission CSV decoded back equal
 * to the label images, a DSB2018 folder as input, bad model files (exit 2,
 * one line), unwritable outputs (exit 4, nothing left behind), --help. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/dataset.h"
#include "clunet/model_file.h"
#include "clunet/ops.h"
#include "clunet/predict.h"
#include "clunet/rle.h"
#include "predict_fixture.h"
#include "testutil.h"

#define S 16

static const char *exe;
static char model[1024];

/* ---- library ---- */

static void test_tta_invert(void)
{
    enum { N = 7 };
    float a[N * N], b[N * N], scratch[N * N];
    uint64_t rng = 11;
    tu_fill_uniform(a, N * N, &rng, -1, 1);
    int all_back = 1, distinct = 1;
    for (int t = 0; t < 8; t++) {
        memcpy(b, a, sizeof a);
        cu_augment_apply(b, N, t, scratch);
        distinct &= t == 0 || memcmp(a, b, sizeof a) != 0;
        cu_tta_invert(b, N, t, scratch);
        all_back &= memcmp(a, b, sizeof a) == 0;
    }
    TU_CHECK(distinct, "the 8 views of a random 7x7 plane differ from it (t>0)");
    TU_CHECK(all_back, "cu_tta_invert undoes each of the 8 views exactly");
}

/* out (S*S) = sigmoid(net(tile)), one forward pass of a (1,3,S,S) tile. */
static void forward_one(struct cu_unet *net, const float *tile, float *out)
{
    struct cu_err err = {0};
    struct cu_backend *be = cu_unet_backend(net);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){1, 3, S, S}, "x", tile);
    struct cu_tensor *y = tu_tensor(be, (struct cu_shape){1, 1, S, S}, "y", NULL), *logits = NULL;
    tu_ok(cu_unet_forward(net, x, &logits, &err), &err, "forward");
    tu_ok(cu_sigmoid_forward(be, y, logits, &err), &err, "sigmoid");
    tu_ok(cu_tensor_download(y, out, &err), &err, "download");
    cu_tensor_free(x);
    cu_tensor_free(y);
}

static int mirror(int q, int L) /* numpy 'reflect' */
{
    if (L == 1)
        return 0;
    int p = 2 * (L - 1), m = ((q % p) + p) % p;
    return m >= L ? p - m : m;
}

/* Tile origins as predict.h states: one centred tile for L <= S, else
 * n = ceil((L - S) / (S/2)) + 1 tiles from 0 to L - S, evenly rounded. */
static int origins(int L, int *o)
{
    if (L <= S) {
        o[0] = -((S - L) / 2);
        return 1;
    }
    int n = (L - S + S / 2 - 1) / (S / 2) + 1;
    for (int i = 0; i < n; i++)
        o[i] = (int)lround((double)i * (L - S) / (n - 1));
    return n;
}

/* The tile-mode probability map of img, computed the slow, obvious way. */
static void reference_tile(struct cu_unet *net, const struct cu_image *img, float *prob)
{
    int oy[64], ox[64], ny = origins(img->h, oy), nx = origins(img->w, ox);
    size_t n = (size_t)img->h * (size_t)img->w;
    double *acc = calloc(n, sizeof *acc), *ws = calloc(n, sizeof *ws);
    float tile[3 * S * S], out[S * S];
    for (int a = 0; a < ny; a++)
        for (int b = 0; b < nx; b++) {
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < S; i++)
                    for (int j = 0; j < S; j++)
                        tile[(c * S + i) * S + j] =
                            img->px[((size_t)c * img->h + mirror(oy[a] + i, img->h)) * img->w + mirror(ox[b] + j, img->w)];
            forward_one(net, tile, out);
            for (int i = 0; i < S; i++)
                for (int j = 0; j < S; j++) {
                    int y = oy[a] + i, x = ox[b] + j;
                    if (y < 0 || y >= img->h || x < 0 || x >= img->w)
                        continue;
                    double wy = ny > 1 ? pow(sin(3.14159265358979323846 * (i + 0.5) / S), 2) : 1;
                    double wx = nx > 1 ? pow(sin(3.14159265358979323846 * (j + 0.5) / S), 2) : 1;
                    acc[(size_t)y * img->w + x] += wy * wx * out[i * S + j];
                    ws[(size_t)y * img->w + x] += wy * wx;
                }
        }
    for (size_t q = 0; q < n; q++)
        prob[q] = (float)(acc[q] / ws[q]);
    free(acc), free(ws);
}

static void make_image(struct cu_image *img, int h, int w, uint64_t seed)
{
    struct cu_err err = {0};
    cu_image_new(img, 3, h, w, &err);
    tu_fill_uniform(img->px, (size_t)3 * h * w, &seed, 0, 1);
}

static struct cu_predictor *predictor(struct cu_backend *be, enum cu_predict_mode mode, int tta, int batch)
{
    struct cu_err err = {0};
    struct cu_predict_opts o;
    cu_predict_opts_default(&o);
    o.mode = mode, o.tta = tta, o.batch = batch;
    struct cu_predictor *p = NULL;
    tu_ok(cu_predictor_new(be, model, &o, &p, &err), &err, "predictor");
    return p;
}

static float *predict(struct cu_predictor *p, const struct cu_image *img)
{
    struct cu_err err = {0};
    float *prob = malloc(sizeof *prob * (size_t)img->h * (size_t)img->w);
    tu_ok(cu_predictor_prob(p, img, prob, &err), &err, "cu_predictor_prob");
    return prob;
}

static void test_library(struct cu_backend *ref)
{
    struct cu_err err = {0};
    struct cu_unet *net = NULL;
    if (!tu_ok(cu_model_load(ref, model, 1, 0, &net, NULL, &err), &err, "load the model for direct passes"))
        return;
    struct cu_predictor *pr = predictor(ref, CU_PREDICT_RESIZE, 0, 4), *pt = predictor(ref, CU_PREDICT_TILE, 0, 3);
    struct cu_predictor *pa = predictor(ref, CU_PREDICT_AUTO, 0, 4);
    TU_CHECK(cu_predictor_mode_for(pa, S, S) == CU_PREDICT_RESIZE &&
                 cu_predictor_mode_for(pa, S + 1, 5) == CU_PREDICT_TILE &&
                 cu_predictor_mode_for(pa, 5, S + 1) == CU_PREDICT_TILE,
             "auto: resize up to SxS, tile when either side exceeds S");

    /* An S x S image: both modes are one plain forward pass. Tolerance 1e-6:
     * resize S->S samples exactly on the pixels (weights 1 and 0). */
    struct cu_image sq;
    make_image(&sq, S, S, 5);
    float direct[S * S];
    forward_one(net, sq.px, direct);
    float *a = predict(pr, &sq), *b = predict(pt, &sq);
    double da = tu_max_abs_err(a, direct, S * S), db = tu_max_abs_err(b, direct, S * S);
    TU_CHECK(da <= 1e-6, "resize mode on a %dx%d image = one forward pass (max diff %.2g)", S, S, da);
    TU_CHECK(db <= 1e-6, "tile mode on a %dx%d image = one forward pass (max diff %.2g)", S, S, db);
    free(a), free(b);

    /* Tile mode against the obvious implementation; 1e-5 covers float vs
     * double accumulation of the blend. */
    static const int sizes[][2] = {{40, 23}, {10, 13}, {17, 50}, {1, 30}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct cu_image im;
        make_image(&im, sizes[k][0], sizes[k][1], 20 + k);
        float *got = predict(pt, &im), *want = malloc(sizeof *want * (size_t)im.h * (size_t)im.w);
        reference_tile(net, &im, want);
        double d = tu_max_abs_err(got, want, (size_t)im.h * (size_t)im.w);
        TU_CHECK(d <= 1e-5, "tile mode %dx%d = reference tiling/padding/blend (max diff %.2g)", im.h, im.w, d);
        free(got), free(want);
        cu_image_free(&im);
    }

    /* TTA: the mean of the 8 views, each turned back. 1e-6: float sums. */
    struct cu_predictor *ptta = predictor(ref, CU_PREDICT_RESIZE, 1, 3);
    float mean[S * S] = {0}, view[3 * S * S], out[S * S], scratch[S * S];
    for (int t = 0; t < 8; t++) {
        memcpy(view, sq.px, sizeof view);
        for (int c = 0; c < 3; c++)
            cu_augment_apply(view + c * S * S, S, t, scratch);
        forward_one(net, view, out);
        cu_tta_invert(out, S, t, scratch);
        for (int q = 0; q < S * S; q++)
            mean[q] += out[q] / 8;
    }
    float *tta = predict(ptta, &sq);
    double dt = tu_max_abs_err(tta, mean, S * S), dn = tu_max_abs_err(tta, direct, S * S);
    TU_CHECK(dt <= 1e-6, "--tta = mean of the 8 turned-back views (max diff %.2g)", dt);
    TU_CHECK(dn > 1e-4, "--tta differs from a single pass on random weights (max diff %.2g)", dn);
    free(tta);
    cu_predictor_free(ptta);

    /* Batch size: each input is independent (ref computes them alike). */
    struct cu_image big;
    make_image(&big, 37, 29, 77);
    struct cu_predictor *p1 = predictor(ref, CU_PREDICT_TILE, 1, 1), *p7 = predictor(ref, CU_PREDICT_TILE, 1, 7);
    TU_CHECK(cu_predictor_inputs_for(p1, 37, 29) == 4 * 3 * 8, "37x29 at S=16 with TTA: 4x3 tiles x 8 views (%ld)",
             cu_predictor_inputs_for(p1, 37, 29));
    float *g1 = predict(p1, &big), *g7 = predict(p7, &big);
    double d17 = tu_max_abs_err(g1, g7, 37 * 29);
    TU_CHECK(d17 == 0, "--batch 1 and --batch 7 give the same map (max diff %.2g)", d17);
    int in01 = 1;
    for (int q = 0; q < 37 * 29; q++)
        in01 &= g1[q] >= 0 && g1[q] <= 1;
    TU_CHECK(in01, "probabilities lie in [0, 1]");

    /* cl against ref: tile mode with TTA over an odd-sized image. Tolerance
     * 1e-4 on probabilities: the cl convolutions (im2col + CLBlast SGEMM)
     * sum in another order than ref's double accumulators, ~1e-6 relative
     * per layer over 23 layers; sigmoid's slope is at most 1/4. */
    struct cu_backend *cl = NULL;
    const char *spec = getenv("CLUNET_DEVICE");
    if (tu_ok(cu_backend_open(spec && *spec && strcmp(spec, "ref") ? spec : "cpu", &cl, &err), &err,
              "open the cl device")) {
        TU_CHECK(cu_backend_kind(cl) == CU_BACKEND_CL, "the cl device is an OpenCL one");
        struct cu_predictor *pc = predictor(cl, CU_PREDICT_TILE, 1, 7);
        float *gc = pc ? predict(pc, &big) : NULL;
        double dc = gc ? tu_max_abs_err(gc, g7, 37 * 29) : 1;
        TU_CHECK(dc <= 1e-4, "cl and ref predictions agree (tile + TTA, 37x29): max abs diff %.2g <= 1e-4", dc);
        free(gc);
        cu_predictor_free(pc);
        cu_backend_free(cl);
    }
    free(g1), free(g7);
    cu_predictor_free(p1), cu_predictor_free(p7);
    cu_image_free(&big);
    cu_image_free(&sq);
    cu_predictor_free(pr), cu_predictor_free(pt), cu_predictor_free(pa);
    cu_unet_free(net);
}

/* ---- the command ---- */

struct img_case {
    const char *name;
    int h, w;
    int (*write)(const char *, int, int, uint64_t);
};

static const struct img_case cases[] = {
    {"gray8", 23, 37, pf_write_gray8},   {"rgba", 41, 19, pf_write_rgba8},
    {"gray16", 13, 11, pf_write_gray16}, {"rgb", 16, 16, pf_write_rgb8},
};
#define NCASES (sizeof cases / sizeof cases[0])

static char out_buf[65536], err_buf[65536];

/* Every output of image c in dir has its size; the mask is 0/255 and equals
 * labels > 0. */
static void check_outputs(const char *dir, const struct img_case *c, const char *what)
{
    char p[1024];
    struct cu_err err = {0};
    struct cu_labels mask = {0}, lab = {0}, prob = {0};
    snprintf(p, sizeof p, "%s/%s.png", dir, c->name);
    int ok = !cu_image_read_labels(p, &mask, &err) && mask.h == c->h && mask.w == c->w;
    TU_CHECK(ok, "%s: %s.png is %dx%d like its image (%s)", what, c->name, c->w, c->h, err.msg);
    snprintf(p, sizeof p, "%s/%s_labels.png", dir, c->name);
    ok = ok && !cu_image_read_labels(p, &lab, &err) && lab.h == c->h && lab.w == c->w;
    snprintf(p, sizeof p, "%s/%s_prob.png", dir, c->name);
    ok = ok && !cu_image_read_labels(p, &prob, &err) && prob.h == c->h && prob.w == c->w;
    int h, w;
    snprintf(p, sizeof p, "%s/%s_overlay.png", dir, c->name);
    ok = ok && !cu_image_read_size(p, &h, &w, &err) && h == c->h && w == c->w;
    TU_CHECK(ok, "%s: %s _labels, _prob and _overlay have the image's size", what, c->name);
    int binary = ok, agree = ok;
    for (int q = 0; ok && q < c->h * c->w; q++) {
        binary &= mask.v[q] == 0 || mask.v[q] == 255;
        agree &= (mask.v[q] == 255) == (lab.v[q] > 0);
    }
    TU_CHECK(binary && agree, "%s: %s mask is 0/255 and equals labels > 0", what, c->name);
    cu_labels_free(&mask), cu_labels_free(&lab), cu_labels_free(&prob);
}

/* The submission decodes back to each image's label image. */
static void check_submission(const char *csv, const char *dir)
{
    struct cu_err err = {0};
    struct cu_sub *sub = NULL;
    if (!tu_ok(cu_sub_read(&sub, csv, &err), &err, "submission CSV parses"))
        return;
    int rows_ok = 1, same = 1;
    for (size_t k = 0; k < NCASES; k++) {
        const struct img_case *c = &cases[k];
        char p[1024];
        struct cu_labels lab = {0};
        snprintf(p, sizeof p, "%s/%s_labels.png", dir, c->name);
        int32_t *dec = calloc((size_t)c->h * c->w, sizeof *dec);
        int n = -1;
        if (cu_image_read_labels(p, &lab, &err) || cu_sub_decode(sub, c->name, c->h, c->w, dec, &n, &err)) {
            rows_ok = 0;
        } else {
            for (int q = 0; q < c->h * c->w; q++)
                same &= (uint32_t)dec[q] == lab.v[q];
        }
        int rows = 0;
        for (size_t i = 0; i < cu_sub_rows(sub); i++)
            rows += !strcmp(cu_sub_image(sub, i), c->name);
        rows_ok &= rows == (n > 0 ? n : 1);
        free(dec);
        cu_labels_free(&lab);
    }
    TU_CHECK(rows_ok, "submission: one row per nucleus (one empty row for none) for every image (%s)", err.msg);
    TU_CHECK(same, "submission decodes to exactly the label images");
    cu_sub_free(sub);
}

static void test_command(void)
{
    char args[8192], files[4096] = "";
    mkdir(pf_path("in"), 0777);
    for (size_t k = 0; k < NCASES; k++) {
        char name[64];
        snprintf(name, sizeof name, "in/%s.png", cases[k].name);
        cases[k].write(pf_path(name), cases[k].h, cases[k].w, 3 + k);
        snprintf(files + strlen(files), sizeof files - strlen(files), " '%s'", pf_path(name));
    }
    static const char *modes[] = {"resize", "tile", "auto"};
    for (int m = 0; m < 3; m++) {
        char out[64];
        snprintf(out, sizeof out, "out_%s", modes[m]);
        snprintf(args, sizeof args,
                 "--device ref predict '%s' %s --out '%s' --mode %s --probabilities --instances --overlay "
                 "--submission '%s' --min-size 0 --threshold 0.5",
                 model, files, pf_path(out), modes[m], pf_path("sub.csv"));
        int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
        TU_CHECK(rc == 0, "predict --mode %s exits 0 (%d: %s)", modes[m], rc, err_buf);
        TU_CHECK(strstr(out_buf, "images/s") && strstr(out_buf, "predicted 4 images"),
                 "predict --mode %s reports images and images/s (%s)", modes[m], out_buf);
        for (size_t k = 0; k < NCASES; k++)
            check_outputs(pf_path(out), &cases[k], modes[m]);
        TU_CHECK(pf_count_files(pf_path(out)) == 4 * (int)NCASES, "--mode %s: 4 files per image, no leftovers (%d)",
                 modes[m], pf_count_files(pf_path(out)));
        if (m == 1)
            check_submission(pf_path("sub.csv"), pf_path(out));
    }
    /* The global device flag also works after the command. */
    snprintf(args, sizeof args, "predict '%s' '%s' --out '%s' --device ref -q", model, pf_path("in/rgb.png"),
             pf_path("out_q"));
    int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0 && !out_buf[0] && !err_buf[0] && pf_count_files(pf_path("out_q")) == 1,
             "-q: one mask, nothing printed (rc %d)", rc);

    /* A DSB2018 test folder: <id>/images/<id>.png. */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s'", pf_path("dsb/abc/images"), pf_path("dsb/xyz/images"));
    TU_CHECK(system(cmd) == 0, "made a DSB2018 folder");
    pf_write_gray8(pf_path("dsb/abc/images/abc.png"), 20, 30, 1);
    pf_write_rgb8(pf_path("dsb/xyz/images/xyz.png"), 33, 17, 2);
    snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s'", model, pf_path("dsb"), pf_path("out_dsb"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    int h = 0, w = 0, h2 = 0, w2 = 0;
    struct cu_err err = {0};
    cu_image_read_size(pf_path("out_dsb/abc.png"), &h, &w, &err);
    cu_image_read_size(pf_path("out_dsb/xyz.png"), &h2, &w2, &err);
    TU_CHECK(rc == 0 && h == 20 && w == 30 && h2 == 33 && w2 == 17, "DSB2018 folder: <id>.png at each size (rc %d)", rc);
}

static void test_bad_model(void)
{
    /* Truncated: the first half of a good model file. */
    FILE *f = fopen(model, "rb");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    f = fopen(pf_path("trunc.safetensors"), "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    f = fopen(pf_path("garbage.safetensors"), "wb");
    fputs("this is not a model file at all, just some text\n", f);
    fclose(f);
    /* Foreign: a valid safetensors file without clunet's metadata. */
    struct cu_err err = {0};
    struct cu_st_writer *w = NULL;
    int64_t shape[1] = {2};
    float data[2] = {1, 2};
    cu_st_writer_new(&w, &err);
    cu_st_writer_add(w, "weight", 1, shape, data, &err);
    cu_st_writer_write(w, pf_path("foreign.safetensors"), &err);
    cu_st_writer_free(w);
    /* A corrupt input image stops the run (never a silently skipped image). */
    f = fopen(pf_path("in_bad.png"), "wb");
    fputs("\x89PNG\r\n\x1a\n but then nothing of a PNG", f);
    fclose(f);
    char a2[4096];
    snprintf(a2, sizeof a2, "--device ref predict -q '%s' '%s' --out '%s'", model, pf_path("in_bad.png"),
             pf_path("out_badimg"));
    int rc2 = pf_run(exe, a2, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc2 == 2 && pf_lines(err_buf) == 1 && strstr(err_buf, "in_bad.png"),
             "a corrupt input PNG: exit 2, one line naming it (%d: %s)", rc2, err_buf);
    static const char *bad[] = {"trunc.safetensors", "garbage.safetensors", "foreign.safetensors", "missing.safetensors"};
    for (int k = 0; k < 4; k++) {
        char args[4096];
        char mp[1024];
        snprintf(mp, sizeof mp, "%s", pf_path(bad[k]));
        snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s'", mp, pf_path("in/rgb.png"),
                 pf_path("out_bad"));
        int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
        TU_CHECK(rc == 2 && pf_lines(err_buf) == 1 && strstr(err_buf, bad[k]),
                 "%s model: exit 2, one line naming it (%d: %s)", bad[k], rc, err_buf);
        TU_CHECK(pf_count_files(pf_path("out_bad")) <= 0, "%s model: no output files", bad[k]);
    }
}

static void test_unwritable(void)
{
    char args[4096];
    /* A folder whose parent is a regular file, and /proc/self (a folder no
     * one, root included, can create files in). */
    const char *outs[] = {"in/rgb.png/sub", "/proc/self"};
    for (int k = 0; k < 2; k++) {
        const char *o = k == 0 ? pf_path(outs[0]) : outs[1];
        snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s' --instances", model,
                 pf_path("in/rgb.png"), o);
        int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
        TU_CHECK(rc == 4 && pf_lines(err_buf) == 1, "unwritable --out %s: exit 4, one line (%d: %s)", o, rc, err_buf);
    }
    /* An unwritable submission place: fails before any image is written. */
    snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s' --submission /proc/self/sub.csv", model,
             pf_path("in/rgb.png"), pf_path("out_sub"));
    int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 4 && pf_lines(err_buf) == 1, "unwritable --submission: exit 4, one line (%d: %s)", rc, err_buf);
    TU_CHECK(pf_count_files(pf_path("out_sub")) == -1, "unwritable --submission: no --out folder left behind (%d files)",
             pf_count_files(pf_path("out_sub")));
    /* Usage errors. */
    /* (no --out is no error: a new folder, test_model_find) */
    snprintf(args, sizeof args, "predict --model '%s' --out x", model);
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 1 && pf_lines(err_buf) == 1, "no input: exit 1, one line (%d: %s)", rc, err_buf);
    snprintf(args, sizeof args, "predict '%s' '%s' --out x --mode sideways", model, pf_path("in/rgb.png"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 1 && strstr(err_buf, "sideways"), "--mode sideways: exit 1 naming it (%d: %s)", rc, err_buf);
    snprintf(args, sizeof args, "predict '%s' '%s' '%s' --out '%s'", model, pf_path("in/rgb.png"),
             pf_path("dsb/abc/images/../../../in/rgb.png"), pf_path("out_dup"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 1 && strstr(err_buf, "same id"), "two inputs with one id: exit 1 (%d: %s)", rc, err_buf);
    rc = pf_run(exe, "predict --help", out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0 && strstr(out_buf, "--mode") && strstr(out_buf, "--tta") && strstr(out_buf, "--submission") &&
                 strstr(out_buf, "--no-split") && strstr(out_buf, "--min-size") && strstr(out_buf, "else 0.5)") && strstr(out_buf, "--no-tta"),
             "predict --help documents the flags and defaults");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_predict CLUNET_BINARY\n");
        return 1;
    }
    exe = argv[1];
    snprintf(model, sizeof model, "%s", pf_path("model.safetensors"));
    TU_CHECK(pf_make_model(model, S, 0.125, 7) == 0, "saved a S=%d c=0.125 model", S);
    struct cu_err err = {0};
    struct cu_backend *ref = NULL;
    test_tta_invert();
    if (tu_ok(cu_backend_open("ref", &ref, &err), &err, "open ref"))
        test_library(ref);
    cu_backend_free(ref);
    test_command();
    test_bad_model();
    test_unwritable();
    pf_cleanup();
    return tu_finish();
}
