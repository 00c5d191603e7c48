/* fates.h: what became of each nucleus when a predicted label image is
 * compared with the true one, so that a person can see where a model fails:
 * nuclei matched, missed, falsely found, merged into one and split in two.
 * Host only; leaves out drawing (fate_overlay.h) and averaging over images.
 *
 * Definitions (overlaps counted in pixels; label images as in metrics.h):
 * - matched: a prediction P and a true nucleus T with IoU(P,T) > 0.5 (then
 *   one-to-one, see metrics.h);
 * - a prediction P *merges* when >= 2 true nuclei each have >= 50 % of
 *   their own pixels inside P;
 * - a true nucleus T is *split* when >= 2 predictions each have >= 50 % of
 *   their own pixels inside T;
 * - missed: a true nucleus matched by no prediction and in no merge (not
 *   one of the >= 2 true nuclei of a merging prediction);
 * - false: a prediction matching no true nucleus and in no split (not one
 *   of the >= 2 predictions of a split true nucleus).
 * Counts: matched = matched pairs; merged = merging predictions; split =
 * split true nuclei; missed and false as above, taken literally: a split
 * true nucleus is matched by nothing and in no merge, so it also counts as
 * missed; a merging prediction matches nothing and is in no split, so it
 * also counts as false. (The per-nucleus fate below gives each nucleus one
 * colour.)
 *
 * Per-nucleus fate, in this order of precedence: a prediction is MATCHED,
 * else SPLIT (one of the pieces of a split true nucleus), else MERGED (a
 * merging prediction), else FALSE; a true nucleus is MATCHED, else MERGED
 * (one of the nuclei of a merging prediction), else SPLIT, else MISSED. */
#ifndef CLUNET_FATES_H
#define CLUNET_FATES_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

enum cu_fate {
    CU_FATE_MATCHED = 0,
    CU_FATE_SPLIT = 1,
    CU_FATE_MERGED = 2,
    CU_FATE_FALSE = 3,  /* predictions only */
    CU_FATE_MISSED = 4, /* true nuclei only */
};

struct cu_fate_counts {
    int64_t matched, missed, false_pos, merged, split;
};

/* One label image's nuclei: sorted labels, their areas and fates. */
struct cu_fate_side {
    size_t n;
    int32_t *label;  /* ascending */
    int64_t *area;   /* pixels */
    uint8_t *fate;   /* enum cu_fate */
};

struct cu_fates {
    struct cu_fate_side pred, truth;
    struct cu_fate_counts counts;
};

/* Fates of every nucleus of pred and truth (H*W label images). f is
 * zeroed first; free with cu_fates_free. CU_EINPUT for a negative label. */
enum cu_status cu_fates_compute(struct cu_fates *f, const int32_t *pred, const int32_t *truth, int h, int w,
                                struct cu_err *err);
void cu_fates_free(struct cu_fates *f);

/* The fate of label l on one side, or -1 when l is no nucleus there. */
int cu_fate_of(const struct cu_fate_side *s, int32_t l);

/* Adds b to a. */
void cu_fate_counts_add(struct cu_fate_counts *a, const struct cu_fate_counts *b);

/* "matched", "split", "merged", "false", "missed". */
const char *cu_fate_name(enum cu_fate f);

#endif
