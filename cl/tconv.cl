/* tconv.cl: the layout kernels of the 2x2 stride-2 transposed convolution
 * (src/cl/cl_ops_tconv.c), whose arithmetic is GEMMs. With the weight
 * w (Cin,Cout,2,2) read as a (Cin x 4Cout) matrix and one image's x as
 * (Cin x HW), the product P = w^T x is (4Cout x HW) with
 *     P[co*4 + a*2 + b][i*W + j] = y[co][2i+a][2j+b] - bias[co].
 * Forward scatters P (+ bias) into y; backward gathers dy into P's layout
 * (then dw += x P^T and dx += w P are GEMMs). The bias gradient uses
 * cu_conv_bias_grad. OpenCL C 1.2, every index guarded. */

/* Work-items: a run of up to 16 columns of one output row of one output
 * channel of image img; a 1-D range of ceil(2W/16)*2H*Cout with a fixed
 * work-group size (PoCL compiles a kernel once per work-group size).
 * Parities and halves by shifts: no division per element. */

/* Image img of y (N,Cout,2H,2W) = scatter(P) + bias, P that image's
 * (4Cout x HW) product. */
__kernel void cu_tconv_scatter(__global float *y, const int img, __global const float *P,
                               __global const float *bias, const int Cout, const int H, const int W)
{
    const int Wo = 2 * W, Ho = 2 * H;
    const int runs = (Wo + 15) / 16, g = get_global_id(0);
    if (g >= runs * Ho * Cout)
        return;
    const int x0 = g % runs * 16, oy = g / runs % Ho, co = g / (runs * Ho);
    __global const float *src = P + ((co * 4 + (oy & 1) * 2) * H + (oy >> 1)) * W;
    __global float *out = y + ((img * Cout + co) * Ho + oy) * Wo;
    const float b = bias[co];
    for (int ox = x0; ox < min(x0 + 16, Wo); ox++)
        out[ox] = src[(ox & 1) * H * W + (ox >> 1)] + b;
}

/* P = gather(image img of dy), the inverse permutation (no bias). */
__kernel void cu_tconv_gather(__global float *P, __global const float *dy, const int img, const int Cout,
                              const int H, const int W)
{
    const int Wo = 2 * W, Ho = 2 * H;
    const int runs = (Wo + 15) / 16, g = get_global_id(0);
    if (g >= runs * Ho * Cout)
        return;
    const int x0 = g % runs * 16, oy = g / runs % Ho, co = g / (runs * Ho);
    __global float *dst = P + ((co * 4 + (oy & 1) * 2) * H + (oy >> 1)) * W;
    __global const float *in = dy + ((img * Cout + co) * Ho + oy) * Wo;
    for (int ox = x0; ox < min(x0 + 16, Wo); ox++)
        dst[(ox & 1) * H * W + (ox >> 1)] = in[ox];
}
