/* cl_ops_act.c: the element-wise ops of the cl backend (kernels of
 * cl/act.cl): ReLU and sigmoid forward/backward, axpy. One work-item per
 * element over the tensors' current numel. Leaves out copy and zero, which
 * are plain buffer commands in cl_backend.c. */
#include "cl_ops.h"

#include <limits.h>

/* Sets buffer arguments a, b (c optional, NULL) and the count n last, then
 * launches kname over n elements. */
static enum cu_status run3(struct cu_backend *be, const char *kname, const struct cu_tensor *a,
                           const struct cu_tensor *b, const struct cu_tensor *c, size_t n, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    if (n > INT_MAX)
        return cu_fail(err, CU_EDEVICE, "%s: %s over %zu elements: more than a kernel's int index holds",
                       cb->caps.name, kname, n);
    cl_kernel k;
    enum cu_status st = cu_cl_kernel(cb, kname, &k, err);
    cl_mem ma = cu_cl_mem(a), mb = cu_cl_mem(b), mc = c ? cu_cl_mem(c) : NULL;
    int count = (int)n;
    cl_uint i = 0;
    if (!st)
        st = cu_cl_arg(cb, k, kname, i++, sizeof ma, &ma, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, i++, sizeof mb, &mb, err);
    if (!st && c)
        st = cu_cl_arg(cb, k, kname, i++, sizeof mc, &mc, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, i++, sizeof count, &count, err);
    return st ? st : cu_cl_launch_n(cb, k, kname, n, err);
}

enum cu_status cu_cl_relu_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                              struct cu_err *err)
{
    return run3(be, "cu_act_relu_fwd", y, x, NULL, cu_tensor_numel(x), err);
}

enum cu_status cu_cl_relu_bwd(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                              struct cu_err *err)
{
    return run3(be, "cu_act_relu_bwd", dy, y, NULL, cu_tensor_numel(y), err);
}

enum cu_status cu_cl_sigmoid_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                 struct cu_err *err)
{
    return run3(be, "cu_act_sigmoid_fwd", y, x, NULL, cu_tensor_numel(x), err);
}

enum cu_status cu_cl_sigmoid_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                 const struct cu_tensor *y, struct cu_err *err)
{
    return run3(be, "cu_act_sigmoid_bwd", dx, dy, y, cu_tensor_numel(y), err);
}

/* y += alpha * x: the kernel takes (y, alpha, x, n). */
enum cu_status cu_cl_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                          struct cu_err *err)
{
    static const char kname[] = "cu_act_axpy";
    struct cu_cl_backend *cb = cu_cl(be);
    size_t n = cu_tensor_numel(x);
    if (n > INT_MAX)
        return cu_fail(err, CU_EDEVICE, "%s: %s over %zu elements: more than a kernel's int index holds",
                       cb->caps.name, kname, n);
    cl_kernel k;
    cl_mem my = cu_cl_mem(y), mx = cu_cl_mem(x);
    int count = (int)n;
    enum cu_status st = cu_cl_kernel(cb, kname, &k, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, 0, sizeof my, &my, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, 1, sizeof alpha, &alpha, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, 2, sizeof mx, &mx, err);
    if (!st)
        st = cu_cl_arg(cb, k, kname, 3, sizeof count, &count, err);
    return st ? st : cu_cl_launch_n(cb, k, kname, n, err);
}
