/* conv.cl: the helpers around the convolution GEMMs (src/cl/cl_ops_conv.c):
 * im2col over a band of output rows, its adjoint col2im (a gather that ADDS
 * into dx, no atomics), the bias(+ReLU) epilogue, and the per-channel sum
 * that gives the bias gradient. The GEMMs themselves are not here
 * (src/cl/cl_gemm.c). Stride 1, 'same' zero padding p = k/2, odd k, NCHW.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

#ifndef CU_RED_WG
#define CU_RED_WG 64 /* work-group size of the reductions; the host uses the same */
#endif

/* One image x (C,H,W) at x + xo, output rows [r0, r0+rows):
 *   col[r][j] = x[ci][oy+ky-p][ox+kx-p] (0 outside the image),
 *   r = (ci*k + ky)*k + kx, j = (oy-r0)*W + ox.
 * 2-D range: (rows*W, C*k*k). */
__kernel void cu_conv_im2col(__global float *col, __global const float *x, const int xo, const int C,
                             const int H, const int W, const int k, const int r0, const int rows)
{
    const int j = get_global_id(0);
    const int r = get_global_id(1);
    const int ncol = rows * W;
    if (j >= ncol || r >= C * k * k)
        return;
    const int kx = r % k, ky = (r / k) % k, ci = r / (k * k);
    const int iy = r0 + j / W + ky - k / 2, ix = j % W + kx - k / 2;
    float v = 0.0f;
    if (iy >= 0 && iy < H && ix >= 0 && ix < W)
        v = x[xo + (ci * H + iy) * W + ix];
    col[r * ncol + j] = v;
}

/* The adjoint of cu_conv_im2col for the same band, as a gather per input
 * pixel: dx[ci][iy][ix] += sum of col[r][j] over the (ky,kx) whose output
 * position (iy-ky+p, ix-kx+p) lies in the band and the image. Input rows
 * touched by the band: [max(0, r0-p), min(H, r0+rows+p)) = [y0, y0+span).
 * 2-D range: (span*W, C). Bands are enqueued in order, so two bands adding
 * into the same dx row never race. */
__kernel void cu_conv_col2im(__global float *dx, const int xo, __global const float *col, const int C,
                             const int H, const int W, const int k, const int r0, const int rows)
{
    const int p = k / 2;
    const int y0 = max(0, r0 - p);
    const int span = min(H, r0 + rows + p) - y0;
    const int q = get_global_id(0);
    const int ci = get_global_id(1);
    if (q >= span * W || ci >= C)
        return;
    const int iy = y0 + q / W, ix = q % W;
    const int ncol = rows * W;
    float acc = 0.0f;
    for (int ky = 0; ky < k; ky++) {
        const int oy = iy - ky + p;
        if (oy < r0 || oy >= r0 + rows)
            continue;
        for (int kx = 0; kx < k; kx++) {
            const int ox = ix - kx + p;
            if (ox < 0 || ox >= W)
                continue;
            acc += col[((ci * k + ky) * k + kx) * ncol + (oy - r0) * W + ox];
        }
    }
    dx[xo + (ci * H + iy) * W + ix] += acc;
}

/* y = act(y + b[c]) over the whole (N,C,HW) tensor; relu != 0 for ReLU. */
__kernel void cu_conv_bias_act(__global float *y, __global const float *b, const int C, const int HW,
                               const int relu, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    float v = y[i] + b[(i / HW) % C];
    if (relu && v < 0.0f) /* a NaN stays NaN, as in ref */
        v = 0.0f;
    y[i] = v;
}

/* db[c] += sum over n and the HW pixels of dy (N,C,HW): one work-group of
 * CU_RED_WG per channel; each work-item sums a strided share (Kahan), then a
 * tree in local memory (deterministic order, no atomics). */
__kernel void cu_conv_bias_grad(__global float *db, __global const float *dy, const int N, const int C,
                                const int HW)
{
    __local float part[CU_RED_WG];
    const int c = get_group_id(0);
    const int l = get_local_id(0);
    float s = 0.0f, comp = 0.0f;
    if (c < C) {
        for (int n = 0; n < N; n++) {
            __global const float *row = dy + (n * C + c) * HW;
            for (int i = l; i < HW; i += CU_RED_WG) {
                const float yk = row[i] - comp;
                const float t = s + yk;
                comp = (t - s) - yk;
                s = t;
            }
        }
    }
    part[l] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = CU_RED_WG / 2; h > 0; h /= 2) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0 && c < C)
        db[c] += part[0];
}
