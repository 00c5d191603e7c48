/* test_image_read.c: the TIFF and JPEG decoders of cu_image_read against
 * their reference libraries: each committed fixture in datasets/images/
 * (made by tools/make_tiff_fixtures.py) is decoded page by page and every
 * sample compared with the array tifffile or Pillow decoded from the same
 * file (<name>.npy, shape (pages, channels, h, w)). Also the header facts
 * (pages, channels, bits, sample type, pixel size) and damaged files.
 *
 * Tolerances: TIFF samples are lossless, so they must be equal. JPEG: the
 * expected arrays come from Pillow's decode with Debian's libjpeg-turbo
 * 2.1.5, the library clunet links, with the same (default) integer IDCT and
 * fancy upsampling, so they are equal here too; another libjpeg-turbo
 * (another SIMD path) may differ by 1 in a sample, so up to 1 is allowed
 * and the largest difference is printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/image.h"
#include "testutil.h"

/* A .npy file (numpy format 1.0, little-endian, C order). */
struct npy {
    char type; /* 'u', 'i', 'f', 'b' */
    int size;  /* bytes per item */
    long shape[4];
    unsigned char *data;
};

static int npy_read(const char *path, struct npy *a)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    if (!f || fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6)) {
        if (f)
            fclose(f);
        return -1;
    }
    size_t hl = head[8] | (size_t)head[9] << 8;
    char *h = calloc(1, hl + 1);
    int ok = h && fread(h, 1, hl, f) == hl;
    char *d = ok ? strstr(h, "'descr': '") : NULL, *s = ok ? strstr(h, "'shape': (") : NULL;
    ok = d && s && (d[10] == '<' || d[10] == '|') && !strstr(h, "'fortran_order': True");
    if (ok) {
        a->type = d[11];
        a->size = atoi(d + 12);
        char *p = s + 10;
        for (int i = 0; i < 4 && ok; i++) {
            a->shape[i] = strtol(p, &p, 10);
            p += strspn(p, ", ");
        }
    }
    long n = ok ? a->shape[0] * a->shape[1] * a->shape[2] * a->shape[3] * a->size : 0;
    a->data = ok ? malloc((size_t)n) : NULL;
    ok = a->data && fread(a->data, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    free(h);
    return ok ? 0 : -1;
}

static double npy_at(const struct npy *a, size_t i)
{
    const unsigned char *p = a->data + i * (size_t)a->size;
    if (a->type == 'f') {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    if (a->type == 'u' || a->type == 'b') {
        uint64_t v = 0;
        memcpy(&v, p, (size_t)a->size);
        return (double)v;
    }
    int64_t v = 0;
    memcpy(&v, p, (size_t)a->size);
    int sh = 64 - 8 * a->size; /* sign-extend */
    return (double)(int64_t)((uint64_t)v << sh) / (double)((uint64_t)1 << sh);
}

struct fixture {
    const char *file, *npy;
    int pages, channels, bits;
    enum cu_sample_kind kind;
    double um;  /* pixel size, 0 = none */
    double tol; /* max |clunet - reference| */
};

static const struct fixture fixtures[] = {
    {"u8_gray.tif", "u8_gray.npy", 1, 1, 8, CU_SAMPLE_UINT, 0, 0},
    {"u8_gray_packbits.tif", "u8_gray_packbits.npy", 1, 1, 8, CU_SAMPLE_UINT, 0, 0},
    {"u16_gray_lzw.tif", "u16_gray_lzw.npy", 1, 1, 16, CU_SAMPLE_UINT, 0, 0},
    {"u16_gray_be.tif", "u16_gray_be.npy", 1, 1, 16, CU_SAMPLE_UINT, 0, 0},
    {"u32_gray_deflate.tif", "u32_gray_deflate.npy", 1, 1, 32, CU_SAMPLE_UINT, 0, 0},
    {"i16_gray.tif", "i16_gray.npy", 1, 1, 16, CU_SAMPLE_INT, 0, 0},
    {"f32_gray.tif", "f32_gray.npy", 1, 1, 32, CU_SAMPLE_FLOAT, 0, 0},
    {"rgb8_tiled.tif", "rgb8_tiled.npy", 1, 3, 8, CU_SAMPLE_UINT, 0, 0},
    {"u16_c4_planar.tif", "u16_c4_planar.npy", 1, 4, 16, CU_SAMPLE_UINT, 0, 0},
    {"u16_c2_contig.tif", "u16_c2_contig.npy", 1, 2, 16, CU_SAMPLE_UINT, 0, 0},
    {"u8_pages3.tif", "u8_pages3.npy", 3, 1, 8, CU_SAMPLE_UINT, 0, 0},
    {"ij_z3c2.tif", "ij_z3c2.npy", 3, 2, 16, CU_SAMPLE_UINT, 0.5, 0},
    {"ome_t2c3.tif", "ome_t2c3.npy", 2, 3, 16, CU_SAMPLE_UINT, 0.25, 0},
    {"mask1.tif", "mask1.npy", 1, 1, 1, CU_SAMPLE_UINT, 0, 0},
    {"gray.jpg", "gray.npy", 1, 1, 8, CU_SAMPLE_UINT, 0, 1},
    {"rgb.jpg", "rgb.npy", 1, 3, 8, CU_SAMPLE_UINT, 0, 1},
    {"rgb_progressive.jpg", "rgb_progressive.npy", 1, 3, 8, CU_SAMPLE_UINT, 100, 1},
};

static const char *fixture_path(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s", tu_source_path("datasets/images"));
    size_t n = strlen(p);
    snprintf(p + n, sizeof p - n, "/%s", name);
    return p;
}

static void check_fixture(const struct fixture *fx)
{
    struct npy want = {0};
    char npath[4096];
    snprintf(npath, sizeof npath, "%s", fixture_path(fx->npy));
    if (!TU_CHECK(npy_read(npath, &want) == 0, "%s: read", npath))
        return;
    const char *path = fixture_path(fx->file);
    struct cu_err err = {0};
    struct cu_raw_image r;
    if (tu_ok(cu_image_probe(path, &r, &err), &err, fx->file)) {
        TU_CHECK(r.pages == fx->pages && r.channels == fx->channels && r.bits == fx->bits && r.kind == fx->kind &&
                     r.w == want.shape[3] && r.h == want.shape[2] && !r.data,
                 "%s header: %d pages, %d channels, %d bits, kind %d, %dx%d", fx->file, r.pages, r.channels,
                 r.bits, (int)r.kind, r.w, r.h);
        TU_CHECK(fabs(r.um_x - fx->um) < 1e-6 * (1 + fx->um) && fabs(r.um_y - fx->um) < 1e-6 * (1 + fx->um),
                 "%s pixel size %g x %g um (want %g)", fx->file, r.um_x, r.um_y, fx->um);
        cu_raw_free(&r);
    }
    TU_CHECK(want.shape[0] == fx->pages && want.shape[1] == fx->channels, "%s: reference shape", fx->npy);
    for (int p = 0; p < fx->pages; p++) {
        if (!tu_ok(cu_image_read(path, p, &r, &err), &err, fx->file))
            break;
        size_t n = (size_t)want.shape[1] * (size_t)want.shape[2] * (size_t)want.shape[3];
        double worst = 0;
        int shape_ok = r.channels == want.shape[1] && r.h == want.shape[2] && r.w == want.shape[3] && r.page == p;
        for (size_t i = 0; shape_ok && i < n; i++) {
            double d = fabs(cu_raw_at(&r, i) - npy_at(&want, (size_t)p * n + i));
            worst = d > worst ? d : worst;
        }
        TU_CHECK(shape_ok && worst <= fx->tol, "%s page %d: max |clunet - reference| = %g (allowed %g)", fx->file,
                 p + 1, worst, fx->tol);
        cu_raw_free(&r);
    }
    TU_CHECK(cu_image_read(path, fx->pages, &r, &err) == CU_EUSAGE && strstr(err.msg, "page"),
             "%s: page %d past the end refused: %s", fx->file, fx->pages + 1, err.msg);
    cu_err_clear(&err);
    free(want.data);
}

/* Percentile stretch against numpy (np.percentile, linear interpolation,
 * then clip((v - lo) / (hi - lo), 0, 1) in float64, cast to float32): the
 * same arithmetic in double here, so 1 float32 ulp (6e-8) is allowed. */
static void normalisation(void)
{
    static const struct {
        const char *file, *norm, *want;
    } cases[] = {
        {"u16_gray_lzw.tif", "auto", "u16_gray_lzw_norm_1_99.8.npy"},
        {"f32_gray.tif", "auto", "f32_gray_norm_1_99.8.npy"},
        {"i16_gray.tif", "1,99.8", "i16_gray_norm_1_99.8.npy"},
        {"u8_gray.tif", "2,98", "u8_gray_norm_2_98.npy"},
        {"u32_gray_deflate.tif", "0.5,99.5", "u32_gray_deflate_norm_0.5_99.5.npy"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct npy want = {0};
        char npath[4096];
        snprintf(npath, sizeof npath, "%s", fixture_path(cases[c].want));
        if (!TU_CHECK(npy_read(npath, &want) == 0, "%s: read", npath))
            continue;
        struct cu_input_opts o = {0};
        TU_CHECK(cu_norm_parse(cases[c].norm, &o) == 0, "parse %s", cases[c].norm);
        struct cu_err err = {0};
        struct cu_image im = {0};
        if (tu_ok(cu_image_read_rgb(fixture_path(cases[c].file), &o, &im, &err), &err, cases[c].file)) {
            size_t n = (size_t)im.h * (size_t)im.w;
            double worst = 0;
            for (size_t q = 0; q < n; q++) {
                double d = fabs(im.px[q] - npy_at(&want, q));
                worst = d > worst ? d : worst;
                worst = im.px[q] != im.px[n + q] || im.px[q] != im.px[2 * n + q] ? 1 : worst;
            }
            TU_CHECK(worst <= 6e-8, "%s --normalize %s: max |clunet - numpy| = %g", cases[c].file, cases[c].norm,
                     worst);
            cu_image_free(&im);
        }
        free(want.data);
    }
    /* cu_stretch_plane on float planes: the same numbers (selection, not
     * sorting; so also the same 6e-8). */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct npy want = {0};
        char npath[4096];
        snprintf(npath, sizeof npath, "%s", fixture_path(cases[c].want));
        struct cu_raw_image r;
        struct cu_err e = {0};
        struct cu_input_opts o = {0};
        cu_norm_parse(cases[c].norm, &o);
        if (o.norm == CU_NORM_AUTO)
            o.lo = CU_NORM_LO, o.hi = CU_NORM_HI;
        if (npy_read(npath, &want) || !tu_ok(cu_image_read(fixture_path(cases[c].file), 0, &r, &e), &e, "raw"))
            continue;
        size_t n = (size_t)r.w * (size_t)r.h;
        float *px = malloc(sizeof *px * n);
        for (size_t q = 0; q < n; q++)
            px[q] = (float)cu_raw_at(&r, q);
        double worst = 0;
        int exact = r.kind != CU_SAMPLE_UINT || r.bits <= 16; /* 32-bit integers do not fit a float */
        if (exact && tu_ok(cu_stretch_plane(px, n, o.lo, o.hi, &e), &e, "stretch")) {
            for (size_t q = 0; q < n; q++) {
                double d = fabs(px[q] - npy_at(&want, q));
                worst = d > worst ? d : worst;
            }
            TU_CHECK(worst <= 6e-8, "cu_stretch_plane %s %g..%g: max |clunet - numpy| = %g", cases[c].file, o.lo,
                     o.hi, worst);
        }
        free(px);
        free(want.data);
        cu_raw_free(&r);
    }
    /* Selection against sorting on random planes with many ties. */
    uint64_t rng = 5;
    int bad = 0;
    for (int t = 0; t < 300; t++) {
        size_t n = 1 + (size_t)tu_rand_uniform(&rng, 0, 300);
        int levels = 1 + (int)tu_rand_uniform(&rng, 0, t % 2 ? 5 : 1000);
        float *px = malloc(sizeof *px * n);
        double *s = malloc(sizeof *s * n);
        for (size_t q = 0; q < n; q++)
            px[q] = (float)(int)tu_rand_uniform(&rng, 0, (float)levels), s[q] = px[q];
        for (size_t i = 1; i < n; i++) /* insertion sort: the reference */
            for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
                double x = s[j];
                s[j] = s[j - 1], s[j - 1] = x;
            }
        double lo = tu_rand_uniform(&rng, 0, 50), hi = lo + tu_rand_uniform(&rng, 0.1f, 50);
        double plo = cu_percentile_sorted(s, n, lo), phi = cu_percentile_sorted(s, n, hi);
        float *want = malloc(sizeof *want * n);
        for (size_t q = 0; q < n; q++) {
            double v = (px[q] - plo) / (phi - plo);
            want[q] = phi > plo ? (float)(v < 0 ? 0 : v > 1 ? 1 : v) : px[q];
        }
        struct cu_err e = {0};
        cu_stretch_plane(px, n, lo, hi, &e);
        bad += memcmp(px, want, sizeof *px * n) != 0;
        free(px), free(s), free(want);
    }
    TU_CHECK(bad == 0, "cu_stretch_plane = sort + numpy's interpolation on 300 random planes (%d differ)", bad);
    /* 8-bit stays v / 255 by default; none scales 16-bit by 65535. */
    struct cu_err err = {0};
    struct cu_image im = {0};
    struct cu_raw_image r;
    if (tu_ok(cu_image_read(fixture_path("u8_gray.tif"), 0, &r, &err), &err, "u8") &&
        tu_ok(cu_raw_to_rgb(&r, NULL, "u8", &im, &err), &err, "u8 auto")) {
        int bad = 0;
        for (size_t q = 0; q < (size_t)r.w * (size_t)r.h; q++)
            bad |= im.px[q] != (float)cu_raw_at(&r, q) / 255.0f;
        TU_CHECK(!bad, "8-bit auto: v / 255");
        cu_image_free(&im);
        cu_raw_free(&r);
    }
    struct cu_input_opts none = {.norm = CU_NORM_NONE};
    if (tu_ok(cu_image_read(fixture_path("u16_gray_lzw.tif"), 0, &r, &err), &err, "u16") &&
        tu_ok(cu_raw_to_rgb(&r, &none, "u16", &im, &err), &err, "u16 none")) {
        int bad = 0;
        for (size_t q = 0; q < (size_t)r.w * (size_t)r.h; q++)
            bad |= im.px[q] != (float)cu_raw_at(&r, q) / 65535.0f;
        TU_CHECK(!bad, "16-bit --normalize none: v / 65535");
        cu_image_free(&im);
        cu_raw_free(&r);
    }
    /* Multi-channel: --channel picks the plane; without it, refused. */
    struct cu_input_opts ch = {.channel = 3};
    if (tu_ok(cu_image_read(fixture_path("u16_c4_planar.tif"), 0, &r, &err), &err, "c4")) {
        TU_CHECK(cu_raw_to_rgb(&r, NULL, "c4.tif", &im, &err) == CU_EINPUT && strstr(err.msg, "--channel"),
                 "4 channels without --channel: %s", err.msg);
        cu_err_clear(&err);
        struct cu_raw_image one = r;
        one.channels = 1;
        one.data = (uint16_t *)r.data + 2 * (size_t)r.w * (size_t)r.h;
        struct cu_image want = {0};
        if (tu_ok(cu_raw_to_rgb(&r, &ch, "c4", &im, &err), &err, "c4 --channel 3") &&
            tu_ok(cu_raw_to_rgb(&one, NULL, "plane 3", &want, &err), &err, "plane 3")) {
            TU_CHECK(!memcmp(im.px, want.px, sizeof(float) * 3 * (size_t)r.w * (size_t)r.h),
                     "--channel 3 = plane 3 alone, normalised the same");
        }
        cu_image_free(&im);
        cu_image_free(&want);
        cu_raw_free(&r);
    }
    const char *badn[] = {"", "1", "5,1", "1,101", "-1,50", "1,99.8x", "auto,1"};
    for (size_t i = 0; i < sizeof badn / sizeof badn[0]; i++) {
        struct cu_input_opts o = {0};
        TU_CHECK(cu_norm_parse(badn[i], &o) == -1, "--normalize '%s' refused", badn[i]);
    }
    char name[64];
    struct cu_input_opts o = {0};
    cu_norm_parse("1,99.8", &o);
    cu_norm_name(&o, name, sizeof name);
    TU_CHECK(!strcmp(name, "1,99.8"), "name of 1,99.8: %s", name);
}

/* Damaged files: one line naming the file, CU_EINPUT. */
static void damaged(void)
{
    const char *bad[] = {"bad_truncated.tif", "bad_ifd.tif"};
    for (int i = 0; i < 2; i++) {
        struct cu_err err = {0};
        struct cu_raw_image r;
        const char *p = fixture_path(bad[i]);
        enum cu_status st = cu_image_read(p, 0, &r, &err);
        TU_CHECK(st == CU_EINPUT && strstr(err.msg, p) == err.msg && !strchr(err.msg, '\n'),
                 "%s: %d %s", bad[i], (int)st, err.msg);
        if (!st)
            cu_raw_free(&r);
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
        check_fixture(&fixtures[i]);
    normalisation();
    damaged();
    return tu_finish();
}
