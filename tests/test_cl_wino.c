/* test_cl_wino.c: the Winograd paths of the cl backend's 3x3 convolutions
 * (src/cl/cl_ops_wino.c; F(2x2,3x3) in cl/wino.cl, F(4x4,3x3) in
 * cl/wino4.cl) against the ref backend: forward (bias, ReLU or none) and
 * backward (dx through Winograd, adding into a random dx; dW through
 * Winograd too, db through the other path), from the same seeded inputs.
 * CLUNET_WINOGRAD=all forces the path for every case, once with each tile
 * size (CLUNET_WINO_TILE=2, 4); shapes exercise the edges: odd H and W
 * (tiles partly outside), widths that are not a multiple of the tile or
 * of 16, batch > 1, channel counts off multiples of 8 and 16, 1x1 images,
 * a workspace limit (CLUNET_WINO_BYTES) that cuts the batch into several
 * chunks with a partial last one, and the vector runs: rows of 32 or more
 * F(2x2) tiles; for F(4x4) 16 tiles within a tile row (W = 64, 128: the
 * pixels left and right of a run), whole tile rows of 32- and 16-wide
 * images, and the heights where those do not fit (tile by tile). Also:
 * which layers the default choice sends through which tile, and that
 * CLUNET_NO_WINOGRAD=1 really takes the other path (its result differs
 * from Winograd's in the rounding). Then the direct weight gradient of
 * layers with few weights (cu_dw_direct, cu_dw3_rows), which the default
 * choice takes for them.
 *
 * Tolerance: max |cl - ref| <= 2e-4 max |ref| per tensor (ref sums in
 * double). A direct fp32 sum of K = 9 Cin terms is off by ~sqrt(K) u
 * sum|t| (u = 6e-8). F(2x2) sums 16 Cin products of transformed values
 * whose magnitudes grow by at most |B^T|^2 = 4 (inputs), |G|^2 = 2.25
 * (weights) and |A^T|^2 = 9 (outputs) in the worst case, and cancel again
 * in the output transform: measured 1e-7 .. 3e-7 of the tensor's scale.
 * F(4x4)'s matrices have entries up to 5 (B^T), 8 (A^T) and 1/24 (G):
 * measured 1e-6 .. 5e-6 (printed per check), still 40x below the
 * tolerance, while a wrong tap, tile, run or chunk is off by O(1e-2 .. 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_ops.h" /* internal: cu_cl_wino_tile, cu_cl_wino_dw_use */
#include "clunet/ops.h"
#include "testutil.h"

#define TOL_WINO 2e-4
#define TOL_BIAS 1e-5

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
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

struct pair {
    struct cu_tensor *r, *c;
    size_t n;
};

static struct pair pair_new(struct cu_shape s, const char *name, float lo, float hi)
{
    struct pair p = {.n = cu_shape_numel(s)};
    float *h = malloc(p.n * sizeof *h);
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

/* max |cl - ref| / max |ref| over the tensor. */
static double pair_err(const struct pair *p)
{
    float *a = tu_download(p->c), *b = tu_download(p->r);
    double m = 0;
    for (size_t i = 0; i < p->n; i++)
        m = b[i] > m ? b[i] : -b[i] > m ? -b[i] : m;
    double e = tu_max_rel_err(a, b, p->n, m > 1e-30 ? m : 1e-30);
    free(a);
    free(b);
    return e;
}

struct wcase {
    int n, cin, h, w, cout;
    enum cu_act act;
    const char *bytes; /* CLUNET_WINO_BYTES, NULL: default */
};

static void test_case(const struct wcase *c)
{
    char lab[128];
    const char *mode = !getenv("CLUNET_WINOGRAD")                ? "default"
                       : cu_cl(cl)->policy.wino_tile == 4 ? "winograd F(4x4)"
                                                          : "winograd F(2x2)";
    snprintf(lab, sizeof lab, "%s %dx%dx%dx%d ->%d%s%s%s", mode, c->n, c->cin, c->h, c->w, c->cout,
             c->act == CU_ACT_RELU ? " relu" : "", c->bytes ? " chunks of " : "", c->bytes ? c->bytes : "");
    if (c->bytes)
        env("CLUNET_WINO_BYTES", c->bytes);
    struct cu_err err = {0};
    struct pair x = pair_new((struct cu_shape){c->n, c->cin, c->h, c->w}, "x", -1, 1);
    struct pair w = pair_new((struct cu_shape){c->cout, c->cin, 3, 3}, "w", -1, 1);
    struct pair b = pair_new((struct cu_shape){c->cout, 1, 1, 1}, "b", -1, 1);
    struct pair y = pair_new((struct cu_shape){c->n, c->cout, c->h, c->w}, "y", -5, 5);
    struct pair dy = pair_new((struct cu_shape){c->n, c->cout, c->h, c->w}, "dy", -1, 1);
    struct pair dx = pair_new((struct cu_shape){c->n, c->cin, c->h, c->w}, "dx", -1, 1);
    struct pair dw = pair_new((struct cu_shape){c->cout, c->cin, 3, 3}, "dw", -1, 1);
    struct pair db = pair_new((struct cu_shape){c->cout, 1, 1, 1}, "db", -1, 1);
    if (tu_ok(cu_conv_forward(ref, y.r, x.r, w.r, b.r, c->act, &err), &err, "ref conv forward") &&
        tu_ok(cu_conv_forward(cl, y.c, x.c, w.c, b.c, c->act, &err), &err, lab)) {
        double e = pair_err(&y);
        TU_CHECK(e <= TOL_WINO, "%s: y err %.2e (tol %.0e)", lab, e, TOL_WINO);
    }
    if (tu_ok(cu_conv_backward(ref, dx.r, dw.r, db.r, dy.r, x.r, w.r, &err), &err, "ref conv backward") &&
        tu_ok(cu_conv_backward(cl, dx.c, dw.c, db.c, dy.c, x.c, w.c, &err), &err, lab)) {
        double ex = pair_err(&dx), ew = pair_err(&dw), eb = pair_err(&db);
        TU_CHECK(ex <= TOL_WINO && ew <= TOL_WINO && eb <= TOL_BIAS,
                 "%s: dx += err %.2e, dw += err %.2e (tol %.0e), db += err %.2e (tol %.0e)", lab, ex, ew, TOL_WINO, eb,
                 TOL_BIAS);
    }
    struct pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pair_free(all[i]);
    env("CLUNET_WINO_BYTES", NULL);
}

/* The default choice, and that CLUNET_NO_WINOGRAD=1 changes the path: the
 * forward of a 40 -> 36 layer with and without Winograd agree to the
 * tolerance but not bit for bit (different rounding). */
static void test_switch(void)
{
    struct cu_cl_backend *cb = cu_cl(cl);
    env("CLUNET_WINOGRAD", NULL);
    TU_CHECK(cu_cl_wino_tile(cb, 3, 64, 64, 16, 16) == 4 && cu_cl_wino_tile(cb, 3, 32, 32, 32, 32) == 4 &&
                 cu_cl_wino_tile(cb, 3, 96, 32, 64, 64) == 4 && cu_cl_wino_tile(cb, 3, 32, 96, 128, 128) == 4 &&
                 cu_cl_wino_tile(cb, 3, 64, 64, 16, 32) == 4 && cu_cl_wino_tile(cb, 3, 48, 16, 256, 256) == 4 &&
                 cu_cl_wino_tile(cb, 3, 32, 16, 64, 64) == 4 && cu_cl_wino_tile(cb, 3, 32, 8, 64, 64) != 4,
             "default: F(4x4) with 32 outputs or more from 16 inputs or more, at widths of 16 (heights a "
             "multiple of 16), 32 (of 8) and multiples of 64");
    TU_CHECK(cu_cl_wino_tile(cb, 3, 256, 256, 8, 8) == 2 && cu_cl_wino_tile(cb, 3, 64, 64, 8, 16) == 2 &&
                 cu_cl_wino_tile(cb, 3, 32, 32, 48, 48) == 2 && cu_cl_wino_tile(cb, 3, 32, 32, 16, 16) == 4 &&
                 cu_cl_wino_tile(cb, 3, 16, 16, 16, 16) == 0 && cu_cl_wino_tile(cb, 3, 16, 48, 16, 16) == 0 &&
                 cu_cl_wino_tile(cb, 1, 64, 64, 16, 16) == 0 && cu_cl_wino_tile(cb, 5, 64, 64, 16, 16) == 0,
             "default: F(2x2) where F(4x4)'s vector runs do not fit (8 x 8, 8 x 16, 48 wide); none for 16 -> 16, "
             "48 -> 16 at 16 x 16, k = 1 or 5");
    TU_CHECK(cu_cl_wino_dw_use(cb, 3, 16, 16) && cu_cl_wino_dw_use(cb, 3, 16, 48) && !cu_cl_wino_dw_use(cb, 3, 16, 3) &&
                 !cu_cl_wino_dw_use(cb, 1, 64, 64) && !cu_cl_wino_dw_use(cb, 5, 64, 64),
             "dW: F(2x2) from 16 channels on, not for 3 -> 16 nor k = 1 or 5");
    if (cb->policy.wide_tiles)
        TU_CHECK(cu_cl_wino_tile(cb, 3, 16, 32, 64, 64) == 0 && cu_cl_wino_tile(cb, 3, 16, 96, 128, 128) == 0 &&
                     cu_cl_wino_tile(cb, 3, 32, 8, 64, 64) == 0 && cu_cl_wino_tile(cb, 3, 16, 64, 32, 48) == 2,
                 "wide tiles: at widths of 64 and more (multiples of 32) the 8 x 32 implicit tile for layers "
                 "F(4x4) does not take with up to 32 x W weights per tap (2048 at 64, 4096 at 128)");
    else
        TU_CHECK(cu_cl_wino_tile(cb, 3, 16, 96, 128, 128) == 2 && cu_cl_wino_tile(cb, 3, 16, 32, 64, 64) == 0,
                 "narrow tiles (CLUNET_TILES=narrow, or a device with 16 vector registers): F(2x2) by size where "
                 "F(4x4) does not fit");
    env("CLUNET_WINO_TILE", "2");
    TU_CHECK(cu_cl_wino_tile(cb, 3, 64, 64, 16, 16) == 2 &&
                 cu_cl_wino_tile(cb, 3, 96, 32, 128, 128) == (cb->policy.wide_tiles ? 0 : 2),
             "CLUNET_WINO_TILE=2: F(2x2) as before F(4x4) came");
    env("CLUNET_WINO_TILE", NULL);
    setenv("CLUNET_NO_WINOGRAD", "1", 1);
    TU_CHECK(cu_cl_wino_tile(cb, 3, 64, 64, 16, 16) == 4,
             "the policy is the one of the opened device: a later CLUNET_NO_WINOGRAD=1 alone changes nothing");
    env("CLUNET_NO_WINOGRAD", "1");
    TU_CHECK(cu_cl_wino_tile(cb, 3, 64, 64, 16, 16) == 0 && !cu_cl_wino_dw_use(cb, 3, 64, 64),
             "CLUNET_NO_WINOGRAD=1 turns it off");
    env("CLUNET_NO_WINOGRAD", NULL);

    struct cu_err err = {0};
    struct pair x = pair_new((struct cu_shape){2, 40, 12, 20}, "x", -1, 1);
    struct pair w = pair_new((struct cu_shape){36, 40, 3, 3}, "w", -1, 1);
    struct pair b = pair_new((struct cu_shape){36, 1, 1, 1}, "b", -1, 1);
    struct cu_shape ys = {2, 36, 12, 20};
    struct cu_tensor *y1 = tu_tensor(cl, ys, "y1", NULL), *y2 = tu_tensor(cl, ys, "y2", NULL);
    int ran = tu_ok(cu_conv_forward(cl, y1, x.c, w.c, b.c, CU_ACT_NONE, &err), &err, "conv, default");
    env("CLUNET_NO_WINOGRAD", "1");
    ran = ran && tu_ok(cu_conv_forward(cl, y2, x.c, w.c, b.c, CU_ACT_NONE, &err), &err, "conv, no Winograd");
    env("CLUNET_NO_WINOGRAD", NULL);
    if (ran) {
        float *a = tu_download(y1), *o = tu_download(y2);
        size_t n = cu_shape_numel(ys), differ = 0;
        for (size_t i = 0; i < n; i++)
            differ += a[i] != o[i];
        double e = tu_max_abs_err(a, o, n);
        TU_CHECK(differ > 0 && e < 1e-3, "40->36: Winograd and direct differ in %zu of %zu values, by <= %.1e", differ,
                 n, e);
        free(a);
        free(o);
    }
    cu_tensor_free(y1);
    cu_tensor_free(y2);
    pair_free(&x), pair_free(&w), pair_free(&b);
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
    TU_CHECK(cu_backend_kind(cl) == CU_BACKEND_CL, "device %s opens the cl backend", spec);
    if (cu_backend_kind(cl) != CU_BACKEND_CL)
        return tu_finish();
    test_switch();
    env("CLUNET_WINOGRAD", "all");
    static const struct wcase cases[] = {
        {3, 5, 7, 9, 6, CU_ACT_RELU, NULL},     /* odd sides: the last tile row and column half outside */
        {1, 1, 1, 1, 1, CU_ACT_NONE, NULL},     /* one pixel: one tile, 3 of its 4 outputs outside */
        {2, 3, 2, 3, 17, CU_ACT_NONE, NULL},    /* Cout past a multiple of 8 and 16 */
        {2, 33, 16, 16, 16, CU_ACT_RELU, NULL}, /* 16 x 16: 8 tiles a row, panels across rows */
        {4, 19, 6, 34, 33, CU_ACT_RELU, "160000"}, /* 204 tiles in chunks of 3 panels: 3, 3, 3, 3, 1 */
        {3, 48, 10, 14, 40, CU_ACT_NONE, "60000"}, /* one panel per chunk */
        /* runs of 16 tiles within a tile row (vector loads and stores):
         * W = 70 (35 tiles a row: runs at both borders, inside, and
         * wrapping), odd H; W = 64, H = 8: every run inside a row */
        {2, 8, 9, 70, 12, CU_ACT_RELU, NULL},
        {2, 16, 8, 64, 20, CU_ACT_NONE, "300000"},
        /* dW sums over chunks of at least 32 panels (more than the 100000
         * bytes allow): 800 tiles = 50 panels, chunks of 32 and 18 */
        {2, 16, 40, 40, 17, CU_ACT_RELU, "100000"},
        /* F(4x4)'s runs: W = 128 (two runs a tile row, the pixels left and
         * right of them shifted in), W = 32 with H = 20 (runs of two tile
         * rows, the third of each image tile by tile, wrapping into the
         * next), W = 16 with H = 32 (runs of four tile rows) and H = 12
         * (three: tile by tile) */
        {2, 6, 8, 128, 10, CU_ACT_RELU, "200000"},
        {2, 7, 20, 32, 9, CU_ACT_NONE, NULL},
        {2, 5, 32, 16, 7, CU_ACT_RELU, NULL},
        {1, 4, 12, 16, 3, CU_ACT_NONE, NULL},
    };
    static const char *const tiles[2] = {"2", "4"};
    for (int ti = 0; ti < 2; ti++) {
        env("CLUNET_WINO_TILE", tiles[ti]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            test_case(&cases[i]);
    }
    env("CLUNET_WINO_TILE", NULL);
    env("CLUNET_WINOGRAD", NULL);
    /* the direct weight gradient of layers with few weights (default
     * choice): odd Cout (the pair's second channel clamped), widths with a
     * partial run of 16, H x W past 2048 pixels (two row blocks per image) */
    static const struct wcase direct[] = {
        {3, 3, 37, 21, 5, CU_ACT_RELU, NULL},
        {2, 2, 70, 40, 3, CU_ACT_NONE, NULL},
        {1, 16, 9, 18, 2, CU_ACT_NONE, NULL},
        /* W % 16 == 0: the column walk (cu_dw3_rows): W = 16 (one run at
         * both borders), 48 (a run inside), 64 with H x W past 2048 (two
         * row blocks of 32 and 3 rows) */
        {1, 16, 5, 16, 2, CU_ACT_NONE, NULL},
        {2, 4, 6, 48, 3, CU_ACT_RELU, NULL},
        {2, 3, 35, 64, 5, CU_ACT_RELU, NULL},
    };
    struct cu_cl_backend *cb = cu_cl(cl);
    TU_CHECK(cu_cl_dw_direct_use(cb, 3, 2, 16) && cu_cl_dw_direct_use(cb, 3, 16, 3) &&
                 !cu_cl_dw_direct_use(cb, 3, 16, 16) && !cu_cl_dw_direct_use(cb, 1, 2, 2),
             "direct dW: for 3x3 16 -> 2 and 3 -> 16, not for 16 -> 16 nor k = 1");
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++)
        test_case(&direct[i]);
    cu_backend_free(cl);
    cu_backend_free(ref);
    return tu_finish();
}
