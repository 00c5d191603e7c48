/* test_model_file.c: safetensors models and checkpoints: a round trip of
 * weights, Adam moments and metadata (bitwise), the file's byte layout, and
 * every kind of broken file giving CU_EINPUT with a message that names the
 * file (truncated, huge header length, bad JSON, wrong dtype, offsets out of
 * range or overlapping, shape mismatch, missing and unknown tensors, wrong
 * format metadata). Files go to a fresh folder under /tmp, removed after. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/model_file.h"

static struct cu_backend *be;
static char dir[64];

static const char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static struct cu_unet *build(int S, double c, enum cu_upsample u)
{
    struct cu_unet_config cfg = {S, c, u, 3, 1};
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    if (cu_unet_new(be, &cfg, 2, &net, &err)) {
        fprintf(stderr, "FAIL building: %s\n", err.msg);
        exit(1);
    }
    return net;
}

static int same_tensor(const struct cu_tensor *a, const struct cu_tensor *b)
{
    float *x = tu_download(a), *y = tu_download(b);
    int same = cu_tensor_numel(a) == cu_tensor_numel(b) && memcmp(x, y, cu_tensor_numel(a) * sizeof *x) == 0;
    free(x), free(y);
    return same;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* A net with weights and non-zero moments: one training step. */
static struct cu_unet *trained_net(int S, double c, enum cu_upsample u)
{
    struct cu_unet *net = build(S, c, u);
    struct cu_err err = {0};
    uint64_t rng = 3;
    size_t n = 2 * (size_t)S * S;
    float *xh = malloc(3 * n * sizeof *xh), *th = malloc(n * sizeof *th);
    tu_fill_uniform(xh, 3 * n, &rng, 0, 1);
    for (size_t i = 0; i < n; i++)
        th[i] = (float)(i % 3 == 0);
    struct cu_tensor *x = tu_tensor(be, (struct cu_shape){2, 3, S, S}, "x", xh);
    struct cu_tensor *t = tu_tensor(be, (struct cu_shape){2, 1, S, S}, "t", th);
    struct cu_adam hp = CU_ADAM_DEFAULTS;
    tu_ok(cu_unet_init_he(net, 11, &err), &err, "init");
    tu_ok(cu_unet_train_step(net, x, t, CU_LOSS_BCE, &hp, 1, NULL, &err), &err, "train step");
    cu_tensor_free(x), cu_tensor_free(t);
    free(xh), free(th);
    return net;
}

static void test_round_trip(void)
{
    struct cu_unet *net = trained_net(32, 0.25, CU_UPSAMPLE_TRANSPOSED);
    struct cu_err err = {0};
    const char *path = tmp_path("ckpt.safetensors");
    const struct cu_meta_kv facts[] = {{"epochs", "7"}, {"val_dice", "0.8125"}, {"rng", "12345678901234567890"}};
    if (!tu_ok(cu_model_save(path, net, CU_MODEL_ADAM, facts, 3, &err), &err, "save checkpoint"))
        return;
    int np = cu_unet_n_params(net);
    long long floats = 3 * cu_unet_param_total(net);
    long size = file_size(path);
    TU_CHECK(size > floats * 4 && size < floats * 4 + 16384, "checkpoint is %ld bytes: %lld floats + header", size,
             floats);
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, "ckpt.safetensors.tmp.%ld", (long)getpid());
    TU_CHECK(access(tmp_path(tmpname), F_OK) != 0, "no temporary file left behind");
    struct cu_unet *back = NULL;
    struct cu_st_file *f = NULL;
    if (!tu_ok(cu_model_load(be, path, 2, CU_MODEL_ADAM, &back, &f, &err), &err, "load checkpoint"))
        return;
    const struct cu_unet_config *cfg = cu_unet_config(back);
    TU_CHECK(cfg->image_size == 32 && cfg->channel_rate == 0.25 && cfg->upsample == CU_UPSAMPLE_TRANSPOSED &&
                 cfg->input_channels == 3,
             "configuration comes back from the metadata: S=%d c=%g %s in=%d", cfg->image_size, cfg->channel_rate,
             cu_upsample_name(cfg->upsample), cfg->input_channels);
    const char *fmt = cu_st_file_meta(f, "format"), *rate = cu_st_file_meta(f, "channel_rate");
    const char *ep = cu_st_file_meta(f, "epochs"), *rng = cu_st_file_meta(f, "rng");
    TU_CHECK(fmt && strcmp(fmt, "clunet-unet") == 0 && rate && strcmp(rate, "0.25") == 0 && ep &&
                 strcmp(ep, "7") == 0 && rng && strcmp(rng, "12345678901234567890") == 0,
             "metadata: format %s, channel_rate %s, epochs %s, rng %s", fmt, rate, ep, rng);
    TU_CHECK(cu_st_file_count(f) == 3 * np, "file holds %d tensors (3 x %d parameters)", cu_st_file_count(f), np);
    const struct cu_st_entry *b = cu_st_file_find(f, "dec2.conv1.bias");
    TU_CHECK(b && b->ndim == 1 && b->shape[0] == 16, "biases are stored 1-D: dec2.conv1.bias [%lld]",
             b ? (long long)b->shape[0] : -1LL);
    const struct cu_st_entry *w = cu_st_file_find(f, "dec2.up.weight");
    TU_CHECK(w && w->ndim == 4 && w->shape[0] == 32 && w->shape[1] == 16 && w->shape[2] == 2,
             "transposed weight stored [Cin 32, Cout 16, 2, 2]");
    int same = 1;
    for (int i = 0; i < np; i++) {
        const struct cu_unet_param *p = cu_unet_param(net, i), *q = cu_unet_param(back, i);
        same = same && same_tensor(p->w, q->w) && same_tensor(p->m, q->m) && same_tensor(p->v, q->v);
    }
    TU_CHECK(same, "all %d parameters and their Adam moments come back bitwise", np);
    const struct cu_unet_param *m = cu_unet_param_find(back, "enc1.conv1.weight");
    float *mv = tu_download(m->m);
    TU_CHECK(mv[0] != 0, "moments are really there (m[0] = %g)", mv[0]);
    free(mv);
    cu_st_file_free(f);
    cu_unet_free(back);
    /* a model without moments loads with zero moments */
    const char *mpath = tmp_path("model.safetensors");
    tu_ok(cu_model_save(mpath, net, 0, NULL, 0, &err), &err, "save model");
    tu_ok(cu_model_load(be, mpath, 1, 0, &back, NULL, &err), &err, "load model");
    if (back) {
        float *z = tu_download(cu_unet_param_find(back, "head.conv.weight")->v);
        TU_CHECK(z[0] == 0 && same_tensor(cu_unet_param(net, 3)->w, cu_unet_param(back, 3)->w),
                 "model file: weights equal, moments zero");
        free(z);
        cu_unet_free(back);
    }
    cu_err_clear(&err);
    TU_CHECK(cu_model_load(be, mpath, 1, CU_MODEL_ADAM, &back, NULL, &err) == CU_EINPUT &&
                 strstr(err.msg, mpath) && strstr(err.msg, "adam."),
             "asking a model file for moments: %s", err.msg);
    const struct cu_meta_kv clash[] = {{"image_size", "64"}};
    cu_err_clear(&err);
    TU_CHECK(cu_model_save(mpath, net, 0, clash, 1, &err) == CU_EUSAGE, "a fact may not replace image_size: %s",
             err.msg);
    cu_unet_free(net);
}

/* Writes an 8-byte length (len_field), the header text and data_len zero bytes. */
static const char *raw_file(const char *name, unsigned long long len_field, const char *hdr, size_t data_len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    unsigned char lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (unsigned char)(len_field >> (8 * i));
    fwrite(lb, 1, 8, f);
    fwrite(hdr, 1, strlen(hdr), f);
    for (size_t i = 0; i < data_len; i++)
        fputc(0, f);
    fclose(f);
    return path;
}

static void expect_bad(const char *what, const char *path, const char *needle)
{
    struct cu_err err = {0};
    struct cu_unet *net = NULL;
    enum cu_status st = cu_model_load(be, path, 1, 0, &net, NULL, &err);
    TU_CHECK(st == CU_EINPUT && strstr(err.msg, path) && strstr(err.msg, needle) && !net, "%s: status %d: %s", what,
             (int)st, err.msg);
    cu_unet_free(net);
}

static void test_bad_files(void)
{
    struct cu_unet *net = trained_net(16, 0.125, CU_UPSAMPLE_BILINEAR);
    struct cu_err err = {0};
    const char *good = tmp_path("good.safetensors");
    tu_ok(cu_model_save(good, net, 0, NULL, 0, &err), &err, "save");
    long size = file_size(good);
    /* truncated copies: inside the data, inside the header, inside the length */
    FILE *in = fopen(good, "rb");
    unsigned char *buf = malloc((size_t)size);
    if (!in || fread(buf, 1, (size_t)size, in) != (size_t)size)
        tu_check(0, "reading back %s", good);
    if (in)
        fclose(in);
    const long cuts[] = {size - 4, 200, 5};
    const char *needles[] = {"outside", "exceeds", "truncated"};
    for (int i = 0; i < 3; i++) {
        const char *p = tmp_path(i == 0 ? "cut0.safetensors" : i == 1 ? "cut1.safetensors" : "cut2.safetensors");
        FILE *o = fopen(p, "wb");
        fwrite(buf, 1, (size_t)cuts[i], o);
        fclose(o);
        expect_bad("truncated file", p, needles[i]);
    }
    free(buf);
    expect_bad("huge header length", raw_file("huge.safetensors", 0xFFFFFFFFFFFFull, "{}", 16), "header length");
    expect_bad("bad JSON", raw_file("json.safetensors", 10, "{\"a\": [1,}", 0), "bad JSON");
    expect_bad("header not an object", raw_file("arr.safetensors", 2, "[]", 0), "not a JSON object");
    const char *f64 = "{\"x\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
    expect_bad("wrong dtype", raw_file("f64.safetensors", strlen(f64), f64, 16), "F64");
    const char *oob = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    expect_bad("offsets out of range", raw_file("oob.safetensors", strlen(oob), oob, 8), "outside");
    const char *neg = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}";
    expect_bad("negative offset", raw_file("neg.safetensors", strlen(neg), neg, 8), "outside");
    const char *span = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    expect_bad("offsets disagree with shape", raw_file("span.safetensors", strlen(span), span, 8), "needs 12 bytes");
    const char *ovl = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    expect_bad("overlapping tensors", raw_file("ovl.safetensors", strlen(ovl), ovl, 12), "overlap");
    const char *nometa = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    expect_bad("no clunet metadata", raw_file("nometa.safetensors", strlen(nometa), nometa, 4), "not a clunet model");
    expect_bad("missing file", tmp_path("absent.safetensors"), "No such file");

    /* well-formed files that do not fit the model their metadata describes */
    struct cu_unet *other = build(16, 0.25, CU_UPSAMPLE_BILINEAR);
    struct cu_st_writer *w = NULL;
    const char *meta[][2] = {{"format", "clunet-unet"}, {"version", "1"},  {"image_size", "16"},
                             {"channel_rate", "0.125"}, {"upsample", "bilinear"}, {"input_channels", "3"}};
    for (int kind = 0; kind < 4; kind++) {
        struct cu_unet *src = kind == 0 ? other : net;
        cu_st_writer_new(&w, &err);
        for (int i = 0; i < 6; i++)
            cu_st_writer_meta(w, meta[i][0], kind == 3 && i == 2 ? "40" : meta[i][1], &err);
        for (int i = 0; i < cu_unet_n_params(src); i++) {
            const struct cu_tensor *t = cu_unet_param(src, i)->w;
            int64_t shape[4] = {t->n, t->c, t->h, t->w};
            if (kind == 1 && strcmp(t->name, "dec3.conv2.weight") == 0)
                continue;
            int bias = strstr(t->name, ".bias") != NULL;
            cu_st_writer_add_tensor(w, t->name, bias ? 1 : 4, shape, t, &err);
        }
        if (kind == 2) {
            float one = 1;
            int64_t sh1 = 1;
            cu_st_writer_add(w, "enc9.conv1.bias", 1, &sh1, &one, &err);
        }
        const char *p = tmp_path(kind == 0 ? "shape.safetensors" : kind == 1 ? "missing.safetensors"
                                 : kind == 2 ? "extra.safetensors" : "size40.safetensors");
        tu_ok(cu_st_writer_write(w, p, &err), &err, "write");
        cu_st_writer_free(w);
        const char *what = kind == 0 ? "shape mismatch (c=0.25 tensors, c=0.125 metadata)"
                           : kind == 1 ? "missing tensor" : kind == 2 ? "unknown tensor" : "image_size 40";
        expect_bad(what, p, kind == 0 ? "has shape" : kind == 1 ? "dec3.conv2.weight is missing"
                            : kind == 2 ? "enc9.conv1.bias" : "multiple of 16");
    }
    cu_unet_free(other);
    cu_unet_free(net);
}

static void cleanup(void)
{
    static const char *names[] = {"ckpt.safetensors", "model.safetensors",  "good.safetensors",  "cut0.safetensors",
                                  "cut1.safetensors", "cut2.safetensors",   "huge.safetensors",  "json.safetensors",
                                  "arr.safetensors",  "f16.safetensors",    "oob.safetensors",   "neg.safetensors",
                                  "span.safetensors", "ovl.safetensors",    "nometa.safetensors", "shape.safetensors",
                                  "missing.safetensors", "extra.safetensors", "size40.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        remove(tmp_path(names[i]));
    rmdir(dir);
}

int main(void)
{
    struct cu_err err = {0};
    snprintf(dir, sizeof dir, "/tmp/clunet_test_XXXXXX");
    if (!mkdtemp(dir)) {
        tu_check(0, "mkdtemp");
        return tu_finish();
    }
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref"))
        return tu_finish();
    test_round_trip();
    test_bad_files();
    cleanup();
    cu_backend_free(be);
    return tu_finish();
}
