/* upsample.cl: 2x bilinear up-sampling with half-pixel centres and edge
 * clamping (PyTorch interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False)), forward and its adjoint, NCHW. The adjoint is a
 * gather per input pixel (no atomics): it visits the (at most 4 x 4)
 * output pixels whose interpolation reads that input pixel, with the
 * weights forward uses (1/4, 3/4, or 1 at the edges: exact in float).
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

/* The adjoint per axis, in closed form (from source(): output 2i-1 reads
 * input i with weight 1/4, 2i with 3/4, 2i+1 with 3/4, 2i+2 with 1/4;
 * at the edges, clamping folds the missing quarter into outputs 0 and
 * 2n-1, which read input 0 / n-1 with weight 1). Fills up to 4 (output,
 * weight) pairs for input i of an axis of n; returns their count. */
static int readers(const int i, const int n, int *o, float *w)
{
    int c = 0;
    if (i >= 1) {
        o[c] = 2 * i - 1;
        w[c++] = 0.25f;
    }
    o[c] = 2 * i;
    w[c++] = i == 0 ? 1.0f : 0.75f;
    o[c] = 2 * i + 1;
    w[c++] = i == n - 1 ? 1.0f : 0.75f;
    if (i <= n - 2) {
        o[c] = 2 * i + 2;
        w[c++] = 0.25f;
    }
    return c;
}

/* Work-items: a run of up to 16 columns of one row of one plane; a 1-D
 * range of ceil(width/16)*height*N*C over the tensor written, with a fixed
 * work-group size (PoCL compiles a kernel once per work-group size).
 * Divisions once per run; neighbouring work-items touch neighbouring runs. */

/* x (NC,H,W) -> y (NC,2H,2W). */
__kernel void cu_upsample_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int NC)
{
    const int Wo = 2 * W, Ho = 2 * H;
    const int runs = (Wo + 15) / 16, g = get_global_id(0);
    if (g >= runs * Ho * NC)
        return;
    const int x0 = g % runs * 16, oy = g / runs % Ho, nc = g / (runs * Ho);
    int y0, y1, i0, i1;
    float ly, lx;
    source(oy, H, &y0, &y1, &ly);
    __global const float *r0 = x + (nc * H + y0) * W, *r1 = x + (nc * H + y1) * W;
    __global float *out = y + (nc * Ho + oy) * Wo;
    for (int ox = x0; ox < min(x0 + 16, Wo); ox++) {
        source(ox, W, &i0, &i1, &lx);
        const float top = (1.0f - lx) * r0[i0] + lx * r0[i1];
        const float bot = (1.0f - lx) * r1[i0] + lx * r1[i1];
        out[ox] = (1.0f - ly) * top + ly * bot;
    }
}

/* dx += adjoint(dy): dx (NC,H,W), dy (NC,2H,2W); range over dx. */
__kernel void cu_upsample_bwd(__global float *dx, __global const float *dy, const int H, const int W,
                              const int NC)
{
    const int Wo = 2 * W;
    const int runs = (W + 15) / 16, g = get_global_id(0);
    if (g >= runs * H * NC)
        return;
    const int x0 = g % runs * 16, iy = g / runs % H, nc = g / (runs * H);
    int oy[4], ox[4];
    float wy[4], wx[4];
    const int ny = readers(iy, H, oy, wy);
    __global const float *gy = dy + nc * 4 * H * W;
    __global float *out = dx + (nc * H + iy) * W;
    for (int ix = x0; ix < min(x0 + 16, W); ix++) {
        const int nx = readers(ix, W, ox, wx);
        float acc = 0.0f;
        for (int a = 0; a < ny; a++) {
            float row = 0.0f;
            for (int b = 0; b < nx; b++)
                row += wx[b] * gy[oy[a] * Wo + ox[b]];
            acc += wy[a] * row;
        }
        out[ix] += acc;
    }
}
