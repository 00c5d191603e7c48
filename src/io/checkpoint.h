/* checkpoint.h: the checkpoint of a training run (checkpoint.safetensors):
 * everything needed to continue it bit for bit.
 *
 * A model file with its Adam moments (model_file.h, CU_MODEL_ADAM: every
 * parameter under its name, "adam.m.<name>", "adam.v.<name>", the model
 * metadata) plus metadata of its own (strings): "checkpoint" = "1",
 * the training state (step, epoch, batch, rng, partial-epoch sums, best,
 * the devices and how they were chosen) and the configuration under
 * "train.*" keys, and the history CSV. Doubles are written with 17
 * significant digits and the RNG state in hex, so every value round-trips
 * exactly. Leaves out: when to write (train.c). */
#ifndef CLUNET_CHECKPOINT_H
#define CLUNET_CHECKPOINT_H

#include <stdint.h>

#include "clunet/train.h"
#include "clunet/unet.h"
#include "io/history.h"

struct cu_train_state {
    long step;   /* Adam steps taken so far */
    int epoch;   /* epochs completed */
    int batch;   /* batches done of epoch+1 (an interrupted epoch), else 0 */
    uint64_t rng; /* the epoch's random stream after those batches */
    /* sums over the batches done of an interrupted epoch */
    double part_loss, part_dice, part_images, part_seconds;
    double best_loss; /* lowest validation loss so far (+inf: none) */
    int best_epoch;
    /* --lr-schedule plateau: the factor on --lr now (1 at the start) and
     * the epochs since the loss last improved or the lr was last cut */
    double lr_scale;
    int plateau_wait;
    /* The devices that trained it (rank 0's, "" when unknown: a checkpoint
     * of an older clunet): a resume on others is not bit-identical, and
     * says so. A fact, not configuration: the resume chooses its own. */
    char devices[512];
    /* How the devices were chosen, as the user gave it: "--device SPEC"
     * (the flag or CLUNET_DEVICE), "--devices LIST", or "" for the default
     * choice; has_device_spec 0: not known (a checkpoint of an older
     * clunet, or a spec that is not printable ASCII). A resume given no
     * device of its own opens the same. */
    char device_spec[1024];
    int has_device_spec;
    /* FNV-1a 64 of the training ids, then the validation ids, in the
     * order training uses them, as 16 hex digits ("" when unknown: an
     * older checkpoint). A resume whose data gives other ids is refused
     * without --force; the same ids in a moved folder resume normally. */
    char ids_hash[17];
    /* Prediction defaults a fine-tuning run took from its --init file
     * ("threshold=0.5 tta=1 ...": predict's model-file defaults, space-
     * separated; "" none), written into every model file it saves. */
    char inherited[256];
    struct cu_history history;
};

/* Writes path atomically from the net's parameters and moments. */
enum cu_status cu_checkpoint_save(const char *path, const struct cu_unet *net, const struct cu_train_config *cfg,
                                  const struct cu_train_state *state, struct cu_err *err);

struct cu_st_file;
/* Reads path: the configuration and state (history included; free it with
 * cu_history_free), and keeps the file open in *file for cu_checkpoint_apply
 * (free with cu_st_file_free). */
enum cu_status cu_checkpoint_load(const char *path, struct cu_train_config *cfg, struct cu_train_state *state,
                                  struct cu_st_file **file, struct cu_err *err);
/* Uploads the file's weights and moments into a net built from its config;
 * every parameter must be present with its shape (CU_EINPUT otherwise). */
enum cu_status cu_checkpoint_apply(const struct cu_st_file *file, struct cu_unet *net, struct cu_err *err);

#endif
