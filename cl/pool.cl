/* pool.cl: 2x2 stride-2 max-pooling, forward and backward, NCHW. Floor: an
 * odd last row or column of x is dropped (never read, its gradient left
 * alone). Ties: the first maximum in the window's row-major order
 * ((0,0),(0,1),(1,0),(1,1)) wins, in both directions, so backward routes
 * the gradient to the element forward chose. One work-item per output
 * row; windows do not overlap, so backward's += never races.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* Offset (0..3 as 0, 1, W, W+1) of the window's first maximum. */
static int first_max(__global const float *x, const int base, const int W)
{
    int at = 0;
    float m = x[base];
    if (x[base + 1] > m) {
        m = x[base + 1];
        at = 1;
    }
    if (x[base + W] > m) {
        m = x[base + W];
        at = W;
    }
    if (x[base + W + 1] > m)
        at = W + 1;
    return at;
}

/* Work-items: one output row of one plane; a 1-D range of Ho*N*C with a
 * fixed work-group size (PoCL compiles a kernel once per work-group
 * size). One division per row (on CPU OpenCL a division costs more than
 * the memory traffic). Along the row, runs of 8 outputs: a run reads its
 * two input rows as 16-float vectors and
 * applies first_max()'s rule lane-wise (select on strict >, in the same
 * order, so ties and NaN go where the scalar rule sends them); a short
 * run (Wo % 8 columns) is the scalar loop. */

#define CU_POOL_SETUP                                                               \
    const int g = get_global_id(0);                                                 \
    if (g >= Ho * NC)                                                               \
        return;                                                                     \
    const int nc = g / Ho, oy = g - nc * Ho;                                        \
    const int base = (nc * H + 2 * oy) * W;                                         \
    int x0 = 0

/* The window's four values as lanes (a: (0,0), b: (0,1), c: (1,0), d:
 * (1,1)) and the first maximum's position: at 0..3 in that order. */
#define CU_POOL_LANES                                                               \
    const float16 r0 = CU_LOADU(x + base + 2 * x0);                                 \
    const float16 r1 = CU_LOADU(x + base + W + 2 * x0);                             \
    const float8 a = r0.even, b = r0.odd, c = r1.even, d = r1.odd;                  \
    float8 m = a;                                                                   \
    int8 at = (int8)(0);                                                            \
    int8 gt = isgreater(b, m);                                                      \
    m = select(m, b, gt);                                                           \
    at = select(at, (int8)(1), gt);                                                 \
    gt = isgreater(c, m);                                                           \
    m = select(m, c, gt);                                                           \
    at = select(at, (int8)(2), gt);                                                 \
    gt = isgreater(d, m);                                                           \
    m = select(m, d, gt);                                                           \
    at = select(at, (int8)(3), gt)

/* x (NC,H,W) -> y (NC,Ho,Wo), Ho = H/2, Wo = W/2. */
__kernel void cu_pool_max_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int Ho, const int Wo, const int NC)
{
    CU_POOL_SETUP;
    __global float *out = y + g * Wo;
    for (; x0 + 8 <= Wo; x0 += 8) {
        CU_POOL_LANES;
        (void)at;
        vstore8(m, 0, out + x0);
    }
    for (int ox = x0; ox < Wo; ox++)
        out[ox] = x[base + 2 * ox + first_max(x, base + 2 * ox, W)];
}

/* dx += dy routed to each window's first maximum of x; the other three
 * elements of the window are stored back unchanged (select, not + 0, so
 * even a -0 stays -0). */
__kernel void cu_pool_max_bwd(__global float *dx, __global const float *dy, __global const float *x,
                              const int H, const int W, const int Ho, const int Wo, const int NC)
{
    CU_POOL_SETUP;
    __global const float *gy = dy + g * Wo;
    for (; x0 + 8 <= Wo; x0 += 8) {
        CU_POOL_LANES;
        (void)m;
        const float8 gv = vload8(0, gy + x0);
        __global float *d0 = dx + base + 2 * x0, *d1 = d0 + W;
        const float16 q0 = CU_LOADU(d0), q1 = CU_LOADU(d1);
        const float8 da = select(q0.even, q0.even + gv, at == 0), db = select(q0.odd, q0.odd + gv, at == 1);
        const float8 dc = select(q1.even, q1.even + gv, at == 2), dd = select(q1.odd, q1.odd + gv, at == 3);
        const uint16 zip = (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
        CU_STOREU(shuffle2(da, db, zip), d0);
        CU_STOREU(shuffle2(dc, dd, zip), d1);
    }
    for (int ox = x0; ox < Wo; ox++)
        dx[base + 2 * ox + first_max(x, base + 2 * ox, W)] += gy[ox];
}
