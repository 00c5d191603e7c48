/* export_labels.c: writes the exports of a label image without a model,
 * for check_exports.py: LABELS.png -> OUT/NAME_rois.zip, OUT/NAME.geojson
 * (with measurements), OUT/NAME_labels.tif (32-bit) and OUT/NAME_prob.tif
 * (float32 ramp prob[q] = q / (h w), exact in float32 for the sizes used).
 * Usage: export_labels LABELS.png OUT NAME
 * or:    export_labels --model PATH   (a He-initialised S=32 c=0.25 model,
 *                                      predict_fixture.c's, for predict runs) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "clunet/image.h"
#include "predict_fixture.h"

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--model"))
        return pf_make_model(argv[2], 32, 0.25, 18) ? 2 : 0;
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
