/* gemm.cl: a GEMM shaped for CPUs running OpenCL (PoCL), used instead of
 * CLBlast on CPU devices (src/cl/cl_gemm.c chooses). CLBlast's kernels are
 * written for GPUs (local memory tiles, many small work-items) and reach
 * 5-14 GFLOP/s on PoCL; here each work-item keeps an 8 x 16 tile of C in
 * eight float16 accumulators (registers), streams one operand as scalars
 * and reads the other from 16-column panels, so every vector load is one
 * contiguous 64-byte line:
 *   cu_gemm_pack   Bp[q][k][j] = B(k, 16q + j)   (zero past N)
 *   cu_gemm_panel  C = alpha A Bp + beta C       (beta = 0: C is not read)
 * A, B and C are addressed by element strides (A(m,k) = a[ao + m*sam +
 * k*sak], and so on), so one kernel serves every transposition; the host
 * packs whichever operand is smaller and, if that is A, computes C^T.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* CU_GEMM_TM (rows of C per work-item) and CU_GEMM_TN (columns: one
 * panel) come from the build options (src/cl/cl_consts.h); the unrolled
 * rows and float16 panels below fix them. */
#if CU_GEMM_TM != 8 || CU_GEMM_TN != 16
#error "gemm.cl needs CU_GEMM_TM 8 and CU_GEMM_TN 16 from the build options (src/cl/cl_consts.h)"
#endif

/* Ranges are 1-D with a fixed work-group size (PoCL compiles a kernel once
 * per work-group size); a work-item splits its index itself. */

/* One 16-float line of Bp per work-item: range K * ceil(N/16) = (k, q). */
__kernel void cu_gemm_pack(__global float *bp, const int bpo, __global const float *b, const int bo,
                           const int sbk, const int sbn, const int K, const int N)
{
    const int panels = (N + CU_GEMM_TN - 1) / CU_GEMM_TN, g = get_global_id(0);
    if (g >= K * panels)
        return;
    const int k = g % K, q = g / K;
    __global const float *src = b + bo + k * sbk;
    __global float *dst = bp + bpo + (q * K + k) * CU_GEMM_TN;
    for (int j = 0, col = q * CU_GEMM_TN; j < CU_GEMM_TN; j++, col++)
        dst[j] = col < N ? src[col * sbn] : 0.0f;
}

/* Row m0 + i of the tile into C: alpha v + beta C over the n valid columns. */
static void store_row(__global float *c, const int off, const int scn, const int n, const float alpha,
                      const float beta, const float16 v)
{
    if (n == CU_GEMM_TN && scn == 1) {
        float16 r = alpha * v;
        if (beta != 0.0f)
            r += beta * vload16(0, c + off);
        vstore16(r, 0, c + off);
        return;
    }
    float t[CU_GEMM_TN];
    vstore16(v, 0, t);
    for (int j = 0; j < n; j++) {
        float r = alpha * t[j];
        if (beta != 0.0f)
            r += beta * c[off + j * scn];
        c[off + j * scn] = r;
    }
}

#define CU_GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* Range ceil(M/8) * ceil(N/16) = (row tile, panel). */
__kernel void cu_gemm_panel(const int M, const int N, const int K, const float alpha, __global const float *a,
                            const int ao, const int sam, const int sak, __global const float *bp, const int bpo,
                            const float beta, __global float *c, const int co, const int scm, const int scn)
{
    const int tiles = (M + CU_GEMM_TM - 1) / CU_GEMM_TM, g = get_global_id(0);
    if (g >= tiles * ((N + CU_GEMM_TN - 1) / CU_GEMM_TN))
        return;
    const int m0 = g % tiles * CU_GEMM_TM, q = g / tiles;
    /* rows past M read row M-1 (valid memory) and are not stored */
#define CU_DECL(i)                                                                                                \
    __global const float *a##i = a + ao + min(m0 + i, M - 1) * sam;                                              \
    float16 c##i = (float16)(0.0f);
    CU_GEMM_ROWS(CU_DECL)
#undef CU_DECL
    __global const float *b = bp + bpo + q * K * CU_GEMM_TN;
    for (int k = 0, ka = 0; k < K; k++, ka += sak) {
        const float16 bv = vload16(k, b);
#define CU_MAD(i) c##i = fma((float16)(a##i[ka]), bv, c##i);
        CU_GEMM_ROWS(CU_MAD)
#undef CU_MAD
    }
    const int n = min(CU_GEMM_TN, N - q * CU_GEMM_TN);
#define CU_STORE(i)                                                                                               \
    if (m0 + i < M)                                                                                               \
        store_row(c, co + (m0 + i) * scm + q * CU_GEMM_TN * scn, scn, n, alpha, beta, c##i);
    CU_GEMM_ROWS(CU_STORE)
#undef CU_STORE
}
