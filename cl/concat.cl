/* concat.cl: the split of a channel concatenation y = [a, b] (the
 * backward, which ADDS into both halves), NCHW; the forward is buffer
 * copies (src/cl/cl_ops_concat.c). Image n of y is two contiguous
 * blocks, a_n (Ca*HW floats) then b_n (Cb*HW): a work-item moves a run of
 * 16 floats of one block of one image (vector loads and stores; the last
 * run of a block may be shorter, then scalars). A 1-D range of
 * (ceil(Ca*HW/16) + ceil(Cb*HW/16)) * N with a fixed work-group size
 * (PoCL compiles a kernel once per work-group size); divisions once per
 * run (on CPU OpenCL a division per element costs more than the copy).
 * OpenCL C 1.2, every index guarded. */

/* da += dy[:, :Ca], db += dy[:, Ca:] */
__kernel void cu_concat_bwd(__global float *da, __global float *db, __global const float *dy, const int Ca,
                            const int Cb, const int HW, const int N)
{
    const int la = Ca * HW, lb = Cb * HW, ra = (la + 15) / 16, rb = (lb + 15) / 16;
    const int g = get_global_id(0);
    if (g >= (ra + rb) * N)
        return;
    const int n = g / (ra + rb), r = g - n * (ra + rb), inb = r >= ra;
    const int len = inb ? lb : la, p0 = (inb ? r - ra : r) * 16;
    __global float *dst = (inb ? db : da) + n * len + p0;
    __global const float *src = dy + n * (la + lb) + (inb ? la : 0) + p0;
    if (p0 + 16 <= len) {
        vstore16(vload16(0, dst) + vload16(0, src), 0, dst);
        return;
    }
    for (int p = 0; p < len - p0; p++)
        dst[p] += src[p];
}
