/* test_unet.c: the U-Net on the ref backend: parameter counts (arithmetic
 * and built), names, He-normal initialisation, a whole training step at
 * S=64 c=0.5 batch 2, partial batches and inference, descent at a small
 * learning rate, and the whole-network gradient against finite differences
 * at S=16 c=0.125 (both up-sampling modes).
 * Model files are tested in test_model_file.c. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/ops.h"
#include "clunet/unet.h"

static struct cu_backend *be;

static struct cu_unet *build(int S, double c, enum cu_upsample u, int cap)
{
    struct cu_unet_config cfg = {S, c, u, 3, 1};
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    if (cu_unet_new(be, &cfg, cap, &net, &err)) {
        fprintf(stderr, "FAIL building S=%d c=%g: %s\n", S, c, err.msg);
        exit(1);
    }
    return net;
}

/* The counts the DSB2018 Keras model prints (model.summary()) and that the
 * PyTorch peer model (../shared/peer/unet_torch.py) gives. */
static void test_param_counts(void)
{
    static const struct {
        double c;
        enum cu_upsample u;
        long long want;
    } cases[] = {
        {0.5, CU_UPSAMPLE_BILINEAR, 1962901},
        {1, CU_UPSAMPLE_BILINEAR, 7847205},
        {2, CU_UPSAMPLE_BILINEAR, 31380037},
        {1, CU_UPSAMPLE_TRANSPOSED, 7760645},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct cu_unet_config cfg = {16, cases[i].c, cases[i].u, 3, 1};
        long long n = cu_unet_param_count(&cfg);
        TU_CHECK(n == cases[i].want, "param count c=%g %s: %lld (want %lld)", cases[i].c,
                 cu_upsample_name(cases[i].u), n, cases[i].want);
        struct cu_unet *net = build(16, cases[i].c, cases[i].u, 1);
        long long built = cu_unet_param_total(net);
        TU_CHECK(built == cases[i].want, "built net c=%g %s at S=16: %lld floats in %d tensors (want %lld)",
                 cases[i].c, cu_upsample_name(cases[i].u), built, cu_unet_n_params(net), cases[i].want);
        cu_unet_free(net);
    }
    struct cu_err err = {0};
    struct cu_unet_config bad = {40, 0.5, CU_UPSAMPLE_BILINEAR, 3, 1};
    TU_CHECK(cu_unet_config_check(&bad, &err) == CU_EUSAGE, "S=40 rejected: %s", err.msg);
    cu_err_clear(&err);
    bad = (struct cu_unet_config){64, 0.01, CU_UPSAMPLE_BILINEAR, 3, 1};
    TU_CHECK(cu_unet_config_check(&bad, &err) == CU_EUSAGE, "c=0.01 (width 0) rejected: %s", err.msg);
}

static void test_names(void)
{
    struct cu_unet *net = build(16, 0.125, CU_UPSAMPLE_TRANSPOSED, 1);
    const char *want[] = {"enc1.conv1.weight", "enc4.conv2.bias", "mid.conv2.weight", "dec4.up.weight",
                          "dec2.up.bias",      "dec1.conv2.bias", "head.conv.weight", "head.out.bias"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        TU_CHECK(cu_unet_param_find(net, want[i]) != NULL, "transposed net has %s", want[i]);
    const struct cu_unet_param *up = cu_unet_param_find(net, "dec2.up.weight");
    /* dec2 up-samples level 2 (f[2]=16 at c=0.125) to level 1 (f[1]=8) */
    TU_CHECK(up && up->w->n == 16 && up->w->c == 8 && up->w->h == 2 && up->w->w == 2,
             "dec2.up.weight is (Cin 16, Cout 8, 2, 2)");
    TU_CHECK(cu_unet_n_params(net) == 4 * 4 + 4 + 4 * 6 + 4, "transposed net has 48 parameter tensors (%d)",
             cu_unet_n_params(net));
    cu_unet_free(net);
    net = build(16, 0.125, CU_UPSAMPLE_BILINEAR, 1);
    TU_CHECK(cu_unet_param_find(net, "dec2.up.weight") == NULL, "bilinear net has no dec2.up.weight");
    const struct cu_unet_param *d1 = cu_unet_param_find(net, "dec1.conv1.weight");
    TU_CHECK(d1 && d1->w->c == 4 + 8, "bilinear dec1.conv1 reads [skip 4, up 8] channels");
    cu_unet_free(net);
}

/* Keras he_normal: kept values have std sqrt(2/fan_in) and lie within
 * 2*sqrt(2/fan_in)/0.8796. Tolerances: with n >= 4608 samples the sample
 * std is within ~3% of the truth at 3 sigma; the mean within 0.05 std. */
static void test_init(void)
{
    struct cu_unet *a = build(16, 0.5, CU_UPSAMPLE_TRANSPOSED, 1), *b = build(16, 0.5, CU_UPSAMPLE_TRANSPOSED, 1);
    struct cu_err err = {0};
    tu_ok(cu_unet_init_he(a, 42, &err), &err, "init a");
    tu_ok(cu_unet_init_he(b, 42, &err), &err, "init b");
    const char *names[] = {"enc2.conv1.weight", "mid.conv2.weight", "dec3.up.weight"};
    for (int k = 0; k < 3; k++) {
        const struct cu_unet_param *p = cu_unet_param_find(a, names[k]);
        float *w = tu_download(p->w), *w2 = tu_download(cu_unet_param_find(b, names[k])->w);
        size_t n = cu_tensor_numel(p->w);
        double fan = (double)p->w->c * p->w->h * p->w->w, sd = sqrt(2.0 / fan), s1 = 0, s2 = 0, mx = 0;
        for (size_t i = 0; i < n; i++) {
            s1 += w[i], s2 += (double)w[i] * w[i];
            mx = fmax(mx, fabs(w[i]));
        }
        double mean = s1 / n, std = sqrt(s2 / n - mean * mean);
        TU_CHECK(fabs(std / sd - 1) < 0.03 && fabs(mean) < 0.05 * sd && mx <= 2 * sd / 0.87962566103423978 * 1.000001,
                 "he_normal %s (%zu, fan_in %.0f): std %.5f want %.5f, mean %.2e, max %.5f <= %.5f", names[k], n, fan,
                 std, sd, mean, mx, 2 * sd / 0.87962566103423978);
        TU_CHECK(memcmp(w, w2, n * sizeof *w) == 0, "he_normal %s: same seed, same weights", names[k]);
        free(w), free(w2);
    }
    tu_ok(cu_unet_init_he(b, 43, &err), &err, "init b seed 43");
    float *w = tu_download(cu_unet_param_find(a, "enc1.conv1.weight")->w);
    float *w2 = tu_download(cu_unet_param_find(b, "enc1.conv1.weight")->w);
    TU_CHECK(memcmp(w, w2, 16 * 27 * sizeof *w) != 0, "he_normal: another seed, other weights");
    free(w), free(w2);
    /* Streams of different tensors are unrelated: enc1.conv2 and dec1.conv2
     * (both 16x16x3x3, same scale) share no run of values at any lag up to
     * 400. Seeding tensor i at seed + i * splitmix64's increment made its
     * values those of an earlier tensor shifted by a few draws. */
    float *e = tu_download(cu_unet_param_find(a, "enc1.conv2.weight")->w);
    float *d = tu_download(cu_unet_param_find(a, "dec1.conv2.weight")->w);
    int worst = 0;
    for (int lag = 0; lag <= 400; lag++) {
        int same_ed = 0, same_de = 0;
        for (int k = 0; k + lag < 16 * 16 * 9; k++) {
            same_ed += e[k + lag] == d[k];
            same_de += d[k + lag] == e[k];
        }
        worst = same_ed > worst ? same_ed : worst;
        worst = same_de > worst ? same_de : worst;
    }
    TU_CHECK(worst <= 1, "he_normal: enc1.conv2 and dec1.conv2 draw unrelated values (at most %d equal at a lag)",
             worst);
    free(e), free(d);
    float *bias = tu_download(cu_unet_param_find(a, "dec1.conv2.bias")->w);
    TU_CHECK(bias[0] == 0 && bias[15] == 0, "biases start at zero");
    free(bias);
    cu_unet_free(a), cu_unet_free(b);
}

/* The output layer's two weights start with opposite signs (unet.h), for
 * every seed, with magnitudes that vary with the seed; its bias at zero. */
static void test_output_signs(void)
{
    struct cu_unet *a = build(16, 0.5, CU_UPSAMPLE_BILINEAR, 1);
    struct cu_err err = {0};
    int good = 0, distinct = 0;
    float last = 0;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        tu_ok(cu_unet_init_he(a, seed, &err), &err, "init");
        float *w = tu_download(cu_unet_param_find(a, "head.out.weight")->w);
        float *b = tu_download(cu_unet_param_find(a, "head.out.bias")->w);
        good += w[0] < 0 && w[1] > 0 && b[0] == 0;
        distinct += w[1] != last;
        last = w[1];
        free(w), free(b);
    }
    TU_CHECK(good == 64, "head.out starts (negative, positive) for %d of 64 seeds", good);
    TU_CHECK(distinct == 64, "head.out magnitudes differ from seed to seed (%d of 64)", distinct);
    cu_unet_free(a);
}

static float *random_batch(int n, int c, int S, uint64_t *rng, int binary)
{
    float *x = malloc((size_t)n * c * S * S * sizeof *x);
    tu_fill_uniform(x, (size_t)n * c * S * S, rng, 0, 1);
    if (binary)
        for (size_t i = 0; i < (size_t)n * c * S * S; i++)
            x[i] = x[i] > 0.6f;
    return x;
}

/* A whole training step at the recipe's smallest size: S=64, c=0.5,
 * batch 2, then a validation pass with the updated weights. */
static void test_train_step(void)
{
    const int S = 64;
    struct cu_unet *net = build(S, 0.5, CU_UPSAMPLE_BILINEAR, 2);
    struct cu_err err = {0};
    uint64_t rng = 7;
    float *xh = random_batch(2, 3, S, &rng, 0), *th = random_batch(2, 1, S, &rng, 1);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){2, 3, S, S}, "x", xh);
    struct cu_tensor *t = tu_tensor(be, (struct cu_shape){2, 1, S, S}, "t", th);
    tu_ok(cu_unet_init_he(net, 1, &err), &err, "init");
    float *w0 = tu_download(cu_unet_param_find(net, "enc1.conv1.weight")->w);
    struct cu_backend_stats s0, s1;
    cu_backend_stats(be, &s0);
    float out[2], ev[2];
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    int ok = tu_ok(cu_unet_train_step(net, x, t, CU_LOSS_BCE, &hp, 1, out, &err), &err, "train step");
    cu_backend_stats(be, &s1);
    if (ok) {
        TU_CHECK(isfinite(out[0]) && out[0] > 0.3 && out[0] < 3,
                 "S=64 c=0.5 batch 2 training step: loss %.5f dice %.5f (finite, near log 2 at He init)", out[0],
                 out[1]);
        TU_CHECK(s1.downloads - s0.downloads == 1 && s1.bytes_down - s0.bytes_down == 2 * sizeof(float),
                 "a training step downloads only [loss, dice]: %llu download, %llu bytes",
                 (unsigned long long)(s1.downloads - s0.downloads), (unsigned long long)(s1.bytes_down - s0.bytes_down));
        TU_CHECK(s1.allocs == s0.allocs, "a training step allocates nothing (%llu new tensors)",
                 (unsigned long long)(s1.allocs - s0.allocs));
    }
    float *w1 = tu_download(cu_unet_param_find(net, "enc1.conv1.weight")->w);
    TU_CHECK(memcmp(w0, w1, 27 * 16 * sizeof *w0) != 0, "Adam changed enc1.conv1.weight");
    if (tu_ok(cu_unet_eval_step(net, x, t, CU_LOSS_BCE, ev, &err), &err, "eval step"))
        TU_CHECK(isfinite(ev[0]) && ev[1] >= 0 && ev[1] <= 1, "eval step after the update: loss %.5f dice %.5f",
                 ev[0], ev[1]);
    free(w0), free(w1), free(xh), free(th);
    cu_tensor_free(x), cu_tensor_free(t);
    cu_unet_free(net);
}

/* A partial batch, an oversized one, and inference, at S=32 c=0.25. */
static void test_batches(void)
{
    const int S = 32;
    struct cu_unet *net = build(S, 0.25, CU_UPSAMPLE_BILINEAR, 2);
    struct cu_err err = {0};
    uint64_t rng = 9;
    float *xh = random_batch(2, 3, S, &rng, 0);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){2, 3, S, S}, "x", xh);
    struct cu_tensor *x1 = tu_tensor(be, (struct cu_shape){1, 3, S, S}, "x1", xh);
    struct cu_tensor *x3 = tu_tensor(be, (struct cu_shape){3, 3, S, S}, "x3", NULL);
    struct cu_tensor *t1 = tu_tensor(be, (struct cu_shape){1, 1, S, S}, "t1", NULL);
    tu_ok(cu_unet_init_he(net, 4, &err), &err, "init");
    /* image 0 alone must give the logits it gives in the pair */
    struct cu_tensor *logits = NULL;
    tu_ok(cu_unet_forward(net, x, &logits, &err), &err, "forward batch 2");
    float *l2 = tu_download(logits);
    tu_ok(cu_unet_forward(net, x1, &logits, &err), &err, "forward batch 1");
    float *l1 = tu_download(logits);
    TU_CHECK(logits->n == 1 && memcmp(l1, l2, (size_t)S * S * sizeof *l1) == 0,
             "partial batch of 1: same logits as image 0 of the pair (bitwise)");
    cu_err_clear(&err);
    TU_CHECK(cu_unet_forward(net, x3, NULL, &err) == CU_EUSAGE, "batch 3 > capacity 2 refused: %s", err.msg);
    /* inference: the sigmoid of the logits; both sides compute it in double
     * before rounding, so 1e-6 absolute is generous */
    struct cu_tensor *prob = NULL;
    if (tu_ok(cu_unet_predict(net, x1, &prob, &err), &err, "predict")) {
        float *p = tu_download(prob);
        double e = 0;
        for (int i = 0; i < S * S; i++)
            e = fmax(e, fabs(p[i] - 1.0 / (1.0 + exp(-(double)l1[i]))));
        TU_CHECK(e < 1e-6, "predict gives sigmoid(logits): max error %.2e", e);
        free(p);
    }
    cu_err_clear(&err);
    TU_CHECK(cu_unet_backward(net, t1, CU_LOSS_BCE, &err) == CU_EUSAGE, "no backward after predict: %s", err.msg);
    free(l1), free(l2), free(xh);
    cu_tensor_free(x), cu_tensor_free(x1), cu_tensor_free(x3), cu_tensor_free(t1);
    cu_unet_free(net);
}

/* Adam's first steps move every weight by about lr along -sign(g): with a
 * small lr the batch's loss must fall if the gradients are right (lr 1e-3
 * over ~0.5-2 M weights can overshoot on one random batch). S=32 c=0.25,
 * both up-sampling modes, bce + dice. */
static void test_descent(enum cu_upsample u)
{
    const int S = 32;
    struct cu_unet *net = build(S, 0.25, u, 2);
    struct cu_err err = {0};
    uint64_t rng = 8;
    float *xh = random_batch(2, 3, S, &rng, 0), *th = random_batch(2, 1, S, &rng, 1);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){2, 3, S, S}, "x", xh);
    struct cu_tensor *t = tu_tensor(be, (struct cu_shape){2, 1, S, S}, "t", th);
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    hp.lr = 1e-5f;
    float l[3][2];
    int ok = tu_ok(cu_unet_init_he(net, 2, &err), &err, "init");
    for (int step = 1; step <= 3 && ok; step++)
        ok = tu_ok(cu_unet_train_step(net, x, t, CU_LOSS_BCE_DICE, &hp, step, l[step - 1], &err), &err, "step");
    if (ok)
        TU_CHECK(l[2][0] < l[1][0] && l[1][0] < l[0][0],
                 "%s: three Adam steps at lr 1e-5 lower the batch's loss: %.6f -> %.6f -> %.6f", cu_upsample_name(u),
                 l[0][0], l[1][0], l[2][0]);
    free(xh), free(th);
    cu_tensor_free(x), cu_tensor_free(t);
    cu_unet_free(net);
}

static double loss_at(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t)
{
    struct cu_err err = {0};
    struct cu_tensor *sc = NULL;
    float out[2] = {NAN, NAN};
    if (cu_unet_forward(net, x, NULL, &err) || cu_unet_loss(net, t, CU_LOSS_BCE_DICE, &sc, &err) ||
        cu_tensor_download(sc, out, &err))
        tu_check(0, "loss evaluation: %s", err.msg);
    return out[0];
}

/* Loss with weight i of p moved by delta (w: p's host copy, restored). */
static double loss_moved(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t,
                         struct cu_tensor *p, float *w, size_t i, double delta)
{
    struct cu_err err = {0};
    float w0 = w[i];
    w[i] = (float)(w0 + delta);
    tu_ok(cu_tensor_upload(p, w, &err), &err, "upload");
    double l = loss_at(net, x, t);
    w[i] = w0;
    tu_ok(cu_tensor_upload(p, w, &err), &err, "upload");
    return l;
}

/* Central differences of the float32 loss (bce + dice), eps = 1e-3 on one
 * weight at a time. The loss is a float near 1 (ulp 1.2e-7), so a
 * difference quotient is only known to ~1e-4. This tiny net (c=0.125: 4-64
 * channels, 512 pixels) is full of ReLU kinks and max-pool switches; a step
 * that crosses them makes the finite difference meaningless, so a weight
 * counts only where the loss is smooth at that scale: the one-sided
 * differences agree and the central difference at eps/2 agrees with the
 * one at eps (each within 0.05*|fd| + 3e-4). There the check is
 * |fd - g| <= 0.05*|g| + 2e-4, over the largest |g| of each tensor and up
 * to five random weights with |g| >= 1e-3; at least 20 must be checked. */
static void gradcheck(enum cu_upsample u)
{
    const int S = 16, N = 2;
    struct cu_unet *net = build(S, 0.125, u, N);
    struct cu_err err = {0};
    uint64_t rng = 99;
    float *xh = random_batch(N, 3, S, &rng, 0), *th = random_batch(N, 1, S, &rng, 1);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){N, 3, S, S}, "x", xh);
    struct cu_tensor *t = tu_tensor(be, (struct cu_shape){N, 1, S, S}, "t", th);
    tu_ok(cu_unet_init_he(net, 5, &err), &err, "init");
    /* non-zero biases, so that their gradients and ReLU offsets are general */
    for (int i = 1; i < cu_unet_n_params(net); i += 2) {
        const struct cu_unet_param *p = cu_unet_param(net, i);
        float b[64];
        tu_fill_uniform(b, cu_tensor_numel(p->w), &rng, -0.05f, 0.05f);
        tu_ok(cu_tensor_upload(p->w, b, &err), &err, "bias");
    }
    double l0 = loss_at(net, x, t);
    tu_ok(cu_unet_backward(net, t, CU_LOSS_BCE_DICE, &err), &err, "backward");
    const char *layers[] = {"enc1.conv1.weight", "enc2.conv1.weight", "enc3.conv2.weight", "enc4.conv1.weight",
                            "mid.conv1.weight",  "mid.conv2.bias",    "dec4.conv1.weight", "dec3.conv2.weight",
                            "dec2.conv1.weight", "dec1.conv1.weight", "dec1.conv2.bias",   "head.conv.weight",
                            "head.out.weight",   "head.out.bias",     "dec3.up.weight",    "dec1.up.bias"};
    const double eps = 1e-3;
    int checked = 0, failed = 0, kinks = 0;
    double worst = 0;
    for (size_t li = 0; li < sizeof layers / sizeof *layers; li++) {
        const struct cu_unet_param *p = cu_unet_param_find(net, layers[li]);
        if (!p)
            continue; /* dec*.up only in the transposed net */
        size_t n = cu_tensor_numel(p->w);
        float *w = tu_download(p->w), *g = tu_download(p->g);
        size_t pick[6] = {0};
        for (size_t i = 1; i < n; i++)
            if (fabsf(g[i]) > fabsf(g[pick[0]]))
                pick[0] = i;
        for (int k = 1; k < 6; k++)
            pick[k] = (size_t)(tu_rand_u64(&rng) % n);
        for (int k = 0; k < 6; k++) {
            size_t i = pick[k];
            if (k > 0 && (fabsf(g[i]) < 1e-3f || i == pick[0]))
                continue;
            double lp = loss_moved(net, x, t, p->w, w, i, eps), lm = loss_moved(net, x, t, p->w, w, i, -eps);
            double fd = (lp - lm) / (2 * eps), fwd = (lp - l0) / eps, bwd = (l0 - lm) / eps;
            double fd2 = (loss_moved(net, x, t, p->w, w, i, eps / 2) - loss_moved(net, x, t, p->w, w, i, -eps / 2)) / eps;
            if (fabs(fwd - bwd) > 0.05 * fabs(fd) + 3e-4 || fabs(fd - fd2) > 0.05 * fabs(fd) + 3e-4) {
                kinks++;
                continue;
            }
            double d = fabs(fd - g[i]);
            int ok = d <= 0.05 * fabs(g[i]) + 2e-4;
            checked++, failed += !ok;
            worst = fmax(worst, d / (fabs(g[i]) + 4e-3));
            if (!ok || k == 0)
                TU_CHECK(ok, "gradcheck %s %s[%zu]: backward %.6e, finite difference %.6e", cu_upsample_name(u),
                         layers[li], i, g[i], fd);
        }
        free(w), free(g);
    }
    TU_CHECK(failed == 0 && checked >= 20,
             "gradcheck %s S=16 c=0.125: %d weights checked, %d off, %d skipped at a kink, worst %.3g",
             cu_upsample_name(u), checked, failed, kinks, worst);
    free(xh), free(th);
    cu_tensor_free(x), cu_tensor_free(t);
    cu_unet_free(net);
}

int main(void)
{
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    test_param_counts();
    test_names();
    test_init();
    test_output_signs();
    test_train_step();
    test_batches();
    test_descent(CU_UPSAMPLE_BILINEAR);
    test_descent(CU_UPSAMPLE_TRANSPOSED);
    gradcheck(CU_UPSAMPLE_BILINEAR);
    gradcheck(CU_UPSAMPLE_TRANSPOSED);
    cu_backend_free(be);
    return tu_finish();
}
