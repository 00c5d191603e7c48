/* test_no_data_loss.c: predict and eval never overwrite what they read or
 * each other's results, and never give a silently wrong answer (clunet
 * binary argv[1], ref backend, a tiny He-initialised model):
 *   - predict --out the input folder: refused, the images untouched;
 *   - two outputs with one name (x and x_labels with --instances), the
 *     submission named like an input or an output: refused before
 *     anything is written (no output folder left behind);
 *   - an image id the submission CSV cannot hold: refused before any mask;
 *   - a model with a NaN or infinite weight: refused on load, naming the
 *     tensor (predict and eval), instead of all-zero masks and exit 0;
 *   - a folder holding both stage1_train/ and stage1_test/: refused by
 *     train, predict and eval, naming both; a good folder's layout is
 *     printed by predict and eval;
 *   - eval without --out: its report is named after the dataset, and an
 *     earlier report is never overwritten.
 * Each refusal is a bad-input table line (tools/bad_input_table.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bad_input_util.h"
#include "predict_fixture.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;
static char tmp[1000], logp[1100], model[1100];

/* tmp/rel into buf. */
static char *at(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", tmp, rel);
    return buf;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* 1 when the file at path holds exactly the n bytes of data. */
static int same_bytes(const char *path, const char *data, long n)
{
    long m = 0;
    char *now = tf_read("", path, &m);
    int same = now && data && m == n && !memcmp(now, data, (size_t)n);
    free(now);
    return same;
}

#define PRED "--device", "ref", "predict", "-q"

static void out_is_input(void)
{
    char dir[1200], a[1300], b[1300];
    at(dir, sizeof dir, "flat");
    mkdir(dir, 0755);
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    TU_CHECK(pf_write_rgb8(a, 20, 24, 1) == 0 && pf_write_rgb8(b, 20, 24, 2) == 0, "two images written");
    long n = 0;
    char *before = tf_read("", a, &n);
    bi_expect(1, "predict: --out is the input folder (the images would be overwritten by their masks)", "a.png",
              (char *[]){PRED, model, dir, "--out", dir, NULL});
    TU_CHECK(same_bytes(a, before, n) && pf_count_files(dir) == 2, "the input images are untouched, nothing added");
    bi_expect(1, "predict: --submission names an input image", "--submission",
              (char *[]){PRED, model, dir, "--out", at((char[1200]){0}, 1200, "p_sub"), "--submission", b, NULL});
    TU_CHECK(same_bytes(a, before, n) && pf_count_files(dir) == 2, "the input images are still untouched");
    free(before);
}

static void names_collide(void)
{
    char dir[1200], x[1300], xl[1300], out[1200], sp[1300];
    at(dir, sizeof dir, "coll");
    mkdir(dir, 0755);
    snprintf(x, sizeof x, "%s/x.png", dir);
    snprintf(xl, sizeof xl, "%s/x_labels.png", dir);
    TU_CHECK(pf_write_rgb8(x, 20, 24, 3) == 0 && pf_write_rgb8(xl, 20, 24, 4) == 0, "x.png and x_labels.png written");
    at(out, sizeof out, "pcoll");
    bi_expect(1, "predict --instances: the labels of x and the mask of x_labels would have one name", "x_labels.png",
              (char *[]){PRED, model, dir, "--out", out, "--instances", NULL});
    TU_CHECK(!exists(out), "refused before anything is written: no output folder left behind");
    char sub[1300];
    snprintf(sub, sizeof sub, "%s/x.png", out);
    bi_expect(1, "predict: --submission named like an output mask", "--submission",
              (char *[]){PRED, model, x, "--out", out, "--submission", sub, NULL});
    TU_CHECK(!exists(out), "refused before anything is written (submission)");
    /* Without --instances the two do not collide: x.png and x_labels.png are both masks. */
    char *ok[] = {(char *)exe, PRED, model, dir, "--out", out, NULL};
    snprintf(sub, sizeof sub, "%s/x_labels.png", out);
    TU_CHECK(tf_run(ok, NULL) == 0 && exists(sub), "without --instances the same inputs are predicted");

    at(dir, sizeof dir, "space");
    mkdir(dir, 0755);
    snprintf(sp, sizeof sp, "%s/a b.png", dir);
    TU_CHECK(pf_write_rgb8(sp, 20, 24, 5) == 0, "an image with a space in its name");
    at(out, sizeof out, "pspace");
    snprintf(sub, sizeof sub, "%s/sub.csv", tmp);
    bi_expect(1, "predict --submission: an image id with a space (the CSV cannot hold it)", "a b.png",
              (char *[]){PRED, model, dir, "--out", out, "--submission", sub, NULL});
    TU_CHECK(!exists(out) && !exists(sub), "no mask and no CSV written");
}

/* Writes the float v over the last 4 bytes of the file (the end of the
 * tensor stored last). */
static int poison(const char *from, const char *to, float v)
{
    long n = 0;
    char *d = tf_read("", from, &n);
    FILE *f = fopen(to, "wb");
    int ok = d && f && n > 8;
    if (ok) {
        memcpy(d + n - 4, &v, 4);
        ok = fwrite(d, 1, (size_t)n, f) == (size_t)n;
    }
    if (f)
        ok &= fclose(f) == 0;
    free(d);
    return ok ? 0 : -1;
}

static void nan_model(void)
{
    char nanm[1200], infm[1200], img[1300], data[1200], out[1200];
    at(nanm, sizeof nanm, "nan.safetensors");
    at(infm, sizeof infm, "inf.safetensors");
    TU_CHECK(poison(model, nanm, strtof("nan", NULL)) == 0 && poison(model, infm, strtof("inf", NULL)) == 0,
             "models with a NaN and an infinite weight written");
    at(data, sizeof data, "data");
    snprintf(img, sizeof img, "%s/img000/images/img000.png", data);
    at(out, sizeof out, "pnan");
    bi_expect(2, "predict: a model with a NaN weight", "NaN", (char *[]){PRED, nanm, img, "--out", out, NULL});
    TU_CHECK(!exists(out), "no mask written from a NaN model");
    bi_expect(2, "eval: a model with an infinite weight", "infinite",
              (char *[]){"--device", "ref", "eval", "-q", infm, data, "--out", out, NULL});
    long n = 0;
    char *log = tf_read("", logp, &n);
    TU_CHECK(log && strstr(log, "tensor "), "the message names the tensor: %s", log ? log : "");
    free(log);
}

static void ambiguous(void)
{
    char dir[1200], tr[1300], te[1300], out[1200], cmd[4000];
    at(dir, sizeof dir, "amb");
    snprintf(tr, sizeof tr, "%s/stage1_train", dir);
    snprintf(te, sizeof te, "%s/stage1_test", dir);
    TU_CHECK(tf_make_dataset(tr, 2, 20, 24, 8) == 0, "stage1_train written");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/t0/images' && cp '%s/img000/images/img000.png' '%s/t0/images/t0.png'", te,
             tr, te);
    TU_CHECK(system(cmd) == 0, "stage1_test written");
    at(out, sizeof out, "pamb");
    bi_expect(1, "predict: a folder holding both stage1_train/ and stage1_test/", "stage1_test",
              (char *[]){PRED, model, dir, "--out", out, NULL});
    TU_CHECK(!exists(out), "nothing predicted from an ambiguous folder");
    bi_expect(1, "eval: a folder holding both stage1_train/ and stage1_test/", "stage1_train",
              (char *[]){"--device", "ref", "eval", "-q", model, dir, "--out", out, NULL});
    bi_expect(1, "train: a folder holding both stage1_train/ and stage1_test/", "stage1_test",
              (char *[]){"--device", "ref", "train", "-q", "-s", "16", "-c", "0.125", "-e", "1", "--data", dir,
                         "--out", out, NULL});
    /* A good folder: predict and eval say which layout they read. */
    char args[4000], so[4096], se[4096];
    snprintf(args, sizeof args, "--device ref predict '%s' '%s' --out '%s'", model, tr, out);
    int rc = pf_run(exe, args, so, sizeof so, se, sizeof se);
    TU_CHECK(rc == 0 && strstr(so, "data: ") && strstr(so, "stage1_train (DSB2018 training layout"),
             "predict prints the layout it found (%d): %s", rc, so);
    snprintf(args, sizeof args, "--device ref eval '%s' '%s' --out '%s'", model, tr, out);
    rc = pf_run(exe, args, so, sizeof so, se, sizeof se);
    TU_CHECK(rc == 0 && strstr(so, "data: ") && strstr(so, "DSB2018 training layout"),
             "eval prints the layout it found (%d): %s", rc, so);
}

static void eval_keeps_reports(void)
{
    char data[1200], other[1200], js[1300], cmd[4000];
    at(data, sizeof data, "data");
    at(other, sizeof other, "other");
    TU_CHECK(tf_make_dataset(other, 2, 24, 20, 11) == 0, "a second dataset");
    char *e1[] = {(char *)exe, "--device", "ref", "eval", "-q", model, data, NULL};
    TU_CHECK(tf_run(e1, NULL) == 0, "eval MODEL data");
    char *e2[] = {(char *)exe, "--device", "ref", "eval", "-q", model, other, NULL};
    TU_CHECK(tf_run(e2, NULL) == 0, "eval MODEL other");
    snprintf(js, sizeof js, "%s/eval_data.json", tmp);
    long n = 0;
    char *first = tf_read("", js, &n);
    snprintf(cmd, sizeof cmd, "%s/eval_other.json", tmp);
    TU_CHECK(first && exists(cmd), "two datasets, two reports beside the model: eval_data.json, eval_other.json");
    bi_expect(1, "eval without --out where an earlier report of that dataset is", "eval_data.csv",
              (char *[]){"--device", "ref", "eval", "-q", model, data, "--threshold", "0.9", NULL});
    TU_CHECK(same_bytes(js, first, n), "the earlier report is unchanged");
    free(first);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_no_data_loss CLUNET\n"), 1;
    exe = argv[1];
    char *t = tf_tmpdir("nodataloss");
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    bi_init(exe, tmp, logp);
    at(model, sizeof model, "model.safetensors");
    char data[1200];
    TU_CHECK(pf_make_model(model, 16, 0.125, 3) == 0, "a S=16 c=0.125 model");
    TU_CHECK(tf_make_dataset(at(data, sizeof data, "data"), 3, 24, 20, 9) == 0, "a labelled dataset");
    out_is_input();
    names_collide();
    nan_model();
    ambiguous();
    eval_keeps_reports();
    tf_rmtree(tmp);
    return tu_finish();
}
