/* ref_conv.c: 2-D convolution of the ref backend, stride 1, 'same' zero
 * padding (k/2 on each side), any odd square kernel, bias, optional fused
 * ReLU; forward and backward (dx, dw, db, each optional, all +=).
 * x (N,Cin,H,W), w (Cout,Cin,k,k), b (Cout,1,1,1), y/dy (N,Cout,H,W).
 *
 * It is cross-correlation, as in PyTorch and Keras:
 *   y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] * x[n,c,i+u-p,j+v-p], p = k/2.
 * Every sum is accumulated in double, one output row at a time (a row of
 * double accumulators), so the inner loop is a plain contiguous axpy over
 * the columns where the tap lands inside the image. No im2col: that is the
 * cl backend's business; here the loops are the definition.
 * The input may be the concatenation [x, x2] of two tensors along the
 * channels (ops.h, cu_conv_forward_cat): a channel's plane then comes from
 * the part that holds it, and dx's from the part of dx that matches. */
#include "ref_ops.h"

#include <stdbool.h>
#include <stdlib.h>

/* Column range [lo, hi) of outputs j for which j + off lies in [0, w). */
static void tap_range(int off, int w, int *lo, int *hi)
{
    *lo = off < 0 ? -off : 0;
    *hi = off > 0 ? w - off : w;
}

static enum cu_status row_buffer(int w, double **out, struct cu_err *err)
{
    *out = malloc((size_t)w * sizeof **out);
    if (!*out)
        return cu_fail(err, CU_EDEVICE, "ref: conv: out of host memory for a row of %d doubles", w);
    return CU_OK;
}

/* The input of a convolution, one tensor (b NULL, cb 0) or the
 * concatenation [a, b]: channel c of image n (mutable: for dx). */
struct planes {
    float *a, *b;
    int ca, cb;
    size_t plane;
};

static struct planes planes_of(const struct cu_tensor *a, const struct cu_tensor *b)
{
    return (struct planes){ref_data(a), b ? ref_data(b) : NULL, a->c, b ? b->c : 0, (size_t)a->h * a->w};
}

static float *plane_at(const struct planes *p, int n, int c)
{
    return c < p->ca ? p->a + ((size_t)n * p->ca + c) * p->plane
                     : p->b + ((size_t)n * p->cb + (c - p->ca)) * p->plane;
}

/* acc[j] += sum_{c,u,v} wt[c*wstride_c + u*k + v] * src[c, i+s*(u-p), j+s*(v-p)]
 * over the taps inside the image (nc planes of h x w of image n in src):
 * s = +1 correlates (forward: wt is one output's (Cin,k,k) block,
 * wstride_c = k*k), s = -1 convolves (the transpose, for dx: wt walks
 * Cout for one input channel, wstride_c = Cin*k*k). */
static void accumulate_row(double *acc, const struct planes *src, int n, int nc, int h, int w, int i,
                           const float *wt, size_t wstride_c, int k, int s)
{
    int p = k / 2;
    for (int c = 0; c < nc; c++) {
        const float *plane = plane_at(src, n, c);
        const float *wc = wt + (size_t)c * wstride_c;
        for (int u = 0; u < k; u++) {
            int si = i + s * (u - p);
            if (si < 0 || si >= h)
                continue;
            const float *row = plane + (size_t)si * w;
            for (int v = 0; v < k; v++) {
                int off = s * (v - p), lo, hi;
                double wv = wc[u * k + v];
                tap_range(off, w, &lo, &hi);
                for (int j = lo; j < hi; j++)
                    acc[j] += wv * row[j + off];
            }
        }
    }
}

enum cu_status cu_ref_conv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                               enum cu_act act, struct cu_err *err)
{
    (void)be;
    int n = x->n, ci = w->c, h = x->h, wd = x->w, co = w->n, k = w->h;
    const struct planes src = planes_of(x, x2);
    const float *pw = ref_data(w), *pb = ref_data(b);
    float *py = ref_data(y);
    double *acc;
    enum cu_status st = row_buffer(wd, &acc, err);
    if (st)
        return st;
    size_t plane = (size_t)h * wd;
    for (int in = 0; in < n; in++)
        for (int o = 0; o < co; o++)
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < wd; j++)
                    acc[j] = pb[o];
                accumulate_row(acc, &src, in, ci, h, wd, i, pw + (size_t)o * ci * k * k, (size_t)k * k, k, 1);
                float *yr = py + ((size_t)in * co + o) * plane + (size_t)i * wd;
                for (int j = 0; j < wd; j++) {
                    float v = (float)acc[j];
                    yr[j] = act == CU_ACT_RELU && v < 0.0f ? 0.0f : v; /* a NaN stays NaN */
                }
            }
    free(acc);
    return CU_OK;
}

/* dx[n,c,i,j] += sum_{o,u,v} w[o,c,u,v] * dy[n,o,i-u+p,j-v+p]. */
static enum cu_status conv_dx(const struct planes *dx, const struct cu_tensor *dy, const struct cu_tensor *w,
                              struct cu_err *err)
{
    int n = dy->n, ci = w->c, h = dy->h, wd = dy->w, co = w->n, k = w->h;
    const struct planes g = planes_of(dy, NULL);
    const float *pw = ref_data(w);
    double *acc;
    enum cu_status st = row_buffer(wd, &acc, err);
    if (st)
        return st;
    for (int in = 0; in < n; in++)
        for (int c = 0; c < ci; c++)
            for (int i = 0; i < h; i++) {
                float *r = plane_at(dx, in, c) + (size_t)i * wd;
                for (int j = 0; j < wd; j++)
                    acc[j] = r[j];
                /* Walk Cout: weights of (o, c) sit at pw + (o*ci + c)*k*k. */
                accumulate_row(acc, &g, in, co, h, wd, i, pw + (size_t)c * k * k, (size_t)ci * k * k, k, -1);
                for (int j = 0; j < wd; j++)
                    r[j] = (float)acc[j];
            }
    free(acc);
    return CU_OK;
}

/* dw[o,c,u,v] += sum_{n,i,j} dy[n,o,i,j] * x[n,c,i+u-p,j+v-p]. */
static void conv_dw(struct cu_tensor *dw, const struct cu_tensor *dy, const struct planes *x)
{
    int n = dy->n, ci = dw->c, h = dy->h, wd = dy->w, co = dw->n, k = dw->h, p = k / 2;
    const float *pdy = ref_data(dy);
    float *pdw = ref_data(dw);
    size_t plane = (size_t)h * wd;
    for (int o = 0; o < co; o++)
        for (int c = 0; c < ci; c++)
            for (int u = 0; u < k; u++)
                for (int v = 0; v < k; v++) {
                    double s = 0;
                    int lo, hi;
                    tap_range(v - p, wd, &lo, &hi);
                    for (int in = 0; in < n; in++)
                        for (int i = 0; i < h; i++) {
                            int si = i + u - p;
                            if (si < 0 || si >= h)
                                continue;
                            const float *g = pdy + ((size_t)in * co + o) * plane + (size_t)i * wd;
                            const float *xr = plane_at(x, in, c) + (size_t)si * wd;
                            for (int j = lo; j < hi; j++)
                                s += (double)g[j] * xr[j + v - p];
                        }
                    float *d = pdw + (((size_t)o * ci + c) * k + u) * k + v;
                    *d = (float)(*d + s);
                }
}

/* db[o] += sum_{n,i,j} dy[n,o,i,j]. */
static void conv_db(struct cu_tensor *db, const struct cu_tensor *dy)
{
    size_t plane = (size_t)dy->h * dy->w;
    const float *pdy = ref_data(dy);
    float *pdb = ref_data(db);
    for (int o = 0; o < dy->c; o++) {
        double s = 0;
        for (int in = 0; in < dy->n; in++) {
            const float *g = pdy + ((size_t)in * dy->c + o) * plane;
            for (size_t q = 0; q < plane; q++)
                s += g[q];
        }
        pdb[o] = (float)(pdb[o] + s);
    }
}

/* Every element of the channels of dx (one part or two) set to 0, or
 * kept where the input x > 0 (mask: the ReLU's backward on dx). */
static void dx_fix(const struct planes *dx, const struct planes *x, int n, int c, bool mask)
{
    for (int in = 0; in < n; in++)
        for (int ch = 0; ch < c; ch++) {
            float *d = plane_at(dx, in, ch);
            const float *m = plane_at(x, in, ch);
            for (size_t q = 0; q < dx->plane; q++)
                if (!mask || !(m[q] > 0.0f))
                    d[q] = 0.0f;
        }
}

enum cu_status cu_ref_conv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                               struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                               const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                               enum cu_dx_mode mode, struct cu_err *err)
{
    (void)be;
    const struct planes src = planes_of(x, x2);
    if (dw)
        conv_dw(dw, dy, &src);
    if (db)
        conv_db(db, dy);
    if (!dx)
        return CU_OK;
    const struct planes d = planes_of(dx, dx2);
    if (mode != CU_DX_ADD) /* the definition: 0, +=, then the ReLU's mask */
        dx_fix(&d, &src, dy->n, w->c, false);
    enum cu_status st = conv_dx(&d, dy, w, err);
    if (!st && mode == CU_DX_SET_RELU)
        dx_fix(&d, &src, dy->n, w->c, true);
    return st;
}
