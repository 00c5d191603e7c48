/* test_keras_import.c: `clunet import` (argv[1]) on the Keras models of
 * datasets/fixtures/keras (tools/make_keras_fixtures.py: the DSB2018 U-Net
 * at S=64, c=0.0625 saved by Keras 3 as .h5 and .keras, by Keras 2 as .h5,
 * with Conv2DTranspose up-sampling as .keras, and with an open input
 * shape, which needs -s). Each imported model
 * predicts the fixture's two inputs on ref and must give Keras's own
 * model.predict output. Malformed files (not the U-Net, a missing layer,
 * a kernel of the wrong shape, a wrong activation, truncated .h5 and
 * .keras, not a model at all) must give exit 2, one line naming the file
 * and what is wrong, and no output file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/model_file.h"
#include "testutil.h"

static const char *exe;
static char tmp[256];

/* Keras's float32 forward and clunet's ref forward round differently
 * (TensorFlow's convolution order against ref's double accumulation);
 * through 23 layers of this small net that moves a probability by about
 * 1e-7 (measured: at most 1.2e-7). A wrong layout (an untransposed kernel,
 * concatenation in the other order, bilinear with other corners) moves it
 * by more than 1e-2. */
#define PROB_TOL 1e-5

static const char *fixture(const char *name)
{
    static char buf[4][1024];
    static int k;
    char rel[256];
    snprintf(rel, sizeof rel, "datasets/fixtures/keras/%s", name);
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s", tu_source_path(rel));
    return buf[k];
}

static int run_import(const char *model, const char *out, const char *args, char *log, size_t size)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s import '%s' --out '%s' %s 2>&1", exe, model, out, args);
    return tu_run(cmd, log, size);
}

/* Imports name and compares its predictions of x with want. */
static void check_model(const char *name, const char *args, const struct cu_st_entry *x,
                        const struct cu_st_entry *want, const char *upsample)
{
    char out[512], log[4096];
    snprintf(out, sizeof out, "%s/%s.safetensors", tmp, name);
    int rc = run_import(fixture(name), out, args, log, sizeof log);
    if (!TU_CHECK(rc == 0, "%s imports (rc %d: %s)", name, rc, log))
        return;
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "ref backend"))
        return;
    if (tu_ok(cu_model_load(be, out, 2, 0, &net, NULL, &err), &err, "load the imported model")) {
        const struct cu_unet_config *c = cu_unet_config(net);
        TU_CHECK(c->image_size == 64 && c->channel_rate == 0.0625 && c->input_channels == 3 &&
                     !strcmp(cu_upsample_name(c->upsample), upsample),
                 "%s: S=64 c=0.0625 3 channels %s (got S=%d c=%g %s)", name, upsample, c->image_size,
                 c->channel_rate, cu_upsample_name(c->upsample));
        struct cu_tensor *in = tu_tensor(be, (struct cu_shape){2, 3, 64, 64}, "x", x->data), *prob = NULL;
        if (tu_ok(cu_unet_predict(net, in, &prob, &err), &err, "predict")) {
            float *p = tu_download(prob);
            double e = tu_max_abs_err(p, want->data, want->numel);
            TU_CHECK(e <= PROB_TOL, "%s: predictions match Keras's (max |diff| %.2e <= %.0e)", name, e, PROB_TOL);
            free(p);
        }
        cu_tensor_free(in);
        cu_unet_free(net);
    }
    cu_backend_free(be);
}

/* clunet import (with args) must fail with exit code and one line naming
 * path and must. */
static void check_refused(const char *path, const char *args, int code, const char *must, const char *what)
{
    char out[512], log[4096], head[1200];
    snprintf(out, sizeof out, "%s/bad.safetensors", tmp);
    int rc = run_import(path, out, args, log, sizeof log);
    snprintf(head, sizeof head, "clunet: %s: ", path);
    TU_CHECK(rc == code && tu_count_lines(log) == 1 && !strncmp(log, head, strlen(head)) && strstr(log, must),
             "%s: exit %d, one line naming the file and \"%s\" (rc %d: %s)", what, code, must, rc, log);
    TU_CHECK(access(out, F_OK) != 0, "%s: no output file", what);
}

static void check_bad(const char *path, const char *must, const char *what)
{
    check_refused(path, "", 2, must, what);
}

/* Writes the first keep bytes of the fixture name to tmp/to. */
static const char *truncated(const char *name, const char *to, double keep)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, to);
    FILE *f = fopen(fixture(name), "rb"), *g = fopen(path, "wb");
    if (f && g) {
        fseek(f, 0, SEEK_END);
        long n = (long)(ftell(f) * keep);
        fseek(f, 0, SEEK_SET);
        for (long i = 0; i < n; i++)
            fputc(fgetc(f), g);
    }
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return path;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_keras_import CLUNET\n");
        return 1;
    }
    exe = argv[1];
    snprintf(tmp, sizeof tmp, "/tmp/clunet-keras-XXXXXX");
    if (!TU_CHECK(mkdtemp(tmp) != NULL, "temp folder"))
        return tu_finish();
    struct cu_err err = {0};
    struct cu_st_file *io = NULL;
    if (tu_ok(cu_st_file_read(fixture("keras_io.safetensors"), &io, &err), &err, "read keras_io.safetensors")) {
        const struct cu_st_entry *x = cu_st_file_find(io, "x"), *y = cu_st_file_find(io, "y"),
                                 *yt = cu_st_file_find(io, "y_transposed");
        if (TU_CHECK(x && y && yt && x->numel == 2 * 3 * 64 * 64 && y->numel == 2 * 64 * 64 && yt->numel == y->numel,
                     "fixture holds x (2,3,64,64), y and y_transposed (2,1,64,64)")) {
            check_model("unet_k3.h5", "", x, y, "bilinear");
            check_model("unet_k3.keras", "", x, y, "bilinear");
            check_model("unet_k2.h5", "", x, y, "bilinear");
            check_model("unet_k3_transposed.keras", "", x, yt, "transposed");
            check_model("unet_k3_open.keras", "-s 64", x, y, "bilinear");
            check_model("unet_k3.h5", "-s 64 --force", x, y, "bilinear"); /* -s may repeat the model's S */
        }
        cu_st_file_free(io);
    }
    check_bad(fixture("bad_arch.h5"), "stands where the DSB2018 U-Net has a Conv2D (dec1.conv2)",
              "a two-layer model");
    check_bad(fixture("bad_missing.h5"), "layer conv2d_5 (enc3.conv2): no weights", "a layer's weights missing");
    check_bad(fixture("bad_shape.h5"), "has shape [3, 3, 2, 3], expected [3, 3, 2, 2]", "a kernel of the wrong shape");
    check_bad(fixture("bad_activation.keras"), "activation \"tanh\", expected \"relu\"", "a tanh convolution");
    check_bad(truncated("unet_k2.h5", "half.h5", 0.5), "cannot be read as HDF5", "a truncated .h5");
    check_bad(truncated("unet_k3.keras", "half.keras", 0.5), "not a zip archive", "a truncated .keras");
    check_bad(truncated("unet_k3.keras", "tail.keras", 0.999), "not a zip archive", "a .keras missing its end");
    check_bad(fixture("keras_io.safetensors"), "neither an HDF5 (.h5) nor a zip (.keras)", "not a Keras file");
    /* The image size: from -s only when the input shape leaves it open. */
    check_refused(fixture("unet_k3_open.keras"), "", 1, "leaves the image size open: give it with -s",
                  "an open input shape without -s");
    check_refused(fixture("unet_k3.keras"), "-s 32", 1, "the model's input is 64x64, not -s 32",
                  "-s against the model's own size");
    tu_rm_rf(tmp);
    return tu_finish();
}
