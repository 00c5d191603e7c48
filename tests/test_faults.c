/* test_faults.c: fault injection on the clunet binary (argv[1]), ref
 * backend, tiny runs (S=16, c=0.5: a 23.5 MB checkpoint, so that a write
 * lasts long enough to be caught):
 *   - SIGKILL at three points: mid-epoch (a seeded random delay), while
 *     checkpoint.safetensors is being written, while best.safetensors is
 *     being written; then --resume runs to one more epoch. After the kill
 *     every complete file of the run folder must load; after the resume
 *     the history has each epoch once and no temporary file is left.
 *   - the run folder becomes read-only during training (the child runs as
 *     nobody when the test is root, since root ignores modes): exit 4,
 *     one line naming the file, the checkpoint intact and loadable.
 *   - a full disk during the checkpoint write and during predict (the
 *     child's RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG):
 *     exit 4, the previous checkpoint byte-identical, nothing half-written.
 *   - a batch too large for the device (ref, and the OpenCL CPU device):
 *     exit 3, nothing written.
 *   - a NaN injected into a weight of the checkpoint, then --resume:
 *     exit 2 with a message naming the tensor; a --lr so large that the
 *     loss turns NaN: exit 2 naming NaN; both keep the checkpoint and
 *     the best model.
 * Each failure's message line is printed as "bad-input: CODE | WHAT | LINE"
 * for tools/bad_input_table.py. Usage: test_faults CLUNET */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clunet/model_file.h"
#include "testutil.h"
#include "train_fixture.h"

#define FLAGS "-s", "16", "-c", "0.5", "--batch", "4", "--seed", "3"

static const char *exe;
static char data[1000], logp[1100];

struct limits {
    uid_t uid;         /* run as this user when not 0 (the test is root) */
    long long fsize;   /* RLIMIT_FSIZE in bytes when > 0 */
};

static int out_pipe = -1; /* read end of a limited child's output */

/* Starts argv with output to logp; under a file size limit the output goes
 * through a pipe instead (the limit would cut the log file too) and
 * run_lim copies it to logp. */
static int spawn(char *const argv[], const struct limits *lim)
{
    int p[2] = {-1, -1};
    if (lim && lim->fsize > 0 && pipe(p) != 0)
        p[0] = p[1] = -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) {
        if (p[1] >= 0)
            close(p[1]);
        out_pipe = p[0];
        return (int)pid;
    }
    int fd = p[1] >= 0 ? p[1] : open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (p[0] >= 0)
        close(p[0]);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if (lim && lim->fsize > 0) {
        struct rlimit rl = {(rlim_t)lim->fsize, (rlim_t)lim->fsize};
        signal(SIGXFSZ, SIG_IGN); /* kept across exec: writes fail with EFBIG */
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (lim && lim->uid && (setgid(lim->uid) != 0 || setuid(lim->uid) != 0))
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

static int run_lim(char *const argv[], const struct limits *lim)
{
    int rc = tf_wait(spawn(argv, lim)); /* one error line: fits the pipe's buffer */
    if (out_pipe >= 0) {
        FILE *f = fopen(logp, "w");
        char buf[4096];
        ssize_t n;
        while ((n = read(out_pipe, buf, sizeof buf)) > 0)
            if (f)
                fwrite(buf, 1, (size_t)n, f);
        if (f)
            fclose(f);
        close(out_pipe);
        out_pipe = -1;
    }
    return rc;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* First line of the last command's output (its error line), malloc'd. */
static char *last_line(void)
{
    FILE *f = fopen(logp, "r");
    char buf[2048], last[2048] = "";
    while (f && fgets(buf, sizeof buf, f))
        if (strncmp(buf, "clunet:", 7) == 0)
            snprintf(last, sizeof last, "%s", buf);
    if (f)
        fclose(f);
    last[strcspn(last, "\n")] = 0;
    return strdup(last);
}

/* The table line for docs/BAD_INPUT.md; the temp folder becomes <tmp>. */
static void table_line(int code, const char *what, const char *line, const char *tmp)
{
    char out[2048];
    size_t o = 0, tl = strlen(tmp);
    for (const char *p = line; *p && o + 6 < sizeof out;) {
        if (!strncmp(p, tmp, tl)) {
            o += (size_t)snprintf(out + o, sizeof out - o, "<tmp>");
            p += tl;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    printf("bad-input: %d | %s | %s\n", code, what, out);
}

/* Every complete model file of dir reads and describes a model. */
static int models_ok(const char *dir, char *why, size_t n)
{
    static const char *const names[] = {"checkpoint.safetensors", "best.safetensors", "model.safetensors"};
    for (size_t i = 0; i < 3; i++) {
        if (!tf_exists(dir, names[i]))
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct cu_st_file *f = NULL;
        struct cu_err err = {0};
        struct cu_unet_config cfg;
        enum cu_status st = cu_st_file_read(p, &f, &err);
        if (!st)
            st = cu_model_config(f, &cfg, &err);
        cu_st_file_free(f);
        if (st) {
            snprintf(why, n, "%s", err.msg);
            return 0;
        }
    }
    return 1;
}

/* history.csv: the header, then epochs 1..k in order, 7 fields each;
 * returns k, or -1 when it is malformed. */
static int history_epochs(const char *dir)
{
    char *h = tf_read(dir, "history.csv", NULL);
    if (!h)
        return 0;
    int k = 0, bad = strncmp(h, "epoch,", 6) != 0;
    for (char *p = strchr(h, '\n'); !bad && p && p[1]; p = strchr(p + 1, '\n')) {
        int commas = 0;
        for (char *q = p + 1; *q && *q != '\n'; q++)
            commas += *q == ',';
        bad = atoi(p + 1) != ++k || commas != 6;
    }
    free(h);
    return bad ? -1 : k;
}

/* The epoch the checkpoint of dir holds (its state.epoch), or -1. */
static int ckpt_epoch(const char *dir)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/checkpoint.safetensors", dir);
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (cu_st_file_read(p, &f, &err))
        return -1;
    const char *v = cu_st_file_meta(f, "state.epoch");
    int e = v ? atoi(v) : -1;
    cu_st_file_free(f);
    return e;
}

/* Polls dir (about every 0.2 ms) until a temp file of prefix appears;
 * 1 when it did within timeout_s. */
static int wait_tmp(const char *dir, const char *prefix, int pid, double timeout_s)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (tu_count_names(dir, prefix, ".tmp."))
            return 1;
        if (waitpid(pid, NULL, WNOHANG) != 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > timeout_s)
            return 0;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* ---- SIGKILL then --resume ---- */

enum kill_point { KILL_MID_EPOCH, KILL_IN_CHECKPOINT, KILL_IN_BEST };
static const char *const point_name[] = {"mid-epoch", "during the checkpoint write", "during the best-model write"};

static void kill_and_resume(const char *tmp, enum kill_point kp, uint64_t *rng)
{
    char run[1100], why[1024] = "";
    int caught = 0, rc = 0;
    for (int attempt = 0; attempt < 5 && !caught; attempt++) {
        snprintf(run, sizeof run, "%s/kill%d_%d", tmp, (int)kp, attempt);
        char *argv[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1000", "--data", data,
                        "--out", run, "-q", NULL};
        int pid = spawn(argv, NULL);
        int ready = tu_wait_file(run, "checkpoint.safetensors", pid, 60);
        if (kp == KILL_MID_EPOCH) {
            nap_ms(50 + (long)(tu_rand_u64(rng) % 400));
            caught = ready;
        } else {
            caught = ready && wait_tmp(run, kp == KILL_IN_CHECKPOINT ? "checkpoint." : "best.", pid, 30);
        }
        kill(pid, SIGKILL);
        rc = tf_wait(pid);
        if (kp != KILL_MID_EPOCH) /* still there after the kill: it died mid-write */
            caught = caught && tu_count_names(run, kp == KILL_IN_CHECKPOINT ? "checkpoint." : "best.", ".tmp.");
        printf("kill %s, attempt %d: %s\n", point_name[kp], attempt + 1, caught ? "caught" : "missed");
    }
    TU_CHECK(caught && rc == 128 + SIGKILL, "SIGKILL %s: killed there (exit %d)", point_name[kp], rc);
    int ok = models_ok(run, why, sizeof why);
    int hist = history_epochs(run), before = ckpt_epoch(run);
    TU_CHECK(ok && before >= 1 && hist >= 0,
             "after SIGKILL %s: every model file loads (checkpoint of epoch %d), history.csv has %d whole epochs%s%s",
             point_name[kp], before, hist, ok ? "" : ": ", why);
    char ep[16];
    snprintf(ep, sizeof ep, "%d", before + 1);
    char *argv[] = {(char *)exe, "--device", "ref", "train", "--resume", run, "-e", ep, "-q", NULL};
    rc = run_lim(argv, NULL);
    int after = history_epochs(run);
    ok = models_ok(run, why, sizeof why);
    TU_CHECK(rc == 0 && after == before + 1 && tf_exists(run, "model.safetensors") && ok,
             "SIGKILL %s: --resume -e %s finishes (exit %d), history epochs 1..%d once each%s%s", point_name[kp], ep,
             rc, after, ok ? "" : ", ", why);
    TU_CHECK(tu_count_names(run, "", ".tmp.") == 0, "SIGKILL %s: no temporary file left in the run folder after --resume (%d)",
             point_name[kp], tu_count_names(run, "", ".tmp."));
}

/* ---- the run folder turns read-only ---- */

static void read_only_folder(const char *tmp)
{
    char parent[1100], run[1200];
    struct limits lim = {0, 0};
    snprintf(parent, sizeof parent, "%s/ro", tmp);
    mkdir(parent, 0755);
    if (geteuid() == 0) { /* root writes anywhere: run the child as nobody */
        struct passwd *pw = getpwnam("nobody");
        lim.uid = pw ? pw->pw_uid : 65534;
        TU_CHECK(chown(parent, lim.uid, lim.uid) == 0, "read-only test: folder handed to uid %d", (int)lim.uid);
        chmod(tmp, 0755);
    }
    snprintf(run, sizeof run, "%s/run", parent);
    char *argv[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1000", "--data", data, "--out", run,
                    "-q", NULL};
    int pid = spawn(argv, &lim);
    int ready = tu_wait_file(run, "checkpoint.safetensors", pid, 60);
    chmod(run, 0555);
    long n1 = 0, n2 = 0;
    char *before = tf_read(run, "checkpoint.safetensors", &n1);
    int rc = 0;
    for (int i = 0; i < 600 && waitpid(pid, &rc, WNOHANG) == 0; i++)
        nap_ms(100);
    if (waitpid(pid, &rc, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &rc, 0);
    }
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
    char *after = tf_read(run, "checkpoint.safetensors", &n2);
    char *line = last_line(), why[1024] = "";
    TU_CHECK(ready && rc == 4 && strstr(line, run) && strstr(line, "Permission denied"),
             "run folder made read-only while training: exit %d, \"%s\"", rc, line);
    TU_CHECK(before && after && n1 == n2 && !memcmp(before, after, (size_t)n1) && models_ok(run, why, sizeof why),
             "read-only run folder: the checkpoint is intact and loads%s", why);
    table_line(rc, "the output folder becomes read-only", line, tmp);
    /* A temp file written before the folder turned read-only cannot be
     * removed then; the next --resume removes it. */
    chmod(run, 0755);
    int done = ckpt_epoch(run);
    char ep[16];
    snprintf(ep, sizeof ep, "%d", done + 1);
    char *a2[] = {(char *)exe, "--device", "ref", "train", "--resume", run, "-e", ep, "-q", NULL};
    rc = run_lim(a2, &lim);
    TU_CHECK(rc == 0 && history_epochs(run) == done + 1 && tu_count_names(run, "", ".tmp.") == 0,
             "read-only run folder, writable again: --resume -e %s finishes (exit %d), no temporary file left", ep,
             rc);
    free(before);
    free(after);
    free(line);
}

/* ---- a full disk (RLIMIT_FSIZE) ---- */

static void full_disk(const char *tmp)
{
    char run[1100], why[1024] = "";
    snprintf(run, sizeof run, "%s/full", tmp);
    char *a1[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1", "--data", data, "--out", run, "-q", NULL};
    TU_CHECK(run_lim(a1, NULL) == 0, "full disk: 1 epoch written first");
    long n1 = 0, n2 = 0;
    char *before = tf_read(run, "checkpoint.safetensors", &n1);
    /* Room for the model files (a third of the checkpoint), not for the
     * checkpoint. */
    struct limits lim = {0, n1 / 2};
    char *a2[] = {(char *)exe, "--device", "ref", "train", "--resume", run, "-e", "2", "-q", NULL};
    int rc = run_lim(a2, &lim);
    char *after = tf_read(run, "checkpoint.safetensors", &n2);
    char *line = last_line();
    TU_CHECK(rc == 4 && strstr(line, "checkpoint.safetensors: "),
             "disk full during the checkpoint write: exit %d, \"%s\"", rc, line);
    TU_CHECK(before && after && n1 == n2 && !memcmp(before, after, (size_t)n1) && models_ok(run, why, sizeof why),
             "disk full: the previous checkpoint is byte-identical and loads%s", why);
    TU_CHECK(tu_count_names(run, "", ".tmp.") == 0, "disk full during the checkpoint: no temporary file (%d)", tu_count_names(run, "", ".tmp."));
    table_line(rc, "the disk fills up while writing a checkpoint", line, tmp);
    free(line);
    free(before);
    free(after);
    TU_CHECK(run_lim(a2, NULL) == 0 && history_epochs(run) == 2, "disk full: --resume works once there is room");

    /* predict: a 20-byte limit leaves no room for a mask PNG. */
    char model[1200], image[1200], out[1200];
    snprintf(model, sizeof model, "%s/model.safetensors", run);
    snprintf(image, sizeof image, "%s/img000/images/img000.png", data);
    snprintf(out, sizeof out, "%s/pred", tmp);
    struct limits tiny = {0, 20};
    char *ap[] = {(char *)exe, "predict", model, image, "--out", out, "--device", "ref", "-q", NULL};
    rc = run_lim(ap, &tiny);
    line = last_line();
    TU_CHECK(rc == 4 && strstr(line, "img000.png") && !tf_exists(out, "img000.png") && tu_count_names(out, "", ".tmp.") == 0,
             "disk full during predict: exit %d, no mask and no temporary file, \"%s\"", rc, line);
    table_line(rc, "the disk fills up while predict writes a mask", line, tmp);
    free(line);
}

/* ---- a batch the device cannot hold ---- */

static void too_big(const char *tmp)
{
    char run[1100];
    snprintf(run, sizeof run, "%s/big", tmp);
    char *argv[] = {(char *)exe, "--device", "ref", "train", "-s", "2048", "-c", "1", "--batch", "65536", "-e", "1",
                    "--data", data, "--out", run, "-q", NULL};
    int rc = run_lim(argv, NULL);
    char *line = last_line();
    TU_CHECK(rc == 3 && strstr(line, "out of device memory") && access(run, F_OK) != 0,
             "batch too large for the device: exit %d, nothing written, \"%s\"", rc, line);
    table_line(rc, "a batch too large for the device", line, tmp);
    free(line);
    /* The same on the OpenCL CPU device (PoCL in CI). */
    snprintf(run, sizeof run, "%s/big_cl", tmp);
    argv[2] = "cpu";
    rc = run_lim(argv, NULL);
    line = last_line();
    TU_CHECK(rc == 3 && strstr(line, "out of device memory") && access(run, F_OK) != 0,
             "batch too large for the OpenCL CPU device: exit %d, nothing written, \"%s\"", rc, line);
    table_line(rc, "a batch too large for the device (OpenCL)", line, tmp);
    free(line);
}

/* ---- a NaN in the weights ---- */

/* Writes a NaN over the first float of tensor name in the file at path. */
static int inject_nan(const char *path, const char *name)
{
    FILE *f = fopen(path, "r+b");
    unsigned char len8[8];
    if (!f || fread(len8, 1, 8, f) != 8)
        return f ? fclose(f), -1 : -1;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | len8[i];
    char *hdr = malloc(n + 1);
    int bad = !hdr || fread(hdr, 1, n, f) != n;
    json_t *root = NULL;
    if (!bad) {
        hdr[n] = 0;
        root = json_loads(hdr, 0, NULL);
    }
    json_t *off = json_array_get(json_object_get(json_object_get(root, name), "data_offsets"), 0);
    bad = bad || !json_is_integer(off);
    const unsigned char nan_le[4] = {0x00, 0x00, 0xc0, 0x7f};
    if (!bad)
        bad = fseek(f, (long)(8 + n + (uint64_t)json_integer_value(off)), SEEK_SET) != 0 ||
              fwrite(nan_le, 1, 4, f) != 4;
    json_decref(root);
    free(hdr);
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

/* in_file: a NaN written into a weight of the checkpoint (refused on load,
 * naming the tensor); else a --lr so large that the loss turns NaN. */
static void nan_weights(const char *tmp, int in_file)
{
    char run[1100], ck[1200];
    snprintf(run, sizeof run, "%s/nan%d", tmp, in_file);
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", run);
    char *a1[] = {(char *)exe, "--device", "ref", "train", FLAGS, "-e", "1", "--data", data, "--out", run, "-q", NULL};
    TU_CHECK(run_lim(a1, NULL) == 0, "NaN weights: 1 epoch written first");
    if (in_file)
        TU_CHECK(inject_nan(ck, "enc1.conv1.weight") == 0, "NaN written into enc1.conv1.weight of the checkpoint");
    long n1 = 0, n2 = 0, b1 = 0, b2 = 0, m1 = 0, m2 = 0;
    char *before = tf_read(run, "checkpoint.safetensors", &n1), *best1 = tf_read(run, "best.safetensors", &b1);
    char *model1 = tf_read(run, "model.safetensors", &m1);
    char *a2[] = {(char *)exe, "--device", "ref", "train", "--resume", run, "-e", "2", "-q", NULL, NULL, NULL};
    if (!in_file)
        a2[9] = "--lr", a2[10] = "1e38";
    int rc = run_lim(a2, NULL);
    char *after = tf_read(run, "checkpoint.safetensors", &n2), *best2 = tf_read(run, "best.safetensors", &b2);
    char *model2 = tf_read(run, "model.safetensors", &m2);
    char *line = last_line();
    TU_CHECK(rc == 2 && strstr(line, "NaN") && strstr(line, in_file ? "tensor enc1.conv1.weight" : "stopped"),
             "NaN %s: exit %d, \"%s\"", in_file ? "in the weights" : "loss", rc, line);
    TU_CHECK(before && after && n1 == n2 && !memcmp(before, after, (size_t)n1) && best1 && best2 && b1 == b2 &&
                 !memcmp(best1, best2, (size_t)b1) && model1 && model2 && m1 == m2 && !memcmp(model1, model2, (size_t)m1) &&
                 tu_count_names(run, "", ".tmp.") == 0,
             "NaN in the weights: checkpoint, best and epoch-1 model byte-identical, no temporary file");
    table_line(rc, in_file ? "a NaN (or infinite value) in the weights of a model or checkpoint" : "a NaN/infinite loss",
               line, tmp);
    free(line);
    free(before);
    free(after);
    free(best1);
    free(best2);
    free(model1);
    free(model2);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_faults CLUNET\n"), 1;
    exe = argv[1];
    char *tmp = tf_tmpdir("faults");
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    TU_CHECK(tf_make_dataset(data, 8, 24, 20, 21) == 0, "tiny dataset written");
    uint64_t rng = (uint64_t)time(NULL) | 1;
    printf("mid-epoch kill seed %llu\n", (unsigned long long)rng);
    kill_and_resume(tmp, KILL_MID_EPOCH, &rng);
    kill_and_resume(tmp, KILL_IN_CHECKPOINT, &rng);
    kill_and_resume(tmp, KILL_IN_BEST, &rng);
    read_only_folder(tmp);
    full_disk(tmp);
    too_big(tmp);
    nan_weights(tmp, 1);
    nan_weights(tmp, 0);
    tf_rmtree(tmp);
    free(tmp);
    return tu_finish();
}
