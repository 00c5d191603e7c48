/* pool.cl: 2x2 stride-2 max-pooling, forward and backward, NCHW. Floor: an
 * odd last row or column of x is dropped (never read, its gradient left
 * alone). Ties: the first maximum in the window's row-major order
 * ((0,0),(0,1),(1,0),(1,1)) wins, in both directions, so backward routes
 * the gradient to the element forward chose. One work-item per output
 * element; windows do not overlap, so backward's += never races.
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

/* Work-items: a run of up to 16 output columns of one output row of one
 * plane; a 1-D range of ceil(Wo/16)*Ho*N*C with a fixed work-group size
 * (PoCL compiles a kernel once per work-group size). Divisions once per
 * run, not per element (on CPU OpenCL a division costs more than the
 * memory traffic); neighbouring work-items read neighbouring runs. */

/* x (NC,H,W) -> y (NC,Ho,Wo), Ho = H/2, Wo = W/2. */
__kernel void cu_pool_max_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int Ho, const int Wo, const int NC)
{
    const int runs = (Wo + 15) / 16, g = get_global_id(0);
    if (g >= runs * Ho * NC)
        return;
    const int x0 = g % runs * 16, oy = g / runs % Ho, nc = g / (runs * Ho);
    const int base = (nc * H + 2 * oy) * W, x1 = min(x0 + 16, Wo);
    __global float *out = y + (nc * Ho + oy) * Wo;
    for (int ox = x0; ox < x1; ox++)
        out[ox] = x[base + 2 * ox + first_max(x, base + 2 * ox, W)];
}

/* dx += dy routed to each window's first maximum of x. */
__kernel void cu_pool_max_bwd(__global float *dx, __global const float *dy, __global const float *x,
                              const int H, const int W, const int Ho, const int Wo, const int NC)
{
    const int runs = (Wo + 15) / 16, g = get_global_id(0);
    if (g >= runs * Ho * NC)
        return;
    const int x0 = g % runs * 16, oy = g / runs % Ho, nc = g / (runs * Ho);
    const int base = (nc * H + 2 * oy) * W, x1 = min(x0 + 16, Wo);
    __global const float *gy = dy + (nc * Ho + oy) * Wo;
    for (int ox = x0; ox < x1; ox++)
        dx[base + 2 * ox + first_max(x, base + 2 * ox, W)] += gy[ox];
}
