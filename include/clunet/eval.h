/* eval.h: `clunet eval` as a library call: scoring a model (or saved label
 * images) on a labelled folder with Dice, IoU and the DSB2018 score, per
 * image and overall (eval_report.h holds the rows and files; metrics.h the
 * arithmetic). Leaves out flag parsing (cmd_eval.c). */
#ifndef CLUNET_EVAL_H
#define CLUNET_EVAL_H

#include <stdio.h>

#include "clunet/predict.h"

struct cu_eval_run {
    const char *model;    /* model file, or NULL with pred_dir */
    const char *pred_dir; /* folder of <id>_labels.png (or <id>.png), or NULL */
    const char *data;     /* labelled folder: DSB2018 train layout or images/ + masks/ */
    const char *out_dir;  /* eval.csv and eval.json; NULL: the model's folder, or pred_dir */
    const char *device;   /* backend spec, NULL = default */
    const char *groups;   /* grouping file ("image_id,group" lines), or NULL: group by image size */
    const char *report_dir; /* --report: index.html and pictures (eval_html.h), or NULL */
    struct cu_predict_opts opts;
    int json;             /* print the summary JSON instead of the table */
    FILE *progress;       /* progress bar (stderr) or NULL */
    FILE *report;         /* table or JSON (stdout) or NULL */
};

/* Scores every image of data; writes eval.csv and eval.json atomically. A
 * prediction file that is missing or of the wrong size is CU_EINPUT naming
 * it: no image is skipped. */
enum cu_status clunet_eval(const struct cu_eval_run *r, struct cu_err *err);

#endif
