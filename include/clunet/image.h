/* image.h: host images: reading any supported image file (one reader,
 * decoder chosen by the file's magic bytes), PNG writing (libpng) and the
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
 * Not here: colour management. */
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

/* ---- reading: one reader for every image file ----
 *
 * cu_image_read picks the decoder by the file's first bytes (its magic
 * number), never by its name: PNG ("\x89PNG"), TIFF ("II*" / "MM*", also
 * BigTIFF) or JPEG (FF D8 FF). It returns the samples as
 * stored, unscaled (struct cu_raw_image); turning them into the network's
 * input (cu_raw_to_rgb), labels (cu_raw_to_labels) or a mask
 * (cu_raw_or_mask) is a separate step. Alpha channels are dropped by the
 * reader; a palette image keeps its indices (channels = 1) and carries its
 * palette. A file's "pages" are the images it holds (for a stack: its z or
 * t positions); every page has the same size and channels. */

enum cu_image_format { CU_FMT_PNG = 1, CU_FMT_TIFF, CU_FMT_JPEG };
enum cu_sample_kind { CU_SAMPLE_UINT, CU_SAMPLE_INT, CU_SAMPLE_FLOAT };

struct cu_raw_image {
    enum cu_image_format format;
    int w, h;
    int channels;  /* samples per pixel (alpha dropped) */
    int pages;     /* images in the file (1 for PNG and JPEG; TIFF: see tiff_read.c) */
    int page;      /* the page held in data (0-based) */
    int bits;      /* bits per sample: 1, 2, 4, 8, 16 or 32 (JPEG: 8) */
    int bytes;     /* bytes per stored sample in data: 1, 2 or 4 */
    enum cu_sample_kind kind;
    double um_x, um_y;        /* pixel size in micrometres; 0 when the file does not say */
    uint8_t *palette;         /* n_palette r,g,b triples (a palette PNG), else NULL; owned */
    int n_palette;
    void *data;    /* PLANAR (channels, h, w) samples of type (bytes, kind), owned */
};

/* The format by the first bytes of path; a file that is none of them is
 * CU_EINPUT "<path>: not a PNG file (...)" naming what it looks like. */
enum cu_status cu_image_format_of(const char *path, enum cu_image_format *fmt, struct cu_err *err);

/* Everything but the samples (data = NULL), from the file's header. */
enum cu_status cu_image_probe(const char *path, struct cu_raw_image *out, struct cu_err *err);

/* Decodes page (0-based) of path. Errors are CU_EINPUT "<path>: ...". */
enum cu_status cu_image_read(const char *path, int page, struct cu_raw_image *out, struct cu_err *err);
void cu_raw_free(struct cu_raw_image *r);

/* Sample (channel c, row y, column x) as a double, unscaled; cu_raw_at
 * takes the flat index (c * h + y) * w + x. */
double cu_raw_sample(const struct cu_raw_image *r, int c, int y, int x);
double cu_raw_at(const struct cu_raw_image *r, size_t q);

/* How samples become the network's input: 3 planes of floats in [0, 1].
 *
 * Channels: with channel = k (1-based) plane k is used, replicated to the
 * three planes; without, 1 channel is replicated, 3 are taken as RGB (a
 * palette is looked up to 8-bit RGB first), other counts are an error
 * asking for --channel.
 *
 * Intensity, per plane (norm):
 *   CU_NORM_AUTO (the default): integer images of 8 bits or fewer are
 *     divided by 2^bits - 1 (1-, 2- and 4-bit grey first expanded to 8 bit
 *     as libpng does, so PNGs read exactly as scikit-image reads them);
 *     every other image (16 or 32-bit integer, signed, float) is stretched
 *     by percentiles 1 and 99.8 as CU_NORM_PERCENTILE.
 *   CU_NORM_PERCENTILE: every image, 8-bit too: p_lo and p_hi, the lo-th
 *     and hi-th percentiles of the plane's samples (numpy's default linear
 *     interpolation between order statistics), map to 0 and 1:
 *     (v - p_lo) / (p_hi - p_lo), clipped to [0, 1]. A plane with
 *     p_hi <= p_lo (flat) is scaled by its type's range as CU_NORM_NONE.
 *   CU_NORM_NONE: the type's range: unsigned v / (2^bits - 1), signed
 *     v / (2^(bits-1) - 1), float v as is, clipped to [0, 1].
 * Float NaN and infinities read as 0. */
enum cu_norm { CU_NORM_AUTO = 0, CU_NORM_PERCENTILE, CU_NORM_NONE };
#define CU_NORM_LO 1.0
#define CU_NORM_HI 99.8

struct cu_input_opts {
    int channel;       /* 1-based; 0 = by channel count (above) */
    enum cu_norm norm; /* CU_NORM_AUTO when zeroed */
    double lo, hi;     /* CU_NORM_PERCENTILE: 0 <= lo < hi <= 100 */
    int page;          /* 0-based page of a multi-page file (cu_image_read_rgb) */
};

/* "auto", "none" or "LO,HI" (percentiles) into o->norm, lo, hi; -1 when s
 * is none of them. */
int cu_norm_parse(const char *s, struct cu_input_opts *o);
/* The inverse: "auto", "none" or "1,99.8" (shortest exact decimals). */
void cu_norm_name(const struct cu_input_opts *o, char *buf, size_t size);

/* The percentile stretch of CU_NORM_PERCENTILE on a plane of n floats, in
 * place: the lo-th and hi-th percentiles (numpy's linear interpolation,
 * found by selection, O(n)) map to 0 and 1, clipped; a flat plane is left
 * as it is. For code that normalises planes it already holds (a recipe's
 * preprocessing); CU_EDEVICE only when out of memory. */
enum cu_status cu_stretch_plane(float *px, size_t n, double lo, double hi, struct cu_err *err);

/* The p-th percentile (0..100) of n doubles (sorted in place), numpy's
 * linear interpolation: x[i] + (pos - i) * (x[i + 1] - x[i]) at
 * pos = p / 100 * (n - 1), i = floor(pos). */
double cu_percentile_sorted(const double *x, size_t n, double p);

/* Samples -> c = 3 float image (see struct cu_input_opts); o may be NULL. */
enum cu_status cu_raw_to_rgb(const struct cu_raw_image *r, const struct cu_input_opts *o, const char *path,
                             struct cu_image *out, struct cu_err *err);

/* Samples -> integer labels (see the header comment): 1 channel is the
 * value itself (a palette image gives the index), 3 channels give
 * (r << 16 | g << 8 | b) at 8 bit (16-bit samples >> 8). */
enum cu_status cu_raw_to_labels(const struct cu_raw_image *r, const char *path, struct cu_labels *out,
                                struct cu_err *err);

/* u (h, w) = 1 where any sample of the pixel is non-zero. */
void cu_raw_or_mask(const struct cu_raw_image *r, float *u);

/* The usual calls: read (page o->page for images, 0 for labels; o may be
 * NULL) and convert. */
enum cu_status cu_image_read_rgb(const char *path, const struct cu_input_opts *o, struct cu_image *out,
                                 struct cu_err *err);
enum cu_status cu_image_read_labels(const char *path, struct cu_labels *out, struct cu_err *err);

/* ORs a mask file into u (h, w): u = 1 where any sample of the file is
 * non-zero (alpha ignored). A file of another size than (h, w) is an error
 * ("<path>: mask is WxH, its image is WxH"). PNGs are read row by row
 * without converting: the union of the 21,200 DSB2018 dev masks is 5 Gpx. */
enum cu_status cu_image_or_mask(const char *path, int h, int w, float *u, struct cu_err *err);

/* Width and height only (reads the header). */
enum cu_status cu_image_read_size(const char *path, int *h, int *w, struct cu_err *err);

/* Interleaved 8-bit RGB (h*w*3, malloc'd; NULL when out of memory) of a
 * planar image in [0, 1]: values clamped, rounded; one plane is
 * replicated to three. For pictures a person looks at. */
uint8_t *cu_image_rgb8(const struct cu_image *im);

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
