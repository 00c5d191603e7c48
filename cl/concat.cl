/* concat.cl: channel concatenation y = [a, b] and its split (the backward,
 * which ADDS into both halves), NCHW. One work-item per element of y / dy;
 * total = N*(Ca+Cb)*HW. OpenCL C 1.2, every index guarded. */

__kernel void cu_concat_fwd(__global float *y, __global const float *a, __global const float *b, const int Ca,
                            const int Cb, const int HW, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int C = Ca + Cb;
    const int p = i % HW, c = (i / HW) % C, n = i / (HW * C);
    y[i] = c < Ca ? a[(n * Ca + c) * HW + p] : b[(n * Cb + c - Ca) * HW + p];
}

/* da += dy[:, :Ca], db += dy[:, Ca:] */
__kernel void cu_concat_bwd(__global float *da, __global float *db, __global const float *dy, const int Ca,
                            const int Cb, const int HW, const int total)
{
    const int i = get_global_id(0);
    if (i >= total)
        return;
    const int C = Ca + Cb;
    const int p = i % HW, c = (i / HW) % C, n = i / (HW * C);
    if (c < Ca)
        da[(n * Ca + c) * HW + p] += dy[i];
    else
        db[(n * Cb + c - Ca) * HW + p] += dy[i];
}
