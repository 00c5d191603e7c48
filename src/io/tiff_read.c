/* tiff_read.c: the TIFF decoder behind cu_image_read (libtiff): 1, 2, 4,
 * 8, 16 and 32-bit unsigned or signed integer and 32-bit float samples;
 * grey, palette, RGB and any number of extra channels, interleaved or
 * planar; strips or tiles; every compression libtiff was built with (none,
 * LZW, deflate, PackBits, ...). Alpha is dropped; min-is-white is turned
 * into min-is-black.
 *
 * Pages: with ImageJ or OME metadata (tiff_meta.c) the IFDs that are
 * channels of one image are gathered as its channels and only z/t
 * positions are pages; without, every IFD is a page and its samples are
 * its channels. Pixel size: OME's PhysicalSize, ImageJ's resolution in its
 * `unit`, else the resolution tags when their unit is centimetres.
 *
 * libtiff's messages go to a handler per file (never to stderr); the first
 * error is kept and prefixed with the path.
 *
 * Not here: choosing the decoder (image_read.c), converting samples. */
#include "io/image_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

struct tctx {
    const char *path;
    TIFF *tif;
    char msg[200];
};

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)module;
    struct tctx *t = user;
    if (!t->msg[0])
        vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap; /* unknown tags etc.: harmless */
    return 1;
}

static enum cu_status fail(struct tctx *t, struct cu_err *err, const char *what)
{
    const char *m = t->msg;
    size_t n = strlen(t->path);
    if (!strncmp(m, t->path, n) && !strncmp(m + n, ": ", 2)) /* libtiff names the file too */
        m += n + 2;
    return cu_fail(err, CU_EINPUT, "%s: %s%s%s", t->path, what, m[0] ? ": " : "", m);
}

/* The layout of one IFD. */
struct ifd {
    uint32_t w, h;
    uint16_t spp, bps, fmt, planar, photo;
    int keep;       /* samples kept (alpha dropped) */
    int tiled;
    uint32_t bw, bh; /* tile or strip size */
};

static enum cu_status read_ifd_info(struct tctx *t, struct ifd *d, struct cu_err *err)
{
    memset(d, 0, sizeof *d);
    TIFF *tif = t->tif;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &d->w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &d->h))
        return fail(t, err, "no image size");
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &d->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &d->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &d->fmt);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &d->planar);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &d->photo))
        d->photo = d->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (d->w == 0 || d->h == 0 || (uint64_t)d->w * d->h > CU_PNG_MAX_PIXELS)
        return cu_fail(err, CU_EINPUT, "%s: image is %ux%u, %s", t->path, (unsigned)d->w, (unsigned)d->h,
                       d->w && d->h ? "over the limit of 2^28 pixels" : "empty");
    if (d->spp < 1 || d->spp > 1024)
        return cu_fail(err, CU_EINPUT, "%s: %u samples per pixel", t->path, (unsigned)d->spp);
    int ok = d->fmt == SAMPLEFORMAT_IEEEFP ? d->bps == 32
             : (d->fmt == SAMPLEFORMAT_UINT || d->fmt == SAMPLEFORMAT_INT)
                 ? (d->bps == 1 || d->bps == 2 || d->bps == 4 || d->bps == 8 || d->bps == 16 || d->bps == 32)
                 : 0;
    if (!ok)
        return cu_fail(err, CU_EINPUT, "%s: %u-bit %s samples are not supported (8, 16, 32-bit integer, 32-bit float)",
                       t->path, (unsigned)d->bps,
                       d->fmt == SAMPLEFORMAT_IEEEFP ? "float" : d->fmt == SAMPLEFORMAT_INT ? "signed" : "unsigned");
    if (d->photo == PHOTOMETRIC_YCBCR || d->photo == PHOTOMETRIC_SEPARATED || d->photo == PHOTOMETRIC_CIELAB ||
        d->photo > PHOTOMETRIC_CIELAB)
        return cu_fail(err, CU_EINPUT, "%s: photometric interpretation %u (YCbCr, CMYK, Lab ...) is not supported",
                       t->path, (unsigned)d->photo);
    if (d->photo == PHOTOMETRIC_PALETTE && (d->spp != 1 || d->bps > 16 || d->fmt != SAMPLEFORMAT_UINT))
        return cu_fail(err, CU_EINPUT, "%s: bad palette image", t->path);
    /* Alpha: extra samples marked as (associated or unassociated) alpha. */
    d->keep = d->spp;
    uint16_t nx = 0, *xs = NULL;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &nx, &xs) && nx <= d->spp)
        for (int i = 0; i < nx; i++)
            if (xs[i] == EXTRASAMPLE_ASSOCALPHA || xs[i] == EXTRASAMPLE_UNASSALPHA)
                d->keep = d->spp - nx + i < d->keep ? d->spp - nx + i : d->keep;
    d->tiled = TIFFIsTiled(tif);
    if (d->tiled) {
        if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &d->bw) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &d->bh) ||
            !d->bw || !d->bh)
            return fail(t, err, "bad tile size");
    } else {
        uint32_t rps = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        d->bw = d->w;
        d->bh = rps == 0 || rps > d->h ? d->h : rps;
    }
    return CU_OK;
}

/* Sample k of the pixel at bit offset `bit` of a decoded block, as stored. */
static uint32_t extract(const uint8_t *b, uint64_t bit, int bps)
{
    switch (bps) {
    case 8: return b[bit / 8];
    case 16: {
        uint16_t v;
        memcpy(&v, b + bit / 8, 2);
        return v;
    }
    case 32: {
        uint32_t v;
        memcpy(&v, b + bit / 8, 4);
        return v;
    }
    }
    unsigned byte = b[bit / 8], shift = 8 - (unsigned)(bit % 8) - (unsigned)bps; /* MSB first */
    return byte >> shift & ((1u << bps) - 1);
}

static void store(void *data, int bytes, size_t q, uint32_t v)
{
    if (bytes == 1)
        ((uint8_t *)data)[q] = (uint8_t)v;
    else if (bytes == 2)
        ((uint16_t *)data)[q] = (uint16_t)v;
    else
        memcpy((uint32_t *)data + q, &v, 4);
}

/* Decodes the current IFD into planes c0 .. c0 + keep - 1 of out. */
static enum cu_status read_pixels(struct tctx *t, const struct ifd *d, struct cu_raw_image *out, int c0,
                                  struct cu_err *err)
{
    TIFF *tif = t->tif;
    int sep = d->planar == PLANARCONFIG_SEPARATE && d->spp > 1;
    int sppb = sep ? 1 : d->spp; /* samples per pixel inside a block */
    uint64_t rowbits = ((uint64_t)d->bw * (uint64_t)sppb * d->bps + 7) / 8 * 8;
    tmsize_t bsize = d->tiled ? TIFFTileSize(tif) : TIFFStripSize(tif);
    if (bsize <= 0 || (uint64_t)bsize < rowbits / 8)
        return fail(t, err, "bad strip or tile size");
    /* A block may pad the image (tiles past its edge), but not by more than
     * twice the image or 64 MiB: a header claiming more is damaged, and its
     * buffer is never allocated. */
    uint64_t image_bytes = (uint64_t)d->w * d->h * (uint64_t)d->spp * ((d->bps + 7) / 8);
    uint64_t limit = 2 * image_bytes > ((uint64_t)64 << 20) ? 2 * image_bytes : ((uint64_t)64 << 20);
    if ((uint64_t)bsize > limit)
        return fail(t, err, "a strip or tile is larger than the image it holds");
    uint8_t *buf = malloc((size_t)bsize);
    if (!buf)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", t->path);
    size_t plane = (size_t)d->w * (size_t)d->h;
    enum cu_status st = CU_OK;
    int nplanes = sep ? d->keep : 1;
    for (int s = 0; s < nplanes && !st; s++)
        for (uint32_t y0 = 0; y0 < d->h && !st; y0 += d->bh)
            for (uint32_t x0 = 0; x0 < d->w && !st; x0 += d->bw) {
                tmsize_t got = d->tiled ? TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x0, y0, 0, (uint16_t)s), buf, bsize)
                                        : TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y0, (uint16_t)s), buf, bsize);
                uint32_t rows = d->tiled ? d->bh : (d->h - y0 < d->bh ? d->h - y0 : d->bh);
                if (got < 0 || (uint64_t)got * 8 < rowbits * rows) {
                    st = fail(t, err, "file is truncated or corrupt (a strip or tile cannot be decoded)");
                    break;
                }
                for (uint32_t r = 0; r < rows && y0 + r < d->h; r++)
                    for (uint32_t c = 0; c < d->bw && x0 + c < d->w; c++) {
                        size_t q = (size_t)(y0 + r) * d->w + (x0 + c);
                        for (int k = 0; k < (sep ? 1 : d->keep); k++) {
                            uint64_t bit = r * rowbits + ((uint64_t)c * (uint64_t)sppb + (uint64_t)k) * d->bps;
                            int ch = c0 + (sep ? s : k);
                            store(out->data, out->bytes, (size_t)ch * plane + q, extract(buf, bit, d->bps));
                        }
                    }
            }
    free(buf);
    if (!st && d->photo == PHOTOMETRIC_MINISWHITE && d->fmt == SAMPLEFORMAT_UINT && d->bps <= 16) {
        uint32_t max = (1u << d->bps) - 1;
        for (int k = 0; k < d->keep; k++)
            for (size_t q = 0; q < plane; q++) {
                size_t i = (size_t)(c0 + k) * plane + q;
                store(out->data, out->bytes, i, max - (uint32_t)cu_raw_at(out, i));
            }
    }
    return st;
}

static enum cu_status copy_palette(struct tctx *t, const struct ifd *d, struct cu_raw_image *out,
                                   struct cu_err *err)
{
    uint16_t *r, *g, *b;
    if (!TIFFGetField(t->tif, TIFFTAG_COLORMAP, &r, &g, &b))
        return fail(t, err, "palette image without a colour map");
    int n = 1 << d->bps;
    out->palette = malloc((size_t)n * 3);
    if (!out->palette)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", t->path);
    for (int i = 0; i < n; i++)
        out->palette[3 * i] = (uint8_t)(r[i] >> 8), out->palette[3 * i + 1] = (uint8_t)(g[i] >> 8),
        out->palette[3 * i + 2] = (uint8_t)(b[i] >> 8);
    out->n_palette = n;
    return CU_OK;
}

/* Pixel size from the resolution tags: pixels per `unit_um` micrometres. */
static void resolution(TIFF *tif, double unit_um, struct cu_raw_image *out)
{
    float xr = 0, yr = 0;
    uint16_t unit = RESUNIT_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    if (!unit_um && unit == RESUNIT_CENTIMETER)
        unit_um = 1e4;
    if (unit_um > 0 && TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr) &&
        xr > 0 && yr > 0)
        out->um_x = unit_um / xr, out->um_y = unit_um / yr;
}

static enum cu_status open_tiff(struct tctx *t, const char *path, struct cu_err *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, t);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, t);
    /* A single allocation over 1 GiB is a corrupt header, not an image. */
    TIFFOpenOptionsSetMaxSingleMemAlloc(o, (tmsize_t)1 << 30);
    t->tif = TIFFOpenExt(path, "rm", o); /* m: read, no memory mapping (a file truncated under us) */
    TIFFOpenOptionsFree(o);
    return t->tif ? CU_OK : fail(t, err, "not a readable TIFF file");
}

enum cu_status cu_tiff_decode(const char *path, int page, int header_only, struct cu_raw_image *out,
                              struct cu_err *err)
{
    struct tctx t;
    CU_TRY(open_tiff(&t, path, err));
    struct cu_raw_image im = {.format = CU_FMT_TIFF};
    struct ifd d0 = {0}, d;
    struct cu_tiff_meta m = {0};
    enum cu_status st = read_ifd_info(&t, &d0, err);
    long nifd = st ? 0 : (long)TIFFNumberOfDirectories(t.tif);
    char *desc = NULL;
    if (!st && (!TIFFGetField(t.tif, TIFFTAG_IMAGEDESCRIPTION, &desc) || !desc))
        desc = NULL;
    if (!st && cu_tiff_meta_parse(desc, &m))
        st = cu_fail(err, CU_EINPUT, "%s: inconsistent %s metadata (channels x slices x frames)", path,
                     m.kind == CU_TIFF_OME ? "OME-XML" : "ImageJ");
    long c_ifd = 1, pages = nifd;
    if (!st && m.kind != CU_TIFF_PLAIN) {
        /* Samples of one IFD are channels too (RGB, interleaved multi-channel). */
        c_ifd = d0.spp > 1 ? m.c / d0.keep : m.c;
        if (c_ifd < 1 || (d0.spp > 1 && m.c % d0.keep))
            c_ifd = 1;
        m.c = c_ifd;
        pages = m.z * m.t;
        if (c_ifd * pages > nifd)
            st = cu_fail(err, CU_EINPUT, "%s: the %s metadata describes %ld images, the file holds %ld", path,
                         m.kind == CU_TIFF_OME ? "OME-XML" : "ImageJ", c_ifd * pages, nifd);
    }
    if (!st) {
        im.pages = (int)pages;
        im.page = page;
        im.w = (int)d0.w, im.h = (int)d0.h;
        im.bits = d0.bps;
        im.bytes = d0.bps <= 8 ? 1 : d0.bps / 8;
        im.kind = d0.fmt == SAMPLEFORMAT_IEEEFP ? CU_SAMPLE_FLOAT : d0.fmt == SAMPLEFORMAT_INT ? CU_SAMPLE_INT : CU_SAMPLE_UINT;
        im.channels = (int)(c_ifd * d0.keep);
        if (m.um_x > 0)
            im.um_x = m.um_x, im.um_y = m.um_y > 0 ? m.um_y : m.um_x;
        else
            resolution(t.tif, m.kind == CU_TIFF_IMAGEJ ? m.unit_um : 0, &im);
        if (page < 0 || page >= pages)
            st = cu_fail(err, CU_EUSAGE, "%s: page %d: the file has %ld page%s", path, page + 1, pages,
                         pages == 1 ? "" : "s");
    }
    for (long c = 0; !st && c < c_ifd; c++) {
        long ifd = m.kind == CU_TIFF_PLAIN ? page : cu_tiff_meta_ifd(&m, c, page);
        if ((long)TIFFCurrentDirectory(t.tif) != ifd && !TIFFSetDirectory(t.tif, (tdir_t)ifd)) {
            st = fail(&t, err, "cannot read a page");
            break;
        }
        st = read_ifd_info(&t, &d, err);
        if (!st && (d.w != d0.w || d.h != d0.h || d.bps != d0.bps || d.fmt != d0.fmt || d.keep != d0.keep) &&
            (c_ifd > 1 || header_only))
            st = cu_fail(err, CU_EINPUT, "%s: the channels of page %d differ in size or sample type", path, page + 1);
        if (st)
            break;
        if (c == 0) { /* a plain multi-page file: each page describes itself */
            im.w = (int)d.w, im.h = (int)d.h, im.bits = d.bps, im.bytes = d.bps <= 8 ? 1 : d.bps / 8;
            im.kind = d.fmt == SAMPLEFORMAT_IEEEFP ? CU_SAMPLE_FLOAT : d.fmt == SAMPLEFORMAT_INT ? CU_SAMPLE_INT : CU_SAMPLE_UINT;
            im.channels = (int)(c_ifd * d.keep);
            if (d.photo == PHOTOMETRIC_PALETTE && c_ifd == 1)
                st = copy_palette(&t, &d, &im, err);
            if (!st && !header_only && !(im.data = malloc((size_t)im.w * (size_t)im.h * (size_t)im.channels * (size_t)im.bytes)))
                st = cu_fail(err, CU_EDEVICE, "%s: out of memory for %dx%d pixels", path, im.w, im.h);
        }
        if (!st && header_only)
            break;
        if (!st)
            st = read_pixels(&t, &d, &im, (int)(c * d.keep), err);
    }
    TIFFClose(t.tif);
    if (st) {
        cu_raw_free(&im);
        return st;
    }
    *out = im;
    return CU_OK;
}
