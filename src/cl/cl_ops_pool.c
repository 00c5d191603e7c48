/* cl_ops_pool.c: 2x2 max-pooling of the cl backend, forward and backward
 * (kernels in cl/pool.cl; semantics, floor and tie rule in ops.h). */
#include "cl_ops.h"

enum cu_status cu_cl_maxpool_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                 struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(x), x->name, err);
    if (st)
        return st;
    cl_mem my = cu_cl_mem(y), mx = cu_cl_mem(x);
    const int nc = x->n * x->c;
    const size_t runs = (size_t)y->h * (size_t)nc; /* a work-item per output row */
    return CU_CL_RUN(cb, "cu_pool_max_fwd", runs, CU_CL_WG, err, CU_KARG(my), CU_KARG(mx), CU_KARG(x->h),
                     CU_KARG(x->w), CU_KARG(y->h), CU_KARG(y->w), CU_KARG(nc));
}

enum cu_status cu_cl_maxpool_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                 const struct cu_tensor *x, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(x), x->name, err);
    if (st)
        return st;
    cl_mem mdx = cu_cl_mem(dx), mdy = cu_cl_mem(dy), mx = cu_cl_mem(x);
    const int nc = x->n * x->c;
    const size_t runs = (size_t)dy->h * (size_t)nc;
    return CU_CL_RUN(cb, "cu_pool_max_bwd", runs, CU_CL_WG, err, CU_KARG(mdx), CU_KARG(mdy), CU_KARG(mx),
                     CU_KARG(x->h), CU_KARG(x->w), CU_KARG(dy->h), CU_KARG(dy->w), CU_KARG(nc));
}
