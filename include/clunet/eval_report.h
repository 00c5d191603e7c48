/* eval_report.h: the per-image scores of `clunet eval` and their summary:
 * one row per image (foreground Dice and IoU, the DSB2018 score and its ten
 * precisions), the dataset means, and the files eval.csv and eval.json.
 * Leaves out predicting and reading images (the command does that).
 *
 * Summary = the mean over images of each per-image value (the competition's
 * dataset score is the mean of the image scores; Dice and IoU are averaged
 * the same way, so a small image weighs as much as a large one).
 *
 * Groups: every row carries a group name (`clunet eval` uses the image
 * size "WxH", or the user's grouping file); each group gets the same
 * summary over its own images. Nuclei fates (fates.h: matched, missed,
 * false, merged, split, as the eval definitions count them) are counted per
 * image and summed per group and overall.
 *
 * eval.csv: header
 *   image,width,height,true_nuclei,pred_nuclei,dice,iou,dsb_score,p50,p55,...,p95,
 *   group,matched,missed,false,merged,split
 * one row per image in the order added; numbers with 6 decimals; an id
 * or group with a comma or quote is quoted as RFC 4180 says.
 * eval.json: {"images": N, "dice": ., "iou": ., "dsb_score": .,
 *   "precision": {"0.50": ., "0.55": ., ..., "0.95": .},
 *   "true_nuclei": total, "pred_nuclei": total,
 *   "fates": {"matched": ., "missed": ., "false": ., "merged": ., "split": .},
 *   "grouping": "size" or the grouping file's path,
 *   "groups": [{"group": name, "images", "dice", "iou", "dsb_score",
 *               "precision", "true_nuclei", "pred_nuclei", "fates"}, ...]
 *             (sorted by name; the same fields as the whole),
 *   "per_image": [{"image", "group", "width", "height", "true_nuclei",
 *                  "pred_nuclei", "dice", "iou", "dsb_score", "fates"}, ...]}
 * With no image, the means are null. Both files are written atomically. */
#ifndef CLUNET_EVAL_REPORT_H
#define CLUNET_EVAL_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "clunet/fates.h"
#include "clunet/metrics.h"
#include "clunet/status.h"

struct cu_eval_row {
    char image[256];             /* image id (truncated to fit) */
    int width, height;
    struct cu_fg_score fg;       /* foreground Dice, IoU */
    struct cu_dsb_score dsb;     /* nuclei counts, precisions, score */
    struct cu_fate_counts fates; /* matched, missed, false, merged, split (fates.h) */
    char group[64];              /* the row's group ("WxH" by default) */
};

struct cu_eval_summary {
    int images;
    int64_t true_nuclei, pred_nuclei;
    double dice, iou, dsb_score;     /* means over images */
    double precision[CU_DSB_NT];     /* mean precision at each threshold */
    struct cu_fate_counts fates;     /* totals */
};

/* The summary of the rows of one group. */
struct cu_eval_group {
    char name[64];
    struct cu_eval_summary s;
};

/* Scores one image: pred and truth label images (H*W); pred_mask (H*W) is
 * the predicted foreground for Dice/IoU, or NULL to use pred > 0. The true
 * foreground is truth > 0. The group is "WxH" (the caller may replace it). */
enum cu_status cu_eval_image(struct cu_eval_row *row, const char *image, const uint8_t *pred_mask,
                             const int32_t *pred, const int32_t *truth, int h, int w, struct cu_err *err);

struct cu_eval_report;

enum cu_status cu_eval_report_new(struct cu_eval_report **out, struct cu_err *err);
void cu_eval_report_free(struct cu_eval_report *r);
enum cu_status cu_eval_report_add(struct cu_eval_report *r, const struct cu_eval_row *row, struct cu_err *err);
size_t cu_eval_report_rows(const struct cu_eval_report *r);
const struct cu_eval_row *cu_eval_report_row(const struct cu_eval_report *r, size_t i);
void cu_eval_report_summary(const struct cu_eval_report *r, struct cu_eval_summary *s);
/* The groups of the rows, sorted by name: *groups malloc'd (caller frees),
 * *n of them. */
enum cu_status cu_eval_report_groups(const struct cu_eval_report *r, struct cu_eval_group **groups, size_t *n,
                                     struct cu_err *err);
/* What the groups are, for eval.json's "grouping" (default "size"). */
void cu_eval_report_set_grouping(struct cu_eval_report *r, const char *grouping);

/* eval.csv and eval.json as described above; CU_EIO on failure. */
enum cu_status cu_eval_report_write_csv(const struct cu_eval_report *r, const char *path, struct cu_err *err);
enum cu_status cu_eval_report_write_json(const struct cu_eval_report *r, const char *path, struct cu_err *err);
/* The same JSON as a malloc'd string (for --json on stdout). */
enum cu_status cu_eval_report_json(const struct cu_eval_report *r, char **out, struct cu_err *err);

/* The table for people: with per_image, one line per image (id cut to 32
 * characters: nuclei true/predicted, Dice, IoU, DSB score), then the means
 * and the mean precision at each threshold. Output, not errors: the caller
 * picks the stream (stdout). */
void cu_eval_report_print(const struct cu_eval_report *r, FILE *f, int per_image);

#endif
