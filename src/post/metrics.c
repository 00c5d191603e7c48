/* metrics.c: foreground Dice/IoU, the sparse IoU matrix of two label images
 * and the DSB2018 score (see include/clunet/metrics.h for the definitions
 * and the empty-image conventions). Areas and the joint histogram are
 * open-addressing hash tables keyed by label and by (pred, truth), so
 * memory grows with the number of nuclei and of overlapping pairs, not
 * with N_pred * N_true or the largest label value. */
#include "clunet/metrics.h"

#include <stdlib.h>
#include <string.h>

double cu_dsb_threshold(int i)
{
    return (10 + i) / 20.0;
}

void cu_fg_score(struct cu_fg_score *out, const uint8_t *pred, const uint8_t *truth, size_t n)
{
    int64_t inter = 0, np = 0, nt = 0;
    for (size_t i = 0; i < n; i++) {
        int p = pred[i] != 0, t = truth[i] != 0;
        np += p;
        nt += t;
        inter += p & t;
    }
    cu_fg_score_counts(out, inter, np, nt);
}

void cu_fg_score_counts(struct cu_fg_score *out, int64_t inter, int64_t np, int64_t nt)
{
    out->inter = inter;
    out->pred = np;
    out->truth = nt;
    /* Both empty: no error at all, 1 (metrics.h). */
    out->dice = np + nt ? 2.0 * (double)inter / (double)(np + nt) : 1.0;
    out->iou = np + nt ? (double)inter / (double)(np + nt - inter) : 1.0;
}

/* A sparse histogram: counts per non-zero 64-bit key. Keys are a label
 * (areas) or (pred << 32 | truth) (the joint histogram, both labels > 0). */
struct joint {
    uint64_t *key; /* 0 = empty slot */
    int64_t *count;
    size_t cap, n; /* cap a power of two, n used */
};

static size_t slot_of(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

static int joint_grow(struct joint *j)
{
    size_t cap = j->cap ? 2 * j->cap : 1024;
    uint64_t *key = calloc(cap, sizeof *key);
    int64_t *count = calloc(cap, sizeof *count);
    if (!key || !count) {
        free(key);
        free(count);
        return -1;
    }
    for (size_t i = 0; i < j->cap; i++) {
        if (!j->key[i])
            continue;
        size_t s = slot_of(j->key[i], cap);
        while (key[s])
            s = (s + 1) & (cap - 1);
        key[s] = j->key[i];
        count[s] = j->count[i];
    }
    free(j->key);
    free(j->count);
    j->key = key;
    j->count = count;
    j->cap = cap;
    return 0;
}

/* Adds c to the count of key; keeps the load under one half. */
static int joint_add(struct joint *j, uint64_t key, int64_t c)
{
    if (2 * (j->n + 1) > j->cap && joint_grow(j))
        return -1;
    size_t s = slot_of(key, j->cap);
    while (j->key[s] && j->key[s] != key)
        s = (s + 1) & (j->cap - 1);
    if (!j->key[s]) {
        j->key[s] = key;
        j->n++;
    }
    j->count[s] += c;
    return 0;
}

static int64_t joint_get(const struct joint *j, uint64_t key)
{
    if (!j->cap)
        return 0;
    size_t s = slot_of(key, j->cap);
    while (j->key[s] && j->key[s] != key)
        s = (s + 1) & (j->cap - 1);
    return j->key[s] ? j->count[s] : 0;
}

static void joint_free(struct joint *j)
{
    free(j->key);
    free(j->count);
}

/* Area of each non-zero label of lab into j; negative labels are bad
 * input. Runs of one label are counted locally and added once. */
static enum cu_status areas_fill(struct joint *j, const int32_t *lab, size_t n, const char *which,
                                 struct cu_err *err)
{
    int32_t run_label = 0;
    int64_t run = 0;
    for (size_t i = 0; i <= n; i++) {
        int32_t l = i < n ? lab[i] : 0;
        if (l < 0)
            return cu_fail(err, CU_EINPUT, "%s label image: negative label %ld at pixel %zu", which, (long)l, i);
        if (l == run_label) {
            run++;
            continue;
        }
        if (run_label && joint_add(j, (uint64_t)run_label, run))
            return cu_fail(err, CU_EDEVICE, "%s label image: out of host memory", which);
        run_label = l;
        run = 1;
    }
    return CU_OK;
}

/* Fills the table; runs of the same pair (the common case: nuclei are
 * blobs) are counted locally and added once. */
static int joint_fill(struct joint *j, const int32_t *pred, const int32_t *truth, size_t n)
{
    uint64_t run_key = 0;
    int64_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pred[i] || !truth[i])
            continue;
        uint64_t key = (uint64_t)(uint32_t)pred[i] << 32 | (uint32_t)truth[i];
        if (key != run_key) {
            if (run && joint_add(j, run_key, run))
                return -1;
            run_key = key;
            run = 0;
        }
        run++;
    }
    return run ? joint_add(j, run_key, run) : 0;
}

static int pair_cmp(const void *a, const void *b)
{
    const struct cu_iou_pair *x = a, *y = b;
    if (x->pred != y->pred)
        return x->pred < y->pred ? -1 : 1;
    return (x->truth > y->truth) - (x->truth < y->truth);
}

/* The overlapping pairs (sorted), and the number of nuclei in each image. */
static enum cu_status pairs_and_counts(struct cu_iou_pair **pairs_out, size_t *n_out, int *n_pred, int *n_true,
                                       const int32_t *pred, const int32_t *truth, int h, int w, struct cu_err *err)
{
    if (h <= 0 || w <= 0)
        return cu_fail(err, CU_EUSAGE, "IoU: bad image size %dx%d", w, h);
    size_t n = (size_t)h * (size_t)w;
    struct joint ap = {0}, at = {0}, j = {0};
    struct cu_iou_pair *pairs = NULL;
    enum cu_status st = areas_fill(&ap, pred, n, "predicted", err);
    if (!st)
        st = areas_fill(&at, truth, n, "true", err);
    if (st)
        goto out;
    if (joint_fill(&j, pred, truth, n) || (j.n && !(pairs = malloc(j.n * sizeof *pairs)))) {
        st = cu_fail(err, CU_EDEVICE, "IoU: out of host memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < j.cap; i++) {
        if (!j.key[i])
            continue;
        int32_t p = (int32_t)(j.key[i] >> 32), t = (int32_t)(j.key[i] & 0xffffffffu);
        int64_t inter = j.count[i];
        pairs[k++] = (struct cu_iou_pair){p, t, inter,
                                          joint_get(&ap, (uint64_t)p) + joint_get(&at, (uint64_t)t) - inter};
    }
    if (k)
        qsort(pairs, k, sizeof *pairs, pair_cmp);
    *pairs_out = pairs;
    *n_out = k;
    *n_pred = (int)ap.n;
    *n_true = (int)at.n;
    pairs = NULL;
out:
    free(pairs);
    joint_free(&ap);
    joint_free(&at);
    joint_free(&j);
    return st;
}

enum cu_status cu_iou_pairs(struct cu_iou_pair **pairs_out, size_t *n_out, const int32_t *pred,
                            const int32_t *truth, int h, int w, struct cu_err *err)
{
    int np, nt;
    return pairs_and_counts(pairs_out, n_out, &np, &nt, pred, truth, h, w, err);
}

enum cu_status cu_dsb_score(struct cu_dsb_score *out, const int32_t *pred, const int32_t *truth, int h, int w,
                            struct cu_err *err)
{
    struct cu_iou_pair *pairs = NULL;
    size_t np = 0;
    struct cu_dsb_score s;
    memset(&s, 0, sizeof s);
    enum cu_status st = pairs_and_counts(&pairs, &np, &s.n_pred, &s.n_true, pred, truth, h, w, err);
    if (st)
        return st;
    double sum = 0;
    for (int i = 0; i < CU_DSB_NT; i++) {
        int64_t k = 10 + i; /* t = k / 20 */
        int tp = 0;
        for (size_t q = 0; q < np; q++)
            tp += 20 * pairs[q].inter > k * pairs[q].uni;
        int denom = s.n_pred + s.n_true - tp; /* TP + FP + FN */
        s.tp[i] = tp;
        s.precision[i] = denom ? (double)tp / denom : 1.0;
        sum += s.precision[i];
    }
    s.score = sum / CU_DSB_NT;
    free(pairs);
    *out = s;
    return CU_OK;
}
