/* run_dir.h: the run folder of `clunet train`: creating it (refusing an
 * existing one unless forced) and writing files into it atomically.
 *
 * Every file is written as io/atomic_file.h writes a durable file: to a
 * temporary name beside it, flushed and fsync'd, then renamed over
 * "<dir>/<name>", so a reader (or a resumed run after a crash or a power
 * cut) sees either the old file or the new one, never half of it.
 * Leaves out: what the files contain (train.c, history.c, safetensors). */
#ifndef CLUNET_RUN_DIR_H
#define CLUNET_RUN_DIR_H

#include <stddef.h>
#include <stdio.h>

#include "clunet/status.h"

/* The files a run folder holds (also removed by --force). */
#define CU_RUN_MODEL "model.safetensors"
#define CU_RUN_BEST "best.safetensors"
#define CU_RUN_CHECKPOINT "checkpoint.safetensors"
#define CU_RUN_HISTORY_CSV "history.csv"
#define CU_RUN_HISTORY_SVG "history.svg"
#define CU_RUN_LOG "train.log"
#define CU_RUN_REPORT "report.html" /* and its pictures in report/ */

/* Creates dir (and missing parents; *made = 1 when dir itself was made)
 * and locks it (dir_lock.h; *lock_fd, -1 on failure). An existing dir is
 * refused (CU_EUSAGE, "already exists; use --force or --resume") unless
 * force; with force, once locked, the run files listed above are removed
 * from it and nothing else is touched. */
enum cu_status cu_run_dir_create(const char *dir, int force, int *made, int *lock_fd, struct cu_err *err);

/* Removes the temporary files a killed run left behind: "<name>.tmp.*"
 * (io/atomic_file.h) and ".<name>.tmp.*" (older clunets) of the run files
 * above, whatever their pid: one run uses a folder at a time.
 * Best effort (a file that cannot be removed stays); called by --resume
 * and --force. */
void cu_run_dir_clean_tmp(const char *dir);

/* path = dir/name in buf (CU_EUSAGE if it does not fit). */
enum cu_status cu_run_dir_path(char *buf, size_t size, const char *dir, const char *name, struct cu_err *err);

/* Atomically writes dir/name with what fill writes to the FILE it is given
 * (fill returns 0 on success; a write error is also caught at close). */
enum cu_status cu_run_dir_write(const char *dir, const char *name, int (*fill)(FILE *f, void *ctx), void *ctx,
                                struct cu_err *err);

/* Atomically writes dir/name with len bytes of data. */
enum cu_status cu_run_dir_write_bytes(const char *dir, const char *name, const void *data, size_t len,
                                      struct cu_err *err);

/* Reads dir/name whole into a malloc'd, NUL-terminated buffer (*len bytes
 * without the NUL). CU_EINPUT if missing or unreadable. */
enum cu_status cu_run_dir_read(const char *dir, const char *name, char **data, size_t *len, struct cu_err *err);

#endif
