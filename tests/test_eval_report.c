/* test_eval_report.c: per-image eval rows on hand-made label images, the
 * dataset means, eval.csv and eval.json (parsed back with jansson), the
 * empty report, and an unwritable folder. Scores are ratios of small
 * integers: compared within 1e-6 (the files keep 6 decimals) or 1e-12. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/eval_report.h"
#include "testutil.h"

#define H 10
#define W 12

static void rect(int32_t *lab, int y0, int x0, int hh, int ww, int32_t l)
{
    for (int y = y0; y < y0 + hh; y++)
        for (int x = x0; x < x0 + ww; x++)
            lab[y * W + x] = l;
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int main(void)
{
    char dir[] = "/tmp/clunet_test_eval_XXXXXX";
    if (!mkdtemp(dir)) {
        TU_CHECK(0, "mkdtemp");
        return tu_finish();
    }
    static int32_t t[H * W], p[H * W];
    struct cu_err err = {0};
    struct cu_eval_report *r = NULL;
    tu_ok(cu_eval_report_new(&r, &err), &err, "report");
    /* image 1: perfect, one 4x4 nucleus: score 1, Dice 1 */
    rect(t, 1, 1, 4, 4, 1);
    rect(p, 1, 1, 4, 4, 3);
    struct cu_eval_row row;
    tu_ok(cu_eval_image(&row, "a", NULL, p, t, H, W, &err), &err, "eval a");
    TU_CHECK(row.dsb.score == 1.0 && row.fg.dice == 1.0 && row.width == W && row.height == H, "image a: perfect");
    cu_eval_report_add(r, &row, &err);
    /* image 2: truth a 5x4 nucleus (20 px); pred 4x4 inside it
     * (16 px): IoU 0.8 -> score 0.6; Dice 32/36 */
    memset(t, 0, sizeof t);
    memset(p, 0, sizeof p);
    rect(t, 2, 2, 5, 4, 1);
    rect(p, 2, 2, 4, 4, 1);
    tu_ok(cu_eval_image(&row, "b,\"odd\"", NULL, p, t, H, W, &err), &err, "eval b");
    TU_CHECK(fabs(row.dsb.score - 0.6) < 1e-12 && fabs(row.fg.dice - 32.0 / 36) < 1e-12,
             "image b: IoU 0.8 -> score %.6f (0.6), Dice %.6f (0.888889)", row.dsb.score, row.fg.dice);
    cu_eval_report_add(r, &row, &err);
    /* image 3: the predicted mask given apart from the labels (labels were
     * filtered, the mask was not): Dice counts the mask */
    uint8_t mask[H * W] = {0};
    for (int i = 0; i < H * W; i++)
        mask[i] = t[i] != 0;
    tu_ok(cu_eval_image(&row, "c", mask, p, t, H, W, &err), &err, "eval c");
    TU_CHECK(row.fg.dice == 1.0 && fabs(row.dsb.score - 0.6) < 1e-12, "image c: Dice from the mask, score from labels");
    cu_eval_report_add(r, &row, &err);

    struct cu_eval_summary s;
    cu_eval_report_summary(r, &s);
    double want_dice = (1 + 32.0 / 36 + 1) / 3, want_score = (1 + 0.6 + 0.6) / 3;
    TU_CHECK(s.images == 3 && fabs(s.dsb_score - want_score) < 1e-12 && fabs(s.dice - want_dice) < 1e-12 &&
                 s.true_nuclei == 3 && s.pred_nuclei == 3,
             "summary: 3 images, mean score %.6f (%.6f), mean Dice %.6f", s.dsb_score, want_score, s.dice);
    /* precision at 0.75: 1, 1, 1; at 0.80: 1, 0, 0 */
    TU_CHECK(s.precision[5] == 1.0 && fabs(s.precision[6] - 1.0 / 3) < 1e-12, "summary: precision(0.75)=1, (0.80)=1/3");

    char csv[128], js[128];
    snprintf(csv, sizeof csv, "%s/eval.csv", dir);
    snprintf(js, sizeof js, "%s/eval.json", dir);
    tu_ok(cu_eval_report_write_csv(r, csv, &err), &err, "write csv");
    tu_ok(cu_eval_report_write_json(r, js, &err), &err, "write json");
    FILE *f = fopen(csv, "r");
    char line[512] = "", line2[512] = "", line3[512] = "";
    if (f) {
        (void)!fgets(line, sizeof line, f);
        (void)!fgets(line2, sizeof line2, f);
        (void)!fgets(line3, sizeof line3, f);
        fclose(f);
    }
    TU_CHECK(!strncmp(line, "image,width,height,true_nuclei,pred_nuclei,dice,iou,dsb_score,p50,p55,", 70) &&
                 strstr(line, ",p95,group,matched,missed,false,merged,split\n"),
             "eval.csv header");
    TU_CHECK(!strncmp(line2, "a,12,10,1,1,1.000000,1.000000,1.000000,1.000000,", 48), "eval.csv row a: %s", line2);
    TU_CHECK(!strncmp(line3, "\"b,\"\"odd\"\"\",12,10,1,1,0.888889,0.800000,0.600000,", 49),
             "eval.csv row b, id quoted: %s", line3);
    json_error_t je;
    json_t *root = json_load_file(js, 0, &je);
    TU_CHECK(root && jnum(root, "images") == 3 && fabs(jnum(root, "dsb_score") - want_score) < 1e-6 &&
                 fabs(jnum(root, "dice") - want_dice) < 1e-6 && json_is_number(json_object_get(root, "iou")),
             "eval.json: images, dice, iou, dsb_score");
    json_t *prec = json_object_get(root, "precision");
    TU_CHECK(json_object_size(prec) == 10 && jnum(prec, "0.50") == 1.0 && fabs(jnum(prec, "0.80") - 1.0 / 3) < 1e-6 &&
                 json_is_number(json_object_get(prec, "0.95")),
             "eval.json: precision at 0.50..0.95");
    json_decref(root);
    /* the printed table: header, 3 rows, the means, the precisions */
    char table[128];
    snprintf(table, sizeof table, "%s/table.txt", dir);
    f = fopen(table, "w");
    cu_eval_report_print(r, f, 1);
    fclose(f);
    f = fopen(table, "r");
    int lines = 0, found_mean = 0;
    char buf[512];
    while (f && fgets(buf, sizeof buf, f)) {
        lines++;
        found_mean |= !strncmp(buf, "mean of 3 images", 16) && strstr(buf, "3/3") && strstr(buf, "0.7333");
    }
    if (f)
        fclose(f);
    remove(table);
    TU_CHECK(lines == 7 && found_mean, "table: 7 lines, means line 'mean of 3 images ... 3/3 ... 0.7333'");
    cu_eval_report_free(r);

    /* no image: means are null, counts 0 */
    cu_eval_report_new(&r, &err);
    char *text = NULL;
    tu_ok(cu_eval_report_json(r, &text, &err), &err, "json empty");
    root = text ? json_loads(text, 0, &je) : NULL;
    TU_CHECK(root && jnum(root, "images") == 0 && json_is_null(json_object_get(root, "dice")) &&
                 json_is_null(json_object_get(root, "dsb_score")),
             "empty report: images 0, means null");
    json_decref(root);
    free(text);
    cu_err_clear(&err);
    enum cu_status st = cu_eval_report_write_json(r, "/nonexistent-clunet/eval.json", &err);
    TU_CHECK(st == CU_EIO && strstr(err.msg, "/nonexistent-clunet/eval.json"), "unwritable folder: %s", err.msg);
    cu_eval_report_free(r);
    remove(csv);
    remove(js);
    TU_CHECK(rmdir(dir) == 0, "no temporary files left behind");
    return tu_finish();
}
