/* cl_public.c: include/clunet/cl.h over the backend's internals. */
#include "clunet/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_ops.h"

enum cu_status cu_device_list(struct cu_device_info **out, int *count, const char **why, struct cu_err *err)
{
    struct cu_cl_device_info *devs = NULL;
    int n = 0;
    *out = NULL;
    *count = 0;
    CU_TRY(cu_cl_devices(&devs, &n, why, err));
    struct cu_device_info *pub = calloc(n > 0 ? (size_t)n : 1, sizeof *pub);
    if (!pub) {
        free(devs);
        return cu_fail(err, CU_EDEVICE, "devices: out of host memory");
    }
    for (int i = 0; i < n; i++)
        pub[i] = devs[i].pub;
    free(devs);
    *out = pub;
    *count = n;
    return CU_OK;
}

int cu_cl_report(const struct cu_backend *be, struct cu_cl_report *out)
{
    memset(out, 0, sizeof *out);
    if (cu_backend_kind(be) != CU_BACKEND_CL)
        return 0;
    const struct cu_cl_backend *cb = (const struct cu_cl_backend *)be;
    snprintf(out->id, sizeof out->id, "%s", cb->id);
    snprintf(out->name, sizeof out->name, "%s", cb->caps.name);
    snprintf(out->platform, sizeof out->platform, "%s", cb->platform_name);
    out->programs = cb->nprograms;
    out->build_seconds = cb->build_seconds;
    out->cache_on = cb->use_cache;
    snprintf(out->cache_dir, sizeof out->cache_dir, "%s", cb->cache_dir);
    out->cache_hits = cb->cache_hits;
    out->cache_misses = cb->cache_misses;
    out->cache_rejected = cb->cache_rejected;
    snprintf(out->cache_note, sizeof out->cache_note, "%s", cb->cache_note);
    snprintf(out->options, sizeof out->options, "%s", cb->options);
    snprintf(out->gemm, sizeof out->gemm, "%s", cb->policy.gemm_panel ? "panel" : "clblast");
    out->winograd = (int)cb->policy.wino;
    out->wino_tile = cb->policy.wino_tile;
    out->dw_direct = cb->policy.dw_direct;
    out->vector_width = cb->policy.vector_width;
    out->wide_tiles = cb->policy.wide_tiles;
    out->max_work_group = cb->policy.max_wg;
    out->local_mem = cb->policy.local_mem;
    out->workspace_bytes = cb->scratch_bytes;
    return 1;
}

enum cu_status cu_cl_set_gemm(struct cu_backend *be, const char *impl, struct cu_err *err)
{
    if (cu_backend_kind(be) != CU_BACKEND_CL)
        return cu_fail(err, CU_EUSAGE, "%s backend: no OpenCL GEMM to choose", cu_backend_name(be));
    if (!impl || (strcmp(impl, "panel") && strcmp(impl, "clblast")))
        return cu_fail(err, CU_EUSAGE, "GEMM %s: expected panel or clblast", impl ? impl : "(none)");
    cu_cl(be)->policy.gemm_panel = !strcmp(impl, "panel"); /* Winograd and the direct dW follow it */
    return CU_OK;
}

size_t cu_cl_gemm_workspace(struct cu_backend *be, int trans_a, int trans_b, int m, int n, int k, int lda, int ldb)
{
    if (cu_backend_kind(be) != CU_BACKEND_CL)
        return 0;
    return cu_cl_gemm_ws(cu_cl(be), trans_a != 0, trans_b != 0, m, n, k, lda, ldb);
}

enum cu_status cu_cl_gemm_run(struct cu_backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                              const struct cu_tensor *a, int lda, const struct cu_tensor *b, int ldb, float beta,
                              struct cu_tensor *c, struct cu_tensor *ws, const char *what, struct cu_err *err)
{
    if (cu_backend_kind(be) != CU_BACKEND_CL)
        return cu_fail(err, CU_EUSAGE, "%s backend: no OpenCL GEMM", cu_backend_name(be));
    const struct cu_tensor *all[4] = {a, b, c, ws};
    for (int i = 0; i < 4; i++)
        if (all[i] && (all[i]->be != be || all[i]->dtype != CU_F32))
            return cu_fail(err, CU_EUSAGE, "GEMM %s: tensor %s is not a float32 tensor of this device", what,
                           all[i]->name);
    const size_t need_a = (size_t)(trans_a ? k : m) * (size_t)lda, need_b = (size_t)(trans_b ? n : k) * (size_t)ldb;
    const size_t need_ws = cu_cl_gemm_workspace(be, trans_a, trans_b, m, n, k, lda, ldb);
    if (!a || !b || !c || cu_tensor_numel(a) < need_a || cu_tensor_numel(b) < need_b ||
        cu_tensor_numel(c) < (size_t)m * (size_t)n || (need_ws && (!ws || cu_tensor_numel(ws) < need_ws)))
        return cu_fail(err, CU_EUSAGE, "GEMM %s: a tensor is smaller than the %dx%dx%d product needs", what, m, n, k);
    return cu_cl_gemm(cu_cl(be), trans_a != 0, trans_b != 0, m, n, k, alpha, cu_cl_mem(a), 0, lda, cu_cl_mem(b), 0,
                      ldb, beta, cu_cl_mem(c), 0, n, ws ? cu_cl_mem(ws) : NULL, 0, what, err);
}
