/* keras_arch.c: a Keras functional model's configuration matched against
 * the DSB2018 U-Net (keras_arch.h). The graph is walked backwards from the
 * output, each layer checked as it is met, so the first thing that does not
 * fit is the one reported. */
#include "io/keras_arch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct graph {
    json_t *layers; /* config.layers */
    const char *what;
    struct cu_err *err;
    struct cu_keras_arch *arch;
    int filters[CU_KERAS_MAX_MAPPED]; /* of each mapped layer */
    int level[CU_KERAS_MAX_MAPPED];   /* which width f[level] it must have; -1: fixed by the head */
};

static const char *str(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

static const char *layer_name(json_t *l)
{
    const char *n = str(l, "name");
    return n ? n : str(json_object_get(l, "config"), "name");
}

static json_t *find_layer(struct graph *g, const char *name)
{
    size_t i;
    json_t *l;
    json_array_foreach (g->layers, i, l) {
        const char *n = layer_name(l);
        if (n && !strcmp(n, name))
            return l;
    }
    return NULL;
}

/* Appends the layer names a node's inputs come from, in order: Keras 2
 * writes [name, node, tensor, kwargs] lists, Keras 3 {"args": [...]} with
 * tensors {"config": {"keras_history": [name, node, tensor]}}. */
static void collect(json_t *v, const char **names, int *n, int max, int depth)
{
    if (depth > 16 || *n > max)
        return;
    if (json_is_object(v)) {
        json_t *h = json_object_get(json_object_get(v, "config"), "keras_history");
        if (h) {
            collect(h, names, n, max, depth + 1);
            return;
        }
        collect(json_object_get(v, "args"), names, n, max, depth + 1);
    } else if (json_is_array(v)) {
        if (json_array_size(v) >= 3 && json_is_string(json_array_get(v, 0)) && json_is_integer(json_array_get(v, 1))) {
            if (*n < max)
                names[*n] = json_string_value(json_array_get(v, 0));
            (*n)++;
            return;
        }
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e)
            collect(e, names, n, max, depth + 1);
    }
}

/* The layer called name, Dropout layers followed through; NULL after a
 * failure. */
static json_t *layer(struct graph *g, const char *name, const char *needed_by);

/* The names of the n layers l takes its inputs from (exactly n, else a
 * failure). */
static enum cu_status input_names(struct graph *g, json_t *l, const char **names, int n)
{
    json_t *nodes = json_object_get(l, "inbound_nodes");
    const char *lname = layer_name(l);
    if (!json_is_array(nodes) || json_array_size(nodes) != 1)
        return cu_fail(g->err, CU_EINPUT, "%s: layer %s is used %d times (the U-Net uses each layer once)", g->what,
                       lname, json_is_array(nodes) ? (int)json_array_size(nodes) : 0);
    int got = 0;
    collect(json_array_get(nodes, 0), names, &got, n, 0);
    if (got != n)
        return cu_fail(g->err, CU_EINPUT, "%s: layer %s has %d inputs, expected %d", g->what, lname, got, n);
    return CU_OK;
}

/* The n inputs of l as layers, Dropout layers followed through. */
static enum cu_status inputs(struct graph *g, json_t *l, json_t **out, int n)
{
    const char *names[2];
    CU_TRY(input_names(g, l, names, n));
    for (int i = 0; i < n; i++)
        if (!(out[i] = layer(g, names[i], layer_name(l))))
            return CU_EINPUT;
    return CU_OK;
}

static json_t *layer(struct graph *g, const char *name, const char *needed_by)
{
    for (size_t hops = 0; hops <= json_array_size(g->layers); hops++) {
        json_t *l = find_layer(g, name);
        if (!l) {
            cu_fail(g->err, CU_EINPUT, "%s: layer %s (input of %s) is missing", g->what, name, needed_by);
            return NULL;
        }
        const char *cls = str(l, "class_name");
        if (!cls || (strcmp(cls, "Dropout") && strcmp(cls, "SpatialDropout2D")))
            return l;
        needed_by = layer_name(l);
        if (input_names(g, l, &name, 1))
            return NULL;
    }
    cu_fail(g->err, CU_EINPUT, "%s: the Dropout layers before %s form a cycle", g->what, needed_by);
    return NULL;
}

/* An int or a list of two equal ints (Keras writes both); -1 otherwise. */
static int square(json_t *v)
{
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0)) &&
        json_equal(json_array_get(v, 0), json_array_get(v, 1)))
        return (int)json_integer_value(json_array_get(v, 0));
    return -1;
}

/* The activation's name: a string, or Keras 3's serialised function. */
static const char *activation(json_t *c)
{
    json_t *a = json_object_get(c, "activation");
    if (json_is_object(a))
        a = json_is_string(json_object_get(a, "config")) ? json_object_get(a, "config") : json_object_get(a, "class_name");
    return a ? json_string_value(a) : "linear";
}

/* Checks class and the settings every layer kind shares; NULL on failure. */
static json_t *config_of(struct graph *g, json_t *l, const char *cls, const char *role)
{
    const char *got = str(l, "class_name"), *name = layer_name(l);
    json_t *c = json_object_get(l, "config");
    if (!got || strcmp(got, cls) || !json_is_object(c)) {
        cu_fail(g->err, CU_EINPUT, "%s: layer %s (%s) stands where the DSB2018 U-Net has a %s (%s)", g->what, name,
                got ? got : "layer without class_name", cls, role);
        return NULL;
    }
    const char *df = str(c, "data_format");
    if (df && strcmp(df, "channels_last")) {
        cu_fail(g->err, CU_EINPUT, "%s: layer %s: data_format %s (only channels_last is read)", g->what, name, df);
        return NULL;
    }
    return c;
}

/* Fails naming layer l's setting key, which is not what the U-Net has. */
static enum cu_status unfit(struct graph *g, json_t *l, const char *key, const char *want)
{
    char *got = json_dumps(json_object_get(json_object_get(l, "config"), key), JSON_ENCODE_ANY | JSON_COMPACT);
    enum cu_status st = cu_fail(g->err, CU_EINPUT, "%s: layer %s: %s %s, expected %s", g->what, layer_name(l), key,
                                got ? got : "missing", want);
    free(got);
    return st;
}

static enum cu_status add_map(struct graph *g, json_t *l, const char *clunet, int transposed, int level)
{
    struct cu_keras_arch *a = g->arch;
    const char *name = layer_name(l);
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->map[i].keras, name))
            return cu_fail(g->err, CU_EINPUT, "%s: layer %s appears twice in the U-Net", g->what, name);
    if (strlen(name) >= CU_KERAS_NAME_MAX)
        return cu_fail(g->err, CU_EINPUT, "%s: layer name %.40s... is too long", g->what, name);
    if (a->n >= CU_KERAS_MAX_MAPPED)
        return cu_fail(g->err, CU_EINPUT, "%s: more layers than the U-Net has", g->what);
    struct cu_keras_layer_map *m = &a->map[a->n];
    snprintf(m->keras, sizeof m->keras, "%s", name);
    snprintf(m->clunet, sizeof m->clunet, "%s", clunet);
    m->transposed = transposed;
    json_t *f = json_object_get(json_object_get(l, "config"), "filters");
    g->filters[a->n] = json_is_integer(f) ? (int)json_integer_value(f) : -1;
    g->level[a->n] = level;
    if (g->filters[a->n] < 1)
        return unfit(g, l, "filters", "a positive count");
    a->n++;
    return CU_OK;
}

/* A Conv2D: k x k, stride 1, same padding, bias, activation act. */
static enum cu_status conv(struct graph *g, json_t *l, const char *clunet, int k, const char *act, int level)
{
    json_t *c = config_of(g, l, "Conv2D", clunet);
    if (!c)
        return CU_EINPUT;
    char want[32];
    snprintf(want, sizeof want, "%dx%d", k, k);
    const char *pad = str(c, "padding"), *a = activation(c);
    json_t *bias = json_object_get(c, "use_bias"), *groups = json_object_get(c, "groups");
    if (square(json_object_get(c, "kernel_size")) != k)
        return unfit(g, l, "kernel_size", want);
    if (square(json_object_get(c, "strides")) != 1)
        return unfit(g, l, "strides", "1");
    if (json_object_get(c, "dilation_rate") && square(json_object_get(c, "dilation_rate")) != 1)
        return unfit(g, l, "dilation_rate", "1");
    if (groups && (!json_is_integer(groups) || json_integer_value(groups) != 1))
        return unfit(g, l, "groups", "1");
    if (!pad || (strcmp(pad, "same") && (k != 1 || strcmp(pad, "valid"))))
        return unfit(g, l, "padding", "\"same\"");
    if (!a || strcmp(a, act)) {
        snprintf(want, sizeof want, "\"%s\"", act);
        return unfit(g, l, "activation", want);
    }
    if (!json_is_true(bias))
        return unfit(g, l, "use_bias", "true");
    return add_map(g, l, clunet, 0, level);
}

/* Two 3x3 ReLU convolutions ending at *l; *l becomes the first one's input. */
static enum cu_status conv_pair(struct graph *g, json_t **l, const char *block, int level)
{
    char name[16];
    snprintf(name, sizeof name, "%s.conv2", block);
    CU_TRY(conv(g, *l, name, 3, "relu", level));
    CU_TRY(inputs(g, *l, l, 1));
    snprintf(name, sizeof name, "%s.conv1", block);
    CU_TRY(conv(g, *l, name, 3, "relu", level));
    return inputs(g, *l, l, 1);
}

static enum cu_status maxpool(struct graph *g, json_t **l)
{
    json_t *c = config_of(g, *l, "MaxPooling2D", "2x2 max-pooling");
    if (!c)
        return CU_EINPUT;
    json_t *s = json_object_get(c, "strides");
    const char *pad = str(c, "padding");
    if (square(json_object_get(c, "pool_size")) != 2)
        return unfit(g, *l, "pool_size", "2");
    if (!json_is_null(s) && s && square(s) != 2)
        return unfit(g, *l, "strides", "2");
    if (pad && strcmp(pad, "valid"))
        return unfit(g, *l, "padding", "\"valid\"");
    return inputs(g, *l, l, 1);
}

/* The up-sampling of decoder level k: sets *l to its input. */
static enum cu_status upsample(struct graph *g, json_t **l, int k, int *mode)
{
    const char *cls = str(*l, "class_name");
    char name[16];
    snprintf(name, sizeof name, "dec%d.up", k);
    int m = cls && !strcmp(cls, "Conv2DTranspose") ? CU_UPSAMPLE_TRANSPOSED : CU_UPSAMPLE_BILINEAR;
    if (*mode >= 0 && m != *mode)
        return cu_fail(g->err, CU_EINPUT, "%s: layer %s: the decoder mixes bilinear and transposed up-sampling",
                       g->what, layer_name(*l));
    *mode = m;
    if (m == CU_UPSAMPLE_BILINEAR) {
        json_t *c = config_of(g, *l, "UpSampling2D", "2x bilinear up-sampling");
        const char *ip = c ? str(c, "interpolation") : NULL;
        if (!c)
            return CU_EINPUT;
        if (square(json_object_get(c, "size")) != 2)
            return unfit(g, *l, "size", "2");
        if (!ip || strcmp(ip, "bilinear"))
            return unfit(g, *l, "interpolation", "\"bilinear\"");
    } else {
        json_t *c = config_of(g, *l, "Conv2DTranspose", name);
        json_t *op = c ? json_object_get(c, "output_padding") : NULL;
        const char *a = c ? activation(c) : NULL;
        if (!c)
            return CU_EINPUT;
        if (square(json_object_get(c, "kernel_size")) != 2)
            return unfit(g, *l, "kernel_size", "2x2");
        if (square(json_object_get(c, "strides")) != 2)
            return unfit(g, *l, "strides", "2");
        if (json_object_get(c, "dilation_rate") && square(json_object_get(c, "dilation_rate")) != 1)
            return unfit(g, *l, "dilation_rate", "1");
        if (op && !json_is_null(op))
            return unfit(g, *l, "output_padding", "null");
        if (!a || strcmp(a, "linear"))
            return unfit(g, *l, "activation", "\"linear\"");
        if (!json_is_true(json_object_get(c, "use_bias")))
            return unfit(g, *l, "use_bias", "true");
        CU_TRY(add_map(g, *l, name, 1, k - 1));
    }
    return inputs(g, *l, l, 1);
}

/* Input shape [null, S, S, C] (S may be null); fills cfg. */
static enum cu_status input_layer(struct graph *g, json_t *l, const char *declared)
{
    json_t *c = config_of(g, l, "InputLayer", "the input");
    if (!c)
        return CU_EINPUT;
    if (declared && strcmp(declared, layer_name(l)))
        return cu_fail(g->err, CU_EINPUT, "%s: the U-Net starts at layer %s, but the model's input is %s", g->what,
                       layer_name(l), declared);
    json_t *s = json_object_get(c, "batch_shape");
    if (!s)
        s = json_object_get(c, "batch_input_shape");
    json_t *h = json_array_get(s, 1), *w = json_array_get(s, 2), *ch = json_array_get(s, 3);
    if (json_array_size(s) != 4 || !json_is_integer(ch) || json_integer_value(ch) < 1 ||
        json_integer_value(ch) > 64 || !json_equal(h, w) || (!json_is_null(h) && !json_is_integer(h)))
        return unfit(g, l, json_object_get(c, "batch_shape") ? "batch_shape" : "batch_input_shape",
                     "[null, S, S, channels] (square images, channels last)");
    g->arch->cfg.input_channels = (int)json_integer_value(ch);
    json_int_t S = json_is_integer(h) ? json_integer_value(h) : 0;
    if (S < 0 || S > 1 << 16)
        return unfit(g, l, "batch_shape", "a plausible image size");
    g->arch->cfg.image_size = (int)S;
    return CU_OK;
}

/* The widths of the convolutions must follow one channel rate. */
static enum cu_status channel_rate(struct graph *g)
{
    int mid = -1, f[CU_UNET_LEVELS];
    for (int i = 0; i < g->arch->n; i++)
        if (g->level[i] == 4)
            mid = g->filters[i];
    double tries[2] = {mid / 512.0, 0};
    for (int i = 0; i < g->arch->n; i++)
        if (g->level[i] == 0)
            tries[1] = g->filters[i] / 32.0;
    for (int t = 0; t < 2; t++) {
        cu_unet_widths(tries[t], f);
        int ok = f[0] >= 1;
        for (int i = 0; i < g->arch->n && ok; i++)
            ok = g->level[i] < 0 || g->filters[i] == f[g->level[i]];
        if (ok) {
            g->arch->cfg.channel_rate = tries[t];
            return CU_OK;
        }
    }
    for (int i = 0; i < g->arch->n; i++)
        if (g->level[i] >= 0 && g->filters[i] != f[g->level[i]])
            return cu_fail(g->err, CU_EINPUT,
                           "%s: layer %s has %d filters; no channel rate c gives it with %d in the bottleneck "
                           "(widths int(32c), int(64c), ..., int(512c))",
                           g->what, g->arch->map[i].keras, g->filters[i], mid);
    return cu_fail(g->err, CU_EINPUT, "%s: filter counts do not follow one channel rate", g->what);
}

/* Each mapped layer's group name in a .keras weights file: its class in
 * snake case ("Conv2D" -> "conv2d", "Conv2DTranspose" ->
 * "conv2d_transpose"), then "_K" when K earlier layers have the same class
 * (saving_lib.py's _get_unique_name). */
static void saved_names(struct graph *g)
{
    for (int m = 0; m < g->arch->n; m++) {
        struct cu_keras_layer_map *e = &g->arch->map[m];
        int k = 0;
        size_t i;
        json_t *l;
        json_array_foreach (g->layers, i, l) {
            const char *n = layer_name(l);
            if (n && !strcmp(n, e->keras))
                break;
            const char *cls = str(l, "class_name");
            k += cls && !strcmp(cls, e->transposed ? "Conv2DTranspose" : "Conv2D");
        }
        const char *base = e->transposed ? "conv2d_transpose" : "conv2d";
        if (k)
            snprintf(e->saved, sizeof e->saved, "%s_%d", base, k);
        else
            snprintf(e->saved, sizeof e->saved, "%s", base);
    }
}

/* The single entry of input_layers/output_layers ([[name,0,0]] or
 * [name,0,0]); NULL when there is not exactly one. */
static const char *single_io(json_t *v)
{
    if (json_is_array(v) && json_is_string(json_array_get(v, 0)))
        return json_string_value(json_array_get(v, 0));
    if (json_is_array(v) && json_array_size(v) == 1)
        return json_string_value(json_array_get(json_array_get(v, 0), 0));
    return NULL;
}

static enum cu_status walk(struct graph *g, json_t *model)
{
    json_t *cfg = json_object_get(model, "config");
    const char *cls = str(model, "class_name");
    if (!cls || (strcmp(cls, "Functional") && strcmp(cls, "Model")))
        return cu_fail(g->err, CU_EINPUT, "%s: a %s model, not a functional Keras model (the DSB2018 U-Net)", g->what,
                       cls ? cls : "unnamed");
    g->layers = json_object_get(cfg, "layers");
    if (!json_is_array(g->layers))
        return cu_fail(g->err, CU_EINPUT, "%s: model config has no layer list", g->what);
    const char *out = single_io(json_object_get(cfg, "output_layers"));
    const char *in = single_io(json_object_get(cfg, "input_layers"));
    if (!out || !in)
        return cu_fail(g->err, CU_EINPUT, "%s: the model must have one input and one output", g->what);
    json_t *l = layer(g, out, "the model's output");
    if (!l)
        return CU_EINPUT;
    CU_TRY(conv(g, l, "head.out", 1, "sigmoid", -1));
    if (g->filters[g->arch->n - 1] != 1)
        return unfit(g, l, "filters", "1 (one probability per pixel)");
    CU_TRY(inputs(g, l, &l, 1));
    CU_TRY(conv(g, l, "head.conv", 3, "relu", -1));
    if (g->filters[g->arch->n - 1] != 2)
        return unfit(g, l, "filters", "2");
    CU_TRY(inputs(g, l, &l, 1));
    json_t *skip[5];
    int mode = -1;
    for (int k = 1; k <= 4; k++) {
        char block[8];
        snprintf(block, sizeof block, "dec%d", k);
        CU_TRY(conv_pair(g, &l, block, k - 1));
        json_t *c = config_of(g, l, "Concatenate", "concatenation [skip, up]");
        json_t *ax = c ? json_object_get(c, "axis") : NULL;
        if (!c)
            return CU_EINPUT;
        if (!json_is_integer(ax) || (json_integer_value(ax) != -1 && json_integer_value(ax) != 3))
            return unfit(g, l, "axis", "-1 (channels)");
        json_t *two[2];
        CU_TRY(inputs(g, l, two, 2));
        skip[k] = two[0];
        l = two[1];
        CU_TRY(upsample(g, &l, k, &mode));
    }
    g->arch->cfg.upsample = (enum cu_upsample)mode;
    CU_TRY(conv_pair(g, &l, "mid", 4));
    for (int k = 4; k >= 1; k--) {
        CU_TRY(maxpool(g, &l));
        if (l != skip[k])
            return cu_fail(g->err, CU_EINPUT,
                           "%s: decoder level %d concatenates layer %s first, but encoder level %d ends at %s "
                           "(expected Concatenate([skip, up]))",
                           g->what, k, layer_name(skip[k]), k, layer_name(l));
        char block[8];
        snprintf(block, sizeof block, "enc%d", k);
        CU_TRY(conv_pair(g, &l, block, k - 1));
    }
    CU_TRY(input_layer(g, l, in));
    saved_names(g);
    return channel_rate(g);
}

enum cu_status cu_keras_arch_parse(const char *json, size_t len, const char *what, struct cu_keras_arch *out,
                                   struct cu_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cu_fail(err, CU_EINPUT, "%s: model config is not valid JSON (line %d: %s)", what, je.line, je.text);
    struct graph g = {.what = what, .err = err, .arch = out};
    enum cu_status st = json_is_object(root) ? walk(&g, root)
                                             : cu_fail(err, CU_EINPUT, "%s: model config is not a JSON object", what);
    json_decref(root);
    return st;
}
