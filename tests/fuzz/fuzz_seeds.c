/* fuzz_seeds.c: the seed corpus of every fuzz target, written from C so
 * that CI can make it at run time with nothing but the build (fuzz.h).
 * Seeds are small valid inputs of every flavour the reader accepts, plus a
 * few near misses; the fuzzers mutate from there. Also the small U-Net
 * the safetensors target loads into. Leaves out the targets themselves. */
#include "fuzz.h"

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/image.h"
#include "clunet/model_file.h"
#include "clunet/rle.h"

static int put_file(const char *dir, const char *name, const void *data, size_t n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

/* ---- safetensors: models of the seed net, and one that does not fit ---- */

struct cu_unet *fz_seed_net(void)
{
    static struct cu_backend *be;
    static struct cu_unet *net;
    struct cu_err err = {0};
    if (net)
        return net;
    struct cu_unet_config cfg = {16, 1.0 / 32, CU_UPSAMPLE_BILINEAR, 3, 1};
    if ((!be && cu_backend_open("ref", &be, &err)) || cu_unet_new(be, &cfg, 1, &net, &err)) {
        fprintf(stderr, "fuzz: seed net: %s\n", err.msg);
        abort(); /* a broken build, not a finding */
    }
    return net;
}

static int model_seed(const char *dir, const char *name, struct cu_unet *net, int flags)
{
    char p[4096];
    struct cu_err err = {0};
    struct cu_meta_kv facts[] = {{"epochs", "3"}, {"val_dice", "0.5"}};
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (cu_model_save(p, net, flags, facts, 2, &err)) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int seeds_safetensors(const char *dir)
{
    struct cu_unet *net = fz_seed_net();
    int n = 0;
    n += model_seed(dir, "model", net, 0) == 0;
    n += model_seed(dir, "checkpoint", net, CU_MODEL_ADAM) == 0;
    n += model_seed(dir, "model_f16", net, CU_MODEL_F16) == 0;
    /* A transposed-up-sampling model: loads as a file, refused by the net. */
    struct cu_unet *t = NULL;
    struct cu_err err = {0};
    struct cu_unet_config cfg = {16, 1.0 / 32, CU_UPSAMPLE_TRANSPOSED, 3, 1};
    if (!cu_unet_new(cu_unet_backend(net), &cfg, 1, &t, &err))
        n += model_seed(dir, "transposed", t, 0) == 0;
    cu_unet_free(t);
    /* Hand-made small headers: a bare tensor, odd dtypes, bad offsets. */
    static const char *const hdrs[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        "{\"__metadata__\":{\"format\":\"clunet-unet\"},\"a\":{\"dtype\":\"F16\",\"shape\":[2],"
        "\"data_offsets\":[0,4]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
        "{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"F32\","
        "\"shape\":[1],\"data_offsets\":[2,6]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},\"b\":{\"dtype\":\"F32\","
        "\"shape\":[1],\"data_offsets\":[0,4]}}",
    };
    for (size_t i = 0; i < sizeof hdrs / sizeof *hdrs; i++) {
        unsigned char buf[512] = {0};
        size_t len = strlen(hdrs[i]);
        for (int b = 0; b < 8; b++)
            buf[b] = (unsigned char)(len >> (8 * b));
        memcpy(buf + 8, hdrs[i], len);
        char name[32];
        snprintf(name, sizeof name, "hand%zu", i);
        n += put_file(dir, name, buf, 8 + len + 8) == 0;
    }
    return n;
}

/* ---- PNG: every flavour libpng writes, small ---- */

static int png_seed(const char *dir, const char *name, int color, int depth, int interlace, int w, int h)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int ch = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGBA ? 4 : color == PNG_COLOR_TYPE_GA ? 2 : 1;
    size_t rowbytes = ((size_t)w * (size_t)ch * (size_t)depth + 7) / 8;
    unsigned char *buf = calloc((size_t)h, rowbytes);
    png_bytep *rows = calloc((size_t)h, sizeof *rows);
    int rc = -1;
    if (!png || !info || !buf || !rows || setjmp(png_jmpbuf(png)))
        goto out;
    for (size_t i = 0; i < (size_t)h * rowbytes; i++)
        buf[i] = (unsigned char)((i * 37u + 11u) % 251u); /* some structure, all values in range */
    if (color == PNG_COLOR_TYPE_PALETTE)
        for (size_t i = 0; i < (size_t)h * rowbytes; i++)
            buf[i] &= (unsigned char)(depth == 8 ? 3 : 0x55); /* indices 0..3 (or 0/1 per field) */
    for (int y = 0; y < h; y++)
        rows[y] = buf + (size_t)y * rowbytes;
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
        png_byte trns[2] = {0, 128};
        png_set_PLTE(png, info, pal, depth == 1 ? 2 : 4);
        png_set_tRNS(png, info, trns, 2, NULL);
    }
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    rc = 0;
out:
    png_destroy_write_struct(&png, &info);
    free(buf);
    free(rows);
    if (fclose(f) != 0)
        rc = -1;
    if (rc)
        remove(p); /* no broken seed left behind */
    return rc;
}

static int seeds_png(const char *dir)
{
    static const struct {
        const char *name;
        int color, depth, interlace, w, h;
    } s[] = {
        {"gray1", PNG_COLOR_TYPE_GRAY, 1, 0, 9, 5},      {"gray2", PNG_COLOR_TYPE_GRAY, 2, 0, 7, 3},
        {"gray4", PNG_COLOR_TYPE_GRAY, 4, 0, 5, 4},      {"gray8", PNG_COLOR_TYPE_GRAY, 8, 0, 6, 5},
        {"gray16", PNG_COLOR_TYPE_GRAY, 16, 0, 4, 3},    {"ga8", PNG_COLOR_TYPE_GA, 8, 0, 3, 4},
        {"ga16", PNG_COLOR_TYPE_GA, 16, 0, 3, 2},        {"rgb8", PNG_COLOR_TYPE_RGB, 8, 0, 5, 5},
        {"rgb16", PNG_COLOR_TYPE_RGB, 16, 0, 2, 3},      {"rgba8", PNG_COLOR_TYPE_RGBA, 8, 0, 4, 4},
        {"rgba16", PNG_COLOR_TYPE_RGBA, 16, 0, 3, 3},    {"pal8", PNG_COLOR_TYPE_PALETTE, 8, 0, 6, 4},
        {"pal1", PNG_COLOR_TYPE_PALETTE, 1, 0, 11, 3},   {"adam7_rgb", PNG_COLOR_TYPE_RGB, 8, 1, 9, 9},
        {"adam7_gray16", PNG_COLOR_TYPE_GRAY, 16, 1, 5, 7},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        n += png_seed(dir, s[i].name, s[i].color, s[i].depth, s[i].interlace, s[i].w, s[i].h) == 0;
    static const char not_png[] = "\x89PNG\r\n\x1a\nthis is not a chunk";
    n += put_file(dir, "not_png", not_png, sizeof not_png - 1) == 0;
    return n;
}

/* ---- submission CSV ---- */

static int seeds_csv(const char *dir)
{
    static const char *const csv[] = {
        "ImageId,EncodedPixels\nimg_a,1 3 10 2\nimg_a,20 4\nimg_b,\n",
        "ImageId,EncodedPixels\r\nimg,5 1\r\nimg,7 2 12 1\r\n",
        "ImageId,EncodedPixels\nx,1 64\n",
        "ImageId,EncodedPixels\na,3 2 1 1\n",
        "ImageId,EncodedPixels\n",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof csv / sizeof *csv; i++) {
        char name[32];
        snprintf(name, sizeof name, "csv%zu", i);
        n += put_file(dir, name, csv[i], strlen(csv[i])) == 0;
    }
    /* One written by clunet itself. */
    int32_t lab[8 * 8] = {0};
    for (int i = 0; i < 64; i++)
        lab[i] = (i % 8 < 3 && i / 8 < 4) ? 1 : (i % 8 > 5 && i / 8 > 4) ? 2 : 0;
    struct cu_sub *s = NULL;
    struct cu_err err = {0};
    char p[4096];
    snprintf(p, sizeof p, "%s/written", dir);
    if (!cu_sub_new(&s, &err) && !cu_sub_add(s, "img_w", lab, 8, 8, &err) && !cu_sub_write(s, p, &err))
        n++;
    cu_sub_free(s);
    return n;
}

/* ---- dataset trees (the format is fuzz_dataset.c's) ---- */

static int seeds_dataset(const char *dir)
{
    static const char *const trees[] = {
        "a/images/a.png=1\na/masks/m1.png=2\na/masks/m2.png=2\nb/images/b.png=1\nb/masks/x.png=2\n",
        "a/images/a.png=1\nb/images/b.png=1\n",
        "images/p.png=1\nmasks/p.png=2\nimages/q.png=1\nmasks/q_mask.png=2\n",
        "x.png=1\ny.png=3\nz.png=0\n",
        "stage1_train/a/images/a.png=1\nstage1_train/a/masks/m.png=4\n",
        "a/images/a.png=1\na/masks/\n",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof trees / sizeof *trees; i++) {
        char name[32];
        snprintf(name, sizeof name, "tree%zu", i);
        n += put_file(dir, name, trees[i], strlen(trees[i])) == 0;
    }
    return n;
}

/* ---- TIFF and JPEG: the committed reader fixtures (datasets/images) ---- */

/* Copies every datasets/images/<name> ending in one of exts (under
 * $CLUNET_SOURCE_ROOT, else the current folder) into dir, each also cut
 * to its first half. */
static int seeds_fixtures(const char *dir, const char *const *exts, int n_exts)
{
    const char *root = getenv("CLUNET_SOURCE_ROOT");
    char src[4096];
    snprintf(src, sizeof src, "%s/datasets/images", root ? root : ".");
    DIR *d = opendir(src);
    if (!d) {
        fprintf(stderr, "fuzz: %s: cannot list the fixtures\n", src);
        return -1;
    }
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *dot = strrchr(e->d_name, '.');
        int want = 0;
        for (int k = 0; dot && k < n_exts; k++)
            want |= !strcmp(dot + 1, exts[k]);
        if (!want)
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", src, e->d_name);
        FILE *f = fopen(p, "rb");
        unsigned char buf[16384];
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        n += len && put_file(dir, e->d_name, buf, len) == 0;
        char cut[300]; /* a near miss: the first half */
        snprintf(cut, sizeof cut, "%.250s.cut", e->d_name);
        n += len && put_file(dir, cut, buf, len / 2) == 0;
    }
    closedir(d);
    return n;
}

int fz_make_seeds(const char *target, const char *dir)
{
    if (!strcmp(target, "tiff"))
        return seeds_fixtures(dir, (const char *const[]){"tif"}, 1);
    if (!strcmp(target, "jpeg"))
        return seeds_fixtures(dir, (const char *const[]){"jpg"}, 1);
    if (!strcmp(target, "safetensors"))
        return seeds_safetensors(dir);
    if (!strcmp(target, "png"))
        return seeds_png(dir);
    if (!strcmp(target, "csv"))
        return seeds_csv(dir);
    if (!strcmp(target, "dataset"))
        return seeds_dataset(dir);
    if (!strcmp(target, "zip") || !strcmp(target, "keras_config"))
        return fz_seeds_keras(target, dir);
    fprintf(stderr, "fuzz: unknown target %s\n", target);
    return -1;
}
