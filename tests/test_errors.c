/* test_errors.c: missed / false / merged / split counts (metrics.h's
 * cu_error_counts) on hand-made label images where each count is known by
 * construction, and the same numbers through the eval report's groups and
 * eval.json. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "clunet/eval_report.h"
#include "clunet/metrics.h"
#include "testutil.h"

#define H 10
#define W 40

/* Fills rows y0..y1, columns x0..x1 (inclusive) of img with v. */
static void box(int32_t *img, int y0, int y1, int x0, int x1, int32_t v)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            img[y * W + x] = v;
}

int main(void)
{
    static int32_t truth[H * W], pred[H * W];
    /* A: true 1 matched exactly by pred 10 */
    box(truth, 0, 3, 0, 3, 1);
    box(pred, 0, 3, 0, 3, 10);
    /* B: true 2 and 3 side by side, one prediction 20 over both: a merge
     * (each has all its pixels inside 20; IoU of each with 20 is 0.5, not
     * > 0.5, so neither is matched, and neither is missed) */
    box(truth, 0, 3, 5, 8, 2);
    box(truth, 0, 3, 9, 12, 3);
    box(pred, 0, 3, 5, 12, 20);
    /* C: true 4 split into predictions 30 and 31 (each wholly inside 4) */
    box(truth, 0, 3, 14, 21, 4);
    box(pred, 0, 3, 14, 17, 30);
    box(pred, 0, 3, 18, 21, 31);
    /* D: true 5 with no prediction: missed */
    box(truth, 5, 8, 0, 3, 5);
    /* E: prediction 40 with no truth: false; label 0x7fffff00 works too */
    box(pred, 5, 8, 10, 13, 0x7fffff00);
    /* F: true 6 and a prediction 50 that overlaps a third of it: the true
     * one is missed and the prediction false (IoU < 0.5, no merge/split) */
    box(truth, 5, 8, 20, 25, 6);
    box(pred, 5, 8, 24, 29, 50);
    struct cu_error_counts e;
    struct cu_err err = {0};
    tu_ok(cu_error_counts(&e, pred, truth, H, W, &err), &err, "cu_error_counts");
    TU_CHECK(e.merged == 1 && e.merged_true == 2, "merged: %d prediction(s) holding %d true nuclei (want 1, 2)",
             e.merged, e.merged_true);
    TU_CHECK(e.split == 1 && e.split_pred == 2, "split: %d true nucleus(ei) in %d pieces (want 1, 2)", e.split,
             e.split_pred);
    TU_CHECK(e.missed == 2, "missed: %d (want 2: the lone true one and the barely covered one)", e.missed);
    TU_CHECK(e.false_pred == 2, "false: %d (want 2: the lone prediction and the barely overlapping one)",
             e.false_pred);
    /* swapping the roles turns merges into splits and missed into false */
    struct cu_error_counts s;
    tu_ok(cu_error_counts(&s, truth, pred, H, W, &err), &err, "swapped");
    TU_CHECK(s.merged == e.split && s.split == e.merged && s.missed == e.false_pred && s.false_pred == e.missed &&
                 s.merged_true == e.split_pred && s.split_pred == e.merged_true,
             "swapping prediction and truth swaps merged/split and missed/false");
    /* identical images: no error at all */
    tu_ok(cu_error_counts(&s, truth, truth, H, W, &err), &err, "identical");
    TU_CHECK(!s.missed && !s.false_pred && !s.merged && !s.split, "the truth against itself: no errors");
    int32_t neg[H * W] = {0};
    neg[3] = -1;
    TU_CHECK(cu_error_counts(&s, neg, truth, H, W, &err) == CU_EINPUT, "a negative label is refused");

    /* the report: two rows in two groups, totals and groups in eval.json */
    struct cu_eval_report *r = NULL;
    struct cu_eval_row row;
    tu_ok(cu_eval_report_new(&r, &err), &err, "report");
    tu_ok(cu_eval_image(&row, "one", NULL, pred, truth, H, W, &err), &err, "eval one");
    TU_CHECK(!strcmp(row.group, "40x10") && row.errs.merged == 1, "a row's default group is its size: %s", row.group);
    tu_ok(cu_eval_report_add(r, &row, &err), &err, "add");
    tu_ok(cu_eval_image(&row, "two", NULL, truth, truth, H, W, &err), &err, "eval two");
    snprintf(row.group, sizeof row.group, "perfect");
    tu_ok(cu_eval_report_add(r, &row, &err), &err, "add");
    char *js = NULL;
    tu_ok(cu_eval_report_json(r, &js, &err), &err, "json");
    json_error_t je;
    json_t *root = js ? json_loads(js, 0, &je) : NULL;
    json_t *errs = json_object_get(root, "errors"), *groups = json_object_get(root, "groups");
    json_t *g0 = json_array_get(groups, 0), *g1 = json_array_get(groups, 1);
    TU_CHECK(json_integer_value(json_object_get(errs, "missed")) == 2 &&
                 json_integer_value(json_object_get(errs, "false_pred")) == 2 &&
                 json_integer_value(json_object_get(errs, "merged")) == 1 &&
                 json_integer_value(json_object_get(errs, "split")) == 1,
             "eval.json errors: the totals");
    TU_CHECK(json_array_size(groups) == 2 && !strcmp(json_string_value(json_object_get(g0, "group")), "40x10") &&
                 !strcmp(json_string_value(json_object_get(g1, "group")), "perfect") &&
                 json_real_value(json_object_get(g1, "dsb_score")) == 1.0 &&
                 json_integer_value(json_object_get(json_object_get(g0, "errors"), "split")) == 1 &&
                 json_integer_value(json_object_get(g0, "images")) == 1,
             "eval.json groups: sorted by name, each with its own score and errors");
    TU_CHECK(json_array_size(json_object_get(root, "per_image")) == 2 &&
                 !strcmp(json_string_value(json_object_get(root, "grouping")), "size"),
             "eval.json per_image and grouping");
    json_decref(root);
    free(js);
    cu_eval_report_free(r);
    return tu_finish();
}
