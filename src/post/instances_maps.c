/* instances_maps.c: nuclei from a three-map model's output (body, contour,
 * touching border; instances.h's cu_instances_from_maps): markers where
 * the body is sure and neither rim nor (weighted) border is, then a watershed from
 * them inside the body mask. */
#include <stdlib.h>

#include "clunet/instances.h"

enum cu_status cu_instances_from_maps(int32_t *labels, int *n_out, uint8_t *mask_out, const float *body,
                                      const float *contour, const float *border, int h, int w,
                                      const struct cu_inst_opts *o, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "instances: bad image size %dx%d", w, h);
    if (o->min_size < 0)
        return cu_fail(err, CU_EUSAGE, "instances: min_size (%d) must be >= 0", o->min_size);
    if (!(o->border_weight >= 0 && o->border_weight <= 100))
        return cu_fail(err, CU_EUSAGE, "instances: border_weight (%g) must be in [0, 100]", (double)o->border_weight);
    size_t n = (size_t)h * (size_t)w;
    uint8_t *mask = mask_out ? mask_out : malloc(n);
    uint8_t *seed = malloc(n);
    float *s = malloc(n * sizeof *s);
    int32_t *rest = malloc(n * sizeof *rest);
    enum cu_status st = CU_OK;
    if (!mask || !seed || !s || !rest)
        st = cu_fail(err, CU_EDEVICE, "instances: out of host memory (%dx%d)", w, h);
    int count = 0;
    if (!st) {
        cu_mask_threshold(mask, body, h, w, o->threshold);
        const float t = o->seed_threshold >= 0 ? o->seed_threshold : o->threshold, bw = o->border_weight;
        for (size_t i = 0; i < n; i++) {
            s[i] = body[i] - contour[i] - bw * border[i];
            seed[i] = mask[i] && s[i] > t;
        }
        if (!o->watershed)
            st = cu_label_components(labels, &count, mask, h, w, err);
        else
            st = cu_label_components(labels, &count, seed, h, w, err);
    }
    if (!st && o->watershed)
        st = cu_watershed_from(labels, &count, s, mask, h, w, err);
    if (!st && o->watershed) { /* step 4: mask left without a marker */
        int extra = 0;
        for (size_t i = 0; i < n; i++)
            seed[i] = mask[i] && !labels[i];
        st = cu_label_components(rest, &extra, seed, h, w, err);
        for (size_t i = 0; !st && extra && i < n; i++)
            if (rest[i])
                labels[i] = count + rest[i];
        count += extra;
    }
    if (!st)
        st = cu_labels_filter(labels, &count, h, w, o->min_size, err);
    if (mask != mask_out)
        free(mask);
    free(seed);
    free(s);
    free(rest);
    if (!st)
        *n_out = count;
    return st;
}
