/* test_stop_and_lock.c: the clunet binary (argv[1], ref backend) stopped
 * by SIGTERM, and two processes on one folder:
 *   - train writes train.log before its first epoch ends (a run killed
 *     early still says what it was); SIGTERM then finishes the batch,
 *     writes the checkpoint and exits 143, and --resume continues;
 *   - predict stopped by SIGTERM while writing leaves no *.tmp.* file;
 *   - a second train --resume (or --out --force) on a run folder that a
 *     training holds, and a second predict into an --out that a predict
 *     holds: exit 1 at once, naming the holder's pid, nothing touched.
 * Refusals print bad-input lines (tools/bad_input_table.py). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bad_input_util.h"
#include "predict_fixture.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;
static char tmp[1000], logp[1100], data[1100];

#define TRAIN "--device", "ref", "train", "-s", "16", "-c", "0.5", "--batch", "2", "--seed", "3", "-q"

static void sigterm_train(void)
{
    char run[1200];
    snprintf(run, sizeof run, "%s/term", tmp);
    char *a[] = {(char *)exe, TRAIN, "-e", "1000", "--data", data, "--out", run, NULL};
    int pid = tf_spawn(a, NULL);
    int log_first = tu_wait_file(run, "train.log", pid, 60) && !tf_exists(run, "checkpoint.safetensors");
    TU_CHECK(log_first, "train.log is written before the first checkpoint (before the first epoch ends)");
    long n = 0;
    char *log = tf_read(run, "train.log", &n);
    TU_CHECK(log && strstr(log, "configuration: ") && strstr(log, "-s 16"), "train.log holds the configuration");
    free(log);
    kill(pid, SIGTERM);
    int rc = tf_wait(pid);
    log = tf_read(run, "train.log", &n);
    TU_CHECK(rc == 143 && tf_exists(run, "checkpoint.safetensors") && log && strstr(log, "interrupted"),
             "SIGTERM: checkpoint written, train.log says interrupted, exit 143 (%d)", rc);
    char said[512] = "";
    if (log && strstr(log, "interrupted"))
        snprintf(said, sizeof said, "%.*s", (int)strcspn(strstr(log, "interrupted"), "\n"), strstr(log, "interrupted"));
    bi_table_line(rc, "SIGTERM during training (SLURM, timeout, docker stop): checkpoint written (train.log)", said);
    free(log);
    char *r[] = {(char *)exe, "--device", "ref", "train", "--resume", run, "-e", "1", "-q", NULL};
    int rr = tf_run(r, NULL);
    TU_CHECK(rr == 0 && tf_exists(run, "model.safetensors") && tu_count_names(run, "", ".tmp.") == 0,
             "the run resumes after SIGTERM and finishes (%d)", rr);
}

static void sigterm_predict(void)
{
    char in[1200], out[1200], model[1200];
    snprintf(in, sizeof in, "%s/big", tmp);
    snprintf(out, sizeof out, "%s/pbig", tmp);
    snprintf(model, sizeof model, "%s/model.safetensors", tmp);
    mkdir(in, 0755);
    for (int i = 0; i < 3; i++) {
        char p[1300];
        snprintf(p, sizeof p, "%s/b%d.png", in, i);
        TU_CHECK(pf_write_rgb8(p, 1200, 1200, (uint64_t)i + 1) == 0, "a 1200x1200 image");
    }
    int caught = 0;
    for (int attempt = 0; attempt < 3 && !caught; attempt++) {
        char *a[] = {(char *)exe, "--device", "ref", "predict", "-q", model, in, "--out", out, "--overlay",
                     "--probabilities", NULL};
        int pid = tf_spawn(a, NULL);
        for (int i = 0; i < 60000 && !caught && waitpid(pid, NULL, WNOHANG) == 0; i++) {
            caught = tu_count_names(out, "", ".tmp.") > 0;
            if (!caught)
                usleep(200);
        }
        kill(pid, SIGTERM);
        int rc = tf_wait(pid);
        printf("predict SIGTERM attempt %d: %s (exit %d)\n", attempt + 1, caught ? "caught mid-write" : "missed", rc);
    }
    TU_CHECK(caught, "predict was stopped while writing an output");
    TU_CHECK(tu_count_names(out, "", ".tmp.") == 0, "predict stopped by SIGTERM leaves no *.tmp.* file (%d)", tu_count_names(out, "", ".tmp."));
}

static void two_writers(void)
{
    char run[1200], model[1200], in[1200], out[1200], pidw[64];
    snprintf(run, sizeof run, "%s/busy", tmp);
    char *a[] = {(char *)exe, TRAIN, "-e", "1000", "--data", data, "--out", run, NULL};
    int pid = tf_spawn(a, NULL);
    TU_CHECK(tu_wait_file(run, "train.log", pid, 60), "a training runs");
    snprintf(pidw, sizeof pidw, "pid %d", pid);
    bi_expect(1, "train --resume of a run folder that another training is writing", pidw,
              (char *[]){"--device", "ref", "train", "--resume", run, "-e", "1000", "-q", NULL});
    bi_expect(1, "train --out --force on a run folder that another training is writing", pidw,
              (char *[]){TRAIN, "-e", "1", "--data", data, "--out", run, "--force", NULL});
    TU_CHECK(tf_exists(run, "train.log"), "the running training's files are untouched");
    kill(pid, SIGTERM);
    int rc = tf_wait(pid);
    TU_CHECK(rc == 143, "the first training stops normally on SIGTERM (%d)", rc);

    snprintf(model, sizeof model, "%s/model.safetensors", tmp);
    snprintf(in, sizeof in, "%s/big", tmp);
    snprintf(out, sizeof out, "%s/pbusy", tmp);
    char *p[] = {(char *)exe, "--device", "ref", "predict", "-q", model, in, "--out", out, NULL};
    pid = tf_spawn(p, NULL);
    int held = tu_wait_file(out, ".lock", pid, 60);
    snprintf(pidw, sizeof pidw, "pid %d", pid);
    TU_CHECK(held, "a predict holds its --out");
    if (held)
        bi_expect(1, "predict into an --out that another predict is writing", pidw,
                  (char *[]){"--device", "ref", "predict", "-q", model, in, "--out", out, NULL});
    rc = tf_wait(pid);
    TU_CHECK(rc == 0 && !tf_exists(out, ".lock"), "the first predict finishes and removes its lock (%d)", rc);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_stop_and_lock CLUNET\n"), 1;
    exe = argv[1];
    char *t = tf_tmpdir("stoplock");
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
    bi_init(exe, tmp, logp);
    char model[1200];
    snprintf(model, sizeof model, "%s/model.safetensors", tmp);
    TU_CHECK(tf_make_dataset(data, 8, 24, 20, 21) == 0, "tiny dataset written");
    TU_CHECK(pf_make_model(model, 16, 0.125, 3) == 0, "a S=16 c=0.125 model");
    sigterm_train();
    sigterm_predict();
    two_writers();
    tf_rmtree(tmp);
    return tu_finish();
}
