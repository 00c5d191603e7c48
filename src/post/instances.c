/* instances.c: probability map -> label image (see include/clunet/instances.h):
 * thresholding, 8-connected components, the small-object filter and the
 * whole pipeline. The distance transform is in edt.c, the watershed in
 * watershed.c. */
#include "clunet/instances.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void cu_inst_opts_default(struct cu_inst_opts *o)
{
    o->threshold = 0.5f;
    o->watershed = 1;
    o->h = 1.0f;
    o->min_size = 10;
    o->seed_threshold = -1.0f;
    o->border_weight = 1.0f;
}

void cu_mask_threshold(uint8_t *mask, const float *prob, int h, int w, float threshold)
{
    size_t n = (size_t)h * (size_t)w;
    for (size_t i = 0; i < n; i++)
        mask[i] = prob[i] > threshold; /* NaN compares false: background */
}

/* Indices are int32 throughout (labels, queues): refuse larger images. */
static enum cu_status check_size(int h, int w, const char *what, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "%s: bad image size %dx%d", what, w, h);
    return CU_OK;
}

enum cu_status cu_label_components(int32_t *labels, int *n_out, const uint8_t *mask, int h, int w,
                                   struct cu_err *err)
{
    enum cu_status st = check_size(h, w, "connected components", err);
    if (st)
        return st;
    size_t n = (size_t)h * (size_t)w;
    /* Flood fill from each unlabelled pixel in row-major order: labels come
     * out in order of first pixel without a renumbering pass. */
    int32_t *stack = malloc(n * sizeof *stack);
    if (!stack)
        return cu_fail(err, CU_EDEVICE, "connected components: out of host memory (%dx%d)", w, h);
    memset(labels, 0, n * sizeof *labels);
    int32_t next = 0;
    for (size_t s = 0; s < n; s++) {
        if (!mask[s] || labels[s])
            continue;
        labels[s] = ++next;
        size_t top = 0;
        stack[top++] = (int32_t)s;
        while (top) {
            int32_t p = stack[--top];
            int y = p / w, x = p % w;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx;
                    if (xx < 0 || xx >= w)
                        continue;
                    int32_t q = yy * w + xx;
                    if (mask[q] && !labels[q]) {
                        labels[q] = next;
                        stack[top++] = q; /* each pixel pushed once: top <= n */
                    }
                }
            }
        }
    }
    free(stack);
    *n_out = next;
    return CU_OK;
}

enum cu_status cu_labels_filter(int32_t *labels, int *n_out, int h, int w, int min_size, struct cu_err *err)
{
    enum cu_status st = check_size(h, w, "label filter", err);
    if (st)
        return st;
    size_t n = (size_t)h * (size_t)w;
    int32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0)
            return cu_fail(err, CU_EUSAGE, "label filter: negative label %d", (int)labels[i]);
        if (labels[i] > max)
            max = labels[i];
    }
    /* area[l] first counts pixels, then holds the new label (0 = removed,
     * -1 = kept but not yet numbered). */
    int32_t *area = calloc((size_t)max + 1, sizeof *area);
    if (!area)
        return cu_fail(err, CU_EDEVICE, "label filter: out of host memory (%d labels)", (int)max);
    for (size_t i = 0; i < n; i++)
        area[labels[i]]++;
    for (int32_t l = 1; l <= max; l++)
        area[l] = (area[l] > 0 && area[l] >= min_size) ? -1 : 0;
    area[0] = 0;
    int32_t next = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t *m = &area[labels[i]];
        if (*m < 0)
            *m = ++next;
        labels[i] = *m;
    }
    free(area);
    *n_out = next;
    return CU_OK;
}

enum cu_status cu_instances_from_prob(int32_t *labels, int *n_out, uint8_t *mask_out, const float *prob, int h,
                                      int w, const struct cu_inst_opts *o, struct cu_err *err)
{
    enum cu_status st = check_size(h, w, "instances", err);
    if (st)
        return st;
    if (!(o->h >= 0) || o->min_size < 0)
        return cu_fail(err, CU_EUSAGE, "instances: h (%g) and min_size (%d) must be >= 0", (double)o->h,
                       o->min_size);
    size_t n = (size_t)h * (size_t)w;
    uint8_t *mask = mask_out ? mask_out : malloc(n);
    float *dist = NULL;
    if (!mask)
        return cu_fail(err, CU_EDEVICE, "instances: out of host memory (%dx%d)", w, h);
    cu_mask_threshold(mask, prob, h, w, o->threshold);
    int count = 0;
    if (!o->watershed) {
        st = cu_label_components(labels, &count, mask, h, w, err);
    } else {
        dist = malloc(n * sizeof *dist);
        if (!dist)
            st = cu_fail(err, CU_EDEVICE, "instances: out of host memory (%dx%d)", w, h);
        if (!st)
            st = cu_distance_transform(dist, mask, h, w, err);
        if (!st)
            st = cu_watershed(labels, &count, dist, mask, h, w, o->h, err);
    }
    if (!st && o->min_size > 1)
        st = cu_labels_filter(labels, &count, h, w, o->min_size, err);
    free(dist);
    if (mask != mask_out)
        free(mask);
    if (!st)
        *n_out = count;
    return st;
}
