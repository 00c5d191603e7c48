/* test_train_devices.c: `clunet train --devices` end to end on a tiny
 * synthetic set (S=16, c=0.125, 10 images, 2 epochs, PoCL's CPU device):
 * "cpu,cpu" writes a complete run folder whose log names both devices, and
 * its losses follow those of one device (--device cpu) with the same
 * batch; an odd batch (3 = 1 + 2) too; a run started on two devices
 * resumes on one; on "ref,ref" with --augment, a stop mid-epoch plus
 * --resume is bit-identical to an uninterrupted run (library call, as
 * test_train_resume does for one device); a NaN loss on two devices stops
 * with exit 2; a device listed twice counts twice in the memory check;
 * --device with --devices and an empty list entry are usage errors, a
 * device type that does not exist is a device error.
 * argv[1]: the clunet binary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/train.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;

static int train(const char *flags, const char *log)
{
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)exe;
    argv[n++] = "train";
    char *copy = strdup(flags);
    for (char *t = strtok(copy, " "); t && n < 38; t = strtok(NULL, " "))
        argv[n++] = t;
    argv[n] = NULL;
    int rc = tf_run(argv, log);
    free(copy);
    return rc;
}

#define MAX_EPOCHS 4

/* history.csv's train and validation losses; returns the number of rows. */
static int read_losses(const char *run, double train_loss[MAX_EPOCHS], double val_loss[MAX_EPOCHS])
{
    char *csv = tf_read(run, "history.csv", NULL);
    int rows = 0;
    for (char *line = csv ? strchr(csv, '\n') : NULL; line && line[1] && rows < MAX_EPOCHS;
         line = strchr(line + 1, '\n')) {
        int ep;
        double v[6];
        if (sscanf(line + 1, "%d,%lf,%lf,%lf,%lf,%lf,%lf", &ep, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 7)
            break;
        train_loss[rows] = v[0];
        val_loss[rows] = v[2];
        rows++;
    }
    free(csv);
    return rows;
}

/* Two runs' losses agree. Tolerance 1e-5 relative: the replicas' gradient
 * is the same mean as one device's up to the order of float sums (~1e-7
 * per step, test_replicas), which Adam and 2 epochs (6 steps) may grow by
 * a few orders of magnitude; a wrong weighting or a missing slice changes
 * the loss by far more (an epoch moves it by ~1e-2). */
static void same_losses(const char *what, const char *a, const char *b, int epochs)
{
    double ta[MAX_EPOCHS], va[MAX_EPOCHS], tb[MAX_EPOCHS], vb[MAX_EPOCHS];
    int na = read_losses(a, ta, va), nb = read_losses(b, tb, vb);
    double worst = 0;
    for (int i = 0; i < na && i < nb; i++) {
        worst = fmax(worst, fabs(ta[i] - tb[i]) / fabs(tb[i]));
        worst = fmax(worst, fabs(va[i] - vb[i]) / fabs(vb[i]));
    }
    TU_CHECK(na == epochs && nb == epochs && worst <= 1e-5,
             "%s: %d and %d epochs, train/val losses within 1e-5 relative (worst %.2e)", what, na, nb, worst);
}

/* 2 epochs straight vs a stop after 4 batches (epoch 2, batch 1) and a
 * resume, both on ref,ref: two ref replicas are bit-identical, so the
 * resumed run must be too (the bar of test_train_resume on one device). */
static void check_resume(const char *data, const char *tmp)
{
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/lib-a", tmp);
    snprintf(b, sizeof b, "%s/lib-b", tmp);
    struct cu_err err = {0};
    int interrupted = 0;
    struct cu_train_opts o = tf_lib_opts(data, a, 2);
    o.devices = "ref,ref";
    tu_ok(clunet_train(&o, &interrupted, &err), &err, "ref,ref: 2 epochs");
    o = tf_lib_opts(data, b, 2);
    o.devices = "ref,ref";
    o.stop_after_batches = 4;
    tu_ok(clunet_train(&o, &interrupted, &err), &err, "ref,ref: stop after 4 batches");
    TU_CHECK(interrupted == 1 && !tf_exists(b, "model.safetensors"), "ref,ref: stopped mid-epoch 2");
    o = tf_lib_opts(data, NULL, 2);
    o.devices = "ref,ref";
    o.resume_dir = b;
    tu_ok(clunet_train(&o, &interrupted, &err), &err, "ref,ref: resume");
    char pa[4300], pb[4300];
    const char *names[] = {"model.safetensors", "checkpoint.safetensors"};
    for (int i = 0; i < 2; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, names[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, names[i]);
        TU_CHECK(tf_same_tensors(pa, pb), "ref,ref: %s of stop + resume bit-identical to 2 epochs straight",
                 names[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_train_devices CLUNET\n"), 1;
    exe = argv[1];
    char *tmp = tf_tmpdir("train-devices");
    char data[4096], one[4200], two[4200], odd1[4200], odd2[4200], res[4200], log[4200], flags[16384];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(one, sizeof one, "%s/one", tmp);
    snprintf(two, sizeof two, "%s/two", tmp);
    snprintf(odd1, sizeof odd1, "%s/odd1", tmp);
    snprintf(odd2, sizeof odd2, "%s/odd2", tmp);
    snprintf(res, sizeof res, "%s/resumed", tmp);
    snprintf(log, sizeof log, "%s/log.txt", tmp);
    TU_CHECK(tf_make_dataset(data, 10, 24, 20, 7) == 0, "tiny dataset written (10 images 24x20)");
    const char *common = "-s 16 -c 0.125 -e 2 -q";

    snprintf(flags, sizeof flags, "%s --batch 4 --device cpu --data %s --out %s", common, data, one);
    int rc = train(flags, log);
    TU_CHECK(rc == 0, "--device cpu: exit 0 (got %d)", rc);
    snprintf(flags, sizeof flags, "%s --batch 4 --devices cpu,cpu --data %s --out %s", common, data, two);
    rc = train(flags, log);
    TU_CHECK(rc == 0, "--devices cpu,cpu: exit 0 (got %d)", rc);
    static const char *files[] = {"model.safetensors", "best.safetensors", "checkpoint.safetensors",
                                  "history.csv",       "history.svg",      "train.log"};
    int all = 1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        all &= tf_exists(two, files[i]);
    TU_CHECK(all, "--devices cpu,cpu: the run folder holds all six files");
    char *tlog = tf_read(two, "train.log", NULL);
    TU_CHECK(tlog && strstr(tlog, "device 1 of 2: ") && strstr(tlog, "device 2 of 2: ") &&
                 strstr(tlog, "data parallel: 1 process x 2 devices") && strstr(tlog, "slices of up to 2 images"),
             "train.log names both devices and the split (4 = 2 + 2)");
    free(tlog);
    same_losses("cpu,cpu 2 x 2 vs cpu 1 x 4", two, one, 2);

    /* An odd batch: 3 = 1 + 2 (with --batch 4 above, the last batch of the 9
     * training images was 1 = 0 + 1: one replica had nothing). */
    snprintf(flags, sizeof flags, "%s --batch 3 --device cpu --data %s --out %s", common, data, odd1);
    rc = train(flags, log);
    snprintf(flags, sizeof flags, "%s --batch 3 --devices cpu,cpu --data %s --out %s", common, data, odd2);
    rc |= train(flags, log);
    TU_CHECK(rc == 0, "--batch 3 on one and on two devices: exit 0");
    same_losses("--batch 3: cpu,cpu 1 + 2 vs cpu 3", odd2, odd1, 2);

    /* Started on two devices, resumed on one: the checkpoint is global. */
    snprintf(flags, sizeof flags, "-s 16 -c 0.125 -e 1 -q --batch 4 --devices cpu,cpu --data %s --out %s", data, res);
    rc = train(flags, log);
    snprintf(flags, sizeof flags, "--resume %s -e 2 -q --device cpu", res);
    rc |= train(flags, log);
    TU_CHECK(rc == 0, "1 epoch on cpu,cpu, resumed to 2 on cpu: exit 0");
    same_losses("resumed on one device vs two throughout", res, two, 2);

    check_resume(data, tmp);
    snprintf(flags, sizeof flags, "%s --batch 4 --lr 1e30 --devices cpu,cpu --data %s --out %s --force", common, data,
             two);
    rc = train(flags, log);
    char *msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 2 && msg && strstr(msg, "NaN") && strstr(msg, "epoch 1"),
             "--lr 1e30 on cpu,cpu: NaN loss, exit 2 naming the epoch (got %d)", rc);
    free(msg);

    snprintf(flags, sizeof flags, "%s --device cpu --devices cpu,cpu --data %s --out %s --force", common, data, two);
    rc = train(flags, log);
    msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 1 && msg && strstr(msg, "not both"), "--device with --devices: exit 1 (got %d)", rc);
    free(msg);
    snprintf(flags, sizeof flags, "%s --devices cpu,,ref --data %s --out %s --force", common, data, two);
    rc = train(flags, log);
    TU_CHECK(rc == 1, "--devices cpu,,ref: an empty entry is exit 1 (got %d)", rc);
    /* A device listed twice holds two replicas: the memory check counts both. */
    snprintf(flags, sizeof flags, "-s 4096 -c 0.5 -e 1 --batch 16 --devices cpu,cpu --data %s --out %s --force", data,
             two);
    rc = train(flags, log);
    msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 3 && msg && strstr(msg, "out of device memory") && strstr(msg, "8 images per replica (2 on this"),
             "-s 4096 on cpu,cpu: exit 3, 8 images per replica, 2 replicas on the device (got %d)", rc);
    free(msg);
    snprintf(flags, sizeof flags, "%s --devices accelerator --data %s --out %s --force", common, data, two);
    rc = train(flags, log);
    TU_CHECK(rc == 1, "--devices accelerator on a machine without one: exit 1, as an unknown --device (got %d)", rc);

    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
