/* test_eval_cmd.c: `clunet eval` (argv[1] is the built binary) on a tiny
 * labelled folder (images/ + masks/ label images) and hand-made
 * predictions with known scores:
 *   A 8x10: true T1 (16 px), T2 (10 px); predicted T1 exactly, 6 px of T2
 *     (IoU 0.6: a match at t = 0.50 and 0.55 only) and a 6 px false
 *     nucleus: precision 2/3 at t <= 0.55, 1/4 above; score 1/3;
 *     Dice 44/54, IoU 22/32.
 *   B 6x6: nothing true, nothing predicted: score, Dice, IoU 1.
 *   C 6x6: one true nucleus, nothing predicted: 0.
 *   D 6x6: nothing true, a binary mask with two blobs predicted (read as
 *     two nuclei): 0.
 * Also: eval.csv/eval.json, --json on stdout, the default output folder,
 * a missing or wrongly sized prediction (exit 2), an unwritable --out
 * (exit 4), and `eval MODEL` agreeing with `predict --instances` followed
 * by `eval --pred`. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/image.h"
#include "predict_fixture.h"
#include "testutil.h"

static const char *exe;
static char out_buf[65536], err_buf[65536];

static void put_rect(uint16_t *v, int w, int y0, int y1, int x0, int x1, uint16_t label)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            v[y * w + x] = label;
}

static void write16(const char *rel, const uint16_t *v, int h, int w)
{
    struct cu_err err = {0};
    tu_ok(cu_png_write_gray16(pf_path(rel), v, h, w, &err), &err, rel);
}

static void make_data(void)
{
    mkdir(pf_path("data"), 0777), mkdir(pf_path("data/images"), 0777), mkdir(pf_path("data/masks"), 0777);
    mkdir(pf_path("pred"), 0777);
    uint16_t t[80] = {0}, p[80] = {0}, z[36] = {0}, c[36] = {0};
    put_rect(t, 10, 0, 3, 0, 3, 1); /* T1 16 px */
    put_rect(t, 10, 5, 6, 0, 4, 2); /* T2 10 px */
    put_rect(p, 10, 0, 3, 0, 3, 5); /* = T1 (label numbers need not match) */
    put_rect(p, 10, 5, 6, 0, 2, 9); /* 6 of T2's 10 px: IoU 0.6 */
    put_rect(p, 10, 0, 1, 7, 9, 3); /* false, 6 px */
    pf_write_gray8(pf_path("data/images/A.png"), 8, 10, 1);
    write16("data/masks/A.png", t, 8, 10);
    write16("pred/A_labels.png", p, 8, 10);
    pf_write_gray8(pf_path("data/images/B.png"), 6, 6, 2);
    write16("data/masks/B.png", z, 6, 6);
    write16("pred/B.png", z, 6, 6); /* a mask with nothing */
    put_rect(c, 6, 1, 2, 1, 2, 1);
    pf_write_gray8(pf_path("data/images/C.png"), 6, 6, 3);
    write16("data/masks/C.png", c, 6, 6);
    write16("pred/C_labels.png", z, 6, 6);
    uint8_t d[36] = {0};
    d[0] = d[1] = 255, d[35] = 255; /* two blobs of a binary mask */
    struct cu_err err = {0};
    pf_write_gray8(pf_path("data/images/D.png"), 6, 6, 4);
    write16("data/masks/D.png", z, 6, 6);
    tu_ok(cu_png_write_gray8(pf_path("pred/D.png"), d, 6, 6, &err), &err, "pred/D.png");
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* 1e-7: the scores are ratios of small integers; eval.json prints 8
 * significant digits (JSON_REAL_PRECISION(8)), so 5e-9 of rounding. */
#define CLOSE(a, b) (fabs((a) - (b)) <= 1e-7)

static void test_known_scores(void)
{
    char args[4096];
    snprintf(args, sizeof args, "eval --pred '%s' '%s' --out '%s' --json -q", pf_path("pred"), pf_path("data"),
             pf_path("ev"));
    int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0, "eval --pred exits 0 (%d: %s)", rc, err_buf);
    json_error_t je;
    json_t *j = json_loads(out_buf, 0, &je);
    TU_CHECK(j && json_is_object(j), "--json prints a JSON object on stdout (%s)", je.text);
    if (!j)
        return;
    double dsb = num(j, "dsb_score"), dice = num(j, "dice"), iou = num(j, "iou");
    TU_CHECK(num(j, "images") == 4, "images = 4 (%g)", num(j, "images"));
    TU_CHECK(CLOSE(dsb, (1.0 / 3 + 1 + 0 + 0) / 4), "dsb_score = (1/3 + 1 + 0 + 0) / 4 (%.9f)", dsb);
    TU_CHECK(CLOSE(dice, (44.0 / 54 + 1) / 4), "dice = (44/54 + 1 + 0 + 0) / 4 (%.9f)", dice);
    TU_CHECK(CLOSE(iou, (22.0 / 32 + 1) / 4), "iou = (22/32 + 1 + 0 + 0) / 4 (%.9f)", iou);
    json_t *pr = json_object_get(j, "precision");
    TU_CHECK(CLOSE(num(pr, "0.50"), (2.0 / 3 + 1) / 4) && CLOSE(num(pr, "0.55"), (2.0 / 3 + 1) / 4) &&
                 CLOSE(num(pr, "0.60"), (0.25 + 1) / 4) && CLOSE(num(pr, "0.95"), (0.25 + 1) / 4),
             "precision at 0.50/0.55 = (2/3 + 1)/4, at 0.60 and 0.95 = (1/4 + 1)/4");
    TU_CHECK(num(j, "true_nuclei") == 3 && num(j, "pred_nuclei") == 5,
             "3 true nuclei, 5 predicted (D's binary mask split into 2) (%g, %g)", num(j, "true_nuclei"),
             num(j, "pred_nuclei"));
    json_t *file = json_load_file(pf_path("ev/eval.json"), 0, &je);
    TU_CHECK(file && json_equal(file, j), "ev/eval.json holds the same summary");
    json_decref(file);
    json_decref(j);

    FILE *f = fopen(pf_path("ev/eval.csv"), "r");
    char line[1024];
    int lines = 0, a_ok = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        if (!strncmp(line, "A,10,8,2,3,", 11))
            a_ok = strstr(line, ",0.333333,") != NULL;
    }
    if (f)
        fclose(f);
    TU_CHECK(lines == 5 && a_ok, "eval.csv: header + 4 rows; A is 10x8, 2 true, 3 predicted, score 0.333333");

    /* The table, and the default output folder (--pred DIR itself). */
    snprintf(args, sizeof args, "eval --pred '%s' '%s'", pf_path("pred"), pf_path("data"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0 && strstr(out_buf, "DSB score 0.3333") && strstr(out_buf, "dice") && strstr(out_buf, "\nA "),
             "the table has a row per image and the mean score (%d)", rc);
    struct stat sb;
    TU_CHECK(stat(pf_path("pred/eval_data.json"), &sb) == 0 && stat(pf_path("pred/eval_data.csv"), &sb) == 0,
             "without --out, eval --pred writes eval_<data>.csv/.json into the predictions folder");
}

static void test_errors(void)
{
    char args[4096];
    remove(pf_path("pred/D.png"));
    snprintf(args, sizeof args, "eval -q --pred '%s' '%s' --out '%s'", pf_path("pred"), pf_path("data"),
             pf_path("ev2"));
    int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 2 && pf_lines(err_buf) == 1 && strstr(err_buf, "D.png"),
             "a missing prediction: exit 2, one line naming it (%d: %s)", rc, err_buf);
    pf_write_gray8(pf_path("pred/D.png"), 7, 6, 1);
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 2 && pf_lines(err_buf) == 1 && strstr(err_buf, "6x7"),
             "a wrongly sized prediction: exit 2, one line (%d: %s)", rc, err_buf);
    TU_CHECK(pf_count_files(pf_path("ev2")) == -1, "failed evals leave no eval.csv/eval.json (nor the --out folder they made)");
    snprintf(args, sizeof args, "eval --pred '%s' '%s' --out /proc/self", pf_path("pred"), pf_path("data"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 4 && pf_lines(err_buf) == 1, "unwritable --out: exit 4, one line (%d: %s)", rc, err_buf);
    /* (eval DATA alone uses the default model: test_model_find) */
    rc = pf_run(exe, "eval one two three", out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 1 && pf_lines(err_buf) == 1, "eval with three arguments: exit 1 (%d: %s)", rc, err_buf);
    rc = pf_run(exe, "eval", out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 1 && pf_lines(err_buf) == 1, "eval with none: exit 1 (%d: %s)", rc, err_buf);
    rc = pf_run(exe, "eval --help", out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0 && strstr(out_buf, "--pred") && strstr(out_buf, "--json") && strstr(out_buf, "--out") &&
                 strstr(out_buf, "--mode") && strstr(out_buf, "eval.json"),
             "eval --help documents --pred, --out, --json and the prediction flags");
}

/* eval MODEL = predict --instances, then eval --pred, with the same flags. */
static void test_model_matches_predict(void)
{
    char model[1024], args[4096];
    snprintf(model, sizeof model, "%s", pf_path("model.safetensors"));
    TU_CHECK(pf_make_model(model, 16, 0.125, 3) == 0, "saved a S=16 c=0.125 model");
    static const char *flags = "--min-size 0 --threshold 0.5 --mode tile";
    snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s' --instances -q %s", model,
             pf_path("data/images"), pf_path("mp"), flags);
    int rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0, "predict --instances on the images (%d: %s)", rc, err_buf);
    snprintf(args, sizeof args, "eval --pred '%s' '%s' --json -q", pf_path("mp"), pf_path("data"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    json_error_t je;
    json_t *a = json_loads(out_buf, 0, &je);
    snprintf(args, sizeof args, "--device ref eval '%s' '%s' --json -q %s", model, pf_path("data"), flags);
    int rc2 = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    json_t *b = json_loads(out_buf, 0, &je);
    TU_CHECK(rc == 0 && rc2 == 0 && a && b, "eval --pred and eval MODEL both run (%d, %d: %s)", rc, rc2, err_buf);
    TU_CHECK(a && b && json_equal(a, b), "eval MODEL gives exactly the scores of predict + eval --pred");
    struct stat sb;
    TU_CHECK(stat(pf_path("eval_data.json"), &sb) == 0, "eval MODEL writes eval_<data>.json beside the model by default");
    json_decref(a), json_decref(b);
    snprintf(args, sizeof args, "eval '%s' '%s'", pf_path("data/masks/A.png"), pf_path("data"));
    rc = pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
    TU_CHECK(rc == 2 && pf_lines(err_buf) == 1, "eval with a PNG as the model: exit 2, one line (%d: %s)", rc, err_buf);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_eval_cmd CLUNET_BINARY\n");
        return 1;
    }
    exe = argv[1];
    make_data();
    test_known_scores();
    test_model_matches_predict();
    test_errors();
    pf_cleanup();
    return tu_finish();
}
