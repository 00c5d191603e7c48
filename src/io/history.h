/* history.h: the per-epoch record of a training run and its two renderings,
 * history.csv and history.svg (loss and Dice curves, train and validation).
 *
 * The CSV text is also what the checkpoint keeps, so that a resumed run
 * continues the same history; cu_history_parse reads it back.
 * Leaves out: writing files (run_dir.c does it atomically). */
#ifndef CLUNET_HISTORY_H
#define CLUNET_HISTORY_H

#include <stdio.h>

#include "clunet/status.h"

#define CU_HISTORY_HEADER "epoch,train_loss,train_dice,val_loss,val_dice,seconds,images_per_second"

struct cu_history_row {
    int epoch; /* 1-based */
    double train_loss, train_dice, val_loss, val_dice;
    double seconds;           /* wall time of the epoch (train + validation) */
    double images_per_second; /* training images per second of training time */
};

struct cu_history {
    struct cu_history_row *rows;
    int n, cap;
};

void cu_history_free(struct cu_history *h);
enum cu_status cu_history_add(struct cu_history *h, const struct cu_history_row *row, struct cu_err *err);
/* Keeps the first n rows. */
void cu_history_truncate(struct cu_history *h, int n);

/* The CSV (header line, then one line per epoch, values with 9 significant
 * digits: enough to round-trip a float). Returns non-zero on a write error. */
int cu_history_write_csv(FILE *f, const struct cu_history *h);
/* Parses CSV text as written above into h (emptied first); CU_EINPUT naming
 * `what` and the line on anything malformed. */
enum cu_status cu_history_parse(struct cu_history *h, const char *text, const char *what, struct cu_err *err);
/* A standalone SVG: two panels, loss and Dice against epoch, each with
 * axes, ticks, labels and a legend (train solid, validation dashed).
 * title goes above (e.g. "S=128 c=0.5 bce"). */
int cu_history_write_svg(FILE *f, const struct cu_history *h, const char *title);

#endif
