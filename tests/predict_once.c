/* predict_once.c: `predict_once MODEL IMAGE OUT_PNG [DEVICE]`: the predict
 * path through the library API, for test_valgrind (until `clunet predict`
 * is merged): load a model file, read a PNG, resize to the model's S,
 * forward + sigmoid, resize the probability back, threshold at 0.5, write
 * the 0/255 mask atomically. Prints the one-line error and exits with its
 * status code, as main.c does. */
#include <stdio.h>
#include <stdlib.h>

#include "clunet/image.h"
#include "clunet/model_file.h"

static int predict(const char *model, const char *image, const char *out, const char *dev, struct cu_err *err)
{
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_image im = {0}, small = {0}, prob_small = {0}, prob = {0};
    struct cu_tensor *x = NULL, *p = NULL;
    uint8_t *mask = NULL;
    enum cu_status st = cu_backend_open(dev, &be, err);
    if (!st)
        st = cu_model_load(be, model, 1, 0, &net, NULL, err);
    if (!st)
        st = cu_png_read_rgb(image, &im, err);
    int S = net ? cu_unet_config(net)->image_size : 0;
    if (!st)
        st = cu_image_resize(&im, S, S, &small, err);
    struct cu_shape xs = {1, 3, S, S};
    if (!st)
        st = cu_tensor_new(be, xs, "x", &x, err);
    if (!st)
        st = cu_tensor_upload(x, small.px, err);
    if (!st)
        st = cu_unet_predict(net, x, &p, err);
    if (!st)
        st = cu_image_new(&prob_small, 1, S, S, err);
    if (!st)
        st = cu_tensor_download(p, prob_small.px, err);
    if (!st)
        st = cu_image_resize(&prob_small, im.h, im.w, &prob, err);
    if (!st && !(mask = malloc((size_t)im.h * (size_t)im.w)))
        st = cu_fail(err, CU_EIO, "out of host memory");
    for (size_t i = 0; !st && i < (size_t)im.h * (size_t)im.w; i++)
        mask[i] = prob.px[i] > 0.5f ? 255 : 0;
    if (!st)
        st = cu_png_write_gray8(out, mask, im.h, im.w, err);
    free(mask);
    cu_image_free(&im);
    cu_image_free(&small);
    cu_image_free(&prob_small);
    cu_image_free(&prob);
    cu_tensor_free(x);
    cu_unet_free(net);
    cu_backend_free(be);
    return (int)st;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: predict_once MODEL IMAGE OUT_PNG [DEVICE]\n");
        return 1;
    }
    struct cu_err err = {0};
    int st = predict(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : "ref", &err);
    if (st)
        fprintf(stderr, "clunet: %s\n", err.msg);
    return st;
}
