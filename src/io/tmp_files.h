/* tmp_files.h: the temporary files being written right now (an output's
 * "<path>.tmp.*" before its rename), so that a signal handler can remove
 * them: predict or eval stopped by Ctrl-C or SIGTERM leaves no
 * half-written file behind. Writers add a name when they create it and
 * drop it once renamed or removed. A fixed table (a few writers at a
 * time); a name that does not fit is simply not tracked. */
#ifndef CLUNET_TMP_FILES_H
#define CLUNET_TMP_FILES_H

void cu_tmp_files_add(const char *path);
void cu_tmp_files_drop(const char *path);

/* open(path, flags, mode) that adds the file it opens, with SIGINT and
 * SIGTERM held off in between, so that no signal falls between the file's
 * creation and its tracking. */
int cu_tmp_files_open(const char *path, int flags, unsigned mode);

/* Unlinks every tracked file; async-signal-safe. */
void cu_tmp_files_remove_all(void);

/* SIGINT and SIGTERM: remove the tracked files, then die of the signal
 * as before (exit status 128 + signal to the shell). */
void cu_tmp_files_on_signals(void);

#endif
