/* tconv.cl: the layout kernels of the 2x2 stride-2 transposed convolution
 * (src/cl/cl_ops_tconv.c), whose arithmetic is GEMMs. With the weight
 * w (Cin,Cout,2,2) read as a (Cin x 4Cout) matrix and one image's x as
 * (Cin x HW), the product P = w^T x is (4Cout x HW) with
 *     P[co*4 + a*2 + b][i*W + j] = y[co][2i+a][2j+b] - bias[co].
 * Forward scatters P (+ bias) into y; backward gathers dy into P's layout
 * (then dw += x P^T and dx += w P are GEMMs). The bias gradient uses
 * cu_conv_bias_grad. OpenCL C 1.2, every index guarded. */

/* Image img of y (N,Cout,2H,2W) = scatter(P) + bias, P that image's
 * (4Cout x HW) product; total = Cout*4*H*W (one work-item per element). */
__kernel void cu_tconv_scatter(__global float *y, const int img, __global const float *P,
                               __global const float *bias, const int Cout, const int H, const int W,
                               const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int Wo = 2 * W, Ho = 2 * H;
    const int ox = i % Wo, oy = (i / Wo) % Ho, co = i / (Wo * Ho);
    const int row = co * 4 + (oy % 2) * 2 + ox % 2;
    y[img * total + i] = P[row * H * W + (oy / 2) * W + ox / 2] + bias[co];
}

/* P = gather(image img of dy), the inverse permutation (no bias). */
__kernel void cu_tconv_gather(__global float *P, __global const float *dy, const int img, const int Cout,
                              const int H, const int W, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int Wo = 2 * W, Ho = 2 * H;
    const int ox = i % Wo, oy = (i / Wo) % Ho, co = i / (Wo * Ho);
    const int row = co * 4 + (oy % 2) * 2 + ox % 2;
    P[row * H * W + (oy / 2) * W + ox / 2] = dy[img * total + i];
}
