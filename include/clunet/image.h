/* image.h: host images: PNG reading and writing (libpng) and the
 * scikit-image-exact resize.
 *
 * Layout: a struct cu_image is PLANAR (CHW): c planes of h*w floats, row by
 * row, so that a plane drops straight into an NCHW tensor and resizing works
 * plane by plane. Colour images read as c = 3 in [0, 1] (value / 255 or
 * / 65535); gray is replicated to three planes, alpha is dropped, palettes
 * are expanded, gamma and colour profiles are ignored (as scikit-image's
 * imread does).
 *
 * Label images (instance masks) read as integers, one uint32 per pixel, row
 * major: gray 1..16 bit is the value itself, palette images give the index,
 * RGB(A) gives (r << 16 | g << 8 | b) at 8 bit, so each colour is one label.
 * Alpha is dropped.
 *
 * Errors: one line "<path>: <what is wrong>"; CU_EINPUT for reads (missing,
 * empty, not a PNG, truncated, corrupt, over CU_PNG_MAX_PIXELS), CU_EIO for
 * writes. Writes go to a temporary name in the same folder and are renamed
 * into place, so no reader ever sees half a file.
 *
 * Not here: JPEG/TIFF (only PNG is read), colour management. */
#ifndef CLUNET_IMAGE_H
#define CLUNET_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

/* Larger images are refused as bad input (2^28 pixels: 1 GiB of labels,
 * 3 GiB of float RGB). */
#define CU_PNG_MAX_PIXELS (1ull << 28)

struct cu_image {
    int c, h, w;
    float *px; /* (c, h, w), owned */
};

struct cu_labels {
    int h, w;
    uint32_t *v; /* (h, w), owned */
};

/* Allocates a zeroed image; out is set only on success. */
enum cu_status cu_image_new(struct cu_image *out, int c, int h, int w, struct cu_err *err);
void cu_image_free(struct cu_image *im); /* frees px, zeroes the struct; NULL ok */
void cu_labels_free(struct cu_labels *lb);

/* Any PNG flavour (gray, gray+alpha, RGB, RGBA, palette with or without
 * tRNS, 1/2/4/8/16 bit, interlaced) -> c = 3 float image in [0, 1]. */
enum cu_status cu_png_read_rgb(const char *path, struct cu_image *out, struct cu_err *err);

/* Any PNG flavour -> integer labels (see the header comment). */
enum cu_status cu_png_read_labels(const char *path, struct cu_labels *out, struct cu_err *err);

/* ORs a mask file into u (h, w): u = 1 where any sample of the PNG is
 * non-zero (alpha ignored). A file of another size than (h, w) is an error
 * ("<path>: mask is WxH, its image is WxH"). Reads row by row without
 * converting: the union of the 21,200 DSB2018 dev masks is 5 Gpx. */
enum cu_status cu_png_or_mask(const char *path, int h, int w, float *u, struct cu_err *err);

/* Width and height only (reads the header). */
enum cu_status cu_png_read_size(const char *path, int *h, int *w, struct cu_err *err);

/* Writers, atomic (temp + rename). px is row major; rgb8 is interleaved
 * r,g,b per pixel (h*w*3 bytes). */
enum cu_status cu_png_write_gray8(const char *path, const uint8_t *px, int h, int w, struct cu_err *err);
enum cu_status cu_png_write_rgb8(const char *path, const uint8_t *px, int h, int w, struct cu_err *err);
enum cu_status cu_png_write_gray16(const char *path, const uint16_t *px, int h, int w, struct cu_err *err);

/* Resizes src (c, sh, sw) to dst (c, dh, dw) exactly as scikit-image 0.19
 * does with resize(img, (dh, dw), order=1, mode='constant', cval=0,
 * clip=True, preserve_range=True, anti_aliasing=True) on an (h, w[, c])
 * array:
 *   1. per axis that shrinks, a Gaussian filter with sigma = (in/out - 1)/2,
 *      radius int(4 sigma + 0.5), zero outside the image (scipy
 *      gaussian_filter, mode 'grid-constant'), rows first then columns;
 *   2. bilinear sampling at x_in = (x_out + 0.5) * in/out - 0.5, a tap
 *      outside the image reading 0 (scipy zoom, grid_mode, 'grid-constant');
 *   3. clipping to [min, max] of the whole source (all planes together).
 *      (skimage widens that range to include cval 0 when the output
 *      reaches 0; for non-negative sources, ours, it never does.)
 * Used for images (S x S on load) and for probability maps (back to the
 * original H x W). Computes in double. dst and src must not overlap.
 * Fails only on allocation (CU_EINPUT is never returned). */
enum cu_status cu_resize(const float *src, int c, int sh, int sw, float *dst, int dh, int dw,
                         struct cu_err *err);

/* The mask rule of the original pipeline: resize (as cu_resize, one plane)
 * then > 0.5, decided in double before any rounding to float, so that the
 * many pixels that land on 0.5 break the same way as in scikit-image. dst
 * gets 0 or 1. */
enum cu_status cu_resize_mask(const float *src, int sh, int sw, float *dst, int dh, int dw, struct cu_err *err);

/* cu_resize on a struct cu_image into a new image of (h, w). */
enum cu_status cu_image_resize(const struct cu_image *src, int h, int w, struct cu_image *out,
                               struct cu_err *err);

#endif
