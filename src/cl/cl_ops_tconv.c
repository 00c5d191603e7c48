/* cl_ops_tconv.c: the 2x2 stride-2 transposed convolution of the cl
 * backend (weight (Cin,Cout,2,2) as PyTorch's ConvTranspose2d), as GEMMs
 * per image plus layout kernels (cl/tconv.cl). Reading w as a (Cin x 4Cout)
 * matrix and x_n as (Cin x HW), P_n = w^T x_n (4Cout x HW) holds every
 * output pixel; forward scatters it (+ bias) into y. Backward gathers dy_n
 * into P_n, then dw += x_n P_n^T, dx_n += w P_n, and db += the per-channel
 * sums of dy. P_n lives in the backend's scratch buffer (one image at a
 * time: its size is one image's output), the GEMM workspace after it. */
#include "cl_ops.h"

struct tconv_dims {
    int cin, cout4, hw, total; /* total = one image's output elements */
    size_t ws;                 /* GEMM workspace: floats from here on in the scratch (after P) */
};

static enum cu_status tconv_dims(struct cu_cl_backend *cb, const struct cu_tensor *x, const struct cu_tensor *w,
                                 const char *op, struct tconv_dims *d, cl_mem *p, struct cu_err *err)
{
    d->cin = x->c;
    d->cout4 = 4 * w->c;
    d->hw = x->h * x->w;
    enum cu_status st = cu_cl_ops_fits(cb, (size_t)x->n * d->cout4 * d->hw, op, err);
    if (!st)
        st = cu_cl_ops_fits(cb, cu_tensor_numel(x), x->name, err);
    d->total = d->cout4 * d->hw;
    d->ws = (size_t)d->total;
    /* the same arguments as the GEMM calls below */
    size_t a = cu_cl_gemm_ws(cb, true, false, d->cout4, d->hw, d->cin, d->cout4, d->hw);
    size_t b = cu_cl_gemm_ws(cb, false, true, d->cin, d->cout4, d->hw, d->hw, d->hw);
    size_t c = cu_cl_gemm_ws(cb, false, false, d->cin, d->hw, d->cout4, d->cout4, d->hw);
    size_t ws = a > b ? (a > c ? a : c) : (b > c ? b : c);
    if (!st)
        st = cu_cl_ops_fits(cb, d->ws + ws, op, err);
    return st ? st : cu_cl_scratch(cb, (d->ws + ws) * sizeof(float), p, err);
}

enum cu_status cu_cl_tconv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    struct tconv_dims d;
    cl_mem p = NULL, my = cu_cl_mem(y), mx = cu_cl_mem(x), mw = cu_cl_mem(w), mb = cu_cl_mem(b);
    enum cu_status st = tconv_dims(cb, x, w, "tconv forward", &d, &p, err);
    const size_t runs = (size_t)(y->w + 15) / 16 * (size_t)y->h * (size_t)y->c;
    for (int i = 0; !st && i < x->n; i++) {
        st = cu_cl_gemm(cb, true, false, d.cout4, d.hw, d.cin, 1.0f, mw, 0, d.cout4, mx, (size_t)i * d.cin * d.hw,
                        d.hw, 0.0f, p, 0, d.hw, p, d.ws, y->name, err);
        if (!st)
            st = CU_CL_RUN(cb, "cu_tconv_scatter", runs, CU_CL_WG, err, CU_KARG(my), CU_KARG(i), CU_KARG(p),
                           CU_KARG(mb), CU_KARG(w->c), CU_KARG(x->h), CU_KARG(x->w));
    }
    return st;
}

enum cu_status cu_cl_tconv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                               struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                               const struct cu_tensor *w, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    struct tconv_dims d;
    cl_mem p = NULL, mdy = cu_cl_mem(dy), mx = cu_cl_mem(x), mw = cu_cl_mem(w);
    enum cu_status st = tconv_dims(cb, x, w, "tconv backward", &d, &p, err);
    if (!st && db)
        st = cu_cl_ops_bias_grad(cb, cu_cl_mem(db), mdy, dy->n, dy->c, dy->h * dy->w, err);
    const size_t runs = (size_t)(dy->w + 15) / 16 * (size_t)dy->h * (size_t)dy->c;
    for (int i = 0; !st && (dx || dw) && i < x->n; i++) {
        const size_t xo = (size_t)i * d.cin * d.hw;
        st = CU_CL_RUN(cb, "cu_tconv_gather", runs, CU_CL_WG, err, CU_KARG(p), CU_KARG(mdy), CU_KARG(i),
                       CU_KARG(w->c), CU_KARG(x->h), CU_KARG(x->w));
        if (!st && dw)
            st = cu_cl_gemm(cb, false, true, d.cin, d.cout4, d.hw, 1.0f, mx, xo, d.hw, p, 0, d.hw, 1.0f,
                            cu_cl_mem(dw), 0, d.cout4, p, d.ws, w->name, err);
        if (!st && dx)
            st = cu_cl_gemm(cb, false, false, d.cin, d.hw, d.cout4, 1.0f, mw, 0, d.cout4, p, 0, d.hw, 1.0f,
                            cu_cl_mem(dx), xo, d.hw, p, d.ws, w->name, err);
    }
    return st;
}
