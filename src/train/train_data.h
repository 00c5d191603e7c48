/* train_data.h: the trainer's view of a dataset (dataset.h): all images
 * and masks in memory at S x S, the train/validation split, and the
 * epoch's random stream: one splitmix64 state (cu_rand_next, the io area's
 * generator) that first shuffles the training order and then draws each
 * training sample's flip/rotation. The checkpoint stores the stream's
 * state, so a resume replays an epoch exactly.
 * Leaves out: reading PNGs, resizing, augmentation itself (dataset.c). */
#ifndef CLUNET_TRAIN_DATA_H
#define CLUNET_TRAIN_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "clunet/dataset.h"
#include "clunet/status.h"
#include "clunet/train.h"

struct cu_train_data {
    struct cu_dataset *ds; /* images (n,3,S,S), masks (n,1,S,S) */
    int n, n_train, n_val;
    int *order;             /* n: training indices first, then validation */
    int *train_idx, *val_idx; /* into order */
    float *scratch;         /* S*S floats for augmentation */
    const char *layout;
};

struct cu_comm;

/* Loads cfg->data_dir at cfg->image_size and splits it: the last
 * val_split of the ids in sorted order, or of a shuffled order when
 * cfg->split_seed >= 0. progress: the loading bar's stream (NULL: quiet).
 * comm: the ranks of a training across processes (NULL: this process
 * alone); each rank decodes its shard and every rank gets the whole
 * dataset (cu_dataset_open_shared). */
enum cu_status cu_train_data_load(const struct cu_train_config *cfg, struct cu_comm *comm, FILE *progress,
                                  struct cu_train_data *d, struct cu_err *err);

/* cu_dataset_open for a group of ranks (dataset_shard.c): rank r of p
 * reads and decodes only samples i % p == r, then the group shares the
 * decoded arrays, so that every rank holds what cu_dataset_open gives one
 * process (same samples, same --skip-bad lines, same first error). Every
 * rank must call it; failures are agreed (cu_comm_agree). Progress and
 * "data:" lines only on rank 0. */
enum cu_status cu_dataset_open_shared(const char *dir, const struct cu_dataset_opts *o, struct cu_comm *comm,
                                      struct cu_dataset **out, struct cu_err *err);
void cu_train_data_free(struct cu_train_data *d);

/* Copies samples idx[0..n) into x (n,3,S,S) and y (n,1,S,S); with rng,
 * each (image, mask) pair then gets the same random flip/rotation. */
void cu_train_data_gather(const struct cu_train_data *d, const int *idx, int n, uint64_t *rng, float *x, float *y);

/* The epoch's stream (1-based epoch): a state derived from seed and epoch. */
uint64_t cu_train_rng_for_epoch(uint64_t seed, int epoch);
/* Fisher-Yates shuffle of a[0..n) from *rng. */
void cu_train_shuffle(uint64_t *rng, int *a, int n);

#endif
