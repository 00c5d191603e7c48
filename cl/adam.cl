/* adam.cl: one Adam step in Keras's form (see src/ops.c): eps is added to
 * the uncorrected sqrt(v), and the bias correction is folded into
 * lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t), computed once on the host in
 * double. One work-item per parameter. OpenCL C 1.2, every index guarded. */

__kernel void cu_adam_update(__global float *p, __global const float *g, __global float *m, __global float *v,
                             const float b1, const float b2, const float lr_t, const float eps, const int n)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float gi = g[i];
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr_t * mi / (sqrt(vi) + eps);
}
