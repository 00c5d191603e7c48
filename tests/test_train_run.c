/* test_train_run.c: `clunet train` end to end on a tiny synthetic set
 * (ref backend, S=16, c=0.125, 2 epochs): the run folder holds every file,
 * history.csv has the documented columns and one finite row per epoch,
 * history.svg is an SVG with both panels, the model is self-describing;
 * an existing run folder is refused without --force and overwritten with
 * it; no --data explains where data comes from; bad flags are usage
 * errors; a size that cannot fit in memory is exit 3 with advice. argv[1]: the clunet binary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/safetensors.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;

static int train(const char *data, const char *out, const char *extra, const char *log)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)exe;
    argv[n++] = "--device";
    argv[n++] = "ref";
    argv[n++] = "train";
    char *copy = extra ? strdup(extra) : NULL;
    for (char *t = copy ? strtok(copy, " ") : NULL; t && n < 24; t = strtok(NULL, " "))
        argv[n++] = t;
    if (data) {
        argv[n++] = "--data";
        argv[n++] = (char *)data;
    }
    if (out) {
        argv[n++] = "--out";
        argv[n++] = (char *)out;
    }
    argv[n] = NULL;
    int rc = tf_run(argv, log);
    free(copy);
    return rc;
}

static void check_csv(const char *run, int epochs)
{
    char *csv = tf_read(run, "history.csv", NULL);
    TU_CHECK(csv != NULL, "history.csv readable");
    if (!csv)
        return;
    TU_CHECK(!strncmp(csv, "epoch,train_loss,train_dice,val_loss,val_dice,seconds,images_per_second\n", 72),
             "history.csv header has the 7 documented columns");
    int rows = 0, finite = 1;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int ep;
        double v[6];
        if (sscanf(line + 1, "%d,%lf,%lf,%lf,%lf,%lf,%lf", &ep, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 7 ||
            ep != rows + 1) {
            finite = 0;
            break;
        }
        for (int k = 0; k < 6; k++)
            finite &= isfinite(v[k]) && v[k] >= 0;
        finite &= v[1] <= 1 && v[3] <= 1; /* Dice in [0,1] */
        rows++;
    }
    TU_CHECK(rows == epochs && finite, "history.csv: %d rows of 7 finite values (want %d)", rows, epochs);
    free(csv);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_train_run CLUNET\n"), 1;
    exe = argv[1];
    char *tmp = tf_tmpdir("train-run");
    char data[4096], run[4096], log[4096];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(log, sizeof log, "%s/log.txt", tmp);
    TU_CHECK(tf_make_dataset(data, 10, 24, 20, 7) == 0, "tiny dataset written (10 images 24x20)");

    const char *flags = "-s 16 -c 0.125 -e 2 --batch 4";
    int rc = train(data, run, flags, log);
    TU_CHECK(rc == 0, "clunet train exits 0 (got %d)", rc);
    static const char *files[] = {"model.safetensors", "best.safetensors", "checkpoint.safetensors",
                                  "history.csv",       "history.svg",      "train.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        TU_CHECK(tf_exists(run, files[i]), "run folder holds %s", files[i]);
    check_csv(run, 2);

    char *svg = tf_read(run, "history.svg", NULL);
    TU_CHECK(svg && strstr(svg, "<svg") && strstr(svg, "</svg>") && strstr(svg, ">Loss<") && strstr(svg, ">Dice<") &&
                 strstr(svg, ">validation<") && strstr(svg, ">epoch<"),
             "history.svg: an SVG with loss and Dice panels, axis labels and a legend");
    free(svg);
    char *tlog = tf_read(run, "train.log", NULL);
    TU_CHECK(tlog && strstr(tlog, "configuration:") && strstr(tlog, "device: ref") && strstr(tlog, "epoch 2/2"),
             "train.log holds the configuration, the device and the epoch lines");
    free(tlog);

    /* The model describes itself. */
    char path[8300];
    snprintf(path, sizeof path, "%s/model.safetensors", run);
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (tu_ok(cu_st_file_read(path, &f, &err), &err, "read model.safetensors")) {
        const char *fmt = cu_st_file_meta(f, "format"), *s = cu_st_file_meta(f, "image_size"),
                   *c = cu_st_file_meta(f, "channel_rate"), *e = cu_st_file_meta(f, "epochs");
        TU_CHECK(fmt && !strcmp(fmt, "clunet-unet") && s && !strcmp(s, "16") && c && atof(c) == 0.125 && e &&
                     !strcmp(e, "2"),
                 "model metadata: format clunet-unet, image_size 16, channel_rate 0.125, epochs 2");
        TU_CHECK(cu_st_file_find(f, "enc1.conv1.weight") && cu_st_file_find(f, "head.out.bias") &&
                     !cu_st_file_find(f, "adam.m.enc1.conv1.weight"),
                 "model holds named weights and no optimiser state");
        cu_st_file_free(f);
    }
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", run);
    if (tu_ok(cu_st_file_read(path, &f, &err), &err, "read checkpoint.safetensors")) {
        const char *ep = cu_st_file_meta(f, "state.epoch"), *lr = cu_st_file_meta(f, "train.lr");
        TU_CHECK(cu_st_file_find(f, "adam.m.enc1.conv1.weight") && cu_st_file_find(f, "adam.v.head.out.weight") &&
                     ep && !strcmp(ep, "2") && lr && atof(lr) == 1e-3 && cu_st_file_meta(f, "state.rng"),
                 "checkpoint holds Adam moments, epoch 2, the configuration and the RNG state");
        cu_st_file_free(f);
    }

    /* An existing folder is refused (1) and left alone; --force overwrites. */
    long len1 = 0, len2 = 0;
    char *before = tf_read(run, "history.csv", &len1);
    rc = train(data, run, "-s 16 -c 0.125 -e 1 --batch 4", log);
    char *after = tf_read(run, "history.csv", &len2);
    TU_CHECK(rc == 1 && before && after && len1 == len2 && !memcmp(before, after, (size_t)len1),
             "existing run folder refused with exit 1, files untouched (got %d)", rc);
    free(after);
    rc = train(data, run, "-s 16 -c 0.125 -e 1 --batch 4 --force", log);
    check_csv(run, 1);
    TU_CHECK(rc == 0, "--force overwrites the run (exit %d, 1 epoch now)", rc);
    free(before);

    /* No data: a usage error that says how to get some. */
    rc = train(NULL, run, "-e 1", log);
    char *msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 1 && msg && strstr(msg, "clunet synth") && strstr(msg, "DSB2018"),
             "no --data: exit 1 naming clunet synth and the DSB2018 layout (got %d)", rc);
    free(msg);
    rc = train(data, run, "-s 20 -e 1 --force", log);
    TU_CHECK(rc == 1, "-s 20 (not a multiple of 16) is a usage error (got %d)", rc);
    rc = train(data, run, "--loss mse --force", log);
    TU_CHECK(rc == 1, "--loss mse is a usage error (got %d)", rc);
    /* Out of memory: refused before allocating, exit 3 with what to do. */
    rc = train(data, run, "-s 16384 -c 0.125 -e 1 --force", log);
    msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 3 && msg && strstr(msg, "out of device memory") && strstr(msg, "--batch") && strstr(msg, "-s"),
             "-s 16384: exit 3, out of device memory, suggests a smaller --batch or -s (got %d)", rc);
    free(msg);
    snprintf(path, sizeof path, "%s/nowhere", tmp);
    rc = train(path, run, "-s 16 -c 0.125 -e 1 --force", log);
    TU_CHECK(rc == 2, "a missing data folder is bad input, exit 2 (got %d)", rc);

    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
