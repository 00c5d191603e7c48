/* conv.cl: the helpers around the convolution GEMMs (src/cl/cl_ops_conv.c):
 * im2col over a band of output rows (plain, or in the panel GEMM's layout),
 * its adjoint col2im (a gather that ADDS
 * into dx, no atomics), the bias(+ReLU) epilogue, and the per-channel sum
 * that gives the bias gradient. The GEMMs themselves are not here
 * (src/cl/cl_gemm.c). Stride 1, 'same' zero padding p = k/2, odd k, NCHW.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* Every kernel here runs over a 1-D range with a fixed work-group size
 * (src/cl/cl_ops_run.c): PoCL compiles a kernel once per work-group size,
 * so shape-dependent sizes would recompile it for every layer. A work-item
 * splits its index into (i0, i1, i2) itself, once per run of work. */

#ifndef CU_RED_WG
#error "CU_RED_WG comes from the build options (src/cl/cl_consts.h)"
#endif

/* Each work-item of im2col fills one row of one band row (a run of W
 * columns), so the index arithmetic (divisions) happens once per run, not
 * per element: on CPU OpenCL (PoCL) a division per element costs more than
 * the memory traffic. */

/* Source row and column shift of im2col row r at band row oy; iy < 0 or
 * >= H means an all-zero run. */
static void im2col_src(const int r, const int k, const int r0, const int oy, int *ci, int *iy, int *sx)
{
    const int kx = r % k, ky = (r / k) % k;
    *ci = r / (k * k);
    *iy = r0 + oy + ky - k / 2;
    *sx = kx - k / 2;
}

/* One image x (C,H,W) at x + xo, output rows [r0, r0+rows):
 *   col[r][j] = x[ci][oy+ky-p][ox+kx-p] (0 outside the image),
 *   r = (ci*k + ky)*k + kx, j = (oy-r0)*W + ox.
 * Range: rows*C*k*k = (oy - r0, r); each work-item all ox. */
__kernel void cu_conv_im2col(__global float *col, __global const float *x, const int xo, const int C,
                             const int H, const int W, const int k, const int r0, const int rows)
{
    const int g = get_global_id(0);
    if (g >= rows * C * k * k)
        return;
    const int oy = g % rows, r = g / rows;
    int ci, iy, sx;
    im2col_src(r, k, r0, oy, &ci, &iy, &sx);
    __global float *out = col + (r * rows + oy) * W;
    if (iy < 0 || iy >= H) {
        for (int ox = 0; ox < W; ox++)
            out[ox] = 0.0f;
        return;
    }
    __global const float *in = x + xo + (ci * H + iy) * W + sx;
    for (int ox = 0; ox < W; ox++)
        out[ox] = ox + sx >= 0 && ox + sx < W ? in[ox] : 0.0f;
}

/* The same matrix in the 16-column panels of the panel GEMM (gemm.cl):
 * col[((j/16)*C*k*k + r)*16 + j%16]; the work-item of the last band row
 * also zeroes the columns from rows*W up to the next multiple of 16.
 * Range: C*k*k*rows = (r, oy - r0); each work-item all ox. */
__kernel void cu_conv_im2col_panel(__global float *col, __global const float *x, const int xo, const int C,
                                   const int H, const int W, const int k, const int r0, const int rows)
{
    const int g = get_global_id(0), kk = C * k * k;
    if (g >= kk * rows)
        return;
    const int r = g % kk, oy = g / kk;
    int ci, iy, sx;
    im2col_src(r, k, r0, oy, &ci, &iy, &sx);
    const bool inside = iy >= 0 && iy < H;
    __global const float *in = x + xo + (ci * H + (inside ? iy : 0)) * W + sx;
    int j = oy * W, t = j & 15;
    __global float *out = col + ((j >> 4) * kk + r) * 16;
    for (int ox = 0; ox < W; ox++) {
        out[t] = inside && ox + sx >= 0 && ox + sx < W ? in[ox] : 0.0f;
        if (++t == 16) {
            t = 0;
            out += kk * 16;
        }
    }
    if (oy == rows - 1)
        for (; t != 0 && t < 16; t++)
            out[t] = 0.0f;
}

/* The adjoint of cu_conv_im2col for the same band, as a gather per input
 * pixel: dx[ci][iy][ix] += sum of col[r][j] over the (ky,kx) whose output
 * position (iy-ky+p, ix-kx+p) lies in the band and the image. Input rows
 * touched by the band: [max(0, r0-p), min(H, r0+rows+p)) = [y0, y0+span).
 * Range: ceil(W/16)*span*C = (run of 16 ix, iy - y0, ci). Bands are
 * enqueued in order, so two bands adding into the same dx row never race. */
__kernel void cu_conv_col2im(__global float *dx, const int xo, __global const float *col, const int C,
                             const int H, const int W, const int k, const int r0, const int rows)
{
    const int p = k / 2;
    const int y0 = max(0, r0 - p);
    const int span = min(H, r0 + rows + p) - y0;
    const int runs = (W + 15) / 16, g = get_global_id(0);
    if (g >= runs * span * C)
        return;
    const int x0 = g % runs * 16, iy = y0 + g / runs % span, ci = g / (runs * span);
    const int ncol = rows * W;
    for (int ix = x0; ix < min(x0 + 16, W); ix++) {
        float acc = 0.0f;
        for (int ky = 0; ky < k; ky++) {
            const int oy = iy - ky + p;
            if (oy < r0 || oy >= r0 + rows)
                continue;
            __global const float *row = col + (ci * k + ky) * k * ncol + (oy - r0) * W;
            for (int kx = 0; kx < k; kx++) {
                const int ox = ix - kx + p;
                if (ox >= 0 && ox < W)
                    acc += row[kx * ncol + ox];
            }
        }
        dx[xo + (ci * H + iy) * W + ix] += acc;
    }
}

/* y = act(y + b[c]) over the whole (N,C,HW) tensor; relu != 0 for ReLU.
 * Range: ceil(HW/16)*C*N = (run of 16 pixels, c, n). */
__kernel void cu_conv_bias_act(__global float *y, __global const float *b, const int C, const int HW,
                               const int relu, const int N)
{
    const int runs = (HW + 15) / 16, g = get_global_id(0);
    if (g >= runs * C * N)
        return;
    const int p0 = g % runs * 16, c = g / runs % C, n = g / (runs * C);
    __global float *row = y + (n * C + c) * HW;
    const float bc = b[c];
    for (int p = p0; p < min(p0 + 16, HW); p++) {
        float v = row[p] + bc;
        if (relu && v < 0.0f) /* a NaN stays NaN, as in ref */
            v = 0.0f;
        row[p] = v;
    }
}

/* *dst += the sum over the work-group's CU_RED_WG work-items of each one's
 * sixteen lanes s and its scalar ss (when store): a tree in local memory
 * part[CU_RED_WG], a deterministic order, no atomics. Every work-item of
 * the group calls it (barriers). */
static void group_sum_add(__local float *part, const float16 s, const float ss, __global float *dst,
                          const bool store)
{
    const int l = get_local_id(0);
    const float8 s8 = s.lo + s.hi;
    const float4 s4 = s8.lo + s8.hi;
    part[l] = ((s4.x + s4.y) + (s4.z + s4.w)) + ss;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = CU_RED_WG / 2; h > 0; h /= 2) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0 && store)
        *dst += part[0];
}

/* db[c] += sum over n and the HW pixels of dy (N,C,HW): one work-group of
 * CU_RED_WG per channel; each work-item sums a contiguous share of every
 * image's plane in float16 lanes with Kahan compensation (sixteen
 * independent chains: the latency of one compensated chain per element
 * would dominate on a CPU; on PoCL 16 lanes took 9.5 CPU-ms per U-Net step
 * against 27 for 4), then a tree in local memory (deterministic order, no
 * atomics). */
__kernel void cu_conv_bias_grad(__global float *db, __global const float *dy, const int N, const int C,
                                const int HW)
{
    __local float part[CU_RED_WG];
    const int c = get_group_id(0);
    const int l = get_local_id(0);
    const int chunk = (HW + 16 * CU_RED_WG - 1) / (16 * CU_RED_WG) * 16; /* a multiple of 16 */
    const int p0 = min(l * chunk, HW), p1 = min(p0 + chunk, HW);
    float16 s = (float16)(0.0f), comp = (float16)(0.0f);
    float ss = 0.0f, sc = 0.0f; /* the tail of a plane, when HW % 16 != 0 */
    if (c < C) {
        for (int n = 0; n < N; n++) {
            __global const float *row = dy + (n * C + c) * HW;
            int p = p0;
            for (; p + 16 <= p1; p += 16) {
                const float16 yk = CU_LOADU(row + p) - comp;
                const float16 t = s + yk;
                comp = (t - s) - yk;
                s = t;
            }
            for (; p < p1; p++) {
                const float yk = row[p] - sc;
                const float t = ss + yk;
                sc = (t - ss) - yk;
                ss = t;
            }
        }
    }
    group_sum_add(part, s, ss, db + c, c < C);
}

/* dw[co][ci] += sum over n and the HW pixels of dy[n][co] x[n][ci]: the
 * weight gradient of a 1 x 1 convolution (the output layer), one
 * work-group of CU_RED_WG per (co, ci) as cu_conv_bias_grad: each
 * work-item a contiguous share of every image's planes in float16 lanes,
 * then a tree in local memory (deterministic, no atomics). A GEMM per
 * image took 3.5 ms of a training step at S=128 for 2 -> 1. */
__kernel void cu_conv_dw1(__global float *dw, __global const float *dy, __global const float *x, const int N,
                          const int Cout, const int Cin, const int HW)
{
    __local float part[CU_RED_WG];
    const int pair = get_group_id(0), l = get_local_id(0);
    const int co = pair / Cin, ci = pair % Cin;
    const int chunk = (HW + 16 * CU_RED_WG - 1) / (16 * CU_RED_WG) * 16; /* a multiple of 16 */
    const int p0 = min(l * chunk, HW), p1 = min(p0 + chunk, HW);
    float16 s = (float16)(0.0f);
    float ss = 0.0f; /* the tail of a plane, when HW % 16 != 0 */
    if (co < Cout) {
        for (int n = 0; n < N; n++) {
            __global const float *a = dy + (n * Cout + co) * HW, *b = x + (n * Cin + ci) * HW;
            int p = p0;
            for (; p + 16 <= p1; p += 16)
                s = fma(CU_LOADU(a + p), CU_LOADU(b + p), s);
            for (; p < p1; p++)
                ss = fma(a[p], b[p], ss);
        }
    }
    group_sum_add(part, s, ss, dw + co * Cin + ci, co < Cout);
}

/* Forward convolution as an implicit GEMM, for CPU devices (the panel GEMM
 * of gemm.cl with im2col fused into its loads). Each work-item computes 8
 * output channels x 16 output pixels of one row, in eight float16
 * accumulators; k runs over (ci, ky, kx) in nested loops (no division),
 * reading the 16 input pixels of each tap straight from x. Needs
 * W % 16 == 0 (a run never wraps a row); a run at the left or right border
 * of a 3x3 layer loads its 16 aligned floats and shifts in the one float
 * on each side (zero past the border): lane by lane, the border runs took
 * most of the time of 16- and 32-wide layers. Other k: lane by lane.
 * x (N,C,H,W) in two parts [x, x2] split at channel ka (ka = C: x alone;
 * part_plane), weights at w + wo (Cout,C,k,k), y (N,Cout,H,W) in two
 * parts [y, y2] split at ma (ma = Cout: y alone). mode 0: y = act(acc + b)
 * (relu != 0: ReLU); the data gradient, which is this same convolution of
 * dy with the weights transposed and flipped (cu_conv_flip), b unused:
 * mode 1: y += acc; mode 2: y = acc; mode 3: y = acc where the mask
 * [xm, xm2] (split as y: the layer's input, a ReLU's output) is > 0, else
 * 0 -- the gradient through that ReLU, without a pass of its own.
 * Range: ceil(Cout/8)*(W/16)*H*N = (channel tile, run, oy, image): all N
 * images of the batch in one launch, not one launch per image: on a CPU device every launch
 * wakes and joins the device's threads, and 16 launches of a small layer
 * leave them waiting more than working (docs/perf-threads.md). */
__kernel void cu_conv_fwd_implicit(__global float *y, __global float *y2, const int ma, __global const float *xm,
                                   __global const float *xm2, __global const float *x,
                                   __global const float *x2, const int ka, __global const float *w, const int wo,
                                   __global const float *b, const int C, const int H, const int W, const int Cout,
                                   const int k, const int relu, const int mode, const int N)
{
    const int tiles = (Cout + 7) / 8, runs = W / 16, g = get_global_id(0);
    if (g >= tiles * runs * H * N)
        return;
    const int m0 = g % tiles * 8, ox0 = g / tiles % runs * 16, oy = g / (tiles * runs) % H;
    const int img = g / (tiles * runs * H);
    const int p = k / 2, kk = C * k * k;
    const bool inner = ox0 - p >= 0 && ox0 + 15 + p < W;
#if CU_GEMM_TM != 8 || CU_GEMM_TN != 16
#error "the implicit convolution tiles 8 x 16 like gemm.cl (CU_GEMM_TM, CU_GEMM_TN: src/cl/cl_consts.h)"
#endif
#define CU_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CU_DECL(i)                                                                                                \
    __global const float *w##i = w + wo + min(m0 + i, Cout - 1) * kk;                                             \
    float16 c##i = (float16)(0.0f);
    CU_ROWS(CU_DECL)
#undef CU_DECL
    int r = 0;
    for (int ci = 0; ci < C; ci++) {
        for (int ky = 0; ky < k; ky++) {
            const int iy = oy + ky - p;
            if (iy < 0 || iy >= H) { /* a zero row of the im2col matrix */
                r += k;
                continue;
            }
            __global const float *row = part_plane(x, x2, ka, C, img, ci, H * W) + iy * W + ox0 - p;
            if (!inner && k == 3) { /* a border run of a 3x3 layer: the aligned 16 and one float each side */
                __global const float *mid = row + 1;
                const float16 b1 = CU_LOADU(mid);
                const float l = ox0 > 0 ? mid[-1] : 0.0f, rt = ox0 + 16 < W ? mid[16] : 0.0f;
                const float16 b0 = shuffle2(b1, (float16)(l), CU_SHIFT_R), b2 = shuffle2(b1, (float16)(rt), CU_SHIFT_L);
#define CU_MAD3(i)                                                                                                \
    c##i = fma((float16)(w##i[r]), b0, c##i);                                                                     \
    c##i = fma((float16)(w##i[r + 1]), b1, c##i);                                                                 \
    c##i = fma((float16)(w##i[r + 2]), b2, c##i);
                CU_ROWS(CU_MAD3)
#undef CU_MAD3
                r += 3;
                continue;
            }
            for (int kx = 0; kx < k; kx++, r++) {
                float16 bv;
                if (inner) {
                    bv = CU_LOADU(row + kx);
                } else {
                    float v[16];
                    for (int t = 0; t < 16; t++) {
                        const int ix = ox0 - p + kx + t;
                        v[t] = ix >= 0 && ix < W ? row[kx + t] : 0.0f;
                    }
                    bv = vload16(0, v);
                }
#define CU_MAD(i) c##i = fma((float16)(w##i[r]), bv, c##i);
                CU_ROWS(CU_MAD)
#undef CU_MAD
            }
        }
    }
#define CU_STORE(i)                                                                                               \
    if (m0 + i < Cout) {                                                                                          \
        const int o_ = oy * W + ox0;                                                                              \
        __global float *out = part_plane_w(y, y2, ma, Cout, img, m0 + i, H * W) + o_;                             \
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, Cout, img, m0 + i, H * W) + o_ : out;      \
        cu_out16(out, mk, c##i, mode, mode == 0 ? b[m0 + i] : 0.0f, relu);                                        \
    }
    CU_ROWS(CU_STORE)
#undef CU_STORE
#undef CU_ROWS
}

/* wt[ci][co][ky][kx] = w[co][ci][k-1-ky][k-1-kx]: the weights with which
 * the data gradient dx = sum over co of dy[co] correlated with the flipped
 * kernel is again a 'same' convolution (cu_conv_fwd_implicit, mode 1).
 * Range: k*k*Cout*Cin. */
__kernel void cu_conv_flip(__global float *wt, const int wto, __global const float *w, const int Cout,
                           const int Cin, const int k)
{
    const int g = get_global_id(0);
    if (g >= k * k * Cout * Cin)
        return;
    const int t = g % (k * k), co = g / (k * k) % Cout, ci = g / (k * k * Cout);
    wt[wto + (ci * Cout + co) * k * k + t] = w[(co * Cin + ci) * k * k + k * k - 1 - t];
}

/* The 3x3 forward convolution (and, mode 1, its data gradient) with twice
 * the tile of cu_conv_fwd_implicit: 8 output channels x 32 pixels of one
 * row in sixteen float16 accumulators, for W % 32 == 0. Per input row and
 * channel it loads the three shifted 16-pixel vectors of each half (the
 * one past a border is the aligned vector with a zero shifted in) and
 * broadcasts the 24 weights once for 48 FMAs, where the 16-pixel tile
 * spent 27 loads on 24: on a CPU with two FMA and two load ports the
 * narrow tile is bound by its loads and the latency of 8 accumulator
 * chains (docs/PERFORMANCE.md). The same arguments and modes as
 * cu_conv_fwd_implicit; range ceil(Cout/8)*(W/32)*H*N. */
__kernel void cu_conv3_fwd_w32(__global float *y, __global float *y2, const int ma, __global const float *xm,
                               __global const float *xm2, __global const float *x,
                               __global const float *x2, const int ka, __global const float *w, const int wo,
                               __global const float *b, const int C, const int H, const int W, const int Cout,
                               const int k, const int relu, const int mode, const int N)
{
    (void)k; /* 3: the argument keeps the signature of cu_conv_fwd_implicit */
    const int tiles = (Cout + 7) / 8, runs = W / 32, g = get_global_id(0);
    if (g >= tiles * runs * H * N)
        return;
    const int m0 = g % tiles * 8, ox0 = g / tiles % runs * 32, oy = g / (tiles * runs) % H;
    const int img = g / (tiles * runs * H);
    const int kk = C * 9;
    const int lft = ox0 == 0, rgt = ox0 + 32 == W; /* runs at the image's left and right border */
#define CU_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CU_DECL(i)                                                                                                \
    __global const float *w##i = w + wo + min(m0 + i, Cout - 1) * kk;                                             \
    float16 a##i = (float16)(0.0f), b##i = (float16)(0.0f);
    CU_ROWS(CU_DECL)
#undef CU_DECL
    for (int ci = 0, r = 0; ci < C; ci++) {
        for (int ky = 0; ky < 3; ky++, r += 3) {
            const int iy = oy + ky - 1;
            if (iy < 0 || iy >= H) /* a zero row of the im2col matrix */
                continue;
            __global const float *row = part_plane(x, x2, ka, C, img, ci, H * W) + iy * W + ox0;
            /* one vector load each (vload16 is element loads that LLVM
             * merges, and in this kernel it did not: 8-byte pieces) */
            const float16 m0v = CU_LOADU(row), m1v = CU_LOADU(row + 16);
            const float16 r0v = CU_LOADU(row + 1), l1v = CU_LOADU(row + 15);
            float16 l0v, r1v; /* past a border: the aligned vector with a zero shifted in */
            if (lft)
                l0v = shuffle2(m0v, (float16)(0.0f), CU_SHIFT_R);
            else
                l0v = CU_LOADU(row - 1);
            if (rgt)
                r1v = shuffle2(m1v, (float16)(0.0f), CU_SHIFT_L);
            else
                r1v = CU_LOADU(row + 17);
#define CU_MAD(i)                                                                                                 \
    {                                                                                                             \
        const float16 p = (float16)(w##i[r]), q = (float16)(w##i[r + 1]), s = (float16)(w##i[r + 2]);             \
        a##i = fma(p, l0v, a##i);                                                                                 \
        b##i = fma(p, l1v, b##i);                                                                                 \
        a##i = fma(q, m0v, a##i);                                                                                 \
        b##i = fma(q, m1v, b##i);                                                                                 \
        a##i = fma(s, r0v, a##i);                                                                                 \
        b##i = fma(s, r1v, b##i);                                                                                 \
    }
            CU_ROWS(CU_MAD)
#undef CU_MAD
        }
    }
#define CU_STORE(i)                                                                                               \
    if (m0 + i < Cout) {                                                                                          \
        const int o_ = oy * W + ox0;                                                                              \
        __global float *out = part_plane_w(y, y2, ma, Cout, img, m0 + i, H * W) + o_;                             \
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, Cout, img, m0 + i, H * W) + o_ : out;      \
        const float bias = mode == 0 ? b[m0 + i] : 0.0f;                                                          \
        cu_out16(out, mk, a##i, mode, bias, relu);                                                                \
        cu_out16(out + 16, mk + 16, b##i, mode, bias, relu);                                                      \
    }
    CU_ROWS(CU_STORE)
#undef CU_STORE
#undef CU_ROWS
}
