/* test_ref_fwd.c: the ref backend's forward ops (and a few backward ones
 * whose result is easy to write down) against tiny cases computed by hand,
 * every expected value written out below with its derivation; then the
 * shape-mismatch path (CU_EUSAGE, a message naming both shapes).
 *
 * Tolerances: the inputs and weights are small integers or halves, so
 * conv, pooling, up-sampling (weights 1, 0.75, 0.25), transposed conv and
 * concatenation are exact in float: tol 1e-6 absolute only allows for
 * printing the constants in decimal. Losses, sigmoid and Adam involve
 * exp/log/sqrt and constants such as ln 3 that float cannot hold exactly
 * (|d p / d z| <= 1/4, float rounding of z ~ 6e-8 relative): tol 1e-6
 * absolute on values of order 1, and 1e-6 relative for Adam (the expected
 * values are given to 10 digits; float holds ~7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/ops.h"
#include "testutil.h"

static struct cu_backend *be;

static struct cu_shape shp(int n, int c, int h, int w) { return (struct cu_shape){n, c, h, w}; }

/* Checks t's contents against want[] (max abs error <= tol, or relative
 * when rel is set). */
static void expect_vals(const char *what, const struct cu_tensor *t, const float *want, double tol, int rel)
{
    size_t n = cu_tensor_numel(t);
    float *got = tu_download(t);
    double e = rel ? tu_max_rel_err(got, want, n, 1e-30) : tu_max_abs_err(got, want, n);
    TU_CHECK(e <= tol, "%s: max %s error %.2e <= %.0e", what, rel ? "relative" : "abs", e, tol);
    if (!(e <= tol))
        for (size_t i = 0; i < n; i++)
            if (got[i] != want[i])
                printf("     [%zu] got %.9g want %.9g\n", i, got[i], want[i]);
    free(got);
}

#define CALL(expr, what)                                                                                          \
    do {                                                                                                          \
        struct cu_err err_ = {0};                                                                                 \
        enum cu_status st_ = (expr);                                                                              \
        tu_ok(st_, &err_, what);                                                                                  \
    } while (0)
/* expr refers to &err_ as its error record. */
#define E (&err_)

/* x (1,2,4,5): channel 0 holds 1..20 row-major, channel 1 all ones.
 * Output 0: Laplacian [[0,1,0],[1,-4,1],[0,1,0]] on channel 0, a 3x3 of
 * ones on channel 1 (adds how many taps fall inside the image: 4 at a
 * corner, 6 on an edge, 9 inside), bias 0.5. The Laplacian of a linear
 * ramp vanishes inside; at the border the zero padding leaves e.g. (0,0):
 * 6 + 2 - 4*1 = 4, + 4 taps + 0.5 = 8.5.
 * Output 1: channel 0 only, w[0][0] = 10, w[1][2] = 1 (asymmetric, so a
 * flipped kernel shows): y = 10*x[i-1][j-1] + x[i][j+1] - 1, e.g. (1,1):
 * 10*1 + 8 - 1 = 17; (3,4): 10*14 + 0 - 1 = 139. */
static void test_conv(void)
{
    float x[40], w[2 * 2 * 9] = {0};
    for (int i = 0; i < 20; i++) {
        x[i] = (float)(i + 1);
        x[20 + i] = 1.0f;
    }
    const float lap[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
    for (int k = 0; k < 9; k++) {
        w[k] = lap[k];  /* (o0, c0) */
        w[9 + k] = 1.0f; /* (o0, c1) */
    }
    w[18 + 0] = 10.0f; /* (o1, c0) top-left */
    w[18 + 5] = 1.0f;  /* (o1, c0) middle-right */
    const float b[2] = {0.5f, -1.0f};
    const float want[40] = {
        8.5f,   9.5f,   8.5f,   7.5f,   -1.5f,  /* output 0 */
        1.5f,   9.5f,   9.5f,   9.5f,   -4.5f,  /**/
        -3.5f,  9.5f,   9.5f,   9.5f,   -9.5f,  /**/
        -31.5f, -15.5f, -16.5f, -17.5f, -41.5f, /**/
        1.0f,   2.0f,   3.0f,   4.0f,   -1.0f,  /* output 1 */
        6.0f,   17.0f,  28.0f,  39.0f,  39.0f,  /**/
        11.0f,  72.0f,  83.0f,  94.0f,  89.0f,  /**/
        16.0f,  127.0f, 138.0f, 149.0f, 139.0f,
    };
    struct cu_tensor *tx = tu_tensor(be, shp(1, 2, 4, 5), "x", x);
    struct cu_tensor *tw = tu_tensor(be, shp(2, 2, 3, 3), "w", w);
    struct cu_tensor *tb = tu_tensor(be, shp(2, 1, 1, 1), "b", b);
    struct cu_tensor *ty = tu_tensor(be, shp(1, 2, 4, 5), "y", NULL);
    CALL(cu_conv_forward(be, ty, tx, tw, tb, CU_ACT_NONE, E), "conv forward");
    expect_vals("conv 3x3 on 4x5, 2 -> 2 channels, by hand", ty, want, 1e-6, 0);
    /* Fused ReLU: the same values with negatives cleared. */
    float relu[40];
    for (int i = 0; i < 40; i++)
        relu[i] = want[i] < 0 ? 0.0f : want[i];
    CALL(cu_conv_forward(be, ty, tx, tw, tb, CU_ACT_RELU, E), "conv forward relu");
    expect_vals("conv 3x3 with fused ReLU", ty, relu, 1e-6, 0);
    cu_tensor_free(tx), cu_tensor_free(tw), cu_tensor_free(tb), cu_tensor_free(ty);
}

/* x (1,2,3,5): odd H and W, so row 2 and column 4 are dropped (the 9 and
 * the 7s never win). Channel 0 windows: [1 3; 2 3] -> 3, first at (0,1)
 * (tie with (1,1)); [3 0; -1 5] -> 5 at (1,3). Channel 1 is all -2: every
 * element ties, the first, (0,0) and (0,2), takes the gradient. */
static void test_pool(void)
{
    const float x[30] = {
        1, 3, 3,  0, 9, /**/
        2, 3, -1, 5, 5, /**/
        7, 7, 7,  7, 7, /**/
        -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2,
    };
    const float want_y[4] = {3, 5, -2, -2};
    const float dy[4] = {10, 20, 30, 40};
    float want_dx[30] = {0};
    want_dx[1] = 10;      /* (0,1) */
    want_dx[5 + 3] = 20;  /* (1,3) */
    want_dx[15 + 0] = 30; /* channel 1 (0,0) */
    want_dx[15 + 2] = 40; /* channel 1 (0,2) */
    struct cu_tensor *tx = tu_tensor(be, shp(1, 2, 3, 5), "x", x);
    struct cu_tensor *ty = tu_tensor(be, shp(1, 2, 1, 2), "y", NULL);
    struct cu_tensor *tdy = tu_tensor(be, shp(1, 2, 1, 2), "dy", dy);
    struct cu_tensor *tdx = tu_tensor(be, shp(1, 2, 3, 5), "dx", NULL);
    CALL(cu_maxpool_forward(be, ty, tx, E), "maxpool forward");
    expect_vals("maxpool 3x5 -> 1x2 (floor), by hand", ty, want_y, 0, 0);
    CALL(cu_maxpool_backward(be, tdx, tdy, tx, E), "maxpool backward");
    expect_vals("maxpool backward: ties route to the first max in row-major order", tdx, want_dx, 0, 0);
    cu_tensor_free(tx), cu_tensor_free(ty), cu_tensor_free(tdy), cu_tensor_free(tdx);
}

/* Per axis, 2x half-pixel bilinear maps [a, b] to
 * [a, 0.75a + 0.25b, 0.25a + 0.75b, b] (the ends clamp). On [[1,2],[3,4]]
 * rows become [1,2], [1.5,2.5], [2.5,3.5], [3,4], then columns likewise:
 * PyTorch's interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False) prints the same 4x4. A 1x3 row [0,4,8] gives
 * [0, 1, 3, 5, 7, 8] on both output rows. Backward: a one-hot dy at
 * (1,2) spreads the row weights (0.75, 0.25) times the column weights
 * (0.25, 0.75); dy of ones gives each input 2 * 2 = 4 (each axis's
 * weights per input sum to 1 + 0.75 + 0.25). */
static void test_upsample(void)
{
    const float x[4] = {1, 2, 3, 4};
    const float want[16] = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                            2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
    struct cu_tensor *tx = tu_tensor(be, shp(1, 1, 2, 2), "x", x);
    struct cu_tensor *ty = tu_tensor(be, shp(1, 1, 4, 4), "y", NULL);
    CALL(cu_upsample_forward(be, ty, tx, E), "upsample forward");
    expect_vals("upsample 2x2 -> 4x4 (PyTorch align_corners=False values)", ty, want, 0, 0);

    float dy[16] = {0};
    dy[1 * 4 + 2] = 1.0f;
    const float want_dx[4] = {0.1875f, 0.5625f, 0.0625f, 0.1875f};
    struct cu_tensor *tdy = tu_tensor(be, shp(1, 1, 4, 4), "dy", dy);
    struct cu_tensor *tdx = tu_tensor(be, shp(1, 1, 2, 2), "dx", NULL);
    CALL(cu_upsample_backward(be, tdx, tdy, E), "upsample backward");
    expect_vals("upsample backward of a one-hot dy at (1,2)", tdx, want_dx, 0, 0);
    for (int i = 0; i < 16; i++)
        dy[i] = 1.0f;
    const float want_ones[4] = {4 + 0.1875f, 4 + 0.5625f, 4 + 0.0625f, 4 + 0.1875f}; /* += */
    CALL(cu_tensor_upload(tdy, dy, E), "upload");
    CALL(cu_upsample_backward(be, tdx, tdy, E), "upsample backward");
    expect_vals("upsample backward of ones adds 4 to each input (+=)", tdx, want_ones, 0, 0);

    const float row[3] = {0, 4, 8};
    const float want_row[12] = {0, 1, 3, 5, 7, 8, 0, 1, 3, 5, 7, 8};
    struct cu_tensor *tr = tu_tensor(be, shp(1, 1, 1, 3), "row", row);
    struct cu_tensor *tyr = tu_tensor(be, shp(1, 1, 2, 6), "y", NULL);
    CALL(cu_upsample_forward(be, tyr, tr, E), "upsample forward");
    expect_vals("upsample 1x3 -> 2x6 (edge clamp)", tyr, want_row, 0, 0);
    cu_tensor_free(tx), cu_tensor_free(ty), cu_tensor_free(tdy), cu_tensor_free(tdx);
    cu_tensor_free(tr), cu_tensor_free(tyr);
}

/* x (1,2,1,2): channel 0 = [1, 2], channel 1 = [3, -1]. Weight (Cin=2,
 * Cout=2, 2, 2) in PyTorch's ConvTranspose2d layout:
 *   w[0,0] = [1 2; 3 4], w[0,1] = [1 0; 0 0],
 *   w[1,0] = [0 1; -1 0], w[1,1] = [0 0; 0 1], b = [0.5, -1].
 * Input pixel j writes the 2x2 block at columns 2j, 2j+1:
 *   out 0, j=0: 1*[1 2; 3 4] + 3*[0 1; -1 0] + 0.5 = [1.5 5.5; 0.5 4.5]
 *   out 0, j=1: 2*[1 2; 3 4] - 1*[0 1; -1 0] + 0.5 = [2.5 3.5; 7.5 8.5]
 *   out 1, j=0: [1 0; 0 3] - 1 = [0 -1; -1 2]
 *   out 1, j=1: [2 0; 0 -1] - 1 = [1 -1; -1 -2] */
static void test_tconv(void)
{
    const float x[4] = {1, 2, 3, -1};
    const float w[16] = {1, 2, 3, 4, 1, 0, 0, 0, 0, 1, -1, 0, 0, 0, 0, 1};
    const float b[2] = {0.5f, -1.0f};
    const float want[16] = {1.5f, 5.5f, 2.5f, 3.5f, 0.5f, 4.5f, 7.5f, 8.5f, /* out 0 */
                            0, -1, 1, -1, -1, 2, -1, -2};                  /* out 1 */
    struct cu_tensor *tx = tu_tensor(be, shp(1, 2, 1, 2), "x", x);
    struct cu_tensor *tw = tu_tensor(be, shp(2, 2, 2, 2), "w", w);
    struct cu_tensor *tb = tu_tensor(be, shp(2, 1, 1, 1), "b", b);
    struct cu_tensor *ty = tu_tensor(be, shp(1, 2, 2, 4), "y", NULL);
    CALL(cu_tconv_forward(be, ty, tx, tw, tb, E), "tconv forward");
    expect_vals("tconv 2x2 stride 2, 2 -> 2 channels, by hand", ty, want, 1e-6, 0);
    cu_tensor_free(tx), cu_tensor_free(tw), cu_tensor_free(tb), cu_tensor_free(ty);
}

/* relu([-1, 0, 2, -0.5]) in place; relu backward masks dy where y <= 0;
 * sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4, and at +-100
 * it saturates to 1 and ~3.7e-44 without overflow. */
static void test_eltwise(void)
{
    const float x[4] = {-1, 0, 2, -0.5f}, want_relu[4] = {0, 0, 2, 0};
    const float dy[4] = {5, 6, 7, 8}, want_mask[4] = {0, 0, 7, 0};
    struct cu_tensor *tx = tu_tensor(be, shp(1, 1, 2, 2), "x", x);
    struct cu_tensor *tdy = tu_tensor(be, shp(1, 1, 2, 2), "dy", dy);
    CALL(cu_relu_forward(be, tx, tx, E), "relu forward");
    expect_vals("relu forward in place", tx, want_relu, 0, 0);
    CALL(cu_relu_backward(be, tdy, tx, E), "relu backward");
    expect_vals("relu backward masks dy in place", tdy, want_mask, 0, 0);

    const float z[5] = {0, (float)log(3.0), (float)-log(3.0), 100, -100};
    const float want_sig[5] = {0.5f, 0.75f, 0.25f, 1.0f, 0.0f};
    struct cu_tensor *tz = tu_tensor(be, shp(1, 1, 1, 5), "z", z);
    struct cu_tensor *ts = tu_tensor(be, shp(1, 1, 1, 5), "s", NULL);
    CALL(cu_sigmoid_forward(be, ts, tz, E), "sigmoid forward");
    expect_vals("sigmoid of 0, +-ln 3, +-100", ts, want_sig, 1e-6, 0);
    /* dx += dy * y(1-y): y = 0.5, 0.75 -> 0.25, 0.1875 per unit dy. */
    const float g[5] = {4, 16, 0, 0, 0}, want_g[5] = {1, 3, 0, 0, 0};
    struct cu_tensor *tg = tu_tensor(be, shp(1, 1, 1, 5), "g", g);
    struct cu_tensor *tgx = tu_tensor(be, shp(1, 1, 1, 5), "gx", NULL);
    CALL(cu_sigmoid_backward(be, tgx, tg, ts, E), "sigmoid backward");
    expect_vals("sigmoid backward dy*y*(1-y)", tgx, want_g, 1e-6, 0);
    cu_tensor_free(tx), cu_tensor_free(tdy), cu_tensor_free(tz), cu_tensor_free(ts);
    cu_tensor_free(tg), cu_tensor_free(tgx);
}

/* Batch 2: a (2,1,1,2), b (2,2,1,2); y holds, per batch item, a's planes
 * then b's: item 0 = [1 2 | 3 4 5 6], item 1 = [7 8 | 9 10 11 12]. */
static void test_concat(void)
{
    const float a[4] = {1, 2, 7, 8}, b[8] = {3, 4, 5, 6, 9, 10, 11, 12};
    float want[12];
    for (int i = 0; i < 12; i++)
        want[i] = (float)(i + 1);
    struct cu_tensor *ta = tu_tensor(be, shp(2, 1, 1, 2), "a", a);
    struct cu_tensor *tb = tu_tensor(be, shp(2, 2, 1, 2), "b", b);
    struct cu_tensor *ty = tu_tensor(be, shp(2, 3, 1, 2), "y", NULL);
    CALL(cu_concat_forward(be, ty, ta, tb, E), "concat forward");
    expect_vals("concat [a, b] per batch item", ty, want, 0, 0);
    /* The split adds: da, db start at a, b, so they become 2a, 2b. */
    float want_a[4], want_b[8];
    for (int i = 0; i < 4; i++)
        want_a[i] = 2 * a[i];
    for (int i = 0; i < 8; i++)
        want_b[i] = 2 * b[i];
    CALL(cu_concat_backward(be, ta, tb, ty, E), "concat backward");
    expect_vals("concat backward: da += dy[:, :Ca]", ta, want_a, 0, 0);
    expect_vals("concat backward: db += dy[:, Ca:]", tb, want_b, 0, 0);
    cu_tensor_free(ta), cu_tensor_free(tb), cu_tensor_free(ty);
}

/* z = [0, ln 3, -ln 3, 0], t = [1, 1, 0, 0]: p = [1/2, 3/4, 1/4, 1/2].
 * bce terms: -ln p or -ln(1-p) = ln 2, ln 4/3, ln 4/3, ln 2; mean
 * = ln(8/3)/2 = 0.4904146265. Dice: S_tp = 1.25, S_t = 2, S_p = 2:
 * (2.5 + 1)/(2 + 2 + 1) = 0.7. Gradients: bce (p - t)/4 = [-1/8, -1/16,
 * 1/16, 1/8]; d dice/dp = (2 t D - num)/D^2 with D = 5, num = 3.5: 0.26
 * (t=1), -0.14 (t=0), times p(1-p) = [1/4, 3/16, 3/16, 1/4] gives
 * [0.065, 0.04875, -0.02625, -0.035]; d(1-dice)/dz is its negative.
 * Large logits: z = [100, -100, 100, -100], t = [1, 0, 0, 1]: bce terms
 * 0, 0, 100, 100 (mean 50, no overflow); p = [1, 0, 1, 0], dice 3/5. */
static void test_loss(void)
{
    const float z[4] = {0, (float)log(3.0), (float)-log(3.0), 0}, t[4] = {1, 1, 0, 0};
    const double bce = 0.4904146265, dice = 0.7;
    const float g_bce[4] = {-0.125f, -0.0625f, 0.0625f, 0.125f};
    const float g_dice[4] = {-0.065f, -0.04875f, 0.02625f, 0.035f};
    struct cu_tensor *tz = tu_tensor(be, shp(1, 1, 2, 2), "z", z);
    struct cu_tensor *tt = tu_tensor(be, shp(1, 1, 2, 2), "t", t);
    struct cu_tensor *to = tu_tensor(be, shp(1, 1, 1, 2), "out", NULL);
    static const char *names[] = {"bce", "dice", "bce+dice"};
    for (int k = CU_LOSS_BCE; k <= CU_LOSS_BCE_DICE; k++) {
        double loss = k == CU_LOSS_BCE ? bce : k == CU_LOSS_DICE ? 1 - dice : bce + 1 - dice;
        const float want_o[2] = {(float)loss, (float)dice};
        float want_g[4];
        for (int i = 0; i < 4; i++)
            want_g[i] = (k != CU_LOSS_DICE ? g_bce[i] : 0.0f) + (k != CU_LOSS_BCE ? g_dice[i] : 0.0f);
        char what[96];
        CALL(cu_loss_forward(be, to, tz, tt, (enum cu_loss)k, E), "loss forward");
        snprintf(what, sizeof what, "loss %s: [loss, dice] by hand", names[k]);
        expect_vals(what, to, want_o, 1e-6, 0);
        struct cu_tensor *tg = tu_tensor(be, shp(1, 1, 2, 2), "dz", NULL);
        CALL(cu_loss_backward(be, tg, tz, tt, (enum cu_loss)k, E), "loss backward");
        snprintf(what, sizeof what, "loss %s: dloss/dz by hand", names[k]);
        expect_vals(what, tg, want_g, 1e-6, 0);
        cu_tensor_free(tg);
    }
    const float zb[4] = {100, -100, 100, -100}, tb[4] = {1, 0, 0, 1}, want_b[2] = {50.0f, 0.6f};
    CALL(cu_tensor_upload(tz, zb, E), "upload");
    CALL(cu_tensor_upload(tt, tb, E), "upload");
    CALL(cu_loss_forward(be, to, tz, tt, CU_LOSS_BCE, E), "loss forward");
    expect_vals("loss bce at logits +-100: finite, by hand", to, want_b, 1e-5, 0);
    cu_tensor_free(tz), cu_tensor_free(tt), cu_tensor_free(to);
}

/* One Keras Adam step (lr 1e-3, b1 0.9, b2 0.999, eps 1e-7), m = v = 0:
 * m = 0.1 g, v = 0.001 g^2, lr_1 = 1e-3 sqrt(0.001)/0.1 = 3.16227766e-4,
 * sqrt(v) = 0.0316227766 |g|:
 *   p=0,  g=0.5:  step = lr_1 * 0.05/(0.0158113883 + 1e-7)
 *                 = 1e-3/(1 + 6.32456e-6) -> p = -9.999936755e-4
 *   p=1,  g=1e-6: m = 1e-7, sqrt(v) = 3.16227766e-8, step = lr_1 * 1e-7 /
 *                 1.316227766e-7 = 2.402531e-4 -> p = 0.9997597469
 *                 (PyTorch's eps placement would give 9.09e-4: the test
 *                 tells the two apart)
 *   p=-2, g=-2:   step = -1e-3/(1 + 1.58114e-6) -> p = -1.999000002
 * Second step of the first element (t = 2, same g): m = 0.095,
 * v = 4.9975e-4, lr_2 = 1e-3 sqrt(0.001999)/0.19 = 2.35316725e-4,
 * step = lr_2 * 0.095/(0.0223550888 + 1e-7) = 9.99995e-4
 * -> p = -1.999989202e-3.
 * The moments show that the hyper-parameters are floats (as in Keras's
 * float32 graph): beta2 = 0.999f = 0.99900001287, so 1 - beta2 =
 * 9.99987125e-4 and v = 9.99987125e-4 g^2 (2.3e-5 below 0.001 g^2; it
 * cancels in the step, since lr_t and sqrt(v) both carry sqrt(1-beta2)). */
static void test_adam(void)
{
    const float p0[3] = {0, 1, -2}, g[3] = {0.5f, 1e-6f, -2};
    const float want_p1[3] = {-9.999936755e-4f, 0.9997597469f, -1.999000002f};
    const float want_m[3] = {0.05f, 1e-7f, -0.2f}, want_v[3] = {2.49996781e-4f, 9.99987125e-16f, 3.9999485e-3f};
    struct cu_tensor *tp = tu_tensor(be, shp(3, 1, 1, 1), "p", p0);
    struct cu_tensor *tg = tu_tensor(be, shp(3, 1, 1, 1), "g", g);
    struct cu_tensor *tm = tu_tensor(be, shp(3, 1, 1, 1), "m", NULL);
    struct cu_tensor *tv = tu_tensor(be, shp(3, 1, 1, 1), "v", NULL);
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    CALL(cu_adam_update(be, tp, tg, tm, tv, &hp, 1, E), "adam");
    expect_vals("adam step 1: parameters (Keras eps placement)", tp, want_p1, 1e-6, 1);
    expect_vals("adam step 1: first moment", tm, want_m, 1e-6, 1);
    expect_vals("adam step 1: second moment", tv, want_v, 1e-6, 1);
    CALL(cu_adam_update(be, tp, tg, tm, tv, &hp, 2, E), "adam");
    float *p2 = tu_download(tp);
    double e = fabs(p2[0] - -1.999989202e-3) / 1.999989202e-3;
    TU_CHECK(e <= 1e-6, "adam step 2: bias correction for t = 2, relative error %.1e <= 1e-6", e);
    free(p2);
    cu_tensor_free(tp), cu_tensor_free(tg), cu_tensor_free(tm), cu_tensor_free(tv);
}

/* A wrong-shape call fails with CU_EUSAGE and names both shapes; so does
 * an unknown loss kind. */
static void test_shape_mismatch(void)
{
    struct cu_tensor *x = tu_tensor(be, shp(1, 3, 4, 5), "enc1.in", NULL);
    struct cu_tensor *w = tu_tensor(be, shp(2, 3, 3, 3), "enc1.conv1.weight", NULL);
    struct cu_tensor *b = tu_tensor(be, shp(2, 1, 1, 1), "enc1.conv1.bias", NULL);
    struct cu_tensor *y = tu_tensor(be, shp(1, 2, 5, 4), "enc1.conv1.out", NULL);
    struct cu_err err = {0};
    enum cu_status st = cu_conv_forward(be, y, x, w, b, CU_ACT_RELU, &err);
    TU_CHECK(st == CU_EUSAGE, "conv forward into a 1x2x5x4 output for a 1x3x4x5 input: status %d == CU_EUSAGE",
             (int)st);
    TU_CHECK(strstr(err.msg, "1x2x5x4") && strstr(err.msg, "1x2x4x5") && strstr(err.msg, "enc1.conv1.out"),
             "message names the tensor, its shape and the expected one: \"%s\"", err.msg);

    struct cu_tensor *a = tu_tensor(be, shp(2, 3, 4, 4), "skip", NULL);
    struct cu_tensor *u = tu_tensor(be, shp(2, 3, 4, 6), "up", NULL);
    struct cu_tensor *cat = tu_tensor(be, shp(2, 6, 4, 4), "cat", NULL);
    cu_err_clear(&err);
    st = cu_concat_forward(be, cat, a, u, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "2x3x4x6") && strstr(err.msg, "2x3x4x4"),
             "concat of 2x3x4x4 and 2x3x4x6: CU_EUSAGE naming both: \"%s\"", err.msg);

    struct cu_tensor *z = tu_tensor(be, shp(1, 1, 2, 2), "z", NULL);
    struct cu_tensor *t = tu_tensor(be, shp(1, 1, 2, 2), "t", NULL);
    struct cu_tensor *out = tu_tensor(be, shp(1, 1, 1, 2), "out", NULL);
    cu_err_clear(&err);
    st = cu_loss_forward(be, out, z, t, (enum cu_loss)7, &err);
    TU_CHECK(st == CU_EUSAGE, "loss forward with an unknown kind: CU_EUSAGE: \"%s\"", err.msg);
    cu_tensor_free(x), cu_tensor_free(w), cu_tensor_free(b), cu_tensor_free(y);
    cu_tensor_free(a), cu_tensor_free(u), cu_tensor_free(cat);
    cu_tensor_free(z), cu_tensor_free(t), cu_tensor_free(out);
}

int main(void)
{
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    test_conv();
    test_pool();
    test_upsample();
    test_tconv();
    test_eltwise();
    test_concat();
    test_loss();
    test_adam();
    test_shape_mismatch();
    cu_backend_free(be);
    return tu_finish();
}
