/* test_eval_groups.c: the eval report's groups and nuclei fates (eval.csv
 * columns, eval.json "fates", "groups", "per_image") on hand-made label
 * images whose fates are known by construction: one exact match, one
 * merge of two true nuclei, one true nucleus split in two, one missed and
 * one false nucleus. The counts follow fates.h's literal definitions (a
 * merging prediction also counts as false, a split true nucleus as
 * missed). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/eval_report.h"
#include "testutil.h"

#define H 10
#define W 40

static void box(int32_t *img, int y0, int y1, int x0, int x1, int32_t v)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            img[y * W + x] = v;
}

static json_int_t jint(json_t *o, const char *a, const char *b)
{
    return json_integer_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
}

int main(void)
{
    static int32_t truth[H * W], pred[H * W];
    box(truth, 0, 3, 0, 3, 1); /* matched */
    box(pred, 0, 3, 0, 3, 10);
    box(truth, 0, 3, 5, 8, 2); /* merged: 2 and 3 wholly inside 20 */
    box(truth, 0, 3, 9, 12, 3);
    box(pred, 0, 3, 5, 12, 20);
    box(truth, 0, 3, 14, 21, 4); /* split: 30 and 31 wholly inside 4 */
    box(pred, 0, 3, 14, 17, 30);
    box(pred, 0, 3, 18, 21, 31);
    box(truth, 5, 8, 0, 3, 5); /* missed */
    box(pred, 5, 8, 10, 13, 40); /* false */
    struct cu_err err = {0};
    struct cu_eval_report *r = NULL;
    struct cu_eval_row row;
    tu_ok(cu_eval_report_new(&r, &err), &err, "report");
    tu_ok(cu_eval_image(&row, "one", NULL, pred, truth, H, W, &err), &err, "eval one");
    TU_CHECK(!strcmp(row.group, "40x10"), "a row's default group is its size: %s", row.group);
    TU_CHECK(row.fates.matched == 1 && row.fates.merged == 1 && row.fates.split == 1 && row.fates.missed == 2 &&
                 row.fates.false_pos == 2,
             "fates of the row: matched %lld merged %lld split %lld missed %lld false %lld (want 1 1 1 2 2)",
             (long long)row.fates.matched, (long long)row.fates.merged, (long long)row.fates.split,
             (long long)row.fates.missed, (long long)row.fates.false_pos);
    tu_ok(cu_eval_report_add(r, &row, &err), &err, "add");
    tu_ok(cu_eval_image(&row, "two", NULL, truth, truth, H, W, &err), &err, "eval two");
    snprintf(row.group, sizeof row.group, "perfect");
    tu_ok(cu_eval_report_add(r, &row, &err), &err, "add");
    tu_ok(cu_eval_image(&row, "three", NULL, pred, truth, H, W, &err), &err, "eval three");
    tu_ok(cu_eval_report_add(r, &row, &err), &err, "add");

    char *js = NULL;
    tu_ok(cu_eval_report_json(r, &js, &err), &err, "json");
    json_error_t je;
    json_t *root = js ? json_loads(js, 0, &je) : NULL;
    json_t *groups = json_object_get(root, "groups");
    json_t *g0 = json_array_get(groups, 0), *g1 = json_array_get(groups, 1);
    TU_CHECK(jint(root, "fates", "missed") == 2 * 2 + 0 && jint(root, "fates", "false") == 4 &&
                 jint(root, "fates", "merged") == 2 && jint(root, "fates", "split") == 2 &&
                 jint(root, "fates", "matched") == 2 + 5,
             "eval.json fates: the sums over the three images");
    TU_CHECK(json_array_size(groups) == 2 && !strcmp(json_string_value(json_object_get(g0, "group")), "40x10") &&
                 !strcmp(json_string_value(json_object_get(g1, "group")), "perfect") &&
                 json_real_value(json_object_get(g1, "dsb_score")) == 1.0 && jint(g0, "images", NULL) == 2 &&
                 jint(g0, "fates", "split") == 2 && jint(g1, "fates", "missed") == 0,
             "eval.json groups: sorted by name, each with its own images, score and fates");
    TU_CHECK(json_array_size(json_object_get(root, "per_image")) == 3 &&
                 !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(root, "per_image"), 1),
                                                           "group")),
                         "perfect") &&
                 !strcmp(json_string_value(json_object_get(root, "grouping")), "size"),
             "eval.json per_image (with each row's group) and grouping");
    json_decref(root);
    free(js);

    char dir[] = "/tmp/clunet_test_groups_XXXXXX", csv[128], line[512] = "", line2[512] = "";
    if (!mkdtemp(dir))
        return TU_CHECK(0, "mkdtemp"), tu_finish();
    snprintf(csv, sizeof csv, "%s/eval.csv", dir);
    tu_ok(cu_eval_report_write_csv(r, csv, &err), &err, "csv");
    FILE *f = fopen(csv, "r");
    if (f) {
        (void)!fgets(line, sizeof line, f);
        (void)!fgets(line2, sizeof line2, f);
        fclose(f);
    }
    TU_CHECK(strstr(line, ",p95,group,matched,missed,false,merged,split\n") && strstr(line2, ",40x10,1,2,2,1,1\n"),
             "eval.csv: group and fate columns (%s)", line2);
    tu_rm_rf(dir);
    cu_eval_report_free(r);
    return tu_finish();
}
