/* dir_lock.h: one writer per folder. A process that writes a run folder
 * (train) or an output folder (predict, eval) holds an exclusive flock on
 * "<dir>/.lock" for as long as it writes; the file holds its pid. A second
 * process finds the lock taken and stops at once, naming the holder,
 * instead of both overwriting each other's files (a requeued cluster job
 * while the old one still runs). The holder removes .lock when done; the
 * kernel drops the lock when the holder is killed, so a stale .lock file
 * never blocks anyone. */
#ifndef CLUNET_DIR_LOCK_H
#define CLUNET_DIR_LOCK_H

#include "clunet/status.h"

/* Locks dir (which must exist); *fd is the lock (-1 on failure). Another
 * holder: CU_EUSAGE "DIR: in use by another clunet (pid N); ...". */
enum cu_status cu_dir_lock(const char *dir, int *fd, struct cu_err *err);
/* Removes dir/.lock and releases the lock (fd -1: nothing). */
void cu_dir_unlock(const char *dir, int fd);

#endif
