/* cl_gemm.c: the single-precision GEMM behind every convolution of the cl
 * backend, row-major on cl_mem with offsets. All GEMM calls of clunet come
 * through cu_cl_gemm, which picks one of two implementations per device:
 *   - CLBlast's C API (CLBlastSgemm), for GPUs and other devices: tuned
 *     GPU kernels; CLBlast compiles them on the first call in a process;
 *     the padded copies of its indirect kernel go into the caller's
 *     workspace (CLBlastSgemmWithTempBuffer), not a buffer per call;
 *   - the panel GEMM of cl/gemm.cl, for CPU devices (PoCL), where CLBlast's
 *     GPU-shaped kernels reach only 5-14 GFLOP/s (issue 10): the smaller
 *     operand is packed into 16-column panels in a workspace the caller
 *     reserves (cu_cl_gemm_ws), then register-tiled work-items do the rest.
 * CLUNET_GEMM=clblast|panel overrides the choice (tests run both). Not
 * here: batching over images (the ops loop), tuning. */
#include "cl_ops.h"

#include <clblast_c.h>
#include <stdlib.h>
#include <string.h>

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

/* The panel kernel's tile (cl_consts.h, passed to gemm.cl as -D). */
#define PANEL CU_GEMM_TN
#define TILE_M CU_GEMM_TM

static bool use_panel(const struct cu_cl_backend *cb) { return cb->policy.gemm_panel; }

bool cu_cl_gemm_panels(const struct cu_cl_backend *cb) { return use_panel(cb); }

/* The panel kernel streams its A operand as scalars: fast when A is read
 * along k contiguously (stride 1) or small enough to stay in cache; a
 * strided walk over a large A (e.g. an im2col matrix read across its rows)
 * misses cache on every k and runs 3x slower. A is A itself when B is
 * packed, B^T when A is packed (C^T = B^T A^T): pick the orientation whose
 * A streams well, then the smaller pack. sak: A's stride along k; sbk:
 * B's stride along k. */
#define SMALL_A 65536 /* floats: 256 KiB, a CPU's L2 */
static bool transpose_pays(int m, int n, int k, int sak, int sbk)
{
    bool a_good = sak == 1 || (size_t)m * (size_t)k <= SMALL_A;
    bool bt_good = sbk == 1 || (size_t)n * (size_t)k <= SMALL_A;
    if (a_good != bt_good)
        return bt_good;
    return m < n; /* both alike: pack the smaller operand */
}

/* Whether the panel path packs A (and computes C^T) for this product. */
static bool packs_a(bool trans_a, bool trans_b, int m, int n, int k, int lda, int ldb)
{
    return transpose_pays(m, n, k, trans_a ? lda : 1, trans_b ? 1 : ldb);
}

/* Bytes of CLBlast's temporary buffer for this product at worst (non-zero
 * offsets force every padded copy; its size does not depend on them), so
 * that one workspace fits every call of a layer; 0 for its direct kernel. */
static size_t clblast_temp_bytes(const struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k,
                                 int lda, int ldb)
{
    cl_command_queue queue = cb->queue;
    size_t bytes = 0;
    if (CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                   trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n,
                                   (size_t)k, 1, (size_t)lda, 1, (size_t)ldb, 1, (size_t)n, &queue,
                                   &bytes) != CLBlastSuccess)
        return 0; /* CLBlast then allocates its own, as without a workspace */
    return bytes;
}

static size_t base_align(const struct cu_cl_backend *cb) { return cb->policy.base_align; }

size_t cu_cl_gemm_ws(const struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k, int lda,
                     int ldb)
{
    if (m <= 0 || n <= 0 || k <= 0)
        return 0;
    if (!use_panel(cb)) {
        size_t bytes = clblast_temp_bytes(cb, trans_a, trans_b, m, n, k, lda, ldb);
        return bytes ? (bytes + base_align(cb)) / sizeof(float) + 1 : 0;
    }
    size_t packed = (size_t)(packs_a(trans_a, trans_b, m, n, k, lda, ldb) ? m : n);
    return (packed + PANEL - 1) / PANEL * PANEL * (size_t)k;
}

static enum cu_status clblast_fail(const struct cu_cl_backend *cb, CLBlastStatusCode s, bool trans_a, bool trans_b,
                                   int m, int n, int k, const char *what, struct cu_err *err)
{
    const char *name = clblast_name(s);
    if (!name && s < 0 && s > -1000)
        name = cu_cl_strerror((cl_int)s);
    return cu_fail(err, CU_EDEVICE, "%s: CLBlastSgemm(%s, %dx%dx%d%s%s): %s (%d)", cb->caps.name, what, m, n, k,
                   trans_a ? ", A^T" : "", trans_b ? ", B^T" : "", name ? name : "unknown error", (int)s);
}

/* CLBlast's GEMM. Its indirect kernel needs padded copies of the operands;
 * left alone it allocates a buffer for them on every call, so when the
 * caller reserved a workspace (cu_cl_gemm_ws) the copies go into a
 * sub-buffer of it instead: creating one allocates no device memory. */
static enum cu_status clblast_gemm(struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k,
                                   float alpha, cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off, int ldb,
                                   float beta, cl_mem c, size_t c_off, int ldc, cl_mem ws, size_t ws_off,
                                   const char *what, struct cu_err *err)
{
    const CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t temp = ws ? clblast_temp_bytes(cb, trans_a, trans_b, m, n, k, lda, ldb) : 0;
    if (!temp) {
        CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, (size_t)m, (size_t)n, (size_t)k, alpha, a,
                                           a_off, (size_t)lda, b, b_off, (size_t)ldb, beta, c, c_off, (size_t)ldc,
                                           &cb->queue, NULL);
        return s == CLBlastSuccess ? CU_OK : clblast_fail(cb, s, trans_a, trans_b, m, n, k, what, err);
    }
    const size_t align = base_align(cb);
    cl_buffer_region region = {(ws_off * sizeof(float) + align - 1) / align * align, temp};
    cl_int rc;
    cl_mem sub = clCreateSubBuffer(ws, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
    enum cu_status st = cu_cl_check(cb, rc, "clCreateSubBuffer", what, err);
    if (st)
        return st;
    CLBlastStatusCode s = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, (size_t)m, (size_t)n, (size_t)k,
                                                     alpha, a, a_off, (size_t)lda, b, b_off, (size_t)ldb, beta, c,
                                                     c_off, (size_t)ldc, &cb->queue, NULL, sub);
    clReleaseMemObject(sub); /* freed once the enqueued kernels are done with it */
    return s == CLBlastSuccess ? CU_OK : clblast_fail(cb, s, trans_a, trans_b, m, n, k, what, err);
}

/* One operand of the panel GEMM: buffer, offset and the element strides
 * along its two dimensions (rows, columns of the operand as used). */
struct strided {
    cl_mem buf;
    int off, s0, s1;
};

/* C (m x n; c.s0, c.s1) = alpha A (m x k) P + beta C, P the panels of
 * B (k x n) packed into ws. */
static enum cu_status panel_gemm(struct cu_cl_backend *cb, int m, int n, int k, float alpha, struct strided a,
                                 struct strided b, float beta, struct strided c, cl_mem ws, int wo,
                                 struct cu_err *err)
{
    const size_t lines = (size_t)(n + PANEL - 1) / PANEL * (size_t)k;
    enum cu_status st = CU_CL_RUN(cb, "cu_gemm_pack", lines, CU_CL_WG, err, CU_KARG(ws), CU_KARG(wo), CU_KARG(b.buf),
                                  CU_KARG(b.off), CU_KARG(b.s0), CU_KARG(b.s1), CU_KARG(k), CU_KARG(n));
    if (st)
        return st;
    const size_t tiles = (size_t)(m + TILE_M - 1) / TILE_M * (size_t)((n + PANEL - 1) / PANEL);
    return CU_CL_RUN(cb, "cu_gemm_panel", tiles, CU_CL_WG_TILE, err, CU_KARG(m), CU_KARG(n), CU_KARG(k),
                     CU_KARG(alpha), CU_KARG(a.buf), CU_KARG(a.off), CU_KARG(a.s0), CU_KARG(a.s1), CU_KARG(ws),
                     CU_KARG(wo), CU_KARG(beta), CU_KARG(c.buf), CU_KARG(c.off), CU_KARG(c.s0), CU_KARG(c.s1));
}

enum cu_status cu_cl_gemm(struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                          cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
                          size_t c_off, int ldc, cl_mem ws, size_t ws_off, const char *what, struct cu_err *err)
{
    if (m <= 0 || n <= 0)
        return CU_OK;
    if (k <= 0) /* C = beta C: CLBlast rejects k = 0; the ops never ask for it */
        return cu_fail(err, CU_EDEVICE, "%s: GEMM for %s with k = 0", cb->caps.name, what);
    if (!use_panel(cb))
        return clblast_gemm(cb, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc,
                            ws, ws_off, what, err);
    if (!ws)
        return cu_fail(err, CU_EDEVICE, "%s: GEMM for %s without its workspace", cb->caps.name, what);
    size_t big = a_off > b_off ? a_off : b_off;
    big = big > c_off ? big : c_off;
    big = big > ws_off ? big : ws_off;
    enum cu_status st = cu_cl_ops_fits(cb, big, what, err);
    if (st)
        return st;
    struct strided sa = {a, (int)a_off, trans_a ? 1 : lda, trans_a ? lda : 1}; /* A(i,l) */
    struct strided sb = {b, (int)b_off, trans_b ? 1 : ldb, trans_b ? ldb : 1}; /* B(l,j) */
    struct strided sc = {c, (int)c_off, ldc, 1};
    if (!packs_a(trans_a, trans_b, m, n, k, lda, ldb))
        return panel_gemm(cb, m, n, k, alpha, sa, sb, beta, sc, ws, (int)ws_off, err);
    /* pack A: C^T (n x m) = B^T A^T */
    struct strided bt = {b, (int)b_off, sb.s1, sb.s0}, at = {a, (int)a_off, sa.s1, sa.s0};
    struct strided ct = {c, (int)c_off, 1, ldc};
    return panel_gemm(cb, n, m, k, alpha, bt, at, beta, ct, ws, (int)ws_off, err);
}

enum cu_status cu_cl_gemm_packed(struct cu_cl_backend *cb, int m, int n, int k, float alpha, cl_mem a,
                                 size_t a_off, int lda, cl_mem bp, size_t bp_off, float beta, cl_mem c,
                                 size_t c_off, int ldc, const char *what, struct cu_err *err)
{
    size_t big = a_off > bp_off ? a_off : bp_off;
    enum cu_status st = cu_cl_ops_fits(cb, big > c_off ? big : c_off, what, err);
    if (st || m <= 0 || n <= 0)
        return st;
    const int ao = (int)a_off, bo = (int)bp_off, co = (int)c_off, one = 1;
    const size_t tiles = (size_t)(m + TILE_M - 1) / TILE_M * (size_t)((n + PANEL - 1) / PANEL);
    return CU_CL_RUN(cb, "cu_gemm_panel", tiles, CU_CL_WG_TILE, err, CU_KARG(m), CU_KARG(n), CU_KARG(k), CU_KARG(alpha),
                     CU_KARG(a), CU_KARG(ao), CU_KARG(lda), CU_KARG(one), CU_KARG(bp), CU_KARG(bo), CU_KARG(beta),
                     CU_KARG(c), CU_KARG(co), CU_KARG(ldc), CU_KARG(one));
}
