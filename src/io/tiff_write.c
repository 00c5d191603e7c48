/* tiff_write.c: TIFFs through libtiff (export.h), a page per plane: one strip
 * per 64 rows, deflate, min-is-black, written to the atomic temporary file
 * through a second, read-write descriptor of it (TIFFClose closes that one,
 * cu_atomic_commit the first; write-only fails at a second page: libtiff
 * reads the directory chain back). libtiff's messages go into the error
 * line, never to stderr. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

#include "clunet/export.h"
#include "io/atomic_file.h"

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)module;
    char *msg = user;
    if (!msg[0])
        vsnprintf(msg, 256, fmt, ap);
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static enum cu_status write_tiff(const char *path, const void *px, int pages, int h, int w, int bits, int format,
                                 struct cu_err *err)
{
    struct cu_atomic a;
    CU_TRY(cu_atomic_begin(&a, path, err));
    char msg[256] = "";
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    int fd = open(a.tmp, O_RDWR | O_CLOEXEC);
    TIFF *t = NULL;
    if (opts && fd >= 0) {
        TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, msg);
        TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, NULL);
        t = TIFFFdOpenExt(fd, path, "w", opts);
    }
    int ok = t != NULL;
    size_t row_bytes = (size_t)w * (size_t)(bits / 8), page_bytes = row_bytes * (size_t)h;
    for (int pg = 0; ok && pg < pages; pg++) {
        uint32_t rows = 64;
        ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w) && TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h) &&
             TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) && TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits) &&
             TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format) &&
             TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
             TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
        if (ok && pages > 1)
            ok = TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) &&
                 TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)pg, (uint16_t)pages);
        for (uint32_t s = 0; ok && s * rows < (uint32_t)h; s++) {
            uint32_t nr = (uint32_t)h - s * rows < rows ? (uint32_t)h - s * rows : rows;
            const char *p = (const char *)px + (size_t)pg * page_bytes + (size_t)s * rows * row_bytes;
            ok = TIFFWriteEncodedStrip(t, s, (void *)p, (tmsize_t)(nr * row_bytes)) >= 0;
        }
        ok = TIFFWriteDirectory(t) && ok;
    }
    if (t) {
        TIFFClose(t);
    } else if (fd >= 0) {
        close(fd);
    }
    if (opts)
        TIFFOpenOptionsFree(opts);
    if (!ok) {
        cu_atomic_abort(&a);
        return cu_fail(err, CU_EIO, "%s: cannot write the TIFF: %s", path, msg[0] ? msg : "out of memory");
    }
    /* The data went through the duplicate; the FILE holds nothing. */
    return cu_atomic_commit(&a, err);
}

enum cu_status cu_tiff_write_u32(const char *path, const uint32_t *px, int h, int w, struct cu_err *err)
{
    return write_tiff(path, px, 1, h, w, 32, SAMPLEFORMAT_UINT, err);
}

enum cu_status cu_tiff_write_f32(const char *path, const float *px, int h, int w, struct cu_err *err)
{
    return write_tiff(path, px, 1, h, w, 32, SAMPLEFORMAT_IEEEFP, err);
}

enum cu_status cu_tiff_write_f32_pages(const char *path, const float *px, int pages, int h, int w, struct cu_err *err)
{
    return write_tiff(path, px, pages, h, w, 32, SAMPLEFORMAT_IEEEFP, err);
}
