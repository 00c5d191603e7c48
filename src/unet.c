/* unet.c: the U-Net of include/clunet/unet.h built from the ops of ops.h:
 * its tensors, forward, loss, backward and Adam step. Initialisation lives
 * in unet_init.c, model files in model_file.c. Nothing here touches host
 * data except the two loss scalars in cu_unet_train_step.
 *
 * Levels k = 0..3 are the encoder/decoder levels at S>>k pixels with f[k]
 * channels (u = the up-sampling's channels), level 4 the bottleneck.
 * The decoder's first convolution reads its input [skip enc[k][1], up[k]]
 * in place (cu_conv_forward_cat) and adds its input gradient straight into
 * g_enc[k][1] and g_up[k]: the concatenation is never stored, nor its
 * gradient. Gradients whose lifetimes in the backward pass do not overlap
 * share storage; each level k has, besides up[k] and the skip,
 *   D (2f channels): the activations dec[k][0] and dec[k][1] (views side
 *       by side), then, once the decoder's backward has applied their
 *       ReLU masks and read them, g_up[k] (u channels) and in the encoder
 *       g_pool[k-1] (at S>>k)
 *   Q (f, at level 0 at least the output channels): at level 0 first
 *       g_logits, then g_dec[k][1], then from the decoder's first
 *       convolution to the end the skip's gradient g_enc[k][1] (it must
 *       survive: pooling's gradient is added to it in the encoder)
 *   R (f, at level 0 at least the head's channels): at level 0 first
 *       g_head, then g_dec[k][0], then g_enc[k][0]
 * and the bottleneck has g_mid[1] (reused for g_pool[3]) and g_mid[0].
 * up[k] lives until the decoder's first convolution's weight gradient has
 * read it. A convolution's backward sets its input gradient, and where
 * that input is a ReLU's output and the gradient gets nothing else, also
 * applies that ReLU's mask (cu_conv_backward_ex): no passes of their own.
 * The gradients that other ops add into (the up-sampling's backward, the
 * max-pooling's) are zeroed just before, and masked after the last. */
#include "clunet/unet.h"

#include "unet_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 64
#define MAX_TENSORS 96

struct cu_unet {
    struct cu_backend *be;
    struct cu_unet_config cfg;
    int cap, f[CU_UNET_LEVELS];
    int np;
    struct cu_unet_param params[MAX_PARAMS];
    /* parameter index of each layer table row's weight (its bias is the
     * next one), -1 for a row the configuration leaves out */
    int param_of[L_ROWS];
    /* the storage of every parameter, gradient and moment (cu_unet_flat) */
    struct cu_tensor *flat[CU_UNET_BUFS];
    /* activations (batch-sized) and their gradients */
    struct cu_tensor *enc[4][2], *pool[4], *mid[2], *up[4], *dec[4][2], *head, *logits;
    struct cu_tensor *g_enc[4][2], *g_pool[4], *g_mid[2], *g_up[4], *g_dec[4][2], *g_head, *g_logits;
    struct cu_tensor *pair[4]; /* D of level k (see the file comment): dec[k][*] and g_up[k] are views of it */
    struct cu_tensor *scalars; /* (1,1,1,2): [loss, dice] */
    float loss_w[CU_LOSS_MAX_CHANNELS]; /* per output channel (cu_unet_set_loss_weights) */
    /* every batch-sized tensor, for set_batch and free; a view (is_view)
     * borrows another tensor's storage and is freed with free() alone */
    int nt;
    struct cu_tensor *batched[MAX_TENSORS];
    char is_view[MAX_TENSORS];
    const struct cu_tensor *x; /* input of the last forward (borrowed) */
};

struct cu_unet_config cu_unet_config_default(void)
{
    return (struct cu_unet_config){128, 0.5, CU_UPSAMPLE_BILINEAR, 3, 1};
}

const char *cu_upsample_name(enum cu_upsample u) { return u == CU_UPSAMPLE_TRANSPOSED ? "transposed" : "bilinear"; }

int cu_upsample_parse(const char *s)
{
    if (s && strcmp(s, "bilinear") == 0)
        return CU_UPSAMPLE_BILINEAR;
    if (s && strcmp(s, "transposed") == 0)
        return CU_UPSAMPLE_TRANSPOSED;
    return -1;
}

void cu_unet_widths(double c, int f[CU_UNET_LEVELS])
{
    /* 32*2^k is exact, so this rounds once, as Python's int(64 * c). */
    for (int k = 0; k < CU_UNET_LEVELS; k++) {
        double v = (double)(32 << k) * c;
        f[k] = isfinite(v) && v > 0 && v < 1e9 ? (int)v : 0;
    }
}

enum cu_status cu_unet_config_check(const struct cu_unet_config *cfg, struct cu_err *err)
{
    int f[CU_UNET_LEVELS];
    cu_unet_widths(cfg->channel_rate, f);
    if (cfg->image_size < 16 || cfg->image_size % 16 || cfg->image_size > 16384)
        return cu_fail(err, CU_EUSAGE, "image size %d must be a multiple of 16 between 16 and 16384",
                       cfg->image_size);
    if (f[0] < 1 || f[4] > 65536)
        return cu_fail(err, CU_EUSAGE, "channel rate %g gives widths %d..%d; it must be between 1/32 and 64",
                       cfg->channel_rate, f[0], f[4]);
    if (cfg->upsample != CU_UPSAMPLE_BILINEAR && cfg->upsample != CU_UPSAMPLE_TRANSPOSED)
        return cu_fail(err, CU_EUSAGE, "unknown up-sampling mode %d", (int)cfg->upsample);
    if (cfg->input_channels < 1 || cfg->input_channels > 64)
        return cu_fail(err, CU_EUSAGE, "input channels %d must be between 1 and 64", cfg->input_channels);
    if (cfg->output_channels < 0 || cfg->output_channels > 64)
        return cu_fail(err, CU_EUSAGE, "output channels %d must be between 1 and 64", cfg->output_channels);
    return CU_OK;
}

/* ---- building ---- */

static enum cu_status new_tensor(struct cu_unet *net, struct cu_shape s, const char *name,
                                 struct cu_tensor **out, struct cu_err *err)
{
    return cu_tensor_new(net->be, s, name, out, err);
}

/* The two parameter shapes of a layer: weight, bias. */
static void layer_shapes(const struct cu_unet_layer *l, struct cu_shape s[2])
{
    s[0] = l->kind == CU_LAYER_TCONV ? (struct cu_shape){l->cin, l->cout, 2, 2}
                                     : (struct cu_shape){l->cout, l->cin, l->k, l->k};
    s[1] = (struct cu_shape){l->cout, 1, 1, 1};
}

static size_t aligned(size_t n) { return (n + CU_UNET_PARAM_ALIGN - 1) / CU_UNET_PARAM_ALIGN * CU_UNET_PARAM_ALIGN; }

/* The layer's "<name>.weight" and "<name>.bias" with their gradients and
 * Adam moments: views at *at into the four flat buffers. */
static enum cu_status add_layer(struct cu_unet *net, const struct cu_unet_layer *l, size_t *at, struct cu_err *err)
{
    static const char *kind[2] = {"weight", "bias"};
    static const char *fmt[CU_UNET_BUFS] = {"%s", "%s.grad", "adam.m.%s", "adam.v.%s"};
    if (net->np + 2 > MAX_PARAMS)
        return cu_fail(err, CU_EUSAGE, "unet: too many parameters");
    struct cu_shape shapes[2];
    layer_shapes(l, shapes);
    net->param_of[l->row] = net->np;
    for (int j = 0; j < 2; j++) {
        struct cu_unet_param *p = &net->params[net->np++];
        struct cu_tensor **part[CU_UNET_BUFS] = {&p->w, &p->g, &p->m, &p->v};
        char name[32], vname[48];
        snprintf(name, sizeof name, "%.20s.%s", l->name, kind[j]);
        for (int b = 0; b < CU_UNET_BUFS; b++) {
            snprintf(vname, sizeof vname, fmt[b], name);
            CU_TRY(cu_tensor_view(net->flat[b], *at, shapes[j], vname, part[b], err));
        }
        *at += aligned(cu_shape_numel(shapes[j]));
    }
    return CU_OK;
}

/* A view (cap, c, s, s) named "d.<name>" on the first floats of base's
 * storage: a gradient sharing a buffer (see the file comment). */
static enum cu_status add_view(struct cu_unet *net, struct cu_tensor *base, const char *name, int c, int s,
                               struct cu_tensor **out, struct cu_err *err)
{
    if (net->nt + 1 > MAX_TENSORS)
        return cu_fail(err, CU_EUSAGE, "unet: too many activations");
    if ((size_t)c * s * s > (size_t)base->c * base->h * base->w)
        return cu_fail(err, CU_EUSAGE, "unet: gradient %s (%dx%dx%d) does not fit the buffer of %s", name, c, s, s,
                       base->name);
    struct cu_tensor *v = malloc(sizeof *v);
    if (!v)
        return cu_fail(err, CU_EDEVICE, "unet: out of host memory");
    *v = *base;
    v->n = v->cap_n = net->cap;
    v->c = c;
    v->h = v->w = s;
    snprintf(v->name, sizeof v->name, "d.%.40s", name);
    net->is_view[net->nt] = 1;
    net->batched[net->nt++] = v;
    *out = v;
    return CU_OK;
}

/* A batch-sized activation (c, s, s) and, when g is non-NULL, its gradient. */
static enum cu_status add_act(struct cu_unet *net, const char *name, int c, int s, struct cu_tensor **a,
                              struct cu_tensor **g, struct cu_err *err)
{
    if (net->nt + 2 > MAX_TENSORS)
        return cu_fail(err, CU_EUSAGE, "unet: too many activations");
    struct cu_shape sh = {net->cap, c, s, s};
    enum cu_status st = new_tensor(net, sh, name, a, err);
    if (st)
        return st;
    net->batched[net->nt++] = *a;
    if (!g)
        return CU_OK;
    char gname[48];
    snprintf(gname, sizeof gname, "d.%.40s", name);
    st = new_tensor(net, sh, gname, g, err);
    if (!st)
        net->batched[net->nt++] = *g;
    return st;
}

/* The parameters of every layer of the table, in its order, as views into
 * four flat buffers (weights, gradients, Adam m and v), each tensor at a
 * multiple of CU_UNET_PARAM_ALIGN floats: the same layout on every backend,
 * so replicas and processes can add whole gradient buffers. */
static enum cu_status build_params(struct cu_unet *net, struct cu_err *err)
{
    static const char *flat_name[CU_UNET_BUFS] = {"params", "grads", "adam.m", "adam.v"};
    struct cu_unet_layer l[CU_UNET_MAX_LAYERS];
    int n = cu_unet_layers(&net->cfg, l);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        struct cu_shape s[2];
        layer_shapes(&l[i], s);
        total += aligned(cu_shape_numel(s[0])) + aligned(cu_shape_numel(s[1]));
    }
    if (CU_UNET_PARAM_ALIGN * sizeof(float) % cu_backend_view_align(net->be))
        return cu_fail(err, CU_EDEVICE,
                       "unet: the device places buffer views at multiples of %zu bytes; clunet lays parameters out "
                       "at multiples of %zu",
                       cu_backend_view_align(net->be), CU_UNET_PARAM_ALIGN * sizeof(float));
    if (total > (size_t)1 << 31)
        return cu_fail(err, CU_EUSAGE, "unet: %zu parameters are more than one flat buffer holds", total);
    for (int b = 0; b < CU_UNET_BUFS; b++)
        CU_TRY(new_tensor(net, (struct cu_shape){1, 1, 1, (int)total}, flat_name[b], &net->flat[b], err));
    for (int r = 0; r < L_ROWS; r++)
        net->param_of[r] = -1;
    size_t at = 0;
    for (int i = 0; i < n; i++)
        CU_TRY(add_layer(net, &l[i], &at, err));
    return CU_OK;
}

/* A view (cap, c, s, s) at offset floats of level k's buffer D. */
static enum cu_status pair_view(struct cu_unet *net, int k, size_t offset, const char *name, int c, int s,
                                struct cu_tensor **out, struct cu_err *err)
{
    if (net->nt + 1 > MAX_TENSORS)
        return cu_fail(err, CU_EUSAGE, "unet: too many activations");
    CU_TRY(cu_tensor_view(net->pair[k], offset, (struct cu_shape){net->cap, c, s, s}, name, out, err));
    net->batched[net->nt++] = *out;
    return CU_OK;
}

/* A batch-sized tensor of at least c channels (c0 when larger) and its
 * name; for the buffers Q and R. */
static enum cu_status add_grad(struct cu_unet *net, const char *name, int c, int c0, int s, struct cu_tensor **out,
                               struct cu_err *err)
{
    CU_TRY(new_tensor(net, (struct cu_shape){net->cap, c0 > c ? c0 : c, s, s}, name, out, err));
    net->batched[net->nt++] = *out;
    return CU_OK;
}

/* Decoder level k's activations and its buffers D, Q, R of the file
 * comment. */
static enum cu_status build_level(struct cu_unet *net, int k, int upc, struct cu_err *err)
{
    const int *f = net->f, s = net->cfg.image_size >> k, top = k == 0;
    const size_t plane = (size_t)net->cap * s * s, align = cu_backend_view_align(net->be) / sizeof(float);
    const size_t half = (f[k] * plane + align - 1) / align * align, dec = half + f[k] * plane;
    const size_t need = dec > upc * plane ? dec : upc * plane;
    const int pair_c = (int)((need + plane - 1) / plane); /* plane = cap s s: whole (cap, c, s, s) tensor */
    char name[32];
    snprintf(name, sizeof name, "dec%d.up", k + 1);
    enum cu_status st = add_act(net, name, upc, s, &net->up[k], NULL, err);
    snprintf(name, sizeof name, "dec%d.pair", k + 1);
    if (!st)
        st = new_tensor(net, (struct cu_shape){net->cap, pair_c, s, s}, name, &net->pair[k], err);
    for (int j = 0; j < 2 && !st; j++) {
        snprintf(name, sizeof name, "dec%d.conv%d", k + 1, j + 1);
        st = pair_view(net, k, j ? half : 0, name, f[k], s, &net->dec[k][j], err);
    }
    snprintf(name, sizeof name, "d.dec%d.up", k + 1);
    if (!st)
        st = pair_view(net, k, 0, name, upc, s, &net->g_up[k], err);
    snprintf(name, sizeof name, "d.dec%d.conv2", k + 1);
    if (!st)
        st = add_grad(net, name, f[k], top ? cu_unet_output_channels(&net->cfg) : 0, s, &net->g_dec[k][1], err);
    snprintf(name, sizeof name, "d.dec%d.conv1", k + 1);
    if (!st)
        st = add_grad(net, name, f[k], top ? cu_unet_head_width(&net->cfg) : 0, s, &net->g_dec[k][0], err);
    if (!st && k > 0) {
        snprintf(name, sizeof name, "enc%d.pool", k);
        st = add_view(net, net->g_up[k], name, f[k - 1], s, &net->g_pool[k - 1], err);
    }
    net->g_enc[k][0] = net->g_dec[k][0]; /* shared: see the file comment */
    net->g_enc[k][1] = net->g_dec[k][1];
    return st;
}

static enum cu_status build_acts(struct cu_unet *net, struct cu_err *err)
{
    const int *f = net->f, S = net->cfg.image_size;
    int upc[4];
    char name[32];
    enum cu_status st = CU_OK;
    for (int k = 0; k < 4 && !st; k++) {
        upc[k] = net->cfg.upsample == CU_UPSAMPLE_TRANSPOSED ? f[k] : f[k + 1];
        snprintf(name, sizeof name, "enc%d.conv1", k + 1);
        st = add_act(net, name, f[k], S >> k, &net->enc[k][0], NULL, err);
        snprintf(name, sizeof name, "enc%d.conv2", k + 1);
        if (!st)
            st = add_act(net, name, f[k], S >> k, &net->enc[k][1], NULL, err);
        snprintf(name, sizeof name, "enc%d.pool", k + 1);
        if (!st)
            st = add_act(net, name, f[k], S >> (k + 1), &net->pool[k], NULL, err);
    }
    for (int j = 0; j < 2 && !st; j++) {
        snprintf(name, sizeof name, "mid.conv%d", j + 1);
        st = add_act(net, name, f[4], S >> 4, &net->mid[j], &net->g_mid[j], err);
    }
    if (!st)
        st = add_view(net, net->g_mid[1], "enc4.pool", f[3], S >> 4, &net->g_pool[3], err);
    for (int k = 3; k >= 0 && !st; k--)
        st = build_level(net, k, upc[k], err);
    if (!st)
        st = add_act(net, "head.conv", cu_unet_head_width(&net->cfg), S, &net->head, NULL, err);
    if (!st)
        st = add_act(net, "logits", cu_unet_output_channels(&net->cfg), S, &net->logits, NULL, err);
    if (!st)
        st = add_view(net, net->g_dec[0][1], "logits", cu_unet_output_channels(&net->cfg), S, &net->g_logits, err);
    if (!st)
        st = add_view(net, net->g_dec[0][0], "head.conv", cu_unet_head_width(&net->cfg), S, &net->g_head, err);
    if (!st)
        st = new_tensor(net, (struct cu_shape){1, 1, 1, 2}, "loss", &net->scalars, err);
    return st;
}

enum cu_status cu_unet_new(struct cu_backend *be, const struct cu_unet_config *cfg, int batch_cap,
                           struct cu_unet **out, struct cu_err *err)
{
    enum cu_status st = cu_unet_config_check(cfg, err);
    if (st)
        return st;
    if (batch_cap < 1)
        return cu_fail(err, CU_EUSAGE, "unet: batch capacity %d must be at least 1", batch_cap);
    struct cu_unet *net = calloc(1, sizeof *net);
    if (!net)
        return cu_fail(err, CU_EDEVICE, "unet: out of host memory");
    net->be = be;
    net->cfg = *cfg;
    net->cap = batch_cap;
    for (int c = 0; c < CU_LOSS_MAX_CHANNELS; c++)
        net->loss_w[c] = 1.0f;
    cu_unet_widths(cfg->channel_rate, net->f);
    st = build_params(net, err);
    if (!st)
        st = build_acts(net, err);
    if (st) {
        cu_unet_free(net);
        return st;
    }
    *out = net;
    return CU_OK;
}

void cu_unet_free(struct cu_unet *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->np; i++) { /* views first, then what they borrow */
        cu_tensor_free(net->params[i].w);
        cu_tensor_free(net->params[i].g);
        cu_tensor_free(net->params[i].m);
        cu_tensor_free(net->params[i].v);
    }
    for (int b = 0; b < CU_UNET_BUFS; b++)
        cu_tensor_free(net->flat[b]);
    for (int i = net->nt - 1; i >= 0; i--) { /* a view after its base in the list */
        if (net->is_view[i])
            free(net->batched[i]);
        else
            cu_tensor_free(net->batched[i]);
    }
    for (int k = 0; k < 4; k++)
        cu_tensor_free(net->pair[k]);
    cu_tensor_free(net->scalars);
    free(net);
}

const struct cu_unet_config *cu_unet_config(const struct cu_unet *net) { return &net->cfg; }
struct cu_backend *cu_unet_backend(const struct cu_unet *net) { return net->be; }
int cu_unet_batch_cap(const struct cu_unet *net) { return net->cap; }
int cu_unet_n_params(const struct cu_unet *net) { return net->np; }
struct cu_tensor *cu_unet_flat(const struct cu_unet *net, enum cu_unet_buf which) { return net->flat[which]; }

const struct cu_unet_param *cu_unet_param(const struct cu_unet *net, int i)
{
    return i >= 0 && i < net->np ? &net->params[i] : NULL;
}

const struct cu_unet_param *cu_unet_param_find(const struct cu_unet *net, const char *name)
{
    for (int i = 0; i < net->np; i++)
        if (strcmp(net->params[i].w->name, name) == 0)
            return &net->params[i];
    return NULL;
}

long long cu_unet_param_total(const struct cu_unet *net)
{
    long long n = 0;
    for (int i = 0; i < net->np; i++)
        n += (long long)cu_tensor_numel(net->params[i].w);
    return n;
}

void cu_unet_set_loss_weights(struct cu_unet *net, const float *w)
{
    for (int c = 0; c < CU_LOSS_MAX_CHANNELS; c++)
        net->loss_w[c] = w && c < cu_unet_output_channels(&net->cfg) ? w[c] : 1.0f;
}

/* ---- forward ---- */

/* The weight and bias of a row of the layer table, and their gradients. */
static struct cu_tensor *weight(struct cu_unet *net, int row) { return net->params[net->param_of[row]].w; }
static struct cu_tensor *bias(struct cu_unet *net, int row) { return net->params[net->param_of[row] + 1].w; }
static struct cu_tensor *weight_grad(struct cu_unet *net, int row) { return net->params[net->param_of[row]].g; }
static struct cu_tensor *bias_grad(struct cu_unet *net, int row) { return net->params[net->param_of[row] + 1].g; }

static enum cu_status set_batch(struct cu_unet *net, int n, struct cu_err *err)
{
    if (net->logits->n == n)
        return CU_OK;
    for (int i = 0; i < net->nt; i++) {
        enum cu_status st = cu_tensor_set_batch(net->batched[i], n, err);
        if (st)
            return st;
    }
    return CU_OK;
}

static enum cu_status conv(struct cu_unet *net, struct cu_tensor *y, const struct cu_tensor *x, int layer,
                           enum cu_act act, struct cu_err *err)
{
    return cu_conv_forward(net->be, y, x, weight(net, layer), bias(net, layer), act, err);
}

enum cu_status cu_unet_forward(struct cu_unet *net, const struct cu_tensor *x, struct cu_tensor **logits,
                               struct cu_err *err)
{
    const int S = net->cfg.image_size;
    if (x->c != net->cfg.input_channels || x->h != S || x->w != S || x->n < 1 || x->n > net->cap)
        return cu_fail(err, CU_EUSAGE, "unet forward: input %s is %dx%dx%dx%d, expected Nx%dx%dx%d with N <= %d",
                       x->name, x->n, x->c, x->h, x->w, net->cfg.input_channels, S, S, net->cap);
    struct cu_backend *be = net->be;
    CU_TRY(set_batch(net, x->n, err));
    net->x = x;
    const struct cu_tensor *in = x;
    for (int k = 0; k < 4; k++) {
        CU_TRY(conv(net, net->enc[k][0], in, L_ENC(k, 0), CU_ACT_RELU, err));
        CU_TRY(conv(net, net->enc[k][1], net->enc[k][0], L_ENC(k, 1), CU_ACT_RELU, err));
        CU_TRY(cu_maxpool_forward(be, net->pool[k], net->enc[k][1], err));
        in = net->pool[k];
    }
    CU_TRY(conv(net, net->mid[0], in, L_MID(0), CU_ACT_RELU, err));
    CU_TRY(conv(net, net->mid[1], net->mid[0], L_MID(1), CU_ACT_RELU, err));
    in = net->mid[1];
    for (int k = 3; k >= 0; k--) {
        if (net->cfg.upsample == CU_UPSAMPLE_TRANSPOSED)
            CU_TRY(cu_tconv_forward(be, net->up[k], in, weight(net, L_DEC_UP(k)), bias(net, L_DEC_UP(k)), err));
        else
            CU_TRY(cu_upsample_forward(be, net->up[k], in, err));
        CU_TRY(cu_conv_forward_cat(be, net->dec[k][0], net->enc[k][1], net->up[k], weight(net, L_DEC(k, 0)),
                                   bias(net, L_DEC(k, 0)), CU_ACT_RELU, err));
        CU_TRY(conv(net, net->dec[k][1], net->dec[k][0], L_DEC(k, 1), CU_ACT_RELU, err));
        in = net->dec[k][1];
    }
    CU_TRY(conv(net, net->head, in, L_HEAD_CONV, CU_ACT_RELU, err));
    CU_TRY(conv(net, net->logits, net->head, L_HEAD_OUT, CU_ACT_NONE, err));
    if (logits)
        *logits = net->logits;
    return CU_OK;
}

enum cu_status cu_unet_loss(struct cu_unet *net, const struct cu_tensor *t, enum cu_loss kind,
                            struct cu_tensor **scalars, struct cu_err *err)
{
    if (!net->x)
        return cu_fail(err, CU_EUSAGE, "unet loss: no forward pass yet");
    CU_TRY(cu_loss_forward_w(net->be, net->scalars, net->logits, t, kind, net->loss_w, err));
    if (scalars)
        *scalars = net->scalars;
    return CU_OK;
}

/* ---- backward ---- */

/* Layer backward: dy, already the gradient before the layer's own ReLU,
 * -> dx (NULL for none) as mode says: CU_DX_SET_RELU when x is a ReLU's
 * output, so that dx is already the gradient before that ReLU
 * (cu_conv_backward_ex), CU_DX_SET otherwise: no pass of its own to zero
 * dx or to mask it. The layer's parameter gradients add (+=). */
static enum cu_status conv_back(struct cu_unet *net, struct cu_tensor *dx, const struct cu_tensor *dy,
                                const struct cu_tensor *x, int layer, enum cu_dx_mode mode, struct cu_err *err)
{
    return cu_conv_backward_ex(net->be, dx, NULL, weight_grad(net, layer), bias_grad(net, layer), dy, x, NULL,
                               weight(net, layer), dx ? mode : CU_DX_ADD, err);
}

/* The gradients that several ops add into (the up-sampling's, the skip's)
 * get their ReLU's mask in a pass of its own, after the last of them. */
static enum cu_status decoder_back(struct cu_unet *net, struct cu_err *err)
{
    struct cu_backend *be = net->be;
    for (int k = 0; k < 4; k++) {
        if (k > 0) /* level 0's came through head.conv's backward, masked */
            CU_TRY(cu_relu_backward(be, net->g_dec[k][1], net->dec[k][1], err));
        CU_TRY(conv_back(net, net->g_dec[k][0], net->g_dec[k][1], net->dec[k][0], L_DEC(k, 1), CU_DX_SET_RELU, err));
        /* the first convolution's input gradient, straight into the skip's and the up-sampling's (set: the
         * maxpool's backward adds to the skip's later) */
        const int l = L_DEC(k, 0);
        CU_TRY(cu_conv_backward_ex(be, net->g_enc[k][1], net->g_up[k], weight_grad(net, l), bias_grad(net, l),
                                   net->g_dec[k][0], net->enc[k][1], net->up[k], weight(net, l), CU_DX_SET, err));
        struct cu_tensor *prev = k < 3 ? net->dec[k + 1][1] : net->mid[1];
        struct cu_tensor *g_prev = k < 3 ? net->g_dec[k + 1][1] : net->g_mid[1];
        CU_TRY(cu_tensor_zero(g_prev, err));
        if (net->cfg.upsample == CU_UPSAMPLE_TRANSPOSED) {
            int u = L_DEC_UP(k);
            CU_TRY(cu_tconv_backward(be, g_prev, weight_grad(net, u), bias_grad(net, u), net->g_up[k], prev,
                                  weight(net, u), err));
        } else {
            CU_TRY(cu_upsample_backward(be, g_prev, net->g_up[k], err));
        }
    }
    return CU_OK;
}

static enum cu_status encoder_back(struct cu_unet *net, struct cu_err *err)
{
    struct cu_backend *be = net->be;
    CU_TRY(cu_relu_backward(be, net->g_mid[1], net->mid[1], err));
    CU_TRY(conv_back(net, net->g_mid[0], net->g_mid[1], net->mid[0], L_MID(1), CU_DX_SET_RELU, err));
    CU_TRY(conv_back(net, net->g_pool[3], net->g_mid[0], net->pool[3], L_MID(0), CU_DX_SET, err));
    for (int k = 3; k >= 0; k--) {
        /* the skip's gradient (from the decoder) plus pooling's, then its ReLU */
        CU_TRY(cu_maxpool_backward(be, net->g_enc[k][1], net->g_pool[k], net->enc[k][1], err));
        CU_TRY(cu_relu_backward(be, net->g_enc[k][1], net->enc[k][1], err));
        CU_TRY(conv_back(net, net->g_enc[k][0], net->g_enc[k][1], net->enc[k][0], L_ENC(k, 1), CU_DX_SET_RELU, err));
        const struct cu_tensor *in = k > 0 ? net->pool[k - 1] : net->x;
        CU_TRY(conv_back(net, k > 0 ? net->g_pool[k - 1] : NULL, net->g_enc[k][0], in, L_ENC(k, 0), CU_DX_SET, err));
    }
    return CU_OK;
}

enum cu_status cu_unet_backward(struct cu_unet *net, const struct cu_tensor *t, enum cu_loss kind,
                                struct cu_err *err)
{
    if (!net->x)
        return cu_fail(err, CU_EUSAGE, "unet backward: no forward pass to differentiate (none yet, or predict replaced the logits)");
    CU_TRY(cu_tensor_zero(net->flat[CU_UNET_GRADS], err));
    CU_TRY(cu_tensor_zero(net->g_logits, err));
    CU_TRY(cu_loss_backward_w(net->be, net->g_logits, net->logits, t, kind, net->loss_w, err));
    CU_TRY(conv_back(net, net->g_head, net->g_logits, net->head, L_HEAD_OUT, CU_DX_SET_RELU, err));
    CU_TRY(conv_back(net, net->g_dec[0][1], net->g_head, net->dec[0][1], L_HEAD_CONV, CU_DX_SET_RELU, err));
    CU_TRY(decoder_back(net, err));
    return encoder_back(net, err);
}

enum cu_status cu_unet_adam_step(struct cu_unet *net, const struct cu_adam *hp, long step, struct cu_err *err)
{
    /* one update over the flat buffers: Adam is element-wise, and the
     * padding between tensors stays zero (zero gradient, zero moments) */
    struct cu_tensor *const *f = net->flat;
    return cu_adam_update(net->be, f[CU_UNET_WEIGHTS], f[CU_UNET_GRADS], f[CU_UNET_ADAM_M], f[CU_UNET_ADAM_V], hp, step,
                          err);
}

enum cu_status cu_unet_train_step(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t,
                                  enum cu_loss kind, const struct cu_adam *hp, long step, float out[2],
                                  struct cu_err *err)
{
    struct cu_tensor *scalars = NULL;
    CU_TRY(cu_unet_forward(net, x, NULL, err));
    CU_TRY(cu_unet_loss(net, t, kind, &scalars, err));
    CU_TRY(cu_unet_backward(net, t, kind, err));
    CU_TRY(cu_unet_adam_step(net, hp, step, err));
    return out ? cu_tensor_download(scalars, out, err) : CU_OK;
}

enum cu_status cu_unet_eval_step(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t,
                                 enum cu_loss kind, float out[2], struct cu_err *err)
{
    struct cu_tensor *scalars = NULL;
    CU_TRY(cu_unet_forward(net, x, NULL, err));
    CU_TRY(cu_unet_loss(net, t, kind, &scalars, err));
    return cu_tensor_download(scalars, out, err);
}

enum cu_status cu_unet_predict(struct cu_unet *net, const struct cu_tensor *x, struct cu_tensor **prob,
                               struct cu_err *err)
{
    CU_TRY(cu_unet_forward(net, x, NULL, err));
    CU_TRY(cu_sigmoid_forward(net->be, net->logits, net->logits, err));
    net->x = NULL; /* no backward from here */
    *prob = net->logits;
    return CU_OK;
}
