/* test_train_mpi.c: `mpirun -n 2 clunet train` against one process, on the
 * ref backend and a tiny synthetic set (`clunet synth`, 30 images of
 * 32x32; -s 32 -c 0.25, --val-split 0.2: 24 training images, global batch
 * 8, so one epoch is 3 steps):
 *  - 2 ranks x 4 images per step give the weights of 1 rank x 8 after
 *    3 steps (model.safetensors, within TOL), and so do 3 ranks with
 *    slices of 2, 3 and 3 images (each rank's share weighted);
 *  - --resume of the 2-rank run with 1 process, and of the 1-process run
 *    with 2 ranks, up to 2 epochs: the weights of an uninterrupted 2-epoch
 *    run of one process (within TOL), and a 1-process resume gives them
 *    bit for bit; the resumes name no device, so they run on the run's
 *    (ref, from the checkpoint that rank 0 reads and broadcasts): a 2-rank
 *    resume without --device equals one with --device ref bit for bit
 *    (a rank on any other device would round differently);
 *  - a bad image that only rank 1 reads (its shard): every rank exits 2,
 *    one "clunet:" error line naming the file, no hang (60 s limit);
 *  - a run folder rank 0 cannot create: every rank exits 4, one line.
 * argv[1]: clunet, argv[2]: mpirun, argv[3]: "train" or "failures" for
 * one half (two meson tests that may run in parallel), else both. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/safetensors.h"
#include "testutil.h"
#include "train_fixture.h"

/* Tolerance on weights, absolute. The two runs sum the same per-image
 * gradients in another order (each rank's slice first, then across ranks),
 * so they differ by float rounding, ~1e-7 relative per gradient. Adam
 * divides by sqrt(v): a gradient component near zero can turn that into a
 * visible step difference, bounded by the step size lr = 1e-3 per step;
 * 6 steps bound the worst single weight by 6e-3, and rounding alone moves
 * weights by ~1e-7 (measured: max 6e-8 after 6 steps). 1e-5 leaves room
 * for a few near-zero components while any real error (a slice missed, a
 * double count, a wrong mean: changes of order lr = 1e-3 per step in most
 * weights) fails it; the mean difference is held to 1e-7 as well. */
#define TOL_MAX 1e-5
#define TOL_MEAN 1e-7
/* A resume names no device: it takes the run's (state.device_spec). Were
 * it the default device (an OpenCL one where there is one), its float sums
 * would differ from ref's by rounding: 2e-5 in one weight after 3 steps,
 * which an earlier version of this test mistook for an inexact resume. */

static const char *clunet, *mpirun;
static char tmp[1024], data[1100], logp[1100];

#define TRAIN_FLAGS "-s", "32", "-c", "0.25", "--batch", "8", "--val-split", "0.2", "--device", "ref", "--seed", "3"

static int run_mpi(int np, char **args)
{
    char n[8];
    snprintf(n, sizeof n, "%d", np);
    char *argv[64] = {"/usr/bin/timeout", "-k", "5", "60", (char *)mpirun, "--oversubscribe", "--allow-run-as-root",
                      "-n", n};
    int k = 9;
    for (int i = 0; args[i] && k < 63; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    return tf_run(argv, logp);
}

static int run_one(char **args)
{
    char *argv[64];
    int k = 0;
    for (int i = 0; args[i] && k < 63; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    return tf_run(argv, logp);
}

static void show_log(void)
{
    char *l = tf_read(tmp, "log.txt", NULL);
    if (l)
        printf("---- log ----\n%s-------------\n", l);
    free(l);
}

/* Max and mean absolute difference of the tensors of two safetensors
 * files; -1 when they cannot be compared. */
static double weight_diff(const char *a, const char *b, double *mean)
{
    struct cu_err err = {0};
    struct cu_st_file *fa = NULL, *fb = NULL;
    double mx = -1, sum = 0;
    size_t n = 0;
    if (cu_st_file_read(a, &fa, &err) || cu_st_file_read(b, &fb, &err) ||
        cu_st_file_count(fa) != cu_st_file_count(fb) || cu_st_file_count(fa) < 1) {
        printf("     cannot compare %s and %s: %s\n", a, b, err.msg);
        goto out;
    }
    mx = 0;
    for (int i = 0; i < cu_st_file_count(fa); i++) {
        const struct cu_st_entry *ea = cu_st_file_entry(fa, i), *eb = cu_st_file_find(fb, ea->name);
        if (!eb || eb->numel != ea->numel) {
            printf("     %s: missing or another size\n", ea->name);
            mx = -1;
            goto out;
        }
        for (size_t k = 0; k < ea->numel; k++) {
            double d = fabs((double)ea->data[k] - (double)eb->data[k]);
            if (!(d <= mx)) /* also catches NaN */
                mx = isnan(d) ? INFINITY : d;
            sum += d;
            n++;
        }
    }
out:
    cu_st_file_free(fa);
    cu_st_file_free(fb);
    *mean = n ? sum / (double)n : INFINITY;
    return mx;
}

static void check_weights_tol(const char *ra, const char *rb, const char *what, double tol_max, double tol_mean)
{
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/model.safetensors", ra);
    snprintf(b, sizeof b, "%s/model.safetensors", rb);
    double mean = 0, mx = weight_diff(a, b, &mean);
    TU_CHECK(mx >= 0 && mx <= tol_max && mean <= tol_mean, "%s: max |dw| %.3g (tol %g), mean %.3g (tol %g)", what, mx,
             tol_max, mean, tol_mean);
}

static void check_weights(const char *ra, const char *rb, const char *what)
{
    check_weights_tol(ra, rb, what, TOL_MAX, TOL_MEAN);
}

static void path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmp, name); }

static void train_runs(void)
{
    char r1[1100], r2[1100], u[1100];
    path(r1, sizeof r1, "one"), path(r2, sizeof r2, "two"), path(u, sizeof u, "uninterrupted");
    char *one[] = {(char *)clunet, "train", "--data", data, "--out", r1, "-e", "1", TRAIN_FLAGS, NULL};
    int rc = run_one(one);
    TU_CHECK(rc == 0, "1 process, 1 epoch (3 steps of 8): exit %d", rc);
    char *two[] = {(char *)clunet, "train", "--data", data, "--out", r2, "-e", "1", TRAIN_FLAGS, NULL};
    rc = run_mpi(2, two);
    if (!TU_CHECK(rc == 0, "mpirun -n 2, 1 epoch (3 steps of 2 x 4): exit %d", rc))
        show_log();
    TU_CHECK(tf_exists(r2, "model.safetensors") && tf_exists(r2, "checkpoint.safetensors") &&
                 tf_exists(r2, "history.csv") && tf_exists(r2, "train.log"),
             "the 2-rank run folder is complete");
    check_weights(r1, r2, "2 ranks x 4 == 1 x 8 after 3 steps");
    /* 3 ranks: slices of 2, 3 and 3 images, so each rank's gradient must
     * be weighted by its share (1/3 each would be wrong) */
    char r3[1100];
    path(r3, sizeof r3, "three");
    char *three[] = {(char *)clunet, "train", "--data", data, "--out", r3, "-e", "1", TRAIN_FLAGS, NULL};
    rc = run_mpi(3, three);
    if (!TU_CHECK(rc == 0, "mpirun -n 3, 1 epoch (3 steps of 2 + 3 + 3): exit %d", rc))
        show_log();
    check_weights(r1, r3, "3 ranks x (2, 3, 3) == 1 x 8 after 3 steps");

    /* The references: one process for 2 epochs, uninterrupted, and one
     * process resumed after epoch 1 (a copy of r1): on ref the same ops on
     * the same inputs, so bit-identical (test_train_resume checks more). */
    char *un[] = {(char *)clunet, "train", "--data", data, "--out", u, "-e", "2", TRAIN_FLAGS, NULL};
    rc = run_one(un);
    TU_CHECK(rc == 0, "1 process, 2 epochs uninterrupted: exit %d", rc);
    char y[1100], cmd[2400];
    path(y, sizeof y, "one-resumed");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", r1, y);
    TU_CHECK(system(cmd) == 0, "copied the 1-process run");
    char *resy[] = {(char *)clunet, "train", "--resume", y, "-e", "2", NULL};
    rc = run_one(resy);
    TU_CHECK(rc == 0, "--resume of the 1-process run with 1 process: exit %d", rc);
    check_weights_tol(u, y, "1 process, resumed == 1 process uninterrupted (bit-identical)", 0, 0);
    /* 2 ranks -> 1 process */
    char *res1[] = {(char *)clunet, "train", "--resume", r2, "-e", "2", NULL};
    rc = run_one(res1);
    if (!TU_CHECK(rc == 0, "--resume of the 2-rank run with 1 process: exit %d", rc))
        show_log();
    check_weights(u, r2, "2 ranks, then 1 process == 1 process for 2 epochs");
    /* 1 process -> 2 ranks; a copy resumed with --device ref named */
    char x[1100];
    path(x, sizeof x, "one-resumed-ref");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", r1, x);
    TU_CHECK(system(cmd) == 0, "copied the 1-process run again");
    char *res2[] = {(char *)clunet, "train", "--resume", r1, "-e", "2", NULL};
    rc = run_mpi(2, res2);
    if (!TU_CHECK(rc == 0, "--resume of the 1-process run with 2 ranks: exit %d", rc))
        show_log();
    check_weights(u, r1, "1 process, then 2 ranks == 1 process for 2 epochs");
    char *log = tf_read(r1, "train.log", NULL);
    TU_CHECK(log && strstr(log, "device: ref (ref backend); from the run (--device ref)"),
             "the 2-rank resume's train.log: the device came from the run");
    free(log);
    char *res3[] = {(char *)clunet, "--device", "ref", "train", "--resume", x, "-e", "2", NULL};
    rc = run_mpi(2, res3);
    TU_CHECK(rc == 0, "the same 2-rank resume with --device ref: exit %d", rc);
    check_weights_tol(x, r1, "2-rank resume: without --device == with --device ref (bit-identical: every rank on ref)",
                      0, 0);
}

/* Error lines ("clunet: ..." up to the end of the line) in the log; they
 * are counted wherever they start, since mpirun may put another rank's
 * output before them on the same line. */
static int error_lines(const char *log, const char *must)
{
    int n = 0;
    for (const char *p = log ? strstr(log, "clunet:") : NULL; p; p = strstr(p + 1, "clunet:")) {
        size_t len = strcspn(p, "\n");
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(len < 2000 ? len : 2000), p);
        TU_CHECK(strstr(line, must) != NULL, "error line names %s: %s", must, line);
        n++;
    }
    return n;
}

/* Each rank's exit code: a shell around clunet prints "rank R exit C". */
static int rank_exits(const char *log, int want)
{
    int ok = 0;
    for (int r = 0; r < 2; r++) {
        char s[64];
        snprintf(s, sizeof s, "rank %d exit %d\n", r, want);
        ok += log && strstr(log, s) != NULL;
    }
    return ok;
}

/* Runs clunet through a shell that prints "rank R exit C" after it. */
#define WRAP "\"$0\" \"$@\"; rc=$?; echo \"rank $OMPI_COMM_WORLD_RANK exit $rc\"; exit $rc"

/* A 2-rank run that must fail with `code` and one error line naming
 * `must`, twice if both_modes (once is enough for the second case, to
 * keep the test short): as mpirun runs by default (it ends the other ranks once
 * one exits non-zero, and must then exit non-zero itself), and with that
 * off, so that each rank must end by itself (a rank left waiting shows as
 * the 60 s timeout) and every rank's own exit code is seen. */
static void fail_case(char **args, int code, const char *must, const char *what, int both_modes)
{
    int rc;
    char *log;
    if (both_modes) {
        rc = run_mpi(2, args);
        log = tf_read(tmp, "log.txt", NULL);
        TU_CHECK(rc != 0 && rc != 124 && rc != 137, "%s: mpirun exits %d (not 0, not a timeout)", what, rc);
        TU_CHECK(error_lines(log, must) == 1, "%s: exactly one error line", what);
        free(log);
    }
    setenv("OMPI_MCA_orte_abort_on_non_zero_status", "0", 1);
    rc = run_mpi(2, args);
    unsetenv("OMPI_MCA_orte_abort_on_non_zero_status");
    log = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc != 124 && rc != 137, "%s: no rank hangs (mpirun exit %d)", what, rc);
    if (!TU_CHECK(rank_exits(log, code) == 2, "%s: both ranks exit %d by themselves", what, code))
        show_log();
    TU_CHECK(error_lines(log, must) == 1, "%s: exactly one error line", what);
    free(log);
}

static void failure_runs(void)
{
    /* Sample 1 in sorted order belongs to rank 1's shard (1 % 2). */
    char bad[1100], cmd[4200], spoiled[1700]; /* bad, two ids and the rest */
    path(bad, sizeof bad, "bad");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", data, bad);
    TU_CHECK(system(cmd) == 0, "copied the data");
    snprintf(cmd, sizeof cmd, "ls '%s/stage1_train' | sort | sed -n 2p", bad);
    FILE *p = popen(cmd, "r");
    char id[256] = "";
    if (p && fgets(id, sizeof id, p))
        id[strcspn(id, "\n")] = '\0';
    if (p)
        pclose(p);
    snprintf(spoiled, sizeof spoiled, "%s/stage1_train/%s/images/%s.png", bad, id, id);
    FILE *f = fopen(spoiled, "wb");
    TU_CHECK(id[0] && f && fputs("not a png", f) >= 0 && fclose(f) == 0, "spoiled %s", spoiled);

    char out[1100];
    path(out, sizeof out, "badrun");
    char *a[] = {"/bin/sh", "-c", (char *)WRAP, (char *)clunet, "train", "--data", bad, "--out", out, "-e", "1",
                 TRAIN_FLAGS, NULL};
    fail_case(a, 2, id, "bad image read by rank 1 only", 1);
    /* rank 0 alone writes the run folder; it cannot be made here */
    char *b[] = {"/bin/sh", "-c", (char *)WRAP, (char *)clunet, "train", "--data", data, "--out",
                 "/proc/clunet-no/run", "-e", "1", TRAIN_FLAGS, NULL};
    fail_case(b, 4, "/proc/clunet-no", "run folder rank 0 cannot make", 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_train_mpi CLUNET MPIRUN\n");
        return 1;
    }
    clunet = argv[1], mpirun = argv[2];
    unsetenv("CLUNET_DEVICE"); /* the resumes take the run's device, not the environment's */
    char *t = tf_tmpdir("mpi");
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    char *synth[] = {(char *)clunet, "synth", "--out", data, "--count", "30", "--size", "32x32", "--quiet", NULL};
    TU_CHECK(run_one(synth) == 0, "clunet synth: 30 images of 32x32");
    const char *part = argc > 3 ? argv[3] : "all";
    if (strcmp(part, "failures"))
        train_runs();
    if (strcmp(part, "train"))
        failure_runs();
    int rc = tu_finish();
    if (rc == 0)
        tf_rmtree(tmp);
    return rc;
}
