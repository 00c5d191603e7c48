/* concat.cl: channel concatenation y = [a, b] and its split (the
 * backward, which ADDS into both halves), NCHW. A work-item moves one
 * channel plane of one image (runs of 16 floats as vectors, the last
 * HW % 16 one at a time); a 1-D range of (Ca+Cb)*N with a fixed work-group size (PoCL
 * compiles a kernel once per work-group size); one division per plane
 * (on CPU OpenCL a division per element, or per run of 16, costs more
 * than the memory traffic).
 * OpenCL C 1.2, every index guarded. */

/* y = [a, b] */
__kernel void cu_concat_fwd(__global float *y, __global const float *a, __global const float *b, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int C = Ca + Cb, g = get_global_id(0);
    if (g >= C * N)
        return;
    const int n = g / C, c = g - n * C;
    __global const float *src = c < Ca ? a + (n * Ca + c) * HW : b + (n * Cb + c - Ca) * HW;
    __global float *dst = y + g * HW;
    int p = 0;
    for (; p + 16 <= HW; p += 16)
        CU_STOREU(CU_LOADU(src + p), dst + p);
    for (; p < HW; p++)
        dst[p] = src[p];
}

/* da += dy[:, :Ca], db += dy[:, Ca:] */
__kernel void cu_concat_bwd(__global float *da, __global float *db, __global const float *dy, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int C = Ca + Cb, g = get_global_id(0);
    if (g >= C * N)
        return;
    const int n = g / C, c = g - n * C;
    __global float *dst = c < Ca ? da + (n * Ca + c) * HW : db + (n * Cb + c - Ca) * HW;
    __global const float *src = dy + g * HW;
    int p = 0;
    for (; p + 16 <= HW; p += 16)
        CU_STOREU(CU_LOADU(dst + p) + CU_LOADU(src + p), dst + p);
    for (; p < HW; p++)
        dst[p] += src[p];
}
