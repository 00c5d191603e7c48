/* act.cl: element-wise kernels: activations (ReLU, sigmoid) forward and
 * backward, and the vector helpers axpy and copy. One work-item per element;
 * n is the element count. OpenCL C 1.2, float literals explicit (PoCL). */

/* p[0..n) = 0 for n uints (zero bits are zero in every dtype), sixteen a
 * work-item: on CPU devices (PoCL) clEnqueueFillBuffer writes the pattern
 * four bytes at a time on one thread, 4-5x slower than this
 * (src/cl/cl_backend.c chooses). */
__kernel void cu_zero(__global uint *p, const int n)
{
    const int i = get_global_id(0) * 16;
    if (i + 16 <= n) {
        vstore16((uint16)(0u), 0, p + i);
        return;
    }
    for (int j = i; j < n; j++)
        p[j] = 0u;
}

/* NaN passes through (as in ref): fmax(NaN, 0) = 0 would hide a diverging
 * step from the trainer's NaN check. */
__kernel void cu_act_relu_fwd(__global float *y, __global const float *x, const int n)
{
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

/* In place: dy *= (y > 0). */
__kernel void cu_act_relu_bwd(__global float *dy, __global const float *y, const int n)
{
    const int i = get_global_id(0);
    if (i < n && !(y[i] > 0.0f))
        dy[i] = 0.0f;
}

/* exp only of a non-positive number (as ref): no overflow to inf, and tiny
 * outputs for very negative x instead of 1/inf. */
__kernel void cu_act_sigmoid_fwd(__global float *y, __global const float *x, const int n)
{
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        const float e = exp(-fabs(v));
        y[i] = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    }
}

/* dx += dy * y * (1 - y) */
__kernel void cu_act_sigmoid_bwd(__global float *dx, __global const float *dy, __global const float *y,
                                 const int n)
{
    const int i = get_global_id(0);
    if (i < n)
        dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

/* y += alpha * x */
__kernel void cu_act_axpy(__global float *y, const float alpha, __global const float *x, const int n)
{
    const int i = get_global_id(0);
    if (i < n)
        y[i] += alpha * x[i];
}
