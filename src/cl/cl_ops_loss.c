/* cl_ops_loss.c: BCE-from-logits and soft Dice of the cl backend, forward
 * and backward, reduced on the device (cl/loss.cl): stage 1 writes each
 * work-group's four partial sums into the scratch buffer, stage 2 adds them
 * into four totals S (also in the scratch), and forward turns S into
 * [loss, dice] in the (1,1,1,2) output tensor. Backward recomputes S (the
 * Dice gradient needs the batch's sums; BCE alone does not) and adds the
 * gradient into dz. The host reads nothing: the caller downloads `out`. */
#include "cl_ops.h"

#define LOSS_GROUPS 64 /* stage-1 work-groups (at most; fewer for small inputs) */

/* Enqueues both reduction stages; *so = where S[0..3] start in *scratch. */
static enum cu_status loss_sums(struct cu_cl_backend *cb, const struct cu_tensor *z, const struct cu_tensor *t,
                                cl_mem *scratch, int *so, struct cu_err *err)
{
    const int n = (int)cu_tensor_numel(z), po = 0;
    int groups = (n + CU_RED_WG - 1) / CU_RED_WG;
    if (groups > LOSS_GROUPS)
        groups = LOSS_GROUPS;
    *so = groups * 4;
    enum cu_status st = cu_cl_scratch(cb, (size_t)(groups * 4 + 4) * sizeof(float), scratch, err);
    if (st)
        return st;
    cl_mem mz = cu_cl_mem(z), mt = cu_cl_mem(t), s = *scratch;
    st = CU_CL_RUN(cb, "cu_loss_partial", (size_t)groups * CU_RED_WG, CU_RED_WG, err, CU_KARG(s), CU_KARG(po),
                   CU_KARG(mz), CU_KARG(mt), CU_KARG(n));
    if (!st)
        st = CU_CL_RUN(cb, "cu_loss_total", CU_RED_WG, CU_RED_WG, err, CU_KARG(s), CU_KARG(*so), CU_KARG(s),
                       CU_KARG(po), CU_KARG(groups));
    return st;
}

enum cu_status cu_cl_loss_fwd(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    cl_mem s = NULL, mo = cu_cl_mem(out);
    int so = 0;
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(z), z->name, err);
    if (!st)
        st = loss_sums(cb, z, t, &s, &so, err);
    if (st)
        return st;
    const int n = (int)cu_tensor_numel(z), k = (int)kind;
    return CU_CL_RUN(cb, "cu_loss_value", 1, 1, err, CU_KARG(mo), CU_KARG(s), CU_KARG(so), CU_KARG(n),
                     CU_KARG(k));
}

enum cu_status cu_cl_loss_bwd(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    cl_mem s = NULL, mdz = cu_cl_mem(dz), mz = cu_cl_mem(z), mt = cu_cl_mem(t);
    int so = 0;
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(z), z->name, err);
    if (!st && kind != CU_LOSS_BCE)
        st = loss_sums(cb, z, t, &s, &so, err);
    if (st)
        return st;
    if (!s)
        s = mz; /* bce: the kernel never reads S */
    const int n = (int)cu_tensor_numel(z), k = (int)kind;
    return CU_CL_RUN(cb, "cu_loss_grad", (size_t)n, CU_CL_WG, err, CU_KARG(mdz), CU_KARG(mz), CU_KARG(mt), CU_KARG(s),
                     CU_KARG(so), CU_KARG(n), CU_KARG(k));
}
