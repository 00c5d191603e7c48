/* concat.cl: channel concatenation y = [a, b] and its split (the backward,
 * which ADDS into both halves), NCHW. Work-items: a run of up to 16
 * pixels of one channel of one image; a 1-D range of ceil(HW/16)*(Ca+Cb)*N
 * with a fixed work-group size (PoCL compiles a kernel once per
 * work-group size); divisions once per run (on CPU OpenCL a division per
 * element costs more than the copy). OpenCL C 1.2, every index guarded. */

/* The channel plane c of image n: a's or b's. */
#define CU_PLANE(a, b) (c < Ca ? (a) + (n * Ca + c) * HW : (b) + (n * Cb + c - Ca) * HW)

__kernel void cu_concat_fwd(__global float *y, __global const float *a, __global const float *b, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int runs = (HW + 15) / 16, g = get_global_id(0);
    if (g >= runs * (Ca + Cb) * N)
        return;
    const int p0 = g % runs * 16, c = g / runs % (Ca + Cb), n = g / (runs * (Ca + Cb));
    __global const float *src = CU_PLANE(a, b);
    __global float *dst = y + (n * (Ca + Cb) + c) * HW;
    for (int p = p0; p < min(p0 + 16, HW); p++)
        dst[p] = src[p];
}

/* da += dy[:, :Ca], db += dy[:, Ca:] */
__kernel void cu_concat_bwd(__global float *da, __global float *db, __global const float *dy, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int runs = (HW + 15) / 16, g = get_global_id(0);
    if (g >= runs * (Ca + Cb) * N)
        return;
    const int p0 = g % runs * 16, c = g / runs % (Ca + Cb), n = g / (runs * (Ca + Cb));
    __global float *dst = CU_PLANE(da, db);
    __global const float *src = dy + (n * (Ca + Cb) + c) * HW;
    for (int p = p0; p < min(p0 + 16, HW); p++)
        dst[p] += src[p];
}
