/* png_io.c: the PNG decoder behind cu_image_read (every flavour -> the
 * stored samples), the row-by-row mask union, and PNG writing (8-bit gray,
 * 8-bit RGB, 16-bit gray), with libpng. See image.h.
 *
 * libpng reports errors by longjmp: every setjmp stays in this file, inside
 * one small function per direction (decode, encode) whose state lives in a
 * struct reached through a pointer that never changes after setjmp, so
 * nothing is left indeterminate when libpng jumps back. The message libpng
 * gives is kept and prefixed with the path.
 *
 * Not here: choosing the decoder (image_read.c), converting samples
 * (image_convert.c), resizing (resize.c), what a mask means (dataset.c). */
#include "clunet/image.h"
#include "io/image_impl.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"

enum want { WANT_RAW, WANT_SIZE, WANT_MASK };

/* Decoder state: set up before setjmp, read after a longjmp. */
struct rd {
    const char *path;
    FILE *f;
    png_structp png;
    png_infop info;
    png_bytep buf;   /* h * rowbytes, decoded rows */
    png_bytepp rows; /* h pointers into buf */
    int h, w, ch, depth, bits, palette;
    float *u;        /* WANT_MASK: the union (uh, uw) to OR into */
    int uh, uw;
    unsigned char pre[25]; /* the IHDR chunk, read ahead to check the size */
    size_t pre_len, pre_pos;
    char msg[200];
};

static void on_error(png_structp png, png_const_charp m)
{
    struct rd *r = png_get_error_ptr(png);
    const char *colon = strstr(m, ": ");
    if (colon && strstr(m, "CRC error")) /* "IDAT: CRC error" */
        snprintf(r->msg, sizeof r->msg, "corrupt PNG: bad CRC in chunk %.*s (the file is damaged)", (int)(colon - m), m);
    else if (strstr(m, "invalid chunk type") || strstr(m, "bad adaptive filter") || strstr(m, "invalid distance") ||
             strstr(m, "incorrect data check") || strstr(m, "invalid block type"))
        snprintf(r->msg, sizeof r->msg, "corrupt PNG: damaged data (%s)", m);
    else
        snprintf(r->msg, sizeof r->msg, "%s", m);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp m)
{
    (void)png, (void)m; /* e.g. "iCCP: known incorrect sRGB profile": harmless */
}

static void on_read(png_structp png, png_bytep data, size_t n)
{
    struct rd *r = png_get_io_ptr(png);
    while (n && r->pre_pos < r->pre_len)
        *data++ = r->pre[r->pre_pos++], n--;
    if (n && fread(data, 1, n, r->f) != n)
        png_error(png, ferror(r->f) ? "read error" : "file is truncated");
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* Checks the 8-byte signature (image_read.c has chosen this decoder by it;
 * the mask fast path comes here directly). */
static enum cu_status check_signature(struct rd *r, struct cu_err *err)
{
    unsigned char sig[8];
    size_t n = fread(sig, 1, 8, r->f);
    if (n < 8 || png_sig_cmp(sig, 0, 8)) {
        enum cu_image_format fmt;
        enum cu_status st = cu_image_format_of(r->path, &fmt, err); /* names what the file is */
        return st ? st : cu_fail(err, CU_EINPUT, "%s: not a PNG file (bad signature)", r->path);
    }
    /* Refuse a huge image before libpng reads anything else: the size is in
     * IHDR, the first chunk (length 13, "IHDR", width, height, ...). The CRC
     * is still checked by libpng when it reads these bytes again. */
    r->pre_len = fread(r->pre, 1, sizeof r->pre, r->f);
    if (r->pre_len == sizeof r->pre && !memcmp(r->pre + 4, "IHDR", 4)) {
        unsigned long long w = be32(r->pre + 8), h = be32(r->pre + 12);
        if (w * h > CU_PNG_MAX_PIXELS)
            return cu_fail(err, CU_EINPUT, "%s: image is %llux%llu, over the limit of 2^28 pixels", r->path, w, h);
    }
    return CU_OK;
}

/* Chooses libpng transforms so that rows come out as the stored samples:
 * 1, 2 and 4 bits unpacked to one byte each (values kept), palette indices
 * kept, alpha stripped, 16 bits big-endian. */
static void set_transforms(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (depth < 8)
        png_set_packing(png);
    if (type & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* WANT_MASK: u[y, x] = 1 where any byte of the pixel is non-zero. */
static void or_row(struct rd *r, int y, const png_byte *row)
{
    size_t bpp = (size_t)r->ch * (size_t)(r->depth / 8);
    float *u = r->u + (size_t)y * (size_t)r->w;
    if (bpp == 1) { /* 8-bit gray, the DSB masks: skip zero words fast */
        size_t x = 0, w = (size_t)r->w;
        for (; x + 8 <= w; x += 8) {
            uint64_t word;
            memcpy(&word, row + x, 8);
            if (!word)
                continue;
            for (size_t k = x; k < x + 8; k++)
                if (row[k])
                    u[k] = 1.0f;
        }
        for (; x < w; x++)
            if (row[x])
                u[x] = 1.0f;
        return;
    }
    for (size_t x = 0; x < (size_t)r->w; x++) {
        const png_byte *p = row + x * bpp;
        int on = 0;
        for (size_t k = 0; k < bpp; k++)
            on |= p[k];
        if (on)
            u[x] = 1.0f;
    }
}

/* The part that may longjmp. On return r->buf holds the rows (unless
 * WANT_SIZE) and r->h, r->w, r->ch, r->depth describe them. */
static int decode(struct rd *r, enum want want)
{
    if (setjmp(png_jmpbuf(r->png)))
        return -1;
    png_set_read_fn(r->png, r, on_read);
    png_set_sig_bytes(r->png, 8);
#ifdef PNG_IGNORE_ADLER32
    /* Masks: the chunk CRCs still catch damaged files; zlib's own checksum
     * over 5 Gpx of inflated DSB masks cost 8 % of the load. */
    if (want == WANT_MASK)
        png_set_option(r->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    png_read_info(r->png, r->info);
    r->w = (int)png_get_image_width(r->png, r->info);
    r->h = (int)png_get_image_height(r->png, r->info);
    if ((unsigned long long)r->w * (unsigned long long)r->h > CU_PNG_MAX_PIXELS) {
        snprintf(r->msg, sizeof r->msg, "image is %dx%d, over the limit of 2^28 pixels", r->w, r->h);
        return -1;
    }
    int type = png_get_color_type(r->png, r->info);
    r->bits = png_get_bit_depth(r->png, r->info);
    r->palette = type == PNG_COLOR_TYPE_PALETTE;
    r->ch = type & PNG_COLOR_MASK_COLOR && !r->palette ? 3 : 1;
    if (want == WANT_SIZE)
        return 0;
    set_transforms(r->png, r->info);
    r->ch = png_get_channels(r->png, r->info);
    r->depth = png_get_bit_depth(r->png, r->info);
    size_t rowbytes = png_get_rowbytes(r->png, r->info);
    int streamed = want == WANT_MASK && png_get_interlace_type(r->png, r->info) == PNG_INTERLACE_NONE;
    if (want == WANT_MASK && (r->h != r->uh || r->w != r->uw)) {
        snprintf(r->msg, sizeof r->msg, "mask is %dx%d, its image is %dx%d", r->w, r->h, r->uw, r->uh);
        return -1;
    }
    if (streamed) { /* one row at a time: most masks are mostly zeros */
        r->buf = malloc(rowbytes);
        if (!r->buf) {
            snprintf(r->msg, sizeof r->msg, "out of memory");
            return -1;
        }
        for (int y = 0; y < r->h; y++) {
            png_read_row(r->png, r->buf, NULL);
            or_row(r, y, r->buf);
        }
        png_read_end(r->png, NULL);
        return 0;
    }
    r->buf = malloc(rowbytes * (size_t)r->h);
    r->rows = malloc(sizeof *r->rows * (size_t)r->h);
    if (!r->buf || !r->rows) {
        snprintf(r->msg, sizeof r->msg, "out of memory for %dx%d pixels", r->w, r->h);
        return -1;
    }
    for (int y = 0; y < r->h; y++)
        r->rows[y] = r->buf + rowbytes * (size_t)y;
    png_read_image(r->png, r->rows);
    png_read_end(r->png, NULL); /* checks the trailing chunks' CRCs too */
    for (int y = 0; want == WANT_MASK && y < r->h; y++)
        or_row(r, y, r->rows[y]);
    return 0;
}

static void rd_close(struct rd *r)
{
    if (r->png)
        png_destroy_read_struct(&r->png, &r->info, NULL);
    free(r->rows);
    free(r->buf);
    if (r->f)
        fclose(r->f);
}

static enum cu_status rd_open(struct rd *r, const char *path, enum want want, struct cu_err *err)
{
    float *u = r->u;
    int uh = r->uh, uw = r->uw;
    memset(r, 0, sizeof *r);
    r->u = u, r->uh = uh, r->uw = uw;
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f)
        return cu_fail(err, CU_EINPUT, "%s: %s", path, strerror(errno));
    enum cu_status st = check_signature(r, err);
    if (st)
        return st;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, on_error, on_warning);
    if (r->png)
        r->info = png_create_info_struct(r->png);
    if (!r->png || !r->info)
        return cu_fail(err, CU_EINPUT, "%s: cannot initialise libpng", path);
    if (decode(r, want))
        return cu_fail(err, CU_EINPUT, "%s: %s", path, r->msg);
    return CU_OK;
}

/* The header facts of r into out (no samples). */
static void describe(const struct rd *r, struct cu_raw_image *out)
{
    memset(out, 0, sizeof *out);
    out->format = CU_FMT_PNG;
    out->w = r->w, out->h = r->h;
    out->channels = r->ch;
    out->pages = 1;
    out->bits = r->bits;
    out->bytes = r->bits == 16 ? 2 : 1;
    out->kind = CU_SAMPLE_UINT;
}

/* pHYs in metres -> micrometres per pixel. */
static void pixel_size(const struct rd *r, struct cu_raw_image *out)
{
    png_uint_32 xr, yr;
    int unit;
    if (png_get_pHYs(r->png, r->info, &xr, &yr, &unit) && unit == PNG_RESOLUTION_METER && xr && yr)
        out->um_x = 1e6 / xr, out->um_y = 1e6 / yr;
}

/* Copies the palette (8-bit r, g, b triples) into out. */
static enum cu_status copy_palette(const struct rd *r, struct cu_raw_image *out, struct cu_err *err)
{
    png_colorp pal;
    int n = 0;
    if (!png_get_PLTE(r->png, r->info, &pal, &n) || n <= 0)
        return cu_fail(err, CU_EINPUT, "%s: palette image without a palette", r->path);
    out->palette = malloc((size_t)n * 3);
    if (!out->palette)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", r->path);
    for (int i = 0; i < n; i++)
        out->palette[3 * i] = pal[i].red, out->palette[3 * i + 1] = pal[i].green, out->palette[3 * i + 2] = pal[i].blue;
    out->n_palette = n;
    return CU_OK;
}

enum cu_status cu_png_decode(const char *path, int header_only, struct cu_raw_image *out, struct cu_err *err)
{
    struct rd r;
    enum cu_status st = rd_open(&r, path, header_only ? WANT_SIZE : WANT_RAW, err);
    struct cu_raw_image im;
    if (!st) {
        describe(&r, &im);
        pixel_size(&r, &im);
    }
    if (!st && !header_only && r.palette)
        st = copy_palette(&r, &im, err);
    if (!st && !header_only) {
        size_t plane = (size_t)r.h * (size_t)r.w;
        im.data = malloc(plane * (size_t)im.channels * (size_t)im.bytes);
        if (!im.data)
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory for %dx%d pixels", path, r.w, r.h);
        for (int y = 0; !st && y < r.h; y++) {
            const png_byte *row = r.rows[y];
            for (int x = 0; x < r.w; x++)
                for (int k = 0; k < im.channels; k++) {
                    size_t o = (size_t)x * (size_t)r.ch + (size_t)k, q = plane * (size_t)k + (size_t)y * (size_t)r.w + (size_t)x;
                    if (im.bytes == 2)
                        ((uint16_t *)im.data)[q] = (uint16_t)(row[2 * o] << 8 | row[2 * o + 1]);
                    else
                        ((uint8_t *)im.data)[q] = row[o];
                }
        }
        if (st)
            cu_raw_free(&im);
    }
    if (!st)
        *out = im;
    rd_close(&r);
    return st;
}

enum cu_status cu_png_or_mask(const char *path, int h, int w, float *u, struct cu_err *err)
{
    struct rd r = {.u = u, .uh = h, .uw = w};
    enum cu_status st = rd_open(&r, path, WANT_MASK, err);
    rd_close(&r);
    return st;
}

/* ---- writing ---- */

/* Encoder state, as struct rd. */
struct wr {
    FILE *f;
    png_structp png;
    png_infop info;
    const void *px;
    int h, w, type, depth, ch;
    png_bytep row; /* one row, converted to big-endian for 16 bit */
    char msg[200];
};

static void on_write_error(png_structp png, png_const_charp m)
{
    struct wr *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", m);
    png_longjmp(png, 1);
}

static void on_write(png_structp png, png_bytep data, size_t n)
{
    struct wr *s = png_get_io_ptr(png);
    if (fwrite(data, 1, n, s->f) != n)
        png_error(png, strerror(errno));
}

static void on_flush(png_structp png)
{
    (void)png;
}

static int encode(struct wr *s)
{
    if (setjmp(png_jmpbuf(s->png)))
        return -1;
    png_set_write_fn(s->png, s, on_write, on_flush);
    png_set_IHDR(s->png, s->info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(s->png, s->info);
    size_t n = (size_t)s->w * (size_t)s->ch;
    for (int y = 0; y < s->h; y++) {
        if (s->depth == 16) {
            const uint16_t *src = (const uint16_t *)s->px + n * (size_t)y;
            for (size_t i = 0; i < n; i++)
                s->row[2 * i] = (png_byte)(src[i] >> 8), s->row[2 * i + 1] = (png_byte)(src[i] & 0xFF);
        } else {
            memcpy(s->row, (const uint8_t *)s->px + n * (size_t)y, n);
        }
        png_write_row(s->png, s->row);
    }
    png_write_end(s->png, NULL);
    return 0;
}

/* Writes atomically (io/atomic_file.h; an output a rerun makes again: not
 * fsync'ed). */
static enum cu_status write_png(const char *path, const void *px, int h, int w, int type, int depth,
                                struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (unsigned long long)h * (unsigned long long)w > CU_PNG_MAX_PIXELS)
        return cu_fail(err, CU_EIO, "%s: cannot write a %dx%d image", path, w, h);
    struct wr s = {.px = px, .h = h, .w = w, .type = type, .depth = depth};
    s.ch = type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    s.row = malloc((size_t)w * (size_t)s.ch * (size_t)(depth / 8));
    if (!s.row)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", path);
    struct cu_atomic a;
    enum cu_status st = cu_atomic_begin(&a, path, err);
    if (st) {
        free(s.row);
        return st;
    }
    s.f = a.f;
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, on_write_error, on_warning);
    if (s.png)
        s.info = png_create_info_struct(s.png);
    if (!s.png || !s.info)
        st = cu_fail(err, CU_EIO, "%s: cannot initialise libpng", path);
    else if (encode(&s))
        st = cu_fail(err, CU_EIO, "%s: %s", path, s.msg);
    if (s.png)
        png_destroy_write_struct(&s.png, &s.info);
    if (st)
        cu_atomic_abort(&a);
    else
        st = cu_atomic_commit(&a, err);
    free(s.row);
    return st;
}

enum cu_status cu_png_write_gray8(const char *path, const uint8_t *px, int h, int w, struct cu_err *err)
{
    return write_png(path, px, h, w, PNG_COLOR_TYPE_GRAY, 8, err);
}

enum cu_status cu_png_write_rgb8(const char *path, const uint8_t *px, int h, int w, struct cu_err *err)
{
    return write_png(path, px, h, w, PNG_COLOR_TYPE_RGB, 8, err);
}

enum cu_status cu_png_write_gray16(const char *path, const uint16_t *px, int h, int w, struct cu_err *err)
{
    return write_png(path, px, h, w, PNG_COLOR_TYPE_GRAY, 16, err);
}
