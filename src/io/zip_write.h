/* zip_write.h: a zip archive of stored (uncompressed) entries with CRC-32,
 * written atomically (temp + rename), for ImageJ ROI sets. More than 65,535
 * entries get the zip64 end records (Python's zipfile, Java's ZipFile and
 * ImageJ read them). Leaves out compression, folders and timestamps (every
 * entry is dated 1980-01-01). */
#ifndef CLUNET_ZIP_WRITE_H
#define CLUNET_ZIP_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "io/atomic_file.h"

struct cu_zip {
    struct cu_atomic a;
    uint64_t off;     /* bytes written so far */
    uint8_t *cd;      /* central directory, built as entries are added */
    size_t cd_len, cd_cap;
    uint64_t n;       /* entries */
};

enum cu_status cu_zip_begin(struct cu_zip *z, const char *path, struct cu_err *err);
/* One entry; name is stored as given (UTF-8 bytes). */
enum cu_status cu_zip_add(struct cu_zip *z, const char *name, const void *data, size_t len, struct cu_err *err);
/* Writes the central directory and renames the archive into place. */
enum cu_status cu_zip_finish(struct cu_zip *z, struct cu_err *err);
/* Drops the temporary file (after a failure). */
void cu_zip_abort(struct cu_zip *z);

#endif
