/* cl_ops_wino.c: the 3x3 convolutions of CPU devices as Winograd
 * (docs/cl-ops.md): the forward (bias and ReLU in the output transform),
 * the data gradient (the same convolution of dy with the weights
 * transposed and flipped, in dx's modes) and the weight gradient (from
 * the transformed inputs and transformed dy), each as F(4x4,3x3)
 * (cl/wino4.cl) or F(2x2,3x3) (cl/wino.cl). Four launches per chunk of
 * tiles: weights (once), input transform, the 16 or 36 GEMMs in one
 * launch, output transform. The transformed tiles live in the backend's
 * scratch buffer, at most CLUNET_WINO_BYTES at a time: the batch is cut
 * into chunks of tiles, not one huge buffer. Also here: the direct weight
 * gradient of 3x3 layers with few weights (cu_dw_direct), where neither
 * Winograd nor im2col pays.
 * Chosen by cl_ops_conv.c (cu_cl_wino_tile, cu_cl_wino_dw_use,
 * cu_cl_dw_direct_use): CPU devices (where the panel GEMM runs), k = 3,
 * and enough channels that the fewer multiplications outweigh the
 * transforms; CLUNET_NO_WINOGRAD=1 turns Winograd off,
 * CLUNET_WINOGRAD=all uses it for every 3x3 layer (tests, A/B),
 * CLUNET_WINO_TILE=2 keeps F(2x2,3x3) everywhere,
 * CLUNET_NO_DW_DIRECT=1 turns the direct dW off. Not here: k != 3, GPUs
 * (CLBlast). */
#include "cl_ops.h"

#include <stdlib.h>
#include <string.h>

/* The weight gradient's work-items each sum over the panels of a chunk,
 * then reduce across lanes: with fewer than ~32 panels that reduction
 * dominates (384 -> 128 at 16 x 16: 8 panels 1.4x the CPU time of 32). */
#define DW_MIN_PANELS 32
/* Where Winograd pays on a CPU (measured, docs/perf-winograd.md): both
 * channel counts at least WINO_MIN_C, and for the forward and the data
 * gradient also M x K >= WINO_MIN_MK: below (16 -> 16 at 128 x 128,
 * 16 -> 32 at 64 x 64, 48 -> 16 at 128 x 128) the GEMMs are too shallow
 * to outweigh writing and reading the transformed tiles: no faster than
 * the implicit GEMM. The weight gradient wins from 16 x 16 on (~1.5x less
 * CPU time than im2col + GEMM). */
#define WINO_MIN_C 16
#define WINO_MIN_MK 1024
/* The direct weight gradient (cu_dw_direct) re-reads x once per pair of
 * output channels and dy once per input channel: it beats im2col + GEMM
 * only where there are few weights (head 16 -> 2: 5x less CPU time, the
 * first layer 3 -> 16: 1.4x) and loses from 16 -> 16 on (1.3x more;
 * measured, docs/perf-winograd.md). */
#define DW_DIRECT_MAX_WEIGHTS 64 /* Cout x Cin */

/* The forward and the data gradient of layers at least WIDE_MIN_W wide
 * (a multiple of 32) with at most WIDE_MK_PER_W x W weights per tap run
 * faster as the 8 x 32 implicit convolution (cu_conv3_fwd_w32) than as
 * Winograd, whose transforms cost more per pixel while its GEMMs are
 * shallow (Intel Xeon, AVX-512; docs/PERFORMANCE.md): at S=128 c=0.5,
 * 32 -> 32 at 64 x 64 took 4.7 ms against 7.0; 96 -> 32 at 64 x 64 was
 * even forward and 6 ms slower backward (dx), so 2048 at W = 64; at c=1,
 * 96 -> 32 at 128 x 128 took 57 ms against 79, and 64 -> 64 at 64 x 64
 * 20.8 against Winograd's 19.8; at 32 x 32 the two were even. */
#define WIDE_MIN_W 64
#define WIDE_MK_PER_W 32

/* F(4x4,3x3) (wino4.cl) writes 2.25 transformed values per input pixel
 * where F(2x2) writes 4, and its GEMMs do 4x fewer multiplications than
 * the direct convolution where F(2x2)'s do 2.25x fewer. With at least
 * F4_MIN_M outputs and F4_MIN_K inputs it is the fastest path at every
 * width (Intel Xeon, AVX-512, docs/PERFORMANCE.md, CPU-ms: 96 -> 32 at
 * 128 x 128 78 forward against the 8 x 32 tile's 98-109, dx 70 against
 * 120; 192 -> 64 at 32 x 32 13-14 against F(2x2)'s 17; the dx of 48 -> 16,
 * 48 outputs from 16, at 256 x 256 103 against 119). With 16 outputs its
 * output transform is spread over too few channels (16 -> 16 at 256 x 256:
 * 63 against 38; 48 -> 16 forward: 117-119 against 106). Its vector paths
 * need 16 tiles side by side or whole 16- and 32-wide tile rows (f4_fits);
 * elsewhere (8 x 8 images) tile-by-tile transforms made it slower than
 * F(2x2) (256 -> 256 at 8 x 8: 8.4-9.2 CPU-ms against 5.8-7.0). */
#define F4_MIN_M 32
#define F4_MIN_K 16

static bool f4_fits(int h, int w)
{
    return w % 4 == 0 && h % 4 == 0 && (w % 64 == 0 || (w == 32 && h % 8 == 0) || (w == 16 && h % 16 == 0));
}

int cu_cl_wino_tile(const struct cu_cl_backend *cb, int k, int m, int kin, int h, int w)
{
    if (k != 3 || !cb->policy.gemm_panel || cb->policy.wino == CU_CL_WINO_OFF)
        return 0;
    if (cb->policy.wino == CU_CL_WINO_ALL)
        return cb->policy.wino_tile;
    if (cb->policy.wino_tile == 4 && m >= F4_MIN_M && kin >= F4_MIN_K && f4_fits(h, w))
        return 4;
    if (cb->policy.wide_tiles && w >= WIDE_MIN_W && w % 32 == 0 && m * kin <= WIDE_MK_PER_W * w)
        return 0;
    return m >= WINO_MIN_C && kin >= WINO_MIN_C && m * kin >= WINO_MIN_MK ? 2 : 0;
}

bool cu_cl_wino_dw_use(const struct cu_cl_backend *cb, int k, int m, int kin)
{
    if (k != 3 || !cb->policy.gemm_panel || cb->policy.wino == CU_CL_WINO_OFF)
        return false;
    return cb->policy.wino == CU_CL_WINO_ALL || (m >= WINO_MIN_C && kin >= WINO_MIN_C);
}

/* Floats rounded up to 16 (64-byte lines between the workspace's parts). */
static size_t line_up(size_t n) { return (n + 15) / 16 * 16; }

/* A Winograd pass over a batch: tiles of r x r outputs (r = 4: F(4x4),
 * else F(2x2); nxi = (r+2)^2 transformed elements each), T of them in
 * chunks of at most q panels of 16 tiles, and the scratch workspace ws:
 * the nxi x m x kin transformed weights (or weight gradient) at 0, then a
 * chunk's kin-channel slabs (V) at vo and its m-channel slabs (P or Y')
 * at po, each slab one cache line longer than its size (CU_WINO_SKEW). */
struct plan {
    int nxi, T, vo, po;
    size_t q;
    cl_mem ws;
};

/* The plan for n images of h x w, kin channels in, m out; chunks of at
 * least min_q panels, else as many as CLUNET_WINO_BYTES holds. T = 0:
 * nothing to do (no workspace). */
static enum cu_status plan_make(struct cu_cl_backend *cb, bool f4, int n, int kin, int m, int h, int w,
                                size_t min_q, const char *what, struct plan *p, struct cu_err *err)
{
    const int r = f4 ? 4 : 2;
    const size_t total = (size_t)n * (size_t)((h + r - 1) / r) * (size_t)((w + r - 1) / r);
    *p = (struct plan){.nxi = (r + 2) * (r + 2), .T = (int)total};
    enum cu_status st = cu_cl_ops_fits(cb, (size_t)n * (size_t)(kin > m ? kin : m) * h * w, what, err);
    if (st || total == 0)
        return st;
    const size_t per_panel = (size_t)16 * p->nxi * ((size_t)kin + (size_t)m), need = (total + 15) / 16;
    size_t q = cb->policy.wino_bytes / sizeof(float) / per_panel;
    q = q < min_q ? min_q : q;
    p->q = q > need ? need : q;
    const size_t uf = line_up((size_t)p->nxi * ((size_t)m * kin + CU_WINO_SKEW)),
                 vf = (size_t)16 * p->nxi * p->q * kin + (size_t)p->nxi * CU_WINO_SKEW,
                 all = uf + p->q * per_panel + (size_t)2 * p->nxi * CU_WINO_SKEW;
    p->vo = (int)uf;
    p->po = (int)(uf + vf);
    st = cu_cl_ops_fits(cb, all, what, err);
    return st ? st : cu_cl_scratch(cb, all * sizeof(float), &p->ws, err);
}

enum cu_status cu_cl_wino_conv(struct cu_cl_backend *cb, const struct cu_cl_wino *c, struct cu_err *err)
{
    struct plan p;
    const bool f4 = cu_cl_wino_tile(cb, 3, c->m, c->kin, c->h, c->w) == 4;
    enum cu_status st = plan_make(cb, f4, c->n, c->kin, c->m, c->h, c->w, 1, c->what, &p, err);
    if (st || p.T == 0)
        return st;
    const int uo = 0, panel_major = 0;
    const int two = cb->policy.wide_tiles; /* panels a GEMM work-item: 16 accumulators or 8 */
    const size_t rows = (size_t)(c->m + CU_WINO_TM - 1) / CU_WINO_TM; /* row tiles of the GEMM */
    st = CU_CL_RUN(cb, f4 ? "cu_wino4_weights" : "cu_wino_weights", (size_t)c->m * c->kin, CU_CL_WG, err,
                   CU_KARG(p.ws), CU_KARG(uo), CU_KARG(c->wt), CU_KARG(c->m), CU_KARG(c->kin), CU_KARG(c->flip));
    for (size_t t0 = 0; !st && t0 < (size_t)p.T; t0 += 16 * p.q) {
        const size_t left = ((size_t)p.T - t0 + 15) / 16;
        const int Q = (int)(left < p.q ? left : p.q), first = (int)t0;
        st = CU_CL_RUN(cb, f4 ? "cu_wino4_input" : "cu_wino_input", (size_t)Q * c->kin, CU_CL_WG, err,
                       CU_KARG(p.ws), CU_KARG(p.vo), CU_KARG(c->x), CU_KARG(c->x2), CU_KARG(c->ka), CU_KARG(c->kin),
                       CU_KARG(c->h), CU_KARG(c->w), CU_KARG(first), CU_KARG(p.T), CU_KARG(Q), CU_KARG(panel_major));
        if (!st)
            st = CU_CL_RUN(cb, "cu_wino_gemm", rows * (size_t)(Q + two) / (size_t)(1 + two) * (size_t)p.nxi,
                           CU_CL_WG_TILE, err, CU_KARG(p.ws), CU_KARG(p.po), CU_KARG(p.ws), CU_KARG(uo),
                           CU_KARG(p.ws), CU_KARG(p.vo), CU_KARG(c->m), CU_KARG(c->kin), CU_KARG(Q), CU_KARG(two),
                           CU_KARG(p.nxi));
        if (!st)
            st = CU_CL_RUN(cb, f4 ? "cu_wino4_output" : "cu_wino_output", (size_t)Q * c->m, CU_CL_WG, err,
                           CU_KARG(c->y), CU_KARG(c->y2), CU_KARG(c->ma), CU_KARG(c->xm), CU_KARG(c->xm2),
                           CU_KARG(p.ws), CU_KARG(p.po), CU_KARG(c->b), CU_KARG(c->m), CU_KARG(c->h), CU_KARG(c->w),
                           CU_KARG(first), CU_KARG(p.T), CU_KARG(Q), CU_KARG(c->relu), CU_KARG(c->mode));
    }
    return st;
}

enum cu_status cu_cl_wino_dw(struct cu_cl_backend *cb, cl_mem dw, cl_mem dy, cl_mem x, cl_mem x2, int ka, int n,
                             int kin, int m, int h, int w, const char *what, struct cu_err *err)
{
    struct plan p;
    const bool f4 = cb->policy.wino_tile == 4 && (cb->policy.wino == CU_CL_WINO_ALL || f4_fits(h, w));
    enum cu_status st = plan_make(cb, f4, n, kin, m, h, w, DW_MIN_PANELS, what, &p, err);
    if (st || p.T == 0)
        return st;
    /* channel-major V and Y' ([xi][channel][panel][16]): each work-item of
     * cu_wino_dw_gemm streams its 4 + 4 channels along contiguous memory */
    const int dof = 0, kmajor = 1;
    for (size_t t0 = 0; !st && t0 < (size_t)p.T; t0 += 16 * p.q) {
        const size_t left = ((size_t)p.T - t0 + 15) / 16;
        const int Q = (int)(left < p.q ? left : p.q), first = (int)t0, acc = t0 > 0;
        st = CU_CL_RUN(cb, f4 ? "cu_wino4_input" : "cu_wino_input", (size_t)Q * kin, CU_CL_WG, err, CU_KARG(p.ws),
                       CU_KARG(p.vo), CU_KARG(x), CU_KARG(x2), CU_KARG(ka), CU_KARG(kin), CU_KARG(h), CU_KARG(w),
                       CU_KARG(first), CU_KARG(p.T), CU_KARG(Q), CU_KARG(kmajor));
        if (!st)
            st = CU_CL_RUN(cb, f4 ? "cu_wino4_dy" : "cu_wino_dy", (size_t)Q * m, CU_CL_WG, err, CU_KARG(p.ws),
                           CU_KARG(p.po), CU_KARG(dy), CU_KARG(m), CU_KARG(h), CU_KARG(w), CU_KARG(first),
                           CU_KARG(p.T), CU_KARG(Q));
        if (!st)
            st = CU_CL_RUN(cb, "cu_wino_dw_gemm", (size_t)(kin + 3) / 4 * (size_t)((m + 3) / 4) * (size_t)p.nxi,
                           CU_CL_WG_TILE, err, CU_KARG(p.ws), CU_KARG(dof), CU_KARG(p.ws), CU_KARG(p.vo),
                           CU_KARG(p.ws), CU_KARG(p.po), CU_KARG(m), CU_KARG(kin), CU_KARG(Q), CU_KARG(acc),
                           CU_KARG(p.nxi));
    }
    if (!st)
        st = CU_CL_RUN(cb, f4 ? "cu_wino4_dw_out" : "cu_wino_dw_out", (size_t)m * kin, CU_CL_WG, err, CU_KARG(dw),
                       CU_KARG(p.ws), CU_KARG(dof), CU_KARG(m), CU_KARG(kin));
    return st;
}

/* The direct weight gradient: cu_dw3_rows where W % 16 == 0 (vector loads
 * only: 3 -> 16 at 128 x 128 took 4.2 CPU-ms against cu_dw_direct's 7.9,
 * 16 -> 2 3.4 against 5.4), else cu_dw_direct.
 * Output rows per chunk of cu_dw_direct: about DW_CHUNK_PIXELS pixels, so
 * that a chunk's rows of x and dy stay in the cache while its work-items
 * read them, and there are enough chunks for every core. */
#define DW_CHUNK_PIXELS 2048

bool cu_cl_dw_direct_use(const struct cu_cl_backend *cb, int k, int m, int kin)
{
    if (k != 3 || !cb->policy.gemm_panel || !cb->policy.dw_direct)
        return false;
    if (cu_cl_wino_dw_use(cb, k, m, kin))
        return false;
    return m * kin <= DW_DIRECT_MAX_WEIGHTS;
}

enum cu_status cu_cl_dw_direct(struct cu_cl_backend *cb, cl_mem dw, cl_mem dy, cl_mem x, cl_mem x2, int ka, int n,
                               int kin, int m, int h, int w, const char *what, struct cu_err *err)
{
    if (n <= 0 || h <= 0 || w <= 0)
        return CU_OK; /* an empty batch adds nothing */
    int rows = DW_CHUNK_PIXELS / w;
    rows = rows < 1 ? 1 : rows > h ? h : rows;
    const int blocks = (h + rows - 1) / rows, chunks = n * blocks, nw = m * kin * 9;
    const size_t floats = (size_t)chunks * (size_t)nw;
    enum cu_status st = cu_cl_ops_fits(cb, (size_t)n * (size_t)(kin > m ? kin : m) * h * w, what, err);
    if (!st)
        st = cu_cl_ops_fits(cb, floats, what, err);
    cl_mem ws = NULL;
    if (!st)
        st = cu_cl_scratch(cb, floats * sizeof(float), &ws, err);
    if (!st)
        st = CU_CL_RUN(cb, w % 16 == 0 ? "cu_dw3_rows" : "cu_dw_direct",
                       (size_t)(w % 16 == 0 ? m : (m + 1) / 2) * (size_t)kin * (size_t)chunks, CU_CL_WG_TILE, err,
                       CU_KARG(ws), CU_KARG(dy), CU_KARG(x), CU_KARG(x2), CU_KARG(ka), CU_KARG(n), CU_KARG(kin),
                       CU_KARG(m), CU_KARG(h), CU_KARG(w), CU_KARG(rows));
    if (!st)
        st = CU_CL_RUN(cb, "cu_dw_direct_sum", (size_t)nw, CU_CL_WG, err, CU_KARG(dw), CU_KARG(ws), CU_KARG(nw),
                       CU_KARG(chunks));
    return st;
}
