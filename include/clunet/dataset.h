/* dataset.h: image folders in memory, ready for upload: finding the layout,
 * loading every image once at S x S, the train/validation split, instance
 * labels for evaluation, and augmentation of a host batch.
 *
 * Layouts (cu_dataset_scan detects which; `--data DIR`):
 *   DSB train  DIR/<id>/images/<id>.png + DIR/<id>/masks/<name>.png (one binary
 *              mask per nucleus; the training mask is their union)
 *   DSB test   DIR/<id>/images/<id>.png, no masks (predict only)
 *   pairs      DIR/images/<name>.png + DIR/masks/<name>.png (also
 *              <stem>_mask.png or <stem>_masks.png), a mask being binary or
 *              a label image (8/16-bit, 0 = background), the StarDist /
 *              Cellpose habit
 *   flat       DIR/<name>.png, images only (predict only)
 * A DIR holding stage1_train/ (or, for images only, stage1_test/) and none
 * of the above is read through that folder: `clunet synth --out DIR` then
 * `--data DIR` works. A DIR holding both is refused (CU_EUSAGE, naming
 * both): either choice would be a guess.
 *
 * Loaded arrays (NCHW float32, contiguous, sample i at i * 3*S*S):
 * images (N,3,S,S) in [0,1], masks (N,1,S,S) in {0,1}, ids sorted with
 * strcmp. Both are resized exactly as the original pipeline (image.h:
 * cu_resize; mask = union resized the same way, then > 0.5).
 *
 * Bad data (an image without a masks folder, an empty masks folder or
 * folder, a mask of another size than its image, an unreadable file) stops
 * the load with one line naming the file (CU_EINPUT), unless skip_bad is
 * set: then the sample is left out and its line kept in bad[] for the
 * caller to list.
 *
 * Not here: device upload (the trainer's), prediction outputs. */
#ifndef CLUNET_DATASET_H
#define CLUNET_DATASET_H

#include <stdint.h>
#include <stdio.h>

#include "clunet/image.h"
#include "clunet/status.h"

enum cu_layout { CU_LAYOUT_DSB_TRAIN, CU_LAYOUT_DSB_TEST, CU_LAYOUT_PAIRS, CU_LAYOUT_FLAT };

/* "DSB2018 training", "DSB2018 test (images only)", "images/ + masks/",
 * "folder of images" */
const char *cu_layout_name(enum cu_layout l);

struct cu_sample {
    char *id;    /* DSB: folder name; pairs/flat: file name without .png */
    char *image; /* path of the image */
    char *masks; /* DSB train: masks folder; pairs: mask file; else NULL */
};

struct cu_dataset {
    enum cu_layout layout;
    char *dir;      /* the folder actually read (may end in stage1_train) */
    int has_masks;  /* DSB train and pairs */
    int n;          /* samples kept */
    struct cu_sample *samples; /* n, sorted by id */
    /* after cu_dataset_load: */
    int size;       /* S */
    float *images;  /* (n,3,S,S) */
    float *masks;   /* (n,1,S,S), NULL without masks */
    int *height, *width; /* original sizes, n each */
    /* with skip_bad: one "path: what is wrong" line per sample left out */
    int n_bad;
    char **bad;
    struct cu_input_opts input; /* as loaded (cu_dataset_load) */
    /* files in the image and mask folders that are not images (by name) */
    int n_skipped;
    char **skipped;
};

struct cu_dataset_opts {
    int size;          /* S: loads at S x S */
    int need_masks;    /* refuse layouts without masks (training, eval) */
    int skip_bad;      /* leave bad samples out, listing them in bad[] */
    int threads;       /* loader threads; <= 0 means 2 */
    struct cu_input_opts input; /* how images become network input (image.h) */
    FILE *progress;    /* progress bar stream (stderr), or NULL */
};

/* Finds the layout and the samples of dir; reads no pixels. */
enum cu_status cu_dataset_scan(const char *dir, const struct cu_dataset_opts *o, struct cu_dataset **out,
                               struct cu_err *err);
/* Reads and resizes every sample into ds->images / ds->masks. */
enum cu_status cu_dataset_load(struct cu_dataset *ds, const struct cu_dataset_opts *o, struct cu_err *err);
/* One line naming the files cu_dataset_scan left out as not images
 * ("data: skipped 3 files that are not PNG, TIFF or JPEG: a, b, c"); nothing
 * when there are none or f is NULL. */
void cu_dataset_print_skipped(const struct cu_dataset *ds, FILE *f);
/* scan + load. */
enum cu_status cu_dataset_open(const char *dir, const struct cu_dataset_opts *o, struct cu_dataset **out,
                               struct cu_err *err);
void cu_dataset_free(struct cu_dataset *ds);

/* Instance labels of sample i at its original size, for evaluation:
 * 0 = background, 1..K the nuclei. DSB: mask file k (sorted by name) is
 * label k+1; a pixel claimed by two masks keeps the first. Pairs: a label
 * image as is; a binary mask (two values, 0 and one other) is split into
 * 8-connected components. *count gets K (the largest label). */
enum cu_status cu_dataset_labels(const struct cu_dataset *ds, int i, struct cu_labels *out, int *count,
                                 struct cu_err *err);

/* The union mask of sample i at original size, 0/1 floats (h, w); for
 * callers that evaluate at the original size. */
enum cu_status cu_dataset_union(const struct cu_dataset *ds, int i, struct cu_image *out, struct cu_err *err);

/* Train/validation split as Keras validation_split: order[] gets 0..n-1
 * (shuffled first with seed when shuffle), then the first
 * n_train = floor(n * (1 - val_frac)) entries are the training samples and
 * the rest the validation ones. Deterministic (splitmix64). */
void cu_split_make(int n, double val_frac, int shuffle, uint64_t seed, int *order, int *n_train);

/* Copies samples idx[0..b) of ds into x (b,3,S,S) and y (b,1,S,S) (y may
 * be NULL). */
void cu_dataset_gather(const struct cu_dataset *ds, const int *idx, int b, float *x, float *y);

/* Augmentation, training batches only: each sample of x (b,cx,s,s) and y
 * (b,cy,s,s) gets one of the 8 flips/90-degree rotations, drawn from *rng
 * (any seed), the same for its image and mask. scratch holds s*s
 * floats. t: 0..7 = (rotate by 90 degrees t%4 times counter-clockwise),
 * then flip left-right if t>=4. */
void cu_augment_batch(float *x, int cx, float *y, int cy, int b, int s, uint64_t *rng, float *scratch);
void cu_augment_apply(float *plane, int s, int t, float *scratch);

/* cu_rand_next, the seeded generator of split, augment and synth: util.h. */
#include "clunet/util.h"

#endif
