/* zip_read.h: the entries of a zip archive held in memory, as Keras 3
 * writes `.keras` files (config.json, metadata.json, model.weights.h5).
 *
 * Reads the end-of-central-directory record, walks the central directory
 * and, for one named entry, checks its local header and inflates it:
 * method 0 (stored) and 8 (deflate, through zlib) only. Zip64, encryption,
 * multi-disk archives and other methods are refused. Every offset and size
 * is checked against the buffer before use; the CRC-32 of what comes out
 * must match. Failures are CU_EINPUT with one line naming the archive. */
#ifndef CLUNET_IO_ZIP_READ_H
#define CLUNET_IO_ZIP_READ_H

#include <stddef.h>

#include "clunet/status.h"

/* The largest entry zip_read will inflate (a .keras model's weights). */
#define CU_ZIP_MAX_ENTRY ((size_t)1 << 31)

/* Extracts the entry called name from the archive buf[0..len) into a
 * malloc'd buffer (*out, *out_len; one NUL byte past the end so text can be
 * read as a string). what names the archive in messages. CU_EINPUT when
 * the archive is malformed or has no such entry. */
enum cu_status cu_zip_extract(const unsigned char *buf, size_t len, const char *name, const char *what,
                              unsigned char **out, size_t *out_len, struct cu_err *err);

#endif
