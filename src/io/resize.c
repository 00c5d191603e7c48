/* resize.c: scikit-image 0.19's resize(order=1, mode='constant',
 * preserve_range=True, anti_aliasing=True), reproduced step by step from
 * skimage/transform/_warps.py and scipy.ndimage 1.10 (see image.h for the
 * three steps). Checked against fixtures made by
 * tools/make_resize_fixtures.py.
 *
 * The arithmetic follows scipy's, operation by operation, so that a mask's
 * "resized union > 0.5" agrees with the original pipeline even on the many
 * pixels that land on 0.5 exactly up to rounding:
 *   - kernel: w_i = exp((-0.5 / sigma^2) * i^2) over numpy's pairwise sum
 *     (numpy's float64 exp is libm's except on AVX-512 CPUs, where it may
 *     differ by an ulp; then a few ties can break the other way);
 *   - filter (correlate1d, symmetric kernel): out = x[0] w[0], then
 *     out += (x[-j] + x[j]) w[j] for j = r..1, zeros outside;
 *   - bilinear (zoom_shift, order 1): weights 1 - t and 1 - (1 - t); the
 *     sum 0 + v00 wy0 wx0 + v01 wy0 wx1 + v10 wy1 wx0 + v11 wy1 wx1 with
 *     each product taken as (v wy) wx.
 * Only the filtered values that the bilinear taps read are computed: the
 * rows the output samples are filtered vertically, and of those only the
 * needed columns horizontally.
 *
 * Not here: other interpolation orders, other boundary modes. */
#include "clunet/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* numpy's pairwise summation (add.reduce on a contiguous float64 array). */
static double pairwise_sum(const double *a, int n)
{
    if (n < 8) {
        double s = 0.;
        for (int i = 0; i < n; i++)
            s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        int i;
        for (i = 0; i < 8; i++)
            r[i] = a[i];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            s += a[i];
        return s;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* scipy.ndimage._gaussian_kernel1d, order 0, truncate 4: radius
 * int(4 sigma + 0.5). Returns the radius, or -1 when out of memory; sigma
 * <= 1e-15 (scipy skips the axis) gives radius 0 and the weight {1}. */
static int gauss_kernel(double sigma, double **wout)
{
    int r = sigma > 1e-15 ? (int)(4.0 * sigma + 0.5) : 0;
    double *w = malloc(sizeof *w * (size_t)(2 * r + 1));
    if (!w)
        return -1;
    if (sigma <= 1e-15) {
        w[0] = 1.0;
    } else {
        double c = -0.5 / (sigma * sigma);
        for (int i = -r; i <= r; i++)
            w[i + r] = exp(c * (double)(i * i));
        double sum = pairwise_sum(w, 2 * r + 1);
        for (int i = 0; i <= 2 * r; i++)
            w[i] /= sum;
    }
    *wout = w;
    return r;
}

/* One axis of the resize: for each output index, two input taps (i0,
 * i0 + 1) with weights w0, w1; a tap outside [0, n) reads 0. */
struct axis {
    int n_in, n_out, radius;
    double *g;  /* Gaussian weights, 2*radius+1, centre at g[radius] */
    int *i0;    /* n_out */
    double *w0, *w1; /* n_out */
};

static int axis_init(struct axis *a, int n_in, int n_out)
{
    memset(a, 0, sizeof *a);
    a->n_in = n_in, a->n_out = n_out;
    double f = (double)n_in / (double)n_out;
    double sigma = f - 1.0 > 0 ? (f - 1.0) / 2.0 : 0.0;
    a->radius = gauss_kernel(sigma, &a->g);
    a->i0 = malloc(sizeof *a->i0 * (size_t)n_out);
    a->w0 = malloc(sizeof *a->w0 * (size_t)n_out);
    a->w1 = malloc(sizeof *a->w1 * (size_t)n_out);
    if (a->radius < 0 || !a->i0 || !a->w0 || !a->w1)
        return -1;
    for (int k = 0; k < n_out; k++) {
        double cc = (double)k; /* zoom_shift with grid_mode */
        cc += 0.5;
        cc *= f;
        cc -= 0.5;
        double fl = floor(cc);
        a->i0[k] = (int)fl;
        a->w0[k] = 1.0 - (cc - fl);
        a->w1[k] = 1.0 - a->w0[k];
    }
    return 0;
}

static void axis_free(struct axis *a)
{
    if (a->radius >= 0)
        free(a->g);
    free(a->i0), free(a->w0), free(a->w1);
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

/* Horizontal filter of row v (n long) at i, scipy's symmetric order. */
static double filt_row(const double *g, int r, const double *v, int n, int i)
{
    double s = v[i] * g[r];
    for (int j = r; j >= 1; j--) {
        double a = i - j >= 0 ? v[i - j] : 0.0, b = i + j < n ? v[i + j] : 0.0;
        s += (a + b) * g[r - j];
    }
    return s;
}

/* Vertical filter of plane src (sh, sw) at row y into vrow (sw). */
static void filt_col(const double *g, int r, const float *src, int sh, int sw, int y, double *vrow)
{
    const float *c = src + (size_t)y * (size_t)sw;
    for (int x = 0; x < sw; x++)
        vrow[x] = (double)c[x] * g[r];
    for (int j = r; j >= 1; j--) {
        const float *a = y - j >= 0 ? src + (size_t)(y - j) * (size_t)sw : NULL;
        const float *b = y + j < sh ? src + (size_t)(y + j) * (size_t)sw : NULL;
        double gj = g[r - j];
        if (a && b)
            for (int x = 0; x < sw; x++)
                vrow[x] += ((double)a[x] + (double)b[x]) * gj;
        else if (a || b) /* (v + 0) w: the zero outside adds nothing */
            for (int x = 0; x < sw; x++)
                vrow[x] += (double)(a ? a : b)[x] * gj;
    }
}

struct plan {
    struct axis ay, ax;
    unsigned char *need_y, *need_x;
    double *vrow, *frows; /* sw; sh * sw (only needed rows written) */
};

/* Resizes one plane into dst (dh, dw) as doubles, before clipping. */
static void resize_plane(struct plan *p, const float *src, double *dst)
{
    const struct axis *ay = &p->ay, *ax = &p->ax;
    int sh = ay->n_in, sw = ax->n_in;
    for (int y = 0; y < sh; y++) {
        if (!p->need_y[y])
            continue;
        filt_col(ay->g, ay->radius, src, sh, sw, y, p->vrow);
        double *f = p->frows + (size_t)y * (size_t)sw;
        for (int x = 0; x < sw; x++)
            if (p->need_x[x])
                f[x] = filt_row(ax->g, ax->radius, p->vrow, sw, x);
    }
    for (int oy = 0; oy < ay->n_out; oy++) {
        int y0 = ay->i0[oy];
        double wy0 = ay->w0[oy], wy1 = ay->w1[oy];
        const double *r0 = y0 >= 0 && y0 < sh ? p->frows + (size_t)y0 * (size_t)sw : NULL;
        const double *r1 = y0 + 1 >= 0 && y0 + 1 < sh ? p->frows + (size_t)(y0 + 1) * (size_t)sw : NULL;
        for (int ox = 0; ox < ax->n_out; ox++) {
            int x0 = ax->i0[ox];
            double wx0 = ax->w0[ox], wx1 = ax->w1[ox];
            int in0 = x0 >= 0 && x0 < sw, in1 = x0 + 1 >= 0 && x0 + 1 < sw;
            double v00 = r0 && in0 ? r0[x0] : 0.0, v01 = r0 && in1 ? r0[x0 + 1] : 0.0;
            double v10 = r1 && in0 ? r1[x0] : 0.0, v11 = r1 && in1 ? r1[x0 + 1] : 0.0;
            double t = 0.0;
            t += v00 * wy0 * wx0;
            t += v01 * wy0 * wx1;
            t += v10 * wy1 * wx0;
            t += v11 * wy1 * wx1;
            dst[(size_t)oy * (size_t)ax->n_out + (size_t)ox] = t;
        }
    }
}

static void plan_free(struct plan *p)
{
    axis_free(&p->ay);
    axis_free(&p->ax);
    free(p->need_y), free(p->need_x), free(p->vrow), free(p->frows);
}

static enum cu_status plan_init(struct plan *p, int c, int sh, int sw, int dh, int dw, struct cu_err *err)
{
    memset(p, 0, sizeof *p);
    if (c <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0)
        return cu_fail(err, CU_EUSAGE, "resize: bad sizes %dx%dx%d -> %dx%d", c, sh, sw, dh, dw);
    int bad = axis_init(&p->ay, sh, dh) | axis_init(&p->ax, sw, dw);
    p->need_y = malloc((size_t)sh), p->need_x = malloc((size_t)sw);
    p->vrow = malloc(sizeof *p->vrow * (size_t)sw);
    p->frows = malloc(sizeof *p->frows * (size_t)sh * (size_t)sw);
    if (bad || !p->need_y || !p->need_x || !p->vrow || !p->frows) {
        plan_free(p);
        return cu_fail(err, CU_EDEVICE, "resize: out of memory for %dx%d -> %dx%d", sw, sh, dw, dh);
    }
    axis_need(&p->ay, p->need_y);
    axis_need(&p->ax, p->need_x);
    return CU_OK;
}

static void range(const float *src, size_t n, double *lo, double *hi)
{
    float l = src[0], h = src[0]; /* clip=True: the whole source's range */
    for (size_t i = 1; i < n; i++) {
        l = src[i] < l ? src[i] : l;
        h = src[i] > h ? src[i] : h;
    }
    *lo = l, *hi = h;
}

enum cu_status cu_resize(const float *src, int c, int sh, int sw, float *dst, int dh, int dw,
                         struct cu_err *err)
{
    struct plan p;
    enum cu_status st = plan_init(&p, c, sh, sw, dh, dw, err);
    if (st)
        return st;
    size_t sp = (size_t)sh * (size_t)sw, dp = (size_t)dh * (size_t)dw;
    double lo, hi, *out = malloc(sizeof *out * dp);
    if (!out) {
        plan_free(&p);
        return cu_fail(err, CU_EDEVICE, "resize: out of memory for %dx%d", dw, dh);
    }
    range(src, (size_t)c * sp, &lo, &hi);
    for (int k = 0; k < c; k++) {
        resize_plane(&p, src + sp * (size_t)k, out);
        float *d = dst + dp * (size_t)k;
        for (size_t i = 0; i < dp; i++)
            d[i] = (float)(out[i] < lo ? lo : out[i] > hi ? hi : out[i]);
    }
    free(out);
    plan_free(&p);
    return CU_OK;
}

enum cu_status cu_resize_mask(const float *src, int sh, int sw, float *dst, int dh, int dw, struct cu_err *err)
{
    struct plan p;
    enum cu_status st = plan_init(&p, 1, sh, sw, dh, dw, err);
    if (st)
        return st;
    size_t dp = (size_t)dh * (size_t)dw;
    double lo, hi, *out = malloc(sizeof *out * dp);
    if (!out) {
        plan_free(&p);
        return cu_fail(err, CU_EDEVICE, "resize: out of memory for %dx%d", dw, dh);
    }
    range(src, (size_t)sh * (size_t)sw, &lo, &hi);
    resize_plane(&p, src, out);
    for (size_t i = 0; i < dp; i++) {
        double v = out[i] < lo ? lo : out[i] > hi ? hi : out[i];
        dst[i] = v > 0.5 ? 1.0f : 0.0f;
    }
    free(out);
    plan_free(&p);
    return CU_OK;
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
