/* common.cl: what several kernel files share, prepended to each of them
 * when it is built (src/cl/cl_program.c; tools/embed_cl.py --prelude), not
 * a program of its own. OpenCL C 1.2. */

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
static inline int part_offset(const int ka, const int K, const int n, const int k, const int HW)
{
    return k < ka ? (n * ka + k) * HW : (n * (K - ka) + k - ka) * HW;
}

static inline __global const float *part_plane(__global const float *a, __global const float *b, const int ka,
                                               const int K, const int n, const int k, const int HW)
{
    return (k < ka ? a : b) + part_offset(ka, K, n, k, HW);
}

static inline __global float *part_plane_w(__global float *a, __global float *b, const int ka, const int K,
                                           const int n, const int k, const int HW)
{
    return (k < ka ? a : b) + part_offset(ka, K, n, k, HW);
}
