/* ref_ops.h: the reference backend's ops (one file per op family:
 * ref_conv.c, ref_pool.c, ref_upsample.c, ref_tconv.c, ref_eltwise.c,
 * ref_loss.c, ref_adam.c), plain loops over NCHW float arrays, double
 * accumulation in long sums. Signatures are those of backend_impl.h. */
#ifndef CLUNET_REF_OPS_H
#define CLUNET_REF_OPS_H

#include "backend_impl.h"

static inline float *ref_data(const struct cu_tensor *t) { return (float *)t->impl; }

#endif
