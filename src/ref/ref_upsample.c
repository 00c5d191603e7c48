/* ref_upsample.c: 2x bilinear up-sampling, ref backend, NCHW; forward and
 * its exact adjoint. y (N,C,2H,2W).
 *
 * Semantics of PyTorch interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False) and Keras UpSampling2D(interpolation='bilinear'):
 * half-pixel centres, output index o samples the input at
 *     s = (o + 0.5) / 2 - 0.5, clamped below at 0,
 * i0 = floor(s), i1 = min(i0 + 1, n - 1), weights (1 - (s - i0), s - i0).
 * For 2x this is: y[0] = x[0]; y[2k] = 0.25 x[k-1] + 0.75 x[k];
 * y[2k+1] = 0.75 x[k] + 0.25 x[k+1]; y[2n-1] = x[n-1] (edge clamp).
 * All weights are exact in float. The 2-D map is the product of the row
 * and column maps, so backward scatters dy with the same four weights. */
#include "ref_ops.h"

struct taps {
    int i0, i1;
    float w0, w1;
};

static struct taps source_taps(int o, int n)
{
    float s = ((float)o + 0.5f) * 0.5f - 0.5f;
    if (s < 0.0f)
        s = 0.0f;
    int i0 = (int)s; /* s >= 0: truncation is floor */
    if (i0 > n - 1)
        i0 = n - 1;
    float l = s - (float)i0;
    struct taps t = {i0, i0 + 1 < n ? i0 + 1 : n - 1, 1.0f - l, l};
    return t;
}

enum cu_status cu_ref_upsample_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                   struct cu_err *err)
{
    (void)be, (void)err;
    int h = x->h, w = x->w, ho = y->h, wo = y->w;
    size_t planes = (size_t)x->n * x->c;
    const float *px = ref_data(x);
    float *py = ref_data(y);
    for (size_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * h * w;
        for (int i = 0; i < ho; i++) {
            struct taps r = source_taps(i, h);
            const float *x0 = xp + (size_t)r.i0 * w, *x1 = xp + (size_t)r.i1 * w;
            for (int j = 0; j < wo; j++) {
                struct taps c = source_taps(j, w);
                double v = (double)r.w0 * ((double)c.w0 * x0[c.i0] + (double)c.w1 * x0[c.i1]) +
                           (double)r.w1 * ((double)c.w0 * x1[c.i0] + (double)c.w1 * x1[c.i1]);
                py[pl * ho * wo + (size_t)i * wo + j] = (float)v;
            }
        }
    }
    return CU_OK;
}

enum cu_status cu_ref_upsample_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   struct cu_err *err)
{
    (void)be, (void)err;
    int h = dx->h, w = dx->w, ho = dy->h, wo = dy->w;
    size_t planes = (size_t)dx->n * dx->c;
    const float *pdy = ref_data(dy);
    float *pdx = ref_data(dx);
    /* Scatter: each dx element receives at most 16 terms, so float
     * accumulation in scan order is accurate to a few ulps. */
    for (size_t pl = 0; pl < planes; pl++) {
        float *dp = pdx + pl * h * w;
        for (int i = 0; i < ho; i++) {
            struct taps r = source_taps(i, h);
            float *d0 = dp + (size_t)r.i0 * w, *d1 = dp + (size_t)r.i1 * w;
            for (int j = 0; j < wo; j++) {
                struct taps c = source_taps(j, w);
                float g = pdy[pl * ho * wo + (size_t)i * wo + j];
                d0[c.i0] += r.w0 * c.w0 * g;
                d0[c.i1] += r.w0 * c.w1 * g;
                d1[c.i0] += r.w1 * c.w0 * g;
                d1[c.i1] += r.w1 * c.w1 * g;
            }
        }
    }
    return CU_OK;
}
