/* test_bad_input.c: the clunet binary (argv[1]) on a catalogue of bad
 * inputs: data folders (missing, empty, no masks, files that are not PNGs,
 * truncated, JPEG, huge, masks of the wrong size), checkpoints for
 * --resume (missing, truncated, huge header length, not JSON, an
 * unsupported dtype, offsets past the data, a configuration whose shapes
 * do not fit, not a clunet file), the command line and the output folder.
 * Each case checks the exit code (DESIGN.md section 2) and that stderr is
 * exactly one line "clunet: ..." naming the file, folder or device; then
 * prints "bad-input: CODE | WHAT | LINE" (temp folder shown as <tmp>),
 * which tools/bad_input_table.py collects into docs/BAD_INPUT.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bad_input_util.h"
#include "testutil.h"
#include "train_fixture.h"

static const char *exe;
static char tmp[1000], logp[1100];

static void put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *to)
{
    long n = 0;
    char *d = tf_read("", from, &n); /* tf_read joins with "/": an absolute path reads as "//path" */
    if (d)
        put(to, d, (size_t)n);
    free(d);
}

static void expect(int code, const char *what, const char *must, char **args)
{
    bi_expect(code, what, must, args);
}

#define TRAIN "--device", "ref", "train", "-s", "16", "-c", "0.125", "-e", "1", "--batch", "2", "-q"

/* A DSB-layout dataset under tmp/name whose image 0 (or mask 0) is
 * replaced by data. */
static void bad_dataset(const char *name, int mask, const void *data, size_t n, char *dir, size_t dsize)
{
    snprintf(dir, dsize, "%s/%s", tmp, name);
    tf_make_dataset(dir, 3, 24, 20, 3);
    char p[2048];
    if (mask)
        snprintf(p, sizeof p, "%s/img000/masks/m0.png", dir);
    else
        snprintf(p, sizeof p, "%s/img000/images/img000.png", dir);
    put(p, data, n);
}

static void data_cases(void)
{
    char d[1500], out[1500];
    snprintf(d, sizeof d, "%s/missing", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    expect(2, "--data folder does not exist", "missing", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    snprintf(d, sizeof d, "%s/empty", tmp);
    mkdir(d, 0755);
    expect(2, "--data folder holds no images", "no images", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    snprintf(d, sizeof d, "%s/nomasks/a/images", tmp);
    char cmd[5000];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/data/img000/images/img000.png %s/a.png", d, tmp, d);
    TU_CHECK(system(cmd) == 0, "images-only dataset made");
    snprintf(d, sizeof d, "%s/nomasks", tmp);
    expect(2, "training data without masks", "masks", (char *[]){TRAIN, "--data", d, "--out", out, NULL});

    long n = 0;
    char good[1500];
    snprintf(good, sizeof good, "%s/data/img000/images/img000.png", tmp);
    char *png = tf_read("", good, &n);
    static const char text[] = "this is a text file, not an image\n";
    bad_dataset("text", 0, text, sizeof text - 1, d, sizeof d);
    expect(2, "an image that is not a PNG", "img000.png", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    bad_dataset("empty_png", 0, "", 0, d, sizeof d);
    expect(2, "an empty (0-byte) image file", "img000.png", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    bad_dataset("trunc", 0, png, (size_t)n / 2, d, sizeof d);
    expect(2, "a truncated PNG", "img000.png", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    bad_dataset("jpeg", 0, jpeg, sizeof jpeg, d, sizeof d);
    expect(2, "a truncated JPEG (named .png: the first bytes decide)", "img000.png: JPEG",
           (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    /* A PNG whose header claims 100000 x 100000 pixels. */
    unsigned char *huge = malloc((size_t)n);
    memcpy(huge, png, (size_t)n);
    for (int i = 0; i < 2; i++) { /* width and height, big-endian, at bytes 16 and 20; CRC left stale */
        huge[16 + 4 * i] = 0, huge[17 + 4 * i] = 0x01, huge[18 + 4 * i] = 0x86, huge[19 + 4 * i] = 0xa0;
    }
    bad_dataset("huge", 0, huge, (size_t)n, d, sizeof d);
    expect(2, "a PNG header claiming 100000 x 100000 pixels", "img000.png",
           (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    free(huge);
    bad_dataset("mask_text", 1, text, sizeof text - 1, d, sizeof d);
    expect(2, "a mask file that is not a PNG", "m0.png", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    /* A mask of another size: the 24x20 image as a "mask" of a 20x24 set. */
    snprintf(d, sizeof d, "%s/mask_size", tmp);
    tf_make_dataset(d, 3, 20, 24, 3);
    char p[2048];
    snprintf(p, sizeof p, "%s/img001/masks/m0.png", d);
    put(p, png, (size_t)n);
    expect(2, "a mask of another size than its image", "m0.png", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    snprintf(d, sizeof d, "%s/nomask_files", tmp);
    tf_make_dataset(d, 3, 24, 20, 3);
    snprintf(cmd, sizeof cmd, "rm -f %s/img002/masks/*", d);
    TU_CHECK(system(cmd) == 0, "masks of one sample removed");
    expect(2, "an empty masks folder", "img002", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    free(png);
}

/* ---- checkpoints for --resume ---- */

static char base_run[1100];

/* A copy of the base run as tmp/name; returns its checkpoint path in ck. */
static void run_copy(const char *name, char *dir, size_t dsize, char *ck, size_t csize)
{
    snprintf(dir, dsize, "%s/%s", tmp, name);
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "cp -r %s %s", base_run, dir);
    TU_CHECK(system(cmd) == 0, "%s: run folder copied", name);
    snprintf(ck, csize, "%s/checkpoint.safetensors", dir);
}

/* Rewrites the JSON header of the safetensors file at path with edit(). */
static int edit_header(const char *path, void (*edit)(json_t *root))
{
    long n = 0;
    char *d = tf_read("", path, &n);
    if (!d || n < 8)
        return free(d), -1;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | (unsigned char)d[i];
    json_t *root = json_loadb(d + 8, hl, 0, NULL);
    if (!root)
        return free(d), -1;
    edit(root);
    char *h = json_dumps(root, JSON_COMPACT);
    size_t nl = strlen(h);
    FILE *f = fopen(path, "wb");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)nl >> (8 * i));
    int ok = f && fwrite(len8, 1, 8, f) == 8 && fwrite(h, 1, nl, f) == nl &&
             fwrite(d + 8 + hl, 1, (size_t)(n - 8 - (long)hl), f) == (size_t)(n - 8 - (long)hl);
    if (f)
        ok &= fclose(f) == 0;
    free(h);
    json_decref(root);
    free(d);
    return ok ? 0 : -1;
}

static void set_rate(json_t *r)
{
    json_t *m = json_object_get(r, "__metadata__");
    json_object_set_new(m, "channel_rate", json_string("0.25"));
    json_object_set_new(m, "train.channel_rate", json_string("0.25"));
}
static void set_f64(json_t *r) { json_object_set_new(json_object_get(r, "head.out.bias"), "dtype", json_string("F64")); }
static void set_offsets(json_t *r)
{
    json_t *o = json_object_get(json_object_get(r, "head.out.bias"), "data_offsets");
    json_array_set_new(o, 1, json_integer(json_integer_value(json_array_get(o, 1)) + 1000000));
}
static void drop_format(json_t *r) { json_object_del(json_object_get(r, "__metadata__"), "format"); }
static void drop_tensor(json_t *r) { json_object_del(r, "head.out.weight"); }

static void resume(int code, const char *what, const char *must, const char *dir)
{
    expect(code, what, must, (char *[]){"--device", "ref", "train", "--resume", (char *)dir, "-e", "2", "-q", NULL});
}

static void checkpoint_cases(void)
{
    char data[1100], dir[1500], ck[1600];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(base_run, sizeof base_run, "%s/base", tmp);
    char *a[] = {(char *)exe, TRAIN, "--data", data, "--out", base_run, NULL};
    TU_CHECK(tf_run(a, NULL) == 0, "base run trained (1 epoch)");

    snprintf(dir, sizeof dir, "%s/no_run", tmp);
    resume(2, "--resume of a folder without a checkpoint", "checkpoint.safetensors", dir);
    run_copy("run_trunc", dir, sizeof dir, ck, sizeof ck);
    truncate(ck, 1000);
    resume(2, "a truncated checkpoint", "checkpoint.safetensors", dir);
    run_copy("run_hugehdr", dir, sizeof dir, ck, sizeof ck);
    put(ck, "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
    resume(2, "a safetensors header length past the file (2^63)", "checkpoint.safetensors", dir);
    run_copy("run_notjson", dir, sizeof dir, ck, sizeof ck);
    put(ck, "\x08\0\0\0\0\0\0\0{not js}", 16);
    resume(2, "a safetensors header that is not JSON", "checkpoint.safetensors", dir);
    run_copy("run_empty", dir, sizeof dir, ck, sizeof ck);
    put(ck, "", 0);
    resume(2, "an empty model file", "checkpoint.safetensors", dir);
    run_copy("run_f64", dir, sizeof dir, ck, sizeof ck);
    TU_CHECK(edit_header(ck, set_f64) == 0, "dtype edited");
    resume(2, "a tensor of a dtype clunet does not read (F64)", "checkpoint.safetensors", dir);
    run_copy("run_offsets", dir, sizeof dir, ck, sizeof ck);
    TU_CHECK(edit_header(ck, set_offsets) == 0, "offsets edited");
    resume(2, "tensor offsets past the end of the data", "checkpoint.safetensors", dir);
    run_copy("run_rate", dir, sizeof dir, ck, sizeof ck);
    TU_CHECK(edit_header(ck, set_rate) == 0, "channel rate edited");
    resume(2, "tensor shapes that do not fit the model the metadata describes", "checkpoint.safetensors", dir);
    run_copy("run_noformat", dir, sizeof dir, ck, sizeof ck);
    TU_CHECK(edit_header(ck, drop_format) == 0, "format dropped");
    resume(2, "a safetensors file that is not a clunet model", "checkpoint.safetensors", dir);
    run_copy("run_notensor", dir, sizeof dir, ck, sizeof ck);
    TU_CHECK(edit_header(ck, drop_tensor) == 0, "tensor dropped");
    resume(2, "a model file with a tensor missing", "checkpoint.safetensors", dir);
    run_copy("run_modelfile", dir, sizeof dir, ck, sizeof ck);
    char model[1600];
    snprintf(model, sizeof model, "%s/model.safetensors", dir);
    copy_file(model, ck);
    resume(2, "a model file (no optimiser state) as the checkpoint", "checkpoint.safetensors", dir);
}

/* --resume --data: other images are refused without --force; the same
 * images in a moved folder resume. */
static void resume_data_cases(void)
{
    char dir[1500], ck[1600], other[1100], moved[1100], cmd[3000];
    snprintf(other, sizeof other, "%s/other_data", tmp);
    TU_CHECK(tf_make_dataset(other, 5, 24, 20, 9) == 0, "a dataset with other ids");
    run_copy("run_otherdata", dir, sizeof dir, ck, sizeof ck);
    expect(1, "--resume with --data holding other images than the run's", "--force",
           (char *[]){"--device", "ref", "train", "--resume", dir, "--data", other, "-e", "2", "-q", NULL});
    char *f[] = {(char *)exe, "--device", "ref", "train", "--resume", dir, "--data", other, "-e", "2", "-q", "--force",
                 NULL};
    long n = 0;
    TU_CHECK(tf_run(f, NULL) == 0, "... and with --force it resumes");
    char *log = tf_read(dir, "train.log", &n);
    TU_CHECK(log && strstr(log, "note: --force: resuming on other images"), "train.log notes the --force");
    free(log);
    snprintf(moved, sizeof moved, "%s/moved_data", tmp);
    snprintf(cmd, sizeof cmd, "cp -r %s/data %s", tmp, moved);
    TU_CHECK(system(cmd) == 0, "the run's data copied to another folder");
    run_copy("run_moved", dir, sizeof dir, ck, sizeof ck);
    char *m[] = {(char *)exe, "--device", "ref", "train", "--resume", dir, "--data", moved, "-e", "2", "-q", NULL};
    TU_CHECK(tf_run(m, NULL) == 0, "the same images in a moved folder resume without --force");
}

/* Messages that name the problem, and one exit code per kind of mistake. */
static void message_cases(void)
{
    char data[1100], d[1500], p[1600], one[1100], out[1500];
    snprintf(data, sizeof data, "%s/data", tmp);
    expect(1, "bench: an unknown --device (its start-up child's status, not 3)", "nosuchdevice",
           (char *[]){"--device", "nosuchdevice", "bench", "--steps", "1", NULL});
    snprintf(out, sizeof out, "%s/o_acc", tmp);
    expect(1, "--devices of a type no device has", "--devices accelerator",
           (char *[]){"--device", "ref", "train", "--devices", "accelerator", "--data", data, "--out", out, NULL});
    /* A PNG as the model, and random bytes. */
    char img[1300], rnd[1300];
    snprintf(img, sizeof img, "%s/img000/images/img000.png", data);
    snprintf(out, sizeof out, "%s/o_png", tmp);
    expect(2, "predict: a PNG image given as the model", "not a safetensors file",
           (char *[]){"predict", "--model", img, img, "--out", out, "--device", "ref", "-q", NULL});
    unsigned char bytes[100];
    uint64_t s = 12345;
    for (size_t i = 0; i < sizeof bytes; i++)
        s = s * 6364136223846793005ULL + 1442695040888963407ULL, bytes[i] = (unsigned char)(s >> 56);
    snprintf(rnd, sizeof rnd, "%s/random.safetensors", tmp);
    put(rnd, bytes, sizeof bytes);
    expect(2, "predict: random bytes given as the model", "not a safetensors file",
           (char *[]){"predict", rnd, img, "--out", out, "--device", "ref", "-q", NULL});
    /* A PNG whose IHDR CRC is wrong. */
    long n = 0;
    char *png = tf_read("", img, &n);
    if (png && n > 33)
        png[29] ^= 0x5a; /* the IHDR chunk's CRC: bytes 29..32 */
    bad_dataset("crc", 0, png, (size_t)n, d, sizeof d);
    free(png);
    snprintf(out, sizeof out, "%s/o_crc", tmp);
    expect(2, "an image with a bad CRC", "bad CRC in chunk IHDR", (char *[]){TRAIN, "--data", d, "--out", out, NULL});
    /* --out an existing folder that is not a run: no --resume suggested. */
    snprintf(p, sizeof p, "%s/notarun", tmp);
    mkdir(p, 0755);
    expect(1, "--out names an existing folder that is not a run", "holds no run",
           (char *[]){TRAIN, "--data", data, "--out", p, NULL});
    /* One image and the default validation split. */
    snprintf(one, sizeof one, "%s/one", tmp);
    TU_CHECK(tf_make_dataset(one, 1, 24, 20, 4) == 0, "a one-image dataset");
    snprintf(out, sizeof out, "%s/o_one", tmp);
    expect(2, "training on one image with the default --val-split", "--val-split 0",
           (char *[]){"--device", "ref", "train", "-s", "16", "-c", "0.125", "-e", "1", "-q", "--data", one, "--out", out,
                      NULL});
    expect(1, "--resume -e N of a run that has trained N epochs", "has trained 1 epoch ",
           (char *[]){"--device", "ref", "train", "--resume", base_run, "-e", "1", "-q", NULL});
    snprintf(p, sizeof p, "%s/synth", tmp);
    char *sy[] = {(char *)exe, "synth", "--out", p, "--count", "1", "--size", "16x16", "-q", NULL};
    TU_CHECK(tf_run(sy, NULL) == 0, "a synthetic set");
    expect(1, "synth --out where a dataset already is (usage, as train)", "already exists",
           (char *[]){"synth", "--out", p, "--count", "1", "--size", "16x16", "-q", NULL});
}

static void usage_and_output_cases(void)
{
    char data[1100], out[1500];
    snprintf(data, sizeof data, "%s/data", tmp);
    expect(1, "an unknown command", "frobnicate", (char *[]){"frobnicate", NULL});
    expect(1, "train without --data", "--data", (char *[]){"train", NULL});
    snprintf(out, sizeof out, "%s/o1", tmp);
    expect(1, "an image size that is not a multiple of 16", "16",
           (char *[]){"--device", "ref", "train", "-s", "20", "--data", data, "--out", out, NULL});
    expect(1, "a --batch out of range", "--batch",
           (char *[]){"--device", "ref", "train", "--batch", "0", "--data", data, "--out", out, NULL});
    expect(1, "an unknown --device", "nosuchdevice",
           (char *[]){"--device", "nosuchdevice", "train", "--data", data, "--out", out, NULL});
    expect(1, "--out names an existing run folder", "--force",
           (char *[]){TRAIN, "--data", data, "--out", base_run, NULL});
    snprintf(out, sizeof out, "%s/afile", tmp);
    put(out, "x", 1);
    expect(1, "--out names a file", "not a folder", (char *[]){TRAIN, "--data", data, "--out", out, NULL});
    expect(4, "--out cannot be created", "/proc/clunet-run",
           (char *[]){TRAIN, "--data", data, "--out", "/proc/clunet-run", NULL});
}

/* ---- predict and eval ---- */

static void predict_eval_cases(void)
{
    char data[1100], model[1200], out[1200], p[1300], bad[1300], img[1300];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(model, sizeof model, "%s/model.safetensors", base_run);
    snprintf(out, sizeof out, "%s/pred", tmp);
    snprintf(img, sizeof img, "%s/img000/images/img000.png", data);
    snprintf(bad, sizeof bad, "%s/notamodel.safetensors", tmp);
    put(bad, "hello", 5);
    expect(2, "predict: a model file that is not safetensors", "notamodel",
           (char *[]){"predict", bad, img, "--out", out, "--device", "ref", "-q", NULL});
    snprintf(p, sizeof p, "%s/run_rate/checkpoint.safetensors", tmp);
    expect(2, "predict: a model whose shapes do not fit its metadata", "run_rate",
           (char *[]){"predict", p, img, "--out", out, "--device", "ref", "-q", NULL});
    snprintf(p, sizeof p, "%s/text/img000/images/img000.png", tmp);
    expect(2, "predict: an input image that is not a PNG", "img000.png",
           (char *[]){"predict", model, p, "--out", out, "--device", "ref", "-q", NULL});
    /* The reader fixtures, copied into tmp (messages show <tmp>). */
    char src[1300], cmd2[4000];
    snprintf(cmd2, sizeof cmd2, "cp %s/datasets/images/bad_truncated.tif %s/datasets/images/bad_ifd.tif "
             "%s/datasets/images/u16_c4_planar.tif %s/", tu_source_path("."), tu_source_path("."), tu_source_path("."), tmp);
    TU_CHECK(system(cmd2) == 0, "TIFF fixtures copied");
    snprintf(src, sizeof src, "%s/bad_truncated.tif", tmp);
    expect(2, "predict: a TIFF cut short (pixel data missing)", "bad_truncated.tif: file is truncated",
           (char *[]){"predict", model, src, "--out", out, "--device", "ref", "-q", NULL});
    snprintf(src, sizeof src, "%s/bad_ifd.tif", tmp);
    expect(2, "predict: a TIFF whose first IFD is past the end", "bad_ifd.tif: not a readable TIFF",
           (char *[]){"predict", model, src, "--out", out, "--device", "ref", "-q", NULL});
    snprintf(src, sizeof src, "%s/u16_c4_planar.tif", tmp);
    expect(2, "predict: a 4-channel image without --channel", "pick the nuclear stain with --channel",
           (char *[]){"predict", model, src, "--out", out, "--device", "ref", "-q", NULL});
    expect(1, "predict: --channel beyond the image's channels", "--channel 5: the image has 4 channels",
           (char *[]){"predict", model, src, "--out", out, "--channel", "5", "--device", "ref", "-q", NULL});
    expect(1, "predict: --normalize that is not auto, none or LO,HI", "--normalize 99,1",
           (char *[]){"predict", model, src, "--out", out, "--normalize", "99,1", "--device", "ref", "-q", NULL});
    expect(1, "predict: --page past the last page", "page 4: the file has 1 page",
           (char *[]){"predict", model, src, "--out", out, "--channel", "1", "--page", "4", "--device", "ref", "-q",
                      NULL});
    snprintf(p, sizeof p, "%s/nothere.png", tmp);
    expect(2, "predict: an input that does not exist", "nothere.png",
           (char *[]){"predict", model, p, "--out", out, "--device", "ref", "-q", NULL});
    expect(4, "predict: --out cannot be created", "/proc/clunet-pred",
           (char *[]){"predict", model, img, "--out", "/proc/clunet-pred", "--device", "ref", "-q", NULL});
    snprintf(p, sizeof p, "%s/emptypred", tmp);
    mkdir(p, 0755);
    expect(2, "eval --pred: a prediction is missing", "img000",
           (char *[]){"eval", "--pred", p, data, "-q", NULL});
    snprintf(p, sizeof p, "%s/sizepred", tmp);
    mkdir(p, 0755);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "for i in 0 1 2 3; do cp %s/mask_size/img000/masks/m0.png %s/img00$i.png; done",
             tmp, p);
    TU_CHECK(system(cmd) == 0, "predictions of the wrong size written");
    expect(2, "eval --pred: a prediction of another size than its image", "img000",
           (char *[]){"eval", "--pred", p, data, "-q", NULL});
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_bad_input CLUNET\n"), 1;
    exe = argv[1];
    char *t = tf_tmpdir("badinput");
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    bi_init(exe, tmp, logp);
    char data[1100];
    snprintf(data, sizeof data, "%s/data", tmp);
    TU_CHECK(tf_make_dataset(data, 4, 24, 20, 9) == 0, "good dataset written");
    data_cases();
    checkpoint_cases();
    resume_data_cases();
    message_cases();
    usage_and_output_cases();
    predict_eval_cases();
    tf_rmtree(tmp);
    return tu_finish();
}
