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
/* The kernels' channel arguments: pixels per plane, channels, and the four
 * BCE scales C * w[c] (ops.h; unused ones 0). */
struct chan_args {
    int hw, nc;
    float s[4];
};

static struct chan_args chan_args(const struct cu_tensor *z, const float *w)
{
    struct chan_args a = {z->h * z->w, z->c, {0, 0, 0, 0}};
    for (int c = 0; c < z->c && c < 4; c++)
        a.s[c] = (float)z->c * w[c];
    return a;
}

static enum cu_status loss_sums(struct cu_cl_backend *cb, const struct cu_tensor *z, const struct cu_tensor *t,
                                const struct chan_args *a, cl_mem *scratch, int *so, struct cu_err *err)
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
                   CU_KARG(mz), CU_KARG(mt), CU_KARG(n), CU_KARG(a->hw), CU_KARG(a->nc), CU_KARG(a->s[0]),
                   CU_KARG(a->s[1]), CU_KARG(a->s[2]), CU_KARG(a->s[3]));
    if (!st)
        st = CU_CL_RUN(cb, "cu_loss_total", CU_RED_WG, CU_RED_WG, err, CU_KARG(s), CU_KARG(*so), CU_KARG(s),
                       CU_KARG(po), CU_KARG(groups));
    return st;
}

enum cu_status cu_cl_loss_fwd(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    cl_mem s = NULL, mo = cu_cl_mem(out);
    int so = 0;
    const struct chan_args a = chan_args(z, w);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(z), z->name, err);
    if (!st)
        st = loss_sums(cb, z, t, &a, &s, &so, err);
    if (st)
        return st;
    const int n = (int)cu_tensor_numel(z), k = (int)kind;
    return CU_CL_RUN(cb, "cu_loss_value", 1, 1, err, CU_KARG(mo), CU_KARG(s), CU_KARG(so), CU_KARG(n),
                     CU_KARG(k));
}

enum cu_status cu_cl_loss_bwd(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    cl_mem s = NULL, mdz = cu_cl_mem(dz), mz = cu_cl_mem(z), mt = cu_cl_mem(t);
    int so = 0;
    const struct chan_args a = chan_args(z, w);
    enum cu_status st = cu_cl_ops_fits(cb, cu_tensor_numel(z), z->name, err);
    if (!st && kind != CU_LOSS_BCE)
        st = loss_sums(cb, z, t, &a, &s, &so, err);
    if (st)
        return st;
    if (!s)
        s = mz; /* bce: the kernel never reads S */
    const int n = (int)cu_tensor_numel(z), k = (int)kind;
    return CU_CL_RUN(cb, "cu_loss_grad", (size_t)n, CU_CL_WG, err, CU_KARG(mdz), CU_KARG(mz), CU_KARG(mt), CU_KARG(s),
                     CU_KARG(so), CU_KARG(n), CU_KARG(k), CU_KARG(a.hw), CU_KARG(a.nc), CU_KARG(a.s[0]), CU_KARG(a.s[1]),
                     CU_KARG(a.s[2]), CU_KARG(a.s[3]));
}
