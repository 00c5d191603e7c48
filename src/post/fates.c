/* fates.c: matched, missed, false, merged and split nuclei (see
 * include/clunet/fates.h for the definitions). The overlapping pairs come
 * from metrics.c's joint histogram; the labels and areas of each side from
 * one sort of its non-zero pixels. */
#include "clunet/fates.h"

#include <stdlib.h>
#include <string.h>

#include "clunet/metrics.h"

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The nuclei of one label image: sorted labels and their pixel counts. */
static enum cu_status side_scan(struct cu_fate_side *s, const int32_t *img, size_t n, struct cu_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (img[i] < 0)
            return cu_fail(err, CU_EINPUT, "label image holds a negative label (%d)", (int)img[i]);
        k += img[i] > 0;
    }
    int32_t *px = malloc((k ? k : 1) * sizeof *px);
    if (!px)
        return cu_fail(err, CU_EDEVICE, "fates: out of memory");
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (img[i] > 0)
            px[k++] = img[i];
    qsort(px, k, sizeof *px, cmp_i32);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        m += i == 0 || px[i] != px[i - 1];
    s->label = malloc((m ? m : 1) * sizeof *s->label);
    s->area = calloc(m ? m : 1, sizeof *s->area);
    s->fate = calloc(m ? m : 1, 1);
    if (!s->label || !s->area || !s->fate) {
        free(px);
        return cu_fail(err, CU_EDEVICE, "fates: out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        if (i == 0 || px[i] != px[i - 1])
            s->label[s->n++] = px[i];
        s->area[s->n - 1]++;
    }
    free(px);
    return CU_OK;
}

static size_t side_index(const struct cu_fate_side *s, int32_t l)
{
    const int32_t *p = bsearch(&l, s->label, s->n, sizeof l, cmp_i32);
    return p ? (size_t)(p - s->label) : (size_t)-1;
}

int cu_fate_of(const struct cu_fate_side *s, int32_t l)
{
    size_t i = side_index(s, l);
    return i == (size_t)-1 ? -1 : s->fate[i];
}

/* Per-nucleus tallies gathered from the overlapping pairs. */
struct tally {
    uint8_t *p_match, *t_match;  /* matched at IoU > 0.5 */
    int *p_holds, *t_pieces;     /* true nuclei >= 50 % inside P; predictions >= 50 % inside T */
    uint8_t *p_in_split, *t_in_merge;
};

static void tally_free(struct tally *t)
{
    free(t->p_match);
    free(t->t_match);
    free(t->p_holds);
    free(t->t_pieces);
    free(t->p_in_split);
    free(t->t_in_merge);
}

static enum cu_status tally_pairs(struct tally *t, const struct cu_fates *f, const struct cu_iou_pair *pairs,
                                  size_t np, struct cu_err *err)
{
    size_t a = f->pred.n ? f->pred.n : 1, b = f->truth.n ? f->truth.n : 1;
    t->p_match = calloc(a, 1);
    t->t_match = calloc(b, 1);
    t->p_holds = calloc(a, sizeof *t->p_holds);
    t->t_pieces = calloc(b, sizeof *t->t_pieces);
    t->p_in_split = calloc(a, 1);
    t->t_in_merge = calloc(b, 1);
    if (!t->p_match || !t->t_match || !t->p_holds || !t->t_pieces || !t->p_in_split || !t->t_in_merge)
        return cu_fail(err, CU_EDEVICE, "fates: out of memory");
    for (size_t k = 0; k < np; k++) {
        size_t ip = side_index(&f->pred, pairs[k].pred), it = side_index(&f->truth, pairs[k].truth);
        int64_t in2 = 2 * pairs[k].inter;
        if (in2 > pairs[k].uni)
            t->p_match[ip] = t->t_match[it] = 1;
        t->p_holds[ip] += in2 >= f->truth.area[it];
        t->t_pieces[it] += in2 >= f->pred.area[ip];
    }
    /* The members of each merge and split: the nuclei that made it one. */
    for (size_t k = 0; k < np; k++) {
        size_t ip = side_index(&f->pred, pairs[k].pred), it = side_index(&f->truth, pairs[k].truth);
        int64_t in2 = 2 * pairs[k].inter;
        if (t->p_holds[ip] >= 2 && in2 >= f->truth.area[it])
            t->t_in_merge[it] = 1;
        if (t->t_pieces[it] >= 2 && in2 >= f->pred.area[ip])
            t->p_in_split[ip] = 1;
    }
    return CU_OK;
}

static void assign(struct cu_fates *f, const struct tally *t)
{
    struct cu_fate_counts *c = &f->counts;
    for (size_t i = 0; i < f->pred.n; i++) {
        int merging = t->p_holds[i] >= 2;
        c->matched += t->p_match[i];
        c->merged += merging;
        c->false_pos += !t->p_match[i] && !t->p_in_split[i];
        f->pred.fate[i] = t->p_match[i]      ? CU_FATE_MATCHED
                          : t->p_in_split[i] ? CU_FATE_SPLIT
                          : merging          ? CU_FATE_MERGED
                                             : CU_FATE_FALSE;
    }
    for (size_t i = 0; i < f->truth.n; i++) {
        int split = t->t_pieces[i] >= 2;
        c->split += split;
        c->missed += !t->t_match[i] && !t->t_in_merge[i];
        f->truth.fate[i] = t->t_match[i]      ? CU_FATE_MATCHED
                           : t->t_in_merge[i] ? CU_FATE_MERGED
                           : split            ? CU_FATE_SPLIT
                                              : CU_FATE_MISSED;
    }
}

enum cu_status cu_fates_compute(struct cu_fates *f, const int32_t *pred, const int32_t *truth, int h, int w,
                                struct cu_err *err)
{
    memset(f, 0, sizeof *f);
    size_t n = (size_t)h * (size_t)w;
    struct cu_iou_pair *pairs = NULL;
    size_t np = 0;
    struct tally t = {0};
    enum cu_status st = side_scan(&f->pred, pred, n, err);
    st = st ? st : side_scan(&f->truth, truth, n, err);
    st = st ? st : cu_iou_pairs(&pairs, &np, pred, truth, h, w, err);
    st = st ? st : tally_pairs(&t, f, pairs, np, err);
    if (!st)
        assign(f, &t);
    tally_free(&t);
    free(pairs);
    if (st)
        cu_fates_free(f);
    return st;
}

static void side_free(struct cu_fate_side *s)
{
    free(s->label);
    free(s->area);
    free(s->fate);
    memset(s, 0, sizeof *s);
}

void cu_fates_free(struct cu_fates *f)
{
    side_free(&f->pred);
    side_free(&f->truth);
}

void cu_fate_counts_add(struct cu_fate_counts *a, const struct cu_fate_counts *b)
{
    a->matched += b->matched;
    a->missed += b->missed;
    a->false_pos += b->false_pos;
    a->merged += b->merged;
    a->split += b->split;
}

const char *cu_fate_name(enum cu_fate f)
{
    static const char *names[] = {"matched", "split", "merged", "false", "missed"};
    return (unsigned)f < 5 ? names[f] : "?";
}
