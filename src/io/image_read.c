/* image_read.c: the one image reader (image.h): the format by the file's
 * magic bytes, the decoder for it, and the small calls built on them
 * (read + convert, size, mask union). Also the struct cu_image and
 * cu_labels lifetimes.
 *
 * Not here: the decoders (png_io.c), sample conversion (image_convert.c). */
#include "clunet/image.h"
#include "io/image_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cu_status cu_image_format_of(const char *path, enum cu_image_format *fmt, struct cu_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cu_fail(err, CU_EINPUT, "%s: %s", path, strerror(errno));
    unsigned char m[8] = {0};
    size_t n = fread(m, 1, sizeof m, f);
    fclose(f);
    if (n == 0)
        return cu_fail(err, CU_EINPUT, "%s: empty file (0 bytes), not an image", path);
    if (n == 8 && !memcmp(m, "\x89PNG\r\n\x1a\n", 8))
        *fmt = CU_FMT_PNG;
    else if (n >= 4 && (!memcmp(m, "II*\0", 4) || !memcmp(m, "MM\0*", 4) || !memcmp(m, "II+\0", 4) ||
                        !memcmp(m, "MM\0+", 4)))
        *fmt = CU_FMT_TIFF; /* classic TIFF and BigTIFF, either byte order */
    else if (n >= 3 && m[0] == 0xFF && m[1] == 0xD8 && m[2] == 0xFF)
        *fmt = CU_FMT_JPEG;
    else
        return cu_fail(err, CU_EINPUT, "%s: not a PNG, TIFF or JPEG file (bad signature)", path);
    return CU_OK;
}

static enum cu_status decode(const char *path, int page, int header_only, struct cu_raw_image *out,
                             struct cu_err *err)
{
    enum cu_image_format fmt = CU_FMT_PNG;
    CU_TRY(cu_image_format_of(path, &fmt, err));
    if (fmt == CU_FMT_TIFF)
        return cu_tiff_decode(path, page, header_only, out, err);
    if (page != 0)
        return cu_fail(err, CU_EUSAGE, "%s: page %d: the file has 1 page", path, page + 1);
    switch (fmt) {
    case CU_FMT_PNG: return cu_png_decode(path, header_only, out, err);
    case CU_FMT_TIFF: break;
    case CU_FMT_JPEG: return cu_jpeg_decode(path, header_only, out, err);
    }
    return cu_fail(err, CU_EINPUT, "%s: unknown image format", path);
}

enum cu_status cu_image_probe(const char *path, struct cu_raw_image *out, struct cu_err *err)
{
    return decode(path, 0, 1, out, err);
}

enum cu_status cu_image_read(const char *path, int page, struct cu_raw_image *out, struct cu_err *err)
{
    return decode(path, page, 0, out, err);
}

void cu_raw_free(struct cu_raw_image *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->palette);
    memset(r, 0, sizeof *r);
}

enum cu_status cu_image_read_rgb(const char *path, const struct cu_input_opts *o, struct cu_image *out,
                                 struct cu_err *err)
{
    struct cu_raw_image r;
    CU_TRY(cu_image_read(path, o ? o->page : 0, &r, err));
    enum cu_status st = cu_raw_to_rgb(&r, o, path, out, err);
    cu_raw_free(&r);
    return st;
}

enum cu_status cu_image_read_labels(const char *path, struct cu_labels *out, struct cu_err *err)
{
    struct cu_raw_image r;
    CU_TRY(cu_image_read(path, 0, &r, err));
    enum cu_status st = cu_raw_to_labels(&r, path, out, err);
    cu_raw_free(&r);
    return st;
}

enum cu_status cu_image_or_mask(const char *path, int h, int w, float *u, struct cu_err *err)
{
    enum cu_image_format fmt = CU_FMT_PNG;
    CU_TRY(cu_image_format_of(path, &fmt, err));
    if (fmt == CU_FMT_PNG)
        return cu_png_or_mask(path, h, w, u, err);
    struct cu_raw_image r;
    CU_TRY(cu_image_read(path, 0, &r, err));
    enum cu_status st = CU_OK;
    if (r.h != h || r.w != w)
        st = cu_fail(err, CU_EINPUT, "%s: mask is %dx%d, its image is %dx%d", path, r.w, r.h, w, h);
    else
        cu_raw_or_mask(&r, u);
    cu_raw_free(&r);
    return st;
}

enum cu_status cu_image_read_size(const char *path, int *h, int *w, struct cu_err *err)
{
    struct cu_raw_image r;
    CU_TRY(cu_image_probe(path, &r, err));
    *h = r.h, *w = r.w;
    cu_raw_free(&r);
    return CU_OK;
}

enum cu_status cu_image_new(struct cu_image *out, int c, int h, int w, struct cu_err *err)
{
    if (c <= 0 || h <= 0 || w <= 0)
        return cu_fail(err, CU_EUSAGE, "image: bad size %dx%dx%d", c, h, w);
    float *px = calloc((size_t)c * (size_t)h * (size_t)w, sizeof *px);
    if (!px)
        return cu_fail(err, CU_EDEVICE, "image: out of memory for %dx%dx%d floats", c, h, w);
    out->c = c, out->h = h, out->w = w, out->px = px;
    return CU_OK;
}

void cu_image_free(struct cu_image *im)
{
    if (!im)
        return;
    free(im->px);
    memset(im, 0, sizeof *im);
}

void cu_labels_free(struct cu_labels *lb)
{
    if (!lb)
        return;
    free(lb->v);
    memset(lb, 0, sizeof *lb);
}
