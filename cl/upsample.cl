/* upsample.cl: 2x bilinear up-sampling with half-pixel centres and edge
 * clamping (PyTorch interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False)), forward and its adjoint, NCHW. The adjoint is a
 * gather per input pixel (no atomics): it visits the few output pixels
 * whose interpolation reads that input pixel and re-derives their weights
 * with the same function forward uses, so the two stay exact adjoints.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* Output index o of an axis of n input samples reads inputs i0 (weight
 * 1-l) and i1 (weight l): source s = max((o + 0.5)/2 - 0.5, 0). */
static void source(const int o, const int n, int *i0, int *i1, float *l)
{
    float s = ((float)o + 0.5f) * 0.5f - 0.5f;
    if (s < 0.0f)
        s = 0.0f;
    int a = (int)s;
    if (a > n - 1)
        a = n - 1;
    *i0 = a;
    *i1 = min(a + 1, n - 1);
    *l = s - (float)a;
}

/* The weight with which output o reads input i (0 when it does not). */
static float weight(const int o, const int i, const int n)
{
    int i0, i1;
    float l;
    source(o, n, &i0, &i1, &l);
    return (i0 == i ? 1.0f - l : 0.0f) + (i1 == i ? l : 0.0f);
}

/* x (NC,H,W) -> y (NC,2H,2W); total = NC*4*H*W. */
__kernel void cu_upsample_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int Wo = 2 * W, Ho = 2 * H;
    const int ox = i % Wo, oy = (i / Wo) % Ho, nc = i / (Wo * Ho);
    int y0, y1, x0, x1;
    float ly, lx;
    source(oy, H, &y0, &y1, &ly);
    source(ox, W, &x0, &x1, &lx);
    __global const float *p = x + nc * H * W;
    const float top = (1.0f - lx) * p[y0 * W + x0] + lx * p[y0 * W + x1];
    const float bot = (1.0f - lx) * p[y1 * W + x0] + lx * p[y1 * W + x1];
    y[i] = (1.0f - ly) * top + ly * bot;
}

/* dx += adjoint(dy): dx (NC,H,W), dy (NC,2H,2W); total = NC*H*W. Output
 * row o reads input rows floor(max(o/2 - 1/4, 0)) and the next (clamped),
 * so input row i is read only by rows o in [2i-3, 2i+2]; columns alike. */
__kernel void cu_upsample_bwd(__global float *dx, __global const float *dy, const int H, const int W,
                              const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int ix = i % W, iy = (i / W) % H, nc = i / (W * H);
    const int Wo = 2 * W, Ho = 2 * H;
    __global const float *g = dy + nc * Ho * Wo;
    float acc = 0.0f;
    for (int oy = max(0, 2 * iy - 3); oy <= min(Ho - 1, 2 * iy + 2); oy++) {
        const float wy = weight(oy, iy, H);
        if (wy == 0.0f)
            continue;
        float row = 0.0f;
        for (int ox = max(0, 2 * ix - 3); ox <= min(Wo - 1, 2 * ix + 2); ox++) {
            const float wx = weight(ox, ix, W);
            if (wx != 0.0f)
                row += wx * g[oy * Wo + ox];
        }
        acc += wy * row;
    }
    dx[i] += acc;
}
