/* train.h: the training loop as a library (what `clunet train` runs).
 *
 * clunet_train loads a dataset, builds the U-Net on a backend, and trains it
 * with Adam for a number of epochs, writing a run folder:
 *   model.safetensors       final weights (self-describing metadata)
 *   best.safetensors        weights of the epoch with the lowest val loss
 *   checkpoint.safetensors  weights, Adam moments, step, epoch, RNG state,
 *                           history and the full configuration; written at
 *                           the end of every epoch and on interruption
 *   history.csv, history.svg, train.log
 * Every file is written atomically (temporary name + rename).
 *
 * Randomness is explicit and seeded: weights from cu_unet_init_he(seed);
 * each epoch's shuffle and augmentation draw from one xorshift64* stream
 * seeded by splitmix64(seed ^ epoch) whose current state is saved in the
 * checkpoint, so that a resumed run (at an epoch end or after an interrupt
 * mid-epoch) repeats exactly what an uninterrupted one does.
 *
 * Data parallelism (docs/SCALING.md): with --devices each global batch is
 * split among replicas on several devices (replicas.h); across the
 * processes of an MPI job (opts.comm) every rank draws the same shuffle and
 * augmentation, takes its contiguous slice of each global batch (--batch
 * is the global batch) and of each validation batch, and the gradients and
 * loss sums are added across ranks. Only rank 0 writes the run folder and
 * prints; the checkpoint holds global state only, so a run may resume with
 * any number of ranks and devices (rank 0 reads it and broadcasts it).
 *
 * Leaves out: argument parsing (cmd_train.c), signal handlers (the caller
 * owns them and passes a flag), printing errors (the caller prints err). */
#ifndef CLUNET_TRAIN_H
#define CLUNET_TRAIN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "clunet/comm.h"
#include "clunet/image.h"
#include "clunet/ops.h"
#include "clunet/status.h"

/* Exit code of an interrupted training (128 + SIGINT), returned by
 * clunet_train as a plain int through *interrupted, not as a cu_status. */
#define CU_TRAIN_INTERRUPTED CU_EXIT_SIGINT
/* The same after SIGTERM (128 + SIGTERM): what SLURM, timeout and docker
 * stop send; the checkpoint is written as for Ctrl-C. */
#define CU_TRAIN_TERMINATED CU_EXIT_SIGTERM

/* The configuration of a run. Everything from `image_size` to `augment` is
 * saved in the checkpoint and comes back from it on --resume. */
struct cu_train_config {
    char data_dir[1024];
    int image_size;      /* -s: multiple of 16 */
    double channel_rate; /* -c */
    int epochs;          /* -e: epochs in all (a resume trains up to this) */
    int batch;           /* --batch */
    double val_split;    /* --val-split: fraction of images held for validation */
    long long split_seed; /* --split-seed: -1 = last fraction in sorted id order */
    int skip_bad;         /* --skip-bad: leave unreadable samples out, listing them (not saved) */
    double lr;           /* --lr */
    enum cu_loss loss;   /* --loss */
    int upsample;        /* --upsample: enum cu_upsample (unet.h) */
    int augment;         /* --augment: flips and 90-degree rotations */
    uint64_t seed;       /* --seed: weights, shuffles, augmentation */
    /* How images become input (image.h: struct cu_input_opts; see
     * cu_train_input): */
    int input_channel;   /* --channel: 1-based, 0 = by channel count */
    char normalize[32];  /* --normalize: auto, none or LO,HI */
    int patience;        /* --patience: stop after this many epochs without a lower
                            validation loss, keeping the best weights; 0 = off */
    int lr_schedule;     /* --lr-schedule: enum cu_lr_schedule */
    /* The nuclei recipe's settings (docs/train.md); the defaults keep the
     * original recipe: one output, whole images resized to S x S. */
    int crop;             /* --crop N: random N x N crops at native size times scale; 0 = off
                           * (the trainer then uses S = N) */
    double scale;         /* --scale F: images (and masks) rescaled by F before cropping */
    double scale_jitter;  /* --scale-jitter J: crop scale drawn in [1/(1+J), 1+J] */
    int targets;          /* --targets: 0 mask (1 output), 1 instance (3: body, contour, border) */
    char channel_weights[64]; /* --channel-weights: "w0,w1,..." per output channel loss weights */
    int grey;             /* --grey: greyscale, bright backgrounds inverted (nuclei.h) */
    int intensity;        /* --intensity-aug: random brightness, contrast, gamma */
};

/* What the nuclei fields of c amount to: output channels (1 or 3), the
 * preprocessing flags (CU_PREP_*), the network's S (crop, or -s), and the
 * channel weights (ones for channels not listed; 0, or -1 for text that is
 * not up to 4 numbers in [0, 1000]). */
int cu_train_outputs(const struct cu_train_config *c);
int cu_train_prep(const struct cu_train_config *c);
int cu_train_side(const struct cu_train_config *c);
int cu_train_channel_weights(const struct cu_train_config *c, float w[4]);

/* How the learning rate moves (--lr-schedule). constant: --lr throughout;
 * cosine: from --lr down to 0 along half a cosine over all the steps of -e
 * epochs (lr * (1 + cos(pi * step / steps)) / 2, step 0-based); plateau:
 * halved whenever the validation loss (the training loss without
 * validation) has not improved for CU_PLATEAU_WAIT epochs, down to
 * --lr / 1000 (Keras's ReduceLROnPlateau with factor 0.5). */
enum cu_lr_schedule { CU_LR_CONSTANT, CU_LR_COSINE, CU_LR_PLATEAU };
#define CU_PLATEAU_WAIT 3

struct cu_train_opts {
    struct cu_train_config cfg;
    const char *out_dir;    /* a new run folder (refused if it exists unless force) */
    const char *resume_dir; /* or NULL; then cfg comes from its checkpoint, except: */
    /* A new run starts from this model file's weights instead of He's
     * (fine-tuning; the Adam moments start at zero). cfg must describe the
     * same network (cmd_train.c takes -s, -c and --upsample from the file). */
    const char *init_path;
    /* Bit i: field i of the configuration table (train_fields.h) was
     * given; on resume a given field the table marks on_resume (-e, --lr,
     * --data: the data moved, --skip-bad) overrides the run's own. */
    unsigned long long given;
    int force;
    /* The backend spec; NULL = CLUNET_DEVICE, else on a resume the run's
     * choice (see devices), else the default. */
    const char *device;
    /* --devices: a list of devices, one replica each (replicas.h); NULL =
     * the one device above. The checkpoint records the choice as given
     * (--devices, else --device or CLUNET_DEVICE, else the default): a
     * resume with neither and no CLUNET_DEVICE opens the same again; one
     * with other devices may, and says so in train.log. */
    const char *devices;
    /* The process group (comm.h); NULL = a single process. Every rank calls
     * clunet_train with the same options; rank 0 alone writes the run
     * folder and prints. */
    struct cu_comm *comm;
    int verbosity;          /* 0 -q, 1 normal, 2 -v (per-phase timings) */
    FILE *out;              /* progress and per-epoch lines (stdout) */
    int tty;                /* out is a terminal: a live one-line progress bar */
    /* Set (by a SIGINT handler) to stop after the current batch; may be NULL. */
    volatile sig_atomic_t *stop;
    /* Stop after this many batches of this process (tests: a deterministic
     * "interrupt"); 0 = never. */
    long stop_after_batches;
};

/* Defaults of `clunet train` (the DSB2018 script's recipe). */
void cu_train_config_default(struct cu_train_config *cfg);
/* `--recipe nuclei`: three outputs (weights 1, 1, 2), 256 x 256 crops at
 * native scale with jitter 0.25, grey + normalize, flips/rotations and
 * intensity augmentation, -c 0.5, --batch 8, -e 30, bce+dice; flags given
 * with it override each (cmd_train.c applies it first). */
void cu_train_config_recipe_nuclei(struct cu_train_config *cfg);
/* CU_EUSAGE naming the bad field. */
enum cu_status cu_train_config_check(const struct cu_train_config *cfg, struct cu_err *err);
/* The input options the configuration's --channel and --normalize give
 * (training reads the first page of a multi-page file). */
void cu_train_input(const struct cu_train_config *cfg, struct cu_input_opts *in);
/* "bce", "dice", "bce+dice"; parse returns -1 for anything else. */
const char *cu_loss_name(enum cu_loss l);
const char *cu_lr_schedule_name(int s);
int cu_loss_parse(const char *s);

/* Trains. Returns CU_OK when all epochs ran, or the failure (CU_EINPUT for
 * a NaN/Inf loss, CU_EDEVICE for device trouble and out of memory, ...).
 * When training stopped on request (opts->stop or stop_after_batches) after
 * writing the checkpoint, returns CU_OK with *interrupted = 1. */
enum cu_status clunet_train(const struct cu_train_opts *opts, int *interrupted, struct cu_err *err);

#endif
