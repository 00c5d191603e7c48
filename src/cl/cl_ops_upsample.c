/* cl_ops_upsample.c: 2x bilinear up-sampling of the cl backend and its
 * adjoint (kernels in cl/upsample.cl, a gather per input pixel: no
 * atomics). Semantics in ops.h. */
#include "cl_ops.h"

enum cu_status cu_cl_upsample_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(y), y->name, err);
    if (st)
        return st;
    cl_mem my = cu_cl_mem(y), mx = cu_cl_mem(x);
    const int nc = x->n * x->c;
    const size_t runs = (size_t)y->h * (size_t)nc; /* a work-item per output row */
    return CU_CL_RUN(cb, "cu_upsample_fwd", runs, CU_CL_WG, err, CU_KARG(my), CU_KARG(mx), CU_KARG(x->h),
                     CU_KARG(x->w), CU_KARG(nc));
}

enum cu_status cu_cl_upsample_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(dy), dy->name, err);
    if (st)
        return st;
    cl_mem mdx = cu_cl_mem(dx), mdy = cu_cl_mem(dy);
    const int nc = dx->n * dx->c;
    const size_t runs = (size_t)dx->h * (size_t)nc; /* a work-item per input row */
    return CU_CL_RUN(cb, "cu_upsample_bwd", runs, CU_CL_WG, err, CU_KARG(mdx), CU_KARG(mdy), CU_KARG(dx->h),
                     CU_KARG(dx->w), CU_KARG(nc));
}
