/* cl_consts.h: the constants the kernels of cl/ and the host code that
 * launches them must agree on, written once. cl_program.c passes each to
 * every program as "-D NAME=VALUE" (so the build options, part of the
 * binary-cache key, change with them); the kernels define none of them
 * and stop with #error when built without. The host uses the same names.
 * Some are fixed by the kernels' shape (float16 vectors, unrolled rows),
 * and the kernels check those with #if. */
#ifndef CLUNET_CL_CONSTS_H
#define CLUNET_CL_CONSTS_H

/* X(name, value, what it is) */
#define CU_CL_CONSTS(X)                                                                                           \
    X(CU_RED_WG, 64, "work-group size of the reduction kernels (conv.cl bias gradient, loss.cl)")                 \
    X(CU_GEMM_TM, 8, "rows of C per work-item of the panel GEMM and the implicit convolution (8 unrolled rows)")  \
    X(CU_GEMM_TN, 16, "columns of C per work-item: one float16 panel")                                            \
    X(CU_WINO_TM, 8, "rows of P per work-item of the Winograd GEMMs (8 unrolled rows)")                           \
    X(CU_WINO_SKEW, 16, "floats between the Winograd workspace slabs (one 64-byte cache line)")

enum {
#define CU_CL_CONST_ENUM(name, value, what) name = value,
    CU_CL_CONSTS(CU_CL_CONST_ENUM)
#undef CU_CL_CONST_ENUM
};

#endif
