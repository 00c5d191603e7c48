/* test_dataset.c: the dataset loader on folders the test builds (every
 * layout, every kind of bad dataset, with and without skip_bad), instance
 * labels, the split, augmentation, thread-count independence, and a few
 * real DSB2018 samples linked (not copied) from ../shared. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/dataset.h"
#include "clunet/image.h"
#include "clunet/progress.h"
#include "clunet/synth.h"
#include "testutil.h"

enum { S = 32 }; /* test images are S x S: loading at S keeps pixels as they are */

static char root[256];

static const char *P(const char *fmt, const char *a, const char *b)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    char rel[512];
    snprintf(rel, sizeof rel, fmt, a ? a : "", b ? b : "");
    snprintf(buf[k], sizeof buf[k], "%s/%s", root, rel);
    return buf[k];
}

static void mkdirs(const char *path)
{
    char b[1024];
    snprintf(b, sizeof b, "%s", path);
    for (char *p = b + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(b, 0777);
            *p = '/';
        }
    mkdir(b, 0777);
}

/* An RGB image whose pixel (y, x) is (x * 8, y * 8, seed). */
static void put_image(const char *path, int seed, int h, int w)
{
    uint8_t *px = malloc((size_t)h * w * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 8), p[1] = (uint8_t)(y * 8), p[2] = (uint8_t)seed;
        }
    struct cu_err err = {0};
    tu_ok(cu_png_write_rgb8(path, px, h, w, &err), &err, path);
    free(px);
}

/* A 0/255 mask of the rectangle [y0, y1) x [x0, x1). */
static void put_rect(const char *path, int h, int w, int y0, int y1, int x0, int x1)
{
    uint8_t *m = calloc((size_t)h * w, 1);
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            m[y * w + x] = 255;
    struct cu_err err = {0};
    tu_ok(cu_png_write_gray8(path, m, h, w, &err), &err, path);
    free(m);
}

static struct cu_dataset *open_ok(const char *dir, int size, int need_masks, const char *what)
{
    struct cu_dataset_opts o = {.size = size, .need_masks = need_masks};
    struct cu_dataset *ds = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_dataset_open(dir, &o, &ds, &err), &err, what))
        return NULL;
    return ds;
}

/* Expects a failure naming `names` (a path fragment); returns the status. */
static void open_bad(const char *dir, int need_masks, const char *names, const char *what)
{
    struct cu_dataset_opts o = {.size = S, .need_masks = need_masks};
    struct cu_dataset *ds = NULL;
    struct cu_err err = {0};
    enum cu_status st = cu_dataset_open(dir, &o, &ds, &err);
    TU_CHECK(st == CU_EINPUT && strstr(err.msg, names) && !strchr(err.msg, '\n'), "%s: %s", what, err.msg);
    cu_dataset_free(ds);
}

static float mask_at(const struct cu_dataset *ds, int i, int y, int x)
{
    return ds->masks[((size_t)i * ds->size + (size_t)y) * ds->size + (size_t)x];
}

static void dsb_layouts(void)
{
    /* Two samples; in "id1" masks m1 and m2 share the pixel (5, 5). */
    const char *ids[] = {"id2", "id1"}; /* made out of order: loading sorts */
    for (int i = 0; i < 2; i++) {
        mkdirs(P("dsb/%s/images", ids[i], NULL));
        mkdirs(P("dsb/%s/masks", ids[i], NULL));
        put_image(P("dsb/%s/images/%s.png", ids[i], ids[i]), i, S, S);
    }
    put_rect(P("dsb/id1/masks/m1.png", 0, 0), S, S, 2, 6, 2, 6);
    put_rect(P("dsb/id1/masks/m2.png", 0, 0), S, S, 5, 9, 5, 12);
    put_rect(P("dsb/id2/masks/x.png", 0, 0), S, S, 20, 30, 0, 3);
    struct cu_dataset *ds = open_ok(P("dsb", 0, 0), S, 1, "DSB train");
    if (ds) {
        TU_CHECK(ds->layout == CU_LAYOUT_DSB_TRAIN && ds->n == 2 && !strcmp(ds->samples[0].id, "id1") &&
                     !strcmp(ds->samples[1].id, "id2"),
                 "DSB train detected, ids sorted (%s, %s)", ds->n ? ds->samples[0].id : "", ds->n > 1 ? ds->samples[1].id : "");
        /* At S = original size the loader keeps pixels: v / 255, union. */
        float want_g = (float)(7 * 8) / 255.0f, got_g = ds->images[(size_t)1 * S * S + 7 * S + 3];
        TU_CHECK(got_g == want_g, "image pixel kept at native size (%g vs %g)", got_g, want_g);
        int area = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                area += mask_at(ds, 0, y, x) > 0;
        TU_CHECK(area == 16 + 28 - 1 && mask_at(ds, 0, 5, 5) == 1 && mask_at(ds, 0, 0, 0) == 0,
                 "union mask of id1: %d pixels (want 43)", area);
        TU_CHECK(ds->height[0] == S && ds->width[0] == S, "original size kept (%dx%d)", ds->width[0], ds->height[0]);
        struct cu_labels lb = {0};
        int k = 0;
        struct cu_err err = {0};
        if (tu_ok(cu_dataset_labels(ds, 0, &lb, &k, &err), &err, "labels id1")) {
            TU_CHECK(k == 2 && lb.v[5 * S + 5] == 1 && lb.v[5 * S + 6] == 2 && lb.v[2 * S + 2] == 1 && lb.v[0] == 0,
                     "instances: 2, shared pixel kept by the first mask");
            cu_labels_free(&lb);
        }
        struct cu_image u = {0};
        if (tu_ok(cu_dataset_union(ds, 1, &u, &err), &err, "union id2")) {
            TU_CHECK(u.px[25 * S + 1] == 1 && u.px[25 * S + 5] == 0, "union at original size");
            cu_image_free(&u);
        }
        cu_dataset_free(ds);
    }
    /* The same folder one level down, as `clunet synth` writes it. */
    mkdirs(P("wrap", 0, 0));
    rename(P("dsb", 0, 0), P("wrap/stage1_train", 0, 0));
    ds = open_ok(P("wrap", 0, 0), S, 1, "DIR/stage1_train");
    if (ds) {
        size_t n = strlen(ds->dir);
        TU_CHECK(ds->n == 2 && n > 12 && !strcmp(ds->dir + n - 12, "stage1_train"), "descends into %s", ds->dir);
        cu_dataset_free(ds);
    }
    rename(P("wrap/stage1_train", 0, 0), P("dsb", 0, 0));

    /* Test layout: images only. */
    mkdirs(P("dsbtest/t1/images", 0, 0));
    put_image(P("dsbtest/t1/images/t1.png", 0, 0), 3, 20, 28);
    ds = open_ok(P("dsbtest", 0, 0), 16, 0, "DSB test");
    if (ds) {
        TU_CHECK(ds->layout == CU_LAYOUT_DSB_TEST && ds->n == 1 && !ds->masks && ds->height[0] == 20 &&
                     ds->width[0] == 28,
                 "DSB test detected: %s, original 28x20", cu_layout_name(ds->layout));
        cu_dataset_free(ds);
    }
    open_bad(P("dsbtest", 0, 0), 1, "masks are needed", "test layout refused for training");
}

static void pairs_layout(void)
{
    mkdirs(P("pairs/images", 0, 0));
    mkdirs(P("pairs/masks", 0, 0));
    put_image(P("pairs/images/b.png", 0, 0), 1, S, S);
    put_image(P("pairs/images/a.png", 0, 0), 2, S, S);
    put_image(P("pairs/images/c.png", 0, 0), 3, S, S);
    /* a: binary, two blobs touching only diagonally (one 8-connected
     * component) and a separate one */
    uint8_t *m = calloc(S * S, 1);
    m[3 * S + 3] = m[4 * S + 4] = 255;
    m[20 * S + 20] = m[20 * S + 21] = 255;
    struct cu_err err = {0};
    tu_ok(cu_png_write_gray8(P("pairs/masks/a.png", 0, 0), m, S, S, &err), &err, "mask a");
    /* b: 16-bit labels 7, 300, 65535 (named b_mask.png, Cellpose-like) */
    uint16_t *l16 = calloc(S * S, 2);
    l16[0] = 7, l16[1] = 300, l16[S * S - 1] = 65535;
    tu_ok(cu_png_write_gray16(P("pairs/masks/b_mask.png", 0, 0), l16, S, S, &err), &err, "mask b");
    /* c: 8-bit labels 1, 2, 3 */
    memset(m, 0, S * S);
    m[10] = 1, m[11] = 2, m[12] = 3, m[13] = 3;
    tu_ok(cu_png_write_gray8(P("pairs/masks/c.png", 0, 0), m, S, S, &err), &err, "mask c");
    struct cu_dataset *ds = open_ok(P("pairs", 0, 0), S, 1, "pairs");
    if (ds) {
        TU_CHECK(ds->layout == CU_LAYOUT_PAIRS && ds->n == 3 && !strcmp(ds->samples[0].id, "a") &&
                     !strcmp(ds->samples[2].id, "c"),
                 "images/ + masks/ detected, 3 samples sorted");
        TU_CHECK(mask_at(ds, 1, 0, 1) == 1 && mask_at(ds, 1, 31, 31) == 1 && mask_at(ds, 1, 5, 5) == 0,
                 "16-bit label mask binarised (> 0)");
        int want[3] = {2, 3, 3};
        for (int i = 0; i < 3; i++) {
            struct cu_labels lb = {0};
            int k = 0;
            if (tu_ok(cu_dataset_labels(ds, i, &lb, &k, &err), &err, "labels")) {
                int ok = k == want[i];
                if (i == 0)
                    ok &= lb.v[3 * S + 3] == 1 && lb.v[4 * S + 4] == 1 && lb.v[20 * S + 21] == 2;
                if (i == 1)
                    ok &= lb.v[0] == 1 && lb.v[1] == 2 && lb.v[S * S - 1] == 3;
                TU_CHECK(ok, "labels of %s: %d instances (want %d)", ds->samples[i].id, k, want[i]);
                cu_labels_free(&lb);
            }
        }
        cu_dataset_free(ds);
    }
    /* Folder of images only. */
    ds = open_ok(P("pairs/images", 0, 0), 16, 0, "flat");
    if (ds) {
        TU_CHECK(ds->layout == CU_LAYOUT_FLAT && ds->n == 3, "folder of images detected");
        cu_dataset_free(ds);
    }
    free(m);
    free(l16);
}

/* Copies the committed fixture datasets/images/<name> to dst. */
static void put_fixture(const char *name, const char *dst)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", tu_source_path("datasets/images"), name);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    TU_CHECK(in && out, "copy %s", name);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

/* TIFF and JPEG images and masks beside PNGs; other files listed once. */
static void other_formats(void)
{
    mkdirs(P("mixed/images", 0, 0));
    mkdirs(P("mixed/masks", 0, 0));
    put_image(P("mixed/images/a.png", 0, 0), 1, S, S);
    put_rect(P("mixed/masks/a.png", 0, 0), S, S, 2, 5, 2, 5);
    put_fixture("u16_gray_lzw.tif", P("mixed/images/b.tif", 0, 0)); /* 13x9 */
    put_fixture("mask1.tif", P("mixed/masks/b_mask.TIF", 0, 0));    /* 13x9, 1-bit */
    put_fixture("rgb.jpg", P("mixed/images/c.jpeg", 0, 0));         /* 32x24 */
    put_fixture("gray.jpg", P("mixed/masks/c.jpg", 0, 0));
    put_rect(P("mixed/images/notes.txt", 0, 0), 2, 2, 0, 1, 0, 1);
    put_rect(P("mixed/masks/README", 0, 0), 2, 2, 0, 1, 0, 1);
    struct cu_dataset_opts o = {.size = 16, .need_masks = 1};
    struct cu_dataset *ds = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_dataset_scan(P("mixed", 0, 0), &o, &ds, &err), &err, "mixed formats"))
        return;
    TU_CHECK(ds->n == 3 && !strcmp(ds->samples[1].id, "b") && strstr(ds->samples[1].masks, "b_mask.TIF") &&
                 !strcmp(ds->samples[2].id, "c") && strstr(ds->samples[2].masks, "c.jpg"),
             "PNG, TIFF and JPEG samples with their masks (%d)", ds->n);
    char text[1024] = "";
    FILE *f = tmpfile();
    cu_dataset_print_skipped(ds, f);
    rewind(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    TU_CHECK(ds->n_skipped == 2 && strstr(text, "data: skipped 2 files that are not PNG, TIFF or JPEG:") &&
                 strstr(text, "notes.txt") && strstr(text, "README") && tu_count_lines(text) == 1,
             "other files named in one line: %s", text);
    if (tu_ok(cu_dataset_load(ds, &o, &err), &err, "load mixed")) {
        TU_CHECK(ds->height[1] == 9 && ds->width[1] == 13 && ds->height[2] == 24 && ds->width[2] == 32,
                 "original sizes of the TIFF and the JPEG");
        struct cu_image u = {0};
        if (tu_ok(cu_dataset_union(ds, 1, &u, &err), &err, "TIFF mask union")) {
            struct cu_raw_image r;
            if (tu_ok(cu_image_read(ds->samples[1].masks, 0, &r, &err), &err, "mask1")) {
                int bad = 0;
                for (int q = 0; q < 9 * 13; q++)
                    bad |= u.px[q] != (cu_raw_at(&r, (size_t)q) != 0);
                TU_CHECK(!bad, "1-bit TIFF mask: union = its set pixels");
                cu_raw_free(&r);
            }
            cu_image_free(&u);
        }
    }
    cu_dataset_free(ds);
}

static void bad_datasets(void)
{
    struct cu_err err = {0};
    mkdirs(P("empty", 0, 0));
    open_bad(P("empty", 0, 0), 1, "no images found", "empty folder");
    open_bad(P("nothere", 0, 0), 1, "nothere", "missing folder");
    /* DSB sets each with one problem; good1 is fine in all of them. */
    const char *cases[] = {"nomasks", "emptymasks", "size", "corrupt", "nomaskfile"};
    for (int c = 0; c < 5; c++) {
        char base[64];
        snprintf(base, sizeof base, "bad_%s", cases[c]);
        mkdirs(P("%s/good1/images", base, 0));
        mkdirs(P("%s/good1/masks", base, 0));
        put_image(P("%s/good1/images/good1.png", base, 0), 0, S, S);
        put_rect(P("%s/good1/masks/m.png", base, 0), S, S, 1, 4, 1, 4);
        mkdirs(P("%s/x/images", base, 0));
        put_image(P("%s/x/images/x.png", base, 0), 0, S, S);
    }
    /* nomasks: x has no masks folder */
    open_bad(P("bad_nomasks", 0, 0), 1, "bad_nomasks/x/masks", "image without masks folder");
    /* emptymasks: x/masks exists, empty */
    mkdirs(P("bad_emptymasks/x/masks", 0, 0));
    open_bad(P("bad_emptymasks", 0, 0), 1, "bad_emptymasks/x/masks: no mask files", "empty masks folder");
    /* size: x's mask is 16x16 */
    mkdirs(P("bad_size/x/masks", 0, 0));
    put_rect(P("bad_size/x/masks/small.png", 0, 0), 16, 16, 0, 2, 0, 2);
    open_bad(P("bad_size", 0, 0), 1, "bad_size/x/masks/small.png: mask is 16x16", "mask of another size");
    /* corrupt: x.png truncated */
    mkdirs(P("bad_corrupt/x/masks", 0, 0));
    put_rect(P("bad_corrupt/x/masks/m.png", 0, 0), S, S, 0, 2, 0, 2);
    FILE *f = fopen(P("bad_corrupt/x/images/x.png", 0, 0), "r+b");
    if (f) {
        fclose(f);
        truncate(P("bad_corrupt/x/images/x.png", 0, 0), 60);
    }
    open_bad(P("bad_corrupt", 0, 0), 1, "bad_corrupt/x/images/x.png: file is truncated", "truncated image");
    /* nomaskfile: pairs with a missing mask */
    mkdirs(P("bad_pairs/images", 0, 0));
    mkdirs(P("bad_pairs/masks", 0, 0));
    put_image(P("bad_pairs/images/p.png", 0, 0), 0, S, S);
    put_image(P("bad_pairs/images/q.png", 0, 0), 0, S, S);
    put_rect(P("bad_pairs/masks/p.png", 0, 0), S, S, 0, 2, 0, 2);
    open_bad(P("bad_pairs", 0, 0), 1, "bad_pairs/masks/q.png: missing", "pair without its mask");

    /* skip_bad: each bad set loads its good sample and lists the bad one. */
    const char *sets[] = {"bad_nomasks", "bad_emptymasks", "bad_size", "bad_corrupt", "bad_pairs"};
    for (int c = 0; c < 5; c++) {
        struct cu_dataset_opts o = {.size = 16, .need_masks = 1, .skip_bad = 1};
        struct cu_dataset *ds = NULL;
        cu_err_clear(&err);
        if (tu_ok(cu_dataset_open(P("%s", sets[c], 0), &o, &ds, &err), &err, "skip_bad")) {
            TU_CHECK(ds->n == 1 && ds->n_bad == 1 && strstr(ds->bad[0], sets[c]) && ds->masks[0] + 1 > 0,
                     "skip_bad %s: 1 kept, listed: %s", sets[c], ds->n_bad ? ds->bad[0] : "(none)");
            cu_dataset_free(ds);
        }
    }
}

static void split_and_augment(void)
{
    int order[503], order2[503], nt = 0, nt2 = 0;
    cu_split_make(503, 0.1, 0, 0, order, &nt);
    int ident = 1;
    for (int i = 0; i < 503; i++)
        ident &= order[i] == i;
    TU_CHECK(nt == 452 && ident, "split 503 at 0.1: 452 train (Keras int(n*0.9)), val = last 51 in id order");
    cu_split_make(503, 0.1, 1, 5, order, &nt);
    cu_split_make(503, 0.1, 1, 5, order2, &nt2);
    int seen[503] = {0}, same = nt == nt2, perm = 1;
    for (int i = 0; i < 503; i++) {
        same &= order[i] == order2[i];
        perm &= order[i] >= 0 && order[i] < 503 && !seen[order[i]]++;
    }
    cu_split_make(503, 0.1, 1, 6, order2, &nt2);
    int differs = 0;
    for (int i = 0; i < 503; i++)
        differs += order[i] != order2[i];
    TU_CHECK(perm && same && differs > 400, "--split-seed: a permutation, deterministic, seed-dependent");
    cu_split_make(10, 0.1, 0, 0, order, &nt);
    TU_CHECK(nt == 9, "split 10 at 0.1: 9 train");

    /* The 8 transforms: distinct permutations; rot 1 is numpy.rot90. */
    enum { s = 5 };
    float base[s * s], scratch[s * s], out[8][s * s];
    for (int i = 0; i < s * s; i++)
        base[i] = (float)i;
    int all_perm = 1, distinct = 1;
    for (int t = 0; t < 8; t++) {
        memcpy(out[t], base, sizeof base);
        cu_augment_apply(out[t], s, t, scratch);
        int cnt[s * s] = {0};
        for (int i = 0; i < s * s; i++)
            all_perm &= out[t][i] >= 0 && out[t][i] < s * s && !cnt[(int)out[t][i]]++;
        for (int u = 0; u < t; u++)
            distinct &= memcmp(out[t], out[u], sizeof base) != 0;
    }
    /* numpy.rot90(a)[i][j] = a[j][s-1-i]; flip(a)[i][j] = a[i][s-1-j] */
    int rot_ok = 1, flip_ok = 1;
    for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++) {
            rot_ok &= out[1][i * s + j] == base[j * s + (s - 1 - i)];
            flip_ok &= out[4][i * s + j] == base[i * s + (s - 1 - j)];
        }
    TU_CHECK(all_perm && distinct && rot_ok && flip_ok, "8 distinct flips/rotations, rot90 and flip as numpy");

    /* A batch: image and mask get the same transform; seeded. */
    enum { B = 16, SS = 8 };
    float x[B * 3 * SS * SS], y[B * SS * SS], x2[B * 3 * SS * SS], sc[SS * SS];
    uint64_t st = 99;
    for (int i = 0; i < B * 3 * SS * SS; i++)
        x[i] = tu_rand_uniform(&st, 0, 1);
    for (int b = 0; b < B; b++)
        memcpy(y + b * SS * SS, x + b * 3 * SS * SS, sizeof(float) * SS * SS); /* mask = channel 0 */
    memcpy(x2, x, sizeof x);
    uint64_t r1 = 42, r2 = 42;
    cu_augment_batch(x, 3, y, 1, B, SS, &r1, sc);
    int together = 1, changed = 0;
    for (int b = 0; b < B; b++) {
        together &= !memcmp(y + b * SS * SS, x + b * 3 * SS * SS, sizeof(float) * SS * SS);
        changed += memcmp(x + b * 3 * SS * SS, x2 + b * 3 * SS * SS, sizeof(float) * 3 * SS * SS) != 0;
    }
    cu_augment_batch(x2, 3, NULL, 0, B, SS, &r2, sc);
    TU_CHECK(together && changed > 0 && changed < B && !memcmp(x, x2, sizeof x),
             "augment batch: mask follows image, %d of %d changed, same seed same result", changed, B);
}

static void threads_agree(void)
{
    char out[512];
    snprintf(out, sizeof out, "%s/syn", root);
    struct cu_synth_opts so = {.out = out, .count = 9, .width = 70, .height = 50, .seed = 3};
    struct cu_err err = {0};
    if (!tu_ok(clunet_synth(&so, &err), &err, "synth"))
        return;
    struct cu_dataset *a = NULL, *b = NULL;
    struct cu_dataset_opts o1 = {.size = 48, .need_masks = 1, .threads = 1}, o3 = o1;
    o3.threads = 3;
    if (tu_ok(cu_dataset_open(out, &o1, &a, &err), &err, "1 thread") &&
        tu_ok(cu_dataset_open(out, &o3, &b, &err), &err, "3 threads")) {
        size_t n = (size_t)a->n * 48 * 48;
        TU_CHECK(a->n == 9 && b->n == 9 && !memcmp(a->images, b->images, 3 * n * sizeof(float)) &&
                     !memcmp(a->masks, b->masks, n * sizeof(float)),
                 "1 and 3 loader threads give identical arrays");
        float *x = malloc(sizeof(float) * 2 * 3 * 48 * 48), *y = malloc(sizeof(float) * 2 * 48 * 48);
        int idx[2] = {4, 1};
        cu_dataset_gather(a, idx, 2, x, y);
        TU_CHECK(!memcmp(x + 3 * 48 * 48, a->images + 3 * 48 * 48, sizeof(float) * 3 * 48 * 48) &&
                     !memcmp(y, a->masks + 4 * 48 * 48, sizeof(float) * 48 * 48),
                 "gather copies the chosen samples");
        free(x), free(y);
    }
    cu_dataset_free(a);
    cu_dataset_free(b);
}

static void real_samples(void)
{
    /* Four real DSB2018 samples, linked in place (never copied). */
    const char *src = tu_shared_path("datasets/dsb2018/stage1_train");
    DIR *d = opendir(src);
    char *ids[4] = {0};
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) && n < 4;)
        if (e->d_name[0] != '.')
            ids[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    TU_CHECK(n == 4, "%s readable", src);
    mkdirs(P("real", 0, 0));
    for (int i = 0; i < n; i++) {
        char target[1024];
        snprintf(target, sizeof target, "%s/%s", src, ids[i]);
        symlink(target, P("real/%s", ids[i], 0));
    }
    struct cu_dataset_opts o = {.size = 64, .need_masks = 1};
    struct cu_dataset *ds = NULL;
    struct cu_err err = {0};
    double t0 = cu_now();
    if (tu_ok(cu_dataset_open(P("real", 0, 0), &o, &ds, &err), &err, "real samples")) {
        printf("loaded %d real images at S=64 in %.2f s\n", ds->n, cu_now() - t0);
        double fg = 0;
        for (size_t q = 0; q < (size_t)ds->n * 64 * 64; q++)
            fg += ds->masks[q];
        fg /= (double)ds->n * 64 * 64;
        TU_CHECK(ds->n == n && ds->layout == CU_LAYOUT_DSB_TRAIN && fg > 0.01 && fg < 0.9,
                 "real: %d samples, foreground %.3f", ds->n, fg);
        for (int i = 0; i < ds->n; i++) {
            struct cu_labels lb = {0};
            struct cu_image u = {0};
            int k = 0, files = 0, agree = 1;
            d = opendir(ds->samples[i].masks);
            for (struct dirent *e; d && (e = readdir(d));)
                files += e->d_name[0] != '.';
            if (d)
                closedir(d);
            if (tu_ok(cu_dataset_labels(ds, i, &lb, &k, &err), &err, "labels") &&
                tu_ok(cu_dataset_union(ds, i, &u, &err), &err, "union")) {
                for (size_t q = 0; q < (size_t)lb.h * lb.w; q++)
                    agree &= (lb.v[q] != 0) == (u.px[q] != 0);
                TU_CHECK(k == files && agree && lb.h == ds->height[i] && lb.w == ds->width[i],
                         "real %.8s: %d nuclei = mask files, labels cover the union, %dx%d", ds->samples[i].id, k,
                         lb.w, lb.h);
            }
            cu_labels_free(&lb);
            cu_image_free(&u);
        }
        cu_dataset_free(ds);
    }
    for (int i = 0; i < n; i++)
        free(ids[i]);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/clunet_test_dataset_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        TU_CHECK(0, "mkdtemp");
        return tu_finish();
    }
    dsb_layouts();
    pairs_layout();
    other_formats();
    bad_datasets();
    split_and_augment();
    threads_agree();
    real_samples();
    tu_rm_rf(root);
    return tu_finish();
}
