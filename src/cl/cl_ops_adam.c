/* cl_ops_adam.c: the Adam update of the cl backend, on the device (kernel
 * in cl/adam.cl; Keras's form, see src/ops.c). The bias correction is one
 * scalar per step, computed here in double. */
#include "cl_ops.h"

#include <math.h>

enum cu_status cu_cl_adam(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                          struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                          struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(p), p->name, err);
    if (st)
        return st;
    const double t = (double)step;
    const float lr_t = (float)(hp->lr * sqrt(1.0 - pow(hp->beta2, t)) / (1.0 - pow(hp->beta1, t)));
    cl_mem mp = cu_cl_mem(p), mg = cu_cl_mem(g), mm = cu_cl_mem(m), mv = cu_cl_mem(v);
    const int n = (int)cu_tensor_numel(p);
    return CU_CL_RUN(cb, "cu_adam_update", (size_t)n, CU_CL_WG, err, CU_KARG(mp), CU_KARG(mg), CU_KARG(mm),
                     CU_KARG(mv), CU_KARG(hp->beta1), CU_KARG(hp->beta2), CU_KARG(lr_t), CU_KARG(hp->eps),
                     CU_KARG(n));
}
