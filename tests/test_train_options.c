/* test_train_options.c: `clunet train --init MODEL`, `--patience`,
 * `--lr-schedule` and `--val-split 0` through the binary (ref, S=16,
 * c=0.125, a 12-image disc set):
 *   - --init starts from the model's weights: with --lr 1e-12 one epoch
 *     leaves them where they were (within 1e-6; Adam moves each weight by
 *     at most about lr per step), while a run from scratch starts elsewhere;
 *   - the Adam state is fresh: the checkpoint counts only this run's steps;
 *   - the log says so, the model records "init"; the network comes from the
 *     file (no -s/-c needed); a differing -s or --loss is refused with one
 *     line naming the flag; the same value is accepted; --init with
 *     --resume is refused; an unknown model is exit 2;
 *   - --val-split 0 trains without validation: "no validation" on every
 *     epoch line, never "nan", best.safetensors still written;
 *   - --patience 2 on a run whose loss cannot improve (--init with
 *     lr 1e-12: every weight moves by less than its float spacing, so the
 *     validation loss repeats exactly) stops after epoch 3, and
 *     model.safetensors holds the best epoch's weights; a resume of it
 *     says the run is complete;
 *   - plateau halves the lr after 3 such epochs; cosine follows
 *     lr (1 + cos(pi step / steps)) / 2 per step (epoch lines show the lr of
 *     each epoch's first step); the default shows no lr on its epoch lines.
 * argv[1]: the clunet binary. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/safetensors.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;
static char *tmp;

/* Runs clunet --device ref train ARGS (space-separated); output in *log. */
static int train(const char *args, char **log)
{
    char *argv[40], logp[4096], *copy = strdup(args);
    int n = 0;
    argv[n++] = (char *)exe, argv[n++] = "--device", argv[n++] = "ref", argv[n++] = "train";
    for (char *t = strtok(copy, " "); t && n < 38; t = strtok(NULL, " "))
        argv[n++] = t;
    argv[n] = NULL;
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    int rc = tf_run(argv, logp);
    free(copy);
    if (log)
        *log = tf_read(tmp, "log.txt", NULL);
    return rc;
}

/* The largest difference between the same tensors of two files. */
static double max_diff(const char *a, const char *b)
{
    struct cu_st_file *fa = NULL, *fb = NULL;
    struct cu_err err = {0};
    double m = INFINITY;
    if (!cu_st_file_read(a, &fa, &err) && !cu_st_file_read(b, &fb, &err)) {
        m = 0;
        for (int i = 0; i < cu_st_file_count(fa); i++) {
            const struct cu_st_entry *x = cu_st_file_entry(fa, i), *y = cu_st_file_find(fb, x->name);
            if (!y || y->numel != x->numel) {
                m = INFINITY;
                break;
            }
            for (size_t k = 0; k < x->numel; k++)
                m = fmax(m, fabs((double)x->data[k] - y->data[k]));
        }
    }
    cu_st_file_free(fa), cu_st_file_free(fb);
    return m;
}

static const char *meta(const char *path, const char *key, char *buf, size_t len)
{
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    buf[0] = '\0';
    if (!cu_st_file_read(path, &f, &err) && cu_st_file_meta(f, key))
        snprintf(buf, len, "%s", cu_st_file_meta(f, key));
    cu_st_file_free(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_train_finetune CLUNET\n"), 1;
    exe = argv[1];
    tmp = tf_tmpdir("finetune");
    char data[1024], base[1024], a[1024], b[1024], c[8192], p1[2048], p2[2048], buf[4096];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(base, sizeof base, "%s/base", tmp);
    TU_CHECK(tf_make_dataset(data, 12, 24, 24, 5) == 0, "dataset");
    char *log = NULL;
    snprintf(c, sizeof c, "--data %s -s 16 -c 0.125 -e 2 --batch 4 --out %s -q", data, base);
    TU_CHECK(train(c, NULL) == 0, "base run trains");

    /* --init with a vanishing learning rate: the weights stay the model's */
    snprintf(a, sizeof a, "%s/tuned", tmp);
    snprintf(c, sizeof c, "--data %s --init %s -e 1 --batch 4 --lr 1e-12 --out %s", data, base, a);
    int rc = train(c, &log);
    TU_CHECK(rc == 0, "--init RUN_DIR trains (rc %d): %s", rc, log ? log : "");
    snprintf(p1, sizeof p1, "%s/best.safetensors", base);
    snprintf(p2, sizeof p2, "%s/model.safetensors", a);
    double d = max_diff(p1, p2);
    TU_CHECK(d < 1e-6, "after 1 epoch at lr 1e-12 the weights are the --init model's (max diff %.2g)", d);
    TU_CHECK(log && strstr(log, "initial weights: ") && strstr(log, "best.safetensors") && strstr(log, "-s 16, -c 0.125"),
             "the log names the initial weights and the network taken from the file");
    TU_CHECK(strstr(meta(p2, "init", buf, sizeof buf), "base/best.safetensors") != NULL, "the model records init: %s",
             buf);
    snprintf(p2, sizeof p2, "%s/checkpoint.safetensors", a);
    TU_CHECK(!strcmp(meta(p2, "state.step", buf, sizeof buf), "3"),
             "Adam starts afresh: the checkpoint counts this run's 3 steps, not the base run's 6 (%s)", buf);
    free(log), log = NULL;
    /* from scratch, the same lr: the weights are He's, far from the model's */
    snprintf(b, sizeof b, "%s/scratch", tmp);
    snprintf(c, sizeof c, "--data %s -s 16 -c 0.125 -e 1 --batch 4 --lr 1e-12 --seed 3 --out %s -q", data, b);
    TU_CHECK(train(c, NULL) == 0, "scratch run");
    snprintf(p2, sizeof p2, "%s/model.safetensors", b);
    d = max_diff(p1, p2);
    TU_CHECK(d > 1e-2, "without --init the weights differ from the model's (max diff %.2g)", d);

    /* conflicts */
    snprintf(c, sizeof c, "--data %s --init %s -s 32 --out %s/x", data, base, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 1 && log && tu_count_lines(log) == 1 && strstr(log, "-s 32 conflicts with --init") &&
                 strstr(log, "-s 16"),
             "a differing -s is refused (rc %d): %s", rc, log ? log : "");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--data %s --init %s --loss dice --out %s/x", data, base, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 1 && log && strstr(log, "--loss dice conflicts"), "a differing --loss is refused: %s",
             log ? log : "");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--data %s --init %s -s 16 -c 0.125 -e 1 --batch 4 --out %s/same -q", data, base, tmp);
    TU_CHECK(train(c, NULL) == 0, "the same -s and -c as the file are accepted");
    snprintf(c, sizeof c, "--resume %s --init %s", base, base);
    rc = train(c, &log);
    TU_CHECK(rc == 1 && log && strstr(log, "--init cannot change a resumed run"), "--init with --resume refused: %s",
             log ? log : "");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--data %s --init no-such-model --out %s/y", data, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 2 && log && tu_count_lines(log) == 1 && strstr(log, "no-such-model"),
             "an unknown --init model: exit 2, one line (rc %d): %s", rc, log ? log : "");
    free(log), log = NULL;

    /* --val-split 0 */
    snprintf(c, sizeof c, "--data %s -s 16 -c 0.125 -e 2 --batch 4 --val-split 0 --out %s/noval", data, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 0 && log, "--val-split 0 trains (rc %d)", rc);
    if (log) {
        int epochs = 0;
        for (char *l = strstr(log, "epoch "); l; l = strstr(l + 1, "\nepoch "))
            epochs += strstr(l, "no validation") != NULL;
        TU_CHECK(epochs >= 2 && strstr(log, "no validation (--val-split 0") && !strstr(log, "nan"),
                 "every epoch line says no validation, none says nan:\n%s", log);
    }
    snprintf(p1, sizeof p1, "%s/noval", tmp);
    TU_CHECK(tf_exists(p1, "best.safetensors"), "best.safetensors written (by the training loss)");
    free(log), log = NULL;

    /* --patience: a loss that cannot improve */
    snprintf(a, sizeof a, "%s/patient", tmp);
    snprintf(c, sizeof c, "--data %s --init %s -e 10 --batch 4 --lr 1e-12 --patience 2 --out %s", data, base, a);
    rc = train(c, &log);
    TU_CHECK(rc == 0 && log && strstr(log, "early stop after epoch 3: no lower validation loss for 2 epochs") &&
                 !strstr(log, "epoch 4/"),
             "--patience 2 stops after epoch 3 (rc %d):\n%s", rc, log ? log : "");
    snprintf(p1, sizeof p1, "%s/best.safetensors", a);
    snprintf(p2, sizeof p2, "%s/model.safetensors", a);
    TU_CHECK(tf_same_tensors(p1, p2), "model.safetensors holds the best epoch's weights");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--resume %s", a);
    rc = train(c, &log);
    TU_CHECK(rc == 1 && log && strstr(log, "the run has trained 3 epochs"), "a resume says the run is complete: %s",
             log ? log : "");
    free(log), log = NULL;

    /* --lr-schedule plateau on the same flat loss: halved after epochs 2-4 */
    snprintf(c, sizeof c, "--data %s --init %s -e 5 --batch 4 --lr 1e-12 --lr-schedule plateau --out %s/plateau", data,
             base, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 0 && log && strstr(log, "lr 1e-12 (plateau: 5e-13 from the next epoch)") &&
                 strstr(log, "epoch 5/5") && strstr(strstr(log, "epoch 5/5"), "lr 5e-13"),
             "plateau halves the lr after 3 epochs without improvement:\n%s", log ? log : "");
    free(log), log = NULL;
    /* cosine: 9 training images, batch 4: 3 steps an epoch, 9 in all */
    snprintf(c, sizeof c, "--data %s -s 16 -c 0.125 -e 3 --batch 4 --lr-schedule cosine --out %s/cosine", data, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 0 && log && strstr(log, "--lr-schedule cosine") && strstr(log, "lr 0.001\n") &&
                 strstr(log, "lr 0.00075\n") && strstr(log, "lr 0.00025\n"),
             "cosine: epochs start at lr 0.001, 0.00075, 0.00025 (steps 0, 3, 6 of 9):\n%s", log ? log : "");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--data %s -s 16 -c 0.125 -e 1 --batch 4 --out %s/default", data, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 0 && log && !strstr(log, "--lr-schedule") && !strstr(log, "--patience") && !strstr(log, "  lr "),
             "the default run prints train.log's line of before and no lr on its epoch lines");
    free(log), log = NULL;
    snprintf(c, sizeof c, "--data %s --lr-schedule linear --out %s/bad", data, tmp);
    rc = train(c, &log);
    TU_CHECK(rc == 1 && log && strstr(log, "expected constant, cosine or plateau"), "an unknown schedule: usage");
    free(log);
    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
