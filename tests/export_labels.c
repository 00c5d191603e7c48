/* export_labels.c: writes the exports of a label image without a model,
 * for check_exports.py: LABELS.png -> OUT/NAME_rois.zip, OUT/NAME.geojson
 * (with measurements), OUT/NAME_labels.tif (32-bit) and OUT/NAME_prob.tif
 * (float32 ramp prob[q] = q / (h w), exact in float32 for the sizes used).
 * Usage: export_labels LABELS.png OUT NAME
 * or:    export_labels --model PATH   (a He-initialised S=32 c=0.25 model,
 *                                      predict_fixture.c's, for predict runs)
 * or:    export_labels --model3 PATH  (the same with three output maps)
 * or:    export_labels --identity PATH S   (a model whose probability is
 *        sigmoid(40 x - 20) of each pixel's first channel x: predict then
 *        finds exactly the bright pixels of an image, for the test with
 *        more nuclei than a 16-bit PNG holds) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "clunet/image.h"
#include "clunet/model_file.h"
#include "clunet/unet.h"
#include "predict_fixture.h"

/* Sets element k of parameter name to v (the rest stays 0). */
static enum cu_status set_one(struct cu_unet *net, const char *name, size_t k, float v, struct cu_err *err)
{
    const struct cu_unet_param *p = cu_unet_param_find(net, name);
    if (!p)
        return cu_fail(err, CU_EUSAGE, "no parameter %s", name);
    size_t n = cu_tensor_numel(p->w);
    float *host = calloc(n, sizeof *host);
    if (!host)
        return cu_fail(err, CU_EDEVICE, "out of host memory");
    host[k] = v;
    enum cu_status st = cu_tensor_upload(p->w, host, err);
    free(host);
    return st;
}

/* The identity model: channel 0 passes through the centre taps of the
 * level-0 convolutions (enc1, dec1 whose concat puts enc1's channels
 * first, head), every other weight is 0; the 1x1 output is 40 x - 20. */
static int identity_model(const char *path, int S)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_unet_config cfg = {S, 1.0 / 32, CU_UPSAMPLE_BILINEAR, 3, 1};
    static const char *centre[] = {"enc1.conv1.weight", "enc1.conv2.weight", "dec1.conv1.weight",
                                   "dec1.conv2.weight", "head.conv.weight"};
    enum cu_status st = cu_backend_open("ref", &be, &err);
    if (!st)
        st = cu_unet_new(be, &cfg, 1, &net, &err);
    for (size_t i = 0; i < sizeof centre / sizeof centre[0] && !st; i++)
        st = set_one(net, centre[i], 4, 1.0f, &err); /* (out 0, in 0, row 1, column 1) */
    if (!st)
        st = set_one(net, "head.out.weight", 0, 40.0f, &err);
    if (!st)
        st = set_one(net, "head.out.bias", 0, -20.0f, &err);
    if (!st)
        st = cu_model_save(path, net, 0, NULL, 0, &err);
    if (st)
        fprintf(stderr, "export_labels: %s\n", err.msg);
    cu_unet_free(net);
    cu_backend_free(be);
    return st ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--identity"))
        return identity_model(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "--model"))
        return pf_make_model(argv[2], 32, 0.25, 18) ? 2 : 0;
    if (argc == 3 && !strcmp(argv[1], "--model3"))
        return pf_make_model_k(argv[2], 32, 0.25, 18, 3) ? 2 : 0;
    if (argc != 4) {
        fprintf(stderr, "usage: export_labels LABELS.png OUT NAME\n");
        return 1;
    }
    struct cu_err err = {0};
    struct cu_labels lb = {0};
    struct cu_outlines o = {0};
    struct cu_measure_table t = {0};
    char path[4096];
    enum cu_status st = cu_image_read_labels(argv[1], &lb, &err);
    size_t n = (size_t)lb.h * (size_t)lb.w;
    int32_t *lab = st ? NULL : malloc(sizeof *lab * n + 1);
    float *prob = st ? NULL : malloc(sizeof *prob * n + 1);
    for (size_t q = 0; lab && prob && q < n; q++)
        lab[q] = (int32_t)lb.v[q], prob[q] = (float)q / (float)n;
    if (!st)
        st = cu_measure(lab, lb.h, lb.w, NULL, 0, prob, &t, &err);
    if (!st)
        st = cu_outlines_trace(lab, lb.h, lb.w, &o, &err);
    if (!st)
        snprintf(path, sizeof path, "%s/%s_rois.zip", argv[2], argv[3]), st = cu_roi_zip_write(path, &o, &err);
    if (!st)
        snprintf(path, sizeof path, "%s/%s.geojson", argv[2], argv[3]), st = cu_geojson_write(path, &o, &t, 0.5, &err);
    if (!st)
        snprintf(path, sizeof path, "%s/%s_labels.tif", argv[2], argv[3]), st = cu_tiff_write_u32(path, lb.v, lb.h, lb.w, &err);
    if (!st)
        snprintf(path, sizeof path, "%s/%s_prob.tif", argv[2], argv[3]), st = cu_tiff_write_f32(path, prob, lb.h, lb.w, &err);
    if (st)
        fprintf(stderr, "export_labels: %s\n", err.msg);
    cu_outlines_free(&o);
    cu_measure_free(&t);
    cu_labels_free(&lb);
    free(lab), free(prob);
    return st ? 2 : 0;
}
