/* test_cl_ops.c: every op of the cl backend that is not element-wise
 * (conv, max-pool, up-sampling, transposed conv, concat, loss, Adam),
 * forward and backward, against the ref backend on odd shapes (H != W,
 * channels 3/5/7, batch 1 and 3, k = 1, 3 and 5, 32->16 channels for real
 * GEMM tiles, an im2col split into row bands), from the same seeded inputs;
 * backward outputs start from random values, so "+=" is checked too. Then a
 * small forward + loss + backward + Adam step on both backends: same loss
 * and weights, and on cl no transfer but the 8-byte loss read-back.
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
 *   - bias gradients (Kahan sums plus a 64-leaf tree): <= ~10 u: tol 1e-5,
 *     floor 1e-2 max|ref|.
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
 *     per element (m may cancel towards 0): tol 1e-6, f = 1; and the change of p
 *     (~lr, so 1 ulp of p is ~1e-4 of it): tol 1e-3 on the change, which a
 *     wrong bias correction (x30 at step 1) or eps placement (eps = 1e-3
 *     against sqrt(v) ~ 1e-3 in the second set) would miss by far.
 * The device: $CLUNET_DEVICE if set, else "cpu" (PoCL in CI); it must be
 * an OpenCL device (no fallback to ref, no skipping). CLBlast compiles its
 * GEMM kernels once per process (seconds on PoCL with a cold cache): all
 * GEMMs here are one CLBlast routine (SGEMM), so it compiles once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clunet/ops.h"
#include "testutil.h"

#define TOL_GEMM 1e-4
#define TOL_BIAS 1e-5
#define TOL_MOVE 2.4e-7
#define TOL_UP 1e-6
#define TOL_LOSS 1e-5
#define TOL_ADAM 1e-6
#define TOL_ADAM_STEP 1e-3

static struct cu_backend *cl, *ref;
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

struct conv_case {
    int n, cin, h, w, cout, k;
    enum cu_act act;
    int dx;           /* 0: dx = NULL (a first layer) */
    size_t col_bytes; /* CLUNET_CL_COL_BYTES for this case (0: default) */
};

static void test_conv(const struct conv_case *cc)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "conv %dx%dx%dx%d k%d ->%d%s%s", cc->n, cc->cin, cc->h, cc->w, cc->k, cc->cout,
             cc->act == CU_ACT_RELU ? " relu" : "", cc->col_bytes ? " banded" : "");
    if (cc->col_bytes) {
        char v[32];
        snprintf(v, sizeof v, "%zu", cc->col_bytes);
        setenv("CLUNET_CL_COL_BYTES", v, 1);
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
        compare(&db, what, TOL_BIAS, 1e-2);
    }
    struct pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pair_free(all[i]);
    unsetenv("CLUNET_CL_COL_BYTES");
}

static void test_tconv(int n, int cin, int h, int wd, int cout)
{
    char lab[96], what[160];
    snprintf(lab, sizeof lab, "tconv %dx%dx%dx%d ->%d", n, cin, h, wd, cout);
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
        compare(&db, what, TOL_BIAS, 1e-2);
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

static void test_loss(struct cu_shape s, int soft)
{
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
        if (ok(cu_loss_forward(ref, out.r, z.r, t.r, (enum cu_loss)k, &err), &err, "ref loss") &&
            ok(cu_loss_forward(cl, out.c, z.c, t.c, (enum cu_loss)k, &err), &err, lab)) {
            snprintf(what, sizeof what, "%s fwd [loss, dice]", lab);
            compare(&out, what, TOL_LOSS, 1.0);
        }
        if (ok(cu_loss_backward(ref, dz.r, z.r, t.r, (enum cu_loss)k, &err), &err, "ref loss backward") &&
            ok(cu_loss_backward(cl, dz.c, z.c, t.c, (enum cu_loss)k, &err), &err, lab)) {
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
    double e = tu_max_rel_err(pc, pr, p.n, 1e-2 * max_abs(pr, p.n));
    TU_CHECK(e <= TOL_ADAM_STEP, "%s change of p: err %.2e (tol %.0e)", lab, e, TOL_ADAM_STEP);
    free(pc), free(pr), free(before);
    pair_free(&p), pair_free(&g), pair_free(&m), pair_free(&v);
}

/* A two-layer network's training step: conv 3->4 k3 ReLU, conv 4->1 k1,
 * bce+dice loss, backward, Adam; run on both backends from the same
 * weights. On cl, between the uploads and the end: one download (the
 * 8-byte loss tensor), no upload, no tensor allocation. */
struct net {
    struct cu_tensor *x, *t, *w1, *b1, *y1, *w2, *b2, *z, *out;
    struct cu_tensor *dz, *dy1, *dw1, *db1, *dw2, *db2, *m[4], *v[4];
};

static void net_new(struct net *nt, struct cu_backend *be, uint64_t seed)
{
    uint64_t r = seed;
    struct cu_shape sx = {2, 3, 12, 10}, sy1 = {2, 4, 12, 10}, sz = {2, 1, 12, 10};
    struct cu_shape sw1 = {4, 3, 3, 3}, sb1 = {4, 1, 1, 1}, sw2 = {1, 4, 1, 1}, sb2 = {1, 1, 1, 1};
    float h[720];
    tu_fill_uniform(h, 720, &r, -1, 1);
    nt->x = tu_tensor(be, sx, "x", h);
    tu_fill_uniform(h, 240, &r, 0, 1);
    for (int i = 0; i < 240; i++)
        h[i] = h[i] > 0.5f;
    nt->t = tu_tensor(be, sz, "t", h);
    tu_fill_uniform(h, 108, &r, -0.5f, 0.5f);
    nt->w1 = tu_tensor(be, sw1, "w1", h);
    tu_fill_uniform(h, 4, &r, -0.1f, 0.1f);
    nt->b1 = tu_tensor(be, sb1, "b1", h);
    tu_fill_uniform(h, 4, &r, -1, 1);
    nt->w2 = tu_tensor(be, sw2, "w2", h);
    nt->b2 = tu_tensor(be, sb2, "b2", NULL);
    nt->y1 = tu_tensor(be, sy1, "y1", NULL);
    nt->z = tu_tensor(be, sz, "z", NULL);
    nt->out = tu_tensor(be, (struct cu_shape){1, 1, 1, 2}, "loss", NULL);
    nt->dz = tu_tensor(be, sz, "dz", NULL);
    nt->dy1 = tu_tensor(be, sy1, "dy1", NULL);
    nt->dw1 = tu_tensor(be, sw1, "dw1", NULL);
    nt->db1 = tu_tensor(be, sb1, "db1", NULL);
    nt->dw2 = tu_tensor(be, sw2, "dw2", NULL);
    nt->db2 = tu_tensor(be, sb2, "db2", NULL);
    struct cu_shape ps[4] = {sw1, sb1, sw2, sb2};
    for (int i = 0; i < 4; i++) {
        nt->m[i] = tu_tensor(be, ps[i], "m", NULL);
        nt->v[i] = tu_tensor(be, ps[i], "v", NULL);
    }
}

static void net_free(struct net *nt)
{
    struct cu_tensor *all[] = {nt->x,  nt->t,   nt->w1,  nt->b1,  nt->y1,  nt->w2, nt->b2, nt->z, nt->out,
                               nt->dz, nt->dy1, nt->dw1, nt->db1, nt->dw2, nt->db2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cu_tensor_free(all[i]);
    for (int i = 0; i < 4; i++) {
        cu_tensor_free(nt->m[i]);
        cu_tensor_free(nt->v[i]);
    }
}

/* One step; *loss gets the downloaded [loss, dice]. */
static enum cu_status net_step(struct cu_backend *be, struct net *nt, long step, float loss[2], struct cu_err *err)
{
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    struct cu_tensor *grads[] = {nt->dz, nt->dy1, nt->dw1, nt->db1, nt->dw2, nt->db2};
    struct cu_tensor *par[4] = {nt->w1, nt->b1, nt->w2, nt->b2}, *g[4] = {nt->dw1, nt->db1, nt->dw2, nt->db2};
    enum cu_status st = CU_OK;
    for (size_t i = 0; !st && i < sizeof grads / sizeof grads[0]; i++)
        st = cu_tensor_zero(grads[i], err);
    if (!st)
        st = cu_conv_forward(be, nt->y1, nt->x, nt->w1, nt->b1, CU_ACT_RELU, err);
    if (!st)
        st = cu_conv_forward(be, nt->z, nt->y1, nt->w2, nt->b2, CU_ACT_NONE, err);
    if (!st)
        st = cu_loss_forward(be, nt->out, nt->z, nt->t, CU_LOSS_BCE_DICE, err);
    if (!st)
        st = cu_tensor_download(nt->out, loss, err);
    if (!st)
        st = cu_loss_backward(be, nt->dz, nt->z, nt->t, CU_LOSS_BCE_DICE, err);
    if (!st)
        st = cu_conv_backward(be, nt->dy1, nt->dw2, nt->db2, nt->dz, nt->y1, nt->w2, err);
    if (!st)
        st = cu_relu_backward(be, nt->dy1, nt->y1, err);
    if (!st)
        st = cu_conv_backward(be, NULL, nt->dw1, nt->db1, nt->dy1, nt->x, nt->w1, err);
    for (int i = 0; !st && i < 4; i++)
        st = cu_adam_update(be, par[i], g[i], nt->m[i], nt->v[i], &hp, step, err);
    return st;
}

static void test_step(void)
{
    struct net nc, nr;
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
                 "step %ld: loss %.7f dice %.7f on cl, %.7f %.7f on ref (tol %.0e relative)", step, lc[0], lc[1],
                 lr[0], lr[1], TOL_LOSS);
    }
    ok(cu_backend_sync(cl, &err), &err, "sync");
    cu_backend_stats(cl, &s1);
    TU_CHECK(s1.downloads - s0.downloads == 2 && s1.bytes_down - s0.bytes_down == 16,
             "2 training steps on cl read back only the loss: %llu downloads, %llu bytes (want 2, 16)",
             (unsigned long long)(s1.downloads - s0.downloads), (unsigned long long)(s1.bytes_down - s0.bytes_down));
    TU_CHECK(s1.uploads == s0.uploads && s1.allocs == s0.allocs,
             "2 training steps on cl: %llu uploads, %llu tensor allocations (want 0, 0)",
             (unsigned long long)(s1.uploads - s0.uploads), (unsigned long long)(s1.allocs - s0.allocs));
    struct pair w1 = {nr.w1, nc.w1, 108}, b2 = {nr.b2, nc.b2, 1};
    compare(&w1, "training step x2: w1 after Adam", TOL_ADAM, 1.0);
    compare(&b2, "training step x2: b2 after Adam", TOL_ADAM, 1.0);
    net_free(&nc);
    net_free(&nr);
}

int main(void)
{
    struct cu_err err = {0};
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

    static const struct conv_case convs[] = {
        {1, 3, 17, 13, 5, 3, CU_ACT_RELU, 0, 0},
        {3, 7, 9, 11, 5, 1, CU_ACT_NONE, 1, 0},
        {3, 32, 24, 20, 16, 3, CU_ACT_RELU, 1, 0},
        {2, 3, 8, 6, 4, 5, CU_ACT_RELU, 1, 0},
        /* K = 45, W = 10: one im2col row is 1800 bytes, 4000 allow 2 rows:
         * bands of 2, 2, 2, 1 rows */
        {1, 5, 7, 10, 7, 3, CU_ACT_NONE, 1, 4000},
        {3, 5, 7, 10, 7, 3, CU_ACT_RELU, 1, 4000},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
        test_conv(&convs[i]);
    test_tconv(1, 3, 5, 4, 5);
    test_tconv(3, 7, 6, 5, 3);
    test_tconv(2, 32, 12, 10, 16);
    test_pool((struct cu_shape){2, 3, 9, 7}, 0);
    test_pool((struct cu_shape){1, 5, 8, 10}, 1);
    test_pool((struct cu_shape){3, 7, 5, 6}, 1);
    test_upsample((struct cu_shape){2, 3, 5, 6});
    test_upsample((struct cu_shape){1, 7, 1, 4});
    test_upsample((struct cu_shape){3, 5, 4, 3});
    test_upsample((struct cu_shape){1, 1, 1, 1});
    test_concat((struct cu_shape){2, 3, 5, 7}, 5);
    test_concat((struct cu_shape){1, 7, 4, 3}, 1);
    test_concat((struct cu_shape){3, 32, 6, 5}, 16);
    test_loss((struct cu_shape){2, 1, 9, 7}, 0);
    test_loss((struct cu_shape){3, 1, 17, 13}, 1);
    test_loss((struct cu_shape){2, 1, 64, 48}, 0); /* > 64 work-groups' worth: strided stage 1 */
    test_adam((struct cu_shape){7, 5, 3, 3}, CU_ADAM_DEFAULTS, 1.0f);
    test_adam((struct cu_shape){1, 1, 1, 4099}, (struct cu_adam){1e-2f, 0.9f, 0.999f, 1e-3f}, 2e-3f);
    test_step();

    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("ops on %s: %.2f s (including CLBlast's first-use compile)\n", caps.name,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    cu_backend_free(cl);
    cu_backend_free(ref);
    return tu_finish();
}
