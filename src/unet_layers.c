/* unet_layers.c: the U-Net's learned layers, written once. Every other
 * description of the network derives from this table: the parameters the
 * builder makes and their names (unet.c), the parameter and FLOP counts
 * (below) and `clunet bench`'s per-layer list (bench.c). The forward and
 * backward passes in unet.c walk the same rows by name (unet_layers.h).
 *
 * Widths are symbolic, resolved for a configuration: f[k] = int(32c 2^k)
 * (cu_unet_widths), "cat" = the decoder concat [skip f[k], up-sampled],
 * whose up-sampled part is f[k] after a transposed convolution and f[k+1]
 * after bilinear up-sampling. */
#include "clunet/unet.h"

#include "unet_layers.h"

#include <stddef.h>

enum width { W_IN, W_F, W_CAT, W_2, W_OUT };

struct row {
    const char *name;
    enum cu_layer_kind kind;
    int k;                 /* kernel side */
    int level;             /* output at S >> level */
    enum width cin;        /* with cin_level for W_F and W_CAT */
    int cin_level;
    enum width cout;
    int cout_level;
    enum cu_act act;
    const char *input;     /* the tensor that feeds it */
};

#define CONV3(name, lvl, ci, cil, co, col, in) {name, CU_LAYER_CONV, 3, lvl, ci, cil, co, col, CU_ACT_RELU, in}
#define UP(name, lvl, in) {name, CU_LAYER_TCONV, 2, lvl, W_F, (lvl) + 1, W_F, lvl, CU_ACT_NONE, in}

static const struct row table[L_ROWS] = {
    /*                  name          level cin        cout       input */
    [L_ENC1_CONV1] = CONV3("enc1.conv1", 0, W_IN, 0,  W_F, 0, "input"),
    [L_ENC1_CONV2] = CONV3("enc1.conv2", 0, W_F, 0,   W_F, 0, "enc1.conv1"),
    [L_ENC2_CONV1] = CONV3("enc2.conv1", 1, W_F, 0,   W_F, 1, "enc1.pool"),
    [L_ENC2_CONV2] = CONV3("enc2.conv2", 1, W_F, 1,   W_F, 1, "enc2.conv1"),
    [L_ENC3_CONV1] = CONV3("enc3.conv1", 2, W_F, 1,   W_F, 2, "enc2.pool"),
    [L_ENC3_CONV2] = CONV3("enc3.conv2", 2, W_F, 2,   W_F, 2, "enc3.conv1"),
    [L_ENC4_CONV1] = CONV3("enc4.conv1", 3, W_F, 2,   W_F, 3, "enc3.pool"),
    [L_ENC4_CONV2] = CONV3("enc4.conv2", 3, W_F, 3,   W_F, 3, "enc4.conv1"),
    [L_MID_CONV1]  = CONV3("mid.conv1",  4, W_F, 3,   W_F, 4, "enc4.pool"),
    [L_MID_CONV2]  = CONV3("mid.conv2",  4, W_F, 4,   W_F, 4, "mid.conv1"),
    [L_DEC4_UP]    = UP("dec4.up", 3, "mid.conv2"),
    [L_DEC4_CONV1] = CONV3("dec4.conv1", 3, W_CAT, 3, W_F, 3, "dec4.cat"),
    [L_DEC4_CONV2] = CONV3("dec4.conv2", 3, W_F, 3,   W_F, 3, "dec4.conv1"),
    [L_DEC3_UP]    = UP("dec3.up", 2, "dec4.conv2"),
    [L_DEC3_CONV1] = CONV3("dec3.conv1", 2, W_CAT, 2, W_F, 2, "dec3.cat"),
    [L_DEC3_CONV2] = CONV3("dec3.conv2", 2, W_F, 2,   W_F, 2, "dec3.conv1"),
    [L_DEC2_UP]    = UP("dec2.up", 1, "dec3.conv2"),
    [L_DEC2_CONV1] = CONV3("dec2.conv1", 1, W_CAT, 1, W_F, 1, "dec2.cat"),
    [L_DEC2_CONV2] = CONV3("dec2.conv2", 1, W_F, 1,   W_F, 1, "dec2.conv1"),
    [L_DEC1_UP]    = UP("dec1.up", 0, "dec2.conv2"),
    [L_DEC1_CONV1] = CONV3("dec1.conv1", 0, W_CAT, 0, W_F, 0, "dec1.cat"),
    [L_DEC1_CONV2] = CONV3("dec1.conv2", 0, W_F, 0,   W_F, 0, "dec1.conv1"),
    [L_HEAD_CONV]  = CONV3("head.conv",  0, W_F, 0,   W_2, 0, "dec1.conv2"),
    [L_HEAD_OUT]   = {"head.out", CU_LAYER_CONV, 1, 0, W_2, 0, W_OUT, 0, CU_ACT_NONE, "head.conv"},
};

_Static_assert(L_ROWS == CU_UNET_MAX_LAYERS, "the table has a row per possible layer");
_Static_assert(L_DEC(3, 0) == L_DEC4_CONV1 && L_DEC(0, 1) == L_DEC1_CONV2 && L_DEC_UP(2) == L_DEC3_UP,
               "row macros follow the table");

int cu_unet_output_channels(const struct cu_unet_config *cfg)
{
    return cfg->output_channels > 0 ? cfg->output_channels : 1;
}

int cu_unet_head_width(const struct cu_unet_config *cfg)
{
    int f[CU_UNET_LEVELS];
    cu_unet_widths(cfg->channel_rate, f);
    return cu_unet_output_channels(cfg) == 1 ? 2 : f[0];
}

static int width(const struct cu_unet_config *cfg, const int f[CU_UNET_LEVELS], enum width w, int level)
{
    switch (w) {
    case W_IN:
        return cfg->input_channels;
    case W_F:
        return f[level];
    case W_CAT:
        return f[level] + (cfg->upsample == CU_UPSAMPLE_TRANSPOSED ? f[level] : f[level + 1]);
    case W_2:
        return cu_unet_head_width(cfg);
    case W_OUT:
        return cu_unet_output_channels(cfg);
    }
    return 0;
}

int cu_unet_layers(const struct cu_unet_config *cfg, struct cu_unet_layer out[CU_UNET_MAX_LAYERS])
{
    int f[CU_UNET_LEVELS], n = 0;
    cu_unet_widths(cfg->channel_rate, f);
    for (int i = 0; i < L_ROWS; i++) {
        const struct row *r = &table[i];
        if (r->kind == CU_LAYER_TCONV && cfg->upsample != CU_UPSAMPLE_TRANSPOSED)
            continue; /* bilinear up-sampling learns nothing */
        struct cu_unet_layer *l = &out[n++];
        l->row = i;
        l->name = r->name;
        l->kind = r->kind;
        l->k = r->k;
        l->level = r->level;
        l->side = cfg->image_size >> r->level;
        l->cin = width(cfg, f, r->cin, r->cin_level);
        l->cout = width(cfg, f, r->cout, r->cout_level);
        l->act = r->act;
        l->input = r->input;
        l->params = (long long)l->cin * l->cout * l->k * l->k + l->cout;
        /* multiply-adds per output pixel: Cin k k; a 2x2 stride-2
         * transposed convolution meets 4 weights per input pixel, i.e.
         * Cin per output pixel */
        double pixels = (double)l->side * l->side;
        l->flops = r->kind == CU_LAYER_TCONV ? 2.0 * l->cin * l->cout * 4 * (pixels / 4)
                                             : 2.0 * l->cin * l->cout * l->k * l->k * pixels;
    }
    return n;
}

long long cu_unet_param_count(const struct cu_unet_config *cfg)
{
    struct cu_unet_layer l[CU_UNET_MAX_LAYERS];
    long long total = 0;
    for (int i = 0, n = cu_unet_layers(cfg, l); i < n; i++)
        total += l[i].params;
    return total;
}

double cu_unet_forward_flops(const struct cu_unet_config *cfg)
{
    struct cu_unet_layer l[CU_UNET_MAX_LAYERS];
    double total = 0;
    for (int i = 0, n = cu_unet_layers(cfg, l); i < n; i++)
        total += l[i].flops;
    return total;
}
