/* test_png.c: PNG reading in every flavour, writing (round trips, atomic
 * replacement, unwritable folders), and bad files: the test makes each file
 * itself in a temporary folder (libpng directly for the flavours; a good
 * PNG cut and flipped for the corrupt ones). Also reads a few real DSB2018
 * images and masks in place from ../shared. */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/image.h"
#include "testutil.h"

static char dir[256];

static const char *tmp_path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* The pattern: sample k of pixel (x, y), in [0, maxv]. */
static unsigned pat(int x, int y, int k, unsigned maxv)
{
    return (unsigned)(x * 7 + y * 13 + k * 50 + x * y) % (maxv + 1);
}

static png_color palette[16];
static png_byte trans[16];

/* Writes a test PNG with libpng: type/depth/interlace as given, samples
 * from pat(), palette images index pat(..,0, 15) into palette[]. */
static int make_png(const char *path, int w, int h, int type, int depth, int interlace)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (type == PNG_COLOR_TYPE_PALETTE) {
        for (int i = 0; i < 16; i++) {
            palette[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 9), (png_byte)(i * 37 % 256)};
            trans[i] = (png_byte)(i * 17);
        }
        png_set_PLTE(png, info, palette, 16);
        png_set_tRNS(png, info, trans, 16, NULL);
    }
    png_write_info(png, info);
    if (depth < 8)
        png_set_packing(png);
    int ch = png_get_channels(png, info);
    unsigned maxv = type == PNG_COLOR_TYPE_PALETTE ? 15u : (1u << depth) - 1u;
    int bps = depth == 16 ? 2 : 1;
    png_bytep row = malloc((size_t)w * (size_t)ch * (size_t)bps);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++)
                for (int k = 0; k < ch; k++) {
                    unsigned v = pat(x, y, k, maxv);
                    size_t o = ((size_t)x * (size_t)ch + (size_t)k) * (size_t)bps;
                    if (bps == 2)
                        row[o] = (png_byte)(v >> 8), row[o + 1] = (png_byte)(v & 0xFF);
                    else
                        row[o] = (png_byte)v;
                }
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f);
}

/* Expected float of plane k at (x, y) for a flavour made by make_png. */
static float expect(int type, int depth, int x, int y, int k)
{
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color c = palette[pat(x, y, 0, 15)];
        return (float)(k == 0 ? c.red : k == 1 ? c.green : c.blue) / 255.0f;
    }
    unsigned maxv = (1u << depth) - 1u;
    int color = type & PNG_COLOR_MASK_COLOR;
    return (float)pat(x, y, color ? k : 0, maxv) / (float)maxv;
}

static void flavours(void)
{
    static const struct {
        int type, depth;
        const char *name;
    } fl[] = {
        {PNG_COLOR_TYPE_GRAY, 1, "gray1"},       {PNG_COLOR_TYPE_GRAY, 2, "gray2"},
        {PNG_COLOR_TYPE_GRAY, 4, "gray4"},       {PNG_COLOR_TYPE_GRAY, 8, "gray8"},
        {PNG_COLOR_TYPE_GRAY, 16, "gray16"},     {PNG_COLOR_TYPE_GRAY_ALPHA, 8, "graya8"},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 16, "graya16"}, {PNG_COLOR_TYPE_RGB, 8, "rgb8"},
        {PNG_COLOR_TYPE_RGB, 16, "rgb16"},       {PNG_COLOR_TYPE_RGB_ALPHA, 8, "rgba8"},
        {PNG_COLOR_TYPE_RGB_ALPHA, 16, "rgba16"}, {PNG_COLOR_TYPE_PALETTE, 4, "pal4"},
        {PNG_COLOR_TYPE_PALETTE, 8, "pal8"},
    };
    const int w = 13, h = 9; /* odd sizes: partial bytes at 1/2/4 bit, all Adam7 passes */
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
        for (int il = 0; il < 2; il++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s.png", fl[i].name, il ? "_adam7" : "");
            const char *p = tmp_path(name);
            if (make_png(p, w, h, fl[i].type, fl[i].depth, il ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE)) {
                TU_CHECK(0, "%s: could not make the test file", name);
                continue;
            }
            struct cu_image im = {0};
            struct cu_err err = {0};
            /* --normalize none: every depth by its range (16-bit images are
             * percentile-stretched by default: test_image_read). */
            struct cu_input_opts none = {.norm = CU_NORM_NONE};
            if (!tu_ok(cu_image_read_rgb(p, &none, &im, &err), &err, name))
                continue;
            double d = 0;
            for (int k = 0; k < 3; k++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        double e = im.px[((size_t)k * h + (size_t)y) * w + (size_t)x] - expect(fl[i].type, fl[i].depth, x, y, k);
                        d = e < 0 ? (-e > d ? -e : d) : (e > d ? e : d);
                    }
            /* 1e-7: v/max in float vs the same in float, up to rounding. */
            TU_CHECK(im.c == 3 && im.h == h && im.w == w && d <= 1e-7, "read %s: %dx%dx%d, max diff %.2g", name,
                     im.c, im.h, im.w, d);
            cu_image_free(&im);
            /* Labels: raw values (gray), palette index, or packed colour. */
            struct cu_labels lb = {0};
            if (!tu_ok(cu_image_read_labels(p, &lb, &err), &err, name))
                continue;
            int bad = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    uint32_t want;
                    if (fl[i].type == PNG_COLOR_TYPE_PALETTE)
                        want = pat(x, y, 0, 15);
                    else if (fl[i].type & PNG_COLOR_MASK_COLOR) {
                        unsigned m = (1u << fl[i].depth) - 1u, sh = fl[i].depth == 16 ? 8 : 0;
                        want = (pat(x, y, 0, m) >> sh) << 16 | (pat(x, y, 1, m) >> sh) << 8 | (pat(x, y, 2, m) >> sh);
                    } else
                        want = pat(x, y, 0, (1u << fl[i].depth) - 1u);
                    bad += lb.v[(size_t)y * w + (size_t)x] != want;
                }
            TU_CHECK(bad == 0, "labels %s: %d wrong values", name, bad);
            /* Mask union: 1 where a sample (palette: the index) is non-zero,
             * at full depth; alpha ignored. */
            float *u = calloc((size_t)w * h, sizeof *u);
            bad = 0;
            if (tu_ok(cu_image_or_mask(p, h, w, u, &err), &err, name))
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int on = fl[i].type == PNG_COLOR_TYPE_PALETTE
                                     ? pat(x, y, 0, 15) != 0
                                     : expect(fl[i].type, fl[i].depth, x, y, 0) != 0 ||
                                           expect(fl[i].type, fl[i].depth, x, y, 1) != 0 ||
                                           expect(fl[i].type, fl[i].depth, x, y, 2) != 0;
                        bad += (u[y * w + x] != 0) != on;
                    }
            TU_CHECK(bad == 0, "mask union %s: %d wrong pixels", name, bad);
            cu_err_clear(&err);
            TU_CHECK(cu_image_or_mask(p, h + 1, w, u, &err) == CU_EINPUT && strstr(err.msg, "mask is 13x9"),
                     "mask of another size refused: %s", err.msg);
            cu_err_clear(&err);
            free(u);
            cu_labels_free(&lb);
        }
}

static void round_trips(void)
{
    enum { W = 37, H = 23 };
    uint8_t g8[W * H], rgb[W * H * 3];
    uint16_t g16[W * H];
    for (int i = 0; i < W * H; i++) {
        g8[i] = (uint8_t)(i * 31);
        g16[i] = (uint16_t)(i * 2654435761u >> 16);
        for (int k = 0; k < 3; k++)
            rgb[i * 3 + k] = (uint8_t)(i * 7 + k * 80);
    }
    struct cu_err err = {0};
    struct cu_labels lb = {0};
    struct cu_image im = {0};
    const char *p = tmp_path("g8.png");
    if (tu_ok(cu_png_write_gray8(p, g8, H, W, &err), &err, "write gray8") &&
        tu_ok(cu_image_read_labels(p, &lb, &err), &err, "read gray8")) {
        int bad = lb.h != H || lb.w != W;
        for (int i = 0; !bad && i < W * H; i++)
            bad = lb.v[i] != g8[i];
        TU_CHECK(!bad, "gray8 round trip exact");
        cu_labels_free(&lb);
    }
    p = tmp_path("g16.png");
    if (tu_ok(cu_png_write_gray16(p, g16, H, W, &err), &err, "write gray16") &&
        tu_ok(cu_image_read_labels(p, &lb, &err), &err, "read gray16")) {
        int bad = lb.h != H || lb.w != W;
        for (int i = 0; !bad && i < W * H; i++)
            bad = lb.v[i] != g16[i];
        TU_CHECK(!bad, "gray16 round trip exact (labels up to 65535)");
        cu_labels_free(&lb);
    }
    p = tmp_path("rgb.png");
    if (tu_ok(cu_png_write_rgb8(p, rgb, H, W, &err), &err, "write rgb8") &&
        tu_ok(cu_image_read_rgb(p, NULL, &im, &err), &err, "read rgb8")) {
        int bad = im.h != H || im.w != W;
        for (int i = 0; !bad && i < W * H; i++)
            for (int k = 0; k < 3; k++)
                bad |= im.px[k * W * H + i] != (float)rgb[i * 3 + k] / 255.0f;
        TU_CHECK(!bad, "rgb8 round trip exact (planar, v/255)");
        cu_image_free(&im);
    }
    /* The raw reader: samples unscaled and planar, with depth and channels. */
    struct cu_raw_image raw;
    if (tu_ok(cu_image_read(tmp_path("g16.png"), 0, &raw, &err), &err, "raw gray16")) {
        int bad = raw.channels != 1 || raw.bits != 16 || raw.bytes != 2 || raw.pages != 1 || raw.format != CU_FMT_PNG;
        for (int i = 0; !bad && i < W * H; i++)
            bad = cu_raw_at(&raw, (size_t)i) != g16[i];
        TU_CHECK(!bad, "raw gray16: 1 channel, 16 bits, values as written");
        cu_raw_free(&raw);
    }
    if (tu_ok(cu_image_read(tmp_path("rgb.png"), 0, &raw, &err), &err, "raw rgb8")) {
        int bad = raw.channels != 3 || raw.bits != 8 || raw.bytes != 1;
        for (int i = 0; !bad && i < W * H; i++)
            for (int k = 0; k < 3; k++)
                bad |= cu_raw_sample(&raw, k, i / W, i % W) != rgb[i * 3 + k];
        TU_CHECK(!bad, "raw rgb8: 3 planar channels, values as written");
        cu_raw_free(&raw);
    }
    TU_CHECK(cu_image_read(tmp_path("rgb.png"), 1, &raw, &err) == CU_EUSAGE && strstr(err.msg, "1 page"),
             "page 2 of a PNG is refused: %s", err.msg);
    cu_err_clear(&err);
    /* --channel on an RGB image: that plane in all three. */
    struct cu_input_opts g = {.channel = 2};
    if (tu_ok(cu_image_read_rgb(tmp_path("rgb.png"), &g, &im, &err), &err, "rgb8 --channel 2")) {
        int bad = 0;
        for (int i = 0; i < W * H; i++)
            for (int k = 0; k < 3; k++)
                bad |= im.px[k * W * H + i] != (float)rgb[i * 3 + 1] / 255.0f;
        TU_CHECK(!bad, "channel 2 replicated to three planes");
        cu_image_free(&im);
    }
    g.channel = 4;
    TU_CHECK(cu_image_read_rgb(tmp_path("rgb.png"), &g, &im, &err) == CU_EUSAGE && strstr(err.msg, "3 channels"),
             "--channel 4 of 3: %s", err.msg);
    cu_err_clear(&err);
    /* Replacing an existing file works and leaves no temporary behind. */
    TU_CHECK(cu_png_write_gray8(tmp_path("g8.png"), g8, H, W, &err) == CU_OK, "overwrite existing file");
    int tmps = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        tmps += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    TU_CHECK(tmps == 0, "no temporary files left (%d)", tmps);
    /* Unwritable destination: CU_EIO, naming the file. */
    cu_err_clear(&err);
    const char *nodir = tmp_path("no/such/dir/x.png");
    enum cu_status st = cu_png_write_gray8(nodir, g8, H, W, &err);
    TU_CHECK(st == CU_EIO && strstr(err.msg, nodir) == err.msg, "write into missing folder: %d %s", (int)st, err.msg);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        if (n)
            fwrite(b, 1, n, f);
        fclose(f);
    }
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* One bad file: both readers must fail with CU_EINPUT and a message that
 * starts with the path. */
static void expect_bad(const char *name, const unsigned char *b, size_t n, const char *why)
{
    const char *p = tmp_path(name);
    spit(p, b, n);
    struct cu_err err = {0};
    struct cu_image im = {0};
    enum cu_status st = cu_image_read_rgb(p, NULL, &im, &err);
    int ok = st == CU_EINPUT && strncmp(err.msg, p, strlen(p)) == 0 && (!why || strstr(err.msg, why));
    TU_CHECK(ok, "%s rejected: %s", name, err.msg);
    cu_image_free(&im);
    struct cu_labels lb = {0};
    cu_err_clear(&err);
    st = cu_image_read_labels(p, &lb, &err);
    TU_CHECK(st == CU_EINPUT, "%s rejected as labels too", name);
    cu_labels_free(&lb);
    float u[40 * 30];
    cu_err_clear(&err);
    st = cu_image_or_mask(p, 30, 40, u, &err);
    TU_CHECK(st == CU_EINPUT, "%s rejected as a mask too", name);
}

static void bad_files(void)
{
    const char *good = tmp_path("good.png");
    uint8_t rgb[40 * 30 * 3];
    uint64_t s = 7;
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)tu_rand_u64(&s);
    struct cu_err err = {0};
    tu_ok(cu_png_write_rgb8(good, rgb, 30, 40, &err), &err, "write good.png");
    size_t n = 0;
    unsigned char *b = slurp(good, &n);
    if (!b || n < 100) {
        TU_CHECK(0, "good.png readable");
        free(b);
        return;
    }
    unsigned char *c = malloc(n);
    /* Truncations: inside the signature, inside IHDR, right after IHDR, in
     * the middle of IDAT, before IEND, one byte short. */
    size_t cuts[] = {0, 4, 8, 20, 33, 50, n / 2, n - 12, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "cut%zu.png", cuts[i]);
        expect_bad(name, b, cuts[i], cuts[i] == 0 ? "empty" : NULL);
    }
    /* Flipped bytes: signature, IHDR (CRC), IDAT data (CRC), IEND CRC. */
    size_t flips[] = {1, 17, 60, n / 2, n - 2};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(c, b, n);
        c[flips[i]] ^= 0x5A;
        char name[64];
        snprintf(name, sizeof name, "flip%zu.png", flips[i]);
        expect_bad(name, c, n, NULL);
    }
    /* Corrupt zlib data inside IDAT with a recomputed CRC, so that zlib (not
     * the CRC check) must catch it. IDAT starts at 33 (8 + 25 of IHDR). */
    memcpy(c, b, n);
    uint32_t len = (uint32_t)c[33] << 24 | (uint32_t)c[34] << 16 | (uint32_t)c[35] << 8 | c[36];
    if (!memcmp(c + 37, "IDAT", 4) && len > 8 && 41 + len + 4 <= n) {
        c[41] ^= 0xFF; /* zlib header byte */
        put_be32(c + 41 + len, crc32(c + 37, len + 4));
        expect_bad("zlib.png", c, n, NULL);
    } else {
        TU_CHECK(0, "good.png has IDAT at offset 33");
    }
    /* A JPEG renamed .png, text, and a huge image declared in IHDR. */
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1};
    expect_bad("photo.png", jpeg, sizeof jpeg, "JPEG");
    expect_bad("text.png", (const unsigned char *)"hello, world\n", 13, "not a PNG");
    memcpy(c, b, 33);
    put_be32(c + 16, 20000), put_be32(c + 20, 20000); /* 4e8 pixels > 2^28 */
    put_be32(c + 29, crc32(c + 12, 17));
    expect_bad("huge.png", c, 33, "2^28");
    /* A missing file. */
    struct cu_image im = {0};
    cu_err_clear(&err);
    const char *missing = tmp_path("missing.png");
    TU_CHECK(cu_image_read_rgb(missing, NULL, &im, &err) == CU_EINPUT && strstr(err.msg, missing), "missing file: %s",
             err.msg);
    /* Random single-byte damage anywhere: OK or CU_EINPUT, never a crash. */
    int survived = 0, rejected = 0;
    for (int i = 0; i < 200; i++) {
        memcpy(c, b, n);
        c[tu_rand_u64(&s) % n] ^= (unsigned char)(1 + tu_rand_u64(&s) % 255);
        const char *p = tmp_path("fuzz.png");
        spit(p, c, n);
        cu_err_clear(&err);
        enum cu_status st = cu_image_read_rgb(p, NULL, &im, &err);
        survived += st == CU_OK || st == CU_EINPUT;
        rejected += st == CU_EINPUT;
        cu_image_free(&im);
    }
    TU_CHECK(survived == 200, "200 randomly damaged files: %d handled, %d rejected", survived, rejected);
    free(b);
    free(c);
}

static void real_images(void)
{
    /* Two real DSB2018 images read in place: RGBA 8-bit, alpha dropped. */
    static const char *ids[] = {"00071198d059ba7f5914a526d124d28e6d010c92466da21d4a04cd5413362552",
                                "00ae65c1c6631ae6f2be1a449902976e6eb8483bf6b0740d00530220832c6d3e"};
    for (int i = 0; i < 2; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "datasets/dsb2018/stage1_train/%s/images/%s.png", ids[i], ids[i]);
        const char *p = tu_shared_path(rel);
        struct cu_image im = {0};
        struct cu_err err = {0};
        if (!tu_ok(cu_image_read_rgb(p, NULL, &im, &err), &err, "real image"))
            continue;
        float lo = 1, hi = 0;
        for (size_t k = 0; k < (size_t)3 * im.h * im.w; k++)
            lo = im.px[k] < lo ? im.px[k] : lo, hi = im.px[k] > hi ? im.px[k] : hi;
        TU_CHECK(im.c == 3 && im.h > 0 && im.w > 0 && lo >= 0 && hi <= 1 && hi > lo,
                 "real %.8s: %dx%d, values in [%.3f, %.3f]", ids[i], im.w, im.h, lo, hi);
        int h = 0, w = 0;
        TU_CHECK(cu_image_read_size(p, &h, &w, &err) == CU_OK && h == im.h && w == im.w, "size from the header");
        cu_image_free(&im);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/clunet_test_png_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        TU_CHECK(0, "mkdtemp %s", dir);
        return tu_finish();
    }
    flavours();
    round_trips();
    bad_files();
    real_images();
    /* Clean up the files this test made (flat folder). */
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlink(tmp_path(e->d_name));
    if (d)
        closedir(d);
    rmdir(dir);
    return tu_finish();
}
