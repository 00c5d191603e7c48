/* predict_impl.h: pieces that clunet_predict (predict_run.c) and
 * clunet_eval (eval.c) share, seen only inside src/: the list of input
 * images, the output-folder check, and one image's prediction with its
 * nuclei (buffers reused from image to image). */
#ifndef CLUNET_PREDICT_IMPL_H
#define CLUNET_PREDICT_IMPL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "clunet/predict.h"

struct cu_item {
    char *id, *path; /* output id, image file */
    int page;        /* 0-based page of the file */
};

/* Every image of the inputs (files or folders), sorted by id; ids must be
 * unique. page >= 0: that page of every file; page < 0: every page of a
 * multi-page file (z/t positions; channels stay together), as
 * <id>_p<N> (N from 1). Files in the folders that are not images are
 * named in one line on note (when not NULL). With say, one line per
 * folder: the layout found and its count. */
enum cu_status cu_item_list(const char *const *inputs, int n_inputs, int page, FILE *note, FILE *say,
                            struct cu_item **out, int *n_out, struct cu_err *err);
void cu_item_list_free(struct cu_item *items, int n);

/* --skip-bad: the lines of the images left out. add takes err's message
 * and clears err (CU_OK, or out of memory); print writes "skipped N bad
 * images (--skip-bad):" and the lines to f (nothing when none). */
struct cu_skipped {
    int n;
    char **lines;
};
enum cu_status cu_skipped_add(struct cu_skipped *s, struct cu_err *err);
void cu_skipped_print(const struct cu_skipped *s, FILE *f);
void cu_skipped_free(struct cu_skipped *s);

/* One kind of output file per image: "<id><suffix>" in the output folder,
 * and what it holds in words ("mask", "labels") for messages. */
struct cu_out_kind {
    const char *suffix, *what;
};

/* Refuses (CU_EUSAGE, naming the file) before anything is written: two
 * outputs with one name (for example the labels of x and the mask of an
 * input named x_labels), an output or the submission that is one of the
 * input images (--out the input folder), the submission named like an
 * output, and, with a submission, an id the CSV cannot hold. out_dir
 * should exist (cu_out_dir_prepare) so that files compare by inode. */
enum cu_status cu_out_names_check(const struct cu_item *items, int n, const char *out_dir,
                                  const struct cu_out_kind *kinds, int nk, const char *submission, struct cu_err *err);

/* Creates dir (one level) if missing (*created = 1 then), with lock locks
 * it for this process (io/dir_lock.h: another clunet writing there is
 * CU_EUSAGE naming its pid) and checks that a file can be made in it:
 * CU_EIO naming dir otherwise. */
enum cu_status cu_out_dir_prepare(const char *dir, int lock, int *created, int *lock_fd, struct cu_err *err);
/* Releases the lock; after a failure, a folder prepare created is removed
 * again when nothing was written into it. */
void cu_out_dir_finish(const char *dir, int created, int lock_fd, int failed);

/* One image's results, at its size: the model's K maps (prob: K planes,
 * the first the probability of a nucleus, then for a three-output model
 * contour and border), nuclei (after min_size), n nuclei. Buffers grow as
 * needed. */
struct cu_pred_image {
    float *prob;
    int K, kcap; /* maps now, maps the buffer holds */
    int32_t *labels;
    uint8_t *mask;
    int n;
    size_t cap;
};

enum cu_status cu_pred_image_run(struct cu_predictor *p, const struct cu_image *img, struct cu_pred_image *pi,
                                 struct cu_err *err);
void cu_pred_image_free(struct cu_pred_image *pi);

/* The nuclei table (+ its row of summary), ROI set and GeoJSON of one
 * image, as r asks (exports.c). img: the network's input; raw: the file's
 * samples and pixel size (NULL: intensities from img, no pixel size but
 * r->pixel_size_um). */
struct cu_summary;
enum cu_status cu_predict_exports(const struct cu_predict_run *r, const char *id, const struct cu_image *img,
                                  const struct cu_raw_image *raw, const struct cu_pred_image *pi,
                                  struct cu_summary *summary, struct cu_err *err);

#endif
