/* ops.c: the checked entry points of include/clunet/ops.h. Each checks that
 * its tensors belong to `be` and have the shapes the op needs, failing with
 * one message that names the op and both shapes, then calls the table.
 *
 * Adam, in Keras's form (tf.keras optimizer_v2 Adam, the DSB2018 script's
 * optimiser), the epsilon-hat placement:
 *     m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *     lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
 *     p -= lr_t * m / (sqrt(v) + eps)
 * i.e. eps is added to the *uncorrected* sqrt(v). PyTorch adds eps to the
 * bias-corrected sqrt(v_hat); the two differ only while sqrt(v) ~ eps. */
#include "backend_impl.h"

#include <stdio.h>

#define FMT_SHAPE "%dx%dx%dx%d"
#define ARG_SHAPE(s) (s).n, (s).c, (s).h, (s).w

/* No silent fallback: an op a backend lacks is an error naming the op. */
static enum cu_status unsupported(const struct cu_backend *be, const char *op, struct cu_err *err)
{
    return cu_fail(err, CU_EDEVICE, "%s backend: op %s is not implemented", be->ops->name, op);
}

static struct cu_shape sh(const struct cu_tensor *t) { return cu_tensor_shape(t); }

static int shape_eq(struct cu_shape a, struct cu_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

/* t (optional when opt) must be on be with shape want. */
static enum cu_status expect(struct cu_backend *be, const char *op, const struct cu_tensor *t, struct cu_shape want,
                             int opt, struct cu_err *err)
{
    if (!t)
        return opt ? CU_OK : cu_fail(err, CU_EUSAGE, "%s: missing tensor", op);
    if (t->be != be)
        return cu_fail(err, CU_EUSAGE, "%s: tensor %s belongs to another backend", op, t->name);
    if (t->dtype != CU_F32)
        return cu_fail(err, CU_EUSAGE, "%s: tensor %s is %s; ops compute in F32", op, t->name, cu_dtype_name(t->dtype));
    if (!shape_eq(sh(t), want))
        return cu_fail(err, CU_EUSAGE, "%s: %s has shape " FMT_SHAPE ", expected " FMT_SHAPE, op, t->name,
                       ARG_SHAPE(sh(t)), ARG_SHAPE(want));
    return CU_OK;
}

#define EXPECT(t, want, opt)                                                                                      \
    do {                                                                                                          \
        enum cu_status st_ = expect(be, op, (t), (want), (opt), err);                                            \
        if (st_)                                                                                                  \
            return st_;                                                                                           \
    } while (0)

static struct cu_shape shp(int n, int c, int h, int w) { return (struct cu_shape){n, c, h, w}; }

/* x (N,Cin,H,W), or [x, x2] when x2 is non-NULL (same N, H, W): Cin is
 * their channels together. */
static enum cu_status conv_check(struct cu_backend *be, const char *op, const struct cu_tensor *y,
                                 const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                                 const struct cu_tensor *b, int grads_opt, struct cu_err *err)
{
    EXPECT(x, sh(x), 0);
    EXPECT(w, sh(w), 0);
    int cin = x->c;
    if (x2) {
        EXPECT(x2, shp(x->n, x2->c, x->h, x->w), 0);
        cin += x2->c;
    }
    if (w->h != w->w || w->h % 2 == 0 || w->c != cin)
        return cu_fail(err, CU_EUSAGE, "%s: weight %s " FMT_SHAPE " does not fit input %s " FMT_SHAPE "%s%s", op,
                       w->name, ARG_SHAPE(sh(w)), x->name, ARG_SHAPE(sh(x)), x2 ? " with " : "", x2 ? x2->name : "");
    EXPECT(b, shp(w->n, 1, 1, 1), grads_opt);
    EXPECT(y, shp(x->n, w->n, x->h, x->w), 0);
    return CU_OK;
}

enum cu_status cu_conv_forward_cat(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *xa,
                                   const struct cu_tensor *xb, const struct cu_tensor *w, const struct cu_tensor *b,
                                   enum cu_act act, struct cu_err *err)
{
    enum cu_status st = conv_check(be, xb ? "conv forward (concat)" : "conv forward", y, xa, xb, w, b, 0, err);
    if (!be->ops->conv_fwd)
        return unsupported(be, "conv_fwd", err);
    return st ? st : be->ops->conv_fwd(be, y, xa, xb, w, b, act, err);
}

enum cu_status cu_conv_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *w, const struct cu_tensor *b, enum cu_act act,
                               struct cu_err *err)
{
    return cu_conv_forward_cat(be, y, x, NULL, w, b, act, err);
}

enum cu_status cu_conv_backward_ex(struct cu_backend *be, struct cu_tensor *dxa, struct cu_tensor *dxb,
                                   struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                                   const struct cu_tensor *xa, const struct cu_tensor *xb,
                                   const struct cu_tensor *w, enum cu_dx_mode mode, struct cu_err *err)
{
    const char *op = xb ? "conv backward (concat)" : "conv backward";
    enum cu_status st = conv_check(be, op, dy, xa, xb, w, db, 1, err);
    if (st)
        return st;
    EXPECT(dxa, sh(xa), 1);
    if (xb) {
        EXPECT(dxb, sh(xb), 1);
        if (!dxa != !dxb)
            return cu_fail(err, CU_EUSAGE, "%s: the input gradient needs both parts or neither", op);
    } else if (dxb) {
        return cu_fail(err, CU_EUSAGE, "%s: a second input gradient %s without a second input", op, dxb->name);
    }
    if (mode != CU_DX_ADD && mode != CU_DX_SET && mode != CU_DX_SET_RELU)
        return cu_fail(err, CU_EUSAGE, "%s: unknown input-gradient mode %d", op, (int)mode);
    if (mode != CU_DX_ADD && !dxa)
        return cu_fail(err, CU_EUSAGE, "%s: an input-gradient mode without an input gradient", op);
    EXPECT(dw, sh(w), 1);
    if (!be->ops->conv_bwd)
        return unsupported(be, "conv_bwd", err);
    return be->ops->conv_bwd(be, dxa, dxb, dw, db, dy, xa, xb, w, mode, err);
}

enum cu_status cu_conv_backward_cat(struct cu_backend *be, struct cu_tensor *dxa, struct cu_tensor *dxb,
                                    struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                                    const struct cu_tensor *xa, const struct cu_tensor *xb,
                                    const struct cu_tensor *w, struct cu_err *err)
{
    return cu_conv_backward_ex(be, dxa, dxb, dw, db, dy, xa, xb, w, CU_DX_ADD, err);
}

enum cu_status cu_conv_backward(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                                const struct cu_tensor *w, struct cu_err *err)
{
    return cu_conv_backward_cat(be, dx, NULL, dw, db, dy, x, NULL, w, err);
}

static enum cu_status unary_check(struct cu_backend *be, const char *op, const struct cu_tensor *a,
                                  const struct cu_tensor *b, struct cu_err *err)
{
    EXPECT(b, sh(b), 0);
    EXPECT(a, sh(b), 0);
    return CU_OK;
}

enum cu_status cu_relu_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               struct cu_err *err)
{
    enum cu_status st = unary_check(be, "relu forward", y, x, err);
    if (!be->ops->relu_fwd)
        return unsupported(be, "relu_fwd", err);
    return st ? st : be->ops->relu_fwd(be, y, x, err);
}

enum cu_status cu_relu_backward(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                                struct cu_err *err)
{
    enum cu_status st = unary_check(be, "relu backward", dy, y, err);
    if (!be->ops->relu_bwd)
        return unsupported(be, "relu_bwd", err);
    return st ? st : be->ops->relu_bwd(be, dy, y, err);
}

enum cu_status cu_sigmoid_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err)
{
    enum cu_status st = unary_check(be, "sigmoid forward", y, x, err);
    if (!be->ops->sigmoid_fwd)
        return unsupported(be, "sigmoid_fwd", err);
    return st ? st : be->ops->sigmoid_fwd(be, y, x, err);
}

enum cu_status cu_sigmoid_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   const struct cu_tensor *y, struct cu_err *err)
{
    const char *op = "sigmoid backward";
    enum cu_status st = unary_check(be, op, dy, y, err);
    if (st)
        return st;
    EXPECT(dx, sh(y), 0);
    if (!be->ops->sigmoid_bwd)
        return unsupported(be, "sigmoid_bwd", err);
    return be->ops->sigmoid_bwd(be, dx, dy, y, err);
}

enum cu_status cu_maxpool_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err)
{
    const char *op = "maxpool forward";
    EXPECT(x, sh(x), 0);
    if (x->h < 2 || x->w < 2)
        return cu_fail(err, CU_EUSAGE, "%s: input %s " FMT_SHAPE " is smaller than 2x2", op, x->name,
                       ARG_SHAPE(sh(x)));
    EXPECT(y, shp(x->n, x->c, x->h / 2, x->w / 2), 0);
    if (!be->ops->maxpool_fwd)
        return unsupported(be, "maxpool_fwd", err);
    return be->ops->maxpool_fwd(be, y, x, err);
}

enum cu_status cu_maxpool_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   const struct cu_tensor *x, struct cu_err *err)
{
    const char *op = "maxpool backward";
    EXPECT(x, sh(x), 0);
    EXPECT(dy, shp(x->n, x->c, x->h / 2, x->w / 2), 0);
    EXPECT(dx, sh(x), 0);
    if (!be->ops->maxpool_bwd)
        return unsupported(be, "maxpool_bwd", err);
    return be->ops->maxpool_bwd(be, dx, dy, x, err);
}

enum cu_status cu_upsample_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                   struct cu_err *err)
{
    const char *op = "upsample forward";
    EXPECT(x, sh(x), 0);
    EXPECT(y, shp(x->n, x->c, 2 * x->h, 2 * x->w), 0);
    if (!be->ops->upsample_fwd)
        return unsupported(be, "upsample_fwd", err);
    return be->ops->upsample_fwd(be, y, x, err);
}

enum cu_status cu_upsample_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                    struct cu_err *err)
{
    const char *op = "upsample backward";
    EXPECT(dx, sh(dx), 0);
    EXPECT(dy, shp(dx->n, dx->c, 2 * dx->h, 2 * dx->w), 0);
    if (!be->ops->upsample_bwd)
        return unsupported(be, "upsample_bwd", err);
    return be->ops->upsample_bwd(be, dx, dy, err);
}

static enum cu_status tconv_check(struct cu_backend *be, const char *op, const struct cu_tensor *y,
                                  const struct cu_tensor *x, const struct cu_tensor *w,
                                  const struct cu_tensor *b, int b_opt, struct cu_err *err)
{
    EXPECT(x, sh(x), 0);
    EXPECT(w, sh(w), 0);
    if (w->n != x->c || w->h != 2 || w->w != 2)
        return cu_fail(err, CU_EUSAGE, "%s: weight %s " FMT_SHAPE " does not fit input %s " FMT_SHAPE, op, w->name,
                       ARG_SHAPE(sh(w)), x->name, ARG_SHAPE(sh(x)));
    EXPECT(b, shp(w->c, 1, 1, 1), b_opt);
    EXPECT(y, shp(x->n, w->c, 2 * x->h, 2 * x->w), 0);
    return CU_OK;
}

enum cu_status cu_tconv_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err)
{
    enum cu_status st = tconv_check(be, "tconv forward", y, x, w, b, 0, err);
    if (!be->ops->tconv_fwd)
        return unsupported(be, "tconv_fwd", err);
    return st ? st : be->ops->tconv_fwd(be, y, x, w, b, err);
}

enum cu_status cu_tconv_backward(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                 struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                                 const struct cu_tensor *w, struct cu_err *err)
{
    const char *op = "tconv backward";
    enum cu_status st = tconv_check(be, op, dy, x, w, db, 1, err);
    if (st)
        return st;
    EXPECT(dx, sh(x), 1);
    EXPECT(dw, sh(w), 1);
    if (!be->ops->tconv_bwd)
        return unsupported(be, "tconv_bwd", err);
    return be->ops->tconv_bwd(be, dx, dw, db, dy, x, w, err);
}

enum cu_status cu_concat_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                 const struct cu_tensor *b, struct cu_err *err)
{
    const char *op = "concat forward";
    EXPECT(a, sh(a), 0);
    EXPECT(b, shp(a->n, b->c, a->h, a->w), 0);
    EXPECT(y, shp(a->n, a->c + b->c, a->h, a->w), 0);
    if (!be->ops->concat_fwd)
        return unsupported(be, "concat_fwd", err);
    return be->ops->concat_fwd(be, y, a, b, err);
}

enum cu_status cu_concat_backward(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                  const struct cu_tensor *dy, struct cu_err *err)
{
    const char *op = "concat backward";
    if (!da || !db)
        return cu_fail(err, CU_EUSAGE, "%s: both gradient halves are needed for their shapes", op);
    EXPECT(da, sh(da), 0);
    EXPECT(db, shp(da->n, db->c, da->h, da->w), 0);
    EXPECT(dy, shp(da->n, da->c + db->c, da->h, da->w), 0);
    if (!be->ops->concat_bwd)
        return unsupported(be, "concat_bwd", err);
    return be->ops->concat_bwd(be, da, db, dy, err);
}

static enum cu_status loss_check(struct cu_backend *be, const char *op, const struct cu_tensor *z,
                                 const struct cu_tensor *t, struct cu_err *err)
{
    EXPECT(t, sh(z), 0);
    return CU_OK;
}

/* Channel weights: w as given (finite, >= 0), or ones; at most
 * CU_LOSS_MAX_CHANNELS channels. */
static enum cu_status loss_weights(const char *op, const struct cu_tensor *z, const float *w, float out[],
                                   struct cu_err *err)
{
    if (z->c < 1 || z->c > CU_LOSS_MAX_CHANNELS)
        return cu_fail(err, CU_EUSAGE, "%s: %d channels; the loss takes 1 to %d", op, z->c, CU_LOSS_MAX_CHANNELS);
    for (int c = 0; c < z->c; c++) {
        out[c] = w ? w[c] : 1.0f;
        if (!(out[c] >= 0.0f && out[c] < 1e30f))
            return cu_fail(err, CU_EUSAGE, "%s: channel weight %d is %g; it must be finite and >= 0", op, c,
                           (double)out[c]);
    }
    return CU_OK;
}

enum cu_status cu_loss_forward_w(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                                 const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    const char *op = "loss forward";
    float wc[CU_LOSS_MAX_CHANNELS];
    enum cu_status st = loss_check(be, op, z, t, err);
    if (!st)
        st = loss_weights(op, z, w, wc, err);
    if (st)
        return st;
    EXPECT(out, shp(1, 1, 1, 2), 0);
    if (!be->ops->loss_fwd)
        return unsupported(be, "loss_fwd", err);
    return be->ops->loss_fwd(be, out, z, t, kind, wc, err);
}

enum cu_status cu_loss_backward_w(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                                  const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    const char *op = "loss backward";
    float wc[CU_LOSS_MAX_CHANNELS];
    enum cu_status st = loss_check(be, op, z, t, err);
    if (!st)
        st = loss_weights(op, z, w, wc, err);
    if (st)
        return st;
    EXPECT(dz, sh(z), 0);
    if (!be->ops->loss_bwd)
        return unsupported(be, "loss_bwd", err);
    return be->ops->loss_bwd(be, dz, z, t, kind, wc, err);
}

enum cu_status cu_loss_forward(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err)
{
    return cu_loss_forward_w(be, out, z, t, kind, NULL, err);
}

enum cu_status cu_loss_backward(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                                const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err)
{
    return cu_loss_backward_w(be, dz, z, t, kind, NULL, err);
}

enum cu_status cu_adam_update(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                              struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                              struct cu_err *err)
{
    const char *op = "adam";
    EXPECT(p, sh(p), 0);
    EXPECT(g, sh(p), 0);
    EXPECT(m, sh(p), 0);
    EXPECT(v, sh(p), 0);
    if (step < 1)
        return cu_fail(err, CU_EUSAGE, "%s: step %ld must be >= 1", op, step);
    if (!be->ops->adam)
        return unsupported(be, "adam", err);
    return be->ops->adam(be, p, g, m, v, hp, step, err);
}

/* a and b on be with the same element count; float32 (axpy) or, for a
 * byte copy (any_dtype), the same dtype. */
static enum cu_status same_numel(struct cu_backend *be, const char *op, const struct cu_tensor *a,
                                 const struct cu_tensor *b, int any_dtype, struct cu_err *err)
{
    if (any_dtype) {
        if (a->be != be || b->be != be)
            return cu_fail(err, CU_EUSAGE, "%s: tensor %s belongs to another backend", op,
                           a->be != be ? a->name : b->name);
        if (a->dtype != b->dtype)
            return cu_fail(err, CU_EUSAGE, "%s: %s is %s, %s is %s", op, a->name, cu_dtype_name(a->dtype), b->name,
                           cu_dtype_name(b->dtype));
    } else {
        EXPECT(a, sh(a), 0);
        EXPECT(b, sh(b), 0);
    }
    if (cu_tensor_numel(a) != cu_tensor_numel(b))
        return cu_fail(err, CU_EUSAGE, "%s: %s " FMT_SHAPE " and %s " FMT_SHAPE " differ in size", op, a->name,
                       ARG_SHAPE(sh(a)), b->name, ARG_SHAPE(sh(b)));
    return CU_OK;
}

enum cu_status cu_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                       struct cu_err *err)
{
    enum cu_status st = same_numel(be, "axpy", y, x, 0, err);
    if (!be->ops->axpy)
        return unsupported(be, "axpy", err);
    return st ? st : be->ops->axpy(be, y, alpha, x, err);
}

enum cu_status cu_tensor_copy(struct cu_backend *be, struct cu_tensor *dst, const struct cu_tensor *src,
                              struct cu_err *err)
{
    enum cu_status st = same_numel(be, "copy", dst, src, 1, err);
    if (!be->ops->copy)
        return unsupported(be, "copy", err);
    return st ? st : be->ops->copy(be, dst, src, err);
}
