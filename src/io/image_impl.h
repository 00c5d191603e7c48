/* image_impl.h: the decoders behind cu_image_read (image_read.c chooses one
 * by the file's magic bytes); not a public interface. Each fills a struct
 * cu_raw_image (planar, unscaled samples) or, with header_only, everything
 * but its data. */
#ifndef CLUNET_IO_IMAGE_IMPL_H
#define CLUNET_IO_IMAGE_IMPL_H

#include "clunet/image.h"

enum cu_status cu_png_decode(const char *path, int header_only, struct cu_raw_image *out, struct cu_err *err);

/* The PNG mask union read row by row (image.h: cu_image_or_mask). */
enum cu_status cu_png_or_mask(const char *path, int h, int w, float *u, struct cu_err *err);

enum cu_status cu_tiff_decode(const char *path, int page, int header_only, struct cu_raw_image *out,
                              struct cu_err *err);
enum cu_status cu_jpeg_decode(const char *path, int header_only, struct cu_raw_image *out, struct cu_err *err);

/* What a TIFF's ImageJ or OME-XML description says (tiff_meta.c). */
enum cu_tiff_kind { CU_TIFF_PLAIN, CU_TIFF_IMAGEJ, CU_TIFF_OME };
struct cu_tiff_meta {
    enum cu_tiff_kind kind;
    long c, z, t;     /* channels, z-slices, time points stored as separate IFDs (or samples) */
    char order[4];    /* the three of C, Z, T, fastest first ("CZT") */
    double unit_um;   /* ImageJ: micrometres per `unit` (0 unknown) */
    double um_x, um_y; /* OME: pixel size in micrometres (0 unknown) */
};

/* Parses an ImageDescription (NULL or other text: plain, c = z = t = 1).
 * -1 when ImageJ or OME metadata is there but inconsistent. */
int cu_tiff_meta_parse(const char *desc, struct cu_tiff_meta *m);

/* The IFD index of channel c of page (page = z + Z * t). */
long cu_tiff_meta_ifd(const struct cu_tiff_meta *m, long c, long page);

#endif
