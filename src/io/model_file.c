/* model_file.c: U-Net models and checkpoints as safetensors files (see
 * include/clunet/model_file.h). The byte format is safetensors.c's; this
 * file decides names, shapes and metadata, and checks a file against the
 * network its metadata describes. */
#include "clunet/model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reserved[] = {"format", "version", "image_size", "channel_rate", "upsample",
                                       "input_channels", "output_channels"};
/* output_channels is written only for K > 1: one-output files stay as
 * they were, and a file without it has one output. */
#define N_ALWAYS 6

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The file shape of a parameter: biases are [Cout], weights 4-D. */
static int file_shape(const struct cu_tensor *t, int64_t shape[4])
{
    if (ends_with(t->name, ".bias")) {
        shape[0] = t->n;
        return 1;
    }
    shape[0] = t->n, shape[1] = t->c, shape[2] = t->h, shape[3] = t->w;
    return 4;
}

static void fmt_shape(char *buf, size_t len, int ndim, const int64_t *shape)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && o < len; d++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* The shortest %g form of v that reads back to the same double. */
static void fmt_double(char *buf, size_t len, double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

enum cu_status cu_model_fill(struct cu_st_writer *w, const struct cu_unet *net, int flags, struct cu_err *err)
{
    const struct cu_unet_config *cfg = cu_unet_config(net);
    char size[32], rate[40], inch[32];
    snprintf(size, sizeof size, "%d", cfg->image_size);
    fmt_double(rate, sizeof rate, cfg->channel_rate);
    snprintf(inch, sizeof inch, "%d", cfg->input_channels);
    const char *vals[] = {CU_MODEL_FORMAT, CU_MODEL_VERSION, size, rate, cu_upsample_name(cfg->upsample), inch};
    for (size_t i = 0; i < N_ALWAYS; i++) {
        enum cu_status st = cu_st_writer_meta(w, reserved[i], vals[i], err);
        if (st)
            return st;
    }
    if (cu_unet_output_channels(cfg) > 1) {
        char outc[32];
        snprintf(outc, sizeof outc, "%d", cu_unet_output_channels(cfg));
        enum cu_status st = cu_st_writer_meta(w, "output_channels", outc, err);
        if (st)
            return st;
    }
    for (int i = 0; i < cu_unet_n_params(net); i++) {
        const struct cu_unet_param *p = cu_unet_param(net, i);
        int64_t shape[4];
        int nd = file_shape(p->w, shape);
        enum cu_status st = cu_st_writer_add_tensor(w, p->w->name, nd, shape, p->w, err);
        if (!st && (flags & CU_MODEL_ADAM))
            st = cu_st_writer_add_tensor(w, p->m->name, nd, shape, p->m, err);
        if (!st && (flags & CU_MODEL_ADAM))
            st = cu_st_writer_add_tensor(w, p->v->name, nd, shape, p->v, err);
        if (st)
            return st;
    }
    return CU_OK;
}

/* Adds the caller's facts, refusing the model's own keys. */
static enum cu_status add_extra(struct cu_st_writer *w, const char *path, const struct cu_meta_kv *extra, int n_extra,
                                struct cu_err *err)
{
    enum cu_status st = CU_OK;
    for (int i = 0; i < n_extra && !st; i++) {
        for (size_t j = 0; j < sizeof reserved / sizeof *reserved; j++)
            if (strcmp(extra[i].key, reserved[j]) == 0)
                st = cu_fail(err, CU_EUSAGE, "%s: metadata key %s is the model's own", path, extra[i].key);
        if (!st)
            st = cu_st_writer_meta(w, extra[i].key, extra[i].value, err);
    }
    return st;
}

enum cu_status cu_model_save(const char *path, const struct cu_unet *net, int flags, const struct cu_meta_kv *extra,
                             int n_extra, struct cu_err *err)
{
    struct cu_st_writer *w = NULL;
    enum cu_status st = cu_st_writer_new(&w, err);
    if (!st)
        st = add_extra(w, path, extra, n_extra, err);
    if (!st && (flags & CU_MODEL_F16))
        st = cu_st_writer_dtype(w, CU_ST_F16, err);
    if (!st)
        st = cu_model_fill(w, net, flags, err);
    if (!st)
        st = cu_st_writer_write(w, path, err);
    cu_st_writer_free(w);
    return st;
}

static int has_moments(const struct cu_st_file *f)
{
    for (int i = 0; i < cu_st_file_count(f); i++)
        if (strncmp(cu_st_file_entry(f, i)->name, "adam.", 5) == 0)
            return 1;
    return 0;
}

enum cu_status cu_model_convert(const char *in, const char *out, enum cu_st_dtype dtype,
                                const struct cu_meta_kv *extra, int n_extra, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    struct cu_st_writer *w = NULL;
    struct cu_unet_config cfg;
    enum cu_status st = cu_st_file_read(in, &f, err);
    if (!st)
        st = cu_model_config(f, &cfg, err);
    if (!st && dtype != CU_ST_F32 && has_moments(f))
        st = cu_fail(err, CU_EUSAGE, "%s: a training checkpoint stays F32 (resuming needs its exact state); convert "
                                     "the run's model.safetensors or best.safetensors", in);
    if (!st)
        st = cu_st_writer_new(&w, err);
    if (!st)
        st = cu_st_writer_dtype(w, dtype, err);
    for (int i = 0; !st && i < cu_st_file_meta_count(f); i++) {
        const char *k, *v;
        cu_st_file_meta_at(f, i, &k, &v);
        st = cu_st_writer_meta(w, k, v, err);
    }
    if (!st)
        st = add_extra(w, out, extra, n_extra, err);
    for (int i = 0; !st && i < cu_st_file_count(f); i++) {
        const struct cu_st_entry *e = cu_st_file_entry(f, i);
        st = cu_st_writer_add(w, e->name, e->ndim, e->shape, e->data, err);
    }
    if (!st)
        st = cu_st_writer_write(w, out, err);
    cu_st_writer_free(w);
    cu_st_file_free(f);
    return st;
}

/* ---- loading ---- */

static enum cu_status meta_int(const struct cu_st_file *f, const char *key, int *out, struct cu_err *err)
{
    const char *s = cu_st_file_meta(f, key);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < 0 || v > 1000000)
        return cu_fail(err, CU_EINPUT, "%s: metadata %s is %s%s%s, not an integer", cu_st_file_path(f), key,
                       s ? "\"" : "missing", s ? s : "", s ? "\"" : "");
    *out = (int)v;
    return CU_OK;
}

enum cu_status cu_model_config(const struct cu_st_file *f, struct cu_unet_config *cfg, struct cu_err *err)
{
    const char *path = cu_st_file_path(f);
    const char *fmt = cu_st_file_meta(f, "format"), *ver = cu_st_file_meta(f, "version");
    if (!fmt || strcmp(fmt, CU_MODEL_FORMAT) != 0)
        return cu_fail(err, CU_EINPUT, "%s: not a clunet model (metadata format is %s, expected %s)", path,
                       fmt ? fmt : "missing", CU_MODEL_FORMAT);
    if (!ver || strcmp(ver, CU_MODEL_VERSION) != 0)
        return cu_fail(err, CU_EINPUT, "%s: model format version %s is not supported (this clunet reads %s)", path,
                       ver ? ver : "missing", CU_MODEL_VERSION);
    struct cu_unet_config c = {0};
    enum cu_status st = meta_int(f, "image_size", &c.image_size, err);
    if (!st)
        st = meta_int(f, "input_channels", &c.input_channels, err);
    c.output_channels = 1;
    if (!st && cu_st_file_meta(f, "output_channels"))
        st = meta_int(f, "output_channels", &c.output_channels, err);
    if (st)
        return st;
    const char *rate = cu_st_file_meta(f, "channel_rate"), *up = cu_st_file_meta(f, "upsample");
    char *end = NULL;
    c.channel_rate = rate ? strtod(rate, &end) : 0;
    if (!rate || !*rate || *end || !isfinite(c.channel_rate))
        return cu_fail(err, CU_EINPUT, "%s: metadata channel_rate is %s, not a number", path, rate ? rate : "missing");
    int u = cu_upsample_parse(up);
    if (u < 0)
        return cu_fail(err, CU_EINPUT, "%s: metadata upsample is %s, not bilinear or transposed", path,
                       up ? up : "missing");
    c.upsample = (enum cu_upsample)u;
    struct cu_err e2 = {0};
    if (cu_unet_config_check(&c, &e2))
        return cu_fail(err, CU_EINPUT, "%s: %s", path, e2.msg);
    *cfg = c;
    return CU_OK;
}

/* Finds name in f with the parameter's file shape and uploads it into t;
 * a NaN or infinite value anywhere is refused, naming the tensor. */
static enum cu_status load_one(const struct cu_st_file *f, const char *name, const struct cu_tensor *p,
                               struct cu_tensor *t, struct cu_err *err)
{
    const char *path = cu_st_file_path(f);
    const struct cu_st_entry *e = cu_st_file_find(f, name);
    if (!e)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s is missing", path, name);
    int64_t want[4];
    int nd = file_shape(p, want);
    int same = e->ndim == nd;
    for (int d = 0; same && d < nd; d++)
        same = e->shape[d] == want[d];
    if (!same) {
        char a[128], b[128];
        fmt_shape(a, sizeof a, e->ndim, e->shape);
        fmt_shape(b, sizeof b, nd, want);
        return cu_fail(err, CU_EINPUT, "%s: tensor %s has shape %s but the model needs %s", path, name, a, b);
    }
    for (size_t i = 0; i < e->numel; i++) /* a NaN would silently turn every prediction to 0 */
        if (!isfinite(e->data[i]))
            return cu_fail(err, CU_EINPUT, "%s: tensor %s holds %s at element %zu of %zu; the file is damaged or was "
                                           "saved from a diverged training",
                           path, name, isnan(e->data[i]) ? "NaN" : "an infinite value", i, e->numel);
    return cu_tensor_upload(t, e->data, err);
}

/* Every tensor of the file must be a parameter or (any flags) a moment. */
static enum cu_status check_known(const struct cu_unet *net, const struct cu_st_file *f, struct cu_err *err)
{
    for (int i = 0; i < cu_st_file_count(f); i++) {
        const char *name = cu_st_file_entry(f, i)->name;
        const char *base = name;
        if (strncmp(name, "adam.m.", 7) == 0 || strncmp(name, "adam.v.", 7) == 0)
            base = name + 7;
        if (!cu_unet_param_find(net, base))
            return cu_fail(err, CU_EINPUT, "%s: tensor %s is not part of this model", cu_st_file_path(f), name);
    }
    return CU_OK;
}

enum cu_status cu_model_load_into(struct cu_unet *net, const struct cu_st_file *f, int flags, struct cu_err *err)
{
    struct cu_unet_config cfg;
    const struct cu_unet_config *have = cu_unet_config(net);
    enum cu_status st = cu_model_config(f, &cfg, err);
    if (st)
        return st;
    if (cfg.image_size != have->image_size || cfg.channel_rate != have->channel_rate ||
        cfg.upsample != have->upsample || cfg.input_channels != have->input_channels ||
        cu_unet_output_channels(&cfg) != cu_unet_output_channels(have))
        return cu_fail(err, CU_EINPUT,
                       "%s: model is S=%d c=%g %s with %d input and %d output channels, not S=%d c=%g %s with %d and %d",
                       cu_st_file_path(f), cfg.image_size, cfg.channel_rate, cu_upsample_name(cfg.upsample),
                       cfg.input_channels, cu_unet_output_channels(&cfg), have->image_size, have->channel_rate,
                       cu_upsample_name(have->upsample), have->input_channels, cu_unet_output_channels(have));
    st = check_known(net, f, err);
    for (int i = 0; i < cu_unet_n_params(net) && !st; i++) {
        const struct cu_unet_param *p = cu_unet_param(net, i);
        st = load_one(f, p->w->name, p->w, p->w, err);
        if (!st && (flags & CU_MODEL_ADAM))
            st = load_one(f, p->m->name, p->w, p->m, err);
        if (!st && (flags & CU_MODEL_ADAM))
            st = load_one(f, p->v->name, p->w, p->v, err);
        if (!st && !(flags & CU_MODEL_ADAM))
            st = cu_tensor_zero(p->m, err);
        if (!st && !(flags & CU_MODEL_ADAM))
            st = cu_tensor_zero(p->v, err);
    }
    return st;
}

enum cu_status cu_model_load(struct cu_backend *be, const char *path, int batch_cap, int flags,
                             struct cu_unet **net, struct cu_st_file **file, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    struct cu_unet *n = NULL;
    struct cu_unet_config cfg;
    enum cu_status st = cu_st_file_read(path, &f, err);
    if (!st)
        st = cu_model_config(f, &cfg, err);
    if (!st)
        st = cu_unet_new(be, &cfg, batch_cap, &n, err);
    if (!st)
        st = cu_model_load_into(n, f, flags, err);
    if (st) {
        cu_unet_free(n);
        cu_st_file_free(f);
        return st;
    }
    *net = n;
    if (file)
        *file = f;
    else
        cu_st_file_free(f);
    return CU_OK;
}
