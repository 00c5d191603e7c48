/* train_html.h: RUN/report.html, the page a person keeps open during a
 * long training run, rewritten (atomically) at the end of every epoch: the
 * configuration, the curves (history.svg), the best epoch so far, the
 * per-epoch table, and fate overlays (fate_overlay.h) of up to 8
 * validation images predicted by best.safetensors at their original size,
 * as `clunet predict` would with its defaults. The overlays
 * (RUN/report/val<k>.png) are redrawn only when the best epoch changes (or
 * once after a resume). Rank 0 only; leaves out the curves themselves
 * (history.c). */
#ifndef CLUNET_TRAIN_HTML_H
#define CLUNET_TRAIN_HTML_H

#include "clunet/status.h"

#define CU_RUN_REPORT "report.html"
#define CU_TRAIN_HTML_IMAGES 8

struct cu_trainer;

/* The overlays' captions, kept between epochs. */
struct cu_train_html {
    int n, epoch; /* images drawn, by the best model of this epoch (0: none yet) */
    char id[CU_TRAIN_HTML_IMAGES][96];
    double dsb[CU_TRAIN_HTML_IMAGES], dice[CU_TRAIN_HTML_IMAGES];
    int n_true[CU_TRAIN_HTML_IMAGES], n_pred[CU_TRAIN_HTML_IMAGES];
};

enum cu_status cu_train_html_update(struct cu_trainer *tr, struct cu_err *err);

#endif
