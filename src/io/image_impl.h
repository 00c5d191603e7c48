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

#endif
