/* atomic_file.h: every output file of clunet is written so that a reader
 * sees the old file or the complete new one, never half of it: the bytes
 * go to a temporary "<path>.tmp.<pid>.<n>" in the same folder (created
 * exclusively, mode 0666 & ~umask), which rename() then puts in place; on
 * any failure the temporary is removed and path is left as it was.
 *
 * The fsync rule (one for all): a durable file is fsync'ed before the
 * rename, any other is not. Durable are the files that record training:
 * the run folder (models, checkpoint, history, train.log) and every model
 * file, which `clunet train --resume` needs whole after a power cut. Not
 * durable are what a rerun makes again: predictions, reports, the kernel
 * and mask caches; an fsync costs about 8 ms a file here (4 s for the
 * outputs of 500 predicted images). A crash of the process leaves no half
 * file either way. The folder itself is never fsync'ed: after a power cut
 * a rename may be lost, which leaves the old file whole. */
#ifndef CLUNET_ATOMIC_FILE_H
#define CLUNET_ATOMIC_FILE_H

#include <stdio.h>

#include "clunet/status.h"

struct cu_atomic {
    FILE *f;    /* write here between begin and commit */
    char *tmp;  /* temporary name */
    const char *path;
    int durable; /* fsync before the rename (set it between begin and commit) */
};

/* Creates the temporary file; CU_EIO "<path>: cannot create: <why>". */
enum cu_status cu_atomic_begin(struct cu_atomic *a, const char *path, struct cu_err *err);
/* Flushes (fsync when durable), closes and renames onto the path; on any
 * failure (an earlier write error on f included) removes the temporary
 * file: CU_EIO "<path>: write failed: <why>" or "<path>: cannot rename
 * into place: <why>". */
enum cu_status cu_atomic_commit(struct cu_atomic *a, struct cu_err *err);
/* Drops the temporary file (after a failure while writing). */
void cu_atomic_abort(struct cu_atomic *a);

/* The whole write: fill(f, ctx) writes the contents and returns 0, or
 * non-zero on failure (then errno, if set, says why). */
enum cu_status cu_atomic_write_with(const char *path, int durable, int (*fill)(FILE *f, void *ctx), void *ctx,
                                    struct cu_err *err);
/* path gets the len bytes of data. */
enum cu_status cu_atomic_write(const char *path, int durable, const void *data, size_t len, struct cu_err *err);

#endif
