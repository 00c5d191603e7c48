/* test_grad.c: every backward op of the ref backend against central finite
 * differences of its forward, on small odd shapes (H != W, channels 3, 5,
 * 7, batch 1 and 3); then the "+=" semantics (a second backward call
 * doubles every gradient) and NULL gradient outputs.
 *
 * One scalar covers all outputs: L = sum_i r_i * y_i with a fixed random
 * projection r, so dL/dy = r is the dy given to backward, and for every
 * input element e the central difference
 *     fd_e = (L(x_e + eps) - L(x_e - eps)) / (x_e+ - x_e-)
 * (L summed in double from the FLOAT forward; the denominator is the step
 * actually taken after rounding x_e +- eps to float) must match the
 * analytic gradient g_e. Error measure per gradient tensor:
 *     err = max_e |g_e - fd_e| / max_e |fd_e|.
 *
 * Choice of eps and tolerance. fd_e has two error terms:
 *   - rounding: only the outputs that depend on x_e change between the two
 *     forwards (K <= Cout*k*k = 75 here), each by its float rounding, about
 *     u*|y| with u = 6e-8, so |error| <~ sqrt(K)*u*|y|*|r| / (2 eps): with
 *     |y| <= ~5 and eps = 1e-2 that is <= ~1.3e-4 absolute against
 *     gradients of order 1..10, i.e. <= ~1e-4 relative (measured: <= 1e-5);
 *   - truncation: |f'''| eps^2 / 6. Conv, transposed conv, up-sampling,
 *     concatenation and (away from kinks and ties) ReLU and max-pooling are
 *     linear in each single input, so this term is zero; sigmoid's
 *     |f'''| <= 1/8 gives <= 2e-6, i.e. <= 1e-5 of its largest slope 1/4.
 * Hence eps = 1e-2 (a larger eps only grows truncation in the nonlinear
 * ops; eps = 1e-3 grows the rounding term tenfold, to ~1e-3) and
 * tol = 5e-4: five times the worst estimate, yet far below what a wrong
 * index, a missing boundary term or a wrong sign gives (err >= ~0.05).
 * The losses are means over P pixels: their gradients are ~1/P (<= ~1e-2
 * for P = 105) while L is O(1), so the rounding term is relatively P times
 * larger: u*|L| / (2 eps) ~ 1e-6 absolute at eps = 3e-2, ~1e-4 relative
 * (measured 2e-4); truncation ~ 0.1 eps^2/6 relative to the bce slope
 * (p - t) ~ 0.5 is ~3e-5. So eps = 3e-2 and tol = 2e-3 for the losses.
 * Inputs stay away from ReLU kinks (|x| >= 0.1 >> eps) and from max-pool
 * ties (window values distinct, spaced >= 0.05 > 2 eps), STYLE.md section 8. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/ops.h"
#include "testutil.h"

enum gop { G_CONV, G_RELU, G_SIGMOID, G_POOL, G_UP, G_TCONV, G_CONCAT, G_LOSS };

struct gcase {
    const char *name;
    enum gop op;
    struct cu_shape x; /* the first input */
    int c2;            /* conv, tconv: Cout; concat: channels of b */
    int k;             /* conv: kernel size */
    enum cu_loss kind; /* loss */
    double eps, tol;
};

#define EPS 1e-2
#define TOL 5e-4
#define LOSS_EPS 3e-2
#define LOSS_TOL 2e-3

static const struct gcase cases[] = {
    {"conv k3 1x3x7x5 -> 5", G_CONV, {1, 3, 7, 5}, 5, 3, 0, EPS, TOL},
    {"conv k3 3x5x5x7 -> 7", G_CONV, {3, 5, 5, 7}, 7, 3, 0, EPS, TOL},
    {"conv k1 3x7x5x3 -> 3", G_CONV, {3, 7, 5, 3}, 3, 1, 0, EPS, TOL},
    {"conv k5 1x3x6x5 -> 3", G_CONV, {1, 3, 6, 5}, 3, 5, 0, EPS, TOL},
    {"relu 3x5x7x5", G_RELU, {3, 5, 7, 5}, 0, 0, 0, EPS, TOL},
    {"sigmoid 1x7x5x3", G_SIGMOID, {1, 7, 5, 3}, 0, 0, 0, EPS, TOL},
    {"maxpool 3x5x7x9", G_POOL, {3, 5, 7, 9}, 0, 0, 0, EPS, TOL},
    {"maxpool 1x3x6x5", G_POOL, {1, 3, 6, 5}, 0, 0, 0, EPS, TOL},
    {"upsample 3x3x5x3", G_UP, {3, 3, 5, 3}, 0, 0, 0, EPS, TOL},
    {"upsample 1x5x1x4", G_UP, {1, 5, 1, 4}, 0, 0, 0, EPS, TOL},
    {"tconv 3x5x3x5 -> 3", G_TCONV, {3, 5, 3, 5}, 3, 0, 0, EPS, TOL},
    {"tconv 1x3x4x3 -> 7", G_TCONV, {1, 3, 4, 3}, 7, 0, 0, EPS, TOL},
    {"concat 3x3x5x7 + 5", G_CONCAT, {3, 3, 5, 7}, 5, 0, 0, EPS, TOL},
    {"loss bce 3x1x5x7", G_LOSS, {3, 1, 5, 7}, 0, 0, CU_LOSS_BCE, LOSS_EPS, LOSS_TOL},
    {"loss dice 3x1x5x7", G_LOSS, {3, 1, 5, 7}, 0, 0, CU_LOSS_DICE, LOSS_EPS, LOSS_TOL},
    {"loss bce+dice 3x1x5x7", G_LOSS, {3, 1, 5, 7}, 0, 0, CU_LOSS_BCE_DICE, LOSS_EPS, LOSS_TOL},
    {"loss bce+dice 1x1x7x5", G_LOSS, {1, 1, 7, 5}, 0, 0, CU_LOSS_BCE_DICE, LOSS_EPS, LOSS_TOL},
    /* three channels with weights loss_w: weighted BCE over all, Dice of channel 0 */
    {"loss bce 2x3x5x7 weighted", G_LOSS, {2, 3, 5, 7}, 0, 0, CU_LOSS_BCE, LOSS_EPS, LOSS_TOL},
    {"loss bce+dice 2x3x5x7 weighted", G_LOSS, {2, 3, 5, 7}, 0, 0, CU_LOSS_BCE_DICE, LOSS_EPS, LOSS_TOL},
    {"loss dice 1x3x4x6 weighted", G_LOSS, {1, 3, 4, 6}, 0, 0, CU_LOSS_DICE, LOSS_EPS, LOSS_TOL},
};

/* Channel weights of the multi-channel loss cases (ignored for C = 1:
 * ones); distinct, so a weight applied to the wrong channel shows. */
static const float loss_w[3] = {1.0f, 0.5f, 2.0f};
#define LOSS_W(x) ((x)->c > 1 ? loss_w : NULL)

/* One problem: up to three inputs (host copy + tensor), which of them get a
 * gradient, the output, and the projection r (also uploaded as dy). */
struct gprob {
    const struct gcase *gc;
    struct cu_backend *be;
    int nin;
    struct cu_tensor *in[3];
    float *host[3];
    int check[3];
    struct cu_tensor *out, *dy;
    float *r;
};

static struct cu_shape shp(int n, int c, int h, int w) { return (struct cu_shape){n, c, h, w}; }

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void add_input(struct gprob *p, struct cu_shape s, const char *name, int check, float lo, float hi)
{
    size_t n = cu_shape_numel(s);
    float *h = malloc(n * sizeof *h);
    tu_fill_uniform(h, n, &rng, lo, hi);
    p->host[p->nin] = h;
    p->in[p->nin] = tu_tensor(p->be, s, name, h);
    p->check[p->nin] = check;
    p->nin++;
}

/* Values at least 0.1 away from zero, either sign (ReLU kinks). */
static void push_off_zero(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] < 0 ? x[i] - 0.1f : x[i] + 0.1f;
}

/* Distinct values spaced 0.05 apart, shuffled (no max-pool ties). */
static void distinct_values(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.05f * (float)i - 0.025f * (float)n;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(tu_rand_u64(&rng) % (i + 1));
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

static void setup(struct gprob *p, const struct gcase *gc, struct cu_backend *be)
{
    memset(p, 0, sizeof *p);
    p->gc = gc;
    p->be = be;
    struct cu_shape x = gc->x, y = x;
    add_input(p, x, "x", 1, -1.0f, 1.0f);
    switch (gc->op) {
    case G_CONV:
        add_input(p, shp(gc->c2, x.c, gc->k, gc->k), "w", 1, -0.5f, 0.5f);
        add_input(p, shp(gc->c2, 1, 1, 1), "b", 1, -0.5f, 0.5f);
        y.c = gc->c2;
        break;
    case G_TCONV:
        add_input(p, shp(x.c, gc->c2, 2, 2), "w", 1, -0.5f, 0.5f);
        add_input(p, shp(gc->c2, 1, 1, 1), "b", 1, -0.5f, 0.5f);
        y = shp(x.n, gc->c2, 2 * x.h, 2 * x.w);
        break;
    case G_RELU:
        push_off_zero(p->host[0], cu_shape_numel(x));
        break;
    case G_SIGMOID:
        for (size_t i = 0; i < cu_shape_numel(x); i++)
            p->host[0][i] *= 4.0f; /* cover the curved part, |x| <= 4 */
        break;
    case G_POOL:
        distinct_values(p->host[0], cu_shape_numel(x));
        y = shp(x.n, x.c, x.h / 2, x.w / 2);
        break;
    case G_UP:
        y = shp(x.n, x.c, 2 * x.h, 2 * x.w);
        break;
    case G_CONCAT:
        add_input(p, shp(x.n, gc->c2, x.h, x.w), "b", 1, -1.0f, 1.0f);
        y.c = x.c + gc->c2;
        break;
    case G_LOSS: {
        size_t n = cu_shape_numel(x);
        for (size_t i = 0; i < n; i++)
            p->host[0][i] *= 3.0f; /* logits in [-3, 3] */
        add_input(p, x, "t", 0, 0.0f, 1.0f);
        for (size_t i = 0; i < n; i++) /* binary masks, as in training */
            p->host[1][i] = p->host[1][i] < 0.4f ? 0.0f : 1.0f;
        y = shp(1, 1, 1, 2);
        break;
    }
    }
    p->out = tu_tensor(be, y, "y", NULL);
    size_t ny = cu_shape_numel(y);
    p->r = malloc(ny * sizeof *p->r);
    tu_fill_uniform(p->r, ny, &rng, -1.0f, 1.0f);
    if (gc->op == G_LOSS) { /* backward gives d loss/dz only: L = loss */
        p->r[0] = 1.0f;
        p->r[1] = 0.0f;
    }
    p->dy = tu_tensor(be, y, "dy", p->r);
    struct cu_err err = {0};
    for (int i = 0; i < p->nin; i++) /* the adjusted inputs above */
        tu_ok(cu_tensor_upload(p->in[i], p->host[i], &err), &err, "upload");
}

static void teardown(struct gprob *p)
{
    for (int i = 0; i < p->nin; i++) {
        cu_tensor_free(p->in[i]);
        free(p->host[i]);
    }
    cu_tensor_free(p->out);
    cu_tensor_free(p->dy);
    free(p->r);
}

static enum cu_status forward(struct gprob *p, struct cu_err *err)
{
    struct cu_backend *be = p->be;
    struct cu_tensor **in = p->in, *y = p->out;
    switch (p->gc->op) {
    case G_CONV: return cu_conv_forward(be, y, in[0], in[1], in[2], CU_ACT_NONE, err);
    case G_RELU: return cu_relu_forward(be, y, in[0], err);
    case G_SIGMOID: return cu_sigmoid_forward(be, y, in[0], err);
    case G_POOL: return cu_maxpool_forward(be, y, in[0], err);
    case G_UP: return cu_upsample_forward(be, y, in[0], err);
    case G_TCONV: return cu_tconv_forward(be, y, in[0], in[1], in[2], err);
    case G_CONCAT: return cu_concat_forward(be, y, in[0], in[1], err);
    case G_LOSS: return cu_loss_forward_w(be, y, in[0], in[1], p->gc->kind, LOSS_W(in[0]), err);
    }
    return CU_EUSAGE;
}

/* Runs backward with dy = r after a forward at the current inputs; g[i]
 * receives (+=) the gradient of input i (may be NULL where the op allows). */
static enum cu_status backward(struct gprob *p, struct cu_tensor **g, struct cu_err *err)
{
    struct cu_backend *be = p->be;
    struct cu_tensor **in = p->in, *y = p->out, *dy = p->dy;
    enum cu_status st = forward(p, err);
    if (st)
        return st;
    switch (p->gc->op) {
    case G_CONV: return cu_conv_backward(be, g[0], g[1], g[2], dy, in[0], in[1], err);
    case G_RELU: /* masks dy in place: add the masked r into g[0], restore dy */
        st = cu_relu_backward(be, dy, y, err);
        if (!st)
            st = cu_axpy(be, g[0], 1.0f, dy, err);
        return st ? st : cu_tensor_upload(dy, p->r, err);
    case G_SIGMOID: return cu_sigmoid_backward(be, g[0], dy, y, err);
    case G_POOL: return cu_maxpool_backward(be, g[0], dy, in[0], err);
    case G_UP: return cu_upsample_backward(be, g[0], dy, err);
    case G_TCONV: return cu_tconv_backward(be, g[0], g[1], g[2], dy, in[0], in[1], err);
    case G_CONCAT: return cu_concat_backward(be, g[0], g[1], dy, err);
    case G_LOSS: return cu_loss_backward_w(be, g[0], in[0], in[1], p->gc->kind, LOSS_W(in[0]), err);
    }
    return CU_EUSAGE;
}

/* L = sum r*y in double, from the float forward at the host inputs. */
static double objective(struct gprob *p)
{
    struct cu_err err = {0};
    for (int i = 0; i < p->nin; i++)
        if (cu_tensor_upload(p->in[i], p->host[i], &err))
            break;
    if (err.status || forward(p, &err)) {
        tu_ok(err.status, &err, "forward");
        return NAN;
    }
    float *y = tu_download(p->out);
    double l = 0;
    for (size_t i = 0, n = cu_tensor_numel(p->out); i < n; i++)
        l += (double)p->r[i] * y[i];
    free(y);
    return l;
}

/* Central differences of L over every element of input i. */
static double *finite_diff(struct gprob *p, int i)
{
    size_t n = cu_tensor_numel(p->in[i]);
    double *fd = malloc(n * sizeof *fd);
    float *x = p->host[i];
    for (size_t e = 0; e < n; e++) {
        float x0 = x[e];
        float xp = (float)(x0 + p->gc->eps), xm = (float)(x0 - p->gc->eps);
        x[e] = xp;
        double lp = objective(p);
        x[e] = xm;
        double lm = objective(p);
        x[e] = x0;
        fd[e] = (lp - lm) / ((double)xp - (double)xm);
    }
    objective(p); /* leave the tensors at the unperturbed inputs */
    return fd;
}

static double grad_err(const float *g, const double *fd, size_t n)
{
    double num = 0, den = 0;
    for (size_t e = 0; e < n; e++) {
        double d = fabs(g[e] - fd[e]);
        if (!(d <= num))
            num = d;
        den = fmax(den, fabs(fd[e]));
    }
    return num / fmax(den, 1e-30);
}

/* max |a - b| / max |b|. */
static double max_err_scaled(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t e = 0; e < n; e++) {
        double d = fabs((double)a[e] - b[e]);
        if (!(d <= num))
            num = d;
        den = fmax(den, fabs(b[e]));
    }
    return num / fmax(den, 1e-30);
}

static struct cu_tensor *zeros_like(struct gprob *p, int i)
{
    return tu_tensor(p->be, cu_tensor_shape(p->in[i]), p->in[i]->name, NULL);
}

/* Runs backward into fresh gradients; g_host[i] gets a download (or NULL). */
static int analytic(struct gprob *p, const int *want, float **g_host, int calls)
{
    struct cu_err err = {0};
    struct cu_tensor *g[3] = {NULL, NULL, NULL};
    for (int i = 0; i < p->nin; i++)
        g[i] = want[i] ? zeros_like(p, i) : NULL;
    int ok = 1;
    for (int c = 0; c < calls && ok; c++)
        ok = tu_ok(backward(p, g, &err), &err, p->gc->name);
    for (int i = 0; i < p->nin; i++) {
        g_host[i] = ok && g[i] ? tu_download(g[i]) : NULL;
        cu_tensor_free(g[i]);
    }
    return ok;
}

static void check_case(const struct gcase *gc, struct cu_backend *be)
{
    struct gprob p;
    setup(&p, gc, be);
    float *g1[3], *g2[3];
    if (!analytic(&p, p.check, g1, 1))
        goto out_p;
    for (int i = 0; i < p.nin; i++) {
        if (!p.check[i])
            continue;
        size_t n = cu_tensor_numel(p.in[i]);
        double *fd = finite_diff(&p, i);
        double e = grad_err(g1[i], fd, n);
        TU_CHECK(e <= gc->tol, "%s: d%s vs finite differences (eps %g): err %.2e <= %.0e", gc->name,
                 p.in[i]->name, gc->eps, e, gc->tol);
        free(fd);
    }
    /* "+=": two backward calls into the same gradients give twice one. The
     * second call's partial sums are rounded again on top of the first
     * (up-sampling scatters up to 16 float terms per element): 1e-5 of the
     * tensor's largest gradient allows that; overwriting instead of adding
     * gives an error of 0.5. */
    if (gc->op != G_RELU && analytic(&p, p.check, g2, 2)) {
        for (int i = 0; i < p.nin; i++) {
            if (!p.check[i])
                continue;
            size_t n = cu_tensor_numel(p.in[i]);
            for (size_t e = 0; e < n; e++)
                g1[i][e] *= 2.0f;
            double e = max_err_scaled(g2[i], g1[i], n);
            TU_CHECK(e <= 1e-5, "%s: d%s accumulates (+=): two calls = 2x one, err %.1e <= 1e-05", gc->name,
                     p.in[i]->name, e);
            free(g2[i]);
        }
    }
    for (int i = 0; i < p.nin; i++)
        free(g1[i]);
out_p:
    teardown(&p);
}

/* Conv and tconv accept NULL for any gradient output: each gradient alone
 * equals the same gradient computed with all three. */
static void check_null_outputs(const struct gcase *gc, struct cu_backend *be)
{
    struct gprob p;
    setup(&p, gc, be);
    const int all[3] = {1, 1, 1};
    float *full[3];
    if (analytic(&p, all, full, 1)) {
        for (int only = 0; only < 3; only++) {
            int want[3] = {only == 0, only == 1, only == 2};
            float *g[3];
            if (!analytic(&p, want, g, 1))
                continue;
            size_t n = cu_tensor_numel(p.in[only]);
            TU_CHECK(memcmp(g[only], full[only], n * sizeof(float)) == 0,
                     "%s: backward with only d%s (others NULL) matches the full call", gc->name,
                     p.in[only]->name);
            free(g[only]);
        }
        int none[3] = {0, 0, 0};
        float *g[3];
        TU_CHECK(analytic(&p, none, g, 1), "%s: backward with every gradient NULL succeeds", gc->name);
        for (int i = 0; i < 3; i++)
            free(full[i]);
    }
    teardown(&p);
}

int main(void)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i], be);
    check_null_outputs(&cases[0], be);
    check_null_outputs(&cases[10], be);
    cu_backend_free(be);
    return tu_finish();
}
