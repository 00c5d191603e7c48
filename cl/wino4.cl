/* wino4.cl: the 3x3 'same' convolution (stride 1, pad 1) as Winograd
 * F(4x4,3x3), for the forward and the data gradient on CPU devices
 * (src/cl/cl_ops_wino.c drives it, docs/cl-ops.md): every 4x4 block of
 * outputs ("tile") comes from a 6x6 block of inputs, and the 144
 * multiplications per tile and channel pair of the direct convolution
 * become 36 (F(2x2,3x3) in wino.cl: 36 become 16, per 2x2 tile), one per
 * element xi of the 6x6 transform domain:
 *   U[xi] = G g G^T       weights, [36][M][K]
 *   V[xi] = B^T d B       input tiles, [36][Q][K][16] (Q panels of 16 tiles)
 *   P[xi] = U[xi] V[xi]   cu_wino_gemm (wino.cl) with nxi = 36, [36][M][16Q]
 *   y     = A^T P A       4x4 outputs per tile, + bias, ReLU; or dx's modes
 * with the interpolation points 0, 1, -1, 2, -2 (Lavin and Gray 2016):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *          0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *          1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 * The larger transforms round more than F(2x2)'s: the error against ref is
 * measured in tests/test_cl_wino.c (docs/cl-ops.md states it).
 * Tiles run over the images of the batch, row by row: t = (n*TH + ty)*TW
 * + tx with TH = ceil(H/4), TW = ceil(W/4), T = N*TH*TW of them, in chunks
 * of 16Q tiles from t0 (the host bounds the workspace); inputs past the
 * image edge read zeros, outputs past it are not stored (any H, W). The
 * weight gradient stays F(2x2,3x3) (wino.cl). OpenCL C 1.2, float
 * literals explicit (PoCL), every index guarded. */

#if !defined(CU_WINO_SKEW)
#error "wino4.cl needs CU_WINO_SKEW from the build options (src/cl/cl_consts.h)"
#endif

/* o = B^T i for six values (floats or float16 lanes alike) */
#define CU_BT6(o, i)                                                                                              \
    do {                                                                                                          \
        const __typeof__(i[0]) t0_ = i[4] - 4.0f * i[2], t1_ = i[3] - 4.0f * i[1];                                \
        const __typeof__(i[0]) t2_ = i[4] - i[2], t3_ = 2.0f * (i[3] - i[1]);                                     \
        o[0] = 4.0f * i[0] - 5.0f * i[2] + i[4];                                                                  \
        o[1] = t0_ + t1_;                                                                                         \
        o[2] = t0_ - t1_;                                                                                         \
        o[3] = t2_ + t3_;                                                                                         \
        o[4] = t2_ - t3_;                                                                                         \
        o[5] = 4.0f * i[1] - 5.0f * i[3] + i[5];                                                                  \
    } while (0)

/* o = A^T i: four values from six */
#define CU_AT6(o, i)                                                                                              \
    do {                                                                                                          \
        const __typeof__(i[0]) s12_ = i[1] + i[2], d12_ = i[1] - i[2], s34_ = i[3] + i[4], d34_ = i[3] - i[4];    \
        o[0] = i[0] + s12_ + s34_;                                                                                \
        o[1] = d12_ + 2.0f * d34_;                                                                                \
        o[2] = s12_ + 4.0f * s34_;                                                                                \
        o[3] = d12_ + 8.0f * d34_ + i[5];                                                                         \
    } while (0)

/* 1/6, 1/12, 1/24 as factors: multiplications, not divisions (a division
 * is rounded once too, but costs ~10x a multiplication; the weight
 * transforms run once per layer and step and were 3 % of a step) */
#define CU_SIXTH (1.0f / 6.0f)
#define CU_TWELFTH (1.0f / 12.0f)
#define CU_24TH (1.0f / 24.0f)

/* The six values G (a, b, c)^T as the scalars o0 .. o5: named values,
 * not private arrays, which LLVM stored element by element and read back
 * as vectors (a store-forwarding stall per 3x3 kernel: the weight
 * transforms were 4.5 % of a training step's samples, now 1.8 %). */
#define CU_G6(o, a, b, c)                                                                                         \
    const float o##s = CU_SIXTH * ((a) + (c)), o##t = CU_24TH * (a) + CU_SIXTH * (c), o##u = CU_TWELFTH * (b);    \
    const float o##0 = 0.25f * (a), o##1 = -o##s - CU_SIXTH * (b), o##2 = -o##s + CU_SIXTH * (b);                 \
    const float o##3 = o##t + o##u, o##4 = o##t - o##u, o##5 = (c)

/* U[xi][m][k] = (G g G^T)[xi] for g the 3x3 kernel of output m, input k:
 * flip = 0: g = w[m][k] (w: M x K x 3 x 3); flip = 1: g = w[k][m] turned by
 * 180 degrees (the data gradient). Range M*K = (k, m). */
__kernel void cu_wino4_weights(__global float *u, const int uo, __global const float *w, const int M, const int K,
                               const int flip)
{
    const int g = get_global_id(0);
    if (g >= M * K)
        return;
    const int k = g % K, m = g / K;
    __global const float *src = flip ? w + (k * M + m) * 9 : w + (m * K + k) * 9;
#define CU_TAP(i) const float f##i = src[flip ? 8 - (i) : (i)];
    CU_TAP(0) CU_TAP(1) CU_TAP(2) CU_TAP(3) CU_TAP(4) CU_TAP(5) CU_TAP(6) CU_TAP(7) CU_TAP(8)
#undef CU_TAP
    CU_G6(a, f0, f3, f6); /* G g, column by column: a<r> = (G g)[r][0] */
    CU_G6(b, f1, f4, f7);
    CU_G6(c, f2, f5, f8);
    __global float *dst = u + uo + m * K + k;
    const int xs = M * K + CU_WINO_SKEW;
#define CU_ROW(r)                                                                                                 \
    {                                                                                                             \
        CU_G6(v, a##r, b##r, c##r); /* row r of (G g) G^T */                                                      \
        dst[(6 * (r) + 0) * xs] = v0;                                                                             \
        dst[(6 * (r) + 1) * xs] = v1;                                                                             \
        dst[(6 * (r) + 2) * xs] = v2;                                                                             \
        dst[(6 * (r) + 3) * xs] = v3;                                                                             \
        dst[(6 * (r) + 4) * xs] = v4;                                                                             \
        dst[(6 * (r) + 5) * xs] = v5;                                                                             \
    }
    CU_ROW(0) CU_ROW(1) CU_ROW(2) CU_ROW(3) CU_ROW(4) CU_ROW(5)
#undef CU_ROW
}

/* A run of 16 tiles, lanes 0-15, that the vector paths below take: tpr
 * tiles per tile row (16, or 8 or 4 = the whole width), 16 / tpr tile rows.
 * Lanes 4v..4v+3 (vector v of a row of the 6x6 inputs or 4x4 outputs) lie
 * at tile row ty + 4v / tpr, tile column tx + 4v % tpr. 0 when the tiles
 * t .. t + 15 form no such run (t a multiple of 16). */
static int run_tpr(const int t, const int T, const int H, const int W, const int ty, const int tx)
{
    const int TW = W / 4, TH = H / 4;
    if (t + 16 > T || W % 4 || H % 4)
        return 0;
    if (TW % 16 == 0)
        return 16; /* t and TW multiples of 16: the run lies in one tile row */
    if ((TW == 8 || TW == 4) && tx == 0 && ty + 16 / TW <= TH)
        return TW;
    return 0;
}

__constant int cu_lane[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Input row r (0..5) of the 6 x 6 blocks of a run: c[i] lane j = the input
 * at column i of tile j's block, zero outside the image. Four 16-float
 * loads split four ways (columns 1-4 of the blocks), the columns 0 and 5
 * shifted in from the neighbouring tiles, or from the pixels left and right
 * of the run, or zero at the image's edges. */
#define CU_ROW6(c, r)                                                                                             \
    do {                                                                                                          \
        float16 s_[4];                                                                                            \
        for (int v_ = 0; v_ < 4; v_++) {                                                                          \
            const int iy_ = 4 * (ty + 4 * v_ / tpr) - 1 + (r);                                                    \
            s_[v_] = iy_ >= 0 && iy_ < H ? CU_LOADU(plane + iy_ * W + 4 * (tx + 4 * v_ % tpr)) : (float16)(0.0f); \
        }                                                                                                         \
        const int y0_ = 4 * ty - 1 + (r);                                                                         \
        const bool in_ = tpr == 16 && y0_ >= 0 && y0_ < H;                                                        \
        const float l_ = in_ && tx > 0 ? plane[y0_ * W + 4 * tx - 1] : 0.0f;                                     \
        const float r_ = in_ && 4 * tx + 64 < W ? plane[y0_ * W + 4 * tx + 64] : 0.0f;                           \
        const float16 e0_ = shuffle2(s_[0], s_[1], CU_EVEN), o0_ = shuffle2(s_[0], s_[1], CU_ODD);               \
        const float16 e1_ = shuffle2(s_[2], s_[3], CU_EVEN), o1_ = shuffle2(s_[2], s_[3], CU_ODD);               \
        c[1] = shuffle2(e0_, e1_, CU_EVEN);                                                                       \
        c[2] = shuffle2(o0_, o1_, CU_EVEN);                                                                       \
        c[3] = shuffle2(e0_, e1_, CU_ODD);                                                                        \
        c[4] = shuffle2(o0_, o1_, CU_ODD);                                                                        \
        c[0] = select(shuffle2(c[4], (float16)(0.0f), CU_SHIFT_R), (float16)(l_), (lane & (tpr - 1)) == 0);       \
        c[5] = select(shuffle2(c[1], (float16)(0.0f), CU_SHIFT_L), (float16)(r_), (lane & (tpr - 1)) == tpr - 1); \
    } while (0)

/* V of a run of 16 tiles (run_tpr), each lane a tile: (d B) row by row,
 * then B^T down each column, each xi one aligned 64-byte store. */
static void input_run(__global float *dst, const int xi_stride, __global const float *plane, const int H,
                      const int W, const int ty, const int tx, const int tpr)
{
    const int16 lane = vload16(0, cu_lane);
    float16 e[6][6]; /* e[r] = (d B) of input row r */
    for (int r = 0; r < 6; r++) {
        float16 c[6];
        CU_ROW6(c, r);
        CU_BT6(e[r], c);
    }
    for (int i = 0; i < 6; i++) {
        const float16 col[6] = {e[0][i], e[1][i], e[2][i], e[3][i], e[4][i], e[5][i]};
        float16 o[6];
        CU_BT6(o, col);
        for (int a = 0; a < 6; a++)
            *(__global float16 *)(dst + (a * 6 + i) * xi_stride) = o[a];
    }
}

/* V[xi][q][k][j] = (B^T d B)[xi] of tile t = t0 + 16q + j, input channel
 * k (kmajor: V[xi][k][q][j], for the weight gradient); zero for t >= T.
 * x: the whole batch (N, K, H, W) in two parts [x, x2] split at ka. Runs
 * of 16 tiles (run_tpr) as vectors, the others tile by tile. Range Q*K =
 * (q, k), panels fastest. */
__kernel void cu_wino4_input(__global float *v, const int vo, __global const float *x, __global const float *x2,
                             const int ka, const int K, const int H, const int W, const int t0, const int T,
                             const int Q, const int kmajor)
{
    const int g = get_global_id(0);
    if (g >= K * Q)
        return;
    const int q = g % Q, k = g / Q;
    const int TW = (W + 3) / 4, TH = (H + 3) / 4, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    __global float *dst = v + vo + (kmajor ? k * Q + q : q * K + k) * 16;
    const int xi_stride = Q * K * 16 + CU_WINO_SKEW;
    const int tpr = run_tpr(t, T, H, W, ty, tx);
    if (tpr) {
        input_run(dst, xi_stride, part_plane(x, x2, ka, K, n, k, H * W), H, W, ty, tx, tpr);
        return;
    }
    for (int j = 0; j < 16; j++, t++) {
        float d[6][6];
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++)
                d[r][c] = 0.0f;
        if (t < T) {
            __global const float *plane = part_plane(x, x2, ka, K, n, k, H * W);
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++) {
                    const int iy = 4 * ty - 1 + r, ix = 4 * tx - 1 + c;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                        d[r][c] = plane[iy * W + ix];
                }
            if (++tx == TW) {
                tx = 0;
                if (++ty == TH) {
                    ty = 0;
                    n++;
                }
            }
        }
        float e[6][6];
        for (int r = 0; r < 6; r++)
            CU_BT6(e[r], d[r]);
        for (int i = 0; i < 6; i++) {
            const float col[6] = {e[0][i], e[1][i], e[2][i], e[3][i], e[4][i], e[5][i]};
            float o[6];
            CU_BT6(o, col);
            for (int a = 0; a < 6; a++)
                dst[(a * 6 + i) * xi_stride + j] = o[a];
        }
    }
}

/* The 4 x 4 outputs of 16 tiles (lane j: tile j; o[r][c]) from P. */
static void output_tiles(float16 o[4][4], __global const float *src, const int xi_stride)
{
    float16 f[6][4]; /* f[a] = (P A) of row a */
    for (int a = 0; a < 6; a++) {
        float16 s[6];
        for (int i = 0; i < 6; i++)
            s[i] = *(__global const float16 *)(src + (a * 6 + i) * xi_stride);
        CU_AT6(f[a], s);
    }
    for (int c = 0; c < 4; c++) {
        const float16 col[6] = {f[0][c], f[1][c], f[2][c], f[3][c], f[4][c], f[5][c]};
        float16 r[4];
        CU_AT6(r, col);
        for (int i = 0; i < 4; i++)
            o[i][c] = r[i];
    }
}

/* One output value in mode 1 (add), 3 (through the mask's ReLU) or else
 * (store). */
static void put(__global float *dst, __global const float *mk, const int at, const float v, const int mode)
{
    if (mode == 1)
        dst[at] += v;
    else
        dst[at] = mode == 3 && !(mk[at] > 0.0f) ? 0.0f : v;
}

/* y = A^T P A for tiles t0 + 16q .. t0 + 16q + 15 (those < T) of output
 * channel m, in wino.cl's cu_wino_output modes: 0: y = act(. + b[m])
 * (relu != 0: ReLU); 1: y += .; 2: y = .; 3: y = . where the mask [xm,
 * xm2] (split as y) is > 0, else 0. y: (N, M, H, W) in two parts [y, y2]
 * split at ma. A run (run_tpr) is stored as 4 rows of 16-float vectors,
 * the other tiles value by value. Range M*Q = (q, m). */
__kernel void cu_wino4_output(__global float *y, __global float *y2, const int ma, __global const float *xm,
                              __global const float *xm2, __global const float *p, const int po,
                              __global const float *b, const int M, const int H, const int W, const int t0,
                              const int T, const int Q, const int relu, const int mode)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    float16 o[4][4];
    output_tiles(o, p + po + m * Q * 16 + q * 16, M * Q * 16 + CU_WINO_SKEW);
    if (mode == 0) {
        const float16 bias = (float16)(b[m]);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) {
                o[r][c] += bias;
                if (relu)
                    o[r][c] = select(o[r][c], (float16)(0.0f), o[r][c] < (float16)(0.0f)); /* a NaN stays NaN */
            }
    }
    const int TW = (W + 3) / 4, TH = (H + 3) / 4, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    const int tpr = run_tpr(t, T, H, W, ty, tx);
    if (tpr) {
        __global float *dst = part_plane_w(y, y2, ma, M, n, m, H * W);
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) : xm;
        for (int r = 0; r < 4; r++) {
            const float16 a = shuffle2(o[r][0], o[r][2], CU_LO), c = shuffle2(o[r][1], o[r][3], CU_LO);
            const float16 d = shuffle2(o[r][0], o[r][2], CU_HI), e = shuffle2(o[r][1], o[r][3], CU_HI);
            float16 w[4] = {shuffle2(a, c, CU_LO), shuffle2(a, c, CU_HI), shuffle2(d, e, CU_LO),
                            shuffle2(d, e, CU_HI)}; /* tiles 4v .. 4v + 3, 4 values each */
            for (int v = 0; v < 4; v++) {
                const int at = (4 * (ty + 4 * v / tpr) + r) * W + 4 * (tx + 4 * v % tpr);
                if (mode == 1)
                    w[v] += CU_LOADU(dst + at);
                else if (mode == 3)
                    w[v] = select((float16)(0.0f), w[v], CU_LOADU(mk + at) > (float16)(0.0f));
                CU_STOREU(w[v], dst + at);
            }
        }
        return;
    }
    float out[4][4][16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            vstore16(o[r][c], 0, out[r][c]);
    for (int j = 0; j < 16 && t < T; j++, t++) {
        __global float *dst = part_plane_w(y, y2, ma, M, n, m, H * W);
        __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) : xm;
        for (int r = 0; r < 4 && 4 * ty + r < H; r++)
            for (int c = 0; c < 4 && 4 * tx + c < W; c++)
                put(dst, mk, (4 * ty + r) * W + 4 * tx + c, out[r][c][j], mode);
        if (++tx == TW) {
            tx = 0;
            if (++ty == TH) {
                ty = 0;
                n++;
            }
        }
    }
}

/* The weight gradient (cl_ops_wino.c, cu_cl_wino_dw), as wino.cl's for
 * F(2x2) with the 6 x 6 transforms: dL/dU = sum over tiles of
 * (A dY A^T) . V and dL/dg = G^T (dL/dU) G:
 *   Y'[xi] = A dY A^T     6x6 per 4x4 tile of dy, [36][M][Q][16] (kmajor)
 *   D[xi]  = Y'[xi] V[xi]^T   summed over the tiles: cu_wino_dw_gemm, nxi = 36
 *   dw    += G^T D G */

/* o = A i: six values from four (A = (A^T)^T above) */
#define CU_A6(o, i)                                                                                               \
    do {                                                                                                          \
        const __typeof__(i[0]) e_ = i[0] + i[2], f_ = i[1] + i[3];                                                \
        const __typeof__(i[0]) g_ = i[0] + 4.0f * i[2], h_ = 2.0f * i[1] + 8.0f * i[3];                           \
        o[0] = i[0];                                                                                              \
        o[1] = e_ + f_;                                                                                           \
        o[2] = e_ - f_;                                                                                           \
        o[3] = g_ + h_;                                                                                           \
        o[4] = g_ - h_;                                                                                           \
        o[5] = i[3];                                                                                              \
    } while (0)

/* The three values G^T (i0 .. i5)^T as the scalars o0 .. o2 (named
 * values: CU_G6 says why) */
#define CU_GT6(o, i0, i1, i2, i3, i4, i5)                                                                         \
    const float o##s12 = (i1) + (i2), o##s34 = (i3) + (i4);                                                       \
    const float o##0 = 0.25f * (i0) - CU_SIXTH * o##s12 + CU_24TH * o##s34;                                       \
    const float o##1 = CU_SIXTH * ((i2) - (i1)) + CU_TWELFTH * ((i3) - (i4));                                     \
    const float o##2 = CU_SIXTH * (o##s34 - o##s12) + (i5)

/* Y'[xi][m][q][j] = (A dY A^T)[xi] of tile t = t0 + 16q + j, channel m of
 * dy (N, M, H, W); zero for t >= T and outputs outside the image. Runs
 * (run_tpr) load 4 rows of 16-float vectors, split four ways. Range Q*M =
 * (q, m). */
__kernel void cu_wino4_dy(__global float *v, const int vo, __global const float *dy, const int M, const int H,
                          const int W, const int t0, const int T, const int Q)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    const int TW = (W + 3) / 4, TH = (H + 3) / 4, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    float16 z[6][4]; /* A dY: row a of the 6 x 4 */
    const int tpr = run_tpr(t, T, H, W, ty, tx);
    if (tpr) {
        __global const float *plane = dy + (n * M + m) * H * W;
        float16 c[4][4]; /* dY row r, column c of the 16 tiles */
        for (int r = 0; r < 4; r++) {
            float16 s[4];
            for (int v4 = 0; v4 < 4; v4++)
                s[v4] = CU_LOADU(plane + (4 * (ty + 4 * v4 / tpr) + r) * W + 4 * (tx + 4 * v4 % tpr));
            const float16 e0 = shuffle2(s[0], s[1], CU_EVEN), o0 = shuffle2(s[0], s[1], CU_ODD);
            const float16 e1 = shuffle2(s[2], s[3], CU_EVEN), o1 = shuffle2(s[2], s[3], CU_ODD);
            c[r][0] = shuffle2(e0, e1, CU_EVEN);
            c[r][1] = shuffle2(o0, o1, CU_EVEN);
            c[r][2] = shuffle2(e0, e1, CU_ODD);
            c[r][3] = shuffle2(o0, o1, CU_ODD);
        }
        for (int col = 0; col < 4; col++) {
            const float16 in[4] = {c[0][col], c[1][col], c[2][col], c[3][col]};
            float16 o[6];
            CU_A6(o, in);
            for (int a = 0; a < 6; a++)
                z[a][col] = o[a];
        }
    } else {
        float f[4][4][16];
        for (int j = 0; j < 16; j++, t++) {
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    f[r][c][j] = 0.0f;
            if (t < T) {
                __global const float *plane = dy + (n * M + m) * H * W;
                for (int r = 0; r < 4 && 4 * ty + r < H; r++)
                    for (int c = 0; c < 4 && 4 * tx + c < W; c++)
                        f[r][c][j] = plane[(4 * ty + r) * W + 4 * tx + c];
                if (++tx == TW) {
                    tx = 0;
                    if (++ty == TH) {
                        ty = 0;
                        n++;
                    }
                }
            }
        }
        for (int col = 0; col < 4; col++) {
            const float16 in[4] = {vload16(0, f[0][col]), vload16(0, f[1][col]), vload16(0, f[2][col]),
                                   vload16(0, f[3][col])};
            float16 o[6];
            CU_A6(o, in);
            for (int a = 0; a < 6; a++)
                z[a][col] = o[a];
        }
    }
    __global float *dst = v + vo + (m * Q + q) * 16;
    const int xi_stride = Q * M * 16 + CU_WINO_SKEW;
    for (int a = 0; a < 6; a++) { /* (A dY) A^T, row by row */
        float16 o[6];
        CU_A6(o, z[a]);
        for (int b = 0; b < 6; b++)
            *(__global float16 *)(dst + (a * 6 + b) * xi_stride) = o[b];
    }
}

/* dw[m][k] += G^T D[.][m][k] G (3 x 3 from 6 x 6). Range M*K = (k, m). */
__kernel void cu_wino4_dw_out(__global float *dw, __global const float *d, const int dof, const int M, const int K)
{
    const int g = get_global_id(0);
    if (g >= M * K)
        return;
    const int xs = M * K + CU_WINO_SKEW;
#define CU_D(a, c) d[dof + (6 * (a) + (c)) * xs + g]
#define CU_COL(j) CU_GT6(c##j, CU_D(0, j), CU_D(1, j), CU_D(2, j), CU_D(3, j), CU_D(4, j), CU_D(5, j));
    CU_COL(0) CU_COL(1) CU_COL(2) CU_COL(3) CU_COL(4) CU_COL(5) /* G^T D: c<c><r> = (G^T D)[r][c] */
#undef CU_COL
#undef CU_D
    __global float *out = dw + g * 9;
#define CU_ROW(r)                                                                                                 \
    {                                                                                                             \
        CU_GT6(v, c0##r, c1##r, c2##r, c3##r, c4##r, c5##r); /* row r of (G^T D) G */                             \
        out[3 * (r)] += v0;                                                                                       \
        out[3 * (r) + 1] += v1;                                                                                   \
        out[3 * (r) + 2] += v2;                                                                                   \
    }
    CU_ROW(0) CU_ROW(1) CU_ROW(2)
#undef CU_ROW
}
