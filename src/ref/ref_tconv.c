/* ref_tconv.c: 2x2 stride-2 transposed convolution with bias, ref backend,
 * NCHW; forward and backward (dx, dw, db optional, all +=).
 * x (N,Cin,H,W), w (Cin,Cout,2,2) as PyTorch's ConvTranspose2d,
 * b (Cout,1,1,1), y/dy (N,Cout,2H,2W). With kernel = stride = 2 the
 * output windows do not overlap: each output pixel gets one term per
 * input channel,
 *     y[n,o,2i+a,2j+c] = b[o] + sum_ci x[n,ci,i,j] * w[ci,o,a,c].
 * No activation (the U-Net's transposed up-sampling is linear). */
#include "ref_ops.h"

static size_t idx4(int c, int h, int w, int i0, int i1, int i2, int i3)
{
    return (((size_t)i0 * c + i1) * h + i2) * w + i3;
}

enum cu_status cu_ref_tconv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err)
{
    (void)be, (void)err;
    int n = x->n, ci = x->c, h = x->h, wd = x->w, co = w->c;
    const float *px = ref_data(x), *pw = ref_data(w), *pb = ref_data(b);
    float *py = ref_data(y);
    for (int in = 0; in < n; in++)
        for (int o = 0; o < co; o++)
            for (int i = 0; i < 2 * h; i++)
                for (int j = 0; j < 2 * wd; j++) {
                    double s = pb[o];
                    for (int c = 0; c < ci; c++)
                        s += (double)px[idx4(ci, h, wd, in, c, i / 2, j / 2)] * pw[idx4(co, 2, 2, c, o, i % 2, j % 2)];
                    py[idx4(co, 2 * h, 2 * wd, in, o, i, j)] = (float)s;
                }
    return CU_OK;
}

/* dx[n,ci,i,j] += sum_{o,a,c} dy[n,o,2i+a,2j+c] * w[ci,o,a,c]. */
static void tconv_dx(struct cu_tensor *dx, const struct cu_tensor *dy, const struct cu_tensor *w)
{
    int n = dx->n, ci = dx->c, h = dx->h, wd = dx->w, co = w->c;
    const float *pdy = ref_data(dy), *pw = ref_data(w);
    float *pdx = ref_data(dx);
    for (int in = 0; in < n; in++)
        for (int c = 0; c < ci; c++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < wd; j++) {
                    double s = 0;
                    for (int o = 0; o < co; o++)
                        for (int a = 0; a < 2; a++)
                            for (int e = 0; e < 2; e++)
                                s += (double)pdy[idx4(co, 2 * h, 2 * wd, in, o, 2 * i + a, 2 * j + e)] *
                                     pw[idx4(co, 2, 2, c, o, a, e)];
                    float *d = pdx + idx4(ci, h, wd, in, c, i, j);
                    *d = (float)(*d + s);
                }
}

/* dw[ci,o,a,c] += sum_{n,i,j} x[n,ci,i,j] * dy[n,o,2i+a,2j+c]. */
static void tconv_dw(struct cu_tensor *dw, const struct cu_tensor *dy, const struct cu_tensor *x)
{
    int n = x->n, ci = x->c, h = x->h, wd = x->w, co = dw->c;
    const float *pdy = ref_data(dy), *px = ref_data(x);
    float *pdw = ref_data(dw);
    for (int c = 0; c < ci; c++)
        for (int o = 0; o < co; o++)
            for (int a = 0; a < 2; a++)
                for (int e = 0; e < 2; e++) {
                    double s = 0;
                    for (int in = 0; in < n; in++)
                        for (int i = 0; i < h; i++)
                            for (int j = 0; j < wd; j++)
                                s += (double)px[idx4(ci, h, wd, in, c, i, j)] *
                                     pdy[idx4(co, 2 * h, 2 * wd, in, o, 2 * i + a, 2 * j + e)];
                    float *d = pdw + idx4(co, 2, 2, c, o, a, e);
                    *d = (float)(*d + s);
                }
}

/* db[o] += sum_{n,i,j} dy[n,o,i,j]. */
static void tconv_db(struct cu_tensor *db, const struct cu_tensor *dy)
{
    size_t plane = (size_t)dy->h * dy->w;
    const float *pdy = ref_data(dy);
    float *pdb = ref_data(db);
    for (int o = 0; o < dy->c; o++) {
        double s = 0;
        for (int in = 0; in < dy->n; in++)
            for (size_t q = 0; q < plane; q++)
                s += pdy[((size_t)in * dy->c + o) * plane + q];
        pdb[o] = (float)(pdb[o] + s);
    }
}

enum cu_status cu_ref_tconv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                                const struct cu_tensor *w, struct cu_err *err)
{
    (void)be, (void)err;
    if (dx)
        tconv_dx(dx, dy, w);
    if (dw)
        tconv_dw(dw, dy, x);
    if (db)
        tconv_db(db, dy);
    return CU_OK;
}
