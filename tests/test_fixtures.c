/* test_fixtures.c: the ref backend against PyTorch, from the committed
 * fixtures of datasets/fixtures/ (written by tools/make_torch_fixtures.py;
 * CI needs no PyTorch). Every op forward and backward on small odd shapes,
 * then whole U-Nets (S=32 c=0.25 bilinear batch 2, S=32 c=0.125 transposed
 * batch 1): logits, loss, Dice and every parameter's gradient.
 *
 * Errors are measured as max|ref - torch| / max|torch| over a tensor (a
 * normalised max error). The references are float64 results rounded once
 * to float32, so for one op they differ from ref only by ref's own float
 * rounding: 1e-6 (about 8 float ulps of the largest value) bounds it. A
 * whole network compounds the float rounding of ~25 layers of activations
 * (each ~1e-7 relative), which is why its tolerances are looser; they are
 * given where they are checked. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/ops.h"
#include "clunet/safetensors.h"
#include "clunet/unet.h"

#define OP_TOL 1e-6

static struct cu_backend *be;
static struct cu_st_file *file;

static const struct cu_st_entry *entry(const char *name)
{
    const struct cu_st_entry *e = cu_st_file_find(file, name);
    if (!e) {
        fprintf(stderr, "FAIL fixture %s has no tensor %s (regenerate with tools/make_torch_fixtures.py)\n",
                cu_st_file_path(file), name);
        exit(1);
    }
    return e;
}

/* A tensor of shape s holding fixture name (same element count). */
static struct cu_tensor *fx(const char *name, struct cu_shape s)
{
    const struct cu_st_entry *e = entry(name);
    if (e->numel != cu_shape_numel(s)) {
        fprintf(stderr, "FAIL fixture %s: %zu values, expected %zu\n", name, e->numel, cu_shape_numel(s));
        exit(1);
    }
    return tu_tensor(be, s, name, e->data);
}

static struct cu_tensor *zeros(struct cu_shape s) { return tu_tensor(be, s, "out", NULL); }

static struct cu_shape shape_of(const char *name)
{
    const struct cu_st_entry *e = entry(name);
    struct cu_shape s = {1, 1, 1, 1};
    if (e->ndim == 4)
        s = (struct cu_shape){(int)e->shape[0], (int)e->shape[1], (int)e->shape[2], (int)e->shape[3]};
    else
        s.n = (int)e->numel; /* biases: [Cout] -> (Cout,1,1,1) */
    return s;
}

static double norm_err(const float *a, const float *b, size_t n)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    return tu_max_abs_err(a, b, n) / (scale > 0 ? scale : 1);
}

/* Checks tensor t against fixture name: normalised max error <= tol. */
static void cmp(const char *what, const struct cu_tensor *t, const char *name, double tol)
{
    const struct cu_st_entry *e = entry(name);
    float *a = tu_download(t);
    double err = e->numel == cu_tensor_numel(t) ? norm_err(a, e->data, e->numel) : INFINITY;
    TU_CHECK(err <= tol, "%s vs torch (%s, %zu values): normalised max error %.2e <= %.0e", what, name, e->numel,
             err, tol);
    free(a);
}

static char *cat(const char *a, const char *b)
{
    static char buf[8][96];
    static int k;
    char *s = buf[k++ % 8];
    snprintf(s, sizeof buf[0], "%s.%s", a, b);
    return s;
}

#define FREE(...)                                                                                                 \
    do {                                                                                                          \
        struct cu_tensor *list_[] = {__VA_ARGS__};                                                                \
        for (size_t i_ = 0; i_ < sizeof list_ / sizeof *list_; i_++)                                              \
            cu_tensor_free(list_[i_]);                                                                            \
    } while (0)

static void conv_case(const char *c)
{
    struct cu_err err = {0};
    struct cu_tensor *x = fx(cat(c, "x"), shape_of(cat(c, "x"))), *w = fx(cat(c, "w"), shape_of(cat(c, "w")));
    struct cu_tensor *b = fx(cat(c, "b"), shape_of(cat(c, "b"))), *dy = fx(cat(c, "dy"), shape_of(cat(c, "dy")));
    struct cu_tensor *y = zeros(shape_of(cat(c, "y"))), *dx = zeros(shape_of(cat(c, "x")));
    struct cu_tensor *dw = zeros(shape_of(cat(c, "w"))), *db = zeros(shape_of(cat(c, "b")));
    if (tu_ok(cu_conv_forward(be, y, x, w, b, CU_ACT_NONE, &err), &err, c))
        cmp(cat(c, "forward"), y, cat(c, "y"), OP_TOL);
    if (tu_ok(cu_conv_forward(be, y, x, w, b, CU_ACT_RELU, &err), &err, c))
        cmp(cat(c, "forward relu"), y, cat(c, "yr"), OP_TOL);
    if (tu_ok(cu_conv_backward(be, dx, dw, db, dy, x, w, &err), &err, c)) {
        cmp(cat(c, "dx"), dx, cat(c, "dx"), OP_TOL);
        cmp(cat(c, "dw"), dw, cat(c, "dw"), OP_TOL);
        cmp(cat(c, "db"), db, cat(c, "db"), OP_TOL);
    }
    FREE(x, w, b, dy, y, dx, dw, db);
}

static void tconv_case(void)
{
    const char *c = "tconv";
    struct cu_err err = {0};
    struct cu_tensor *x = fx("tconv.x", shape_of("tconv.x")), *w = fx("tconv.w", shape_of("tconv.w"));
    struct cu_tensor *b = fx("tconv.b", shape_of("tconv.b")), *dy = fx("tconv.dy", shape_of("tconv.dy"));
    struct cu_tensor *y = zeros(shape_of("tconv.y")), *dx = zeros(shape_of("tconv.x"));
    struct cu_tensor *dw = zeros(shape_of("tconv.w")), *db = zeros(shape_of("tconv.b"));
    if (tu_ok(cu_tconv_forward(be, y, x, w, b, &err), &err, c))
        cmp("tconv.forward", y, "tconv.y", OP_TOL);
    if (tu_ok(cu_tconv_backward(be, dx, dw, db, dy, x, w, &err), &err, c)) {
        cmp("tconv.dx", dx, "tconv.dx", OP_TOL);
        cmp("tconv.dw", dw, "tconv.dw", OP_TOL);
        cmp("tconv.db", db, "tconv.db", OP_TOL);
    }
    FREE(x, w, b, dy, y, dx, dw, db);
}

/* relu, sigmoid, maxpool, upsample: y = f(x); dy -> dx. */
static void unary_case(const char *c)
{
    struct cu_err err = {0};
    struct cu_tensor *x = fx(cat(c, "x"), shape_of(cat(c, "x"))), *dy = fx(cat(c, "dy"), shape_of(cat(c, "dy")));
    struct cu_tensor *y = zeros(shape_of(cat(c, "y"))), *dx = zeros(shape_of(cat(c, "x")));
    enum cu_status st;
    if (strcmp(c, "relu") == 0)
        st = cu_relu_forward(be, y, x, &err);
    else if (strcmp(c, "sigmoid") == 0)
        st = cu_sigmoid_forward(be, y, x, &err);
    else if (strcmp(c, "maxpool") == 0)
        st = cu_maxpool_forward(be, y, x, &err);
    else
        st = cu_upsample_forward(be, y, x, &err);
    if (tu_ok(st, &err, c))
        cmp(cat(c, "forward"), y, cat(c, "y"), OP_TOL);
    if (strcmp(c, "relu") == 0) {
        st = cu_relu_backward(be, dy, y, &err); /* in place: dy becomes dx */
        if (tu_ok(st, &err, c))
            cmp("relu.backward", dy, "relu.dx", OP_TOL);
    } else {
        if (strcmp(c, "sigmoid") == 0)
            st = cu_sigmoid_backward(be, dx, dy, y, &err);
        else if (strcmp(c, "maxpool") == 0)
            st = cu_maxpool_backward(be, dx, dy, x, &err);
        else
            st = cu_upsample_backward(be, dx, dy, &err);
        if (tu_ok(st, &err, c))
            cmp(cat(c, "backward"), dx, cat(c, "dx"), OP_TOL);
    }
    FREE(x, dy, y, dx);
}

static void concat_case(void)
{
    struct cu_err err = {0};
    struct cu_tensor *a = fx("concat.a", shape_of("concat.a")), *b = fx("concat.b", shape_of("concat.b"));
    struct cu_tensor *dy = fx("concat.dy", shape_of("concat.dy")), *y = zeros(shape_of("concat.y"));
    struct cu_tensor *da = zeros(shape_of("concat.a")), *db = zeros(shape_of("concat.b"));
    if (tu_ok(cu_concat_forward(be, y, a, b, &err), &err, "concat"))
        cmp("concat.forward", y, "concat.y", 0);
    if (tu_ok(cu_concat_backward(be, da, db, dy, &err), &err, "concat")) {
        cmp("concat.da", da, "concat.da", 0);
        cmp("concat.db", db, "concat.db", 0);
    }
    FREE(a, b, dy, y, da, db);
}

static void loss_case(const char *c)
{
    static const char *kinds[] = {"bce", "dice", "bce_dice"};
    struct cu_err err = {0};
    struct cu_tensor *z = fx(cat(c, "z"), shape_of(cat(c, "z"))), *t = fx(cat(c, "t"), shape_of(cat(c, "t")));
    struct cu_tensor *out = zeros((struct cu_shape){1, 1, 1, 2});
    for (int k = 0; k < 3; k++) {
        char name[64];
        struct cu_tensor *dz = zeros(shape_of(cat(c, "z")));
        snprintf(name, sizeof name, "%s.out_%s", c, kinds[k]);
        if (tu_ok(cu_loss_forward(be, out, z, t, (enum cu_loss)k, &err), &err, c))
            cmp(name, out, name, OP_TOL);
        snprintf(name, sizeof name, "%s.dz_%s", c, kinds[k]);
        if (tu_ok(cu_loss_backward(be, dz, z, t, (enum cu_loss)k, &err), &err, c))
            cmp(name, dz, name, OP_TOL);
        cu_tensor_free(dz);
    }
    FREE(z, t, out);
}

static void adam_case(const char *c, long step)
{
    struct cu_err err = {0};
    struct cu_shape s = shape_of(cat(c, "p"));
    struct cu_tensor *p = fx(cat(c, "p"), s), *g = fx(cat(c, "g"), s), *m = fx(cat(c, "m"), s), *v = fx(cat(c, "v"), s);
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    if (tu_ok(cu_adam_update(be, p, g, m, v, &hp, step, &err), &err, c)) {
        cmp(cat(c, "p"), p, cat(c, "p1"), OP_TOL);
        cmp(cat(c, "m"), m, cat(c, "m1"), OP_TOL);
        cmp(cat(c, "v"), v, cat(c, "v1"), OP_TOL);
    }
    FREE(p, g, m, v);
}

static void test_ops(void)
{
    struct cu_err err = {0};
    const char *path = tu_source_path("datasets/fixtures/ops.safetensors");
    if (!tu_ok(cu_st_file_read(path, &file, &err), &err, "read ops fixtures"))
        return;
    conv_case("conv3");
    conv_case("conv1");
    conv_case("conv5");
    tconv_case();
    unary_case("relu");
    unary_case("sigmoid");
    unary_case("maxpool");
    unary_case("upsample");
    unary_case("upsample1");
    concat_case();
    loss_case("loss");
    loss_case("loss_soft");
    adam_case("adam", 3);
    adam_case("adam1", 1);
    cu_st_file_free(file);
}

/* ---- whole network ---- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    return h;
}

/* The fixture uniform generator (tools/make_torch_fixtures.py): exact in
 * both languages, so the C and Python weights are bit-identical. */
static void fixture_uniform(const char *name, float *out, size_t n, double bound)
{
    uint64_t s = fnv1a64(name);
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        double u = (double)(z >> 40) * (1.0 / 16777216.0);
        out[i] = (float)((2.0 * u - 1.0) * bound);
    }
}

static void set_weights(struct cu_unet *net)
{
    struct cu_err err = {0};
    for (int i = 0; i < cu_unet_n_params(net); i++) {
        struct cu_tensor *w = cu_unet_param(net, i)->w;
        size_t n = cu_tensor_numel(w);
        float *h = malloc(n * sizeof *h);
        int bias = strstr(w->name, ".bias") != NULL;
        fixture_uniform(w->name, h, n, bias ? 0.1 : sqrt(6.0 / (double)(w->c * w->h * w->w)));
        tu_ok(cu_tensor_upload(w, h, &err), &err, w->name);
        free(h);
    }
}

/* Tolerances for gradients of the whole net: 1e-5 normalised max error on
 * stored gradients (measured 1.6e-7 at most: 60x margin); the same on the
 * sampled values, relative to the largest sample; sum of squares within
 * 1e-5 relative; each projection within 1e-5 of |g|*|r| (Cauchy-Schwarz's
 * bound of the projection; a wholly wrong gradient moves it by about
 * |g||r|/sqrt(n), at least 1/384 of that scale, 250 times the tolerance). */
#define NET_TOL 1e-5

static void cmp_grad(const struct cu_unet_param *p, int *n_full, int *n_sampled, double *worst)
{
    char name[96];
    const char *pn = p->w->name;
    float *g = tu_download(p->g);
    size_t n = cu_tensor_numel(p->g);
    snprintf(name, sizeof name, "grad.%s", pn);
    const struct cu_st_entry *full = cu_st_file_find(file, name);
    if (full) {
        double e = full->numel == n ? norm_err(g, full->data, n) : INFINITY;
        *worst = fmax(*worst, e);
        (*n_full)++;
        if (!(e <= NET_TOL))
            TU_CHECK(0, "gradient %s: normalised max error %.2e > %.0e", pn, e, NET_TOL);
        free(g);
        return;
    }
    snprintf(name, sizeof name, "grad_idx.%s", pn);
    const struct cu_st_entry *idx = entry(name);
    snprintf(name, sizeof name, "grad_val.%s", pn);
    const struct cu_st_entry *val = entry(name);
    snprintf(name, sizeof name, "grad_sq.%s", pn);
    double sq_t = entry(name)->data[0], sq = 0;
    snprintf(name, sizeof name, "grad_proj.%s", pn);
    const float *proj_t = entry(name)->data;
    float *sample = malloc(idx->numel * sizeof *sample), *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < idx->numel; i++)
        sample[i] = idx->data[i] < (float)n ? g[(size_t)idx->data[i]] : NAN;
    double e = norm_err(sample, val->data, idx->numel);
    for (size_t i = 0; i < n; i++)
        sq += (double)g[i] * g[i];
    double e_sq = fabs(sq - sq_t) / sq_t, e_proj = 0;
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "proj%d:%s", k, pn);
        fixture_uniform(name, r, n, 1.0);
        double pr = 0, rr = 0;
        for (size_t i = 0; i < n; i++)
            pr += (double)g[i] * r[i], rr += (double)r[i] * r[i];
        e_proj = fmax(e_proj, fabs(pr - proj_t[k]) / (sqrt(sq_t) * sqrt(rr)));
    }
    (*n_sampled)++;
    *worst = fmax(*worst, e);
    if (!(e <= NET_TOL && e_sq <= 1e-5 && e_proj <= 1e-5))
        TU_CHECK(0, "gradient %s: sampled error %.2e, sum of squares %.2e, projections %.2e", pn, e, e_sq, e_proj);
    free(sample), free(r), free(g);
}

static void test_net(const char *rel)
{
    struct cu_err err = {0};
    const char *path = tu_source_path(rel);
    if (!tu_ok(cu_st_file_read(path, &file, &err), &err, "read net fixture"))
        return;
    struct cu_unet_config cfg = cu_unet_config_default();
    cfg.image_size = atoi(cu_st_file_meta(file, "image_size"));
    cfg.channel_rate = atof(cu_st_file_meta(file, "channel_rate"));
    cfg.upsample = (enum cu_upsample)cu_upsample_parse(cu_st_file_meta(file, "upsample"));
    int batch = atoi(cu_st_file_meta(file, "batch")), S = cfg.image_size;
    struct cu_unet *net = NULL;
    if (!tu_ok(cu_unet_new(be, &cfg, batch, &net, &err), &err, "build net")) {
        cu_st_file_free(file);
        return;
    }
    char what[160];
    snprintf(what, sizeof what, "S=%d c=%g %s batch %d", S, cfg.channel_rate, cu_upsample_name(cfg.upsample), batch);
    TU_CHECK(cu_unet_param_total(net) == atoll(cu_st_file_meta(file, "params")), "%s: %lld parameters as torch's %s",
             what, cu_unet_param_total(net), cu_st_file_meta(file, "params"));
    set_weights(net);
    struct cu_tensor *x = fx("x", (struct cu_shape){batch, 3, S, S}), *t = fx("t", (struct cu_shape){batch, 1, S, S});
    struct cu_tensor *logits = NULL, *scalars = NULL;
    if (tu_ok(cu_unet_forward(net, x, &logits, &err), &err, "forward") &&
        tu_ok(cu_unet_loss(net, t, CU_LOSS_BCE, &scalars, &err), &err, "loss") &&
        tu_ok(cu_unet_backward(net, t, CU_LOSS_BCE, &err), &err, "backward")) {
        /* logits: ~25 layers of float activations; measured 2.2e-7 */
        char w2[200];
        snprintf(w2, sizeof w2, "%s logits", what);
        cmp(w2, logits, "logits", 1e-5);
        snprintf(w2, sizeof w2, "%s [bce, dice]", what);
        cmp(w2, scalars, "out_bce", 1e-5);
        int n_full = 0, n_sampled = 0;
        double worst = 0;
        for (int i = 0; i < cu_unet_n_params(net); i++)
            cmp_grad(cu_unet_param(net, i), &n_full, &n_sampled, &worst);
        TU_CHECK(n_full + n_sampled == cu_unet_n_params(net) && n_sampled > 0,
                 "%s: gradients of all %d parameters (%d whole, %d sampled) within %.0e, worst %.2e", what,
                 cu_unet_n_params(net), n_full, n_sampled, NET_TOL, worst);
    }
    FREE(x, t);
    cu_unet_free(net);
    cu_st_file_free(file);
}

int main(void)
{
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    test_ops();
    test_net("datasets/fixtures/unet_s32_c0.25_bilinear.safetensors");
    test_net("datasets/fixtures/unet_s32_c0.125_transposed.safetensors");
    cu_backend_free(be);
    return tu_finish();
}
