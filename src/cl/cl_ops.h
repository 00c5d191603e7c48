/* cl_ops.h: the ops of the cl backend, one block per cl_ops_*.c file, as
 * the table in cl_backend.c uses them. Signatures are those of
 * backend_impl.h; arguments arrive checked by ops.c. */
#ifndef CLUNET_CL_OPS_H
#define CLUNET_CL_OPS_H

#include "cl_internal.h"

/* cl_ops_act.c (cl/act.cl): element-wise activations and axpy. */
enum cu_status cu_cl_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                          struct cu_err *err);
enum cu_status cu_cl_relu_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                              struct cu_err *err);
enum cu_status cu_cl_relu_bwd(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                              struct cu_err *err);
enum cu_status cu_cl_sigmoid_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                 struct cu_err *err);
enum cu_status cu_cl_sigmoid_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                 const struct cu_tensor *y, struct cu_err *err);

#endif
