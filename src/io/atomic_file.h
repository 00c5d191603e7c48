/* atomic_file.h: writing an output file so that readers see either the old
 * file or the complete new one, never half of it: the data goes to
 * PATH.tmp.PID in the same folder, then rename() replaces PATH. Used by the
 * submission CSV and the eval reports; leaves out fsync (a crash of the
 * process leaves no partial file; a power cut is out of scope). */
#ifndef CLUNET_ATOMIC_FILE_H
#define CLUNET_ATOMIC_FILE_H

#include <stdio.h>

#include "clunet/status.h"

struct cu_atomic {
    FILE *f;    /* write here between begin and commit */
    char *tmp;  /* temporary name */
    const char *path;
};

/* Creates the temporary file; CU_EIO naming path on failure. */
enum cu_status cu_atomic_begin(struct cu_atomic *a, const char *path, struct cu_err *err);
/* Flushes, closes and renames onto the path; on any failure (including an
 * earlier write error on f) removes the temporary file, CU_EIO. */
enum cu_status cu_atomic_commit(struct cu_atomic *a, struct cu_err *err);
/* Drops the temporary file (after a failure while writing). */
void cu_atomic_abort(struct cu_atomic *a);

#endif
