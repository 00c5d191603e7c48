/* test_cl_ops.c: every op of the cl backend that is not element-wise
 * (conv, max-pool, up-sampling, transposed conv, concat, loss, Adam),
 * forward and backward, against the ref backend on odd shapes (H != W,
 * channels 3/5/7, batch 1 and 3, k = 1, 3 and 5, 32->16 channels for real
 * GEMM tiles, an im2col split into row bands, widths that are multiples of
 * 16 for the implicit-GEMM forward), from the same seeded inputs;
 * backward outputs start from random values, so "+=" is checked too. The
 * GEMM of the convolutions is also checked on its own. Then two training
 * steps of a small U-Net-shaped network on both backends: same losses and
 * weights, and on cl no transfer but the 8-byte loss read-back.
 * Element-wise ops (ReLU, sigmoid, axpy) are test_cl_act's.
 *
 * Error measure: err = max_i |cl_i - ref_i| / max(|ref_i|, floor), with the
 * floor a fraction f of max_i |ref_i|: f = 1 makes it the largest absolute
 * error on the tensor's scale (right for sums, whose rounding error scales
 * with the terms, not with a result that may cancel to ~0); f = 1e-6 makes
 * it an elementwise relative error (right for ops that only move values).
 * Tolerances, u = 2^-24 ~ 6e-8 (fp32 unit round-off; ref uses double):
 *   - GEMM-based outputs (conv, tconv: y, dx, dw): an fp32 sum of K terms
 *     carries an error <= K u sum|t_i| in the worst case and ~sqrt(K) u
 *     sum|t_i| typically. Our largest sums are K = 288 (y, dx) and
 *     K = N*H*W = 1440 (dw) of random-sign terms, for which
 *     sum|t_i| / max|result| ~ sqrt(K)/3: typical error ~ K u / 3 <= 3e-5
 *     of the tensor's maximum. tol 1e-4 with floor = max|ref| (absolute
 *     error on the tensor's scale); a wrong index or a missing term is
 *     off by O(1).
 *   - bias gradients (Kahan sums plus a 64-leaf tree, then one add into
 *     the old value): a few u of the tensor's scale: tol 1e-5, f = 1.
 *   - max-pool and concat move values and add one term: elementwise <= 1
 *     ulp (ref may round through double): tol 2.4e-7, floor 1e-6 max|ref|.
 *   - up-sampling: <= 16 terms with weights in {1/16..1}, different
 *     association: a few u of the tensor's scale: tol 1e-6 (16 u), f = 1.
 *   - loss and Dice: float sums of up to 6144 terms (Kahan per work-item,
 *     then trees) and OpenCL's exp/log1p (<= 3-4 ulp): tol 1e-5; the
 *     gradient: float p = sigmoid(z) (few ulp), the Dice numerator
 *     2t(U+1) - (2 S1 + 1), a difference of two O(U) terms, and the sums
 *     above: tol 1e-5, f = 1.
 *   - Adam: p, m, v after 3 steps, each step a handful of float operations
 *     per element (m may cancel towards 0): tol 1e-6, f = 1; and the change
 *     of p over the 3 steps (up to ~3 lr), known only to the float
 *     rounding of p (~1 ulp of |p| <= 1 per step, 2e-7): <= ~1e-5 of the
 *     largest change (f = 1): tol 1e-4, which a wrong bias correction (x30
 *     at step 1) or eps placement (eps = 1e-3 against sqrt(v) ~ 1e-3 in
 *     the second set) misses by far.
 * The device: $CLUNET_DEVICE if set, else "cpu" (PoCL in CI); it must be
 * an OpenCL device (no fallback to ref, no skipping). The GEMM itself
 * (cl_gemm.c) is also tested directly, and every GEMM-based case runs
 * with both GEMMs: the panel GEMM (`test_cl_ops`, with all other ops), then
 * CLBlast (`test_cl_ops clblast`, meson test cl_ops_clblast). CLBlast
 * compiles its kernels once per process (~13 s on PoCL with a cold cache);
 * all its GEMMs here are one routine (SGEMM), so it compiles once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cl/cl_ops.h" /* internal: the GEMM behind the convolutions, tested directly */
#include "clunet/ops.h"
#include "testutil.h"

#define TOL_GEMM 1e-4
#define TOL_BIAS 1e-5
#define TOL_MOVE 2.4e-7
#define TOL_UP 1e-6
#define TOL_LOSS 1e-5
#define TOL_ADAM 1e-6
#define TOL_ADAM_STEP 1e-4

static struct cu_backend *cl, *ref;

/* The device's policy is decided once, when it opens (cl_policy.c): a
 * change of the environment takes effect only when the policy is filled
 * again, which is what this does after setting (value) or removing (NULL)
 * name. */
static void env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
    cu_cl_policy_fill(cu_cl(cl));
}
static const char *gemm_impl = "default"; /* CLUNET_GEMM for the conv cases, in their labels */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

/* One tensor on both backends from the same host values. */
struct pair {
    struct cu_tensor *r, *c;
    size_t n;
};

static struct pair pair_new(struct cu_shape s, const char *name, float lo, float hi)
{
    struct pair p = {.n = cu_shape_numel(s)};
    float *h = calloc(p.n, sizeof *h);
    if (lo != hi)
        tu_fill_uniform(h, p.n, &rng, lo, hi);
    p.r = tu_tensor(ref, s, name, h);
    p.c = tu_tensor(cl, s, name, h);
    free(h);
    return p;
}

static void pair_free(struct pair *p)
{
    cu_tensor_free(p->r);
    cu_tensor_free(p->c);
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* Downloads both sides and checks err <= tol (floor = frac * max|ref|). */
static void compare(const struct pair *p, const char *what, double tol, double frac)
{
    float *a = tu_download(p->c), *b = tu_download(p->r);
    double floor = frac * max_abs(b, p->n);
    double e = tu_max_rel_err(a, b, p->n, floor > 1e-30 ? floor : 1e-30);
    TU_CHECK(e <= tol, "%s: err %.2e (tol %.1e, floor %.0e max|ref|, nmse %.1e)", what, e, tol, frac,
             tu_nmse(a, b, p->n));
    free(a);
    free(b);
}

static int ok(enum cu_status st, struct cu_err *err, const char *what) { return tu_ok(st, err, what); }

/* cu_cl_gemm against a double-precision host GEMM: transposition ta/tb,
 * leading dimensions past the minimum, non-zero offsets, alpha 1.5 and
 * beta 0 (C prefilled with NaN: it must not be read) or 0.5; elements of
 * the buffers outside the m x n block of C must stay as they were. */
static void test_gemm(const char *impl, bool ta, bool tb, int m, int n, int k, float beta)
{
    struct cu_cl_backend *cb = cu_cl(cl);
    const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
    const size_t ao = 5, bo = 7, co = 3;
    const size_t na = ao + (size_t)(ta ? k : m) * lda, nb = bo + (size_t)(tb ? n : k) * ldb, nc = co + (size_t)m * ldc;
    float *ha = malloc(na * sizeof *ha), *hb = malloc(nb * sizeof *hb), *hc = malloc(nc * sizeof *hc);
    tu_fill_uniform(ha, na, &rng, -1, 1);
    tu_fill_uniform(hb, nb, &rng, -1, 1);
    tu_fill_uniform(hc, nc, &rng, -1, 1);
    for (size_t i = 0; beta == 0.0f && i < nc; i++)
        hc[i] = NAN;
    size_t nws = cu_cl_gemm_ws(cb, ta, tb, m, n, k, lda, ldb) + 1;
    struct cu_tensor *a = tu_tensor(cl, (struct cu_shape){1, 1, 1, (int)na}, "A", ha);
    struct cu_tensor *b = tu_tensor(cl, (struct cu_shape){1, 1, 1, (int)nb}, "B", hb);
    struct cu_tensor *c = tu_tensor(cl, (struct cu_shape){1, 1, 1, (int)nc}, "C", hc);
    struct cu_tensor *ws = tu_tensor(cl, (struct cu_shape){1, 1, 1, (int)nws}, "ws", NULL);
    struct cu_err err = {0};
    char lab[128];
    snprintf(lab, sizeof lab, "gemm %s %s%s m %d n %d k %d beta %g", impl, ta ? "A^T" : "A", tb ? " B^T" : " B", m, n,
             k, beta);
    if (ok(cu_cl_gemm(cb, ta, tb, m, n, k, 1.5f, cu_cl_mem(a), ao, lda, cu_cl_mem(b), bo, ldb, beta, cu_cl_mem(c),
                      co, ldc, cu_cl_mem(ws), 1, "test", &err),
           &err, lab)) {
        float *got = tu_download(c);
        double maxref = 0, maxerr = 0;
        size_t outside = 0;
        for (size_t i = 0; i < nc; i++) {
            size_t r = (i - co) / (size_t)ldc, j = (i - co) % (size_t)ldc;
            if (i < co || j >= (size_t)n) {
                outside += memcmp(&got[i], &hc[i], sizeof(float)) != 0;
                continue;
            }
            double acc = 0;
            for (int l = 0; l < k; l++)
                acc += (double)ha[ao + (ta ? (size_t)l * lda + r : r * lda + l)] *
                       hb[bo + (tb ? j * ldb + l : (size_t)l * ldb + j)];
            double want = 1.5 * acc + (beta != 0.0f ? beta * (double)hc[i] : 0.0);
            maxref = fmax(maxref, fabs(want));
            maxerr = fmax(maxerr, fabs(got[i] - want)); /* NaN fails below */
            if (got[i] != got[i])
                maxerr = INFINITY;
        }
        TU_CHECK(maxerr <= TOL_GEMM * maxref && outside == 0, "%s: err %.2e (tol %.0e), %zu outside changed", lab,
                 maxerr / maxref, TOL_GEMM, outside);
        free(got);
    }
    cu_tensor_free(a), cu_tensor_free(b), cu_tensor_free(c), cu_tensor_free(ws);
    free(ha), free(hb), free(hc);
}

struct conv_case {
    int n, cin, h, w, cout, k;
    enum cu_act act;
    int dx;           /* 0: dx = NULL (a first layer) */
    size_t col_bytes; /* CLUNET_CL_COL_BYTES for this case (0: default) */
};

static void test_conv(const struct conv_case *cc)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "conv %dx%dx%dx%d k%d ->%d%s%s (%s)", cc->n, cc->cin, cc->h, cc->w, cc->k, cc->cout,
             cc->act == CU_ACT_RELU ? " relu" : "", cc->col_bytes ? " banded" : "", gemm_impl);
    if (cc->col_bytes) {
        char v[32];
        snprintf(v, sizeof v, "%zu", cc->col_bytes);
        env("CLUNET_CL_COL_BYTES", v);
    }
    struct cu_err err = {0};
    struct pair x = pair_new((struct cu_shape){cc->n, cc->cin, cc->h, cc->w}, "x", -1, 1);
    struct pair w = pair_new((struct cu_shape){cc->cout, cc->cin, cc->k, cc->k}, "w", -1, 1);
    struct pair b = pair_new((struct cu_shape){cc->cout, 1, 1, 1}, "b", -1, 1);
    struct pair y = pair_new((struct cu_shape){cc->n, cc->cout, cc->h, cc->w}, "y", -5, 5);
    struct pair dy = pair_new((struct cu_shape){cc->n, cc->cout, cc->h, cc->w}, "dy", -1, 1);
    struct pair dx = pair_new((struct cu_shape){cc->n, cc->cin, cc->h, cc->w}, "dx", -1, 1);
    struct pair dw = pair_new((struct cu_shape){cc->cout, cc->cin, cc->k, cc->k}, "dw", -1, 1);
    struct pair db = pair_new((struct cu_shape){cc->cout, 1, 1, 1}, "db", -1, 1);
    if (ok(cu_conv_forward(ref, y.r, x.r, w.r, b.r, cc->act, &err), &err, "ref conv forward") &&
        ok(cu_conv_forward(cl, y.c, x.c, w.c, b.c, cc->act, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s fwd y", lab);
        compare(&y, what, TOL_GEMM, 1.0);
    }
    if (ok(cu_conv_backward(ref, cc->dx ? dx.r : NULL, dw.r, db.r, dy.r, x.r, w.r, &err), &err,
           "ref conv backward") &&
        ok(cu_conv_backward(cl, cc->dx ? dx.c : NULL, dw.c, db.c, dy.c, x.c, w.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s bwd dx%s", lab, cc->dx ? "" : " (NULL: left alone)");
        compare(&dx, what, cc->dx ? TOL_GEMM : 0.0, 1.0);
        snprintf(what, sizeof what, "%s bwd dw", lab);
        compare(&dw, what, TOL_GEMM, 1.0);
        snprintf(what, sizeof what, "%s bwd db", lab);
        compare(&db, what, TOL_BIAS, 1.0);
    }
    struct pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pair_free(all[i]);
    env("CLUNET_CL_COL_BYTES", NULL);
}

/* A partial batch: tensors allocated for 3 images, used with n = 2 (the
 * last batch of an epoch). The ops must size everything from the current
 * n: results match ref's, and the third image of each output is untouched
 * (exactly its old values). Tolerance as for the GEMM outputs. */
static void test_partial_batch(void)
{
    struct cu_err err = {0};
    struct pair x = pair_new((struct cu_shape){3, 5, 6, 16}, "x", -1, 1);
    struct pair w = pair_new((struct cu_shape){4, 5, 3, 3}, "w", -1, 1);
    struct pair b = pair_new((struct cu_shape){4, 1, 1, 1}, "b", -1, 1);
    struct pair y = pair_new((struct cu_shape){3, 4, 6, 16}, "y", -5, 5);
    struct pair dx = pair_new((struct cu_shape){3, 5, 6, 16}, "dx", -1, 1);
    float *old = tu_download(y.c), *oldx = tu_download(dx.c);
    struct pair *batched[] = {&x, &y, &dx};
    for (int i = 0; i < 3; i++) {
        ok(cu_tensor_set_batch(batched[i]->r, 2, &err), &err, "set batch");
        ok(cu_tensor_set_batch(batched[i]->c, 2, &err), &err, "set batch");
        batched[i]->n = cu_tensor_numel(batched[i]->r);
    }
    if (ok(cu_conv_forward(ref, y.r, x.r, w.r, b.r, CU_ACT_RELU, &err), &err, "ref conv") &&
        ok(cu_conv_forward(cl, y.c, x.c, w.c, b.c, CU_ACT_RELU, &err), &err, "cl conv, batch 2 of 3"))
        compare(&y, gemm_impl[0] == 'p' ? "conv forward, batch 2 of 3 (panel)" : "conv forward, batch 2 of 3 (clblast)",
                TOL_GEMM, 1.0);
    if (ok(cu_conv_backward(ref, dx.r, NULL, NULL, y.r, x.r, w.r, &err), &err, "ref conv backward") &&
        ok(cu_conv_backward(cl, dx.c, NULL, NULL, y.c, x.c, w.c, &err), &err, "cl conv backward, batch 2 of 3"))
        compare(&dx,
                gemm_impl[0] == 'p' ? "conv backward dx, batch 2 of 3 (panel)"
                                    : "conv backward dx, batch 2 of 3 (clblast)",
                TOL_GEMM, 1.0);
    for (int i = 0; i < 3; i++) {
        cu_tensor_set_batch(batched[i]->r, 3, &err);
        cu_tensor_set_batch(batched[i]->c, 3, &err);
    }
    float *ny = tu_download(y.c), *ndx = tu_download(dx.c);
    size_t per_y = 4 * 6 * 16, per_x = 5 * 6 * 16;
    TU_CHECK(!memcmp(ny + 2 * per_y, old + 2 * per_y, per_y * sizeof(float)) &&
                 !memcmp(ndx + 2 * per_x, oldx + 2 * per_x, per_x * sizeof(float)),
             "batch 2 of 3 (%s): the third image of y and dx is untouched", gemm_impl);
    free(old), free(oldx), free(ny), free(ndx);
    pair_free(&x), pair_free(&w), pair_free(&b), pair_free(&y), pair_free(&dx);
}

/* An im2col row that exceeds the workspace limit is an error naming the
 * tensor (CU_EDEVICE), not a crash or a silent fallback. */
static void test_col_limit(void)
{
    struct cu_err err = {0};
    struct cu_tensor *x = tu_tensor(cl, (struct cu_shape){1, 4, 5, 7}, "limit.x", NULL);
    struct cu_tensor *w = tu_tensor(cl, (struct cu_shape){2, 4, 3, 3}, "limit.w", NULL);
    struct cu_tensor *dy = tu_tensor(cl, (struct cu_shape){1, 2, 5, 7}, "limit.dy", NULL);
    struct cu_tensor *dw = tu_tensor(cl, (struct cu_shape){2, 4, 3, 3}, "limit.dw", NULL);
    env("CLUNET_CL_COL_BYTES", "100"); /* one row: 36 x 7 floats = 1008 bytes */
    env("CLUNET_NO_DW_DIRECT", "1");      /* on CPUs this small dW needs no im2col otherwise */
    enum cu_status st = cu_conv_backward(cl, NULL, dw, NULL, dy, x, w, &err);
    env("CLUNET_CL_COL_BYTES", NULL);
    env("CLUNET_NO_DW_DIRECT", NULL);
    TU_CHECK(st == CU_EDEVICE && strstr(err.msg, "limit.x") && strstr(err.msg, "im2col"),
             "im2col row over CLUNET_CL_COL_BYTES: status %d, \"%s\"", (int)st, err.msg);
    cu_tensor_free(x), cu_tensor_free(w), cu_tensor_free(dy), cu_tensor_free(dw);
}

static void test_tconv(int n, int cin, int h, int wd, int cout)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "tconv %dx%dx%dx%d ->%d (%s)", n, cin, h, wd, cout, gemm_impl);
    struct cu_err err = {0};
    struct pair x = pair_new((struct cu_shape){n, cin, h, wd}, "x", -1, 1);
    struct pair w = pair_new((struct cu_shape){cin, cout, 2, 2}, "w", -1, 1);
    struct pair b = pair_new((struct cu_shape){cout, 1, 1, 1}, "b", -1, 1);
    struct pair y = pair_new((struct cu_shape){n, cout, 2 * h, 2 * wd}, "y", -5, 5);
    struct pair dy = pair_new((struct cu_shape){n, cout, 2 * h, 2 * wd}, "dy", -1, 1);
    struct pair dx = pair_new((struct cu_shape){n, cin, h, wd}, "dx", -1, 1);
    struct pair dw = pair_new((struct cu_shape){cin, cout, 2, 2}, "dw", -1, 1);
    struct pair db = pair_new((struct cu_shape){cout, 1, 1, 1}, "db", -1, 1);
    if (ok(cu_tconv_forward(ref, y.r, x.r, w.r, b.r, &err), &err, "ref tconv forward") &&
        ok(cu_tconv_forward(cl, y.c, x.c, w.c, b.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s fwd y", lab);
        compare(&y, what, TOL_GEMM, 1.0);
    }
    if (ok(cu_tconv_backward(ref, dx.r, dw.r, db.r, dy.r, x.r, w.r, &err), &err, "ref tconv backward") &&
        ok(cu_tconv_backward(cl, dx.c, dw.c, db.c, dy.c, x.c, w.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s bwd dx", lab);
        compare(&dx, what, TOL_GEMM, 1.0);
        snprintf(what, sizeof what, "%s bwd dw", lab);
        compare(&dw, what, TOL_GEMM, 1.0);
        snprintf(what, sizeof what, "%s bwd db", lab);
        compare(&db, what, TOL_BIAS, 1.0);
    }
    struct pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pair_free(all[i]);
}

/* Values on a grid of 1/4 in [-1, 1]: many ties inside pooling windows, so
 * the first-maximum rule is exercised on both sides. */
static void quantise(struct pair *p)
{
    float *h = tu_download(p->r);
    for (size_t i = 0; i < p->n; i++)
        h[i] = roundf(h[i] * 4.0f) / 4.0f;
    struct cu_err err = {0};
    ok(cu_tensor_upload(p->r, h, &err), &err, "upload");
    ok(cu_tensor_upload(p->c, h, &err), &err, "upload");
    free(h);
}

static void test_pool(struct cu_shape s, int ties)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "maxpool %dx%dx%dx%d%s", s.n, s.c, s.h, s.w, ties ? " ties" : "");
    struct cu_err err = {0};
    struct cu_shape so = {s.n, s.c, s.h / 2, s.w / 2};
    struct pair x = pair_new(s, "x", -1, 1), y = pair_new(so, "y", -5, 5);
    struct pair dy = pair_new(so, "dy", -1, 1), dx = pair_new(s, "dx", -1, 1);
    if (ties)
        quantise(&x);
    if (ok(cu_maxpool_forward(ref, y.r, x.r, &err), &err, "ref maxpool") &&
        ok(cu_maxpool_forward(cl, y.c, x.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s fwd", lab);
        compare(&y, what, TOL_MOVE, 1e-6);
    }
    if (ok(cu_maxpool_backward(ref, dx.r, dy.r, x.r, &err), &err, "ref maxpool backward") &&
        ok(cu_maxpool_backward(cl, dx.c, dy.c, x.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s bwd", lab);
        compare(&dx, what, TOL_MOVE, 1e-6);
    }
    pair_free(&x), pair_free(&y), pair_free(&dy), pair_free(&dx);
}

static void test_upsample(struct cu_shape s)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "upsample %dx%dx%dx%d", s.n, s.c, s.h, s.w);
    struct cu_err err = {0};
    struct cu_shape so = {s.n, s.c, 2 * s.h, 2 * s.w};
    struct pair x = pair_new(s, "x", -1, 1), y = pair_new(so, "y", -5, 5);
    struct pair dy = pair_new(so, "dy", -1, 1), dx = pair_new(s, "dx", -1, 1);
    if (ok(cu_upsample_forward(ref, y.r, x.r, &err), &err, "ref upsample") &&
        ok(cu_upsample_forward(cl, y.c, x.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s fwd", lab);
        compare(&y, what, TOL_UP, 1.0);
    }
    if (ok(cu_upsample_backward(ref, dx.r, dy.r, &err), &err, "ref upsample backward") &&
        ok(cu_upsample_backward(cl, dx.c, dy.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s bwd", lab);
        compare(&dx, what, TOL_UP, 1.0);
    }
    pair_free(&x), pair_free(&y), pair_free(&dy), pair_free(&dx);
}

static void test_concat(struct cu_shape sa, int cb)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "concat %dx%dx%dx%d + %d", sa.n, sa.c, sa.h, sa.w, cb);
    struct cu_err err = {0};
    struct cu_shape sb = {sa.n, cb, sa.h, sa.w}, sy = {sa.n, sa.c + cb, sa.h, sa.w};
    struct pair a = pair_new(sa, "a", -1, 1), b = pair_new(sb, "b", -1, 1), y = pair_new(sy, "y", -5, 5);
    struct pair dy = pair_new(sy, "dy", -1, 1), da = pair_new(sa, "da", -1, 1), db = pair_new(sb, "db", -1, 1);
    if (ok(cu_concat_forward(ref, y.r, a.r, b.r, &err), &err, "ref concat") &&
        ok(cu_concat_forward(cl, y.c, a.c, b.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s fwd", lab);
        compare(&y, what, TOL_MOVE, 1e-6);
    }
    if (ok(cu_concat_backward(ref, da.r, db.r, dy.r, &err), &err, "ref concat backward") &&
        ok(cu_concat_backward(cl, da.c, db.c, dy.c, &err), &err, lab)) {
        snprintf(what, sizeof what, "%s bwd da", lab);
        compare(&da, what, TOL_MOVE, 1e-6);
        snprintf(what, sizeof what, "%s bwd db", lab);
        compare(&db, what, TOL_MOVE, 1e-6);
    }
    pair_free(&a), pair_free(&b), pair_free(&y), pair_free(&dy), pair_free(&da), pair_free(&db);
}

static const char *kind_name(enum cu_loss k)
{
    return k == CU_LOSS_BCE ? "bce" : k == CU_LOSS_DICE ? "dice" : "bce+dice";
}

/* Channel weights for C > 1 (distinct, so a misplaced one shows). */
static const float loss_w[3] = {1.0f, 0.5f, 2.0f};

static void test_loss(struct cu_shape s, int soft)
{
    const float *w = s.c > 1 ? loss_w : NULL;
    struct cu_err err = {0};
    struct pair z = pair_new(s, "z", -6, 6), t = pair_new(s, "t", 0, 1);
    if (!soft) { /* binary masks, as in training */
        float *h = tu_download(t.r);
        for (size_t i = 0; i < t.n; i++)
            h[i] = h[i] > 0.6f ? 1.0f : 0.0f;
        ok(cu_tensor_upload(t.r, h, &err), &err, "upload");
        ok(cu_tensor_upload(t.c, h, &err), &err, "upload");
        free(h);
    }
    for (int k = CU_LOSS_BCE; k <= CU_LOSS_BCE_DICE; k++) {
        char lab[96], what[160];
        snprintf(lab, sizeof lab, "loss %s %dx%dx%dx%d %s", kind_name((enum cu_loss)k), s.n, s.c, s.h, s.w,
                 soft ? "soft" : "binary");
        struct pair out = pair_new((struct cu_shape){1, 1, 1, 2}, "out", -5, 5);
        struct pair dz = pair_new(s, "dz", -1e-5f, 1e-5f); /* below the gradients (>= ~1e-4) */
        if (ok(cu_loss_forward_w(ref, out.r, z.r, t.r, (enum cu_loss)k, w, &err), &err, "ref loss") &&
            ok(cu_loss_forward_w(cl, out.c, z.c, t.c, (enum cu_loss)k, w, &err), &err, lab)) {
            snprintf(what, sizeof what, "%s fwd [loss, dice]", lab);
            compare(&out, what, TOL_LOSS, 1.0);
        }
        if (ok(cu_loss_backward_w(ref, dz.r, z.r, t.r, (enum cu_loss)k, w, &err), &err, "ref loss backward") &&
            ok(cu_loss_backward_w(cl, dz.c, z.c, t.c, (enum cu_loss)k, w, &err), &err, lab)) {
            snprintf(what, sizeof what, "%s bwd dz", lab);
            compare(&dz, what, TOL_LOSS, 1.0);
        }
        pair_free(&out), pair_free(&dz);
    }
    pair_free(&z), pair_free(&t);
}

static void test_adam(struct cu_shape s, struct cu_adam hp, float gscale)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "adam %dx%dx%dx%d lr %g eps %g", s.n, s.c, s.h, s.w, hp.lr, hp.eps);
    struct cu_err err = {0};
    struct pair p = pair_new(s, "p", -1, 1), g = pair_new(s, "g", -gscale, gscale);
    struct pair m = pair_new(s, "m", 0, 0), v = pair_new(s, "v", 0, 0);
    float *before = tu_download(p.r);
    for (long step = 1; step <= 3; step++) {
        float *gh = calloc(p.n, sizeof *gh);
        tu_fill_uniform(gh, p.n, &rng, -gscale, gscale);
        ok(cu_tensor_upload(g.r, gh, &err), &err, "upload");
        ok(cu_tensor_upload(g.c, gh, &err), &err, "upload");
        free(gh);
        if (!ok(cu_adam_update(ref, p.r, g.r, m.r, v.r, &hp, step, &err), &err, "ref adam") ||
            !ok(cu_adam_update(cl, p.c, g.c, m.c, v.c, &hp, step, &err), &err, lab))
            break;
    }
    snprintf(what, sizeof what, "%s 3 steps p", lab);
    compare(&p, what, TOL_ADAM, 1.0);
    snprintf(what, sizeof what, "%s 3 steps m", lab);
    compare(&m, what, TOL_ADAM, 1.0);
    snprintf(what, sizeof what, "%s 3 steps v", lab);
    compare(&v, what, TOL_ADAM, 1.0);
    float *pc = tu_download(p.c), *pr = tu_download(p.r);
    for (size_t i = 0; i < p.n; i++) { /* the change of p */
        pc[i] -= before[i];
        pr[i] -= before[i];
    }
    double e = tu_max_rel_err(pc, pr, p.n, max_abs(pr, p.n));
    TU_CHECK(e <= TOL_ADAM_STEP, "%s change of p: err %.2e (tol %.0e)", lab, e, TOL_ADAM_STEP);
    free(pc), free(pr), free(before);
    pair_free(&p), pair_free(&g), pair_free(&m), pair_free(&v);
}

/* A small U-Net-shaped training step, run on both backends from the same
 * weights: conv 3->4 k3 ReLU (y1, 16x32), max-pool, conv 4->6 k3 ReLU (y2,
 * 8x16), up-sampling and a transposed conv 6->2 of y2, concat [y1, up],
 * concat [that, tconv], conv 12->4 k3 ReLU, conv 4->1 k1 (logits z),
 * bce+dice loss; backward through all of it (y1 and y2 each collect two
 * gradients); Adam on every parameter. W = 32 and 16 take the CPU
 * implicit-GEMM path. On cl, between the uploads and the end: one download
 * per step (the 8-byte loss tensor), no upload, no tensor allocation.
 * Tolerances: the loss as for the loss op (1e-5 relative); the parameters
 * after two Adam steps: tol 1e-6 of the tensor's scale (|p| ~ 0.3-1). The
 * first step is about lr * g / (|g| + 3e-6) (eps / sqrt(1 - b2) = 3e-6),
 * so a float error delta in a gradient moves p by at most lr * delta /
 * 3e-6 = 3e2 delta; the gradients here carry delta <~ 1e-9 (1e-6 of
 * values <~ 1e-3), i.e. <~ 3e-7 (measured <= 1.2e-7), while any wrong
 * gradient moves p by O(lr) = 1e-3. */
enum { X, T, W1, B1, Y1, P1, W2, B2, Y2, UP, WT, BT, TC, C1, C2, W3, B3, Y3, W4, B4, Z, OUT, NT };
enum { DZ = 0, DY3, DC2, DC1, DTC, DUP, DY2, DP1, DY1, NG };
static const int params[] = {W1, B1, W2, B2, WT, BT, W3, B3, W4, B4};
#define NP ((int)(sizeof params / sizeof params[0]))

struct net {
    struct cu_tensor *t[NT], *g[NG], *dp[NP], *m[NP], *v[NP];
};

static void net_new(struct net *nt, struct cu_backend *be, uint64_t seed)
{
    const struct cu_shape sh[NT] = {
        [X] = {2, 3, 16, 32},  [T] = {2, 1, 16, 32},  [W1] = {4, 3, 3, 3},   [B1] = {4, 1, 1, 1},
        [Y1] = {2, 4, 16, 32}, [P1] = {2, 4, 8, 16},  [W2] = {6, 4, 3, 3},   [B2] = {6, 1, 1, 1},
        [Y2] = {2, 6, 8, 16},  [UP] = {2, 6, 16, 32}, [WT] = {6, 2, 2, 2},   [BT] = {2, 1, 1, 1},
        [TC] = {2, 2, 16, 32}, [C1] = {2, 10, 16, 32}, [C2] = {2, 12, 16, 32}, [W3] = {4, 12, 3, 3},
        [B3] = {4, 1, 1, 1},   [Y3] = {2, 4, 16, 32}, [W4] = {1, 4, 1, 1},   [B4] = {1, 1, 1, 1},
        [Z] = {2, 1, 16, 32},  [OUT] = {1, 1, 1, 2},
    };
    const int gof[NG] = {[DZ] = Z, [DY3] = Y3, [DC2] = C2, [DC1] = C1, [DTC] = TC, [DUP] = UP, [DY2] = Y2,
                         [DP1] = P1, [DY1] = Y1};
    uint64_t r = seed;
    for (int i = 0; i < NT; i++) {
        size_t n = cu_shape_numel(sh[i]);
        float *h = calloc(n, sizeof *h);
        if (i == X)
            tu_fill_uniform(h, n, &r, -1, 1);
        if (i == T)
            for (size_t j = 0; j < n; j++)
                h[j] = tu_rand_uniform(&r, 0, 1) > 0.6f;
        if (i == W1 || i == W2 || i == W3 || i == W4 || i == WT) /* He-like scale: sqrt(2 / fan_in) */
            tu_fill_uniform(h, n, &r, -sqrtf(6.0f / (float)(sh[i].c * sh[i].h * sh[i].w)),
                            sqrtf(6.0f / (float)(sh[i].c * sh[i].h * sh[i].w)));
        if (i == B1 || i == B2 || i == B3 || i == BT)
            tu_fill_uniform(h, n, &r, -0.1f, 0.1f);
        nt->t[i] = tu_tensor(be, sh[i], "net", h);
        free(h);
    }
    for (int i = 0; i < NG; i++)
        nt->g[i] = tu_tensor(be, sh[gof[i]], "grad", NULL);
    for (int i = 0; i < NP; i++) {
        nt->dp[i] = tu_tensor(be, sh[params[i]], "dparam", NULL);
        nt->m[i] = tu_tensor(be, sh[params[i]], "m", NULL);
        nt->v[i] = tu_tensor(be, sh[params[i]], "v", NULL);
    }
}

static void net_free(struct net *nt)
{
    for (int i = 0; i < NT; i++)
        cu_tensor_free(nt->t[i]);
    for (int i = 0; i < NG; i++)
        cu_tensor_free(nt->g[i]);
    for (int i = 0; i < NP; i++) {
        cu_tensor_free(nt->dp[i]);
        cu_tensor_free(nt->m[i]);
        cu_tensor_free(nt->v[i]);
    }
}

/* The gradient of parameter p (an index into params). */
static struct cu_tensor *dparam(struct net *nt, int p)
{
    for (int i = 0; i < NP; i++)
        if (params[i] == p)
            return nt->dp[i];
    return NULL;
}

#define STEP(call)                                                                                                \
    do {                                                                                                          \
        if (!st)                                                                                                  \
            st = (call);                                                                                          \
    } while (0)

/* One step; loss gets the downloaded [loss, dice]. */
static enum cu_status net_step(struct cu_backend *be, struct net *nt, long step, float loss[2], struct cu_err *err)
{
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    struct cu_tensor **t = nt->t, **g = nt->g;
    enum cu_status st = CU_OK;
    for (int i = 0; i < NG; i++)
        STEP(cu_tensor_zero(g[i], err));
    for (int i = 0; i < NP; i++)
        STEP(cu_tensor_zero(nt->dp[i], err));
    STEP(cu_conv_forward(be, t[Y1], t[X], t[W1], t[B1], CU_ACT_RELU, err));
    STEP(cu_maxpool_forward(be, t[P1], t[Y1], err));
    STEP(cu_conv_forward(be, t[Y2], t[P1], t[W2], t[B2], CU_ACT_RELU, err));
    STEP(cu_upsample_forward(be, t[UP], t[Y2], err));
    STEP(cu_tconv_forward(be, t[TC], t[Y2], t[WT], t[BT], err));
    STEP(cu_concat_forward(be, t[C1], t[Y1], t[UP], err));
    STEP(cu_concat_forward(be, t[C2], t[C1], t[TC], err));
    STEP(cu_conv_forward(be, t[Y3], t[C2], t[W3], t[B3], CU_ACT_RELU, err));
    STEP(cu_conv_forward(be, t[Z], t[Y3], t[W4], t[B4], CU_ACT_NONE, err));
    STEP(cu_loss_forward(be, t[OUT], t[Z], t[T], CU_LOSS_BCE_DICE, err));
    STEP(cu_tensor_download(t[OUT], loss, err));
    STEP(cu_loss_backward(be, g[DZ], t[Z], t[T], CU_LOSS_BCE_DICE, err));
    STEP(cu_conv_backward(be, g[DY3], dparam(nt, W4), dparam(nt, B4), g[DZ], t[Y3], t[W4], err));
    STEP(cu_relu_backward(be, g[DY3], t[Y3], err));
    STEP(cu_conv_backward(be, g[DC2], dparam(nt, W3), dparam(nt, B3), g[DY3], t[C2], t[W3], err));
    STEP(cu_concat_backward(be, g[DC1], g[DTC], g[DC2], err));
    STEP(cu_tconv_backward(be, g[DY2], dparam(nt, WT), dparam(nt, BT), g[DTC], t[Y2], t[WT], err));
    STEP(cu_concat_backward(be, g[DY1], g[DUP], g[DC1], err));
    STEP(cu_upsample_backward(be, g[DY2], g[DUP], err));
    STEP(cu_relu_backward(be, g[DY2], t[Y2], err));
    STEP(cu_conv_backward(be, g[DP1], dparam(nt, W2), dparam(nt, B2), g[DY2], t[P1], t[W2], err));
    STEP(cu_maxpool_backward(be, g[DY1], g[DP1], t[Y1], err));
    STEP(cu_relu_backward(be, g[DY1], t[Y1], err));
    STEP(cu_conv_backward(be, NULL, dparam(nt, W1), dparam(nt, B1), g[DY1], t[X], t[W1], err));
    for (int i = 0; i < NP; i++)
        STEP(cu_adam_update(be, t[params[i]], nt->dp[i], nt->m[i], nt->v[i], &hp, step, err));
    return st;
}

static void test_step(void)
{
    static struct net nc, nr;
    struct cu_err err = {0};
    net_new(&nc, cl, 77);
    net_new(&nr, ref, 77);
    struct cu_backend_stats s0, s1;
    cu_backend_stats(cl, &s0);
    float lc[2] = {0}, lr[2] = {0};
    for (long step = 1; step <= 2; step++) {
        if (!ok(net_step(cl, &nc, step, lc, &err), &err, "cl training step") ||
            !ok(net_step(ref, &nr, step, lr, &err), &err, "ref training step"))
            break;
        TU_CHECK(fabsf(lc[0] - lr[0]) <= TOL_LOSS * fabsf(lr[0]) && fabsf(lc[1] - lr[1]) <= TOL_LOSS * fabsf(lr[1]),
                 "net step %ld (%s): loss %.7f dice %.7f on cl, %.7f %.7f on ref (tol %.0e relative)", step,
                 gemm_impl, lc[0], lc[1], lr[0], lr[1], TOL_LOSS);
    }
    ok(cu_backend_sync(cl, &err), &err, "sync");
    cu_backend_stats(cl, &s1);
    TU_CHECK(s1.downloads - s0.downloads == 2 && s1.bytes_down - s0.bytes_down == 16,
             "2 training steps on cl read back only the loss: %llu downloads, %llu bytes (want 2, 16)",
             (unsigned long long)(s1.downloads - s0.downloads), (unsigned long long)(s1.bytes_down - s0.bytes_down));
    TU_CHECK(s1.uploads == s0.uploads && s1.allocs == s0.allocs,
             "2 training steps on cl: %llu uploads, %llu tensor allocations (want 0, 0)",
             (unsigned long long)(s1.uploads - s0.uploads), (unsigned long long)(s1.allocs - s0.allocs));
    static const char *names[] = {"w1", "b1", "w2", "b2", "wt", "bt", "w3", "b3", "w4", "b4"};
    for (int i = 0; i < NP; i++) {
        char what[96];
        struct pair p = {nr.t[params[i]], nc.t[params[i]], cu_tensor_numel(nr.t[params[i]])};
        snprintf(what, sizeof what, "net after 2 Adam steps (%s): %s", gemm_impl, names[i]);
        compare(&p, what, TOL_ADAM, 1.0);
    }
    net_free(&nc);
    net_free(&nr);
}

/* The GEMM-based ops (the GEMM itself, conv, tconv, a partial batch, the
 * network step) with one GEMM implementation (CLUNET_GEMM). */
static void test_gemm_ops(const char *impl)
{
    gemm_impl = impl;
    env("CLUNET_GEMM", impl);
    /* Shapes: m < n and m > n (the panel GEMM packs the smaller operand:
     * both orientations), edges off the 8 x 16 tile, k past 256. */
    for (int t = 0; t < 4; t++) {
        test_gemm(impl, t & 1, t & 2, 5, 37, 19, 0.0f);
        test_gemm(impl, t & 1, t & 2, 37, 5, 19, 0.5f);
        test_gemm(impl, t & 1, t & 2, 33, 17, 300, t < 2 ? 0.0f : 0.5f);
    }
    test_gemm(impl, false, true, 72, 1100, 800, 0.0f);
    test_gemm(impl, true, false, 72, 1100, 800, 0.0f);
    /* 1000^3: past PoCL's threshold for CLBlast's indirect GEMM (~900^3;
     * GPUs switch far earlier), whose padded copies use the workspace; a
     * second of host arithmetic for the reference */
    if (!strcmp(impl, "clblast"))
        test_gemm(impl, false, true, 1000, 1000, 1000, 0.5f);

    static const struct conv_case convs[] = {
        {1, 3, 17, 13, 5, 3, CU_ACT_RELU, 0, 0},
        {3, 7, 9, 11, 5, 1, CU_ACT_NONE, 1, 0},
        {3, 32, 24, 20, 16, 3, CU_ACT_RELU, 1, 0},
        {2, 3, 8, 6, 4, 5, CU_ACT_RELU, 1, 0},
        /* K = 45, W = 10: one im2col row is 1800 bytes, 4000 allow 2 rows:
         * bands of 2, 2, 2, 1 rows */
        {1, 5, 7, 10, 7, 3, CU_ACT_NONE, 1, 4000},
        {3, 5, 7, 10, 7, 3, CU_ACT_RELU, 1, 4000},
        /* W % 16 == 0: the implicit-GEMM forward on CPUs (runs of 16 at
         * the borders and, for W = 48, inside) */
        {3, 7, 5, 16, 5, 3, CU_ACT_RELU, 1, 0},
        {1, 32, 6, 48, 13, 3, CU_ACT_RELU, 1, 0},
        {2, 3, 4, 16, 5, 1, CU_ACT_NONE, 1, 0},
        {1, 3, 5, 32, 4, 5, CU_ACT_NONE, 1, 0},
        /* 3x3 with W % 32 == 0: the 8 x 32 implicit tile (cu_conv3_fwd_w32),
         * forward and dx: one run touching both borders (W = 32, 11
         * outputs: a partial channel tile), a border and an inner run
         * (W = 96), and 32 -> 40 at W = 64, which would be Winograd at a
         * narrower width */
        {2, 5, 4, 32, 11, 3, CU_ACT_RELU, 1, 0},
        {1, 9, 3, 96, 6, 3, CU_ACT_NONE, 1, 0},
        {1, 32, 3, 64, 40, 3, CU_ACT_RELU, 1, 0},
        /* H W = 1517 > 16 x 64: the bias gradient's work-items sum two
         * 16-float runs per image and one a short tail */
        {2, 3, 37, 41, 5, 1, CU_ACT_NONE, 1, 0},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        test_conv(&convs[i]);
    test_tconv(1, 3, 5, 4, 5);
    test_tconv(3, 7, 6, 5, 3);
    test_tconv(2, 32, 12, 10, 16);
    test_partial_batch();
    test_step();
    env("CLUNET_GEMM", NULL);
}

/* test_cl_ops [clblast]: without an argument, every op with the panel GEMM
 * (the default on CPUs); with "clblast", the GEMM-based ops again with
 * CLBlast (the default on GPUs), as a second test so that each stays well
 * under a minute with cold kernel caches. */
int main(int argc, char **argv)
{
    struct cu_err err = {0};
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only && strcmp(only, "clblast") && strcmp(only, "panel")) {
        fprintf(stderr, "usage: test_cl_ops [clblast|panel]\n");
        return 1;
    }
    const char *spec = getenv("CLUNET_DEVICE");
    if (!spec || !*spec)
        spec = "cpu";
    if (!tu_ok(cu_backend_open(spec, &cl, &err), &err, "open the cl device") ||
        !tu_ok(cu_backend_open("ref", &ref, &err), &err, "open ref"))
        return tu_finish();
    struct cu_caps caps;
    cu_backend_caps(cl, &caps);
    TU_CHECK(cu_backend_kind(cl) == CU_BACKEND_CL, "device %s opens the cl backend (%s)", spec, caps.name);
    if (cu_backend_kind(cl) != CU_BACKEND_CL)
        return tu_finish();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    test_gemm_ops(only ? only : "panel");
    if (!only) {
        test_col_limit();
        test_pool((struct cu_shape){2, 3, 9, 7}, 0);
        test_pool((struct cu_shape){1, 5, 8, 10}, 1);
        test_pool((struct cu_shape){3, 7, 5, 6}, 1);
        test_pool((struct cu_shape){2, 3, 6, 16}, 1);  /* one full 8-column run */
        test_pool((struct cu_shape){2, 2, 5, 35}, 1);  /* two runs, a tail, odd H and W */
        test_pool((struct cu_shape){3, 4, 16, 32}, 0);
        test_upsample((struct cu_shape){2, 3, 5, 6});
        test_upsample((struct cu_shape){1, 7, 1, 4});
        test_upsample((struct cu_shape){3, 5, 4, 3});
        test_upsample((struct cu_shape){1, 1, 1, 1});
        test_upsample((struct cu_shape){2, 3, 5, 8});   /* one full 8-column run */
        test_upsample((struct cu_shape){3, 2, 3, 19});  /* two runs and a tail of 3 */
        test_upsample((struct cu_shape){2, 2, 1, 16});  /* one row: both row clamps */
        test_concat((struct cu_shape){2, 3, 5, 7}, 5);
        test_concat((struct cu_shape){1, 7, 4, 3}, 1);
        test_concat((struct cu_shape){3, 32, 6, 5}, 16);
        test_concat((struct cu_shape){2, 16, 4, 4}, 8); /* whole 16-float runs only */
        test_concat((struct cu_shape){4, 1, 1, 3}, 2);  /* every block a short tail */
        test_loss((struct cu_shape){2, 1, 9, 7}, 0);
        test_loss((struct cu_shape){3, 1, 17, 13}, 1);
        test_loss((struct cu_shape){2, 1, 64, 48}, 0);
        test_loss((struct cu_shape){3, 1, 129, 101}, 0); /* > 64 work-groups of 8-pixel runs: strided stage 1, tail 7 */
        test_loss((struct cu_shape){2, 3, 16, 16}, 0); /* three weighted channels, planes of whole 8-pixel runs */
        test_loss((struct cu_shape){2, 3, 9, 7}, 1);   /* planes not a multiple of 8: one pixel at a time */
        test_adam((struct cu_shape){7, 5, 3, 3}, CU_ADAM_DEFAULTS, 1.0f);
        test_adam((struct cu_shape){1, 1, 1, 4099}, (struct cu_adam){1e-2f, 0.9f, 0.999f, 1e-3f}, 2e-3f);
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("ops on %s (%s GEMM): %.2f s\n", caps.name, only ? only : "panel",
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    cu_backend_free(cl);
    cu_backend_free(ref);
    return tu_finish();
}
