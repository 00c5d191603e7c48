/* test_fates.c: matched, missed, false, merged and split nuclei (fates.h) on
 * hand-made label images where each case is drawn on purpose, with the
 * expected counts and per-nucleus fates worked out in the comments; the
 * boundary of "at least 50 % inside"; a negative label. Counts are exact. */
#include <string.h>

#include "clunet/fates.h"
#include "testutil.h"

#define H 40
#define W 60

static void rect(int32_t *lab, int y0, int x0, int hh, int ww, int32_t l)
{
    for (int y = y0; y < y0 + hh; y++)
        for (int x = x0; x < x0 + ww; x++)
            lab[y * W + x] = l;
}

/* One of each:
 * - T1 = P1 exactly (10x10): matched.
 * - T2, T3 two 8x8 squares side by side, P2 covers both (8x16): P2 merges
 *   (both have 100 % inside it; IoU(P2,T2) = 64/128 = 0.5, not > 0.5).
 * - T4 a 10x16 box, P3 and P4 its two 10x8 halves: T4 is split
 *   (IoU = 80/160 = 0.5 each, no match).
 * - T5 with no prediction near it: missed.
 * - P5 with no true nucleus near it: false. */
static void test_each_fate(void)
{
    static int32_t t[H * W], p[H * W];
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 1, 1, 10, 10, 1);
    rect(p, 1, 1, 10, 10, 11);
    rect(t, 1, 20, 8, 8, 2);
    rect(t, 1, 28, 8, 8, 3);
    rect(p, 1, 20, 8, 16, 12);
    rect(t, 20, 1, 10, 16, 4);
    rect(p, 20, 1, 10, 8, 13);
    rect(p, 20, 9, 10, 8, 14);
    rect(t, 20, 30, 5, 5, 5);
    rect(p, 30, 45, 6, 6, 15);
    struct cu_fates f;
    struct cu_err err = {0};
    if (!tu_ok(cu_fates_compute(&f, p, t, H, W, &err), &err, "fates of the five cases"))
        return;
    struct cu_fate_counts c = f.counts;
    /* The definitions taken literally: the split T4 is matched by nothing and
     * in no merge, so it is also missed; the merging P2 matches nothing and is
     * in no split, so it is also false. */
    TU_CHECK(c.matched == 1 && c.merged == 1 && c.split == 1 && c.missed == 2 && c.false_pos == 2,
             "counts matched %lld merged %lld split %lld missed %lld false %lld (1 1 1 2 2)", (long long)c.matched,
             (long long)c.merged, (long long)c.split, (long long)c.missed, (long long)c.false_pos);
    TU_CHECK(f.pred.n == 5 && f.truth.n == 5, "5 predicted and 5 true nuclei (%zu, %zu)", f.pred.n, f.truth.n);
    TU_CHECK(cu_fate_of(&f.pred, 11) == CU_FATE_MATCHED && cu_fate_of(&f.truth, 1) == CU_FATE_MATCHED, "P1/T1 matched");
    TU_CHECK(cu_fate_of(&f.pred, 12) == CU_FATE_MERGED, "P2 merged");
    TU_CHECK(cu_fate_of(&f.truth, 2) == CU_FATE_MERGED && cu_fate_of(&f.truth, 3) == CU_FATE_MERGED,
             "T2, T3 part of a merge");
    TU_CHECK(cu_fate_of(&f.pred, 13) == CU_FATE_SPLIT && cu_fate_of(&f.pred, 14) == CU_FATE_SPLIT,
             "P3, P4 pieces of a split");
    TU_CHECK(cu_fate_of(&f.truth, 4) == CU_FATE_SPLIT, "T4 split");
    TU_CHECK(cu_fate_of(&f.truth, 5) == CU_FATE_MISSED, "T5 missed");
    TU_CHECK(cu_fate_of(&f.pred, 15) == CU_FATE_FALSE, "P5 false");
    TU_CHECK(cu_fate_of(&f.pred, 99) == -1, "a label that is not there has no fate");
    TU_CHECK(f.pred.area[0] == 100 && f.truth.area[3] == 160, "areas 100 (P1) and 160 (T4)");
    cu_fates_free(&f);
}

/* "At least 50 % of its own pixels": T1 (4x10 = 40 px) has exactly 20
 * pixels inside P, T2 (40 px) 19: only T1 counts, so P holds one true
 * nucleus and does not merge; T2 is then missed (no IoU > 0.5 either), and P,
 * matching nothing, is false. Moving one more column of T2 under P (20 px)
 * makes P a merge, and both true nuclei part of it (P, matching nothing and
 * in no split, still counts as false). */
static void test_half_boundary(void)
{
    static int32_t t[H * W], p[H * W];
    for (int more = 0; more < 2; more++) {
        memset(t, 0, sizeof t);
        memset(p, 0, sizeof p);
        rect(t, 0, 0, 4, 10, 1);  /* columns 0..9 */
        rect(t, 0, 10, 4, 10, 2); /* columns 10..19 */
        rect(p, 0, 5, 4, 10 + more, 7); /* columns 5..14 (+15): 20 px of T1, 20 (+4) px of T2 */
        rect(t, 0, 10, 1, 1, 0);  /* T2 loses one pixel inside P: 19 of 39 inside without `more` */
        if (!more)
            rect(t, 0, 19, 1, 1, 2);
        struct cu_fates f;
        struct cu_err err = {0};
        if (!tu_ok(cu_fates_compute(&f, p, t, H, W, &err), &err, "half boundary"))
            return;
        if (!more) {
            TU_CHECK(f.counts.merged == 0 && f.counts.missed == 2 && f.counts.false_pos == 1,
                     "T2 19/40 inside: no merge (merged %lld missed %lld false %lld)", (long long)f.counts.merged,
                     (long long)f.counts.missed, (long long)f.counts.false_pos);
        } else {
            TU_CHECK(f.counts.merged == 1 && f.counts.missed == 0 && f.counts.false_pos == 1,
                     "T2 23/39 inside: a merge (merged %lld missed %lld false %lld)", (long long)f.counts.merged,
                     (long long)f.counts.missed, (long long)f.counts.false_pos);
        }
        cu_fates_free(&f);
    }
}

static void test_empty_and_bad(void)
{
    static int32_t t[H * W], p[H * W];
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    struct cu_fates f;
    struct cu_err err = {0};
    if (tu_ok(cu_fates_compute(&f, p, t, H, W, &err), &err, "empty images")) {
        TU_CHECK(f.pred.n == 0 && f.truth.n == 0 && f.counts.matched == 0, "no nuclei, no fates");
        cu_fates_free(&f);
    }
    p[3] = -2;
    enum cu_status st = cu_fates_compute(&f, p, t, H, W, &err);
    TU_CHECK(st == CU_EINPUT, "a negative label is bad input (status %d)", (int)st);
}

int main(void)
{
    test_each_fate();
    test_half_boundary();
    test_empty_and_bad();
    return tu_finish();
}
