/* ref_ops.h: the reference backend's ops (one file per op family:
 * ref_conv.c, ref_pool.c, ref_upsample.c, ref_tconv.c, ref_eltwise.c,
 * ref_loss.c, ref_adam.c), plain loops over NCHW float arrays, double
 * accumulation in long sums. Signatures are those of backend_impl.h; every
 * argument has been checked by src/ops.c (shapes agree, optional gradient
 * outputs may be NULL). Semantics: include/clunet/ops.h. */
#ifndef CLUNET_REF_OPS_H
#define CLUNET_REF_OPS_H

#include "backend_impl.h"

static inline float *ref_data(const struct cu_tensor *t) { return (float *)t->impl; }

/* ref_conv.c */
enum cu_status cu_ref_conv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                               enum cu_act act, struct cu_err *err);
enum cu_status cu_ref_conv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                               struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                               const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                               enum cu_dx_mode mode, struct cu_err *err);

/* ref_pool.c */
enum cu_status cu_ref_maxpool_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
enum cu_status cu_ref_maxpool_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *x, struct cu_err *err);

/* ref_upsample.c */
enum cu_status cu_ref_upsample_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                   struct cu_err *err);
enum cu_status cu_ref_upsample_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   struct cu_err *err);

/* ref_tconv.c */
enum cu_status cu_ref_tconv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err);
enum cu_status cu_ref_tconv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                                const struct cu_tensor *w, struct cu_err *err);

/* ref_eltwise.c */
enum cu_status cu_ref_relu_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               struct cu_err *err);
enum cu_status cu_ref_relu_bwd(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                               struct cu_err *err);
enum cu_status cu_ref_sigmoid_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
enum cu_status cu_ref_sigmoid_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *y, struct cu_err *err);
enum cu_status cu_ref_concat_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                 const struct cu_tensor *b, struct cu_err *err);
enum cu_status cu_ref_concat_bwd(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                 const struct cu_tensor *dy, struct cu_err *err);

/* ref_loss.c */
enum cu_status cu_ref_loss_fwd(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w,
                              struct cu_err *err);
enum cu_status cu_ref_loss_bwd(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w,
                              struct cu_err *err);

/* ref_adam.c */
enum cu_status cu_ref_adam(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                           struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                           struct cu_err *err);

#endif
