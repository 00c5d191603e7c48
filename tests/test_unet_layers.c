/* test_unet_layers.c: the network's layer table (cu_unet_layers) is the
 * one description the rest derives from. For both up-sampling modes, three
 * channel rates and 1 and 3 input channels:
 *   - the built net's parameters are exactly the table's layers, in order,
 *     named "<layer>.weight"/".bias", with the table's shapes;
 *   - cu_unet_param_count and the built net's float count both equal the
 *     sum of the layers' counts;
 *   - the FLOPs of `clunet bench`'s layer list (cu_bench_layers) sum to the
 *     network's forward FLOPs times the batch, and its layers are the
 *     table's (names, channels, sides);
 *   - each layer's input names a tensor an earlier layer or the data makes.
 * All integer arithmetic in doubles below 2^53: compared exactly.
 * Also the output-channel parameter: 0 and 1 build the same network; 3
 * gives head.out (3, 2, 1, 1) and logits of 3 channels, 6 more floats, and
 * every output channel's two weights start with opposite signs. And the
 * flat parameter, gradient and moment buffers' layout (check_flat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/bench.h"
#include "clunet/ops.h"
#include "clunet/unet.h"
#include "testutil.h"

static struct cu_backend *be;

/* A tensor some layer's input may name: the data, a layer's output, or the
 * pooling / concat that follows a level. */
static int known_input(const char *in, const struct cu_unet_layer *l, int upto)
{
    if (!strcmp(in, "input"))
        return 1;
    for (int i = 0; i < upto; i++)
        if (!strcmp(in, l[i].name))
            return 1;
    char name[32];
    for (int k = 1; k <= 4; k++) {
        snprintf(name, sizeof name, "enc%d.pool", k);
        if (!strcmp(in, name))
            return 1;
        snprintf(name, sizeof name, "dec%d.cat", k);
        if (!strcmp(in, name))
            return 1;
    }
    return 0;
}

static void check_config(const struct cu_unet_config *cfg)
{
    char what[96];
    snprintf(what, sizeof what, "S=%d c=%g %s in=%d out=%d", cfg->image_size, cfg->channel_rate,
             cu_upsample_name(cfg->upsample), cfg->input_channels, cu_unet_output_channels(cfg));
    struct cu_unet_layer l[CU_UNET_MAX_LAYERS];
    int n = cu_unet_layers(cfg, l);
    TU_CHECK(n == (cfg->upsample == CU_UPSAMPLE_TRANSPOSED ? 24 : 20), "%s: %d layers", what, n);
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_unet_new(be, cfg, 1, &net, &err), &err, what))
        return;
    long long sum = 0;
    double flops = 0;
    int names_ok = cu_unet_n_params(net) == 2 * n, shapes_ok = 1, inputs_ok = 1;
    for (int i = 0; i < n && names_ok; i++) {
        const struct cu_tensor *w = cu_unet_param(net, 2 * i)->w, *b = cu_unet_param(net, 2 * i + 1)->w;
        char wn[48], bn[48];
        snprintf(wn, sizeof wn, "%s.weight", l[i].name);
        snprintf(bn, sizeof bn, "%s.bias", l[i].name);
        names_ok &= !strcmp(w->name, wn) && !strcmp(b->name, bn);
        int tr = l[i].kind == CU_LAYER_TCONV;
        shapes_ok &= w->n == (tr ? l[i].cin : l[i].cout) && w->c == (tr ? l[i].cout : l[i].cin) &&
                     w->h == l[i].k && w->w == l[i].k && b->n == l[i].cout && b->c == 1;
        shapes_ok &= (long long)(cu_tensor_numel(w) + cu_tensor_numel(b)) == l[i].params;
        inputs_ok &= known_input(l[i].input, l, i);
        sum += l[i].params;
        flops += l[i].flops;
    }
    TU_CHECK(names_ok, "%s: parameters are the table's layers in order", what);
    TU_CHECK(shapes_ok, "%s: parameter shapes and counts are the table's", what);
    TU_CHECK(inputs_ok, "%s: every layer's input is the data or made before it", what);
    TU_CHECK(sum == cu_unet_param_count(cfg) && sum == cu_unet_param_total(net),
             "%s: %lld learned floats (count %lld, built %lld)", what, sum, cu_unet_param_count(cfg),
             cu_unet_param_total(net));
    TU_CHECK(flops == cu_unet_forward_flops(cfg), "%s: forward FLOPs %.0f are the layers' sum", what, flops);
    const int batch = 5;
    struct cu_bench_result *r = calloc(1, sizeof *r);
    cu_bench_layers(cfg, batch, r);
    double bench = 0;
    int same = r->nlayers == n;
    for (int i = 0; i < r->nlayers && same; i++) {
        bench += r->layer[i].fwd_flop;
        same &= !strcmp(r->layer[i].name, l[i].name) && r->layer[i].cin == l[i].cin &&
                r->layer[i].cout == l[i].cout && r->layer[i].side == l[i].side;
    }
    TU_CHECK(same, "%s: bench lists the table's %d layers", what, r->nlayers);
    TU_CHECK(bench == cu_unet_forward_flops(cfg) * batch, "%s: bench's layer FLOPs sum to the network's (%.0f = %.0f)",
             what, bench, cu_unet_forward_flops(cfg) * batch);
    free(r);
    cu_unet_free(net);
}

static void check_outputs(void)
{
    struct cu_unet_config c0 = {32, 0.125, CU_UPSAMPLE_BILINEAR, 3, 0}, c1 = c0, c3 = c0;
    c1.output_channels = 1;
    c3.output_channels = 3;
    TU_CHECK(cu_unet_param_count(&c0) == cu_unet_param_count(&c1), "output_channels 0 is 1");
    /* more than one output widens head.conv from 2 to f[0] channels (unet.h) */
    const long long f0 = 4; /* int(32 * 0.125) */
    long long head1 = (f0 * 2 * 9 + 2) + (2 * 1 + 1), head3 = (f0 * f0 * 9 + f0) + (f0 * 3 + 3);
    TU_CHECK(cu_unet_param_count(&c3) == cu_unet_param_count(&c1) - head1 + head3 && cu_unet_head_width(&c3) == f0 &&
                 cu_unet_head_width(&c1) == 2,
             "3 outputs: head.conv f[0] wide, head.out 3 x f[0] weights and 3 biases");
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_unet_new(be, &c3, 2, &net, &err), &err, "3-output net"))
        return;
    const struct cu_tensor *w = cu_unet_param_find(net, "head.out.weight")->w;
    TU_CHECK(w->n == 3 && w->c == f0 && w->h == 1, "head.out.weight is (3, f[0], 1, 1)");
    tu_ok(cu_unet_init_he(net, 42, &err), &err, "init");
    float *h = tu_download(w);
    TU_CHECK(h[0] < 0 && h[1] > 0 && h[2] < 0 && h[3] > 0 && h[4] < 0 && h[5] > 0,
             "each output's two weights start negative, positive");
    free(h);
    float *x = calloc(2 * 3 * 32 * 32, sizeof *x);
    struct cu_tensor *xt = tu_tensor(be, (struct cu_shape){2, 3, 32, 32}, "x", x), *logits = NULL;
    if (tu_ok(cu_unet_forward(net, xt, &logits, &err), &err, "forward"))
        TU_CHECK(logits->n == 2 && logits->c == 3 && logits->h == 32, "logits are 2x3x32x32");
    cu_tensor_free(xt);
    free(x);
    cu_unet_free(net);
    struct cu_unet_config bad = c0;
    bad.output_channels = 65;
    cu_err_clear(&err);
    TU_CHECK(cu_unet_config_check(&bad, &err) == CU_EUSAGE, "65 outputs refused: %s", err.msg);
}

/* The four flat buffers after a training step: parameter i's weights,
 * gradient and moments sit at the documented offsets (parameter order, each
 * at a multiple of CU_UNET_PARAM_ALIGN floats) and the gaps are zero. */
static void check_flat(void)
{
    struct cu_unet_config cfg = {32, 0.125, CU_UPSAMPLE_TRANSPOSED, 3, 1};
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_unet_new(be, &cfg, 2, &net, &err), &err, "net") ||
        !tu_ok(cu_unet_init_he(net, 3, &err), &err, "init"))
        return;
    float *x = malloc(2 * 3 * 32 * 32 * sizeof *x), *t = malloc(2 * 32 * 32 * sizeof *t);
    uint64_t rng = 5;
    tu_fill_uniform(x, 2 * 3 * 32 * 32, &rng, 0, 1);
    for (int i = 0; i < 2 * 32 * 32; i++)
        t[i] = x[i] > 0.5f;
    struct cu_tensor *xt = tu_tensor(be, (struct cu_shape){2, 3, 32, 32}, "x", x);
    struct cu_tensor *tt = tu_tensor(be, (struct cu_shape){2, 1, 32, 32}, "t", t);
    const struct cu_adam hp = CU_ADAM_DEFAULTS;
    tu_ok(cu_unet_train_step(net, xt, tt, CU_LOSS_BCE, &hp, 1, NULL, &err), &err, "train step");
    for (int b = 0; b < CU_UNET_BUFS; b++) {
        const struct cu_tensor *flat = cu_unet_flat(net, (enum cu_unet_buf)b);
        float *all = tu_download(flat);
        size_t at = 0, total = cu_tensor_numel(flat), nonzero_gap = 0, nonzero = 0;
        int same = 1, views = 1;
        char *used = calloc(total, 1);
        for (int i = 0; i < cu_unet_n_params(net); i++) {
            const struct cu_unet_param *p = cu_unet_param(net, i);
            const struct cu_tensor *v = b == 0 ? p->w : b == 1 ? p->g : b == 2 ? p->m : p->v;
            float *h = tu_download(v);
            size_t n = cu_tensor_numel(v);
            same &= at + n <= total && !memcmp(h, all + at, n * sizeof *h);
            views &= v->base == flat;
            for (size_t j = 0; j < n && at + j < total; j++) {
                used[at + j] = 1;
                nonzero += h[j] != 0;
            }
            free(h);
            at += (n + CU_UNET_PARAM_ALIGN - 1) / CU_UNET_PARAM_ALIGN * CU_UNET_PARAM_ALIGN;
        }
        for (size_t j = 0; j < total; j++)
            nonzero_gap += !used[j] && all[j] != 0;
        TU_CHECK(views && same && at == total, "flat buffer %d: every tensor a view at its offset (%zu floats)", b,
                 total);
        TU_CHECK(nonzero > 0 && nonzero_gap == 0, "flat buffer %d: %zu values set, gaps zero (%zu not)", b, nonzero,
                 nonzero_gap);
        free(used);
        free(all);
    }
    cu_tensor_free(xt);
    cu_tensor_free(tt);
    free(x);
    free(t);
    cu_unet_free(net);
}

int main(void)
{
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    const double rates[] = {0.125, 0.5, 1};
    for (int u = 0; u < 2; u++)
        for (int i = 0; i < 3; i++)
            for (int in = 1; in <= 3; in += 2) {
                struct cu_unet_config cfg = {32, rates[i], (enum cu_upsample)u, in, 0};
                check_config(&cfg);
            }
    check_outputs();
    check_flat();
    cu_backend_free(be);
    return tu_finish();
}
