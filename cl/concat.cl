/* concat.cl: channel concatenation y = [a, b] and its split (the backward,
 * which ADDS into both halves), NCHW. Work-items: a run of up to 16
 * pixels of one channel of one image; range (ceil(HW/16), Ca+Cb, N), so
 * no work-item divides (on CPU OpenCL a division per element costs more
 * than the copy). OpenCL C 1.2, every index guarded. */

/* The channel plane c of image n: a's or b's. */
#define CU_PLANE(a, b) (c < Ca ? (a) + (n * Ca + c) * HW : (b) + (n * Cb + c - Ca) * HW)

__kernel void cu_concat_fwd(__global float *y, __global const float *a, __global const float *b, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int p0 = get_global_id(0) * 16, c = get_global_id(1), n = get_global_id(2);
    if (p0 >= HW || c >= Ca + Cb || n >= N)
        return;
    __global const float *src = CU_PLANE(a, b);
    __global float *dst = y + (n * (Ca + Cb) + c) * HW;
    for (int p = p0; p < min(p0 + 16, HW); p++)
        dst[p] = src[p];
}

/* da += dy[:, :Ca], db += dy[:, Ca:] */
__kernel void cu_concat_bwd(__global float *da, __global float *db, __global const float *dy, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int p0 = get_global_id(0) * 16, c = get_global_id(1), n = get_global_id(2);
    if (p0 >= HW || c >= Ca + Cb || n >= N)
        return;
    __global float *dst = CU_PLANE(da, db);
    __global const float *src = dy + (n * (Ca + Cb) + c) * HW;
    for (int p = p0; p < min(p0 + 16, HW); p++)
        dst[p] += src[p];
}
