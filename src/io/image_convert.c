/* image_convert.c: from the stored samples of a struct cu_raw_image to
 * what clunet computes with (image.h): the network's float input, integer
 * labels, a 0/1 mask union.
 *
 * Not here: decoding (image_read.c and the decoders). */
#include "clunet/image.h"

#include <stdlib.h>
#include <string.h>

double cu_raw_sample(const struct cu_raw_image *r, int c, int y, int x)
{
    size_t q = ((size_t)c * (size_t)r->h + (size_t)y) * (size_t)r->w + (size_t)x;
    return cu_raw_at(r, q);
}

double cu_raw_at(const struct cu_raw_image *r, size_t q)
{
    switch (r->kind) {
    case CU_SAMPLE_FLOAT: return ((const float *)r->data)[q];
    case CU_SAMPLE_INT:
        return r->bytes == 1 ? ((const int8_t *)r->data)[q]
               : r->bytes == 2 ? ((const int16_t *)r->data)[q]
                               : ((const int32_t *)r->data)[q];
    case CU_SAMPLE_UINT: break;
    }
    return r->bytes == 1 ? ((const uint8_t *)r->data)[q]
           : r->bytes == 2 ? ((const uint16_t *)r->data)[q]
                           : ((const uint32_t *)r->data)[q];
}

/* The planes (0-based) that become R, G, B. */
static enum cu_status pick_planes(const struct cu_raw_image *r, const struct cu_input_opts *o, const char *path,
                                  int plane[3], struct cu_err *err)
{
    int ch = o ? o->channel : 0;
    if (ch > 0) {
        if (ch > r->channels)
            return cu_fail(err, CU_EUSAGE, "%s: --channel %d: the image has %d channel%s", path, ch, r->channels,
                           r->channels == 1 ? "" : "s");
        plane[0] = plane[1] = plane[2] = ch - 1;
        return CU_OK;
    }
    if (r->channels == 1 || r->channels == 3) {
        for (int k = 0; k < 3; k++)
            plane[k] = r->channels == 3 ? k : 0;
        return CU_OK;
    }
    return cu_fail(err, CU_EINPUT, "%s: the image has %d channels: pick the nuclear stain with --channel N (1..%d)",
                   path, r->channels, r->channels);
}

/* 8 bits and fewer: value / (2^bits - 1), computed as libpng's expansion to
 * 8 bit then / 255.0f (so 1-, 2- and 4-bit grey give exactly what
 * scikit-image's imread of the PNG gives); 16 bits: / 65535. Division, not
 * a reciprocal product: v / 255.0f is what numpy's float32 arithmetic gives
 * (the resize fixtures). */
static float scaled(const struct cu_raw_image *r, double v)
{
    if (r->bits < 8)
        return (float)(v * (255 / ((1 << r->bits) - 1))) / 255.0f;
    if (r->bits == 8)
        return (float)v / 255.0f;
    return (float)v / 65535.0f;
}

enum cu_status cu_raw_to_rgb(const struct cu_raw_image *r, const struct cu_input_opts *o, const char *path,
                             struct cu_image *out, struct cu_err *err)
{
    int plane[3];
    CU_TRY(pick_planes(r, o, path, plane, err));
    if (r->kind != CU_SAMPLE_UINT || r->bits > 16)
        return cu_fail(err, CU_EINPUT, "%s: %d-bit %s samples are not supported", path, r->bits,
                       r->kind == CU_SAMPLE_FLOAT ? "float" : "integer");
    struct cu_image im;
    CU_TRY(cu_image_new(&im, 3, r->h, r->w, err));
    size_t n = (size_t)r->h * (size_t)r->w;
    int pal = r->palette && !(o && o->channel > 0);
    for (int k = 0; k < 3; k++) {
        float *dst = im.px + n * (size_t)k;
        size_t base = n * (size_t)plane[k];
        for (size_t q = 0; q < n; q++) {
            double v = cu_raw_at(r, base + q);
            if (pal) {
                size_t i = (size_t)v;
                dst[q] = i < (size_t)r->n_palette ? (float)r->palette[3 * i + (size_t)k] / 255.0f : 0.0f;
            } else {
                dst[q] = scaled(r, v);
            }
        }
    }
    *out = im;
    return CU_OK;
}

enum cu_status cu_raw_to_labels(const struct cu_raw_image *r, const char *path, struct cu_labels *out,
                                struct cu_err *err)
{
    if (r->channels != 1 && r->channels != 3)
        return cu_fail(err, CU_EINPUT, "%s: a label image has 1 channel (or 3: one colour per label), not %d",
                       path, r->channels);
    size_t n = (size_t)r->h * (size_t)r->w;
    uint32_t *v = malloc(sizeof *v * (n ? n : 1));
    if (!v)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory for %dx%d labels", path, r->w, r->h);
    for (size_t q = 0; q < n; q++) {
        double s = cu_raw_at(r, q);
        if (r->channels == 3) { /* colour labels are compared at 8 bit */
            int shift = r->bits > 8 ? r->bits - 8 : 0;
            uint32_t c0 = (uint32_t)s >> shift, c1 = (uint32_t)cu_raw_at(r, n + q) >> shift,
                     c2 = (uint32_t)cu_raw_at(r, 2 * n + q) >> shift;
            v[q] = c0 << 16 | c1 << 8 | c2;
        } else if (s < 0 || s > 4294967295.0 || s != (double)(uint32_t)s) {
            free(v);
            return cu_fail(err, CU_EINPUT, "%s: label %g is not a whole number in 0..2^32-1", path, s);
        } else {
            v[q] = (uint32_t)s;
        }
    }
    out->h = r->h, out->w = r->w, out->v = v;
    return CU_OK;
}

void cu_raw_or_mask(const struct cu_raw_image *r, float *u)
{
    size_t n = (size_t)r->h * (size_t)r->w;
    for (int c = 0; c < r->channels; c++)
        for (size_t q = 0; q < n; q++)
            if (cu_raw_at(r, (size_t)c * n + q) != 0)
                u[q] = 1.0f;
}
