/* test_train_crop.c: crop training end to end (`clunet train --recipe
 * nuclei --crop 32`, ref backend, c=0.125, tiny disc images of 40x56):
 * crops and validation tiles counted as documented (an image of A pixels
 * appears round(A / 32^2) times, 1..4; tiles ceil(40/32) x ceil(56/32)),
 * the model file records three outputs and how it was trained, a resume
 * keeps the recipe's configuration, `clunet predict` picks tile mode
 * from the model file and writes labels, takes --threshold and --tta from
 * the model file unless given, and the recipe's flags refuse bad values. argv[1]: the clunet binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/safetensors.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;

static int run(const char *args, const char *log)
{
    char *argv[48], *copy = strdup(args);
    int n = 0;
    argv[n++] = (char *)exe;
    for (char *t = strtok(copy, " "); t && n < 46; t = strtok(NULL, " "))
        argv[n++] = t;
    argv[n] = NULL;
    int rc = tf_run(argv, log);
    free(copy);
    return rc;
}

/* Runs cmd and checks its exit code and that its output (log, in dir as
 * log.txt) holds want. */
static void run_says(const char *dir, const char *cmd, const char *log, int want_rc, const char *want,
                     const char *what)
{
    int rc = run(cmd, log);
    char *pl = tf_read(dir, "log.txt", NULL);
    TU_CHECK(rc == want_rc && pl && strstr(pl, want), "%s (exit %d, want %d): %s", what, rc, want_rc, pl ? pl : "");
    free(pl);
}

/* clunet convert model out META (--meta flags), which must succeed. */
static void convert_meta(const char *model, const char *out, const char *meta, const char *log)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "convert %s %s %s", model, out, meta);
    int rc = run(cmd, log);
    TU_CHECK(rc == 0, "convert %s: exit %d", meta, rc);
}

static void check_meta(const char *model)
{
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_st_file_read(model, &f, &err), &err, "read model"))
        return;
    const char *oc = cu_st_file_meta(f, "output_channels"), *mode = cu_st_file_meta(f, "train_mode"),
               *prep = cu_st_file_meta(f, "prep"), *size = cu_st_file_meta(f, "image_size"),
               *norm = cu_st_file_meta(f, "normalize");
    TU_CHECK(oc && !strcmp(oc, "3") && mode && !strcmp(mode, "crop") && prep && !strcmp(prep, "grey") &&
                 size && !strcmp(size, "32") && norm && !strcmp(norm, "1,99.8"),
             "model metadata: output_channels %s, train_mode %s, prep %s, image_size %s", oc ? oc : "-",
             mode ? mode : "-", prep ? prep : "-", size ? size : "-");
    const struct cu_st_entry *e = cu_st_file_find(f, "head.out.weight");
    TU_CHECK(e && e->shape[0] == 3, "head.out has 3 output channels");
    cu_st_file_free(f);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_train_crop CLUNET\n"), 2;
    exe = argv[1];
    char *dir = tf_tmpdir("crop");
    char data[1024], runp[1024], log[1024], pred[1024], cmd[4096];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(runp, sizeof runp, "%s/run", dir);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(pred, sizeof pred, "%s/pred", dir);
    TU_CHECK(tf_make_dataset(data, 12, 40, 56, 5) == 0, "dataset");
    snprintf(cmd, sizeof cmd, "--device ref train --recipe nuclei --crop 32 -c 0.125 -e 1 --batch 4 --data %s --out %s",
             data, runp);
    int rc = run(cmd, log);
    TU_CHECK(rc == 0, "train --recipe nuclei --crop 32: exit %d", rc);
    char *tl = tf_read(runp, "train.log", NULL);
    /* 10 training images of 2240 px: round(2240/1024) = 2 crops each; 2
     * validation images in 2 x 2 tiles each */
    TU_CHECK(tl && strstr(tl, "--lr-schedule cosine, --normalize 1,99.8, --crop 32") && strstr(tl, "data: 20 random 32x32 crops per epoch") && strstr(tl, "validation in 8 tiles") &&
                 strstr(tl, "--crop 32, --scale-jitter 0.25, --targets instance, --channel-weights 1,1,3, "
                            "--grey, --intensity-aug"),
             "train.log: crops, tiles and the recipe's settings");
    free(tl);
    char model[1200];
    snprintf(model, sizeof model, "%s/model.safetensors", runp);
    check_meta(model);

    snprintf(cmd, sizeof cmd, "--device ref train --resume %s -e 2", runp);
    rc = run(cmd, log);
    tl = tf_read(runp, "train.log", NULL);
    TU_CHECK(rc == 0 && tl && strstr(tl, "epoch 2/2") && strstr(strstr(tl, "resuming") ? strstr(tl, "resuming") : "",
                                                                 "--crop 32, --scale-jitter 0.25"),
             "resume keeps the crop configuration (exit %d)", rc);
    free(tl);

    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s --instances", model, data, pred);
    run_says(dir, cmd, log, 0, "mode tile (the model's), prep grey, scale 1, trained on crops, 3 outputs",
             "predict defaults to the model's mode");
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s --mode resize", model, data, pred);
    run_says(dir, cmd, log, 0, "mode resize, prep grey", "--mode resize overrides it");

    /* prediction defaults recorded in the model file (clunet convert
     * --meta threshold=... --meta tta=1), and the flags that override them */
    char tuned[1200];
    snprintf(tuned, sizeof tuned, "%s/tuned.safetensors", dir);
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s", model, data, pred);
    run_says(dir, cmd, log, 0, "threshold 0.5, seeds body - contour - 1 border > 0.5, min size 10)",
             "seeds default to --threshold and a border weight of 1");
    convert_meta(model, tuned,
                 "--meta threshold=0.625 --meta tta=1 --meta min_size=7 --meta seed_threshold=0.25 "
                 "--meta border_weight=3",
                 log);
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s", tuned, data, pred);
    run_says(dir, cmd, log, 0,
             "3 outputs (body, contour, border), threshold 0.625, seeds body - contour - 3 border > 0.25, min size 7, "
             "8 views (tta))",
             "predict takes threshold, seeds, min size and tta from the model file");
    snprintf(cmd, sizeof cmd,
             "--device ref predict %s %s --out %s --threshold 0.5 --no-tta --min-size 10 --seed-threshold 0.375 "
             "--border-weight 2",
             tuned, data, pred);
    run_says(dir, cmd, log, 0, "border), threshold 0.5, seeds body - contour - 2 border > 0.375, min size 10)",
             "--threshold, --seed-threshold, --border-weight, --min-size and --no-tta override them");
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s --border-weight -1", tuned, data, pred);
    run_says(dir, cmd, log, 1, "--border-weight", "a negative --border-weight is a usage error");
    snprintf(tuned, sizeof tuned, "%s/badseed.safetensors", dir);
    convert_meta(model, tuned, "--meta border_weight=x", log);
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s", tuned, data, pred);
    run_says(dir, cmd, log, 2, "badseed.safetensors: metadata border_weight=\"x\" is not a number in [0, 100]",
             "a model file's border_weight that is not a number is bad input naming the file");
    snprintf(tuned, sizeof tuned, "%s/bad.safetensors", dir);
    convert_meta(model, tuned, "--meta threshold=1.5", log);
    snprintf(cmd, sizeof cmd, "--device ref predict %s %s --out %s", tuned, data, pred);
    run_says(dir, cmd, log, 2, "bad.safetensors: metadata threshold=\"1.5\" is not a number in (0, 1)",
             "a model file's threshold outside (0, 1) is bad input naming the file");

    /* fine-tuning a crop-trained model: crops, outputs, scale and input
     * preparation come from the file; a --crop that differs is refused */
    char ft[1100];
    snprintf(ft, sizeof ft, "%s/ft", dir);
    snprintf(cmd, sizeof cmd, "--device ref train --init %s --data %s --out %s -e 1 --batch 4", model, data, ft);
    rc = run(cmd, log);
    tl = tf_read(ft, "train.log", NULL);
    TU_CHECK(rc == 0 && tl && strstr(tl, "-s 32, -c 0.125") && strstr(tl, "--normalize 1,99.8, --crop 32") &&
                 strstr(tl, "--targets instance") && strstr(tl, "--grey") && strstr(tl, "crops per epoch"),
             "train --init of a crop-trained model trains on crops with its outputs and preparation (exit %d)", rc);
    free(tl);
    snprintf(cmd, sizeof cmd, "--device ref train --init %s --data %s --out %s/ft2 -e 1 --crop 64", model, data, dir);
    run_says(dir, cmd, log, 1, "--crop conflicts with --init", "--init with another --crop");

    /* a fine-tuned model predicts as the file it came from: the prediction
     * defaults go into its model files, through a --resume too */
    char inh[1200], ft3[1200];
    snprintf(inh, sizeof inh, "%s/inh.safetensors", dir);
    snprintf(ft3, sizeof ft3, "%s/ft3", dir);
    convert_meta(model, inh, "--meta tta=1 --meta min_size=7 --meta seed_threshold=0.25 --meta border_weight=3", log);
    snprintf(cmd, sizeof cmd, "--device ref train --init %s --data %s --out %s -e 1 --batch 4", inh, data, ft3);
    TU_CHECK(run(cmd, log) == 0, "fine-tuning from a file with prediction defaults");
    tl = tf_read(ft3, "train.log", NULL);
    TU_CHECK(tl && strstr(tl, "its prediction defaults go into this run's models: min_size=7 tta=1 "
                              "seed_threshold=0.25 border_weight=3"),
             "train.log names the inherited prediction defaults");
    free(tl);
    snprintf(cmd, sizeof cmd, "--device ref train --resume %s -e 2", ft3);
    TU_CHECK(run(cmd, log) == 0, "resume of the fine-tuning run");
    snprintf(cmd, sizeof cmd, "--device ref predict %s/model.safetensors %s --out %s", ft3, data, pred);
    run_says(dir, cmd, log, 0, "threshold 0.5, seeds body - contour - 3 border > 0.25, min size 7, 8 views (tta))",
             "the resumed fine-tuned model predicts with the inherited defaults");
    snprintf(cmd, sizeof cmd, "--device ref predict %s/model.safetensors %s --out %s", ft, data, pred);
    run_says(dir, cmd, log, 0, "threshold 0.5, seeds body - contour - 1 border > 0.5, min size 10)",
             "a model fine-tuned from a file without them has none");

    static const char *bad[] = {
        "train --scale 2 -e 1",                 /* needs --crop */
        "train --recipe cells -e 1",            /* unknown recipe */
        "train --crop 32 --channel-weights 1,x", /* bad weight */
        "train --crop 32 --targets three",      /* unknown targets */
        "train --crop 30 -e 1",                 /* not a multiple of 16 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "--device ref %s --data %s --out %s/bad", bad[i], data, dir);
        rc = run(cmd, log);
        TU_CHECK(rc == 1, "%s: exit %d (want 1, usage)", bad[i], rc);
    }
    tf_rmtree(dir);
    free(dir);
    return tu_finish();
}
