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

/* x (NC,H,W) -> y (NC,Ho,Wo), Ho = H/2, Wo = W/2; total = NC*Ho*Wo. */
__kernel void cu_pool_max_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int Ho, const int Wo, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int ox = i % Wo, oy = (i / Wo) % Ho, nc = i / (Wo * Ho);
    const int base = (nc * H + 2 * oy) * W + 2 * ox;
    y[i] = x[base + first_max(x, base, W)];
}

/* dx += dy routed to each window's first maximum of x. */
__kernel void cu_pool_max_bwd(__global float *dx, __global const float *dy, __global const float *x,
                              const int H, const int W, const int Ho, const int Wo, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int ox = i % Wo, oy = (i / Wo) % Ho, nc = i / (Wo * Ho);
    const int base = (nc * H + 2 * oy) * W + 2 * ox;
    dx[base + first_max(x, base, W)] += dy[i];
}
