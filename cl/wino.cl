/* wino.cl: the 3x3 'same' convolution (stride 1, pad 1) as Winograd
 * F(2x2,3x3), for CPU devices (src/cl/cl_ops_wino.c drives it, docs/cl-ops.md):
 * every 2x2 block of outputs ("tile") comes from a 4x4 block of inputs, and
 * the 36 multiplications per tile and channel pair of the direct
 * convolution become 16, one per element xi of the 4x4 transform domain:
 *   U[xi] = G g G^T       weights, [16][M][K] (M outputs, K inputs)
 *   V[xi] = B^T d B       input tiles, in the panel GEMM's layout
 *                         [16][Q][K][16] (Q panels of 16 tiles)
 *   P[xi] = U[xi] V[xi]   16 GEMMs (M x K times K x 16Q), [16][M][16Q]
 *   y     = A^T P A       2x2 outputs per tile, + bias, ReLU; or y += (dx)
 * with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *      G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *      A^T = [1 1 1 0; 0 1 -1 -1].
 * Tiles run over the images of the batch, row by row: t = (n*TH + ty)*TW + tx
 * with TH = ceil(H/2), TW = ceil(W/2), T = N*TH*TW of them, transformed and
 * multiplied in chunks of 16Q tiles from t0 (the host bounds the workspace);
 * inputs past the image edge read zeros, outputs past it are not stored
 * (any H, W). The data gradient is this same convolution of dy with the
 * weights transposed and flipped (flip != 0 in cu_wino_weights); the
 * weight gradient has its own kernels below (cu_wino_dy, cu_wino_dw_gemm,
 * cu_wino_dw_out), and so does the direct weight gradient of layers with
 * few weights (cu_dw_direct). Not here: k != 3. The GEMM-type loops use
 * fma(), not mad(): PoCL turned mad() into a multiply and an add.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* CU_WINO_TM (rows of P per work-item of cu_wino_gemm, CU_CL_WG_TILE
 * work-groups; 8 unrolled rows below) and CU_WINO_SKEW come from the build
 * options (src/cl/cl_consts.h). */
#if CU_WINO_TM != 8 || !defined(CU_WINO_SKEW)
#error "wino.cl needs CU_WINO_TM 8 and CU_WINO_SKEW from the build options (src/cl/cl_consts.h)"
#endif
/* The 16 slabs U[xi], V[xi], P[xi] (and Y', D of the weight gradient)
 * start CU_WINO_SKEW floats (one cache line) apart beyond their size:
 * without it they lie a multiple of 4 KiB apart, and the transforms' 16
 * streams, one per xi, all fall into one set of the CPU's caches
 * (measured: 10x slower at 128 x 128; the weight transform of 256 x 256
 * channels 2x slower). The host sizes the workspace the same way
 * (cl_ops_wino.c). */

/* The four values G (a, b, c)^T as the scalars o0 .. o3 (named values,
 * not arrays: wino4.cl's CU_G6 says why) */
#define CU_G4(o, a, b, c)                                                                                         \
    const float o##0 = (a), o##1 = 0.5f * ((a) + (b) + (c)), o##2 = 0.5f * ((a) - (b) + (c)), o##3 = (c)

/* U[xi][m][k] = (G g G^T)[xi] for g the 3x3 kernel of output m, input k
 * (CU_KERNEL3: flip = 1 for the data gradient). Range M*K = (k, m). */
__kernel void cu_wino_weights(__global float *u, const int uo, __global const float *w, const int M, const int K,
                              const int flip)
{
    const int g = get_global_id(0);
    if (g >= M * K)
        return;
    const int k = g % K, m = g / K;
    CU_KERNEL3(w, M, K, m, k, flip);
    CU_G4(a, f0, f3, f6); /* G g, column by column: a<r> = (G g)[r][0] */
    CU_G4(b, f1, f4, f7);
    CU_G4(c, f2, f5, f8);
    __global float *dst = u + uo + m * K + k;
    const int xs = M * K + CU_WINO_SKEW;
#define CU_ROW(r)                                                                                                 \
    {                                                                                                             \
        CU_G4(v, a##r, b##r, c##r); /* row r of (G g) G^T */                                                      \
        dst[(4 * (r) + 0) * xs] = v0;                                                                             \
        dst[(4 * (r) + 1) * xs] = v1;                                                                             \
        dst[(4 * (r) + 2) * xs] = v2;                                                                             \
        dst[(4 * (r) + 3) * xs] = v3;                                                                             \
    }
    CU_ROW(0) CU_ROW(1) CU_ROW(2) CU_ROW(3)
#undef CU_ROW
}

/* Shifting within each half of 8 lanes, zero shifted in (whole vectors:
 * CU_SHIFT_R, CU_SHIFT_L in common.cl) */
#define CU_RIGHT8 (uint16)(16, 0, 1, 2, 3, 4, 5, 6, 16, 8, 9, 10, 11, 12, 13, 14)
#define CU_LEFT8 (uint16)(1, 2, 3, 4, 5, 6, 7, 16, 9, 10, 11, 12, 13, 14, 15, 16)

/* One input row of 16 tiles side by side: lane j of c<i> is
 * row[2 tx - 1 + 2j + i], i = 0..3, zero outside [0, W) and for rows
 * outside the image. Needs 2 tx + 32 <= W: two 16-float loads split into
 * even and odd lanes, plus the one float left of them and the one right
 * (zero at the borders) shifted in. A macro, not a function: the 16
 * vectors of a tile run must stay in registers. */
#define CU_ROW_COLS(iy, c0, c1, c2, c3)                                                                           \
    do {                                                                                                          \
        if ((iy) >= 0 && (iy) < H) {                                                                              \
            __global const float *row_ = plane + (iy) * W + 2 * tx;                                               \
            const float16 r0_ = CU_LOADU(row_), r1_ = CU_LOADU(row_ + 16);                                        \
            const float l_ = tx > 0 ? row_[-1] : 0.0f, r_ = 2 * tx + 32 < W ? row_[32] : 0.0f;                    \
            c1 = shuffle2(r0_, r1_, CU_EVEN);                                                                     \
            c2 = shuffle2(r0_, r1_, CU_ODD);                                                                      \
            c0 = shuffle2(c2, (float16)(l_), CU_SHIFT_R);                                                         \
            c3 = shuffle2(c1, (float16)(r_), CU_SHIFT_L);                                                         \
        } else {                                                                                                  \
            c0 = c1 = c2 = c3 = (float16)(0.0f);                                                                  \
        }                                                                                                         \
    } while (0)

/* Row i of (B^T d) B from row i of B^T d: four aligned 64-byte stores
 * (V's lines start at multiples of 16 floats; vstore16 became three
 * partial stores in PoCL's code). */
#define CU_STORE_V(i, a, b, c, f)                                                                                 \
    do {                                                                                                          \
        *(__global float16 *)(dst + (4 * (i) + 0) * xi_stride) = (a) - (c);                                       \
        *(__global float16 *)(dst + (4 * (i) + 1) * xi_stride) = (b) + (c);                                       \
        *(__global float16 *)(dst + (4 * (i) + 2) * xi_stride) = (c) - (b);                                       \
        *(__global float16 *)(dst + (4 * (i) + 3) * xi_stride) = (b) - (f);                                       \
    } while (0)

/* V of 16 tiles of one tile row, each lane a tile: the 4 x 4 inputs d as
 * 16 vectors, B^T d B in 32 vector additions, each xi one 64-byte store. */
static void input_run(__global float *dst, const int xi_stride, __global const float *plane, const int H,
                      const int W, const int ty, const int tx)
{
    const int y0 = 2 * ty - 1;
    float16 d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
    CU_ROW_COLS(y0, d00, d01, d02, d03);
    CU_ROW_COLS(y0 + 1, d10, d11, d12, d13);
    CU_ROW_COLS(y0 + 2, d20, d21, d22, d23);
    CU_ROW_COLS(y0 + 3, d30, d31, d32, d33);
    /* B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
    CU_STORE_V(0, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
    CU_STORE_V(1, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
    CU_STORE_V(2, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
    CU_STORE_V(3, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
}

/* The same for images 16 wide (8 tiles a row): lanes 0-7 are the tiles of
 * tile row ty, lanes 8-15 those of ty + 1, each input row one vector. */
#define CU_ROW_COLS16(iy, c0, c1, c2, c3)                                                                         \
    do {                                                                                                          \
        const float16 r_ = (iy) >= 0 && (iy) < H ? CU_LOADU(plane + (iy) * 16) : (float16)(0.0f);                 \
        const float16 s_ = (iy) + 2 < H ? CU_LOADU(plane + ((iy) + 2) * 16) : (float16)(0.0f);                    \
        c1 = shuffle2(r_, s_, CU_EVEN);                                                                           \
        c2 = shuffle2(r_, s_, CU_ODD);                                                                            \
        c0 = shuffle2(c2, (float16)(0.0f), CU_RIGHT8);                                                            \
        c3 = shuffle2(c1, (float16)(0.0f), CU_LEFT8);                                                             \
    } while (0)

static void input_run16(__global float *dst, const int xi_stride, __global const float *plane, const int H,
                        const int ty)
{
    const int y0 = 2 * ty - 1;
    float16 d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33;
    CU_ROW_COLS16(y0, d00, d01, d02, d03);
    CU_ROW_COLS16(y0 + 1, d10, d11, d12, d13);
    CU_ROW_COLS16(y0 + 2, d20, d21, d22, d23);
    CU_ROW_COLS16(y0 + 3, d30, d31, d32, d33);
    CU_STORE_V(0, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
    CU_STORE_V(1, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
    CU_STORE_V(2, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
    CU_STORE_V(3, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
}

/* V[xi][q][k][j] = (B^T d B)[xi] of tile t = t0 + 16q + j, input channel
 * k (kmajor: V[xi][k][q][j], for the weight gradient, whose work-items
 * stream along q); zero for t >= T. x: the whole batch (N, K, H, W). A run of 16 tiles
 * within one tile row (images at least 32 wide, the run not past an odd
 * width's last column) goes through input_run, two tile rows of an image
 * 16 wide through input_run16;
 * runs that wrap rows or pass T, tile by tile. Range Q*K = (q, k): neighbouring work-items read
 * one plane (channels fastest read planes a power of two apart, which share
 * one cache set). */
__kernel void cu_wino_input(__global float *v, const int vo, __global const float *x, __global const float *x2,
                            const int ka, const int K, const int H, const int W, const int t0, const int T,
                            const int Q, const int kmajor)
{
    const int g = get_global_id(0);
    if (g >= K * Q)
        return;
    const int q = g % Q, k = g / Q; /* panels fastest: a work-group reads along one plane */
    const int TW = (W + 1) / 2, TH = (H + 1) / 2, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    __global float *dst = v + vo + (kmajor ? k * Q + q : q * K + k) * 16;
    const int xi_stride = Q * K * 16 + CU_WINO_SKEW;
    if (t + 16 <= T && tx + 16 <= TW && 2 * tx + 32 <= W) {
        input_run(dst, xi_stride, part_plane(x, x2, ka, K, n, k, H * W), H, W, ty, tx);
        return;
    }
    if (W == 16 && t + 16 <= T && tx == 0 && ty + 1 < TH) {
        input_run16(dst, xi_stride, part_plane(x, x2, ka, K, n, k, H * W), H, ty);
        return;
    }
    for (int j = 0; j < 16; j++, t++) {
        float d[16];
        if (t < T) {
            __global const float *plane = part_plane(x, x2, ka, K, n, k, H * W);
            const int y0 = 2 * ty - 1, x0 = 2 * tx - 1;
            if (y0 >= 0 && y0 + 3 < H && x0 >= 0 && x0 + 3 < W) {
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++)
                        d[r * 4 + c] = plane[(y0 + r) * W + x0 + c];
            } else {
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++) {
                        const int iy = y0 + r, ix = x0 + c;
                        d[r * 4 + c] = iy >= 0 && iy < H && ix >= 0 && ix < W ? plane[iy * W + ix] : 0.0f;
                    }
            }
            cu_tile_next(&n, &ty, &tx, TH, TW);
        } else {
            for (int i = 0; i < 16; i++)
                d[i] = 0.0f;
        }
        float e[16]; /* B^T d */
        for (int c = 0; c < 4; c++) {
            e[c] = d[c] - d[8 + c];
            e[4 + c] = d[4 + c] + d[8 + c];
            e[8 + c] = d[8 + c] - d[4 + c];
            e[12 + c] = d[4 + c] - d[12 + c];
        }
        for (int r = 0; r < 4; r++) { /* (B^T d) B */
            const float a = e[4 * r], b = e[4 * r + 1], c = e[4 * r + 2], f = e[4 * r + 3];
            dst[(r * 4 + 0) * xi_stride + j] = a - c;
            dst[(r * 4 + 1) * xi_stride + j] = b + c;
            dst[(r * 4 + 2) * xi_stride + j] = c - b;
            dst[(r * 4 + 3) * xi_stride + j] = b - f;
        }
    }
}

#define CU_WINO_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* P[xi] = U[xi] V[xi] for the nxi xi at once (16; 36 for F(4x4,3x3),
 * wino4.cl): each work-item an 8 x 32
 * tile of one P[xi] (two panels of 16 tiles) in sixteen float16
 * accumulators, K deep: 8 broadcasts and 2 vector loads for 16 FMAs (one
 * panel, as in gemm.cl: 9 loads for 8, and 8 chains too few for the FMA
 * latency); two = 0: one panel, 8 accumulators (devices with 16 vector
 * registers: src/cl/cl_policy.c, wide_tiles). Range ceil(M/8)*ceil(Q/p)*nxi
 * = (row tile, panel group of p = 1 + two, xi), row tiles fastest so that
 * neighbouring work-items share the V panels. With Q odd the last pair's
 * second panel repeats the first and is not stored. */
__kernel void cu_wino_gemm(__global float *p, const int po, __global const float *u, const int uo,
                           __global const float *v, const int vo, const int M, const int K, const int Q,
                           const int two, const int nxi)
{
    const int tiles = (M + CU_WINO_TM - 1) / CU_WINO_TM, groups = (Q + two) / (1 + two), g = get_global_id(0);
    if (g >= tiles * groups * nxi)
        return;
    const int m0 = g % tiles * CU_WINO_TM, q = g / tiles % groups * (1 + two), xi = g / (tiles * groups);
    const int q1 = min(q + 1, Q - 1);
    __global const float *a = u + uo + xi * (M * K + CU_WINO_SKEW);
    /* rows past M read row M-1 (valid memory) and are not stored */
#define CU_DECL(i)                                                                                                \
    __global const float *a##i = a + min(m0 + i, M - 1) * K;                                                      \
    float16 c##i = (float16)(0.0f), d##i = (float16)(0.0f);
    CU_WINO_ROWS(CU_DECL)
#undef CU_DECL
    __global const float *b = v + vo + xi * (Q * K * 16 + CU_WINO_SKEW) + q * K * 16;
    __global const float *b1 = v + vo + xi * (Q * K * 16 + CU_WINO_SKEW) + q1 * K * 16;
    if (two) {
        for (int k = 0; k < K; k++) {
            const float16 bv = CU_LOADU(b + 16 * k), bw = CU_LOADU(b1 + 16 * k);
#define CU_MAD(i)                                                                                                 \
    {                                                                                                             \
        const float16 s = (float16)(a##i[k]);                                                                     \
        c##i = fma(s, bv, c##i);                                                                                  \
        d##i = fma(s, bw, d##i);                                                                                  \
    }
            CU_WINO_ROWS(CU_MAD)
#undef CU_MAD
        }
    } else {
        for (int k = 0; k < K; k++) {
            const float16 bv = CU_LOADU(b + 16 * k);
#define CU_MAD(i) c##i = fma((float16)(a##i[k]), bv, c##i);
            CU_WINO_ROWS(CU_MAD)
#undef CU_MAD
        }
    }
    __global float *out = p + po + xi * (M * Q * 16 + CU_WINO_SKEW) + q * 16;
#define CU_STORE(i)                                                                                               \
    if (m0 + i < M) {                                                                                             \
        CU_STOREU(c##i, out + (m0 + i) * Q * 16);                                                                 \
        if (two && q + 1 < Q)                                                                                     \
            CU_STOREU(d##i, out + (m0 + i) * Q * 16 + 16);                                                        \
    }
    CU_WINO_ROWS(CU_STORE)
#undef CU_STORE
}

/* y = A^T P A for tiles t0 + 16q .. t0 + 16q + 15 (those < T) of output
 * channel m: mode 0: y = act(. + b[m]) (relu != 0: ReLU); b unused:
 * mode 1: y += ., mode 2: y = ., mode 3: y = . where the mask [xm, xm2]
 * (split as y) is > 0, else 0 (cu_conv_fwd_implicit's modes). y: the
 * whole batch (N, M, H, W) in two parts [y, y2] split at ma. 16 tiles of one tile row,
 * all inside the image, are stored as two rows of 32 floats; the others
 * tile by tile. Range M*Q = (q, m). */
__kernel void cu_wino_output(__global float *y, __global float *y2, const int ma, __global const float *xm,
                             __global const float *xm2, __global const float *p,
                             const int po, __global const float *b, const int M, const int H, const int W,
                             const int t0, const int T, const int Q, const int relu, const int mode)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    __global const float *src = p + po + m * Q * 16 + q * 16;
    const int xi_stride = M * Q * 16 + CU_WINO_SKEW;
    float16 s[16];
    for (int i = 0; i < 16; i++)
        s[i] = CU_LOADU(src + i * xi_stride);
    float16 e[8]; /* A^T P: 2 x 4 */
    for (int c = 0; c < 4; c++) {
        e[c] = s[c] + s[4 + c] + s[8 + c];
        e[4 + c] = s[4 + c] - s[8 + c] - s[12 + c];
    }
    float16 o[4]; /* (A^T P) A: 2 x 2 */
    for (int r = 0; r < 2; r++) {
        o[2 * r] = e[4 * r] + e[4 * r + 1] + e[4 * r + 2];
        o[2 * r + 1] = e[4 * r + 1] - e[4 * r + 2] - e[4 * r + 3];
    }
    const float bias = mode == 0 ? b[m] : 0.0f;
    const int TW = (W + 1) / 2, TH = (H + 1) / 2, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    if (t + 16 <= T && 2 * tx + 32 <= W && 2 * ty + 2 <= H) { /* 2 x 32 outputs, all inside */
        const int o_ = 2 * ty * W + 2 * tx;
        __global float *dst = part_plane_w(y, y2, ma, M, n, m, H * W) + o_;
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) + o_ : dst;
        cu_out16(dst, mk, shuffle2(o[0], o[1], CU_LO), mode, bias, relu);
        cu_out16(dst + 16, mk + 16, shuffle2(o[0], o[1], CU_HI), mode, bias, relu);
        cu_out16(dst + W, mk + W, shuffle2(o[2], o[3], CU_LO), mode, bias, relu);
        cu_out16(dst + W + 16, mk + W + 16, shuffle2(o[2], o[3], CU_HI), mode, bias, relu);
        return;
    }
    float out[4][16];
    for (int i = 0; i < 4; i++)
        vstore16(mode == 0 ? cu_bias_act16(o[i], bias, relu) : o[i], 0, out[i]);
    for (int j = 0; j < 16 && t < T; j++, t++) {
        const int o_ = 2 * ty * W + 2 * tx;
        __global float *dst = part_plane_w(y, y2, ma, M, n, m, H * W) + o_;
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) + o_ : dst;
        for (int i = 0; i < 4; i++) /* output (i / 2, i % 2) of the tile, if inside */
            if (2 * tx + (i & 1) < W && 2 * ty + (i >> 1) < H)
                cu_out1(dst, mk, (i >> 1) * W + (i & 1), out[i][j], mode);
        cu_tile_next(&n, &ty, &tx, TH, TW);
    }
}

/* The weight gradient (cl_ops_wino.c, cu_cl_wino_dw): with y = A^T (U . V) A
 * per tile and U = G g G^T, dL/dU = sum over tiles of (A dY A^T) . V, and
 * dL/dg = G^T (dL/dU) G. So:
 *   Y'[xi] = A dY A^T     4x4 per 2x2 tile of dy, [16][M][Q][16] (like V, kmajor)
 *   D[xi]  = Y'[xi] V[xi]^T   summed over the tiles: [16][M][K]
 *   dw    += G^T D G
 * with A = [1 0; 1 1; 1 -1; 0 -1] and G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0;
 * 0 1/2 1/2 1]. Both factors of D keep the tiles as vector lanes, so the
 * sum over tiles is a lane-wise multiply-add, reduced across lanes once. */

/* Y'[xi][m][q][j] = (A dY A^T)[xi] of tile t = t0 + 16q + j, channel m of
 * dy (N, M, H, W); zero for t >= T and outputs outside the image. Range
 * Q*M = (q, m). */
__kernel void cu_wino_dy(__global float *v, const int vo, __global const float *dy, const int M, const int H,
                         const int W, const int t0, const int T, const int Q)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    const int TW = (W + 1) / 2, TH = (H + 1) / 2, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    float16 p, r, s, u; /* dY = [p r; s u] of the 16 tiles */
    if (t + 16 <= T && 2 * tx + 32 <= W && 2 * ty + 2 <= H) {
        __global const float *src = dy + ((n * M + m) * H + 2 * ty) * W + 2 * tx;
        const float16 a = CU_LOADU(src), b = CU_LOADU(src + 16);
        const float16 c = CU_LOADU(src + W), d = CU_LOADU(src + W + 16);
        p = shuffle2(a, b, CU_EVEN);
        r = shuffle2(a, b, CU_ODD);
        s = shuffle2(c, d, CU_EVEN);
        u = shuffle2(c, d, CU_ODD);
    } else {
        float f[4][16];
        for (int j = 0; j < 16; j++, t++) {
            float e[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            if (t < T) {
                __global const float *src = dy + ((n * M + m) * H + 2 * ty) * W + 2 * tx;
                const bool right = 2 * tx + 1 < W, down = 2 * ty + 1 < H;
                e[0] = src[0];
                e[1] = right ? src[1] : 0.0f;
                e[2] = down ? src[W] : 0.0f;
                e[3] = right && down ? src[W + 1] : 0.0f;
                cu_tile_next(&n, &ty, &tx, TH, TW);
            }
            for (int i = 0; i < 4; i++)
                f[i][j] = e[i];
        }
        p = vload16(0, f[0]);
        r = vload16(0, f[1]);
        s = vload16(0, f[2]);
        u = vload16(0, f[3]);
    }
    __global float *dst = v + vo + (m * Q + q) * 16;
    const int xi_stride = Q * M * 16 + CU_WINO_SKEW;
    /* A dY: rows (p, r), (p + s, r + u), (p - s, r - u), (-s, -u); then
     * each row (a, b) times A^T: (a, a + b, a - b, -b) */
#define CU_DY_ROW(i, a, b)                                                                                        \
    do {                                                                                                          \
        const float16 a_ = (a), b_ = (b);                                                                         \
        CU_STOREU(a_, dst + (4 * (i) + 0) * xi_stride);                                                           \
        CU_STOREU(a_ + b_, dst + (4 * (i) + 1) * xi_stride);                                                      \
        CU_STOREU(a_ - b_, dst + (4 * (i) + 2) * xi_stride);                                                      \
        CU_STOREU(-b_, dst + (4 * (i) + 3) * xi_stride);                                                          \
    } while (0)
    CU_DY_ROW(0, p, r);
    CU_DY_ROW(1, p + s, r + u);
    CU_DY_ROW(2, p - s, r - u);
    CU_DY_ROW(3, -s, -u);
#undef CU_DY_ROW
}

static float lane_sum(const float16 v)
{
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

#define CU_DW4(X) X(0) X(1) X(2) X(3)

/* D[xi][m][k] (+)= sum over the chunk's 16Q tiles of Y'[xi][m] V[xi][k],
 * for the nxi xi (16; 36 for F(4x4), wino4.cl): each work-item a 4 x 4
 * block (m0.., k0..) in sixteen float16 lane-wise accumulators, four Y'
 * and four V lines per panel; acc = 0: D = sum (the first chunk), else
 * D += sum. Range ceil(K/4)*ceil(M/4)*nxi = (k block, m block, xi). */
__kernel void cu_wino_dw_gemm(__global float *d, const int dof, __global const float *v, const int vo,
                              __global const float *yv, const int yvo, const int M, const int K, const int Q,
                              const int acc, const int nxi)
{
    const int kb = (K + 3) / 4, mb = (M + 3) / 4, g = get_global_id(0);
    if (g >= kb * mb * nxi)
        return;
    const int k0 = g % kb * 4, m0 = g / kb % mb * 4, xi = g / (kb * mb);
    __global const float *vs = v + vo + xi * (Q * K * 16 + CU_WINO_SKEW);
    __global const float *ys = yv + yvo + xi * (Q * M * 16 + CU_WINO_SKEW);
    /* rows past K or M read the last one (valid memory) and are not stored */
#define CU_DECL_K(i) const int kr##i = min(k0 + i, K - 1) * Q * 16;
#define CU_DECL_M(i) const int mr##i = min(m0 + i, M - 1) * Q * 16;
    CU_DW4(CU_DECL_K)
    CU_DW4(CU_DECL_M)
#undef CU_DECL_K
#undef CU_DECL_M
#define CU_ACC_ROW(i) float16 s##i##0 = (float16)(0.0f), s##i##1 = s##i##0, s##i##2 = s##i##0, s##i##3 = s##i##0;
    CU_DW4(CU_ACC_ROW)
#undef CU_ACC_ROW
    for (int q = 0; q < Q; q++) {
        __global const float *vq = vs + q * 16, *yq = ys + q * 16;
        const float16 v0 = CU_LOADU(vq + kr0), v1 = CU_LOADU(vq + kr1), v2 = CU_LOADU(vq + kr2),
                      v3 = CU_LOADU(vq + kr3);
#define CU_ACC(i)                                                                                                 \
    {                                                                                                             \
        const float16 y_ = CU_LOADU(yq + mr##i);                                                                  \
        s##i##0 = fma(y_, v0, s##i##0);                                                                           \
        s##i##1 = fma(y_, v1, s##i##1);                                                                           \
        s##i##2 = fma(y_, v2, s##i##2);                                                                           \
        s##i##3 = fma(y_, v3, s##i##3);                                                                           \
    }
        CU_DW4(CU_ACC)
#undef CU_ACC
    }
    __global float *out = d + dof + xi * (M * K + CU_WINO_SKEW);
#define CU_PUT(i, j)                                                                                              \
    if (m0 + i < M && k0 + j < K) {                                                                               \
        const float r_ = lane_sum(s##i##j);                                                                       \
        out[(m0 + i) * K + k0 + j] = acc ? out[(m0 + i) * K + k0 + j] + r_ : r_;                                  \
    }
#define CU_PUT_ROW(i) CU_PUT(i, 0) CU_PUT(i, 1) CU_PUT(i, 2) CU_PUT(i, 3)
    CU_DW4(CU_PUT_ROW)
#undef CU_PUT_ROW
#undef CU_PUT
}

/* dw[m][k] += G^T D[.][m][k] G (3 x 3 from 4 x 4). Range M*K = (k, m). */
__kernel void cu_wino_dw_out(__global float *dw, __global const float *d, const int dof, const int M, const int K)
{
    const int g = get_global_id(0);
    if (g >= M * K)
        return;
    float e[16];
    for (int i = 0; i < 16; i++)
        e[i] = d[dof + i * (M * K + CU_WINO_SKEW) + g];
    float t[12]; /* G^T D: 3 x 4 */
    for (int c = 0; c < 4; c++) {
        const float a = e[c], b = e[4 + c], f = e[8 + c], h = e[12 + c];
        t[c] = a + 0.5f * (b + f);
        t[4 + c] = 0.5f * (b - f);
        t[8 + c] = 0.5f * (b + f) + h;
    }
    __global float *out = dw + g * 9;
    for (int r = 0; r < 3; r++) { /* (G^T D) G */
        const float a = t[4 * r], b = t[4 * r + 1], f = t[4 * r + 2], h = t[4 * r + 3];
        out[3 * r] += a + 0.5f * (b + f);
        out[3 * r + 1] += 0.5f * (b - f);
        out[3 * r + 2] += 0.5f * (b + f) + h;
    }
}

/* The weight gradient of a 3x3 layer with few channels (cl_ops_wino.c,
 * cu_cl_dw_direct: Winograd's transforms cost more than they save there,
 * and the im2col GEMM writes 9 Cin rows per pixel to use them once):
 * part[c][m][k][t] = sum over the output rows [r0, r0 + R) of image n of
 * dy[n][m][oy][ox] x[n][k][oy+ky-1][ox+kx-1], t = 3 ky + kx, for chunk
 * c = (n, row block). Each work-item owns two output channels m0, m0 + 1
 * and one input channel k: 18 float16 lane-wise sums over 16 pixels at a
 * time, reduced once. Range ceil(M/2)*K*chunks = (m pair, k, chunk): the
 * work-items of a chunk share its rows in cache. */
#define CU_DWD_TAPS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
__kernel void cu_dw_direct(__global float *part, __global const float *dy, __global const float *x,
                           __global const float *x2, const int ka, const int N, const int K, const int M,
                           const int H, const int W, const int R)
{
    const int mp = (M + 1) / 2, blocks = (H + R - 1) / R, g = get_global_id(0);
    if (g >= mp * K * N * blocks)
        return;
    const int m0 = g % mp * 2, k = g / mp % K, c = g / (mp * K), n = c / blocks, r0 = c % blocks * R;
    const int m1 = min(m0 + 1, M - 1), r1 = min(r0 + R, H);
    __global const float *xc = part_plane(x, x2, ka, K, n, k, H * W);
    __global const float *g0 = dy + (n * M + m0) * H * W, *g1 = dy + (n * M + m1) * H * W;
#define CU_DECL(t) float16 a##t = (float16)(0.0f), b##t = (float16)(0.0f);
    CU_DWD_TAPS(CU_DECL)
#undef CU_DECL
    for (int oy = r0; oy < r1; oy++) {
        for (int ox0 = 0; ox0 < W; ox0 += 16) {
            float16 d0, d1;
            if (ox0 + 16 <= W) {
                d0 = CU_LOADU(g0 + oy * W + ox0);
                d1 = CU_LOADU(g1 + oy * W + ox0);
            } else { /* past the right edge: dy lanes 0, so the x lanes do not matter */
                float t0[16], t1[16];
                for (int i = 0; i < 16; i++) {
                    t0[i] = ox0 + i < W ? g0[oy * W + ox0 + i] : 0.0f;
                    t1[i] = ox0 + i < W ? g1[oy * W + ox0 + i] : 0.0f;
                }
                d0 = vload16(0, t0);
                d1 = vload16(0, t1);
            }
            const bool inner = ox0 >= 1 && ox0 + 17 <= W;
#define CU_TAP(t, ky, kx)                                                                                         \
    {                                                                                                             \
        float16 xv;                                                                                               \
        if (inner) {                                                                                              \
            xv = CU_LOADU(row + ox0 + (kx) - 1);                                                                  \
        } else {                                                                                                  \
            float s_[16];                                                                                         \
            for (int i = 0; i < 16; i++) {                                                                        \
                const int ix = ox0 + (kx) - 1 + i;                                                                \
                s_[i] = ix >= 0 && ix < W ? row[ix] : 0.0f;                                                       \
            }                                                                                                     \
            xv = vload16(0, s_);                                                                                  \
        }                                                                                                         \
        a##t = fma(d0, xv, a##t);                                                                                 \
        b##t = fma(d1, xv, b##t);                                                                                 \
    }
#define CU_ROW(ky, t0, t1, t2)                                                                                    \
    {                                                                                                             \
        const int iy = oy + (ky) - 1;                                                                             \
        if (iy >= 0 && iy < H) {                                                                                  \
            __global const float *row = xc + iy * W;                                                              \
            CU_TAP(t0, ky, 0)                                                                                     \
            CU_TAP(t1, ky, 1)                                                                                     \
            CU_TAP(t2, ky, 2)                                                                                     \
        }                                                                                                         \
    }
            CU_ROW(0, 0, 1, 2)
            CU_ROW(1, 3, 4, 5)
            CU_ROW(2, 6, 7, 8)
#undef CU_ROW
#undef CU_TAP
        }
    }
    __global float *out = part + ((c * M + m0) * K + k) * 9;
#define CU_PUT(t)                                                                                                 \
    out[t] = lane_sum(a##t);                                                                                      \
    if (m0 + 1 < M)                                                                                               \
        out[K * 9 + t] = lane_sum(b##t);
    CU_DWD_TAPS(CU_PUT)
#undef CU_PUT
}

/* x[iy][ox0 - 1 + kx + lane] for kx = 0, 1, 2 (zero outside the row or
 * the image): the aligned vector and its two neighbours, the one past a
 * border run's edge the aligned vector with a zero shifted in. */
static void x_taps(__global const float *xc, const int iy, const int H, const int W, const int ox0, float16 *l,
                   float16 *m, float16 *r)
{
    if (iy < 0 || iy >= H) {
        *l = *m = *r = (float16)(0.0f);
        return;
    }
    __global const float *row = xc + iy * W + ox0;
    *m = CU_LOADU(row);
    *l = ox0 == 0 ? shuffle2(*m, (float16)(0.0f), CU_SHIFT_R) : CU_LOADU(row - 1);
    *r = ox0 + 16 == W ? shuffle2(*m, (float16)(0.0f), CU_SHIFT_L) : CU_LOADU(row + 1);
}

/* cu_dw_direct for W % 16 == 0, for one output channel a work-item: it
 * walks its rows down one 16-pixel column at a time, keeping the three
 * shifted vectors of the input rows oy - 1 and oy in registers, so each
 * output row loads one new input row (3 vectors) and one dy vector for 9
 * FMAs; a border run shifts a zero in instead of gathering lane by lane.
 * part[c][m][k][t] as cu_dw_direct; range M*K*chunks = (m, k, chunk). */
__kernel void cu_dw3_rows(__global float *part, __global const float *dy, __global const float *x,
                          __global const float *x2, const int ka, const int N, const int K, const int M,
                          const int H, const int W, const int R)
{
    const int blocks = (H + R - 1) / R, g = get_global_id(0);
    if (g >= M * K * N * blocks)
        return;
    const int m = g % M, k = g / M % K, c = g / (M * K), n = c / blocks, r0 = c % blocks * R;
    const int r1 = min(r0 + R, H);
    __global const float *xc = part_plane(x, x2, ka, K, n, k, H * W);
    __global const float *g0 = dy + (n * M + m) * H * W;
#define CU_DECL(t) float16 a##t = (float16)(0.0f);
    CU_DWD_TAPS(CU_DECL)
#undef CU_DECL
    for (int ox0 = 0; ox0 < W; ox0 += 16) {
        float16 pl, pm, pr, ql, qm, qr; /* input rows oy - 1 and oy */
        x_taps(xc, r0 - 1, H, W, ox0, &pl, &pm, &pr);
        x_taps(xc, r0, H, W, ox0, &ql, &qm, &qr);
        for (int oy = r0; oy < r1; oy++) {
            float16 sl, sm, sr; /* input row oy + 1 */
            x_taps(xc, oy + 1, H, W, ox0, &sl, &sm, &sr);
            const float16 d = CU_LOADU(g0 + oy * W + ox0);
            a0 = fma(d, pl, a0);
            a1 = fma(d, pm, a1);
            a2 = fma(d, pr, a2);
            a3 = fma(d, ql, a3);
            a4 = fma(d, qm, a4);
            a5 = fma(d, qr, a5);
            a6 = fma(d, sl, a6);
            a7 = fma(d, sm, a7);
            a8 = fma(d, sr, a8);
            pl = ql;
            pm = qm;
            pr = qr;
            ql = sl;
            qm = sm;
            qr = sr;
        }
    }
    __global float *out = part + ((c * M + m) * K + k) * 9;
#define CU_PUT(t) out[t] = lane_sum(a##t);
    CU_DWD_TAPS(CU_PUT)
#undef CU_PUT
}

/* dw[i] += sum over the chunks c of part[c][i], in chunk order
 * (deterministic). Range M*K*9. */
__kernel void cu_dw_direct_sum(__global float *dw, __global const float *part, const int n, const int chunks)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    float s = 0.0f;
    for (int c = 0; c < chunks; c++)
        s += part[c * n + i];
    dw[i] += s;
}
