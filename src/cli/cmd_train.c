/* cmd_train.c: `clunet train`: flags, --help, the SIGINT handler, and the
 * call to clunet_train (train.h). Exit codes: 0 done, 1 usage, 2 bad data
 * or a NaN/Inf loss, 3 device trouble or out of memory, 4 cannot write the
 * run folder, 130 interrupted (checkpoint written). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "clunet/cli.h"
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
            "                      the ids in sorted order, as Keras's validation_split)\n"
            "  --split-seed N      shuffle the ids with seed N before splitting (default: no shuffle)\n"
            "  --skip-bad          leave out images or masks that cannot be read, listing them\n"
            "                      (default: stop at the first, naming the file)\n"
            "  --augment           random flips and 90-degree rotations of training images (default off)\n"
            "\n"
            "model and training:\n"
            "  -s N                image size, a multiple of 16: 64, 128, 256, ... (default 128)\n"
            "  -c R                channel rate: widths 32R, 64R, ... 512R; 0.5, 1, 2 (default 0.5)\n"
            "  -e N                epochs in all (default 25)\n"
            "  --batch N           mini-batch size; the last partial batch is kept (default 16)\n"
            "  --lr LR             Adam learning rate (default 0.001; beta 0.9/0.999, eps 1e-7)\n"
            "  --loss L            bce | dice | bce+dice (default bce)\n"
            "  --upsample U        bilinear | transposed (default bilinear, as the original)\n"
            "  --seed N            seed of the weights, shuffles and augmentation (default 1)\n"
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
            "  -q, --quiet         print only errors\n"
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

enum {
    O_BATCH = CU_ARG_LONG, O_LR, O_VAL_SPLIT, O_SPLIT_SEED, O_SEED, O_LOSS, O_UPSAMPLE, O_AUGMENT, O_FORCE,
    O_SKIP_BAD, O_DATA, O_DEVICES, O_DEVICE, O_OUT, O_RESUME,
};

static const struct cu_opt opts[] = {
    {NULL, 's', 1},
    {NULL, 'c', 1},
    {NULL, 'e', 1},
    {"batch", O_BATCH, 1},
    {"lr", O_LR, 1},
    {"val-split", O_VAL_SPLIT, 1},
    {"split-seed", O_SPLIT_SEED, 1},
    {"seed", O_SEED, 1},
    {"loss", O_LOSS, 1},
    {"upsample", O_UPSAMPLE, 1},
    {"augment", O_AUGMENT, 0},
    {"force", O_FORCE, 0},
    {"skip-bad", O_SKIP_BAD, 0},
    {"data", O_DATA, 1},
    {"devices", O_DEVICES, 1},
    {"device", O_DEVICE, 1},
    {"out", O_OUT, 1},
    {"resume", O_RESUME, 1},
    {"quiet", 'q', 0},
    {NULL, 'v', 0},
    {"help", 'h', 0},
    {NULL, 0, 0},
};

/* Applies option key (its value in a); 0 or -1 (err set). Sets
 * *fixes_config for a flag that fixes the run's configuration, which a
 * resumed run keeps. */
static int apply(struct cu_args *a, int key, struct cu_train_opts *o, int *fixes_config)
{
    struct cu_train_config *c = &o->cfg;
    long long n;
    int v;
    *fixes_config = 0;
    switch (key) {
    case 'q': o->verbosity = 0; return 0;
    case 'v': o->verbosity = 2; return 0;
    case O_FORCE: o->force = 1; return 0;
    case O_SKIP_BAD: c->skip_bad = 1; return 0;
    case 'e': o->epochs_set = 1; return cu_arg_int(a, 1, 1000000, &c->epochs);
    case O_LR: o->lr_set = 1; return cu_arg_double(a, 0, INFINITY, 1, 1, &c->lr);
    case O_DATA:
        o->data_override = a->val;
        snprintf(c->data_dir, sizeof c->data_dir, "%s", a->val);
        return 0;
    case O_DEVICES: o->devices = a->val; return 0;
    case O_DEVICE: o->device = a->val; return 0;
    case O_OUT: o->out_dir = a->val; return 0;
    case O_RESUME: o->resume_dir = a->val; return 0;
    case CU_ARG_POS: return cu_arg_extra(a);
    }
    /* The rest fix the run's configuration: not accepted with --resume. */
    *fixes_config = 1;
    switch (key) {
    case O_AUGMENT: c->augment = 1; return 0;
    case 's': return cu_arg_int(a, 16, 16384, &c->image_size);
    case 'c': return cu_arg_double(a, 0, 64, 1, 0, &c->channel_rate);
    case O_BATCH: return cu_arg_int(a, 1, 65536, &c->batch);
    case O_VAL_SPLIT: return cu_arg_double(a, 0, 1, 0, 1, &c->val_split);
    case O_SPLIT_SEED: return cu_arg_ll(a, 0, INT64_MAX, &c->split_seed);
    case O_SEED:
        if (cu_arg_ll(a, 0, INT64_MAX, &n))
            return -1;
        c->seed = (uint64_t)n;
        return 0;
    case O_LOSS:
        if ((v = cu_loss_parse(a->val)) < 0)
            return cu_arg_bad(a, "bce, dice or bce+dice");
        c->loss = (enum cu_loss)v;
        return 0;
    case O_UPSAMPLE:
        if ((v = cu_upsample_parse(a->val)) < 0)
            return cu_arg_bad(a, "bilinear or transposed");
        c->upsample = v;
        return 0;
    }
    return 0;
}

int cu_cmd_train(int argc, char **argv)
{
    struct cu_err err = {0};
    struct cu_train_opts o;
    memset(&o, 0, sizeof o);
    cu_train_config_default(&o.cfg);
    o.verbosity = cu_cli_quiet() ? 0 : 1;
    o.out = stdout;
    char bad_on_resume[64] = "";
    struct cu_args a;
    cu_args_init(&a, "train", argc, argv, opts, &err);
    int key, fixes = 0;
    while ((key = cu_args_next(&a)) > 0) {
        if (key == 'h') {
            if (cu_comm_rank(cu_cli_comm()) == 0) /* one help under mpirun */
                help(stdout);
            return 0;
        }
        if (apply(&a, key, &o, &fixes))
            break;
        if (fixes && !bad_on_resume[0])
            snprintf(bad_on_resume, sizeof bad_on_resume, "%s", a.flag);
    }
    if (err.status)
        ; /* a bad option: reported below */
    else if (o.device && o.devices)
        cu_fail(&err, CU_EUSAGE, "train: give either --device SPEC or --devices LIST, not both");
    else if (o.resume_dir && o.out_dir)
        cu_fail(&err, CU_EUSAGE, "train: --resume continues the run in its own folder; drop --out");
    else if (o.resume_dir && bad_on_resume[0])
        cu_fail(&err, CU_EUSAGE,
                "train: %s cannot change a resumed run (it keeps its own configuration; only -e, --lr, --data, "
                "--device, --devices, -q, -v may be given)",
                bad_on_resume);
    if (!o.resume_dir && !o.data_override)
        cu_fail(&err, CU_EUSAGE,
                "train: no training data: give --data DIR, a folder in the DSB2018 layout "
                "(DIR/<id>/images/<id>.png and DIR/<id>/masks/*.png) or DIR/images/ + DIR/masks/; "
                "to start without a download, make a synthetic one with `clunet synth --out DIR`");
    /* Under mpirun every rank parses the same line: agreeing makes rank 0
     * print the one usage error, and keeps the ranks in step. */
    o.comm = cu_cli_comm();
    if (cu_comm_agree(o.comm, err.status, &err))
        return cu_cli_report(&err);
    if (!o.resume_dir)
        o.data_override = NULL;
    /* Under mpirun stdout is the launcher's pseudo-terminal whatever the
     * user's is: no live bar there, plain per-epoch lines. */
    o.tty = isatty(fileno(stdout)) && cu_comm_size(o.comm) == 1;

    /* Ctrl-C: finish the batch, write the checkpoint, exit 130; a second
     * Ctrl-C (SA_RESETHAND) kills at once. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    o.stop = &stop_flag;

    int interrupted = 0;
    clunet_train(&o, &interrupted, &err);
    sigaction(SIGINT, &old, NULL);
    if (err.status)
        return cu_cli_report(&err);
    return interrupted ? CU_TRAIN_INTERRUPTED : 0;
}
