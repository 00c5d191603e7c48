/* cl_ops_run.c: the small pieces every op file of the cl backend uses: set
 * a kernel's arguments and enqueue it over a 1-D range with a fixed
 * work-group size in one call, check that an index
 * range fits the kernels' int arithmetic, and the per-channel bias-gradient
 * reduction shared by conv and tconv. No op logic lives here. */
#include "cl_ops.h"

#include <limits.h>

enum cu_status cu_cl_ops_run(struct cu_cl_backend *cb, const char *kname, size_t n, size_t local, int nargs,
                             const struct cu_cl_karg *args, struct cu_err *err)
{
    cl_kernel k;
    enum cu_status st = cu_cl_kernel(cb, kname, &k, err);
    if (st)
        return st;
    for (int i = 0; i < nargs; i++) {
        st = CU_CL(cb, clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value), kname, err);
        if (st)
            return st;
    }
    if (n == 0)
        return CU_OK; /* an empty range: nothing to do (OpenCL 1.2 rejects size 0) */
    if (local == CU_CL_WG) { /* any size works for these: shrink it if the device or kernel needs */
        size_t kmax = 0;
        if (clGetKernelWorkGroupInfo(k, cb->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax, NULL) ==
                CL_SUCCESS &&
            kmax > 0 && kmax < local)
            local = kmax;
    }
    return cu_cl_launch(cb, k, kname, 1, &n, &local, err);
}

enum cu_status cu_cl_ops_fits(const struct cu_cl_backend *cb, size_t count, const char *what, struct cu_err *err)
{
    if (count > (size_t)INT_MAX)
        return cu_fail(err, CU_EDEVICE, "%s: %s: %zu elements exceed the kernels' 32-bit indices", cb->caps.name,
                       what, count);
    return CU_OK;
}

enum cu_status cu_cl_ops_bias_grad(struct cu_cl_backend *cb, cl_mem db, cl_mem dy, int n, int c, int hw,
                                   struct cu_err *err)
{
    return CU_CL_RUN(cb, "cu_conv_bias_grad", (size_t)c * CU_RED_WG, CU_RED_WG, err, CU_KARG(db), CU_KARG(dy),
                     CU_KARG(n), CU_KARG(c), CU_KARG(hw));
}
