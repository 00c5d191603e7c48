/* predict_fixture.c: see predict_fixture.h. */
#define _XOPEN_SOURCE 700
#include "predict_fixture.h"

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clunet/backend.h"
#include "clunet/image.h"
#include "clunet/model_file.h"
#include "clunet/unet.h"

static char root[256];

const char *pf_path(const char *name)
{
    static char p[8][1024];
    static int k;
    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/clunet-predict-XXXXXX");
        if (!mkdtemp(root)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, name);
    return p[k];
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void pf_cleanup(void)
{
    if (root[0])
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void slurp(const char *path, char *buf, size_t size)
{
    if (!buf)
        return;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

int pf_run(const char *exe, const char *args, char *out, size_t out_size, char *err, size_t err_size)
{
    char cmd[8192], o[1024], e[1024];
    snprintf(o, sizeof o, "%s", pf_path("run.stdout"));
    snprintf(e, sizeof e, "%s", pf_path("run.stderr"));
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", exe, args, o, e);
    int rc = system(cmd);
    slurp(o, out, out_size);
    slurp(e, err, err_size);
    remove(o), remove(e);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int pf_lines(const char *s)
{
    int n = 0;
    for (const char *c = s; *c; c++)
        n += *c == '\n';
    return n + (*s && s[strlen(s) - 1] != '\n');
}

int pf_make_model(const char *path, int S, double c, uint64_t seed) { return pf_make_model_k(path, S, c, seed, 1); }

int pf_make_model_k(const char *path, int S, double c, uint64_t seed, int K)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_unet_config cfg = {S, c, CU_UPSAMPLE_BILINEAR, 3, K};
    enum cu_status st = cu_backend_open("ref", &be, &err);
    if (!st)
        st = cu_unet_new(be, &cfg, 1, &net, &err);
    if (!st)
        st = cu_unet_init_he(net, seed, &err);
    if (!st)
        st = cu_model_save(path, net, 0, NULL, 0, &err);
    if (st)
        fprintf(stderr, "pf_make_model: %s\n", err.msg);
    cu_unet_free(net);
    cu_backend_free(be);
    return st ? -1 : 0;
}

/* Value of pixel (y, x), channel k, in [0, 1]: blobs over a ramp. */
static double pattern(int y, int x, int k, uint64_t seed)
{
    double v = 0.1 + 0.2 * x / 64.0 + 0.05 * k;
    for (int b = 0; b < 4; b++) {
        double cy = (double)((seed * 7 + (uint64_t)b * 13) % 31), cx = (double)((seed * 11 + (uint64_t)b * 17) % 37);
        double r2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
        v += 0.6 * exp(-r2 / 18.0);
    }
    return v > 1 ? 1 : v;
}

int pf_write_gray8(const char *path, int h, int w, uint64_t seed)
{
    uint8_t *px = malloc((size_t)h * (size_t)w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[y * w + x] = (uint8_t)lround(255 * pattern(y, x, 0, seed));
    struct cu_err err = {0};
    int rc = cu_png_write_gray8(path, px, h, w, &err) ? -1 : 0;
    free(px);
    return rc;
}

int pf_write_gray16(const char *path, int h, int w, uint64_t seed)
{
    uint16_t *px = malloc(sizeof *px * (size_t)h * (size_t)w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[y * w + x] = (uint16_t)lround(65535 * pattern(y, x, 0, seed));
    struct cu_err err = {0};
    int rc = cu_png_write_gray16(path, px, h, w, &err) ? -1 : 0;
    free(px);
    return rc;
}

int pf_write_rgb8(const char *path, int h, int w, uint64_t seed)
{
    uint8_t *px = malloc((size_t)h * (size_t)w * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                px[(y * w + x) * 3 + k] = (uint8_t)lround(255 * pattern(y, x, k, seed));
    struct cu_err err = {0};
    int rc = cu_png_write_rgb8(path, px, h, w, &err) ? -1 : 0;
    free(px);
    return rc;
}

int pf_write_rgba8(const char *path, int h, int w, uint64_t seed)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_bytep row = malloc((size_t)w * 4);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        free(row);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int k = 0; k < 3; k++)
                row[x * 4 + k] = (png_byte)lround(255 * pattern(y, x, k, seed));
            row[x * 4 + 3] = (png_byte)(x * 5 % 256); /* alpha: ignored by the reader */
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) ? -1 : 0;
}

int pf_count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}
