/* progress.h: a progress bar for long loops (loading a dataset, training
 * epochs, predicting a folder).
 *
 * On a terminal it is one line redrawn in place (at most ten times a
 * second): "loading [=========>          ] 250/503  4.1s  note". Elsewhere
 * (a log file, CI) it prints a plain line at each tenth of the way, so logs
 * stay short and readable. cu_progress_done ends the line with the total
 * time. A NULL stream makes every call a no-op (quiet mode, tests).
 *
 * Not thread-safe by itself: callers that update from several threads hold
 * their own lock around cu_progress_update (dataset.c does). */
#ifndef CLUNET_PROGRESS_H
#define CLUNET_PROGRESS_H

#include <stdio.h>

struct cu_progress {
    FILE *f;
    int tty;
    char label[64];
    long total, done;
    double t0, last_draw;
    int last_tenth;
    char note[96];
};

/* Starts a bar on f (NULL: silent) for total steps. */
void cu_progress_start(struct cu_progress *p, FILE *f, const char *label, long total);
/* Sets the count of finished steps; note (may be NULL) is shown after the
 * counts, e.g. "loss 0.213". */
void cu_progress_update(struct cu_progress *p, long done, const char *note);
/* Ends the bar: the final line with the count and the elapsed seconds. */
void cu_progress_done(struct cu_progress *p);
/* Seconds since start. */
double cu_progress_elapsed(const struct cu_progress *p);

/* cu_now, the monotonic clock of timings elsewhere: util.h. */
#include "clunet/util.h"

#endif
