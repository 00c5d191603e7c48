/* test_metrics.c: foreground Dice/IoU, the sparse IoU pairs and the DSB2018
 * score on hand-made label images whose IoUs and scores are computed by
 * hand in the comments, the empty-image conventions, and random label
 * images against a dense brute-force IoU matrix. Leaves out file I/O.
 * Scores are ratios of small integers: compared within 1e-12 (rounding of
 * one division and a mean of ten). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/metrics.h"
#include "testutil.h"

#define H 24
#define W 30
#define EPS 1e-12

static void rect(int32_t *lab, int y0, int x0, int hh, int ww, int32_t l)
{
    for (int y = y0; y < y0 + hh; y++)
        for (int x = x0; x < x0 + ww; x++)
            lab[y * W + x] = l;
}

static struct cu_dsb_score score(const int32_t *pred, const int32_t *truth, const char *what)
{
    struct cu_dsb_score s;
    memset(&s, 0, sizeof s);
    struct cu_err err = {0};
    tu_ok(cu_dsb_score(&s, pred, truth, H, W, &err), &err, what);
    return s;
}

static void check_score(const int32_t *pred, const int32_t *truth, double want, const char *what)
{
    struct cu_dsb_score s = score(pred, truth, what);
    TU_CHECK(fabs(s.score - want) < EPS, "%s: score %.6f, want %.6f", what, s.score, want);
}

static void test_fg(void)
{
    uint8_t p[10] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, t[10] = {0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
    struct cu_fg_score s;
    cu_fg_score(&s, p, t, 10); /* |P|=6, |T|=4, inter 3: Dice 6/10, IoU 3/7 */
    TU_CHECK(s.inter == 3 && s.pred == 6 && s.truth == 4, "fg counts 3/6/4");
    TU_CHECK(fabs(s.dice - 0.6) < EPS && fabs(s.iou - 3.0 / 7) < EPS, "fg dice %.6f (0.6) iou %.6f (3/7)", s.dice,
             s.iou);
    uint8_t z[10] = {0};
    cu_fg_score(&s, z, z, 10);
    TU_CHECK(s.dice == 1.0 && s.iou == 1.0, "fg both empty: dice %g iou %g (1, 1)", s.dice, s.iou);
    cu_fg_score(&s, z, t, 10);
    TU_CHECK(s.dice == 0.0 && s.iou == 0.0, "fg empty prediction: dice %g iou %g (0, 0)", s.dice, s.iou);
    uint8_t t2[10] = {0, 0, 0, 7, 200, 1, 1, 0, 0, 0}; /* any non-zero is foreground */
    cu_fg_score(&s, p, t2, 10);
    TU_CHECK(s.inter == 3 && s.truth == 4, "fg: any non-zero byte is foreground");
}

static void test_pairs_and_partial(void)
{
    static int32_t t[H * W], p[H * W];
    struct cu_err err = {0};
    /* truth: a 10x10 square (100 px); pred: 62 of its pixels (6 full rows +
     * 2), IoU 62/100 = 0.62 > 0.50, 0.55, 0.60 only: 3 of 10 -> 0.3. */
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 2, 3, 10, 10, 5);
    rect(p, 2, 3, 6, 10, 9);
    rect(p, 8, 3, 1, 2, 9);
    struct cu_iou_pair *pairs = NULL;
    size_t n = 0;
    if (tu_ok(cu_iou_pairs(&pairs, &n, p, t, H, W, &err), &err, "iou pairs")) {
        TU_CHECK(n == 1 && pairs[0].pred == 9 && pairs[0].truth == 5 && pairs[0].inter == 62 && pairs[0].uni == 100,
                 "iou pairs: one pair (9,5) inter 62 union 100");
        free(pairs);
    }
    check_score(p, t, 0.3, "IoU 0.62");
    struct cu_dsb_score s = score(p, t, "IoU 0.62 detail");
    TU_CHECK(s.tp[2] == 1 && s.tp[3] == 0 && s.precision[2] == 1.0 && s.precision[3] == 0.0,
             "IoU 0.62: matched at t=0.60, not at t=0.65");
    /* pred = 8 rows of it: IoU exactly 0.80 matches at 0.50..0.75 (6) and
     * not at 0.80 (IoU > t is strict): 0.6. */
    memset(p, 0, sizeof p);
    rect(p, 2, 3, 8, 10, 1);
    check_score(p, t, 0.6, "IoU exactly 0.80 (strict at t=0.80)");
    /* pred bigger than truth: 10x10 inside 10x14, IoU 100/140 = 0.714:
     * t 0.50..0.70 (5) -> 0.5. */
    memset(p, 0, sizeof p);
    rect(p, 2, 1, 10, 14, 3);
    check_score(p, t, 0.5, "IoU 0.714 (prediction too large)");
}

static void test_counts(void)
{
    static int32_t t[H * W], p[H * W];
    /* perfect match, labels named differently */
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 0, 0, 5, 5, 1);
    rect(t, 10, 10, 6, 4, 2);
    rect(t, 18, 20, 3, 9, 3);
    rect(p, 0, 0, 5, 5, 30);
    rect(p, 10, 10, 6, 4, 10);
    rect(p, 18, 20, 3, 9, 20);
    struct cu_dsb_score s = score(p, t, "perfect");
    TU_CHECK(s.score == 1.0 && s.n_pred == 3 && s.n_true == 3, "perfect match: score %g (1), 3 and 3 nuclei",
             s.score);
    /* an extra false positive: TP 3, FP 1, FN 0 at every t -> 3/4 */
    memset(p, 0, sizeof p);
    rect(p, 0, 0, 5, 5, 1);
    rect(p, 10, 10, 6, 4, 2);
    rect(p, 18, 20, 3, 9, 3);
    rect(p, 0, 20, 4, 4, 4);
    memset(t, 0, sizeof t);
    rect(t, 0, 0, 5, 5, 1);
    rect(t, 10, 10, 6, 4, 2);
    rect(t, 18, 20, 3, 9, 3);
    check_score(p, t, 0.75, "extra false positive");
    /* a missed nucleus (swap the roles): TP 3, FP 0, FN 1 -> 3/4 */
    check_score(t, p, 0.75, "missed nucleus");
    /* and one of the three matched nuclei removed as well: TP 2, FP 0,
     * FN 2 -> 1/2 */
    rect(t, 18, 20, 3, 9, 0);
    check_score(t, p, 0.5, "two missed nuclei");
    /* a split nucleus: truth 10x10, pred halves 10x6 and 10x4: IoU 0.6 and
     * 0.4. t=0.50, 0.55: TP 1 FP 1 FN 0 -> 1/2; t>=0.60: TP 0 FP 2 FN 1 ->
     * 0. Mean (0.5+0.5)/10 = 0.1. */
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 5, 5, 10, 10, 1);
    rect(p, 5, 5, 10, 6, 1);
    rect(p, 5, 11, 10, 4, 2);
    check_score(p, t, 0.1, "split 60/40");
    /* an even split: both halves IoU exactly 0.5, never > 0.5: 0 */
    memset(p, 0, sizeof p);
    rect(p, 5, 5, 10, 5, 1);
    rect(p, 5, 10, 10, 5, 2);
    check_score(p, t, 0.0, "split 50/50");
    /* two true nuclei merged into one prediction: 10x10 + 10x10 side by
     * side, pred the 10x20 union: IoU 0.5 each -> 0 */
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 5, 0, 10, 10, 1);
    rect(t, 5, 10, 10, 10, 2);
    rect(p, 5, 0, 10, 20, 1);
    check_score(p, t, 0.0, "merged pair");
}

static void test_empty(void)
{
    static int32_t t[H * W], p[H * W];
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    struct cu_dsb_score s = score(p, t, "both empty");
    TU_CHECK(s.score == 1.0 && s.precision[9] == 1.0 && s.n_pred == 0 && s.n_true == 0,
             "both empty: score %g (1 by convention)", s.score);
    rect(t, 1, 1, 4, 4, 1);
    s = score(p, t, "empty prediction");
    TU_CHECK(s.score == 0.0 && s.n_true == 1, "empty prediction, one true nucleus: %g (0)", s.score);
    s = score(t, p, "empty truth");
    TU_CHECK(s.score == 0.0 && s.n_pred == 1, "prediction with no true nucleus: %g (0)", s.score);
}

static void test_bad_labels(void)
{
    static int32_t t[H * W], p[H * W];
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    p[17] = -3;
    struct cu_err err = {0};
    struct cu_dsb_score s;
    enum cu_status st = cu_dsb_score(&s, p, t, H, W, &err);
    TU_CHECK(st == CU_EINPUT && strstr(err.msg, "-3") && strstr(err.msg, "predicted"),
             "negative label rejected: %s", err.msg);
    /* RGB-coded labels (0xRRGGBB), far above the pixel count: fine */
    memset(p, 0, sizeof p);
    rect(t, 1, 1, 5, 5, 1);
    rect(t, 10, 10, 5, 5, 2);
    rect(p, 1, 1, 5, 5, 0xABCDEF);
    rect(p, 10, 10, 5, 5, 0x00FF00);
    cu_err_clear(&err);
    st = cu_dsb_score(&s, p, t, H, W, &err);
    TU_CHECK(st == CU_OK && s.n_pred == 2 && s.score == 1.0, "labels 0xABCDEF and 0x00FF00 match: score %g (1)",
             s.score);
    struct cu_iou_pair *pairs = NULL;
    size_t n = 0;
    if (tu_ok(cu_iou_pairs(&pairs, &n, p, t, H, W, &err), &err, "pairs RGB labels")) {
        TU_CHECK(n == 2 && pairs[0].pred == 0x00FF00 && pairs[0].truth == 2 && pairs[1].pred == 0xABCDEF &&
                     pairs[1].inter == 25 && pairs[1].uni == 25,
                 "pairs keep the original label values, sorted by predicted label");
        free(pairs);
    }
}

/* Random label images (random overlapping rectangles, later ones on top):
 * the sparse pairs against a dense IoU matrix, and the score against a
 * brute-force one-to-one matching (greedy over the dense matrix). */
static void test_random(void)
{
    uint64_t rng = 12345;
    static int32_t t[H * W], p[H * W];
    int bad_pairs = 0, bad_scores = 0;
    for (int trial = 0; trial < 200; trial++) {
        int32_t *imgs[2] = {p, t};
        int nl[2];
        for (int k = 0; k < 2; k++) {
            memset(imgs[k], 0, sizeof t);
            nl[k] = (int)(tu_rand_u64(&rng) % 7);
            for (int l = 1; l <= nl[k]; l++) {
                int hh = 1 + (int)(tu_rand_u64(&rng) % 10), ww = 1 + (int)(tu_rand_u64(&rng) % 10);
                int y0 = (int)(tu_rand_u64(&rng) % (H - hh + 1)), x0 = (int)(tu_rand_u64(&rng) % (W - ww + 1));
                rect(imgs[k], y0, x0, hh, ww, l);
            }
        }
        /* dense counts */
        long inter[8][8] = {{0}}, ap[8] = {0}, at[8] = {0};
        for (int i = 0; i < H * W; i++) {
            ap[p[i]]++;
            at[t[i]]++;
            inter[p[i]][t[i]]++;
        }
        struct cu_iou_pair *pairs = NULL;
        size_t n = 0;
        struct cu_err err = {0};
        if (!tu_ok(cu_iou_pairs(&pairs, &n, p, t, H, W, &err), &err, "random pairs"))
            return;
        size_t want_n = 0, k = 0;
        for (int a = 1; a < 8; a++)
            for (int b = 1; b < 8; b++) {
                if (!inter[a][b])
                    continue;
                want_n++;
                if (k < n && pairs[k].pred == a && pairs[k].truth == b && pairs[k].inter == inter[a][b] &&
                    pairs[k].uni == ap[a] + at[b] - inter[a][b])
                    k++;
                else
                    bad_pairs++;
            }
        if (n != want_n)
            bad_pairs++;
        free(pairs);
        int npred = 0, ntrue = 0;
        for (int a = 1; a < 8; a++) {
            npred += ap[a] > 0;
            ntrue += at[a] > 0;
        }
        double want = 0;
        for (int i = 0; i < 10; i++) {
            double thr = 0.5 + 0.05 * i;
            int used_t[8] = {0}, tp = 0;
            for (int a = 1; a < 8; a++)
                for (int b = 1; b < 8; b++) {
                    double iou = inter[a][b] ? (double)inter[a][b] / (ap[a] + at[b] - inter[a][b]) : 0;
                    /* float threshold, nudged off exact ties: the library
                     * compares in integers */
                    if (iou > thr + 1e-9 && !used_t[b]) {
                        used_t[b] = 1;
                        tp++;
                        break;
                    }
                }
            int d = npred + ntrue - tp;
            want += d ? (double)tp / d : 1.0;
        }
        want /= 10;
        struct cu_dsb_score s = score(p, t, "random score");
        if (fabs(s.score - want) > EPS || s.n_pred != npred || s.n_true != ntrue)
            bad_scores++;
    }
    TU_CHECK(bad_pairs == 0, "200 random label pairs: sparse IoU pairs equal the dense matrix (%d bad)", bad_pairs);
    TU_CHECK(bad_scores == 0, "200 random label pairs: score equals brute-force matching (%d bad)", bad_scores);
}

int main(void)
{
    TU_CHECK(cu_dsb_threshold(0) == 0.5 && cu_dsb_threshold(9) == 0.95, "thresholds 0.50..0.95");
    test_fg();
    test_pairs_and_partial();
    test_counts();
    test_empty();
    test_bad_labels();
    test_random();
    return tu_finish();
}
