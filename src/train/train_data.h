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

/* Crop mode (--crop): one image at native size (times --scale), after
 * preprocessing, with its target bits (nuclei.h). */
struct cu_crop_image {
    int h, w, planes; /* planes: 1 (grey) or 3 */
    float *px;        /* (planes, h, w) */
    uint8_t *bits;    /* (h, w) */
};

/* A validation tile: image and origin (negative: reflected padding). */
struct cu_crop_tile {
    int img, oy, ox;
};

struct cu_train_data {
    struct cu_dataset *ds; /* images (n,3,S,S), masks (n,1,S,S); crop mode: scanned only */
    int n, n_train, n_val;
    int *order;             /* n: training indices first, then validation */
    int *train_idx, *val_idx; /* into order */
    float *scratch;         /* S*S floats for augmentation */
    const char *layout;
    /* what an epoch draws: n_items training items (sample indices; crop
     * mode repeats an image by its area), and n_val_items validation
     * items (resize mode: the validation samples; crop mode: tiles) */
    int n_items, n_val_items;
    int *items;
    int S, K, augment;
    /* crop mode */
    int crop, intensity;
    double jitter;
    struct cu_crop_image *img; /* n */
    struct cu_crop_tile *tiles; /* n_val_items */
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

/* Training batch from items idx[0..n) into x (n,3,S,S) and y (n,K,S,S):
 * resize mode copies the samples, then with --augment each pair gets the
 * same random flip/rotation from rng; crop mode draws a crop of each
 * item's image and its augmentation from rng. */
void cu_train_data_gather(const struct cu_train_data *d, const int *idx, int n, uint64_t *rng, float *x, float *y);
/* Validation items first..first+n into x and y (never augmented). */
void cu_train_data_gather_val(const struct cu_train_data *d, int first, int n, float *x, float *y);

/* crop_data.c: loads the images of d->ds at native size for crop mode and
 * makes the items and tiles; the gathers of crop mode. */
enum cu_status cu_crop_data_load(const struct cu_train_config *cfg, FILE *progress, struct cu_train_data *d,
                                 struct cu_err *err);
/* After the split: d->items (training images repeated by area) and
 * d->tiles (validation images cut into S x S tiles). */
enum cu_status cu_crop_data_items(struct cu_train_data *d, struct cu_err *err);
void cu_crop_data_free(struct cu_train_data *d);
void cu_crop_gather(const struct cu_train_data *d, const int *idx, int n, uint64_t *rng, float *x, float *y);
void cu_crop_gather_val(const struct cu_train_data *d, int first, int n, float *x, float *y);

/* The epoch's stream (1-based epoch): a state derived from seed and epoch. */
uint64_t cu_train_rng_for_epoch(uint64_t seed, int epoch);
/* Fisher-Yates shuffle of a[0..n) from *rng. */
void cu_train_shuffle(uint64_t *rng, int *a, int n);

#endif
