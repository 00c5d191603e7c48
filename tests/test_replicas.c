/* test_replicas.c: data parallelism inside one process (replicas.h) does
 * not depend on how many devices share a batch: on PoCL's CPU device
 * listed twice ("cpu,cpu") and on ref + cl ("ref,cpu"), 2 replicas x 8
 * images give the gradient and, after 3 Adam steps, the weights of 1
 * replica x 16 (S=32, c=0.25, bce, same He init and data). Also: an odd
 * batch (15 = 7 + 8), where weighting each replica's gradient by 1/K
 * instead of n_r/N would be wrong, and we show that this error is far
 * outside the tolerance; a batch of 1 over 2 replicas (one gets nothing);
 * the replicas of a group stay bit-identical; a step moves the gradient as
 * one flat buffer each way; device lists parse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/replicas.h"
#include "testutil.h"

#define S 32
#define IMG (3 * S * S)
#define MSK (S * S)
#define STEPS 3

static struct cu_unet_config cfg = {S, 0.25, CU_UPSAMPLE_BILINEAR, 3, 1};

/* Images: uniform noise plus a bright disc; targets: the disc. */
static void make_data(float *x, float *t, int n, uint64_t seed)
{
    uint64_t rng = seed;
    for (int i = 0; i < n; i++) {
        float cx = tu_rand_uniform(&rng, 6, S - 6), cy = tu_rand_uniform(&rng, 6, S - 6);
        float r = tu_rand_uniform(&rng, 3, 8);
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++) {
                int in = (xx - cx) * (xx - cx) + (y - cy) * (y - cy) < r * r;
                t[(size_t)i * MSK + y * S + xx] = (float)in;
                for (int c = 0; c < 3; c++)
                    x[(size_t)i * IMG + (size_t)c * MSK + y * S + xx] =
                        0.4f * tu_rand_uniform(&rng, 0, 1) + (in ? 0.5f : 0.0f);
            }
    }
}

/* Every parameter's weights (which = 0) or gradient (1) of net, in order. */
static float *gather(const struct cu_unet *net, int which, size_t *numel)
{
    size_t total = (size_t)cu_unet_param_total(net), at = 0;
    float *all = malloc(total * sizeof *all);
    for (int i = 0; i < cu_unet_n_params(net); i++) {
        const struct cu_unet_param *p = cu_unet_param(net, i);
        float *h = tu_download(which ? p->g : p->w);
        size_t n = cu_tensor_numel(p->w);
        memcpy(all + at, h, n * sizeof *h);
        free(h);
        at += n;
    }
    *numel = total;
    return all;
}

struct result {
    float *grad1;   /* replica 0's gradient after step 1 (the summed one) */
    float *weights; /* replica 0's weights after the last step */
    size_t numel;
    double loss1;   /* reported loss of step 1 */
    int replicas_equal; /* every replica's weights bit-identical to replica 0's */
    int transfers;      /* host<->device transfers of replica 0 in step 2 (-1: not measured) */
    int steps;
    char backends[32];  /* "ref+cl" */
};

/* steps Adam steps of n images each (x, t: steps * n images) on the devices
 * of list; NULL members of res on failure. */
static void train(const char *list, const float *x, const float *t, int n, int steps, struct result *res)
{
    struct cu_err err = {0};
    char **specs = NULL;
    int k = 0;
    struct cu_replicas *r = NULL;
    memset(res, 0, sizeof *res);
    if (!tu_ok(cu_device_list_parse(list, &specs, &k, &err), &err, list))
        return;
    int ok = tu_ok(cu_replicas_open(specs, k, NULL, &r, &err), &err, "open") &&
             tu_ok(cu_replicas_build(r, &cfg, n, &err), &err, "build") &&
             tu_ok(cu_replicas_init_he(r, 1, &err), &err, "init");
    const struct cu_adam hp = CU_ADAM_DEFAULTS;
    res->transfers = -1;
    for (int s = 0; ok && s < steps; s++) {
        double out[2];
        struct cu_backend_stats before, after;
        cu_backend_stats(cu_replicas_backend(r, 0), &before);
        ok = tu_ok(cu_replicas_train_step(r, x + (size_t)s * n * IMG, t + (size_t)s * n * MSK, n, n,
                                          CU_LOSS_BCE, &hp, s + 1, out, &err),
                   &err, "step");
        cu_backend_stats(cu_replicas_backend(r, 0), &after);
        if (s == 1)
            res->transfers = (int)(after.uploads - before.uploads + after.downloads - before.downloads);
        if (ok && s == 0) {
            res->loss1 = out[0];
            res->grad1 = gather(cu_replicas_net(r, 0), 1, &res->numel);
        }
    }
    for (int i = 0; ok && i < k; i++) {
        size_t len = strlen(res->backends);
        snprintf(res->backends + len, sizeof res->backends - len, "%s%s", i ? "+" : "",
                 cu_backend_name(cu_replicas_backend(r, i)));
    }
    res->steps = steps;
    if (ok) {
        res->weights = gather(cu_replicas_net(r, 0), 0, &res->numel);
        res->replicas_equal = 1;
        for (int i = 1; i < k; i++) {
            size_t m;
            float *w = gather(cu_replicas_net(r, i), 0, &m);
            res->replicas_equal &= !memcmp(w, res->weights, m * sizeof *w);
            free(w);
        }
    }
    cu_replicas_free(r);
    cu_device_list_free(specs, k);
}

static void result_free(struct result *r)
{
    free(r->grad1);
    free(r->weights);
}

/* max |a - b| / max |b|: the error relative to the tensor's scale, not to
 * each element (single elements of a gradient can be sums that cancel). */
static double scaled_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return den > 0 ? num / den : num;
}

/* Tolerances. Gradient: the two halves of a batch are summed in another
 * order than one GEMM over all of it, and ref and cl differ by ~1e-6
 * relative per op, compounded over ~40 layers: 1e-5 of the largest
 * gradient element (measured ~1e-7). Weights
 * after 3 Adam steps: Adam divides by sqrt(v), so an element whose
 * gradient is ~0 (a sum that cancels) can turn a 1e-7 rounding difference
 * into a different step of up to lr (1e-3); allow 2e-4 absolute (a fifth
 * of one step), far below the 3e-3 three steps move a weight. */
#define TOL_GRAD 1e-5
#define TOL_W 2e-4

static void compare(const char *what, const struct result *a, const struct result *ref)
{
    if (!a->weights || !ref->weights) {
        TU_CHECK(0, "%s: both runs finished", what);
        return;
    }
    double eg = scaled_err(a->grad1, ref->grad1, ref->numel);
    double ew = tu_max_abs_err(a->weights, ref->weights, ref->numel);
    TU_CHECK(eg <= TOL_GRAD, "%s (%s): step-1 gradient within %g of the 1-replica one (max err / max |g| = %.2e)",
             what, a->backends, TOL_GRAD, eg);
    TU_CHECK(ew <= TOL_W, "%s (%s): weights after %d steps within %g (max abs diff %.2e)", what, a->backends,
             a->steps, TOL_W, ew);
    TU_CHECK(fabs(a->loss1 - ref->loss1) <= 1e-5 * fabs(ref->loss1),
             "%s: reported step-1 loss %.7f vs %.7f (1e-5 relative)", what, a->loss1, ref->loss1);
}

static void check_lists(void)
{
    struct cu_err err = {0};
    char **specs = NULL;
    int k = 0;
    int ok = cu_device_list_parse("ref, 0:0,cpu", &specs, &k, &err) == CU_OK;
    TU_CHECK(ok && k == 3 && !strcmp(specs[0], "ref") && !strcmp(specs[1], "0:0") && !strcmp(specs[2], "0:0"),
             "\"ref, 0:0,cpu\" -> ref, 0:0, 0:0 (cpu = every CPU device: PoCL's one)");
    cu_device_list_free(specs, k);
    cu_err_clear(&err);
    TU_CHECK(cu_device_list_parse("0:0,,ref", &specs, &k, &err) == CU_EUSAGE && strstr(err.msg, "empty"),
             "an empty entry is a usage error: %s", err.msg);
    cu_err_clear(&err);
    TU_CHECK(cu_device_list_parse("accelerator", &specs, &k, &err) == CU_EUSAGE,
             "a type with no device is a usage error, as an unknown --device: %s", err.msg);
    int off[3], len[3];
    for (int i = 0; i < 3; i++)
        cu_split(16, 3, i, &off[i], &len[i]);
    TU_CHECK(off[0] == 0 && len[0] == 5 && off[1] == 5 && len[1] == 5 && off[2] == 10 && len[2] == 6,
             "16 over 3: 5, 5, 6 contiguous");
}

int main(void)
{
    check_lists();
    const int N = 16;
    float *x = malloc((size_t)STEPS * N * IMG * sizeof *x), *t = malloc((size_t)STEPS * N * MSK * sizeof *t);
    make_data(x, t, STEPS * N, 7);

    struct result one, two, mixed;
    train("cpu", x, t, N, STEPS, &one);
    train("cpu,cpu", x, t, N, STEPS, &two);
    train("ref,cpu", x, t, N, STEPS, &mixed);
    compare("cpu,cpu 2 x 8 vs cpu 1 x 16", &two, &one);
    compare("ref,cpu 2 x 8 vs cpu 1 x 16", &mixed, &one);
    TU_CHECK(two.replicas_equal, "cpu,cpu: both replicas hold bit-identical weights after %d steps", STEPS);
    /* images, targets, the gradient down and the sum up (one transfer each
     * of the flat buffer, not one per tensor), the loss scalars */
    TU_CHECK(two.transfers == 5 && mixed.transfers == 5, "a step moves 5 buffers per replica (cpu,cpu %d, ref,cpu %d)",
             two.transfers, mixed.transfers);

    /* 15 = 7 + 8: each replica's gradient must weigh n_r / 15. */
    struct result odd1, odd2, a7, b8;
    train("cpu", x, t, 15, 1, &odd1);
    train("cpu,cpu", x, t, 15, 1, &odd2);
    if (odd1.grad1 && odd2.grad1) {
        double e = scaled_err(odd2.grad1, odd1.grad1, odd1.numel);
        TU_CHECK(e <= TOL_GRAD, "15 = 7 + 8 on cpu,cpu: gradient within %g of 1 x 15 (%.2e)", TOL_GRAD, e);
    }
    train("cpu", x, t, 7, 1, &a7);
    train("cpu", x + 7 * IMG, t + 7 * MSK, 8, 1, &b8);
    if (a7.grad1 && b8.grad1 && odd1.grad1) {
        float *wrong = malloc(odd1.numel * sizeof *wrong);
        for (size_t i = 0; i < odd1.numel; i++)
            wrong[i] = 0.5f * a7.grad1[i] + 0.5f * b8.grad1[i];
        double e = scaled_err(wrong, odd1.grad1, odd1.numel);
        TU_CHECK(e > 10 * TOL_GRAD, "weights 1/2 instead of 7/15, 8/15 would miss by %.2e (> 10 x the tolerance)",
                 e);
        free(wrong);
    }

    /* A batch of one over two replicas: replica 0 gets nothing. */
    struct result b1one, b1two;
    train("cpu", x, t, 1, 2, &b1one);
    train("cpu,cpu", x, t, 1, 2, &b1two);
    compare("1 image over cpu,cpu vs cpu", &b1two, &b1one);
    TU_CHECK(b1two.replicas_equal, "the replica without images still applied the same update");

    struct result *all[] = {&one, &two, &mixed, &odd1, &odd2, &a7, &b8, &b1one, &b1two};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        result_free(all[i]);
    free(x);
    free(t);
    return tu_finish();
}
