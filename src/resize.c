/* resize.c: scikit-image 0.19's resize(order=1, mode='constant',
 * preserve_range=True, anti_aliasing=True), reproduced step by step from
 * skimage/transform/_warps.py and scipy.ndimage (see image.h for the three
 * steps). Checked against fixtures made by tools/make_resize_fixtures.py.
 *
 * Only the filtered values that the bilinear taps read are computed: the
 * rows the output samples (two per output row) are filtered vertically, and
 * of those only the needed columns horizontally. The sums run in the same
 * order as scipy's (rows first, then columns), in double.
 *
 * Not here: other interpolation orders, other boundary modes. */
#include "clunet/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* scipy.ndimage._gaussian_kernel1d for order 0, truncate 4: radius
 * int(4 sigma + 0.5), weights exp(-x^2 / (2 sigma^2)) normalised to sum 1.
 * Returns the radius; sigma <= 1e-15 (scipy skips the axis) gives radius 0
 * and the weight {1}. */
static int gauss_kernel(double sigma, double **wout)
{
    int r = sigma > 1e-15 ? (int)(4.0 * sigma + 0.5) : 0;
    double *w = malloc(sizeof *w * (size_t)(2 * r + 1));
    if (!w)
        return -1;
    if (sigma <= 1e-15) {
        w[0] = 1.0;
    } else {
        double s2 = sigma * sigma, sum = 0;
        for (int i = -r; i <= r; i++)
            sum += w[i + r] = exp(-0.5 / s2 * (double)i * (double)i);
        for (int i = 0; i <= 2 * r; i++)
            w[i] /= sum;
    }
    *wout = w;
    return r;
}

/* One axis of the resize: for each output index, two input taps (i0, i0+1)
 * with weights; a tap outside [0, n) reads 0 (grid-constant). */
struct axis {
    int n_in, n_out, radius;
    double *g;    /* Gaussian weights, 2*radius+1 */
    int *i0;      /* n_out */
    double *t;    /* n_out: weight of i0+1; i0 gets 1-t */
};

static int axis_init(struct axis *a, int n_in, int n_out)
{
    memset(a, 0, sizeof *a);
    a->n_in = n_in, a->n_out = n_out;
    double f = (double)n_in / (double)n_out;
    double sigma = f - 1.0 > 0 ? (f - 1.0) / 2.0 : 0.0;
    a->radius = gauss_kernel(sigma, &a->g);
    a->i0 = malloc(sizeof *a->i0 * (size_t)n_out);
    a->t = malloc(sizeof *a->t * (size_t)n_out);
    if (a->radius < 0 || !a->i0 || !a->t)
        return -1;
    for (int k = 0; k < n_out; k++) {
        double cc = ((double)k + 0.5) * f - 0.5; /* scipy zoom_shift, grid_mode */
        double fl = floor(cc);
        a->i0[k] = (int)fl;
        a->t[k] = cc - fl;
    }
    return 0;
}

static void axis_free(struct axis *a)
{
    if (a->radius >= 0)
        free(a->g);
    free(a->i0);
    free(a->t);
}

/* Marks which input indices the taps read (inside [0, n_in)). */
static void axis_need(const struct axis *a, unsigned char *need)
{
    memset(need, 0, (size_t)a->n_in);
    for (int k = 0; k < a->n_out; k++)
        for (int d = 0; d < 2; d++) {
            int i = a->i0[k] + d;
            if (i >= 0 && i < a->n_in)
                need[i] = 1;
        }
}

/* Filtered value of line src (n long) at i, zero outside. */
static double filt_d(const double *g, int r, const double *src, int n, int i)
{
    double s = 0;
    int lo = i - r < 0 ? 0 : i - r, hi = i + r >= n ? n - 1 : i + r;
    for (int j = lo; j <= hi; j++)
        s += g[j - i + r] * src[j];
    return s;
}

/* Resizes one plane; vrow (sw doubles), frows (sh * sw doubles, rows used
 * only where need_y) and need flags are scratch. */
static void resize_plane(const float *src, float *dst, const struct axis *ay, const struct axis *ax,
                         const unsigned char *need_y, const unsigned char *need_x, double *vrow,
                         double *frows, float lo, float hi)
{
    int sh = ay->n_in, sw = ax->n_in;
    for (int y = 0; y < sh; y++) {
        if (!need_y[y])
            continue;
        /* Row-wise accumulation keeps the reads contiguous. */
        int r = ay->radius, lo = y - r < 0 ? 0 : y - r, hi = y + r >= sh ? sh - 1 : y + r;
        memset(vrow, 0, sizeof *vrow * (size_t)sw);
        for (int j = lo; j <= hi; j++) {
            double g = ay->g[j - y + r];
            const float *s = src + (size_t)j * (size_t)sw;
            for (int x = 0; x < sw; x++)
                vrow[x] += g * (double)s[x];
        }
        double *f = frows + (size_t)y * (size_t)sw;
        for (int x = 0; x < sw; x++)
            if (need_x[x])
                f[x] = filt_d(ax->g, ax->radius, vrow, sw, x);
    }
    for (int oy = 0; oy < ay->n_out; oy++) {
        int y0 = ay->i0[oy];
        double ty = ay->t[oy];
        const double *r0 = y0 >= 0 && y0 < sh ? frows + (size_t)y0 * (size_t)sw : NULL;
        const double *r1 = y0 + 1 >= 0 && y0 + 1 < sh ? frows + (size_t)(y0 + 1) * (size_t)sw : NULL;
        for (int ox = 0; ox < ax->n_out; ox++) {
            int x0 = ax->i0[ox];
            double tx = ax->t[ox];
            double v00 = 0, v01 = 0, v10 = 0, v11 = 0;
            int in0 = x0 >= 0 && x0 < sw, in1 = x0 + 1 >= 0 && x0 + 1 < sw;
            if (r0 && in0) v00 = r0[x0];
            if (r0 && in1) v01 = r0[x0 + 1];
            if (r1 && in0) v10 = r1[x0];
            if (r1 && in1) v11 = r1[x0 + 1];
            double v = (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11);
            float o = (float)v;
            dst[(size_t)oy * (size_t)ax->n_out + (size_t)ox] = o < lo ? lo : o > hi ? hi : o;
        }
    }
}

enum cu_status cu_resize(const float *src, int c, int sh, int sw, float *dst, int dh, int dw,
                         struct cu_err *err)
{
    if (c <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0)
        return cu_fail(err, CU_EUSAGE, "resize: bad sizes %dx%dx%d -> %dx%d", c, sh, sw, dh, dw);
    size_t n = (size_t)c * (size_t)sh * (size_t)sw;
    float lo = src[0], hi = src[0]; /* clip=True: the whole source's range */
    for (size_t i = 1; i < n; i++) {
        lo = src[i] < lo ? src[i] : lo;
        hi = src[i] > hi ? src[i] : hi;
    }
    struct axis ay, ax;
    int bad = axis_init(&ay, sh, dh) | axis_init(&ax, sw, dw);
    unsigned char *need_y = malloc((size_t)sh), *need_x = malloc((size_t)sw);
    double *vrow = malloc(sizeof *vrow * (size_t)sw);
    double *frows = malloc(sizeof *frows * (size_t)sh * (size_t)sw);
    enum cu_status st = CU_OK;
    if (bad || !need_y || !need_x || !vrow || !frows) {
        st = cu_fail(err, CU_EINPUT, "resize: out of memory for %dx%d -> %dx%d", sw, sh, dw, dh);
    } else {
        axis_need(&ay, need_y);
        axis_need(&ax, need_x);
        size_t sp = (size_t)sh * (size_t)sw, dp = (size_t)dh * (size_t)dw;
        for (int k = 0; k < c; k++)
            resize_plane(src + sp * (size_t)k, dst + dp * (size_t)k, &ay, &ax, need_y, need_x, vrow,
                         frows, lo, hi);
    }
    axis_free(&ay);
    axis_free(&ax);
    free(need_y), free(need_x), free(vrow), free(frows);
    return st;
}

enum cu_status cu_image_resize(const struct cu_image *src, int h, int w, struct cu_image *out,
                               struct cu_err *err)
{
    struct cu_image im;
    enum cu_status st = cu_image_new(&im, src->c, h, w, err);
    if (st)
        return st;
    st = cu_resize(src->px, src->c, src->h, src->w, im.px, h, w, err);
    if (st)
        cu_image_free(&im);
    else
        *out = im;
    return st;
}
