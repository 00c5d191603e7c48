/* metrics.h: scores of a predicted segmentation against the truth, on the
 * host: foreground Dice and IoU of two binary masks, the IoU of every
 * overlapping pair of nuclei, and the Data Science Bowl 2018 score of a
 * predicted label image. Leaves out averaging over a dataset (the mean of
 * the per-image values, done by `clunet eval`) and reading images.
 *
 * Layouts as in instances.h: masks uint8_t (nonzero = foreground), label
 * images int32_t (0 background, positive = one nucleus), H*W row-major.
 * Labels need not be consecutive and may be any non-negative int32 (an
 * RGB-coded label image's 0xRRGGBB works); a label with no pixel is no
 * nucleus. A negative label gives CU_EINPUT.
 *
 * The DSB2018 score of one image: for each threshold t = 0.50, 0.55, ...,
 * 0.95, a predicted nucleus P matches a true nucleus T when IoU(P,T) > t,
 * compared exactly in integers as 20*|P and T| > 20t*|P or T|, so an IoU of
 * exactly 0.75 does not match at t = 0.75. Since t >= 0.5, a nucleus can
 * match at most one other (IoU > 0.5 needs more than half of each), so the
 * matching is one-to-one without any assignment step. TP = matches,
 * FP = predicted nuclei unmatched, FN = true nuclei unmatched, precision(t)
 * = TP / (TP + FP + FN); the image's score is the mean over the 10 t.
 * Empty cases: no true and no predicted nucleus -> precision 1 at every t
 * (score 1): nothing was there and nothing was claimed, i.e. no error at
 * all; the formula's 0/0 is its limit of no mistakes, and it matches the
 * "Dice = 1 when both are empty" convention of Kaggle's segmentation
 * metrics. (DSB2018's own test images all hold nuclei, and its public
 * example code returns NaN there.) True nuclei but no prediction -> 0;
 * predictions but no true nucleus -> 0. The same convention gives Dice and
 * IoU = 1 for two empty masks. */
#ifndef CLUNET_METRICS_H
#define CLUNET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

#define CU_DSB_NT 10 /* thresholds 0.50, 0.55, ..., 0.95 */

/* Threshold i (0..9): 0.50 + 0.05 i, i.e. (10 + i) / 20. */
double cu_dsb_threshold(int i);

struct cu_fg_score {
    int64_t inter, pred, truth; /* pixel counts: both, predicted, true */
    double dice;                /* 2 inter / (pred + truth) */
    double iou;                 /* inter / (pred + truth - inter) */
};

/* Dice and IoU of the foregrounds of pred and truth (n pixels each). */
void cu_fg_score(struct cu_fg_score *out, const uint8_t *pred, const uint8_t *truth, size_t n);
/* The same from pixel counts (both, predicted, true). */
void cu_fg_score_counts(struct cu_fg_score *out, int64_t inter, int64_t pred, int64_t truth);

/* One pair of overlapping nuclei (inter > 0). */
struct cu_iou_pair {
    int32_t pred, truth; /* labels */
    int64_t inter, uni;  /* |P and T|, |P or T| in pixels */
};

/* Every pair of overlapping nuclei, from a sparse joint histogram of the two
 * label images (O(H*W), memory in the number of pairs); *pairs is malloc'd
 * (caller frees; NULL when *n_pairs is 0), ordered by pred then truth. */
enum cu_status cu_iou_pairs(struct cu_iou_pair **pairs, size_t *n_pairs, const int32_t *pred,
                            const int32_t *truth, int h, int w, struct cu_err *err);

struct cu_dsb_score {
    int n_pred, n_true;             /* nuclei present in each image */
    int tp[CU_DSB_NT];              /* matches at IoU > threshold i */
    double precision[CU_DSB_NT];    /* TP / (TP + FP + FN), see above */
    double score;                   /* mean of precision */
};

/* The DSB2018 score of pred against truth (label images, H*W each). */
enum cu_status cu_dsb_score(struct cu_dsb_score *out, const int32_t *pred, const int32_t *truth, int h, int w,
                            struct cu_err *err);

#endif
