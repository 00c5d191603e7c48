/* errors.c: missed, false, merged and split nuclei of one image
 * (metrics.h's cu_error_counts), from the overlapping pairs of
 * cu_iou_pairs and each nucleus's area. */
#include <stdlib.h>
#include <string.h>

#include "clunet/metrics.h"

/* The distinct positive labels of an image, sorted, with pixel counts and
 * a flag per label. */
struct labset {
    int32_t *lab;
    int64_t *area;
    int *hits;  /* nuclei on the other side holding >= 50 % of themselves here / of this in them */
    int *flag;  /* MATCHED (IoU > 0.5) | GROUPED (in a merge: T; a piece of a split: P) */
    size_t n;
};

enum { MATCHED = 1, GROUPED = 2, IN_ERROR = 4 };

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void labset_free(struct labset *s)
{
    free(s->lab), free(s->area), free(s->hits), free(s->flag);
    memset(s, 0, sizeof *s);
}

static size_t find(const struct labset *s, int32_t v)
{
    const int32_t *p = bsearch(&v, s->lab, s->n, sizeof v, cmp_i32);
    return p ? (size_t)(p - s->lab) : s->n;
}

static enum cu_status labset_make(struct labset *s, const int32_t *img, size_t n, struct cu_err *err)
{
    memset(s, 0, sizeof *s);
    int32_t *all = malloc(sizeof *all * (n ? n : 1));
    if (!all)
        return cu_fail(err, CU_EDEVICE, "errors: out of host memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (img[i] < 0) {
            free(all);
            return cu_fail(err, CU_EINPUT, "errors: negative label %d", (int)img[i]);
        }
        if (img[i])
            all[m++] = img[i];
    }
    qsort(all, m, sizeof *all, cmp_i32);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || all[i] != all[i - 1])
            k++;
    s->lab = malloc(sizeof *s->lab * (k ? k : 1));
    s->area = calloc(k ? k : 1, sizeof *s->area);
    s->hits = calloc(k ? k : 1, sizeof *s->hits);
    s->flag = calloc(k ? k : 1, sizeof *s->flag);
    if (!s->lab || !s->area || !s->hits || !s->flag) {
        free(all);
        labset_free(s);
        return cu_fail(err, CU_EDEVICE, "errors: out of host memory");
    }
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || all[i] != all[i - 1])
            s->lab[s->n++] = all[i];
        s->area[s->n - 1]++;
    }
    free(all);
    return CU_OK;
}

enum cu_status cu_error_counts(struct cu_error_counts *out, const int32_t *pred, const int32_t *truth, int h, int w,
                               struct cu_err *err)
{
    size_t n = (size_t)h * (size_t)w, np = 0;
    struct labset P, T;
    struct cu_iou_pair *pairs = NULL;
    enum cu_status st = labset_make(&P, pred, n, err);
    if (st)
        return st;
    st = labset_make(&T, truth, n, err);
    if (st) {
        labset_free(&P);
        return st;
    }
    st = cu_iou_pairs(&pairs, &np, pred, truth, h, w, err);
    memset(out, 0, sizeof *out);
    /* hits: for P, the true nuclei with >= half of themselves inside it;
     * for T, the predictions with >= half of themselves inside it */
    for (size_t k = 0; !st && k < np; k++) {
        size_t ip = find(&P, pairs[k].pred), it = find(&T, pairs[k].truth);
        if (2 * pairs[k].inter >= T.area[it])
            P.hits[ip]++;
        if (2 * pairs[k].inter >= P.area[ip])
            T.hits[it]++;
    }
    /* flag: matched at IoU > 0.5, or inside a merge (T) / a split (P) */
    for (size_t k = 0; !st && k < np; k++) {
        size_t ip = find(&P, pairs[k].pred), it = find(&T, pairs[k].truth);
        int64_t inter = pairs[k].inter;
        if (2 * inter > pairs[k].uni) {
            P.flag[ip] |= MATCHED;
            T.flag[it] |= MATCHED;
        }
        if (P.hits[ip] >= 2 && 2 * inter >= T.area[it])
            T.flag[it] |= GROUPED;
        if (T.hits[it] >= 2 && 2 * inter >= P.area[ip])
            P.flag[ip] |= GROUPED;
    }
    /* a merging prediction and a split true nucleus are errors of their
     * own kind: not also false / missed */
    for (size_t i = 0; !st && i < P.n; i++)
        if (P.hits[i] >= 2)
            P.flag[i] |= IN_ERROR;
    for (size_t i = 0; !st && i < T.n; i++)
        if (T.hits[i] >= 2)
            T.flag[i] |= IN_ERROR;
    for (size_t i = 0; !st && i < P.n; i++) {
        out->merged += P.hits[i] >= 2;
        out->split_pred += (P.flag[i] & GROUPED) != 0;
        out->false_pred += P.flag[i] == 0;
    }
    for (size_t i = 0; !st && i < T.n; i++) {
        out->split += T.hits[i] >= 2;
        out->merged_true += (T.flag[i] & GROUPED) != 0;
        out->missed += T.flag[i] == 0;
    }
    free(pairs);
    labset_free(&P);
    labset_free(&T);
    return st;
}
