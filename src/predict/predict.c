/* predict.c: the predictor of predict.h: a loaded network, its batch of
 * S x S inputs, and the resize / tile / TTA arithmetic that turns an image
 * of any size into a probability map of that size. Files, instances and the
 * command are in predict_run.c.
 *
 * Both modes are one loop: a "canvas" (the image itself for tile mode, the
 * image resized to S x S for resize mode) is covered by S x S tiles; each
 * tile and each of its views fills one batch slot; a full batch runs
 * through the network, and every output is turned back and added, times
 * its window weight, into an accumulator of the canvas's size. Resize mode
 * is the case of one tile with weight 1, so its map is exactly the
 * network's output (or the mean of the 8 views). */
#include "clunet/predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/dataset.h"
#include "clunet/model_file.h"
#include "clunet/nuclei.h"
#include "clunet/ops.h"
#include "predict/predict_impl.h"

struct cu_predictor {
    struct cu_backend *be;
    struct cu_unet *net;
    struct cu_predict_opts o;
    struct cu_input_opts model_input; /* the model file's input_channel, normalize */
    int S, cin, cap, K;      /* K: the model's output channels */
    int crop_trained, prep;  /* from the model file's metadata */
    double scale;
    struct cu_tensor *x, *y; /* (cap, cin, S, S), (cap, K, S, S) */
    float *hx, *hy;          /* host copies of x and y */
    int *slot_oy, *slot_ox, *slot_t; /* tile origin and view of each slot */
    int nslot;
    float *win;     /* S: sin^2(pi (i + 0.5) / S) */
    float *ones;    /* S: 1 */
    float *scratch; /* S*S */
    float *canvas;  /* cin*S*S: the resized image (resize mode) */
    float *acc, *wsum; /* accumulators: K canvas planes and one weight plane, grown on demand */
    size_t acc_cap;
    float *work;       /* the preprocessed / rescaled image, and maps at scale */
    size_t work_cap;
    /* the image being predicted (valid inside cu_predictor_prob) */
    const float *src; /* (cin, ch, cw) */
    int ch, cw;
    const float *wy, *wx; /* window per axis (win, or ones for a single tile) */
};

const char *cu_predict_mode_name(enum cu_predict_mode m)
{
    return m == CU_PREDICT_RESIZE ? "resize" : m == CU_PREDICT_TILE ? "tile" : m == CU_PREDICT_MODEL ? "model" : "auto";
}

int cu_predict_mode_parse(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "auto"))
        return CU_PREDICT_AUTO;
    if (!strcmp(s, "resize"))
        return CU_PREDICT_RESIZE;
    if (!strcmp(s, "tile"))
        return CU_PREDICT_TILE;
    if (!strcmp(s, "model"))
        return CU_PREDICT_MODEL;
    return -1;
}

void cu_predict_opts_default(struct cu_predict_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = CU_PREDICT_MODEL;
    o->batch = 4;
    cu_inst_opts_default(&o->inst);
}

const struct cu_unet_config *cu_predictor_config(const struct cu_predictor *p) { return cu_unet_config(p->net); }

void cu_tta_invert(float *plane, int s, int t, float *scratch)
{
    /* cu_augment_apply gives fliplr(rot90(x, r)); so x = rot90(fliplr(y), 4 - r). */
    if (t >= 4)
        cu_augment_apply(plane, s, 4, scratch);
    cu_augment_apply(plane, s, (4 - (t & 3)) & 3, scratch);
}

void cu_predictor_free(struct cu_predictor *p)
{
    if (!p)
        return;
    cu_tensor_free(p->x);
    cu_tensor_free(p->y);
    cu_unet_free(p->net);
    free(p->hx), free(p->hy);
    free(p->slot_oy), free(p->slot_ox), free(p->slot_t);
    free(p->win), free(p->ones), free(p->scratch), free(p->canvas);
    free(p->acc), free(p->wsum), free(p->work);
    free(p);
}

static enum cu_status alloc_host(struct cu_predictor *p, struct cu_err *err)
{
    size_t ss = (size_t)p->S * (size_t)p->S, cap = (size_t)p->cap;
    p->hx = malloc(sizeof(float) * cap * (size_t)p->cin * ss);
    p->hy = malloc(sizeof(float) * cap * (size_t)p->K * ss);
    p->slot_oy = malloc(sizeof(int) * cap);
    p->slot_ox = malloc(sizeof(int) * cap);
    p->slot_t = malloc(sizeof(int) * cap);
    p->win = malloc(sizeof(float) * (size_t)p->S);
    p->ones = malloc(sizeof(float) * (size_t)p->S);
    p->scratch = malloc(sizeof(float) * ss);
    p->canvas = malloc(sizeof(float) * (size_t)p->cin * ss);
    if (!p->hx || !p->hy || !p->slot_oy || !p->slot_ox || !p->slot_t || !p->win || !p->ones || !p->scratch ||
        !p->canvas)
        return cu_fail(err, CU_EDEVICE, "predict: out of host memory for S=%d, batch %d", p->S, p->cap);
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < p->S; i++) {
        double s = sin(pi * (i + 0.5) / p->S);
        p->win[i] = (float)(s * s);
        p->ones[i] = 1.0f;
    }
    return CU_OK;
}

/* The model file's record of its training (train.c's facts): crop-trained
 * models are tiled at their scale, with their preprocessing. Files without
 * it were trained on whole resized images. */
static enum cu_status read_training_mode(struct cu_predictor *p, const struct cu_st_file *f, const char *path,
                                         struct cu_err *err)
{
    const char *mode = cu_st_file_meta(f, "train_mode"), *scale = cu_st_file_meta(f, "scale"),
               *prep = cu_st_file_meta(f, "prep");
    p->crop_trained = mode && !strcmp(mode, "crop");
    p->scale = 1.0;
    p->prep = 0;
    if (!p->crop_trained)
        return CU_OK;
    char *end = NULL;
    p->scale = scale ? strtod(scale, &end) : 1.0;
    if (scale && (!*scale || *end || !(p->scale >= 0.05 && p->scale <= 20)))
        return cu_fail(err, CU_EINPUT, "%s: metadata scale is \"%s\", not a number in [0.05, 20]", path, scale);
    p->prep = prep ? cu_prep_parse(prep) : 0;
    if (p->prep < 0)
        return cu_fail(err, CU_EINPUT, "%s: metadata prep is \"%s\", not grey, normalize or both", path, prep);
    return CU_OK;
}

/* Metadata key = text as a number in [lo, hi] (lo excluded when open). */
static enum cu_status meta_number(const char *path, const char *key, const char *text, double lo, double hi,
                                  int open, float *out, struct cu_err *err)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= lo && v <= hi) || (open && (v == lo || v == hi)))
        return cu_fail(err, CU_EINPUT, "%s: metadata %s=\"%.40s\" is not a number in %s%g, %g%s", path, key, text,
                       open ? "(" : "[", lo, hi, open ? ")" : "]");
    *out = (float)v;
    return CU_OK;
}

const char *const cu_model_default_keys[CU_MODEL_DEFAULT_KEYS] = {"threshold", "min_size", "tta", "seed_threshold",
                                                                 "border_weight"};

/* The model file's prediction defaults (metadata `threshold`, `tta`,
 * `min_size`, `seed_threshold`, `border_weight`: cu_model_default_keys),
 * used where the options did not set them. */
static enum cu_status model_defaults(struct cu_predictor *p, const struct cu_st_file *f, const char *path,
                                     struct cu_err *err)
{
    const char *th = cu_st_file_meta(f, "threshold"), *tta = cu_st_file_meta(f, "tta"),
               *ms = cu_st_file_meta(f, "min_size"), *seed = cu_st_file_meta(f, "seed_threshold"),
               *bw = cu_st_file_meta(f, "border_weight");
    if (th && !p->o.threshold_set)
        CU_TRY(meta_number(path, "threshold", th, 0, 1, 1, &p->o.inst.threshold, err));
    if (seed && !p->o.seed_set)
        CU_TRY(meta_number(path, "seed_threshold", seed, 0, 1, 0, &p->o.inst.seed_threshold, err));
    if (bw && !p->o.border_set)
        CU_TRY(meta_number(path, "border_weight", bw, 0, 100, 0, &p->o.inst.border_weight, err));
    if (tta && !p->o.tta_set) {
        if (strcmp(tta, "0") && strcmp(tta, "1"))
            return cu_fail(err, CU_EINPUT, "%s: metadata tta=\"%.40s\" is not 0 or 1", path, tta);
        p->o.tta = tta[0] == '1';
    }
    if (ms && !p->o.min_size_set) {
        char *end;
        long v = strtol(ms, &end, 10);
        if (end == ms || *end || v < 0 || v > 1000000)
            return cu_fail(err, CU_EINPUT, "%s: metadata min_size=\"%.40s\" is not a pixel count", path, ms);
        p->o.inst.min_size = (int)v;
    }
    return CU_OK;
}

/* The model's input_channel and normalize facts (absent in older models:
 * the defaults, which are what those were trained with). */
static enum cu_status model_input(const struct cu_st_file *f, const char *path, struct cu_input_opts *in,
                                  struct cu_err *err)
{
    memset(in, 0, sizeof *in);
    const char *ch = cu_st_file_meta(f, "input_channel"), *norm = cu_st_file_meta(f, "normalize");
    if (ch) {
        char *end;
        long v = strtol(ch, &end, 10);
        if (end == ch || *end || v < 0 || v > 65536)
            return cu_fail(err, CU_EINPUT, "%s: metadata input_channel=\"%.40s\" is not a channel number", path, ch);
        in->channel = (int)v;
    }
    if (norm && cu_norm_parse(norm, in))
        return cu_fail(err, CU_EINPUT, "%s: metadata normalize=\"%.40s\" is not auto, none or LO,HI", path, norm);
    return CU_OK;
}

void cu_predictor_input(const struct cu_predictor *p, struct cu_input_opts *out)
{
    *out = p->model_input;
    if (p->o.channel_set)
        out->channel = p->o.input.channel;
    if (p->o.norm_set)
        out->norm = p->o.input.norm, out->lo = p->o.input.lo, out->hi = p->o.input.hi;
    out->page = p->o.input.page;
}

enum cu_status cu_predictor_new(struct cu_backend *be, const char *model_path, const struct cu_predict_opts *o,
                                struct cu_predictor **out, struct cu_err *err)
{
    if (o->batch < 1 || o->batch > 4096)
        return cu_fail(err, CU_EUSAGE, "--batch %d must be between 1 and 4096", o->batch);
    struct cu_predictor *p = calloc(1, sizeof *p);
    if (!p)
        return cu_fail(err, CU_EDEVICE, "predict: out of host memory");
    p->be = be;
    p->o = *o;
    p->cap = o->batch;
    struct cu_st_file *file = NULL;
    enum cu_status st = cu_model_load(be, model_path, p->cap, 0, &p->net, &file, err);
    if (!st)
        st = model_input(file, model_path, &p->model_input, err);
    if (!st)
        st = read_training_mode(p, file, model_path, err);
    if (!st)
        st = model_defaults(p, file, model_path, err);
    cu_st_file_free(file);
    if (!st) {
        const struct cu_unet_config *c = cu_unet_config(p->net);
        p->S = c->image_size, p->cin = c->input_channels, p->K = cu_unet_output_channels(c);
        if (p->cin != 3)
            st = cu_fail(err, CU_EINPUT, "%s: the model takes %d input channels; predict feeds RGB (3)", model_path,
                         p->cin);
    }
    if (!st)
        st = cu_tensor_new(be, (struct cu_shape){p->cap, p->cin, p->S, p->S}, "predict.input", &p->x, err);
    if (!st)
        st = cu_tensor_new(be, (struct cu_shape){p->cap, p->K, p->S, p->S}, "predict.prob", &p->y, err);
    if (!st)
        st = alloc_host(p, err);
    if (st) {
        cu_predictor_free(p);
        return st;
    }
    *out = p;
    return CU_OK;
}

enum cu_predict_mode cu_predictor_mode_for(const struct cu_predictor *p, int h, int w)
{
    if (p->o.mode == CU_PREDICT_MODEL)
        return p->crop_trained ? CU_PREDICT_TILE : CU_PREDICT_RESIZE;
    if (p->o.mode != CU_PREDICT_AUTO)
        return p->o.mode;
    return h > p->S || w > p->S ? CU_PREDICT_TILE : CU_PREDICT_RESIZE;
}

/* Tiles along an axis of length L: count and origin of tile i. A short axis
 * gets one tile, centred (negative origin: mirrored padding on both sides);
 * a long one tiles at stride <= S/2 with origins spread evenly from 0 to
 * L - S. */
static int tile_count(int L, int S)
{
    if (L <= S)
        return 1;
    int stride = S / 2;
    return (L - S + stride - 1) / stride + 1;
}

static int tile_origin(int L, int S, int i)
{
    int n = tile_count(L, S);
    if (n == 1)
        return L <= S ? -((S - L) / 2) : 0;
    return (int)(((long long)i * (L - S) + (n - 1) / 2) / (n - 1));
}

long cu_predictor_inputs_for(const struct cu_predictor *p, int h, int w)
{
    long views = p->o.tta ? 8 : 1;
    if (cu_predictor_mode_for(p, h, w) == CU_PREDICT_RESIZE)
        return views;
    return (long)tile_count(h, p->S) * tile_count(w, p->S) * views;
}

/* numpy.pad 'reflect' index: q mirrored into [0, L) without repeating the
 * edge pixel. */
static int reflect(int q, int L)
{
    if (L == 1)
        return 0;
    int period = 2 * (L - 1);
    int m = q % period;
    if (m < 0)
        m += period;
    return m >= L ? period - m : m;
}

/* Fills batch slot k with the canvas tile at (oy, ox) in view t. */
static void fill_slot(struct cu_predictor *p, int k, int oy, int ox, int t)
{
    const int S = p->S;
    size_t ss = (size_t)S * (size_t)S;
    for (int c = 0; c < p->cin; c++) {
        float *dst = p->hx + ((size_t)k * (size_t)p->cin + (size_t)c) * ss;
        const float *src = p->src + (size_t)c * (size_t)p->ch * (size_t)p->cw;
        for (int i = 0; i < S; i++) {
            const float *row = src + (size_t)reflect(oy + i, p->ch) * (size_t)p->cw;
            float *d = dst + (size_t)i * (size_t)S;
            if (ox >= 0 && ox + S <= p->cw)
                memcpy(d, row + ox, sizeof *d * (size_t)S);
            else
                for (int j = 0; j < S; j++)
                    d[j] = row[reflect(ox + j, p->cw)];
        }
        cu_augment_apply(dst, S, t, p->scratch);
    }
    p->slot_oy[k] = oy, p->slot_ox[k] = ox, p->slot_t[k] = t;
}

/* Runs the filled slots through the network and adds each output, turned
 * back and weighted, into the accumulators. */
static enum cu_status flush(struct cu_predictor *p, struct cu_err *err)
{
    int n = p->nslot;
    if (n == 0)
        return CU_OK;
    p->nslot = 0;
    struct cu_tensor *logits = NULL;
    enum cu_status st = cu_tensor_set_batch(p->x, n, err);
    if (!st)
        st = cu_tensor_set_batch(p->y, n, err);
    if (!st)
        st = cu_tensor_upload(p->x, p->hx, err);
    if (!st)
        st = cu_unet_forward(p->net, p->x, &logits, err);
    if (!st)
        st = cu_sigmoid_forward(p->be, p->y, logits, err);
    if (!st)
        st = cu_tensor_download(p->y, p->hy, err);
    if (st)
        return st;
    const int S = p->S;
    const size_t ss = (size_t)S * (size_t)S, plane = (size_t)p->ch * (size_t)p->cw;
    for (int k = 0; k < n; k++) {
        int oy = p->slot_oy[k], ox = p->slot_ox[k];
        for (int c = 0; c < p->K; c++) {
            float *out = p->hy + ((size_t)k * (size_t)p->K + (size_t)c) * ss;
            float *acc = p->acc + (size_t)c * plane;
            cu_tta_invert(out, S, p->slot_t[k], p->scratch);
            for (int i = 0; i < S; i++) {
                int y = oy + i;
                if (y < 0 || y >= p->ch)
                    continue;
                for (int j = 0; j < S; j++) {
                    int x = ox + j;
                    if (x < 0 || x >= p->cw)
                        continue;
                    float wgt = p->wy[i] * p->wx[j];
                    size_t q = (size_t)y * (size_t)p->cw + (size_t)x;
                    acc[q] += wgt * out[(size_t)i * (size_t)S + (size_t)j];
                    if (c == 0)
                        p->wsum[q] += wgt;
                }
            }
        }
    }
    return CU_OK;
}

static enum cu_status grow_acc(struct cu_predictor *p, size_t n, struct cu_err *err)
{
    if (n > p->acc_cap) {
        float *a = realloc(p->acc, sizeof *a * n * (size_t)p->K);
        if (a)
            p->acc = a;
        float *w = a ? realloc(p->wsum, sizeof *w * n) : NULL;
        if (w)
            p->wsum = w;
        if (!a || !w)
            return cu_fail(err, CU_EDEVICE, "predict: out of host memory for a %zu-pixel image", n);
        p->acc_cap = n;
    }
    memset(p->acc, 0, sizeof *p->acc * n * (size_t)p->K);
    memset(p->wsum, 0, sizeof *p->wsum * n);
    return CU_OK;
}

/* Predicts the canvas (p->src, ch x cw) into p->acc / p->wsum. */
static enum cu_status predict_canvas(struct cu_predictor *p, struct cu_err *err)
{
    const int S = p->S, views = p->o.tta ? 8 : 1;
    int ny = tile_count(p->ch, S), nx = tile_count(p->cw, S);
    p->wy = ny > 1 ? p->win : p->ones;
    p->wx = nx > 1 ? p->win : p->ones;
    enum cu_status st = grow_acc(p, (size_t)p->ch * (size_t)p->cw, err);
    p->nslot = 0;
    for (int ty = 0; ty < ny && !st; ty++)
        for (int tx = 0; tx < nx && !st; tx++)
            for (int t = 0; t < views && !st; t++) {
                fill_slot(p, p->nslot++, tile_origin(p->ch, S, ty), tile_origin(p->cw, S, tx), t);
                if (p->nslot == p->cap)
                    st = flush(p, err);
            }
    if (!st)
        st = flush(p, err);
    return st;
}

static enum cu_status grow_work(struct cu_predictor *p, size_t n, struct cu_err *err)
{
    if (n <= p->work_cap)
        return CU_OK;
    float *w = realloc(p->work, sizeof *w * n);
    if (!w)
        return cu_fail(err, CU_EDEVICE, "predict: out of host memory for a %zu-float image", n);
    p->work = w, p->work_cap = n;
    return CU_OK;
}

/* maps (K, ch, cw) = the accumulators over their weights. */
static void normalise(const struct cu_predictor *p, float *maps)
{
    size_t n = (size_t)p->ch * (size_t)p->cw;
    for (int c = 0; c < p->K; c++)
        for (size_t q = 0; q < n; q++)
            maps[(size_t)c * n + q] = p->acc[(size_t)c * n + q] / p->wsum[q];
}

int cu_predictor_outputs(const struct cu_predictor *p) { return p->K; }

void cu_predictor_describe(const struct cu_predictor *p, char *buf, size_t size)
{
    char prep[40];
    cu_prep_name(p->prep, prep, sizeof prep);
    const char *mode = p->o.mode == CU_PREDICT_MODEL ? (p->crop_trained ? "tile" : "resize")
                                                     : cu_predict_mode_name(p->o.mode);
    char seeds[96] = "";
    const struct cu_inst_opts *in = &p->o.inst;
    if (p->K > 1)
        snprintf(seeds, sizeof seeds, ", seeds body - contour - %g border > %g", (double)in->border_weight,
                 (double)(in->seed_threshold >= 0 ? in->seed_threshold : in->threshold));
    snprintf(buf, size, "mode %s%s%s%s, scale %g, %s%d output%s, threshold %g%s, min size %d%s", mode,
             p->o.mode == CU_PREDICT_MODEL ? " (the model's)" : "", prep[0] ? ", prep " : "", prep, p->scale,
             p->crop_trained ? "trained on crops, " : "", p->K, p->K == 1 ? "" : "s (body, contour, border)",
             (double)in->threshold, seeds, in->min_size, p->o.tta ? ", 8 views (tta)" : "");
}

enum cu_status cu_predictor_maps(struct cu_predictor *p, const struct cu_image *img, float *maps,
                                 struct cu_err *err)
{
    if (img->c != p->cin || img->h < 1 || img->w < 1)
        return cu_fail(err, CU_EUSAGE, "predict: image is %dx%dx%d, the model takes %d channels", img->c, img->h,
                       img->w, p->cin);
    const int S = p->S;
    const float *src = img->px;
    int h = img->h, w = img->w;
    size_t n = (size_t)h * (size_t)w;
    enum cu_status st = CU_OK;
    if (p->prep) { /* the model's preprocessing, on a copy */
        st = grow_work(p, (size_t)p->cin * n, err);
        if (st)
            return st;
        memcpy(p->work, img->px, sizeof *p->work * (size_t)p->cin * n);
        cu_prep_image(p->work, h, w, p->prep);
        src = p->work;
    }
    if (cu_predictor_mode_for(p, h, w) == CU_PREDICT_TILE) {
        if (p->scale == 1.0) {
            p->src = src, p->ch = h, p->cw = w;
            st = predict_canvas(p, err);
            if (!st)
                normalise(p, maps);
            return st;
        }
        /* tiles of the image rescaled as in training, maps scaled back */
        int sh = (int)lround(h * p->scale), sw = (int)lround(w * p->scale);
        sh = sh < 1 ? 1 : sh, sw = sw < 1 ? 1 : sw;
        size_t sn = (size_t)sh * (size_t)sw;
        float *scaled = malloc(sizeof *scaled * sn * (size_t)(p->cin > p->K ? p->cin : p->K));
        if (!scaled)
            return cu_fail(err, CU_EDEVICE, "predict: out of host memory for a %dx%d image", sw, sh);
        st = cu_resize(src, p->cin, h, w, scaled, sh, sw, err);
        if (!st) {
            p->src = scaled, p->ch = sh, p->cw = sw;
            st = predict_canvas(p, err);
        }
        if (!st) {
            normalise(p, scaled);
            st = cu_resize(scaled, p->K, sh, sw, maps, h, w, err);
        }
        free(scaled);
        return st;
    }
    st = cu_resize(src, p->cin, h, w, p->canvas, S, S, err);
    if (st)
        return st;
    p->src = p->canvas, p->ch = S, p->cw = S;
    st = predict_canvas(p, err);
    if (st)
        return st;
    size_t ss = (size_t)S * (size_t)S;
    float *small = malloc(sizeof *small * ss * (size_t)p->K);
    if (!small)
        return cu_fail(err, CU_EDEVICE, "predict: out of host memory");
    normalise(p, small);
    st = cu_resize(small, p->K, S, S, maps, h, w, err);
    free(small);
    return st;
}

enum cu_status cu_predictor_prob(struct cu_predictor *p, const struct cu_image *img, float *prob,
                                 struct cu_err *err)
{
    if (p->K == 1)
        return cu_predictor_maps(p, img, prob, err);
    size_t n = (size_t)img->h * (size_t)img->w;
    float *maps = malloc(sizeof *maps * n * (size_t)p->K);
    if (!maps)
        return cu_fail(err, CU_EDEVICE, "predict: out of host memory for a %dx%d image", img->w, img->h);
    enum cu_status st = cu_predictor_maps(p, img, maps, err);
    if (!st)
        memcpy(prob, maps, sizeof *prob * n);
    free(maps);
    return st;
}

/* ---- one image with its nuclei (predict_impl.h) ---- */

enum cu_status cu_pred_image_run(struct cu_predictor *p, const struct cu_image *img, struct cu_pred_image *pi,
                                 struct cu_err *err)
{
    size_t n = (size_t)img->h * (size_t)img->w;
    if (n > pi->cap || p->K > pi->kcap) {
        cu_pred_image_free(pi);
        pi->prob = malloc(sizeof *pi->prob * n * (size_t)p->K);
        pi->labels = malloc(sizeof *pi->labels * n);
        pi->mask = malloc(n);
        if (!pi->prob || !pi->labels || !pi->mask) {
            cu_pred_image_free(pi);
            return cu_fail(err, CU_EDEVICE, "predict: out of host memory for a %dx%d image", img->w, img->h);
        }
        pi->cap = n, pi->kcap = p->K;
    }
    pi->n = 0, pi->K = p->K;
    float *maps = pi->prob;
    enum cu_status st = cu_predictor_maps(p, img, maps, err);
    if (st)
        return st;
    if (p->K == 1)
        return cu_instances_from_prob(pi->labels, &pi->n, pi->mask, maps, img->h, img->w, &p->o.inst, err);
    /* body, contour, border (nuclei.h): seeds from all three */
    return cu_instances_from_maps(pi->labels, &pi->n, pi->mask, maps, maps + n, maps + 2 * n, img->h, img->w,
                                  &p->o.inst, err);
}

void cu_pred_image_free(struct cu_pred_image *pi)
{
    free(pi->prob), free(pi->labels), free(pi->mask);
    memset(pi, 0, sizeof *pi);
}
