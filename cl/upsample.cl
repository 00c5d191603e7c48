/* upsample.cl: 2x bilinear up-sampling with half-pixel centres and edge
 * clamping (PyTorch interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False)), forward and its adjoint, NCHW. The adjoint is a
 * gather per input pixel (no atomics): it visits the (at most 4 x 4)
 * output pixels whose interpolation reads that input pixel, with the
 * weights forward uses (1/4, 3/4, or 1 at the edges: exact in float).
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

/* Output index o of an axis of n input samples reads inputs i0 (weight
 * 1-l) and i1 (weight l) at the source s = max((o + 0.5)/2 - 0.5, 0),
 * i0 = floor(s), i1 = min(i0 + 1, n - 1), l = s - i0: for o = 2i that is
 * inputs i-1, i with 1/4, 3/4 (input 0 alone at o = 0), for o = 2i+1
 * inputs i, i+1 with 3/4, 1/4 (input n-1 alone at o = 2n-1). */

/* Work-items: one row of the tensor written (an output row forward, an
 * input row backward); a 1-D range of rows*N*C with a fixed work-group
 * size (PoCL compiles a kernel once per work-group size). One division
 * per row: with one per 8 columns (three per work-item) the divisions
 * cost more than the memory traffic (fwd 11.2 against 4.0 CPU-ms per
 * U-Net step). Along the row, runs of 8 input columns (16 output
 * columns) as vector loads and 64-byte stores; a tail of W % 8 columns
 * is the same arithmetic in scalars. Both directions use the weights in
 * closed form: output 2i reads inputs i-1 and i with 1/4, 3/4, output
 * 2i+1 inputs i and i+1 with 3/4, 1/4, a neighbour past the edge clamped
 * to the edge (so the edge output reads the edge input with weight
 * 1/4 + 3/4 = 1). Forward blends rows first, then columns (ref: columns
 * first; the same terms, another association: a few u). */

/* Rows ra, rb (weights wa, wb) of the input plane that output row oy reads. */
static void rows(const int oy, const int H, int *ra, int *rb, float *wa, float *wb)
{
    const int j = oy >> 1;
    if (oy & 1) {
        *ra = j;
        *rb = min(j + 1, H - 1);
        *wa = 0.75f;
        *wb = 0.25f;
    } else {
        *ra = max(j - 1, 0);
        *rb = j;
        *wa = 0.25f;
        *wb = 0.75f;
    }
}

/* x (NC,H,W) -> y (NC,2H,2W); range over 2H x NC (whole output rows). */
__kernel void cu_upsample_fwd(__global float *y, __global const float *x, const int H, const int W,
                              const int NC)
{
    const int Wo = 2 * W, Ho = 2 * H, g = get_global_id(0);
    if (g >= Ho * NC)
        return;
    const int nc = g / Ho, oy = g - nc * Ho;
    int ra, rb;
    float wa, wb;
    rows(oy, H, &ra, &rb, &wa, &wb);
    __global const float *pa = x + (nc * H + ra) * W, *pb = x + (nc * H + rb) * W;
    __global float *out = y + g * Wo;
    int i0 = 0;
    for (; i0 + 8 <= W; i0 += 8) {
        const float8 v = wa * vload8(0, pa + i0) + wb * vload8(0, pb + i0);
        const int il = max(i0 - 1, 0), ir = min(i0 + 8, W - 1);
        const float vl = wa * pa[il] + wb * pb[il], vr = wa * pa[ir] + wb * pb[ir];
        const float8 left = (float8)(vl, v.s0123, v.s456), right = (float8)(v.s1234, v.s567, vr);
        const float8 ev = 0.25f * left + 0.75f * v, od = 0.75f * v + 0.25f * right;
        CU_STOREU(shuffle2(ev, od, (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)),
                  out + 2 * i0);
    }
    for (int i = i0; i < W; i++) {
        const int il = max(i - 1, 0), ir = min(i + 1, W - 1);
        const float v = wa * pa[i] + wb * pb[i];
        const float vl = wa * pa[il] + wb * pb[il], vr = wa * pa[ir] + wb * pb[ir];
        out[2 * i] = 0.25f * vl + 0.75f * v;
        out[2 * i + 1] = 0.75f * v + 0.25f * vr;
    }
}

/* dx += adjoint(dy): dx (NC,H,W), dy (NC,2H,2W); range over H x NC (whole
 * input rows). Input i gathers columns 2i-1 (1/4), 2i, 2i+1 (3/4), 2i+2
 * (1/4) of the output rows 2iy-1 (1/4), 2iy, 2iy+1 (3/4), 2iy+2 (1/4),
 * indices past the edge clamped to the edge (the edge output's weight 1
 * split 3/4 + 1/4). Rows are combined first (four vector loads), then
 * columns. */
__kernel void cu_upsample_bwd(__global float *dx, __global const float *dy, const int H, const int W,
                              const int NC)
{
    const int Wo = 2 * W, Ho = 2 * H, g = get_global_id(0);
    if (g >= H * NC)
        return;
    const int nc = g / H, iy = g - nc * H;
    __global const float *base = dy + nc * Ho * Wo;
    __global const float *rm = base + max(2 * iy - 1, 0) * Wo, *r0 = base + 2 * iy * Wo, *r1 = r0 + Wo;
    __global const float *rp = base + min(2 * iy + 2, Ho - 1) * Wo;
    __global float *out = dx + g * W;
#define CU_COL(k) (0.25f * (rm[k] + rp[k]) + 0.75f * (r0[k] + r1[k]))
    int i0 = 0;
    for (; i0 + 8 <= W; i0 += 8) {
        const int o = 2 * i0;
        const float16 c = 0.25f * (CU_LOADU(rm + o) + CU_LOADU(rp + o)) +
                          0.75f * (CU_LOADU(r0 + o) + CU_LOADU(r1 + o));
        const int ol = max(o - 1, 0), orr = min(o + 16, Wo - 1);
        const float cl = CU_COL(ol), cr = CU_COL(orr);
        const float8 ev = c.even, od = c.odd;
        const float8 pod = (float8)(cl, od.s0123, od.s456), nev = (float8)(ev.s1234, ev.s567, cr);
        vstore8(vload8(0, out + i0) + (0.75f * (ev + od) + 0.25f * (pod + nev)), 0, out + i0);
    }
    for (int i = i0; i < W; i++) {
        const int ol = max(2 * i - 1, 0), orr = min(2 * i + 2, Wo - 1);
        out[i] += 0.75f * (CU_COL(2 * i) + CU_COL(2 * i + 1)) + 0.25f * (CU_COL(ol) + CU_COL(orr));
    }
#undef CU_COL
}
