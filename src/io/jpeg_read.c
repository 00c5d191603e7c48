/* jpeg_read.c: the JPEG decoder behind cu_image_read (libjpeg-turbo):
 * baseline and progressive, grey (1 channel) or colour (3 channels, RGB
 * as libjpeg converts YCbCr, with its default integer IDCT and fancy
 * upsampling: what Pillow's decode gives with the same library); CMYK is
 * refused. The pixel size comes from the JFIF density when its unit is
 * dots per inch or per centimetre.
 *
 * libjpeg reports errors through a longjmp from its error manager: the
 * setjmp and all state it may leave live in one function over a struct
 * reached by a pointer. Warnings (corrupt data, a premature end of file)
 * are errors here: a damaged JPEG is refused, not half-decoded.
 *
 * Not here: choosing the decoder (image_read.c), converting samples. */
#include "io/image_impl.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>

struct jctx {
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr jerr;
    jmp_buf jump;
    FILE *f;
    uint8_t *row;
    char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr c)
{
    struct jctx *j = (struct jctx *)c->client_data;
    if (!j->msg[0])
        c->err->format_message(c, j->msg);
    longjmp(j->jump, 1);
}

static void on_message(j_common_ptr c, int level)
{
    if (level < 0) /* a warning: corrupt data or a premature end */
        on_error(c);
}

/* The part that may longjmp; fills out (data too unless header_only). */
static int decode(struct jctx *j, int header_only, struct cu_raw_image *out)
{
    if (setjmp(j->jump))
        return -1;
    jpeg_create_decompress(&j->d);
    jpeg_stdio_src(&j->d, j->f);
    jpeg_read_header(&j->d, TRUE);
    if (j->d.jpeg_color_space == JCS_CMYK || j->d.jpeg_color_space == JCS_YCCK) {
        snprintf(j->msg, sizeof j->msg, "CMYK JPEGs are not supported");
        return -1;
    }
    j->d.out_color_space = j->d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_calc_output_dimensions(&j->d);
    out->w = (int)j->d.output_width, out->h = (int)j->d.output_height;
    out->channels = j->d.out_color_components;
    if ((unsigned long long)out->w * (unsigned long long)out->h > CU_PNG_MAX_PIXELS) {
        snprintf(j->msg, sizeof j->msg, "image is %dx%d, over the limit of 2^28 pixels", out->w, out->h);
        return -1;
    }
    if (j->d.saw_JFIF_marker && j->d.X_density && j->d.Y_density && (j->d.density_unit == 1 || j->d.density_unit == 2)) {
        double per = j->d.density_unit == 1 ? 25400.0 : 10000.0;
        out->um_x = per / j->d.X_density, out->um_y = per / j->d.Y_density;
    }
    if (header_only)
        return 0;
    size_t plane = (size_t)out->w * (size_t)out->h, stride = (size_t)out->w * (size_t)out->channels;
    out->data = malloc(plane * (size_t)out->channels);
    j->row = malloc(stride);
    if (!out->data || !j->row) {
        snprintf(j->msg, sizeof j->msg, "out of memory for %dx%d pixels", out->w, out->h);
        return -1;
    }
    jpeg_start_decompress(&j->d);
    while (j->d.output_scanline < j->d.output_height) {
        size_t y = j->d.output_scanline;
        JSAMPROW rows[1] = {j->row};
        jpeg_read_scanlines(&j->d, rows, 1);
        for (size_t x = 0; x < (size_t)out->w; x++)
            for (int k = 0; k < out->channels; k++)
                ((uint8_t *)out->data)[plane * (size_t)k + y * (size_t)out->w + x] = j->row[x * (size_t)out->channels + (size_t)k];
    }
    jpeg_finish_decompress(&j->d);
    return 0;
}

enum cu_status cu_jpeg_decode(const char *path, int header_only, struct cu_raw_image *out, struct cu_err *err)
{
    struct jctx *j = calloc(1, sizeof *j);
    struct cu_raw_image *im = calloc(1, sizeof *im);
    if (!j || !im) {
        free(j), free(im);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    }
    enum cu_status st = CU_OK;
    j->f = fopen(path, "rb");
    if (!j->f) {
        st = cu_fail(err, CU_EINPUT, "%s: %s", path, strerror(errno));
    } else {
        j->d.err = jpeg_std_error(&j->jerr);
        j->jerr.error_exit = on_error;
        j->jerr.emit_message = on_message;
        j->d.client_data = j;
        im->format = CU_FMT_JPEG;
        im->pages = 1, im->bits = 8, im->bytes = 1, im->kind = CU_SAMPLE_UINT;
        if (decode(j, header_only, im))
            st = cu_fail(err, CU_EINPUT, "%s: JPEG: %s", path, j->msg);
        jpeg_destroy_decompress(&j->d);
        fclose(j->f);
    }
    free(j->row);
    if (st)
        cu_raw_free(im);
    else
        *out = *im;
    free(im);
    free(j);
    return st;
}
