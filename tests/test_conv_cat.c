/* test_conv_cat.c: the convolution over a channel concatenation
 * (cu_conv_forward_cat, cu_conv_backward_cat: x = [xa, xb] never stored),
 * which the U-Net decoder uses for its skip + up-sampled input, and the
 * input-gradient modes of cu_conv_backward_ex (add, set, set through the
 * ReLU whose output is x), which the U-Net uses everywhere.
 *   1. ref: forward, dx (split into dxa, dxb), dw and db equal, bit for
 *      bit, those of cu_conv_forward / cu_conv_backward on the stored
 *      concatenation (the same sums in the same order).
 *   2. cl against ref on the same inputs, for the paths a CPU device
 *      takes: the 8 x 32 implicit tile (W % 32 == 0), the 8 x 16 one
 *      (W % 16 == 0), Winograd F(2x2) and F(4x4) (forward, dx; dW F(2x2)),
 *      the direct dW of small layers, and the stored-concatenation
 *      fallback (W % 16 != 0); then
 *      all of them again with CLUNET_GEMM=clblast (GPU paths: the
 *      fallback everywhere). Tolerance 1e-4 of max|ref| for y, dx, dw and
 *      1e-5 for db, as in test_cl_ops.c (fp32 sums of at most a few
 *      hundred terms against ref's double sums).
 *   3. the modes on ref against their definition: set = add into zeros;
 *      set through the ReLU = set, then cu_relu_backward(dx, x); and cl
 *      against ref in every mode, for one input (xb NULL) and for two.
 *   4. usage errors: one part of dx without the other, a weight whose Cin
 *      is not Ca + Cb, parts of different sizes, a mode without dx:
 *      CU_EUSAGE naming the op.
 * Device: $CLUNET_DEVICE, else "cpu". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_internal.h" /* internal: cu_cl_policy_fill after CLUNET_GEMM changes */
#include "clunet/ops.h"
#include "testutil.h"

#define TOL_GEMM 1e-4
#define TOL_BIAS 1e-5

static struct cu_backend *ref, *cl;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

struct cat_case {
    int n, ca, cb, h, w, cout;
    const char *why;
};

/* Host data of every tensor of one case, filled once, uploaded to both backends. */
struct host {
    float *xa, *xb, *w, *b, *dy, *dxa, *dxb, *dw, *db;
};

static float *fill(size_t n, float lo, float hi)
{
    float *h = malloc(n * sizeof *h);
    tu_fill_uniform(h, n, &rng, lo, hi);
    return h;
}

/* The device tensors of one case on backend be. */
struct dev {
    struct cu_tensor *xa, *xb, *w, *b, *y, *dy, *dxa, *dxb, *dw, *db;
    int two; /* xb and dxb are used (cb > 0; else 1-channel placeholders) */
};

static struct dev upload(struct cu_backend *be, const struct cat_case *c, const struct host *h)
{
    const int k = 3, cin = c->ca + c->cb;
    struct dev d;
    d.xa = tu_tensor(be, (struct cu_shape){c->n, c->ca, c->h, c->w}, "xa", h->xa);
    const int cb = c->cb ? c->cb : 1;
    d.two = c->cb > 0;
    d.xb = tu_tensor(be, (struct cu_shape){c->n, cb, c->h, c->w}, "xb", c->cb ? h->xb : NULL);
    d.w = tu_tensor(be, (struct cu_shape){c->cout, cin, k, k}, "w", h->w);
    d.b = tu_tensor(be, (struct cu_shape){c->cout, 1, 1, 1}, "b", h->b);
    d.y = tu_tensor(be, (struct cu_shape){c->n, c->cout, c->h, c->w}, "y", NULL);
    d.dy = tu_tensor(be, (struct cu_shape){c->n, c->cout, c->h, c->w}, "dy", h->dy);
    d.dxa = tu_tensor(be, (struct cu_shape){c->n, c->ca, c->h, c->w}, "dxa", h->dxa);
    d.dxb = tu_tensor(be, (struct cu_shape){c->n, cb, c->h, c->w}, "dxb", c->cb ? h->dxb : NULL);
    d.dw = tu_tensor(be, (struct cu_shape){c->cout, cin, k, k}, "dw", h->dw);
    d.db = tu_tensor(be, (struct cu_shape){c->cout, 1, 1, 1}, "db", h->db);
    return d;
}

static void dev_free(struct dev *d)
{
    struct cu_tensor *all[] = {d->xa, d->xb, d->w, d->b, d->y, d->dy, d->dxa, d->dxb, d->dw, d->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cu_tensor_free(all[i]);
}

/* Forward and backward (dx into both parts as mode says, dw +=, db +=)
 * on be; one input (xb NULL) when the case has cb = 0. */
static int run_cat(struct cu_backend *be, struct dev *d, enum cu_dx_mode mode, const char *lab)
{
    struct cu_err err = {0};
    struct cu_tensor *xb = d->two ? d->xb : NULL, *dxb = xb ? d->dxb : NULL;
    return tu_ok(cu_conv_forward_cat(be, d->y, d->xa, xb, d->w, d->b, CU_ACT_RELU, &err), &err, lab) &&
           tu_ok(cu_conv_backward_ex(be, d->dxa, dxb, d->dw, d->db, d->dy, d->xa, xb, d->w, mode, &err), &err, lab);
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* got against want (on their own tensors): relative to max|want| when tol > 0, bit for bit when tol == 0. */
static void compare(const struct cu_tensor *got, const struct cu_tensor *want, const char *lab, const char *what,
                    double tol)
{
    size_t n = cu_tensor_numel(want);
    float *a = tu_download(got), *b = tu_download(want);
    if (tol == 0.0) {
        TU_CHECK(memcmp(a, b, n * sizeof *a) == 0, "%s %s: equal bit for bit", lab, what);
    } else {
        double floor = max_abs(b, n), e = tu_max_rel_err(a, b, n, floor > 1e-30 ? floor : 1e-30);
        TU_CHECK(e <= tol, "%s %s: err %.2e (tol %.0e of max|ref|)", lab, what, e, tol);
    }
    free(a);
    free(b);
}

/* 1: ref's concat path against ref on the stored concatenation. */
static void ref_against_stored(const struct cat_case *c, const struct host *h)
{
    struct dev d = upload(ref, c, h);
    const struct cu_shape sc = {c->n, c->ca + c->cb, c->h, c->w};
    struct cu_tensor *x = tu_tensor(ref, sc, "x", NULL), *y = tu_tensor(ref, cu_tensor_shape(d.y), "y", NULL);
    struct cu_tensor *dx = tu_tensor(ref, sc, "dx", NULL);
    struct cu_tensor *dxa0 = tu_tensor(ref, cu_tensor_shape(d.xa), "dxa0", h->dxa);
    struct cu_tensor *dxb0 = tu_tensor(ref, cu_tensor_shape(d.xb), "dxb0", h->dxb);
    struct cu_tensor *dxa = tu_tensor(ref, cu_tensor_shape(d.xa), "dxa", NULL);
    struct cu_tensor *dxb = tu_tensor(ref, cu_tensor_shape(d.xb), "dxb", NULL);
    struct cu_tensor *dw = tu_tensor(ref, cu_tensor_shape(d.w), "dw", h->dw);
    struct cu_tensor *db = tu_tensor(ref, cu_tensor_shape(d.b), "db", h->db);
    struct cu_err err = {0};
    char lab[96];
    snprintf(lab, sizeof lab, "ref %dx(%d+%d)x%dx%d ->%d", c->n, c->ca, c->cb, c->h, c->w, c->cout);
    /* dx starts as [dxa0, dxb0], so that dx += rounds once, as on the concat path; the split into zeroed
     * tensors copies exactly */
    if (run_cat(ref, &d, CU_DX_ADD, lab) && tu_ok(cu_concat_forward(ref, x, d.xa, d.xb, &err), &err, "ref concat") &&
        tu_ok(cu_concat_forward(ref, dx, dxa0, dxb0, &err), &err, "ref concat dx") &&
        tu_ok(cu_conv_forward(ref, y, x, d.w, d.b, CU_ACT_RELU, &err), &err, "ref conv") &&
        tu_ok(cu_conv_backward(ref, dx, dw, db, d.dy, x, d.w, &err), &err, "ref conv backward") &&
        tu_ok(cu_concat_backward(ref, dxa, dxb, dx, &err), &err, "ref split")) {
        compare(d.y, y, lab, "y", 0.0);
        compare(d.dxa, dxa, lab, "dxa", 0.0);
        compare(d.dxb, dxb, lab, "dxb", 0.0);
        compare(d.dw, dw, lab, "dw", 0.0);
        compare(d.db, db, lab, "db", 0.0);
    }
    struct cu_tensor *all[] = {x, y, dx, dxa0, dxb0, dxa, dxb, dw, db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cu_tensor_free(all[i]);
    dev_free(&d);
}

static const char *const mode_name[3] = {"add", "set", "set through the ReLU"};

/* 2: cl against ref, both on the concat path (or one input), in mode. */
static void cl_against_ref(const struct cat_case *c, const struct host *h, const char *gemm, enum cu_dx_mode mode)
{
    char lab[200];
    snprintf(lab, sizeof lab, "cl %dx(%d+%d)x%dx%d ->%d [%s, %s, dx %s]", c->n, c->ca, c->cb, c->h, c->w, c->cout,
             c->why, gemm, mode_name[mode]);
    struct dev r = upload(ref, c, h), g = upload(cl, c, h);
    if (run_cat(ref, &r, mode, "ref") && run_cat(cl, &g, mode, lab)) {
        compare(g.y, r.y, lab, "y", TOL_GEMM);
        compare(g.dxa, r.dxa, lab, "dxa", TOL_GEMM);
        if (c->cb)
            compare(g.dxb, r.dxb, lab, "dxb", TOL_GEMM);
        compare(g.dw, r.dw, lab, "dw", TOL_GEMM);
        compare(g.db, r.db, lab, "db", TOL_BIAS);
    }
    dev_free(&r);
    dev_free(&g);
}

/* 3: ref's modes against their definition, with one input. */
static void ref_modes(const struct cat_case *c, const struct host *h)
{
    char lab[96];
    snprintf(lab, sizeof lab, "ref modes %dx%dx%dx%d ->%d", c->n, c->ca, c->h, c->w, c->cout);
    struct dev set = upload(ref, c, h), relu = upload(ref, c, h), add = upload(ref, c, h);
    struct cu_err err = {0};
    if (tu_ok(cu_tensor_zero(add.dxa, &err), &err, "zero") &&
        tu_ok(cu_conv_backward_ex(ref, add.dxa, NULL, NULL, NULL, add.dy, add.xa, NULL, add.w, CU_DX_ADD, &err),
              &err, lab) &&
        tu_ok(cu_conv_backward_ex(ref, set.dxa, NULL, NULL, NULL, set.dy, set.xa, NULL, set.w, CU_DX_SET, &err),
              &err, lab) &&
        tu_ok(cu_conv_backward_ex(ref, relu.dxa, NULL, NULL, NULL, relu.dy, relu.xa, NULL, relu.w,
                                  CU_DX_SET_RELU, &err),
              &err, lab)) {
        compare(set.dxa, add.dxa, lab, "set = add into zeros", 0.0);
        if (tu_ok(cu_relu_backward(ref, add.dxa, add.xa, &err), &err, "ref relu backward"))
            compare(relu.dxa, add.dxa, lab, "set through the ReLU = set, then the ReLU's backward on x", 0.0);
    }
    dev_free(&set);
    dev_free(&relu);
    dev_free(&add);
}

static void test_case(const struct cat_case *c)
{
    const int cin = c->ca + c->cb;
    const size_t nx = (size_t)c->n * c->h * c->w, nw = (size_t)c->cout * cin * 9;
    struct host h = {fill(nx * c->ca, -1, 1), fill(nx * c->cb, -1, 1), fill(nw, -0.3f, 0.3f),
                     fill(c->cout, -0.5f, 0.5f), fill(nx * c->cout, -1, 1), fill(nx * c->ca, -1, 1),
                     fill(nx * c->cb, -1, 1), fill(nw, -1, 1), fill(c->cout, -1, 1)};
    if (c->cb)
        ref_against_stored(c, &h);
    else
        ref_modes(c, &h);
    static const char *const gemm[2] = {NULL, "clblast"}; /* the device's default, then CLBlast's paths */
    for (int gi = 0; gi < 2; gi++) {
        if (gemm[gi])
            setenv("CLUNET_GEMM", gemm[gi], 1);
        else
            unsetenv("CLUNET_GEMM");
        cu_cl_policy_fill(cu_cl(cl));
        for (int mode = CU_DX_ADD; mode <= CU_DX_SET_RELU; mode++)
            cl_against_ref(c, &h, gemm[gi] ? gemm[gi] : "default GEMM", (enum cu_dx_mode)mode);
    }
    unsetenv("CLUNET_GEMM");
    cu_cl_policy_fill(cu_cl(cl));
    float *all[] = {h.xa, h.xb, h.w, h.b, h.dy, h.dxa, h.dxb, h.dw, h.db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* 3: what the checks refuse. */
static void test_usage(void)
{
    struct cu_tensor *xa = tu_tensor(ref, (struct cu_shape){1, 2, 4, 4}, "xa", NULL);
    struct cu_tensor *xb = tu_tensor(ref, (struct cu_shape){1, 3, 4, 4}, "xb", NULL);
    struct cu_tensor *xs = tu_tensor(ref, (struct cu_shape){1, 3, 4, 5}, "xs", NULL);
    struct cu_tensor *w = tu_tensor(ref, (struct cu_shape){2, 5, 3, 3}, "w", NULL);
    struct cu_tensor *w4 = tu_tensor(ref, (struct cu_shape){2, 4, 3, 3}, "w4", NULL);
    struct cu_tensor *b = tu_tensor(ref, (struct cu_shape){2, 1, 1, 1}, "b", NULL);
    struct cu_tensor *y = tu_tensor(ref, (struct cu_shape){1, 2, 4, 4}, "y", NULL);
    struct cu_tensor *dxa = tu_tensor(ref, (struct cu_shape){1, 2, 4, 4}, "dxa", NULL);
    struct cu_err err = {0};
    enum cu_status st = cu_conv_backward_cat(ref, dxa, NULL, NULL, NULL, y, xa, xb, w, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "both parts"), "dxa without dxb: refused (%s)", err.msg);
    err = (struct cu_err){0};
    st = cu_conv_forward_cat(ref, y, xa, xb, w4, b, CU_ACT_NONE, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "w4") && strstr(err.msg, "xb"),
             "a weight for 4 input channels on 2 + 3: refused naming both (%s)", err.msg);
    err = (struct cu_err){0};
    st = cu_conv_forward_cat(ref, y, xa, xs, w, b, CU_ACT_NONE, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "xs"), "parts of different widths: refused (%s)", err.msg);
    err = (struct cu_err){0};
    st = cu_conv_backward_ex(ref, NULL, NULL, NULL, NULL, y, xa, xb, w, CU_DX_SET, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "mode"), "a set mode without dx: refused (%s)", err.msg);
    struct cu_tensor *all[] = {xa, xb, xs, w, w4, b, y, dxa};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cu_tensor_free(all[i]);
}

int main(void)
{
    struct cu_err err = {0};
    const char *spec = getenv("CLUNET_DEVICE");
    if (!tu_ok(cu_backend_open(spec && *spec ? spec : "cpu", &cl, &err), &err, "open the cl device") ||
        !tu_ok(cu_backend_open("ref", &ref, &err), &err, "open ref"))
        return tu_finish();
    static const struct cat_case cases[] = {
        {2, 5, 7, 4, 64, 9, "8 x 32 tile"},
        {2, 3, 6, 5, 32, 11, "8 x 32 tile, one run at both borders"},
        {1, 4, 4, 3, 48, 6, "8 x 16 tile"},
        {2, 16, 24, 8, 16, 40, "Winograd F(2x2)"},
        {1, 20, 12, 6, 12, 17, "Winograd F(2x2), W % 16 != 0"},
        {2, 16, 24, 16, 16, 40, "Winograd F(4x4), 16 wide"},
        {1, 20, 16, 8, 32, 36, "Winograd F(4x4), 32 wide"},
        {2, 3, 4, 5, 32, 2, "direct dW"},
        {2, 3, 2, 5, 10, 4, "stored concatenation (W % 16 != 0)"},
        /* one input (cb = 0): the modes on every path */
        {2, 9, 0, 4, 64, 11, "one input, 8 x 32 tile"},
        {1, 5, 0, 3, 48, 6, "one input, 8 x 16 tile"},
        {2, 40, 0, 8, 16, 24, "one input, Winograd F(2x2)"},
        {2, 32, 0, 4, 64, 32, "one input, Winograd F(4x4)"},
        {2, 5, 0, 5, 10, 4, "one input, im2col + GEMM"},
        {2, 2, 0, 4, 32, 3, "one input, direct dW"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_case(&cases[i]);
    test_usage();
    cu_backend_free(cl);
    cu_backend_free(ref);
    return tu_finish();
}
