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
 * named in one line on note (when not NULL). */
enum cu_status cu_item_list(const char *const *inputs, int n_inputs, int page, FILE *note, struct cu_item **out,
                            int *n_out, struct cu_err *err);
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

/* Creates dir (one level) if missing and checks that a file can be made in
 * it: CU_EIO naming dir otherwise. */
enum cu_status cu_out_dir_prepare(const char *dir, struct cu_err *err);

/* One image's results, at its size: probabilities, nuclei (after
 * min_size), n nuclei. Buffers grow as needed. */
struct cu_pred_image {
    float *prob;
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
