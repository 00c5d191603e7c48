/* cmd_train.c: `clunet train`: flags, --help, the SIGINT handler, and the
 * call to clunet_train (train.h). Exit codes: 0 done, 1 usage, 2 bad data
 * or a NaN/Inf loss, 3 device trouble or out of memory, 4 cannot write the
 * run folder, 130 interrupted (checkpoint written). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/cli.h"
#include "clunet/model_file.h"
#include "clunet/model_find.h"
#include "clunet/train.h"
#include "clunet/unet.h"

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet train --data DIR --out RUN_DIR [options]\n"
            "       clunet train --resume RUN_DIR [-e EPOCHS] [--lr LR] [--device SPEC | --devices LIST]\n"
            "\n"
            "Trains the U-Net of the DSB2018 script (Adam, He-normal initialisation) on a folder of\n"
            "images and masks, and writes a run folder:\n"
            "  model.safetensors       final weights; self-describing (predict needs no -s/-c)\n"
            "  best.safetensors        weights of the epoch with the lowest validation loss\n"
            "  checkpoint.safetensors  weights, Adam state, epoch, RNG state, configuration\n"
            "                          (written after every epoch and on Ctrl-C)\n"
            "  history.csv             epoch,train_loss,train_dice,val_loss,val_dice,seconds,images_per_second\n"
            "  history.svg             loss and Dice curves (open it in a browser)\n"
            "  train.log               configuration, device, one line per epoch\n"
            "\n"
            "data:\n"
            "  --data DIR          DSB2018 layout (DIR/<id>/images/<id>.png, DIR/<id>/masks/*.png),\n"
            "                      or DIR/images/ + DIR/masks/ with matching names. No data yet?\n"
            "                      `clunet synth --out DIR` writes a synthetic set in that layout.\n"
            "  --val-split F       fraction held out for validation (default 0.1: the last 10%% of\n"
            "                      the ids in sorted order, as Keras's validation_split); 0: no\n"
            "                      validation (best.safetensors then follows the training loss)\n"
            "  --split-seed N      shuffle the ids with seed N before splitting (default: no shuffle)\n"
            "  --skip-bad          leave out images or masks that cannot be read, listing them\n"
            "                      (default: stop at the first, naming the file)\n"
            "  --augment           random flips and 90-degree rotations of training images (default off)\n"
            "\n");
    fprintf(f,
            "model and training:\n"
            "  -s N                image size, a multiple of 16: 64, 128, 256, ... (default 128)\n"
            "  -c R                channel rate: widths 32R, 64R, ... 512R; 0.5, 1, 2 (default 0.5)\n"
            "  -e N                epochs in all (default 25)\n"
            "  --batch N           mini-batch size; the last partial batch is kept (default 16)\n"
            "  --lr LR             Adam learning rate (default 0.001; beta 0.9/0.999, eps 1e-7)\n"
            "  --lr-schedule S     constant | cosine | plateau (default constant). cosine: from LR\n"
            "                      down to 0 along half a cosine over all the run's steps; plateau:\n"
            "                      halved after 3 epochs without a lower validation loss, down to\n"
            "                      LR/1000 (Keras's ReduceLROnPlateau, factor 0.5, patience 3)\n"
            "  --patience N        early stopping: stop after N epochs without a lower validation\n"
            "                      loss (the training loss when there is no validation) and leave\n"
            "                      the best epoch's weights in model.safetensors too (default 0: off)\n"
            "  --loss L            bce | dice | bce+dice (default bce)\n"
            "  --upsample U        bilinear | transposed (default bilinear, as the original)\n"
            "  --seed N            seed of the weights, shuffles and augmentation (default 1)\n"
            "  --init MODEL        fine-tune: start from MODEL's weights instead of He's (a model\n"
            "                      file, a run folder's best.safetensors, or a NAME from `clunet\n"
            "                      models`, e.g. " CU_DEFAULT_MODEL "); Adam starts afresh. -s, -c, --upsample and\n"
            "                      --loss come from the file; giving one that differs is refused\n"
            "\n"
            "run folder:\n"
            "  --out RUN_DIR       the run folder to create; an existing one is refused\n"
            "  --force             overwrite the run files of an existing RUN_DIR (others are kept)\n"
            "  --resume RUN_DIR    continue from RUN_DIR/checkpoint.safetensors with the run's own\n"
            "                      configuration up to -e epochs in all (default: the run's own -e);\n"
            "                      only -e, --lr, --data (moved data), --device(s), -q, -v may be given;\n"
            "                      without --device, --devices or CLUNET_DEVICE it runs on the devices\n"
            "                      the run chose (its --device or --devices as given, else the default)\n"
            "                      and train.log says \"from the run\"; the devices and the number of MPI\n"
            "                      processes may differ from the run's, but only the run's own continue\n"
            "                      bit-identically (ref), and a resume on others says so\n"
            "\n");
    fprintf(f,
            "device and output:\n"
            "  --device SPEC       ref, an OpenCL id (0:1), a name substring, gpu/cpu/accelerator\n"
            "                      (default: CLUNET_DEVICE, else on --resume the run's choice, else the\n"
            "                      first GPU, else the first OpenCL device, else ref)\n"
            "  --devices LIST      train on several devices at once (data parallel, one model replica\n"
            "                      each): ids or specs separated by commas (0:0,0:1; ref,cpu; a device\n"
            "                      may be listed twice), or all (every OpenCL device), gpu, cpu (every\n"
            "                      device of that type). Each batch of --batch images is cut into\n"
            "                      contiguous slices as equal as possible, one per device; the gradients\n"
            "                      (each the mean over its slice, weighted by its share) are summed on\n"
            "                      the host and every replica takes the same Adam step: with --loss bce\n"
            "                      the same training as one device, up to float rounding; Dice is\n"
            "                      computed per slice.\n"
            "                      See docs/SCALING.md\n"
            "  -q                  quiet: print only errors\n"
            "  -v                  verbose: add per-phase timings to each epoch line\n"
            "  -h, --help          this help\n"
            "\n"
            "On a terminal each epoch shows a one-line progress bar (batch k/n, running loss and Dice,\n"
            "images/s, ETA); otherwise one plain line per epoch. Ctrl-C finishes the current batch,\n"
            "writes the checkpoint and exits with 130; resume with --resume RUN_DIR.\n"
            "\n"
            "The union masks of a DSB2018 folder are decoded once and kept in\n"
            "$XDG_CACHE_HOME/clunet/masks (else ~/.cache/clunet/masks); later runs on the same\n"
            "files read those instead (CLUNET_NO_MASK_CACHE=1: always read the masks).\n"
            "\n"
            "exit codes: 0 done, 1 usage, 2 bad data or a NaN/infinite loss (the last good checkpoint\n"
            "is kept), 3 device error or out of device memory, 4 cannot write the run folder,\n"
            "130 interrupted.\n"
            "\n"
            "Under MPI (mpirun -n N clunet train ..., when built with MPI) each process takes a slice of\n"
            "every batch (--batch is the global batch, at least N) and of validation, gradients are summed\n"
            "across processes, and rank 0 alone prints and writes RUN_DIR.\n");
}

struct parse {
    struct cu_train_opts o;
    const char *init;     /* --init as given */
    const char *given[4]; /* -s, -c, --upsample, --loss as given (NULL: default) */
    const char *bad_on_resume; /* a flag resume does not take */
    int i, argc;
    char **argv;
    struct cu_err *err;
};

/* The value of flag argv[i] ("--x V" or "--x=V"); NULL after a failure. */
static const char *value(struct parse *p, const char *flag)
{
    const char *a = p->argv[p->i];
    size_t n = strlen(flag);
    if (a[n] == '=')
        return a + n + 1;
    if (p->i + 1 >= p->argc) {
        cu_fail(p->err, CU_EUSAGE, "train: %s needs a value (see clunet train --help)", flag);
        return NULL;
    }
    return p->argv[++p->i];
}

static int is_flag(const char *arg, const char *flag)
{
    size_t n = strlen(flag);
    return !strncmp(arg, flag, n) && (arg[n] == '\0' || arg[n] == '=');
}

static int to_long(struct parse *p, const char *flag, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        cu_fail(p->err, CU_EUSAGE, "train: %s %s: expected an integer in %lld..%lld", flag, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int to_double(struct parse *p, const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno) {
        cu_fail(p->err, CU_EUSAGE, "train: %s %s: expected a number", flag, s);
        return 0;
    }
    *out = v;
    return 1;
}

/* One flag at argv[i]; returns 0 on failure (err set), 2 for --help. */
static int parse_one(struct parse *p)
{
    struct cu_train_config *c = &p->o.cfg;
    const char *a = p->argv[p->i], *v;
    long long n;
    if (!strcmp(a, "-h") || !strcmp(a, "--help"))
        return 2;
    if (!strcmp(a, "-q")) {
        p->o.verbosity = 0;
        return 1;
    }
    if (!strcmp(a, "-v")) {
        p->o.verbosity = 2;
        return 1;
    }
    if (!strcmp(a, "--augment")) {
        c->augment = 1;
        p->bad_on_resume = a;
        return 1;
    }
    if (!strcmp(a, "--force")) {
        p->o.force = 1;
        return 1;
    }
    if (!strcmp(a, "--skip-bad")) {
        c->skip_bad = 1;
        return 1;
    }
#define FLAG(name) (is_flag(a, name) && (v = value(p, name)) != NULL)
    if (FLAG("-e")) {
        p->o.epochs_set = 1;
        return to_long(p, "-e", v, 1, 1000000, &n) && ((c->epochs = (int)n), 1);
    }
    if (FLAG("--lr")) {
        p->o.lr_set = 1;
        return to_double(p, "--lr", v, &c->lr);
    }
    if (FLAG("--data")) {
        p->o.data_override = v;
        snprintf(c->data_dir, sizeof c->data_dir, "%s", v);
        return 1;
    }
    if (FLAG("--devices")) {
        p->o.devices = v;
        return 1;
    }
    if (FLAG("--device")) {
        p->o.device = v;
        return 1;
    }
    if (FLAG("--out")) {
        p->o.out_dir = v;
        return 1;
    }
    if (FLAG("--resume")) {
        p->o.resume_dir = v;
        return 1;
    }
    if (FLAG("--init")) {
        p->init = v;
        p->bad_on_resume = a;
        return 1;
    }
    if (p->err->status)
        return 0;
    /* The rest fix the run's configuration: not accepted with --resume. */
    p->bad_on_resume = a;
    if (FLAG("-s"))
        return to_long(p, "-s", v, 16, 16384, &n) && ((c->image_size = (int)n), (p->given[0] = v), 1);
    if (FLAG("-c"))
        return to_double(p, "-c", v, &c->channel_rate) && ((p->given[1] = v), 1);
    if (FLAG("--batch"))
        return to_long(p, "--batch", v, 1, 65536, &n) && ((c->batch = (int)n), 1);
    if (FLAG("--val-split"))
        return to_double(p, "--val-split", v, &c->val_split);
    if (FLAG("--split-seed"))
        return to_long(p, "--split-seed", v, 0, 0x7fffffffffffffffLL, &n) && ((c->split_seed = n), 1);
    if (FLAG("--seed"))
        return to_long(p, "--seed", v, 0, 0x7fffffffffffffffLL, &n) && ((c->seed = (uint64_t)n), 1);
    if (FLAG("--patience"))
        return to_long(p, "--patience", v, 0, 1000000, &n) && ((c->patience = (int)n), 1);
    if (FLAG("--lr-schedule")) {
        int l = cu_lr_schedule_parse(v);
        if (l < 0)
            return cu_fail(p->err, CU_EUSAGE, "train: --lr-schedule %s: expected constant, cosine or plateau", v), 0;
        c->lr_schedule = l;
        return 1;
    }
    if (FLAG("--loss")) {
        int l = cu_loss_parse(v);
        if (l < 0)
            return cu_fail(p->err, CU_EUSAGE, "train: --loss %s: expected bce, dice or bce+dice", v), 0;
        c->loss = (enum cu_loss)l;
        p->given[3] = v;
        return 1;
    }
    if (FLAG("--upsample")) {
        int u = cu_upsample_parse(v);
        if (u < 0)
            return cu_fail(p->err, CU_EUSAGE, "train: --upsample %s: expected bilinear or transposed", v), 0;
        c->upsample = u;
        p->given[2] = v;
        return 1;
    }
#undef FLAG
    if (!p->err->status)
        cu_fail(p->err, CU_EUSAGE, "train: unknown option %s (see clunet train --help)", a);
    return 0;
}

/* --init: the network (and loss) come from the model file; a flag that
 * asks for another is refused rather than silently ignored. */
static enum cu_status take_init(struct parse *p, char *path, size_t len, struct cu_err *err)
{
    struct cu_st_file *f = NULL;
    struct cu_unet_config m;
    enum cu_status st = cu_model_resolve(p->init, path, len, NULL, err);
    st = st ? st : cu_st_file_read(path, &f, err);
    st = st ? st : cu_model_config(f, &m, err);
    if (st) {
        cu_st_file_free(f);
        return st;
    }
    struct cu_train_config *c = &p->o.cfg;
    const char *floss = cu_st_file_meta(f, "loss");
    int loss = floss ? cu_loss_parse(floss) : -1;
    char have[4][64];
    snprintf(have[0], sizeof have[0], "%d", m.image_size);
    snprintf(have[1], sizeof have[1], "%g", m.channel_rate);
    snprintf(have[2], sizeof have[2], "%s", cu_upsample_name(m.upsample));
    snprintf(have[3], sizeof have[3], "%s", loss >= 0 ? floss : "(not recorded)");
    int differs[4] = {c->image_size != m.image_size, c->channel_rate != m.channel_rate,
                      c->upsample != (int)m.upsample, loss >= 0 && (int)c->loss != loss};
    static const char *const flag[4] = {"-s", "-c", "--upsample", "--loss"};
    for (int k = 0; k < 4 && !st; k++)
        if (p->given[k] && differs[k])
            st = cu_fail(err, CU_EUSAGE,
                         "train: %s %s conflicts with --init %s, which is %s %s; a fine-tuned model keeps the "
                         "network and loss it was trained with: drop %s",
                         flag[k], p->given[k], path, flag[k], have[k], flag[k]);
    if (!st) {
        c->image_size = m.image_size, c->channel_rate = m.channel_rate, c->upsample = (int)m.upsample;
        if (loss >= 0)
            c->loss = (enum cu_loss)loss;
        p->o.init_path = path;
    }
    cu_st_file_free(f);
    return st;
}

int cu_cmd_train(int argc, char **argv)
{
    struct cu_err err = {0};
    struct parse p = {.argc = argc, .argv = argv, .err = &err};
    cu_train_config_default(&p.o.cfg);
    p.o.verbosity = 1;
    p.o.out = stdout;
    const char *bad_on_resume = NULL;
    for (p.i = 1; p.i < argc; p.i++) {
        p.bad_on_resume = NULL;
        int r = parse_one(&p);
        if (r == 2) {
            if (cu_comm_rank(cu_cli_comm()) == 0) /* one help under mpirun */
                help(stdout);
            return 0;
        }
        if (!r)
            break;
        if (p.bad_on_resume && !bad_on_resume)
            bad_on_resume = p.bad_on_resume;
    }
    if (err.status)
        ; /* a bad option: reported below */
    else if (p.o.device && p.o.devices)
        cu_fail(&err, CU_EUSAGE, "train: give either --device SPEC or --devices LIST, not both");
    else if (p.o.resume_dir && p.o.out_dir)
        cu_fail(&err, CU_EUSAGE, "train: --resume continues the run in its own folder; drop --out");
    else if (p.o.resume_dir && bad_on_resume)
        cu_fail(&err, CU_EUSAGE,
                "train: %s cannot change a resumed run (it keeps its own configuration; only -e, --lr, --data, "
                "--device, --devices, -q, -v may be given)",
                bad_on_resume);
    char init_path[4096];
    if (!err.status && p.init && !p.o.resume_dir)
        take_init(&p, init_path, sizeof init_path, &err);
    if (!err.status && !p.o.resume_dir && !p.o.data_override)
        cu_fail(&err, CU_EUSAGE,
                "train: no training data: give --data DIR, a folder in the DSB2018 layout "
                "(DIR/<id>/images/<id>.png and DIR/<id>/masks/*.png) or DIR/images/ + DIR/masks/; "
                "to start without a download, make a synthetic one with `clunet synth --out DIR`");
    /* Under mpirun every rank parses the same line: agreeing makes rank 0
     * print the one usage error, and keeps the ranks in step. */
    p.o.comm = cu_cli_comm();
    if (cu_comm_agree(p.o.comm, err.status, &err))
        return cu_cli_report(&err);
    if (!p.o.resume_dir)
        p.o.data_override = NULL;
    /* Under mpirun stdout is the launcher's pseudo-terminal whatever the
     * user's is: no live bar there, plain per-epoch lines. */
    p.o.tty = isatty(fileno(stdout)) && cu_comm_size(p.o.comm) == 1;

    /* Ctrl-C: finish the batch, write the checkpoint, exit 130; a second
     * Ctrl-C (SA_RESETHAND) kills at once. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    p.o.stop = &stop_flag;

    int interrupted = 0;
    clunet_train(&p.o, &interrupted, &err);
    sigaction(SIGINT, &old, NULL);
    if (err.status)
        return cu_cli_report(&err);
    return interrupted ? CU_TRAIN_INTERRUPTED : 0;
}
