/* cl_gemm.c: the single-precision GEMM behind every convolution of the cl
 * backend, row-major on cl_mem with offsets, through CLBlast's C API. All
 * GEMM calls of clunet come through cu_cl_gemm, so a faster kernel for one
 * kind of device (a CPU-shaped GEMM for PoCL, issue 10) can replace CLBlast
 * here without touching the ops. Not here: batching over images (the ops
 * loop), tuning. CLBlast compiles its kernels on the first call in a
 * process (seconds on PoCL with a cold kernel cache). */
#include "cl_ops.h"

#include <clblast_c.h>

/* CLBlast's own status codes (OpenCL's negative codes pass through). */
static const char *clblast_name(CLBlastStatusCode s)
{
    switch (s) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalThreadsTotal: return "CLBlastInvalidLocalThreadsTotal";
    case CLBlastInvalidLocalThreadsDim: return "CLBlastInvalidLocalThreadsDim";
    case CLBlastInvalidGlobalOffset: return "CLBlastInvalidGlobalOffset";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return NULL;
    }
}

enum cu_status cu_cl_gemm(struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                          cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
                          size_t c_off, int ldc, const char *what, struct cu_err *err)
{
    if (m <= 0 || n <= 0)
        return CU_OK;
    if (k <= 0) /* C = beta C: CLBlast rejects k = 0; the ops never ask for it */
        return cu_fail(err, CU_EDEVICE, "%s: GEMM for %s with k = 0", cb->caps.name, what);
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n,
                                       (size_t)k, alpha, a, a_off, (size_t)lda, b, b_off, (size_t)ldb, beta, c,
                                       c_off, (size_t)ldc, &cb->queue, NULL);
    if (s == CLBlastSuccess)
        return CU_OK;
    const char *name = clblast_name(s);
    if (!name && s < 0 && s > -1000)
        name = cu_cl_strerror((cl_int)s);
    return cu_fail(err, CU_EDEVICE, "%s: CLBlastSgemm(%s, %dx%dx%d%s%s): %s (%d)", cb->caps.name, what, m, n, k,
                   trans_a ? ", A^T" : "", trans_b ? ", B^T" : "", name ? name : "unknown error", (int)s);
}
