/* wino4.cl: the 3x3 'same' convolution (stride 1, pad 1) as Winograd
 * F(4x4,3x3), its forward, data gradient and weight gradient on CPU
 * devices (src/cl/cl_ops_wino.c drives it, docs/cl-ops.md): every 4x4
 * block of outputs ("tile") comes from a 6x6 block of inputs, and the 144
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
 * weight gradient's own kernels are at the end. OpenCL C 1.2, float
 * literals explicit (PoCL), every index guarded. */

#if !defined(CU_WINO_SKEW)
#error "wino4.cl needs CU_WINO_SKEW from the build options (src/cl/cl_consts.h)"
#endif

/* o = B^T i for six floats (the tile-by-tile path; runs: CU_BT6N) */
#define CU_BT6(o, i)                                                                                              \
    do {                                                                                                          \
        const float t0_ = i[4] - 4.0f * i[2], t1_ = i[3] - 4.0f * i[1];                                           \
        const float t2_ = i[4] - i[2], t3_ = 2.0f * (i[3] - i[1]);                                                \
        o[0] = 4.0f * i[0] - 5.0f * i[2] + i[4];                                                                  \
        o[1] = t0_ + t1_;                                                                                         \
        o[2] = t0_ - t1_;                                                                                         \
        o[3] = t2_ + t3_;                                                                                         \
        o[4] = t2_ - t3_;                                                                                         \
        o[5] = 4.0f * i[1] - 5.0f * i[3] + i[5];                                                                  \
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

/* U[xi][m][k] = (G g G^T)[xi] for g the 3x3 kernel of output m, input k
 * (CU_KERNEL3: flip = 1 for the data gradient). Range M*K = (k, m). */
__kernel void cu_wino4_weights(__global float *u, const int uo, __global const float *w, const int M, const int K,
                               const int flip)
{
    const int g = get_global_id(0);
    if (g >= M * K)
        return;
    const int k = g % K, m = g / K;
    CU_KERNEL3(w, M, K, m, k, flip);
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

/* The offsets in the plane (of tpr, ty, tx, W in scope) of a run's four
 * vectors in its first output row, image row 4 ty: vector v (lanes
 * 4v..4v+3) at tile row ty + dv<v> (dv0 = 0), tile column tx + 4v % tpr.
 * Constant shapes instead of divisions by tpr. */
#define CU_RUN_OFFSETS                                                                                            \
    const int dv1 = tpr == 4, dv2 = tpr == 16 ? 0 : tpr == 8 ? 1 : 2;                                             \
    const int dv3 = tpr == 16 ? 0 : tpr == 8 ? 1 : 3;                                                             \
    const int off0 = 4 * ty * W + 4 * tx, off1 = off0 + 4 * dv1 * W + (tpr == 4 ? 0 : 16);                        \
    const int off2 = off0 + 4 * dv2 * W + (tpr == 16 ? 32 : 0);                                                   \
    const int off3 = off0 + 4 * dv3 * W + (tpr == 16 ? 48 : tpr == 8 ? 16 : 0)

__constant int cu_lane[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* o0 .. o5 = B^T (i0 .. i5) for float16 lanes, as named values (CU_G6
 * says why not arrays) */
#define CU_BT6N(o, i0, i1, i2, i3, i4, i5)                                                                        \
    const float16 o##a = (i4) - 4.0f * (i2), o##b = (i3) - 4.0f * (i1), o##c = (i4) - (i2);                      \
    const float16 o##d = 2.0f * ((i3) - (i1));                                                                    \
    const float16 o##0 = 4.0f * (i0) - 5.0f * (i2) + (i4), o##1 = o##a + o##b, o##2 = o##a - o##b;               \
    const float16 o##3 = o##c + o##d, o##4 = o##c - o##d, o##5 = 4.0f * (i1) - 5.0f * (i3) + (i5)

/* Vector v of input row r of a run: the 16 floats at tile row ty + dv<v>
 * (offset off<v> in the plane), zero for rows outside the image (a row
 * inside read instead, then dropped: no branch). */
#define CU_IN_LOAD(r, v)                                                                                          \
    const int iy##r##v = 4 * (ty + dv##v) - 1 + (r);                                                              \
    const bool ok##r##v = iy##r##v >= 0 && iy##r##v < H;                                                          \
    const float16 ld##r##v = CU_LOADU(plane + off##v + (ok##r##v ? (r) - 1 : 0) * W);                             \
    const float16 s##r##v = ok##r##v ? ld##r##v : (float16)(0.0f);

/* Input row r (0..5) of the 6 x 6 blocks of a run, as e<r>0 .. e<r>5 = the
 * row times B: four 16-float loads split four ways (columns 1-4 of the
 * blocks), the columns 0 and 5 shifted in from the neighbouring tiles, or
 * from the pixels left and right of the run, or zero at the image's
 * edges. */
#define CU_IN_ROW(r)                                                                                              \
    CU_IN_LOAD(r, 0) CU_IN_LOAD(r, 1) CU_IN_LOAD(r, 2) CU_IN_LOAD(r, 3)                                           \
    const bool in##r = tpr == 16 && 4 * ty - 1 + (r) >= 0 && 4 * ty - 1 + (r) < H;                                \
    const float l##r = in##r && tx > 0 ? plane[off0 + ((r) - 1) * W - 1] : 0.0f;                                 \
    const float rt##r = in##r && 4 * tx + 64 < W ? plane[off0 + ((r) - 1) * W + 64] : 0.0f;                      \
    const float16 ev##r = shuffle2(s##r##0, s##r##1, CU_EVEN), od##r = shuffle2(s##r##0, s##r##1, CU_ODD);        \
    const float16 ew##r = shuffle2(s##r##2, s##r##3, CU_EVEN), ow##r = shuffle2(s##r##2, s##r##3, CU_ODD);        \
    const float16 c##r##1 = shuffle2(ev##r, ew##r, CU_EVEN), c##r##2 = shuffle2(od##r, ow##r, CU_EVEN);           \
    const float16 c##r##3 = shuffle2(ev##r, ew##r, CU_ODD), c##r##4 = shuffle2(od##r, ow##r, CU_ODD);             \
    const float16 c##r##0 = select(shuffle2(c##r##4, (float16)(0.0f), CU_SHIFT_R), (float16)(l##r), first);      \
    const float16 c##r##5 = select(shuffle2(c##r##1, (float16)(0.0f), CU_SHIFT_L), (float16)(rt##r), last);      \
    CU_BT6N(e##r, c##r##0, c##r##1, c##r##2, c##r##3, c##r##4, c##r##5);

/* Column i of (d B): B^T down it, each xi one aligned 64-byte store. */
#define CU_IN_COL(i)                                                                                              \
    {                                                                                                             \
        CU_BT6N(v, e0##i, e1##i, e2##i, e3##i, e4##i, e5##i);                                                     \
        *(__global float16 *)(dst + (0 + (i)) * xi_stride) = v0;                                                  \
        *(__global float16 *)(dst + (6 + (i)) * xi_stride) = v1;                                                  \
        *(__global float16 *)(dst + (12 + (i)) * xi_stride) = v2;                                                 \
        *(__global float16 *)(dst + (18 + (i)) * xi_stride) = v3;                                                 \
        *(__global float16 *)(dst + (24 + (i)) * xi_stride) = v4;                                                 \
        *(__global float16 *)(dst + (30 + (i)) * xi_stride) = v5;                                                 \
    }

/* V of a run of 16 tiles (run_tpr), each lane a tile. */
static void input_run(__global float *dst, const int xi_stride, __global const float *plane, const int H,
                      const int W, const int ty, const int tx, const int tpr)
{
    const int16 lane = vload16(0, cu_lane);
    const int16 first = (lane & (tpr - 1)) == 0, last = (lane & (tpr - 1)) == tpr - 1;
    CU_RUN_OFFSETS;
    const int dv0 = 0;
    CU_IN_ROW(0) CU_IN_ROW(1) CU_IN_ROW(2) CU_IN_ROW(3) CU_IN_ROW(4) CU_IN_ROW(5)
    CU_IN_COL(0) CU_IN_COL(1) CU_IN_COL(2) CU_IN_COL(3) CU_IN_COL(4) CU_IN_COL(5)
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
            cu_tile_next(&n, &ty, &tx, TH, TW);
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

/* o0 .. o3 = A^T (i0 .. i5) for float16 lanes, as named values (CU_G6
 * says why not arrays) */
#define CU_AT6N(o, i0, i1, i2, i3, i4, i5)                                                                        \
    const float16 o##s = (i1) + (i2), o##d = (i1) - (i2), o##t = (i3) + (i4), o##e = (i3) - (i4);                 \
    const float16 o##0 = (i0) + o##s + o##t, o##1 = o##d + 2.0f * o##e, o##2 = o##s + 4.0f * o##t;                \
    const float16 o##3 = o##d + 8.0f * o##e + (i5)

/* y = A^T P A for tiles t0 + 16q .. t0 + 16q + 15 (those < T) of output
 * channel m, in wino.cl's cu_wino_output modes: 0: y = act(. + b[m])
 * (relu != 0: ReLU); 1: y += .; 2: y = .; 3: y = . where the mask [xm,
 * xm2] (split as y) is > 0, else 0. y: (N, M, H, W) in two parts [y, y2]
 * split at ma. The 4 x 4 outputs of the 16 tiles are o<c><r> (lane j:
 * tile j). A run (run_tpr) is stored as 4 rows of 16-float vectors
 * (input_run's offsets), the other tiles value by value. Range M*Q =
 * (q, m). */
__kernel void cu_wino4_output(__global float *y, __global float *y2, const int ma, __global const float *xm,
                              __global const float *xm2, __global const float *p, const int po,
                              __global const float *b, const int M, const int H, const int W, const int t0,
                              const int T, const int Q, const int relu, const int mode)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    __global const float *src = p + po + m * Q * 16 + q * 16;
    const int xs = M * Q * 16 + CU_WINO_SKEW;
    const float bias = mode == 0 ? b[m] : 0.0f;
#define CU_P(a, i) (*(__global const float16 *)(src + (6 * (a) + (i)) * xs))
#define CU_PA(a) CU_AT6N(f##a, CU_P(a, 0), CU_P(a, 1), CU_P(a, 2), CU_P(a, 3), CU_P(a, 4), CU_P(a, 5));
    CU_PA(0) CU_PA(1) CU_PA(2) CU_PA(3) CU_PA(4) CU_PA(5) /* f<a><c> = (P A)[a][c] */
#undef CU_PA
#undef CU_P
#define CU_COL(c) CU_AT6N(o##c, f0##c, f1##c, f2##c, f3##c, f4##c, f5##c);
    CU_COL(0) CU_COL(1) CU_COL(2) CU_COL(3) /* o<c><r>: output (r, c) of the 16 tiles */
#undef CU_COL
    const int TW = (W + 3) / 4, TH = (H + 3) / 4, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    const int tpr = run_tpr(t, T, H, W, ty, tx);
    __global float *dst = part_plane_w(y, y2, ma, M, n, m, H * W);
    __global const float *mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) : dst;
    if (tpr) {
        CU_RUN_OFFSETS;
#define CU_STORE_ROW(r)                                                                                           \
    {                                                                                                             \
        const float16 a_ = shuffle2(o0##r, o2##r, CU_LO), c_ = shuffle2(o1##r, o3##r, CU_LO);                     \
        const float16 d_ = shuffle2(o0##r, o2##r, CU_HI), e_ = shuffle2(o1##r, o3##r, CU_HI);                     \
        cu_out16(dst + off0 + (r) * W, mk + off0 + (r) * W, shuffle2(a_, c_, CU_LO), mode, bias, relu);           \
        cu_out16(dst + off1 + (r) * W, mk + off1 + (r) * W, shuffle2(a_, c_, CU_HI), mode, bias, relu);           \
        cu_out16(dst + off2 + (r) * W, mk + off2 + (r) * W, shuffle2(d_, e_, CU_LO), mode, bias, relu);           \
        cu_out16(dst + off3 + (r) * W, mk + off3 + (r) * W, shuffle2(d_, e_, CU_HI), mode, bias, relu);           \
    }
        CU_STORE_ROW(0) CU_STORE_ROW(1) CU_STORE_ROW(2) CU_STORE_ROW(3)
#undef CU_STORE_ROW
        return;
    }
    float out[4][4][16];
#define CU_KEEP(r, c) vstore16(mode == 0 ? cu_bias_act16(o##c##r, bias, relu) : o##c##r, 0, out[r][c]);
#define CU_KEEP_ROW(r) CU_KEEP(r, 0) CU_KEEP(r, 1) CU_KEEP(r, 2) CU_KEEP(r, 3)
    CU_KEEP_ROW(0) CU_KEEP_ROW(1) CU_KEEP_ROW(2) CU_KEEP_ROW(3)
#undef CU_KEEP_ROW
#undef CU_KEEP
    for (int j = 0; j < 16 && t < T; j++, t++) {
        dst = part_plane_w(y, y2, ma, M, n, m, H * W);
        mk = mode == 3 ? part_plane(xm, xm2, ma, M, n, m, H * W) : dst;
        for (int r = 0; r < 4 && 4 * ty + r < H; r++)
            for (int c = 0; c < 4 && 4 * tx + c < W; c++)
                cu_out1(dst, mk, (4 * ty + r) * W + 4 * tx + c, out[r][c][j], mode);
        cu_tile_next(&n, &ty, &tx, TH, TW);
    }
}

/* The weight gradient (cl_ops_wino.c, cu_cl_wino_dw), as wino.cl's for
 * F(2x2) with the 6 x 6 transforms: dL/dU = sum over tiles of
 * (A dY A^T) . V and dL/dg = G^T (dL/dU) G:
 *   Y'[xi] = A dY A^T     6x6 per 4x4 tile of dy, [36][M][Q][16] (kmajor)
 *   D[xi]  = Y'[xi] V[xi]^T   summed over the tiles: cu_wino_dw_gemm, nxi = 36
 *   dw    += G^T D G */

/* o0 .. o5 = A (i0 .. i3) for float16 lanes (A = (A^T)^T above), as
 * named values (CU_G6 says why not arrays) */
#define CU_A6N(o, i0, i1, i2, i3)                                                                                 \
    const float16 o##e = (i0) + (i2), o##f = (i1) + (i3), o##g = (i0) + 4.0f * (i2);                              \
    const float16 o##h = 2.0f * (i1) + 8.0f * (i3);                                                               \
    const float16 o##0 = (i0), o##1 = o##e + o##f, o##2 = o##e - o##f, o##3 = o##g + o##h, o##4 = o##g - o##h;    \
    const float16 o##5 = (i3)

/* The three values G^T (i0 .. i5)^T as the scalars o0 .. o2 (named
 * values: CU_G6 says why) */
#define CU_GT6(o, i0, i1, i2, i3, i4, i5)                                                                         \
    const float o##s12 = (i1) + (i2), o##s34 = (i3) + (i4);                                                       \
    const float o##0 = 0.25f * (i0) - CU_SIXTH * o##s12 + CU_24TH * o##s34;                                       \
    const float o##1 = CU_SIXTH * ((i2) - (i1)) + CU_TWELFTH * ((i3) - (i4));                                     \
    const float o##2 = CU_SIXTH * (o##s34 - o##s12) + (i5)

/* Y' = A dY A^T of 16 tiles, dY = d<r><c> (lane j: tile j), stored as
 * 36 aligned 64-byte lines xs floats apart from dst. */
static void dy_tiles(__global float *dst, const int xs, const float16 d00, const float16 d01, const float16 d02,
                     const float16 d03, const float16 d10, const float16 d11, const float16 d12, const float16 d13,
                     const float16 d20, const float16 d21, const float16 d22, const float16 d23, const float16 d30,
                     const float16 d31, const float16 d32, const float16 d33)
{
    CU_A6N(z0, d00, d10, d20, d30); /* A dY, column by column: z<c><a> = (A dY)[a][c] */
    CU_A6N(z1, d01, d11, d21, d31);
    CU_A6N(z2, d02, d12, d22, d32);
    CU_A6N(z3, d03, d13, d23, d33);
#define CU_ROW(a)                                                                                                 \
    {                                                                                                             \
        CU_A6N(v, z0##a, z1##a, z2##a, z3##a); /* row a of (A dY) A^T */                                          \
        *(__global float16 *)(dst + (6 * (a) + 0) * xs) = v0;                                                     \
        *(__global float16 *)(dst + (6 * (a) + 1) * xs) = v1;                                                     \
        *(__global float16 *)(dst + (6 * (a) + 2) * xs) = v2;                                                     \
        *(__global float16 *)(dst + (6 * (a) + 3) * xs) = v3;                                                     \
        *(__global float16 *)(dst + (6 * (a) + 4) * xs) = v4;                                                     \
        *(__global float16 *)(dst + (6 * (a) + 5) * xs) = v5;                                                     \
    }
    CU_ROW(0) CU_ROW(1) CU_ROW(2) CU_ROW(3) CU_ROW(4) CU_ROW(5)
#undef CU_ROW
}

/* Y'[xi][m][q][j] = (A dY A^T)[xi] of tile t = t0 + 16q + j, channel m of
 * dy (N, M, H, W); zero for t >= T and outputs outside the image. Runs
 * (run_tpr) load 4 rows of 16-float vectors at input_run's offsets, split
 * four ways; the other tiles value by value. Range Q*M = (q, m). */
__kernel void cu_wino4_dy(__global float *v, const int vo, __global const float *dy, const int M, const int H,
                          const int W, const int t0, const int T, const int Q)
{
    const int g = get_global_id(0);
    if (g >= M * Q)
        return;
    const int q = g % Q, m = g / Q;
    const int TW = (W + 3) / 4, TH = (H + 3) / 4, per = TH * TW;
    int t = t0 + q * 16, n = t / per, ty = t % per / TW, tx = t % TW;
    __global float *dst = v + vo + (m * Q + q) * 16;
    const int xs = Q * M * 16 + CU_WINO_SKEW;
    const int tpr = run_tpr(t, T, H, W, ty, tx);
    if (tpr) {
        __global const float *plane = dy + (n * M + m) * H * W;
        CU_RUN_OFFSETS;
#define CU_DY_ROW(r)                                                                                              \
    const float16 s##r##0 = CU_LOADU(plane + off0 + (r) * W), s##r##1 = CU_LOADU(plane + off1 + (r) * W);          \
    const float16 s##r##2 = CU_LOADU(plane + off2 + (r) * W), s##r##3 = CU_LOADU(plane + off3 + (r) * W);          \
    const float16 e##r = shuffle2(s##r##0, s##r##1, CU_EVEN), o##r = shuffle2(s##r##0, s##r##1, CU_ODD);          \
    const float16 f##r = shuffle2(s##r##2, s##r##3, CU_EVEN), p##r = shuffle2(s##r##2, s##r##3, CU_ODD);          \
    const float16 d##r##0 = shuffle2(e##r, f##r, CU_EVEN), d##r##1 = shuffle2(o##r, p##r, CU_EVEN);               \
    const float16 d##r##2 = shuffle2(e##r, f##r, CU_ODD), d##r##3 = shuffle2(o##r, p##r, CU_ODD);
        CU_DY_ROW(0) CU_DY_ROW(1) CU_DY_ROW(2) CU_DY_ROW(3)
#undef CU_DY_ROW
        dy_tiles(dst, xs, d00, d01, d02, d03, d10, d11, d12, d13, d20, d21, d22, d23, d30, d31, d32, d33);
        return;
    }
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
            cu_tile_next(&n, &ty, &tx, TH, TW);
        }
    }
#define CU_F(r, c) vload16(0, f[r][c])
    dy_tiles(dst, xs, CU_F(0, 0), CU_F(0, 1), CU_F(0, 2), CU_F(0, 3), CU_F(1, 0), CU_F(1, 1), CU_F(1, 2), CU_F(1, 3),
             CU_F(2, 0), CU_F(2, 1), CU_F(2, 2), CU_F(2, 3), CU_F(3, 0), CU_F(3, 1), CU_F(3, 2), CU_F(3, 3));
#undef CU_F
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
