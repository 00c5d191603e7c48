/* backend_impl.h: the ops table a backend fills; seen only by backends and
 * by the checked wrappers in backend.c and ops.c.
 *
 * Every function here may assume its arguments were checked: shapes agree,
 * tensors belong to this backend, optional gradient outputs may be NULL.
 * Sizes come from the tensors' current shapes (n may be below cap_n). */
#ifndef CLUNET_BACKEND_IMPL_H
#define CLUNET_BACKEND_IMPL_H

#include "clunet/backend.h"
#include "clunet/ops.h"

struct cu_tensor;

struct cu_backend_ops {
    const char *name; /* "ref", "cl" */
    void (*destroy)(struct cu_backend *be);
    void (*caps)(const struct cu_backend *be, struct cu_caps *out);

    /* Memory for t->cap_n * c * h * w elements of t->dtype, zero-filled,
     * into t->impl. Transfers, zero and copy move bytes: any dtype. */
    enum cu_status (*tensor_alloc)(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err);
    /* t->impl for the view t of t->base (same backend), starting byte_off
     * bytes in (a multiple of view_align); t's shape is set. */
    enum cu_status (*tensor_view)(struct cu_backend *be, struct cu_tensor *t, size_t byte_off, struct cu_err *err);
    /* Releases t->impl, an allocation or a view's (t->base set). */
    void (*tensor_release)(struct cu_backend *be, struct cu_tensor *t);
    enum cu_status (*upload)(struct cu_backend *be, struct cu_tensor *t, const void *src, size_t bytes,
                             struct cu_err *err);
    enum cu_status (*download)(struct cu_backend *be, const struct cu_tensor *t, void *dst, size_t bytes,
                               struct cu_err *err);
    enum cu_status (*zero)(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err);
    enum cu_status (*copy)(struct cu_backend *be, struct cu_tensor *dst, const struct cu_tensor *src,
                           struct cu_err *err);
    enum cu_status (*axpy)(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                           struct cu_err *err);
    enum cu_status (*sync)(struct cu_backend *be, struct cu_err *err);

    /* x2 (dx2): NULL, or the second part of the input x = [x, x2] (ops.h,
     * cu_conv_forward_cat); w's Cin is then x->c + x2->c */
    enum cu_status (*conv_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                               enum cu_act act, struct cu_err *err);
    enum cu_status (*conv_bwd)(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                               struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                               const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                               enum cu_dx_mode mode, struct cu_err *err);
    enum cu_status (*relu_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               struct cu_err *err);
    enum cu_status (*relu_bwd)(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                               struct cu_err *err);
    enum cu_status (*sigmoid_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
    enum cu_status (*sigmoid_bwd)(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *y, struct cu_err *err);
    enum cu_status (*maxpool_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
    enum cu_status (*maxpool_bwd)(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *x, struct cu_err *err);
    enum cu_status (*upsample_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                   struct cu_err *err);
    enum cu_status (*upsample_bwd)(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   struct cu_err *err);
    enum cu_status (*tconv_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err);
    enum cu_status (*tconv_bwd)(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                                const struct cu_tensor *w, struct cu_err *err);
    enum cu_status (*concat_fwd)(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                 const struct cu_tensor *b, struct cu_err *err);
    enum cu_status (*concat_bwd)(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                 const struct cu_tensor *dy, struct cu_err *err);
    /* w: z->c channel weights (ops.h's cu_loss_forward_w), never NULL here */
    enum cu_status (*loss_fwd)(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err);
    enum cu_status (*loss_bwd)(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err);
    enum cu_status (*adam)(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                           struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                           struct cu_err *err);
};

/* Every backend's state begins with this struct (the backend's own struct
 * embeds it as its first member). */
struct cu_backend {
    const struct cu_backend_ops *ops;
    enum cu_backend_kind kind;
    struct cu_backend_stats stats;
    size_t view_align; /* bytes a view's start must be a multiple of (set when the backend opens) */
};

/* Bytes of t at its full batch capacity (what a backend allocates). */
size_t cu_tensor_cap_bytes(const struct cu_tensor *t);

/* Constructors, one per backend. */
enum cu_status cu_ref_backend_new(struct cu_backend **out, struct cu_err *err);
enum cu_status cu_cl_backend_new(const char *spec, struct cu_backend **out, struct cu_err *err);

#endif
