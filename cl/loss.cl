/* loss.cl: binary cross-entropy from logits and soft Dice (smooth 1, over
 * the whole batch), their sums reduced on the device in two stages, and the
 * gradient. For logits z and targets t (n pixels), p = sigmoid(z):
 *   S0 = sum max(z,0) - z*t + log1p(exp(-|z|))   (bce = S0 / n)
 *   S1 = sum t*p,  S2 = sum t,  S3 = sum p        (dice = (2 S1 + 1)/(S2 + S3 + 1))
 * Stage 1 (cu_loss_partial): CU_LOSS_GROUPS work-groups each write the four
 * partial sums of a strided share; stage 2 (cu_loss_total): one work-group
 * adds them into S[0..3]; cu_loss_value turns S into [loss, dice];
 * cu_loss_grad adds d loss / d z. Kinds as enum cu_loss: 0 bce, 1 dice,
 * 2 bce+dice. Work-items sum with Kahan compensation, work-groups with a
 * fixed tree: the result is deterministic. No atomics.
 * Channels (ops.h): z and t are (N,C,H,W) with hw = H*W pixels per plane;
 * the BCE term of a pixel of channel c is scaled by sc[c] = C * w[c] and
 * the Dice sums take channel 0 only (d0 = 1 there, else 0). With C = 1
 * and w = 1 every scale is 1.0f: the same floats as the one-channel loss.
 * OpenCL C 1.2, float literals explicit (PoCL), every index guarded. */

#ifndef CU_RED_WG
#error "CU_RED_WG comes from the build options (src/cl/cl_consts.h)"
#endif

static float sigm(const float z) { return 1.0f / (1.0f + exp(-z)); }

/* Scalar select needs an int condition of 0 / nonzero: (zi >= 0). */
#define CU_GE(a, b) ((a) >= (b))

static void kahan(float *s, float *c, const float v)
{
    const float y = v - *c;
    const float t = *s + y;
    *c = (t - *s) - y;
    *s = t;
}

/* Tree-sums part[0..CU_RED_WG) in local memory; the total lands in part[0]. */
static void tree(__local float *part, const int l)
{
    for (int h = CU_RED_WG / 2; h > 0; h /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l < h)
            part[l] += part[l + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

static void kahan8(float8 *s, float8 *c, const float8 v)
{
    const float8 y = v - *c;
    const float8 t = *s + y;
    *c = (t - *s) - y;
    *s = t;
}

/* The four terms of one pixel (or 8 lanes of pixels): the BCE term, t p,
 * t, p, with e = exp(-|z|) shared by log1p and p = sigmoid(z) (1/(1+e)
 * for z >= 0, e/(1+e) below: no overflow, one exp instead of two). */
#define CU_LOSS_TERMS(T, zi, ti, sum, cmp, kah, sc, d0)                                             \
    do {                                                                                           \
        const T e = exp(-fabs(zi)), p = select(e / (1.0f + e), 1.0f / (1.0f + e), cmp(zi, 0.0f)); \
        kah(&sum[0], &c[0], sc * (fmax(zi, 0.0f) - zi * ti + log1p(e)));                           \
        kah(&sum[1], &c[1], d0 * (ti * p));                                                        \
        kah(&sum[2], &c[2], d0 * ti);                                                              \
        kah(&sum[3], &c[3], d0 * p);                                                               \
    } while (0)

/* Channel of flat pixel i and its BCE scale. */
#define CU_CHAN(i) (((i) / hw) % nc)
static float chan_scale(const int c, const float s0, const float s1, const float s2, const float s3)
{
    return c == 0 ? s0 : c == 1 ? s1 : c == 2 ? s2 : s3;
}

/* part[g*4 + q] = partial sum q of work-group g; range (groups*CU_RED_WG).
 * Work-items step through the input in runs of 8 pixels (float8 lanes,
 * each lane its own Kahan sum; on PoCL 0.9 CPU-ms at 16x128x128 against
 * 11 for one pixel at a time with two exp), then add
 * their 8 lanes in a fixed tree; work-item 0 of group 0 also takes the
 * last n % 8 pixels, one at a time. */
__kernel void cu_loss_partial(__global float *part, const int po, __global const float *z,
                              __global const float *t, const int n, const int hw, const int nc, const float s0,
                              const float s1, const float s2, const float s3)
{
    __local float loc[4][CU_RED_WG];
    const int l = get_local_id(0), g = get_group_id(0);
    /* runs of 8 stay inside one channel plane when hw % 8 == 0 */
    const int stride = get_num_groups(0) * CU_RED_WG, nv = nc == 1 || hw % 8 == 0 ? n / 8 : 0;
    float8 s8[4] = {(float8)(0.0f), (float8)(0.0f), (float8)(0.0f), (float8)(0.0f)}, c8[4];
    for (int q = 0; q < 4; q++)
        c8[q] = (float8)(0.0f);
    for (int i = g * CU_RED_WG + l; i < nv; i += stride) {
        const float8 zi = vload8(i, z), ti = vload8(i, t);
        float8 *c = c8;
        const int ch = CU_CHAN(8 * i);
        const float sc = chan_scale(ch, s0, s1, s2, s3), d0 = ch == 0 ? 1.0f : 0.0f;
        CU_LOSS_TERMS(float8, zi, ti, s8, isgreaterequal, kahan8, sc, d0);
    }
    float s[4], c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int q = 0; q < 4; q++) {
        const float8 v = s8[q];
        s[q] = ((v.s0 + v.s1) + (v.s2 + v.s3)) + ((v.s4 + v.s5) + (v.s6 + v.s7));
    }
    if (g == 0 && l == 0)
        for (int i = 8 * nv; i < n; i++) {
            const float zi = z[i], ti = t[i];
            const int ch = CU_CHAN(i);
            const float sc = chan_scale(ch, s0, s1, s2, s3), d0 = ch == 0 ? 1.0f : 0.0f;
            CU_LOSS_TERMS(float, zi, ti, s, CU_GE, kahan, sc, d0);
        }
    for (int q = 0; q < 4; q++) {
        loc[q][l] = s[q];
        tree(loc[q], l);
        if (l == 0)
            part[po + g * 4 + q] = loc[q][0];
    }
}

/* S[so + q] = sum over the groups' partials (one work-group). */
__kernel void cu_loss_total(__global float *S, const int so, __global const float *part, const int po,
                            const int groups)
{
    __local float loc[CU_RED_WG];
    const int l = get_local_id(0);
    for (int q = 0; q < 4; q++) {
        float s = 0.0f, c = 0.0f;
        for (int g = l; g < groups; g += CU_RED_WG)
            kahan(&s, &c, part[po + g * 4 + q]);
        loc[l] = s;
        tree(loc, l);
        if (l == 0)
            S[so + q] = loc[0];
    }
}

static float dice_of(__global const float *S) { return (2.0f * S[1] + 1.0f) / (S[2] + S[3] + 1.0f); }

/* out[0] = loss, out[1] = dice; a single work-item. */
__kernel void cu_loss_value(__global float *out, __global const float *S, const int so, const int n,
                            const int kind)
{
    if (get_global_id(0) != 0)
        return;
    const float bce = S[so] / (float)n, dice = dice_of(S + so);
    out[0] = kind == 0 ? bce : kind == 1 ? 1.0f - dice : bce + 1.0f - dice;
    out[1] = dice;
}

/* dz += d loss / d z:
 *   bce:  (p - t) / n
 *   dice: -(2 t (U+1) - (2 S1 + 1)) / (U+1)^2 * p (1-p),  U = S2 + S3.
 * S is read only for the Dice kinds (the host passes any buffer for bce). */
__kernel void cu_loss_grad(__global float *dz, __global const float *z, __global const float *t,
                           __global const float *S, const int so, const int n, const int kind, const int hw,
                           const int nc, const float s0, const float s1, const float s2, const float s3)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float p = sigm(z[i]), ti = t[i];
    const int ch = CU_CHAN(i);
    float g = 0.0f;
    if (kind != 1)
        g += chan_scale(ch, s0, s1, s2, s3) * (p - ti) / (float)n;
    if (kind != 0 && ch == 0) {
        const float u1 = S[so + 2] + S[so + 3] + 1.0f;
        g -= (2.0f * ti * u1 - (2.0f * S[so + 1] + 1.0f)) / (u1 * u1) * p * (1.0f - p);
    }
    dz[i] += g;
}
