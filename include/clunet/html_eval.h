/* html_eval.h: the page `clunet eval --report DIR` writes (DIR/index.html):
 * one self-contained HTML file (inline CSS and a few lines of inline
 * JavaScript, no network) beside the pictures it shows.
 *
 * - summary: Dice, IoU, DSB score, nuclei counts and their fates (fates.h);
 *   the precision at each IoU threshold 0.50...0.95 as an SVG chart
 *   (id "precision-chart");
 * - one table row per group (image size "WxH" unless the caller set
 *   another group name): images, mean DSB score, Dice, and the counts of
 *   matched, missed, false, merged and split nuclei;
 * - one table row per image (table id "images"), worst DSB score first: a
 *   thumbnail of the image and of its fate overlay (fate_overlay.h), each
 *   a link to the full-size picture, the id, size, counts and scores; a
 *   click on a column heading sorts by it (again: the other way);
 * - the legend of the overlay's colours.
 * Written atomically (atomic_file.h). */
#ifndef CLUNET_HTML_EVAL_H
#define CLUNET_HTML_EVAL_H

#include <stdio.h>

#include "clunet/fates.h"
#include "clunet/metrics.h"
#include "clunet/status.h"

struct cu_html_image {
    char id[256];
    char group[64];          /* "" = "WxH" */
    int w, h;
    int n_true, n_pred;
    double dice, iou, dsb;
    struct cu_fate_counts fates;
    char image_file[64];     /* relative to the page, e.g. "img/3.png" */
    char overlay_file[64];
};

struct cu_html_eval {
    const char *model;       /* or NULL */
    const char *pred_dir;    /* or NULL */
    const char *data;
    int n;
    const struct cu_html_image *im;
    double dice, iou, dsb;   /* means over images */
    double precision[CU_DSB_NT];
};

enum cu_status cu_html_eval_write(const char *path, const struct cu_html_eval *e, struct cu_err *err);

/* Writes s to f with &, <, >, " and ' as HTML entities. */
void cu_html_puts(FILE *f, const char *s);

#endif
