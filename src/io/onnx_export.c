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

#include "io/atomic_file.h"
#include "io/pb_write.h"

#ifndef CLUNET_VERSION
#define CLUNET_VERSION "unknown"
#endif

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

/* Conv (k x k, stride 1, same padding) of x with layer's parameters, then
 * Relu when relu; writes the output's name into out. */
static void conv(struct graph *G, const char *x, const char *layer, int relu, char *out, size_t len)
{
    char w[48], b[48];
    snprintf(w, sizeof w, "%s.weight", layer);
    snprintf(b, sizeof b, "%s.bias", layer);
    const struct cu_tensor *t = param(G, w);
    if (!t || !param(G, b))
        return;
    const char *in[] = {x, w, b, NULL};
    struct cu_pb n = node("Conv", in, layer);
    int64_t k[2] = {t->h, t->w}, p = t->h / 2, pads[4] = {p, p, p, p}, one[2] = {1, 1};
    attr_ints(&n, "kernel_shape", k, 2);
    attr_ints(&n, "pads", pads, 4);
    attr_ints(&n, "strides", one, 2);
    cu_pb_msg(&G->g, 1, &n);
    snprintf(out, len, "%s", layer);
    if (relu) {
        const char *rin[] = {layer, NULL};
        snprintf(out, len, "%s.relu", layer);
        struct cu_pb r = node("Relu", rin, out);
        cu_pb_msg(&G->g, 1, &r);
    }
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

/* The whole network, level by level, as DESIGN.md section 4 and unet.h
 * lay it out. */
static void build(struct graph *G)
{
    const struct cu_unet_config *cfg = cu_unet_config(G->net);
    char x[64] = "image", skip[5][64], name[48];
    for (int k = 1; k <= 4 && !G->st; k++) {
        snprintf(name, sizeof name, "enc%d.conv1", k);
        conv(G, x, name, 1, x, sizeof x);
        snprintf(name, sizeof name, "enc%d.conv2", k);
        conv(G, x, name, 1, skip[k], sizeof skip[k]);
        const char *in[] = {skip[k], NULL};
        snprintf(x, sizeof x, "enc%d.pool", k);
        struct cu_pb n = node("MaxPool", in, x);
        int64_t two[2] = {2, 2};
        attr_ints(&n, "kernel_shape", two, 2);
        attr_ints(&n, "strides", two, 2);
        cu_pb_msg(&G->g, 1, &n);
    }
    conv(G, x, "mid.conv1", 1, x, sizeof x);
    conv(G, x, "mid.conv2", 1, x, sizeof x);
    if (cfg->upsample == CU_UPSAMPLE_BILINEAR) {
        float scales[4] = {1, 1, 2, 2};
        int64_t four = 4;
        initializer(G, "upsample.scales", &four, 1, scales, 4);
    }
    for (int k = 4; k >= 1 && !G->st; k--) {
        char up[16], cat[16];
        snprintf(up, sizeof up, "dec%d.up", k);
        if (cfg->upsample == CU_UPSAMPLE_BILINEAR) {
            const char *in[] = {x, "", "upsample.scales", NULL};
            struct cu_pb n = node("Resize", in, up);
            attr_str(&n, "mode", "linear");
            attr_str(&n, "coordinate_transformation_mode", "half_pixel");
            cu_pb_msg(&G->g, 1, &n);
        } else {
            char w[32], b[32];
            snprintf(w, sizeof w, "%s.weight", up);
            snprintf(b, sizeof b, "%s.bias", up);
            const struct cu_tensor *t = param(G, w);
            if (!t || !param(G, b))
                return;
            const char *in[] = {x, w, b, NULL};
            struct cu_pb n = node("ConvTranspose", in, up);
            int64_t ks[2] = {t->h, t->w}, two[2] = {2, 2};
            attr_ints(&n, "kernel_shape", ks, 2);
            attr_ints(&n, "strides", two, 2);
            cu_pb_msg(&G->g, 1, &n);
        }
        const char *in[] = {skip[k], up, NULL};
        snprintf(cat, sizeof cat, "dec%d.concat", k);
        struct cu_pb n = node("Concat", in, cat);
        attr_int(&n, "axis", 1);
        cu_pb_msg(&G->g, 1, &n);
        snprintf(name, sizeof name, "dec%d.conv1", k);
        conv(G, cat, name, 1, x, sizeof x);
        snprintf(name, sizeof name, "dec%d.conv2", k);
        conv(G, x, name, 1, x, sizeof x);
    }
    conv(G, x, "head.conv", 1, x, sizeof x);
    conv(G, x, "head.out", 0, x, sizeof x);
    if (G->st)
        return;
    const char *in[] = {x, NULL};
    struct cu_pb n = node("Sigmoid", in, "probability");
    cu_pb_msg(&G->g, 1, &n);
    const struct cu_unet_param *out = cu_unet_param_find(G->net, "head.out.weight");
    value_info(&G->g, 11, "image", cfg->input_channels, cfg->image_size);
    value_info(&G->g, 12, "probability", out->w->n, cfg->image_size);
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
    cu_pb_str(&m, 3, CLUNET_VERSION);
    cu_pb_str(&ops, 1, "");
    cu_pb_int(&ops, 2, opset);
    cu_pb_msg(&m, 8, &ops);
    cu_pb_str(&m, 6, "clunet U-Net for cell-nucleus segmentation (DSB2018): image (N, C, S, S) RGB in [0, 1] -> "
                     "probability (N, K, S, S)");
    cu_pb_msg(&m, 7, &G.g);
    char size[32], rate[40], inch[32];
    snprintf(size, sizeof size, "%d", cfg->image_size);
    snprintf(rate, sizeof rate, "%.17g", cfg->channel_rate);
    for (int p = 1; p <= 17; p++) { /* the shortest form that reads back */
        snprintf(rate, sizeof rate, "%.*g", p, cfg->channel_rate);
        if (strtod(rate, NULL) == cfg->channel_rate)
            break;
    }
    snprintf(inch, sizeof inch, "%d", cfg->input_channels);
    meta(&m, "clunet_version", CLUNET_VERSION);
    meta(&m, "image_size", size);
    meta(&m, "channel_rate", rate);
    meta(&m, "upsample", cu_upsample_name(cfg->upsample));
    meta(&m, "input_channels", inch);
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
            fwrite(m.p, 1, m.n, a.f);
            st = cu_atomic_commit(&a, err);
        }
    }
    cu_pb_free(&m);
    return st;
}
