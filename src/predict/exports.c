/* exports.c: the outputs of one predicted image that other programs read
 * (export.h): the nuclei table and its summary row (--measure), the ImageJ
 * ROI set (--rois) and the GeoJSON (--geojson). Intensities are measured on
 * the image as clunet read it (0-1); a gray image, read as three equal
 * planes, is measured as one channel. */
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "predict/predict_impl.h"

/* Channels to measure: 1 when every plane equals the first. */
static int distinct_channels(const struct cu_image *img)
{
    size_t n = (size_t)img->h * (size_t)img->w;
    for (int c = 1; c < img->c; c++)
        if (memcmp(img->px, img->px + (size_t)c * n, n * sizeof *img->px))
            return img->c;
    return img->c > 0 ? 1 : 0;
}

enum cu_status cu_predict_exports(const struct cu_predict_run *r, const char *id, const struct cu_image *img,
                                  const struct cu_pred_image *pi, double um, struct cu_summary *summary,
                                  struct cu_err *err)
{
    if (!r->measure && !r->rois && !r->geojson)
        return CU_OK;
    struct cu_measure_table t = {0};
    struct cu_outlines o = {0};
    char path[4096];
    enum cu_status st = CU_OK;
    if (r->measure || r->geojson)
        st = cu_measure(pi->labels, img->h, img->w, img->px, distinct_channels(img), pi->prob, &t, err);
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
