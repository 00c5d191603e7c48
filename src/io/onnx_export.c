/* onnx_export.c: the U-Net as an ONNX graph (onnx_export.h), field numbers
 * from onnx/onnx.proto:
 *   ModelProto: ir_version 1, opset_import 8, producer_name 2,
 *     producer_version 3, doc_string 6, graph 7, metadata_props 14
 *   OperatorSetIdProto: domain 1, version 2
 *   GraphProto: node 1, name 2, initializer 5, input 11, output 12
 *   NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
 *   AttributeProto: name 1, i 3, s 4, ints 8, type 20 (INT 2, STRING 3, INTS 7)
 *   TensorProto: dims 1, data_type 2 (FLOAT 1), name 8, raw_data 9
 *   ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1;
 *   TypeProto.Tensor: elem_type 1, shape 2; TensorShapeProto: dim 1;
 *   Dimension: dim_value 1, dim_param 2
 *   StringStringEntryProto: key 1, value 2 */
#include "clunet/onnx_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/version.h"
#include "io/atomic_file.h"
#include "io/pb_write.h"

struct graph {
    struct cu_pb g; /* GraphProto being built */
    const struct cu_unet *net;
    enum cu_status st;
    struct cu_err *err;
};

static void attr_ints(struct cu_pb *node, const char *name, const int64_t *v, int n)
{
    struct cu_pb a = {0};
    cu_pb_str(&a, 1, name);
    for (int i = 0; i < n; i++)
        cu_pb_int(&a, 8, v[i]);
    cu_pb_int(&a, 20, 7);
    cu_pb_msg(node, 5, &a);
}

static void attr_int(struct cu_pb *node, const char *name, int64_t v)
{
    struct cu_pb a = {0};
    cu_pb_str(&a, 1, name);
    cu_pb_int(&a, 3, v);
    cu_pb_int(&a, 20, 2);
    cu_pb_msg(node, 5, &a);
}

static void attr_str(struct cu_pb *node, const char *name, const char *v)
{
    struct cu_pb a = {0};
    cu_pb_str(&a, 1, name);
    cu_pb_str(&a, 4, v);
    cu_pb_int(&a, 20, 3);
    cu_pb_msg(node, 5, &a);
}

/* Starts a node: inputs (NULL-terminated; "" = an omitted optional
 * input), one output, named after its output. */
static struct cu_pb node(const char *op, const char *const *in, const char *out)
{
    struct cu_pb n = {0};
    for (int i = 0; in[i]; i++)
        cu_pb_str(&n, 1, in[i]);
    cu_pb_str(&n, 2, out);
    cu_pb_str(&n, 3, out);
    cu_pb_str(&n, 4, op);
    return n;
}

/* A float initializer from host data (written little-endian). */
static void initializer(struct graph *G, const char *name, const int64_t *dims, int nd, const float *v, size_t numel)
{
    struct cu_pb t = {0};
    for (int i = 0; i < nd; i++)
        cu_pb_int(&t, 1, dims[i]);
    cu_pb_int(&t, 2, 1);
    cu_pb_str(&t, 8, name);
    unsigned char *raw = malloc(numel * 4 + 1);
    if (!raw) {
        t.oom = 1;
    } else {
        for (size_t i = 0; i < numel; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            for (int k = 0; k < 4; k++)
                raw[4 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
        }
        cu_pb_bytes(&t, 9, raw, numel * 4);
        free(raw);
    }
    cu_pb_msg(&G->g, 5, &t);
}

/* The parameter name's values as an initializer of its own shape
 * (weights 4-D, biases [Cout]); returns the tensor, NULL after a failure. */
static const struct cu_tensor *param(struct graph *G, const char *name)
{
    const struct cu_unet_param *p = cu_unet_param_find(G->net, name);
    if (!p) {
        G->st = cu_fail(G->err, CU_EUSAGE, "onnx: the network has no parameter %s", name);
        return NULL;
    }
    const struct cu_tensor *t = p->w;
    size_t numel = cu_tensor_numel(t);
    float *v = malloc(numel * sizeof *v);
    if (!v) {
        G->st = cu_fail(G->err, CU_EDEVICE, "onnx: out of host memory");
        return NULL;
    }
    G->st = cu_tensor_download(t, v, G->err);
    int bias = strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".bias");
    int64_t dims[4] = {t->n, t->c, t->h, t->w};
    if (!G->st)
        initializer(G, name, dims, bias ? 1 : 4, v, numel);
    free(v);
    return G->st ? NULL : t;
}

/* The value info of a float tensor (dynamic N, fixed C, S, S). */
static void value_info(struct cu_pb *g, int field, const char *name, int c, int s)
{
    struct cu_pb shape = {0}, tensor = {0}, type = {0}, vi = {0};
    int64_t fixed[3] = {c, s, s};
    struct cu_pb d = {0};
    cu_pb_str(&d, 2, "N");
    cu_pb_msg(&shape, 1, &d);
    for (int i = 0; i < 3; i++) {
        cu_pb_int(&d, 1, fixed[i]);
        cu_pb_msg(&shape, 1, &d);
    }
    cu_pb_int(&tensor, 1, 1);
    cu_pb_msg(&tensor, 2, &shape);
    cu_pb_msg(&type, 1, &tensor);
    cu_pb_str(&vi, 1, name);
    cu_pb_msg(&vi, 2, &type);
    cu_pb_msg(g, field, &vi);
}

#define NAME 32

/* What the layers computed so far are called in the graph. */
struct names {
    const struct cu_unet_layer *l;
    int n;                             /* layers emitted */
    char out[CU_UNET_MAX_LAYERS][NAME]; /* each one's output (after its activation) */
};

static const char *output_of(const struct names *t, const char *layer)
{
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->l[i].name, layer))
            return t->out[i];
    return NULL;
}

/* The most recent output at level (S >> level pixels a side). */
static const char *last_at(const struct names *t, int level)
{
    for (int i = t->n - 1; i >= 0; i--)
        if (t->l[i].level == level)
            return t->out[i];
    return NULL;
}

/* The graph name of a layer's input (the table's "input", "encK.pool",
 * "decK.cat" or a layer's name), emitting the pooling, up-sampling and
 * concatenation nodes that make it; NULL after a failure. */
static const char *input_of(struct graph *G, struct names *t, const struct cu_unet_layer *l, char *buf)
{
    const struct cu_unet_config *cfg = cu_unet_config(G->net);
    const char *in = l->input, *dot = strrchr(in, '.');
    int k = 0;
    if (!strcmp(in, "input"))
        return "image";
    if (dot && !strcmp(dot, ".pool") && sscanf(in, "enc%d", &k) == 1) {
        char src[NAME];
        snprintf(src, sizeof src, "enc%d.conv2", k);
        const char *x = output_of(t, src);
        if (x) {
            const char *ins[] = {x, NULL};
            struct cu_pb n = node("MaxPool", ins, in);
            int64_t two[2] = {2, 2};
            attr_ints(&n, "kernel_shape", two, 2);
            attr_ints(&n, "strides", two, 2);
            cu_pb_msg(&G->g, 1, &n);
            return strcpy(buf, in);
        }
    } else if (dot && !strcmp(dot, ".cat") && sscanf(in, "dec%d", &k) == 1) {
        /* [skip, up]: encoder level k's output, then the level below it
         * up-sampled (by dec<k>.up, emitted before, when transposed) */
        char skip[NAME], up[NAME];
        snprintf(skip, sizeof skip, "enc%d.conv2", k);
        snprintf(up, sizeof up, "dec%d.up", k);
        const char *s = output_of(t, skip), *u = output_of(t, up);
        if (s && !u && cfg->upsample == CU_UPSAMPLE_BILINEAR && (u = last_at(t, l->level + 1))) {
            const char *ins[] = {u, "", "upsample.scales", NULL};
            struct cu_pb n = node("Resize", ins, up);
            attr_str(&n, "mode", "linear");
            attr_str(&n, "coordinate_transformation_mode", "half_pixel");
            cu_pb_msg(&G->g, 1, &n);
            u = up;
        }
        if (s && u) {
            const char *ins[] = {s, u, NULL};
            struct cu_pb n = node("Concat", ins, in);
            attr_int(&n, "axis", 1);
            cu_pb_msg(&G->g, 1, &n);
            return strcpy(buf, in);
        }
    } else if (output_of(t, in)) {
        return output_of(t, in);
    }
    G->st = cu_fail(G->err, CU_EUSAGE, "onnx: layer %s takes %s, which the exporter cannot make", l->name, in);
    return NULL;
}

/* One learned layer: Conv (k x k, stride 1, same padding) or
 * ConvTranspose (2x2, stride 2), then Relu when the table says so; its
 * output's name goes into out. */
static void layer(struct graph *G, const struct cu_unet_layer *l, const char *x, char *out)
{
    char w[NAME], b[NAME];
    snprintf(w, sizeof w, "%s.weight", l->name);
    snprintf(b, sizeof b, "%s.bias", l->name);
    if (!param(G, w) || !param(G, b))
        return;
    const char *in[] = {x, w, b, NULL};
    int tconv = l->kind == CU_LAYER_TCONV;
    struct cu_pb n = node(tconv ? "ConvTranspose" : "Conv", in, l->name);
    int64_t k[2] = {l->k, l->k}, p = tconv ? 0 : l->k / 2, pads[4] = {p, p, p, p}, s = tconv ? 2 : 1,
            strides[2] = {s, s};
    attr_ints(&n, "kernel_shape", k, 2);
    if (!tconv)
        attr_ints(&n, "pads", pads, 4);
    attr_ints(&n, "strides", strides, 2);
    cu_pb_msg(&G->g, 1, &n);
    snprintf(out, NAME, "%s", l->name);
    if (l->act == CU_ACT_RELU) {
        const char *rin[] = {l->name, NULL};
        snprintf(out, NAME, "%s.relu", l->name);
        struct cu_pb r = node("Relu", rin, out);
        cu_pb_msg(&G->g, 1, &r);
    }
}

/* The network as the layer table (unet.h, cu_unet_layers) describes it:
 * each learned layer after the nodes that make its input; then the sigmoid
 * of the last layer, as cu_unet_predict does. */
static void build(struct graph *G)
{
    const struct cu_unet_config *cfg = cu_unet_config(G->net);
    struct cu_unet_layer l[CU_UNET_MAX_LAYERS];
    struct names t = {.l = l};
    int n = cu_unet_layers(cfg, l);
    if (cfg->upsample == CU_UPSAMPLE_BILINEAR) {
        float scales[4] = {1, 1, 2, 2};
        int64_t four = 4;
        initializer(G, "upsample.scales", &four, 1, scales, 4);
    }
    for (int i = 0; i < n && !G->st; i++) {
        char buf[NAME];
        const char *x = input_of(G, &t, &l[i], buf);
        if (x)
            layer(G, &l[i], x, t.out[i]);
        t.n++;
    }
    if (G->st)
        return;
    const char *in[] = {t.out[n - 1], NULL};
    struct cu_pb s = node("Sigmoid", in, "probability");
    cu_pb_msg(&G->g, 1, &s);
    value_info(&G->g, 11, "image", cfg->input_channels, cfg->image_size);
    value_info(&G->g, 12, "probability", l[n - 1].cout, cfg->image_size);
}

static void meta(struct cu_pb *m, const char *key, const char *value)
{
    struct cu_pb e = {0};
    cu_pb_str(&e, 1, key);
    cu_pb_str(&e, 2, value);
    cu_pb_msg(m, 14, &e);
}

enum cu_status cu_onnx_export(const struct cu_unet *net, const char *path, int opset, const struct cu_meta_kv *extra,
                              int n_extra, struct cu_err *err)
{
    if (opset < CU_ONNX_OPSET_MIN || opset > CU_ONNX_OPSET_MAX)
        return cu_fail(err, CU_EUSAGE, "--opset %d: clunet writes opsets %d to %d", opset, CU_ONNX_OPSET_MIN,
                       CU_ONNX_OPSET_MAX);
    struct graph G = {.net = net, .err = err};
    cu_pb_str(&G.g, 2, "clunet-unet");
    build(&G);
    if (G.st) {
        cu_pb_free(&G.g);
        return G.st;
    }
    const struct cu_unet_config *cfg = cu_unet_config(net);
    struct cu_pb m = {0}, ops = {0};
    cu_pb_int(&m, 1, CU_ONNX_IR_VERSION);
    cu_pb_str(&m, 2, "clunet");
    cu_pb_str(&m, 3, cu_version);
    cu_pb_str(&ops, 1, "");
    cu_pb_int(&ops, 2, opset);
    cu_pb_msg(&m, 8, &ops);
    cu_pb_str(&m, 6, "clunet U-Net for cell-nucleus segmentation (DSB2018): image (N, C, S, S) RGB in [0, 1] -> "
                     "probability (N, K, S, S)");
    cu_pb_msg(&m, 7, &G.g);
    char size[32], rate[40], inch[32], outch[32];
    snprintf(size, sizeof size, "%d", cfg->image_size);
    snprintf(rate, sizeof rate, "%.17g", cfg->channel_rate);
    for (int p = 1; p <= 17; p++) { /* the shortest form that reads back */
        snprintf(rate, sizeof rate, "%.*g", p, cfg->channel_rate);
        if (strtod(rate, NULL) == cfg->channel_rate)
            break;
    }
    snprintf(inch, sizeof inch, "%d", cfg->input_channels);
    snprintf(outch, sizeof outch, "%d", cu_unet_output_channels(cfg));
    meta(&m, "clunet_version", cu_version);
    meta(&m, "clunet_git", cu_git_describe);
    meta(&m, "image_size", size);
    meta(&m, "channel_rate", rate);
    meta(&m, "upsample", cu_upsample_name(cfg->upsample));
    meta(&m, "input_channels", inch);
    meta(&m, "output_channels", outch);
    meta(&m, "normalisation", "RGB samples / 255 (16-bit: / 65535), float32 in [0, 1], NCHW; images resized to "
                              "image_size x image_size as scikit-image's resize does");
    meta(&m, "output", "sigmoid probabilities; channel 0 is the nucleus mask (threshold 0.5)");
    for (int i = 0; i < n_extra; i++)
        meta(&m, extra[i].key, extra[i].value);
    enum cu_status st = CU_OK;
    if (m.oom) {
        st = cu_fail(err, CU_EDEVICE, "%s: out of host memory building the ONNX model", path);
    } else {
        struct cu_atomic a;
        st = cu_atomic_begin(&a, path, err);
        if (!st) {
            a.durable = 1; /* a model file (atomic_file.h's rule) */
            fwrite(m.p, 1, m.n, a.f);
            st = cu_atomic_commit(&a, err);
        }
    }
    cu_pb_free(&m);
    return st;
}
