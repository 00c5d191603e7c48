/* cl_ops_conv.c: the k x k 'same' convolution of the cl backend (stride 1,
 * odd k, NCHW), forward and backward, as im2col (cl/conv.cl) + GEMM
 * (cl_gemm.c) per image (docs/cl-ops.md):
 *   forward   y_n = W col(x_n)            W: (Cout x K), K = Cin*k*k
 *             then y = act(y + b)          (cu_conv_bias_act, whole batch)
 *   backward  db += row sums of dy         (cu_conv_bias_grad)
 *             dW += dy_n col(x_n)^T        (GEMM, beta = 1)
 *             dx_n += col2im(W^T dy_n)     (GEMM into the scratch, then a
 *                                            gather that adds into dx)
 * For k = 1, col(x_n) is x_n itself: no im2col, dx += W^T dy_n directly.
 * On CPU devices (the panel GEMM) with W % 16 == 0, forward is an implicit
 * GEMM with no im2col matrix and the bias+ReLU fused (conv.cl), and so is
 * dx: the same convolution applied to dy with the weights transposed and
 * flipped, adding into dx (no dcol, no col2im); k = 1 too (the weights
 * only transposed). Both run as one launch over the whole batch.
 * The im2col matrix (then the GEMM's workspace, cu_cl_gemm_ws, and the
 * flipped weights) lives in the backend's scratch buffer, one band of
 * output rows at a time, the band as tall as CLUNET_CL_COL_BYTES (default
 * 256 MiB, at most the device's max allocation) allows: large images never
 * need one huge buffer, and the scratch, once grown, is reused. Not here:
 * the ReLU backward (act.cl), batching the GEMMs over images. */
#include "cl_ops.h"

#include <stdlib.h>


struct conv_dims {
    int n, cin, h, w, cout, k, kk; /* kk = Cin*k*k, the GEMM depth */
    int hw;
    int rows; /* output rows per im2col band */
    size_t ws; /* GEMM workspace: floats from here on in the scratch (after the band) */
    size_t wt; /* flipped weights (implicit data gradient): from here on, after the workspace */
};

static size_t col_limit(const struct cu_cl_backend *cb) { return cb->policy.col_bytes; }

/* Whether the data gradient runs as an implicit GEMM (cu_conv_fwd_implicit
 * on dy, CPU devices, W % 16 == 0), k = 1 too: one launch for the batch
 * instead of a GEMM per image. */
static bool implicit(const struct cu_cl_backend *cb, const struct cu_tensor *x, const struct cu_tensor *w)
{
    (void)w;
    return cu_cl_gemm_panels(cb) && x->w % 16 == 0;
}

/* The most GEMM workspace any product of this layer needs, nc columns per
 * band (the same arguments as the calls below). */
static size_t gemm_ws(const struct cu_cl_backend *cb, const struct conv_dims *d, int nc)
{
    size_t ws[3];
    if (d->k == 1) {
        ws[0] = cu_cl_gemm_ws(cb, false, false, d->cout, d->hw, d->cin, d->cin, d->hw); /* y = W x */
        ws[1] = cu_cl_gemm_ws(cb, false, true, d->cout, d->cin, d->hw, d->hw, d->hw);   /* dW += dy x^T */
        ws[2] = cu_cl_gemm_ws(cb, true, false, d->cin, d->hw, d->cout, d->cin, d->hw);  /* dx += W^T dy */
    } else {
        ws[0] = cu_cl_gemm_panels(cb) ? 0 : cu_cl_gemm_ws(cb, false, false, d->cout, nc, d->kk, d->kk, nc);
        ws[1] = cu_cl_gemm_ws(cb, false, true, d->cout, d->kk, nc, d->hw, nc); /* dW += dy col^T */
        ws[2] = cu_cl_gemm_ws(cb, true, false, d->kk, nc, d->cout, d->kk, d->hw); /* dcol = W^T dy */
    }
    size_t m = ws[0] > ws[1] ? ws[0] : ws[1];
    return m > ws[2] ? m : ws[2];
}

/* Sizes, band height and the scratch they need; fails when even one row of
 * the im2col matrix exceeds what the device can allocate. bands: whether
 * the im2col bands and GEMM workspace are needed at all (not when the
 * implicit data gradient is all that is left: it needs only the flipped
 * weights, and the scratch, once grown, stays grown: a band of 48 -> 16
 * at 256 x 256 is 113 MiB). */
static enum cu_status conv_dims(struct cu_cl_backend *cb, const struct cu_tensor *x, const struct cu_tensor *w,
                                bool bands, const char *op, struct conv_dims *d, cl_mem *col, struct cu_err *err)
{
    *d = (struct conv_dims){.n = x->n, .cin = w->c, .h = x->h, .w = x->w, .cout = w->n, .k = w->h};
    d->kk = d->cin * d->k * d->k;
    d->hw = d->h * d->w;
    d->rows = d->h;
    enum cu_status st = cu_cl_ops_fits(cb, (size_t)d->n * d->cin * d->hw, x->name, err);
    if (!st)
        st = cu_cl_ops_fits(cb, (size_t)d->n * d->cout * d->hw, op, err);
    if (st)
        return st;
    if (d->k == 1) { /* no im2col; the GEMM's workspace, if it needs one, then the transposed weights */
        size_t ws = gemm_ws(cb, d, d->hw);
        d->ws = 0;
        d->wt = ws;
        ws += implicit(cb, x, w) ? (size_t)d->cout * d->cin : 0;
        st = cu_cl_ops_fits(cb, ws, op, err);
        return st || !ws ? st : cu_cl_scratch(cb, ws * sizeof(float), col, err);
    }
    size_t row_bytes = (size_t)d->kk * (size_t)d->w * sizeof(float), lim = col_limit(cb);
    if (row_bytes > lim)
        return cu_fail(err, CU_EDEVICE,
                       "%s: %s of %s: one im2col row needs %zu bytes, over the %zu allowed (the device's largest "
                       "buffer, or CLUNET_CL_COL_BYTES); use a smaller -s",
                       cb->caps.name, op, x->name, row_bytes, lim);
    if ((size_t)d->rows * row_bytes > lim)
        d->rows = (int)(lim / row_bytes);
    d->ws = bands ? ((size_t)d->rows * d->w + 15) / 16 * 16 * d->kk : 0; /* room for the panel layout too */
    d->wt = bands ? d->ws + gemm_ws(cb, d, d->rows * d->w) : 0;
    size_t total = d->wt + (implicit(cb, x, w) ? (size_t)d->cout * d->kk : 0);
    st = cu_cl_ops_fits(cb, total, op, err);
    return st ? st : cu_cl_scratch(cb, total * sizeof(float), col, err);
}

/* The im2col matrix of image img, output rows [r0, r0+rb), into col; panel:
 * in the panel GEMM's layout (for cu_cl_gemm_packed). */
static enum cu_status im2col(struct cu_cl_backend *cb, const struct conv_dims *d, cl_mem col, cl_mem x, int img,
                             int r0, int rb, bool panel, struct cu_err *err)
{
    const int xo = img * d->cin * d->hw;
    return CU_CL_RUN(cb, panel ? "cu_conv_im2col_panel" : "cu_conv_im2col", (size_t)rb * d->kk, CU_CL_WG, err,
                     CU_KARG(col), CU_KARG(x), CU_KARG(xo), CU_KARG(d->cin), CU_KARG(d->h), CU_KARG(d->w),
                     CU_KARG(d->k), CU_KARG(r0), CU_KARG(rb));
}

static enum cu_status col2im(struct cu_cl_backend *cb, const struct conv_dims *d, cl_mem dx, cl_mem col, int img,
                             int r0, int rb, struct cu_err *err)
{
    const int xo = img * d->cin * d->hw, p = d->k / 2;
    const int y0 = r0 - p > 0 ? r0 - p : 0, y1 = r0 + rb + p < d->h ? r0 + rb + p : d->h;
    const size_t runs = (size_t)(d->w + 15) / 16 * (size_t)(y1 - y0) * (size_t)d->cin;
    return CU_CL_RUN(cb, "cu_conv_col2im", runs, CU_CL_WG, err, CU_KARG(dx), CU_KARG(xo), CU_KARG(col),
                     CU_KARG(d->cin), CU_KARG(d->h), CU_KARG(d->w), CU_KARG(d->k), CU_KARG(r0), CU_KARG(rb));
}

/* The implicit convolution's kernel and range for cout outputs of a k x k
 * layer at h x w, n images: 8 channels x 32 pixels a work-item for 3x3
 * layers whose width allows (cu_conv3_fwd_w32) on devices with the
 * registers for it (policy.wide_tiles), else 8 x 16. */
static size_t implicit_range(const struct cu_cl_backend *cb, int cout, int k, int h, int w, int n,
                             const char **kname)
{
    const bool wide = k == 3 && w % 32 == 0 && cb->policy.wide_tiles;
    *kname = wide ? "cu_conv3_fwd_w32" : "cu_conv_fwd_implicit";
    return (size_t)(cout + CU_GEMM_TM - 1) / CU_GEMM_TM * (size_t)(w / (wide ? 32 : CU_GEMM_TN)) * (size_t)h *
           (size_t)n;
}

/* The implicit GEMM of conv.cl (CPU devices, W % 16 == 0): no im2col
 * matrix, bias and activation fused; one launch for the whole batch. */
static enum cu_status fwd_implicit(struct cu_cl_backend *cb, struct cu_tensor *y, const struct cu_tensor *x,
                                   const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                                   enum cu_act act, struct cu_err *err)
{
    enum cu_status st = cu_cl_ops_fits(cb, (size_t)x->n * w->c * x->h * x->w, x->name, err);
    if (!st)
        st = cu_cl_ops_fits(cb, cu_tensor_numel(y), y->name, err);
    cl_mem my = cu_cl_mem(y), mx = cu_cl_mem(x), mx2 = x2 ? cu_cl_mem(x2) : mx, mw = cu_cl_mem(w), mb = cu_cl_mem(b);
    const int relu = act == CU_ACT_RELU, mode = 0, wo = 0;
    const char *kname;
    const size_t tiles = implicit_range(cb, w->n, w->h, x->h, x->w, x->n, &kname);
    if (!st)
        st = cu_cl_ops_fits(cb, tiles, y->name, err);
    if (!st)
        st = CU_CL_RUN(cb, kname, tiles, CU_CL_WG_TILE, err, CU_KARG(my), CU_KARG(my), CU_KARG(w->n), CU_KARG(my),
                       CU_KARG(my), CU_KARG(mx), CU_KARG(mx2), CU_KARG(x->c), CU_KARG(mw), CU_KARG(wo), CU_KARG(mb),
                       CU_KARG(w->c), CU_KARG(x->h), CU_KARG(x->w), CU_KARG(w->n), CU_KARG(w->h), CU_KARG(relu),
                       CU_KARG(mode), CU_KARG(x->n));
    return st;
}

/* The data gradient of every image as a forward convolution of dy with
 * the flipped, transposed weights (written into the scratch at wt) into
 * dx in two parts [dx, dx2] split at channel ka (ka = Cin: dx alone), as
 * mode says (cu_conv_fwd_implicit's 1, 2, 3; the mask is x, split as dx). */
static enum cu_status bwd_data_implicit(struct cu_cl_backend *cb, const struct conv_dims *d, cl_mem scratch,
                                        cl_mem dx, cl_mem dx2, int ka, cl_mem x, cl_mem x2, int mode, cl_mem dy,
                                        cl_mem w, struct cu_err *err)
{
    const int wto = (int)d->wt, relu = 0;
    enum cu_status st = CU_CL_RUN(cb, "cu_conv_flip", (size_t)d->cout * d->kk, CU_CL_WG, err, CU_KARG(scratch),
                                  CU_KARG(wto), CU_KARG(w), CU_KARG(d->cout), CU_KARG(d->cin), CU_KARG(d->k));
    const char *kname;
    const size_t tiles = implicit_range(cb, d->cin, d->k, d->h, d->w, d->n, &kname);
    if (!st)
        st = cu_cl_ops_fits(cb, tiles, "conv data gradient", err);
    if (!st)
        st = CU_CL_RUN(cb, kname, tiles, CU_CL_WG_TILE, err, CU_KARG(dx), CU_KARG(dx2), CU_KARG(ka), CU_KARG(x),
                       CU_KARG(x2), CU_KARG(dy), CU_KARG(dy), CU_KARG(d->cout), CU_KARG(scratch), CU_KARG(wto),
                       CU_KARG(dy), CU_KARG(d->cout), CU_KARG(d->h), CU_KARG(d->w), CU_KARG(d->cin), CU_KARG(d->k),
                       CU_KARG(relu), CU_KARG(mode), CU_KARG(d->n));
    return st;
}

/* The concatenation [x, x2] stored as one temporary tensor, for the paths
 * that read a single input (im2col + GEMM: GPUs, widths that are not a
 * multiple of 16, 1 x 1 layers); the CPU paths of the U-Net read both
 * parts in place. */
static enum cu_status cat_temp(struct cu_backend *be, const struct cu_tensor *x, const struct cu_tensor *x2,
                               struct cu_tensor **out, struct cu_err *err)
{
    CU_TRY(cu_tensor_new(be, (struct cu_shape){x->n, x->c + x2->c, x->h, x->w}, "concat", out, err));
    enum cu_status st = cu_cl_concat_fwd(be, *out, x, x2, err);
    if (st) {
        cu_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

enum cu_status cu_cl_conv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                              const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                              enum cu_act act, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    if (cu_cl_wino_tile(cb, w->h, w->n, w->c, x->h, x->w)) {
        cl_mem mx = cu_cl_mem(x), my = cu_cl_mem(y);
        const struct cu_cl_wino c = {.y = my, .y2 = my, .x = mx, .x2 = x2 ? cu_cl_mem(x2) : mx, .xm = my, .xm2 = my,
                                     .wt = cu_cl_mem(w),
                                     .b = cu_cl_mem(b), .n = x->n, .kin = w->c, .ka = x->c, .m = w->n, .ma = w->n,
                                     .h = x->h, .w = x->w, .flip = 0, .relu = act == CU_ACT_RELU, .mode = 0,
                                     .what = y->name};
        return cu_cl_wino_conv(cb, &c, err);
    }
    if (cu_cl_gemm_panels(cb) && x->w % 16 == 0) /* k = 1 too: no GEMM packing */
        return fwd_implicit(cb, y, x, x2, w, b, act, err);
    if (x2) {
        struct cu_tensor *cat = NULL;
        enum cu_status st = cat_temp(be, x, x2, &cat, err);
        if (!st)
            st = cu_cl_conv_fwd(be, y, cat, NULL, w, b, act, err);
        cu_tensor_free(cat);
        return st;
    }
    struct conv_dims d;
    cl_mem col = NULL, mx = cu_cl_mem(x), mw = cu_cl_mem(w), my = cu_cl_mem(y), mb = cu_cl_mem(b);
    enum cu_status st = conv_dims(cb, x, w, true, "conv forward", &d, &col, err);
    for (int i = 0; !st && i < d.n; i++) {
        const size_t yo = (size_t)i * d.cout * d.hw;
        if (d.k == 1) {
            st = cu_cl_gemm(cb, false, false, d.cout, d.hw, d.cin, 1.0f, mw, 0, d.cin, mx,
                            (size_t)i * d.cin * d.hw, d.hw, 0.0f, my, yo, d.hw, col, d.ws, y->name, err);
            continue;
        }
        for (int r0 = 0; !st && r0 < d.h; r0 += d.rows) {
            const int rb = d.rows < d.h - r0 ? d.rows : d.h - r0;
            if (cu_cl_gemm_panels(cb)) {
                st = im2col(cb, &d, col, mx, i, r0, rb, true, err);
                if (!st)
                    st = cu_cl_gemm_packed(cb, d.cout, rb * d.w, d.kk, 1.0f, mw, 0, d.kk, col, 0, 0.0f, my,
                                           yo + (size_t)r0 * d.w, d.hw, y->name, err);
                continue;
            }
            st = im2col(cb, &d, col, mx, i, r0, rb, false, err);
            if (!st)
                st = cu_cl_gemm(cb, false, false, d.cout, rb * d.w, d.kk, 1.0f, mw, 0, d.kk, col, 0, rb * d.w,
                                0.0f, my, yo + (size_t)r0 * d.w, d.hw, col, d.ws, y->name, err);
        }
    }
    if (st)
        return st;
    const int relu = act == CU_ACT_RELU;
    const size_t runs = (size_t)(d.hw + 15) / 16 * (size_t)d.cout * (size_t)d.n;
    return CU_CL_RUN(cb, "cu_conv_bias_act", runs, CU_CL_WG, err, CU_KARG(my), CU_KARG(mb), CU_KARG(d.cout),
                     CU_KARG(d.hw), CU_KARG(relu), CU_KARG(d.n));
}

/* dW += dy_i x_i^T and dx_i += W^T dy_i for a 1x1 convolution. */
static enum cu_status bwd_1x1(struct cu_cl_backend *cb, const struct conv_dims *d, int i, cl_mem ws, cl_mem dx,
                              cl_mem dw, cl_mem dy, cl_mem x, cl_mem w, const char *what, struct cu_err *err)
{
    const size_t xo = (size_t)i * d->cin * d->hw, yo = (size_t)i * d->cout * d->hw;
    enum cu_status st = CU_OK;
    if (dw)
        st = cu_cl_gemm(cb, false, true, d->cout, d->cin, d->hw, 1.0f, dy, yo, d->hw, x, xo, d->hw, 1.0f, dw, 0,
                        d->cin, ws, d->ws, what, err);
    if (!st && dx)
        st = cu_cl_gemm(cb, true, false, d->cin, d->hw, d->cout, 1.0f, w, 0, d->cin, dy, yo, d->hw, 1.0f, dx, xo,
                        d->hw, ws, d->ws, what, err);
    return st;
}

/* The same for one band of output rows of a k x k convolution: col holds
 * im2col(x_i) for dW, then W^T dy_i for col2im (the queue is in order). */
static enum cu_status bwd_band(struct cu_cl_backend *cb, const struct conv_dims *d, int i, int r0, int rb,
                               cl_mem col, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x, cl_mem w, const char *what,
                               struct cu_err *err)
{
    const size_t yo = (size_t)i * d->cout * d->hw + (size_t)r0 * d->w;
    const int nc = rb * d->w;
    enum cu_status st = CU_OK;
    if (dw) {
        st = im2col(cb, d, col, x, i, r0, rb, false, err);
        if (!st)
            st = cu_cl_gemm(cb, false, true, d->cout, d->kk, nc, 1.0f, dy, yo, d->hw, col, 0, nc, 1.0f, dw, 0,
                            d->kk, col, d->ws, what, err);
    }
    if (!st && dx) {
        st = cu_cl_gemm(cb, true, false, d->kk, nc, d->cout, 1.0f, w, 0, d->kk, dy, yo, d->hw, 0.0f, col, 0, nc,
                        col, d->ws, what, err);
        if (!st)
            st = col2im(cb, d, dx, col, i, r0, rb, err);
    }
    return st;
}

/* The backward paths that read one input, on the concatenation [x, x2]
 * stored as a temporary: dW from it, dx into a zeroed temporary that is
 * then split and added into dx and dx2 (cu_cl_concat_bwd). */
static enum cu_status bwd_cat_temp(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                                   struct cu_tensor *dw, const struct cu_tensor *dy, const struct cu_tensor *x,
                                   const struct cu_tensor *x2, const struct cu_tensor *w, struct cu_err *err)
{
    struct cu_tensor *cat = NULL, *dcat = NULL;
    enum cu_status st = cat_temp(be, x, x2, &cat, err);
    if (!st && dx) /* a new tensor is zeroed */
        st = cu_tensor_new(be, cu_tensor_shape(cat), "d.concat", &dcat, err);
    if (!st)
        st = cu_cl_conv_bwd(be, dcat, NULL, dw, NULL, dy, cat, NULL, w, CU_DX_ADD, err);
    if (!st && dx)
        st = cu_cl_concat_bwd(be, dx, dx2, dcat, err);
    cu_tensor_free(dcat);
    cu_tensor_free(cat);
    return st;
}

/* dW += by the CPU device's own kernels, where one fits the layer:
 * Winograd, the direct kernels of the thinnest 3x3 layers, or for 1x1 a
 * reduction per weight instead of a GEMM per image. Returns whether one
 * ran (its status in *st). */
static bool dw_own(struct cu_cl_backend *cb, struct cu_tensor *dw, const struct cu_tensor *dy,
                   const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w, enum cu_status *st,
                   struct cu_err *err)
{
    cl_mem mdw = cu_cl_mem(dw), mdy = cu_cl_mem(dy), mx = cu_cl_mem(x), mx2 = x2 ? cu_cl_mem(x2) : mx;
    const int cin = w->c, hw = x->h * x->w;
    if (cu_cl_wino_dw_use(cb, w->h, w->n, cin))
        *st = cu_cl_wino_dw(cb, mdw, mdy, mx, mx2, x->c, x->n, cin, w->n, x->h, x->w, dw->name, err);
    else if (cu_cl_dw_direct_use(cb, w->h, w->n, cin))
        *st = cu_cl_dw_direct(cb, mdw, mdy, mx, mx2, x->c, x->n, cin, w->n, x->h, x->w, dw->name, err);
    else if (w->h == 1 && !x2 && cu_cl_gemm_panels(cb)) {
        *st = cu_cl_ops_fits(cb, (size_t)x->n * (size_t)(x->c > w->n ? x->c : w->n) * hw, dw->name, err);
        if (!*st)
            *st = CU_CL_RUN(cb, "cu_conv_dw1", (size_t)w->n * x->c * CU_RED_WG, CU_RED_WG, err, CU_KARG(mdw),
                            CU_KARG(mdy), CU_KARG(mx), CU_KARG(x->n), CU_KARG(w->n), CU_KARG(x->c), CU_KARG(hw));
    } else {
        return false;
    }
    return true;
}

enum cu_status cu_cl_conv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                              struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                              const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                              enum cu_dx_mode mode, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    struct conv_dims d;
    cl_mem col = NULL;
    cl_mem mdx = dx ? cu_cl_mem(dx) : NULL, mdx2 = dx2 ? cu_cl_mem(dx2) : mdx, mdw = dw ? cu_cl_mem(dw) : NULL;
    cl_mem mx = cu_cl_mem(x), mx2 = x2 ? cu_cl_mem(x2) : mx, mdy = cu_cl_mem(dy), mw = cu_cl_mem(w);
    const int cin = w->c; /* x->c + x2->c */
    const int kmode = mode == CU_DX_ADD ? 1 : mode == CU_DX_SET ? 2 : 3; /* the kernels' output modes */
    enum cu_status st = CU_OK;
    if (mdx && cu_cl_wino_tile(cb, w->h, cin, w->n, x->h, x->w)) { /* first: it takes the scratch for itself */
        const struct cu_cl_wino c = {.y = mdx, .y2 = mdx2, .x = mdy, .x2 = mdy, .xm = mx, .xm2 = mx2, .wt = mw,
                                     .b = mdx, .n = x->n, .kin = w->n, .ka = w->n, .m = cin, .ma = x->c,
                                     .h = x->h, .w = x->w, .flip = 1, .relu = 0, .mode = kmode, .what = dx->name};
        st = cu_cl_wino_conv(cb, &c, err);
        mdx = NULL;
    }
    if (!st && mdw && dw_own(cb, dw, dy, x, x2, w, &st, err))
        mdw = NULL;
    if (!st && db)
        st = cu_cl_ops_bias_grad(cb, cu_cl_mem(db), mdy, x->n, w->n, x->h * x->w, err);
    /* scratch: the flipped weights of the implicit dx (without col2im), and
     * im2col bands for what is left, unless the concatenation's temporary
     * path below does that (it sizes its own); none when Winograd did both */
    const bool in_place_dx = mdx && implicit(cb, x, w), bands = !x2 && (mdw || (mdx && !in_place_dx));
    if (!st && (in_place_dx || bands))
        st = conv_dims(cb, x, w, bands, "conv backward", &d, &col, err);
    if (!st && in_place_dx) {
        st = bwd_data_implicit(cb, &d, col, mdx, mdx2, x->c, mx, mx2, kmode, mdy, mw, err);
        mdx = NULL;
    }
    if (st || (!mdx && !mdw))
        return st;
    /* the GEMM paths add into dx: a set dx is zeroed first, the ReLU's mask applied after */
    const bool fix = mdx && mode != CU_DX_ADD;
    if (fix)
        st = cu_tensor_zero(dx, err);
    if (!st && fix && dx2)
        st = cu_tensor_zero(dx2, err);
    if (!st && x2)
        st = bwd_cat_temp(be, mdx ? dx : NULL, dx2, mdw ? dw : NULL, dy, x, x2, w, err);
    for (int i = 0; !st && !x2 && i < d.n; i++) {
        if (d.k == 1) {
            st = bwd_1x1(cb, &d, i, col, mdx, mdw, mdy, mx, mw, w->name, err);
            continue;
        }
        for (int r0 = 0; !st && r0 < d.h; r0 += d.rows) {
            const int rb = d.rows < d.h - r0 ? d.rows : d.h - r0;
            st = bwd_band(cb, &d, i, r0, rb, col, mdx, mdw, mdy, mx, mw, w->name, err);
        }
    }
    if (!st && fix && mode == CU_DX_SET_RELU)
        st = cu_cl_relu_bwd(be, dx, x, err);
    if (!st && fix && mode == CU_DX_SET_RELU && dx2)
        st = cu_cl_relu_bwd(be, dx2, x2, err);
    return st;
}
