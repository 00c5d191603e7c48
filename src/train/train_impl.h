/* train_impl.h: what the two halves of the trainer share: the state of a
 * run (struct cu_trainer) and the set-up of a new or resumed run
 * (train_setup.c), used by the epoch loop (train.c).
 * Leaves out: the public interface (include/clunet/train.h). */
#ifndef CLUNET_TRAIN_IMPL_H
#define CLUNET_TRAIN_IMPL_H

#include <stdio.h>

#include "io/checkpoint.h"
#include "clunet/backend.h"
#include "clunet/comm.h"
#include "clunet/replicas.h"
#include "clunet/train.h"
#include "train/train_data.h"
#include "train/train_html.h"
#include "train/train_report.h"

struct cu_trainer {
    const struct cu_train_opts *o;
    struct cu_train_config cfg;
    struct cu_train_state st;
    const char *dir;
    char path[4096]; /* scratch for dir/name */
    struct cu_comm *comm;
    int rank, size;
    struct cu_replicas *reps;
    struct cu_backend *be; /* replica 0's: the one named in logs */
    struct cu_caps caps;
    /* A resume given no device of its own opened the run's (the
     * checkpoint's state.device_spec), as the log says. */
    int devices_from_run;
    int run_spec_known; /* a resume of a checkpoint with state.device_spec */
    struct cu_unet *net;   /* replica 0's: the one saved */
    struct cu_train_data data;
    float *hx, *hy;        /* one global batch */
    float *next_x, *next_y; /* the next one, drawn while hx, hy train (prefetch.h) */
    int *perm;
    struct cu_text log;
    FILE *out; /* NULL when quiet */
    long batches;    /* taken by this process (stop_after_batches) */
    double t_data, t_step, t_val, t_save; /* this epoch's phases, for -v */
    float epoch_lr; /* the lr of the epoch's first step (--lr-schedule) */
    int have_checkpoint, ckpt_epoch, ckpt_mid_epoch;
    int lock_fd;     /* rank 0's lock on the run folder (dir_lock.h), or -1 */
    int made_dir;    /* this run created its folder (removed again on a failure before any checkpoint) */
    struct cu_train_html html; /* report.html's overlays */
};

/* dir/name in tr->path (overwritten by the next call). */
const char *cu_train_path(struct cu_trainer *tr, const char *name);
/* Records what the checkpoint on disk now holds, for the NaN message. */
void cu_train_note_checkpoint(struct cu_trainer *tr);
/* err->status, with advice added to an out-of-memory message. */
enum cu_status cu_train_memory_hint(struct cu_err *err);

/* A new run: checks the options and the run folder (rank 0), opens the
 * devices and builds the replicas, He init. Every rank calls it; all
 * return the same status. */
enum cu_status cu_train_setup_new(struct cu_trainer *tr, struct cu_err *err);
/* A resumed run: rank 0 reads the checkpoint and gives its configuration,
 * state, weights and moments to every rank and replica. */
enum cu_status cu_train_setup_resume(struct cu_trainer *tr, struct cu_err *err);

#endif
