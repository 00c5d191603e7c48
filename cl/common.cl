/* common.cl: what several kernel files share, prepended to each of them
 * when it is built (src/cl/cl_program.c; tools/embed_cl.py --prelude), not
 * a program of its own. OpenCL C 1.2. */

/* The helper functions below: each program uses some of them (no
 * warning for the others). */
#define CU_SHARED static inline __attribute__((unused))

/* A float16 at any float boundary as one vector access: a type that asks
 * for 4-byte alignment only. vload16/vstore16 are element accesses that
 * LLVM (PoCL) merges, and in many kernels it did not: 8-byte pieces and
 * shuffles (docs/PERFORMANCE.md). */
typedef float16 cu_float16u __attribute__((aligned(4)));
#define CU_LOADU(p) (*(__global const cu_float16u *)(p))
#define CU_STOREU(v, p) (*(__global cu_float16u *)(p) = (v))

/* Shifting one lane in: y[0] into lane 0 (the rest move up), or into
 * lane 15 (the rest move down). */
#define CU_SHIFT_R (uint16)(16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
#define CU_SHIFT_L (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)

/* Even and odd lanes of two vectors (of 32 floats, the first 16 of each);
 * interleaving two vectors: lanes 0-7 (LO) or 8-15 (HI) of each,
 * alternately. */
#define CU_EVEN (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define CU_ODD (uint16)(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define CU_LO (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define CU_HI (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

/* The offset of channel k of image n in a tensor with K channels held as
 * two parts, channels [0, ka) in the first and [ka, K) in the second
 * (ka = K: the first alone): the input of a convolution over a
 * concatenation (ops.h, cu_conv_forward_cat), and its data gradient. */
CU_SHARED int part_offset(const int ka, const int K, const int n, const int k, const int HW)
{
    return k < ka ? (n * ka + k) * HW : (n * (K - ka) + k - ka) * HW;
}

CU_SHARED __global const float *part_plane(__global const float *a, __global const float *b, const int ka,
                                               const int K, const int n, const int k, const int HW)
{
    return (k < ka ? a : b) + part_offset(ka, K, n, k, HW);
}

CU_SHARED __global float *part_plane_w(__global float *a, __global float *b, const int ka, const int K,
                                           const int n, const int k, const int HW)
{
    return (k < ka ? a : b) + part_offset(ka, K, n, k, HW);
}

/* The output modes of the convolution kernels (conv.cl, wino.cl,
 * wino4.cl; ops.h cu_conv_forward, cu_conv_backward_ex): mode 0: y =
 * v + bias, then the ReLU when relu (a NaN stays NaN); 1: y += v; 2: y =
 * v; 3: y = v where the mask mk is > 0, else 0 (the gradient through the
 * ReLU whose output mk is). cu_out16: 16 outputs at dst (mk read in mode
 * 3 only); cu_out1: one at dst[at], for modes 1, 2 and 3 (mode 0's bias
 * and ReLU already applied: cu_bias_act16). */
CU_SHARED float16 cu_bias_act16(const float16 v, const float bias, const int relu)
{
    const float16 s = v + bias;
    return relu ? select(s, (float16)(0.0f), s < (float16)(0.0f)) : s;
}

CU_SHARED void cu_out16(__global float *dst, __global const float *mk, float16 v, const int mode, const float bias,
                            const int relu)
{
    if (mode == 0)
        v = cu_bias_act16(v, bias, relu);
    else if (mode == 1)
        v += CU_LOADU(dst);
    else if (mode == 3)
        v = select((float16)(0.0f), v, CU_LOADU(mk) > (float16)(0.0f));
    CU_STOREU(v, dst);
}

CU_SHARED void cu_out1(__global float *dst, __global const float *mk, const int at, const float v, const int mode)
{
    if (mode == 1)
        dst[at] += v;
    else
        dst[at] = mode == 3 && !(mk[at] > 0.0f) ? 0.0f : v;
}

/* Winograd (wino.cl, wino4.cl): the tile after tile (n, ty, tx) of a
 * batch cut into TH x TW tiles per image, row by row. */
CU_SHARED void cu_tile_next(int *n, int *ty, int *tx, const int TH, const int TW)
{
    if (++*tx == TW) {
        *tx = 0;
        if (++*ty == TH) {
            *ty = 0;
            ++*n;
        }
    }
}

/* Winograd's weight transforms: the 3x3 kernel g of output m, input k as
 * the scalars f0 .. f8, row by row (named values, not an array: wino4.cl's
 * CU_G6 says why). flip = 0: g = w[m][k] (w: M x K x 3 x 3); flip = 1: g =
 * w[k][m] turned by 180 degrees (w: K x M x 3 x 3, the forward weights of
 * the layer whose data gradient this is). */
#define CU_KERNEL3(w, M, K, m, k, flip)                                                                           \
    __global const float *g3_ = (flip) ? (w) + ((k) * (M) + (m)) * 9 : (w) + ((m) * (K) + (k)) * 9;               \
    const float f0 = g3_[(flip) ? 8 : 0], f1 = g3_[(flip) ? 7 : 1], f2 = g3_[(flip) ? 6 : 2];                     \
    const float f3 = g3_[(flip) ? 5 : 3], f4 = g3_[4], f5 = g3_[(flip) ? 3 : 5];                                  \
    const float f6 = g3_[(flip) ? 2 : 6], f7 = g3_[(flip) ? 1 : 7], f8 = g3_[(flip) ? 0 : 8]
