/* train_report.h: what `clunet train` tells its user while it runs: the
 * durations, clearing a progress bar's line (progress.h draws it), and
 * train.log's text kept in memory (rewritten atomically into the run folder
 * after every epoch). Leaves out: deciding when to report (train.c). */
#ifndef CLUNET_TRAIN_REPORT_H
#define CLUNET_TRAIN_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "clunet/status.h"
#include "clunet/train.h"

/* A growing text (train.log). */
struct cu_text {
    char *buf;
    size_t len, cap;
    int oom; /* an append failed: the log is incomplete */
};

void cu_text_free(struct cu_text *t);
void cu_text_printf(struct cu_text *t, const char *fmt, ...) CU_PRINTF(2, 3);
/* Writes the text to f (for cu_run_dir_write); non-zero on failure. */
int cu_text_fill(FILE *f, void *text);

/* Clears the terminal line a progress bar was drawn on. */
void cu_report_clear(FILE *f);

/* "[h:]mm:ss" of a duration. */
void cu_format_duration(char *buf, size_t n, double s);

#endif
