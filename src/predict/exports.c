/* exports.c: the outputs of one predicted image that other programs read
 * (export.h): the nuclei table and its summary row (--measure), the ImageJ
 * ROI set (--rois) and the GeoJSON (--geojson).
 *
 * Intensities are measured on every channel of the image file as stored,
 * before any channel choice or normalisation, scaled by the bit depth as
 * CellProfiler does (unsigned n-bit: value / (2^n - 1); signed: value /
 * (2^(n-1) - 1); float: as stored). A palette image is measured on its
 * colours (the network's input: 3 planes, or 1 when they are equal). The
 * pixel size is --pixel-size, else the file's when square and under
 * CU_PRINT_UM, else none. */
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "predict/predict_impl.h"

/* A file's pixel size of this many micrometres or more is a print
 * resolution (72-300 dpi: 353-85 um), which PNG and JPEG writers fill in,
 * not a microscope's (0.05-20 um). */
#define CU_PRINT_UM 50.0

/* Channels of img to measure: 1 when every plane equals the first. */
static int distinct_channels(const struct cu_image *img)
{
    size_t n = (size_t)img->h * (size_t)img->w;
    for (int c = 1; c < img->c; c++)
        if (memcmp(img->px, img->px + (size_t)c * n, n * sizeof *img->px))
            return img->c;
    return img->c > 0 ? 1 : 0;
}

/* The intensity planes (see the header comment) into *planes (owned by
 * the caller when *owned). */
static enum cu_status intensities(const struct cu_image *img, const struct cu_raw_image *raw, const float **planes,
                                  int *nc, float **owned, struct cu_err *err)
{
    *owned = NULL;
    if (!raw || raw->palette || !raw->data) {
        *planes = img->px, *nc = distinct_channels(img);
        return CU_OK;
    }
    size_t n = (size_t)raw->channels * (size_t)raw->h * (size_t)raw->w;
    float *p = malloc(sizeof *p * n + 1);
    if (!p)
        return cu_fail(err, CU_EDEVICE, "measurements: out of host memory");
    double scale = 1;
    if (raw->kind == CU_SAMPLE_UINT)
        scale = (double)((1ull << raw->bits) - 1);
    else if (raw->kind == CU_SAMPLE_INT)
        scale = (double)((1ull << (raw->bits - 1)) - 1);
    for (size_t q = 0; q < n; q++)
        p[q] = (float)cu_raw_at(raw, q) / (float)scale; /* as the network input: v / 255.0f */
    *planes = *owned = p, *nc = raw->channels;
    return CU_OK;
}

enum cu_status cu_predict_exports(const struct cu_predict_run *r, const char *id, const struct cu_image *img,
                                  const struct cu_raw_image *raw, const struct cu_pred_image *pi,
                                  struct cu_summary *summary, struct cu_err *err)
{
    if (!r->measure && !r->rois && !r->geojson)
        return CU_OK;
    double um = r->pixel_size_um;
    if (um <= 0 && raw && raw->um_x > 0 && raw->um_x == raw->um_y && raw->um_x < CU_PRINT_UM)
        um = raw->um_x;
    struct cu_measure_table t = {0};
    struct cu_outlines o = {0};
    char path[4096];
    const float *planes = NULL;
    float *owned = NULL;
    int nc = 0;
    enum cu_status st = CU_OK;
    if (r->measure || r->geojson) {
        st = intensities(img, raw, &planes, &nc, &owned, err);
        if (!st)
            st = cu_measure(pi->labels, img->h, img->w, planes, nc, pi->prob, &t, err);
        free(owned);
    }
    if (!st && (r->rois || r->geojson))
        st = cu_outlines_trace(pi->labels, img->h, img->w, &o, err);
    if (!st && r->measure) {
        snprintf(path, sizeof path, "%s/%s_nuclei.csv", r->out_dir, id);
        st = cu_nuclei_csv_write(path, &t, um, err);
        if (!st)
            st = cu_summary_add(summary, id, img->h, img->w, &t, um, err);
    }
    if (!st && r->rois) {
        snprintf(path, sizeof path, "%s/%s_rois.zip", r->out_dir, id);
        st = cu_roi_zip_write(path, &o, err);
    }
    if (!st && r->geojson) {
        snprintf(path, sizeof path, "%s/%s.geojson", r->out_dir, id);
        st = cu_geojson_write(path, &o, &t, um, err);
    }
    cu_measure_free(&t);
    cu_outlines_free(&o);
    return st;
}
