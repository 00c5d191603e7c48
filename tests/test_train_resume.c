/* test_train_resume.c: exact resume and safe stops of `clunet train` on the
 * ref backend (tiny set: 10 images, S=16, c=0.125, batch 4 with augment, so
 * each epoch is 3 batches, the last one partial):
 *  - 2 epochs == 1 epoch, stop, --resume up to 2: model and checkpoint
 *    tensors (weights and Adam moments) bit-identical, same losses;
 *  - the same with a stop after batch 1 of epoch 2 (mid-epoch checkpoint,
 *    saved RNG state), through the library's stop_after_batches;
 *  - the same with --val-split 0 and one step per epoch (batch 10);
 *  - a resume given no device (no --device, --devices, CLUNET_DEVICE)
 *    takes the run's own (--device ref, saved as state.device_spec) and
 *    its train.log says so; that is how every resume above continues
 *    bit-identically on ref;
 *  - a resume on other devices than the run's (--devices ref,ref) notes
 *    it in train.log, and the next checkpoint records the new choice; a
 *    resume on the run's own (ref) notes nothing;
 *  - a checkpoint without state.device_spec (an older clunet's) resumes
 *    on the default device as before, not "from the run";
 *  - a NaN loss (a real one: --lr 1e30) stops with exit 2, names the epoch
 *    and batch, and leaves the last good checkpoint byte for byte;
 *  - SIGINT during training: exit 130 with a checkpoint, which resumes;
 *  - SIGKILL during training: the last completed epoch's checkpoint resumes.
 * Bit-identical is the right bar on ref: the same ops in the same order on
 * the same inputs give the same floats. argv[1]: the clunet binary. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clunet/safetensors.h"
#include "clunet/train.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;

/* *out = dir/name, malloc'd; 0 on success. */
static int asprintf_like(char **out, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    *out = malloc(n);
    if (!*out)
        return -1;
    snprintf(*out, n, "%s/%s", dir, name);
    return 0;
}
static char data[1000], logp[4096];

#define FLAGS "-s", "16", "-c", "0.125", "--batch", "4", "--augment", "--seed", "7"

static int run(char **argv) { return tf_run(argv, logp); }

static void path_of(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static int same_file_tensors(const char *a, const char *b, const char *name)
{
    char pa[4200], pb[4200];
    path_of(pa, sizeof pa, a, name);
    path_of(pb, sizeof pb, b, name);
    return tf_same_tensors(pa, pb);
}

/* history.csv without the timing columns (seconds, images/s). */
static char *losses(const char *dir)
{
    char *csv = tf_read(dir, "history.csv", NULL);
    if (!csv)
        return NULL;
    char *out = calloc(strlen(csv) + 1, 1);
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        int commas = 0;
        for (char *p = line; *p; p++)
            if (*p == ',' && ++commas == 5)
                *p = '\0';
        strcat(out, line);
        strcat(out, "\n");
    }
    free(csv);
    return out;
}

static void check_same_run(const char *a, const char *b, const char *what)
{
    TU_CHECK(same_file_tensors(a, b, "model.safetensors"), "%s: model.safetensors weights bit-identical", what);
    TU_CHECK(same_file_tensors(a, b, "checkpoint.safetensors"),
             "%s: checkpoint weights and Adam moments bit-identical", what);
    char *la = losses(a), *lb = losses(b);
    TU_CHECK(la && lb && !strcmp(la, lb), "%s: history losses and Dice identical", what);
    if (la && lb && strcmp(la, lb))
        printf("     %s---\n%s", la, lb);
    free(la);
    free(lb);
}

/* The run's train.log from its last "resuming" line on (this resume's
 * lines: the log keeps the run's earlier ones above). */
static char *last_resume_log(const char *dir)
{
    char *log = tf_read(dir, "train.log", NULL), *at = log, *p;
    while (at && (p = strstr(at + 1, "resuming")) != NULL)
        at = p;
    if (at && at != log)
        memmove(log, at, strlen(at) + 1);
    return log;
}

/* The checkpoint's state.device_spec (malloc'd), or NULL without one. */
static char *saved_spec(const char *dir)
{
    char path[4200];
    path_of(path, sizeof path, dir, "checkpoint.safetensors");
    struct cu_err err = {0};
    struct cu_st_file *f = NULL;
    char *out = NULL;
    if (cu_st_file_read(path, &f, &err) == CU_OK && cu_st_file_meta(f, "state.device_spec"))
        out = strdup(cu_st_file_meta(f, "state.device_spec"));
    cu_st_file_free(f);
    return out;
}

/* Makes dir's checkpoint one of an older clunet: its state.device_spec
 * entry is overwritten by blanks (the same header length, valid JSON). */
static int forget_spec(const char *dir)
{
    long n = 0;
    char *b = tf_read(dir, "checkpoint.safetensors", &n), path[4200];
    char *k = b && n > 8 ? strstr(b + 8, "\"state.device_spec\"") : NULL;
    char *v = k ? strchr(k + 19, '"') : NULL;      /* the value's opening quote */
    char *e = v ? strchr(v + 1, '"') : NULL;       /* and its closing one */
    if (!e) {
        free(b);
        return -1;
    }
    if (e[1] == ',')
        e++;
    else /* the last entry: blank the comma before it */
        while (k > b + 8 && *--k != ',')
            ;
    memset(k, ' ', (size_t)(e - k + 1));
    path_of(path, sizeof path, dir, "checkpoint.safetensors");
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(b, 1, (size_t)n, f) != (size_t)n;
    bad |= f && fclose(f) != 0;
    free(b);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_train_resume CLUNET\n"), 1;
    exe = argv[1];
    char *tmp = tf_tmpdir("train-resume");
    char a[4096], b[4096], c[4096], d[4096];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    snprintf(c, sizeof c, "%s/c", tmp);
    snprintf(d, sizeof d, "%s/d", tmp);
    TU_CHECK(tf_make_dataset(data, 10, 24, 20, 11) == 0, "tiny dataset written");
    /* A resume without --device must take the run's device, not one this
     * environment names. */
    unsetenv("CLUNET_DEVICE");

    /* A: 2 epochs straight. B: 1 epoch, then resume to 2. */
    char *ra[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "2", "--data", data, "--out", a, "-q", NULL};
    TU_CHECK(run(ra) == 0, "2 epochs in one go");
    char *rb[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1", "--data", data, "--out", b, "-q", NULL};
    TU_CHECK(run(rb) == 0, "1 epoch");
    char *spec = saved_spec(b);
    TU_CHECK(spec && !strcmp(spec, "--device ref"), "the checkpoint records state.device_spec \"--device ref\" (%s)",
             spec ? spec : "none");
    free(spec);
    char *rb2[] = {(char *)exe, "train", "--resume", b, "-e", "2", "-q", NULL};
    TU_CHECK(run(rb2) == 0, "--resume to 2 epochs, no --device");
    check_same_run(a, b, "2 == 1 + resume 1 with the run's device");
    char *logb = last_resume_log(b);
    TU_CHECK(logb && strstr(logb, "\ndevice: ref (ref backend); from the run (--device ref)\n") &&
                 !strstr(logb, "note: the run trained on"),
             "train.log: the resume's device came from the run, no change of device noted");
    if (logb && !strstr(logb, "from the run"))
        printf("     %s", logb);
    free(logb);
    char *rb3[] = {(char *)exe, "--device", "ref", "train", "--resume", b, "-e", "2", "-q", NULL};
    TU_CHECK(run(rb3) == 1, "--resume of a finished run without a larger -e is a usage error");
    char *rb4[] = {(char *)exe, "--device", "ref", "train", "--resume", b, "-e", "3", "-s", "32", NULL};
    TU_CHECK(run(rb4) == 1, "--resume with -s (a configuration flag) is a usage error");

    /* C: stop after 4 batches (epoch 2, batch 1), resume. */
    struct cu_err err = {0};
    struct cu_train_opts o = tf_lib_opts(data, c, 2);
    o.device = "ref";
    o.stop_after_batches = 4;
    int interrupted = 0;
    tu_ok(clunet_train(&o, &interrupted, &err), &err, "library run stopping after 4 batches");
    TU_CHECK(interrupted == 1 && tf_exists(c, "checkpoint.safetensors") && !tf_exists(c, "model.safetensors"),
             "stopped mid-epoch with a checkpoint and no final model");
    o = tf_lib_opts(data, NULL, 2);
    o.device = "ref";
    o.resume_dir = c;
    o.device = NULL; /* the run's (ref), through the library too */
    tu_ok(clunet_train(&o, &interrupted, &err), &err, "library resume of the mid-epoch checkpoint");
    TU_CHECK(interrupted == 0, "the resumed run finished");
    check_same_run(a, c, "2 == stop at epoch 2 batch 1 + resume");

    /* NaN: a brand-new run with an absurd learning rate. */
    char *rn[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "2", "--lr", "1e30", "--data", data,
                  "--out", d, "-q", NULL};
    int rc = run(rn);
    char *msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 2 && msg && strstr(msg, "NaN") && strstr(msg, "epoch 1") && strstr(msg, "batch"),
             "--lr 1e30: NaN loss, exit 2 naming epoch and batch (got %d: %s)", rc, msg ? msg : "");
    free(msg);
    /* NaN after a good epoch: the checkpoint of B stays as it was. */
    long n1 = 0, n2 = 0;
    char *before = tf_read(b, "checkpoint.safetensors", &n1);
    char *rn2[] = {(char *)exe, "--device", "ref", "train", "--resume", b, "-e", "3", "--lr", "1e30", "-q", NULL};
    rc = run(rn2);
    char *after = tf_read(b, "checkpoint.safetensors", &n2);
    msg = tf_read(tmp, "log.txt", NULL);
    TU_CHECK(rc == 2 && before && after && n1 == n2 && !memcmp(before, after, (size_t)n1) && msg &&
                 strstr(msg, "epoch 3") && strstr(msg, "checkpoint (epoch 2) is kept"),
             "NaN in epoch 3: exit 2, epoch 2's checkpoint kept byte for byte (got %d: %s)", rc, msg ? msg : "");
    free(msg);
    free(before);
    free(after);

    /* A resume on other devices than the run's says so in train.log: it
     * is not bit-identical (here two ref replicas sum the gradient of two
     * slices, another rounding; a resume that leaves out --device may land
     * on an OpenCL device, which once passed for an inexact resume). */
    char *rb5[] = {(char *)exe, "train", "--devices", "ref,ref", "--resume", b, "-e", "3", "-q", NULL};
    rc = run(rb5);
    logb = last_resume_log(b);
    TU_CHECK(rc == 0 && logb && strstr(logb, "note: the run trained on ref, this resume runs on ref, ref") &&
                 !strstr(logb, "from the run"),
             "--resume on --devices ref,ref of a ref run notes the change of devices (exit %d)", rc);
    free(logb);
    spec = saved_spec(b);
    TU_CHECK(spec && !strcmp(spec, "--devices ref,ref"), "then the checkpoint records \"--devices ref,ref\" (%s)",
             spec ? spec : "none");
    free(spec);
    /* An older checkpoint (no state.device_spec): the device is chosen
     * anew, the default one (ref only where there is no OpenCL device). */
    TU_CHECK(forget_spec(b) == 0 && !(spec = saved_spec(b)), "state.device_spec blanked out of the checkpoint");
    free(spec);
    char *rb6[] = {(char *)exe, "train", "--resume", b, "-e", "4", "-q", NULL};
    rc = run(rb6);
    logb = last_resume_log(b);
    int on_ref = logb && strstr(logb, "\ndevice: ref (ref backend)\n");
    TU_CHECK(rc == 0 && logb && !strstr(logb, "from the run") &&
                 (on_ref ? !strstr(logb, "note:") : strstr(logb, "note: the run trained on ref, ref") != NULL),
             "a checkpoint without state.device_spec resumes on the default device (%s), noted (exit %d)",
             on_ref ? "ref" : "OpenCL", rc);
    free(logb);

    /* No validation set and one step per epoch (the whole set in a batch,
     * no augmentation): the path where the training loss picks best, and
     * the output prior only at the start; still bit-identical. */
    char f[4096], g[4096];
    snprintf(f, sizeof f, "%s/f", tmp);
    snprintf(g, sizeof g, "%s/g", tmp);
#define FLAGS_NOVAL "-s", "16", "-c", "0.125", "--batch", "10", "--val-split", "0"
    char *rf[] = {(char *)exe, "--device", "ref", "train", FLAGS_NOVAL, "-e", "2", "--data", data, "--out", f, "-q", NULL};
    char *rg[] = {(char *)exe, "--device", "ref", "train", FLAGS_NOVAL, "-e", "1", "--data", data, "--out", g, "-q", NULL};
    char *rg2[] = {(char *)exe, "train", "--resume", g, "-e", "2", "-q", NULL};
    TU_CHECK(run(rf) == 0 && run(rg) == 0 && run(rg2) == 0, "--val-split 0 --batch 10: 2 epochs, 1 + resume 1");
    check_same_run(f, g, "--val-split 0, 1 step per epoch: 2 == 1 + resume 1");

    /* SIGINT: start a long run, interrupt it once it is training. */
    char e[4096];
    snprintf(e, sizeof e, "%s/e", tmp);
    char *rs[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1000", "--data", data, "--out", e, NULL};
    int pid = tf_spawn(rs, logp);
    /* Wait for the first epoch's checkpoint (the run is training), at most
     * 60 s, then interrupt. */
    for (int i = 0; i < 600 && !tf_exists(e, "checkpoint.safetensors"); i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGINT);
    rc = tf_wait(pid);
    char *tlog = tf_read(e, "train.log", NULL);
    TU_CHECK(rc == 130 && tf_exists(e, "checkpoint.safetensors") && tlog && strstr(tlog, "interrupted"),
             "SIGINT: exit 130, checkpoint written, train.log says interrupted (got %d)", rc);
    free(tlog);
    /* The interrupted run resumes: up to 1 epoch past its checkpoint. */
    char *hist = tf_read(e, "history.csv", NULL);
    int done = 0;
    for (char *p = hist; p && (p = strchr(p, '\n')) && p[1]; p++)
        done++;
    char ep[16];
    snprintf(ep, sizeof ep, "%d", done + 1);
    char *rs2[] = {(char *)exe, "train", "--resume", e, "-e", ep, "-q", NULL};
    rc = run(rs2);
    TU_CHECK(rc == 0 && tf_exists(e, "model.safetensors"), "the interrupted run resumes to epoch %s (got %d)", ep,
             rc);
    free(hist);

    /* SIGKILL mid-run: the last completed epoch's checkpoint resumes. */
    char k[4096];
    snprintf(k, sizeof k, "%s/k", tmp);
    char *rk[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1000", "--data", data, "--out", k, "-q", NULL};
    pid = tf_spawn(rk, logp);
    for (int i = 0; i < 600 && !tf_exists(k, "checkpoint.safetensors"); i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    struct timespec mid = {0, 150000000}; /* into the next epoch */
    nanosleep(&mid, NULL);
    kill(pid, SIGKILL);
    rc = tf_wait(pid);
    hist = tf_read(k, "history.csv", NULL);
    done = 0;
    for (char *p = hist; p && (p = strchr(p, '\n')) && p[1]; p++)
        done++;
    /* + 2: the kill may land between the checkpoint's rename and the
     * history's, so the checkpoint can be one epoch ahead of history.csv. */
    snprintf(ep, sizeof ep, "%d", done + 2);
    char *rk2[] = {(char *)exe, "--device", "ref", "train", "--resume", k, "-e", ep, "-q", NULL};
    int rc2 = run(rk2);
    TU_CHECK(rc == 128 + SIGKILL && rc2 == 0 && tf_exists(k, "model.safetensors"),
             "SIGKILL mid-run (exit %d), then --resume -e %s completes (exit %d)", rc, ep, rc2);
    /* Temporaries a kill left behind (of the checkpoint, of the report and
     * its pictures) are cleaned by the next resume; other files stay. */
    static const char *const stale[] = {".checkpoint.safetensors.tmp.99999", "report.html.tmp.99999.0",
                                        "report/val0.png.tmp.99999.1", "report/notes.txt"};
    char *stale_path[4] = {NULL};
    char *report_dir = NULL;
    if (asprintf_like(&report_dir, k, "report") == 0)
        mkdir(report_dir, 0777);
    for (int i = 0; i < 4; i++)
        if (asprintf_like(&stale_path[i], k, stale[i]) == 0) {
            FILE *sf = fopen(stale_path[i], "w");
            if (sf)
                fclose(sf);
        }
    snprintf(ep, sizeof ep, "%d", done + 3);
    rc2 = run(rk2);
    TU_CHECK(rc2 == 0 && !tf_exists(k, stale[0]) && !tf_exists(k, stale[1]) && !tf_exists(k, stale[2]) &&
                 tf_exists(k, stale[3]),
             "a resume removes the run's stale temporary files (checkpoint, report.html, report/val0.png) and "
             "keeps report/notes.txt (exit %d)", rc2);
    for (int i = 0; i < 4; i++)
        free(stale_path[i]);
    free(report_dir);
    free(hist);

    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
