/* predict.h: from images to probability maps, masks and nuclei with a
 * trained U-Net (`clunet predict`), and the options `clunet eval` shares.
 *
 * A predictor holds one network loaded from a model file (which supplies S,
 * c and the up-sampling mode) and every buffer a run needs, allocated once
 * and grown only when a larger image arrives, so nothing is allocated per
 * tile. It turns a struct cu_image of any size into a probability map of
 * the same size, in one of two modes:
 *
 *   resize  the original pipeline: the image is resized to S x S
 *           (cu_resize, scikit-image's arithmetic), predicted, and the
 *           S x S probability map resized back to H x W the same way
 *           (anti-aliased when shrinking), then thresholded by the caller.
 *   tile    native resolution: S x S tiles at a stride of S/2 (tile
 *           origins spread evenly so the last tile ends on the image's
 *           edge), each tile's probabilities weighted by a raised-cosine
 *           window w(i) w(j), w(i) = sin^2(pi (i + 0.5) / S) (never 0, so
 *           the image's border pixels, seen by one tile only, keep that
 *           tile's value), summed, and divided by the summed weights. An
 *           axis shorter than S is centred in the tile and padded by
 *           mirroring (numpy's 'reflect'), so the network sees no
 *           artificial edge.
 *   auto    tile when H or W exceeds S, else resize.
 *   model   (the default) what the model was trained for: its file's
 *           metadata train_mode "crop" (clunet train --crop) means tile,
 *           with the image first rescaled by its "scale" (maps scaled
 *           back) and preprocessed by its "prep" (nuclei.h); anything
 *           else (whole images resized to S x S) means resize.
 * A model of K > 1 outputs gives K maps; nuclei then come from
 * cu_instances_from_maps (body, contour, border), else from the one map.
 *
 * With tta each S x S input is predicted in the 8 flips/90-degree
 * rotations (dataset.h's cu_augment_apply), each output turned back, and
 * the 8 maps averaged. Inputs go through the network `batch` at a time
 * (the tiles and views of one image share a batch).
 *
 * Not here: instances (instances.h), scoring (metrics.h), files and the
 * command line (clunet_predict, cmd_predict.c). */
#ifndef CLUNET_PREDICT_H
#define CLUNET_PREDICT_H

#include <stdio.h>

#include "clunet/backend.h"
#include "clunet/image.h"
#include "clunet/instances.h"
#include "clunet/unet.h"

enum cu_predict_mode { CU_PREDICT_AUTO, CU_PREDICT_RESIZE, CU_PREDICT_TILE, CU_PREDICT_MODEL };

/* "auto", "resize", "tile"; parse returns -1 for anything else. */
const char *cu_predict_mode_name(enum cu_predict_mode m);
int cu_predict_mode_parse(const char *s);

struct cu_predict_opts {
    enum cu_predict_mode mode; /* default model (see cmd_predict.c) */
    int tta;                   /* 8-view test-time augmentation; default 0 */
    /* --threshold / --tta / --no-tta / --min-size / --seed-threshold /
     * --border-weight given: otherwise the model file's metadata `threshold`,
     * `tta`, `min_size`, `seed_threshold` and `border_weight` (chosen on
     * training images when the model was made; models/README.md) replace
     * the defaults. */
    int threshold_set, tta_set, min_size_set, seed_set, border_set;
    int batch;                 /* S x S inputs per forward pass; default 4 */
    struct cu_inst_opts inst;  /* threshold 0.5, watershed on, h 1, min_size 10 */
    /* How images become input (image.h): --channel, --normalize, --page.
     * What is not set comes from the model file (what training used). */
    struct cu_input_opts input;
    int channel_set, norm_set, page_set;
    int skip_bad;              /* --skip-bad: leave out unreadable images, listing them */
};

void cu_predict_opts_default(struct cu_predict_opts *o);

/* The model-file metadata keys that are prediction defaults (above):
 * threshold, min_size, tta, seed_threshold, border_weight. A fine-tuning
 * run passes them on from its --init file (train_setup.c). */
enum { CU_MODEL_DEFAULT_KEYS = 5 };
extern const char *const cu_model_default_keys[CU_MODEL_DEFAULT_KEYS];

struct cu_predictor;

/* Loads the model file on be (borrowed; must outlive the predictor). A
 * corrupt, truncated or foreign model file is CU_EINPUT naming it. */
enum cu_status cu_predictor_new(struct cu_backend *be, const char *model_path, const struct cu_predict_opts *o,
                                struct cu_predictor **out, struct cu_err *err);
void cu_predictor_free(struct cu_predictor *p);
const struct cu_unet_config *cu_predictor_config(const struct cu_predictor *p);
/* The input options for images: the model file's input_channel and
 * normalize (its training's), overridden by those the options set. */
void cu_predictor_input(const struct cu_predictor *p, struct cu_input_opts *out);

/* The mode used for an image of h x w (auto resolved). */
enum cu_predict_mode cu_predictor_mode_for(const struct cu_predictor *p, int h, int w);
/* Number of S x S network inputs an image of h x w needs (tiles x views). */
long cu_predictor_inputs_for(const struct cu_predictor *p, int h, int w);

/* prob (img->h * img->w, row-major) = the probability map of img (c = the
 * model's input channels), in [0, 1]: output channel 0 (the nuclei). */
enum cu_status cu_predictor_prob(struct cu_predictor *p, const struct cu_image *img, float *prob,
                                 struct cu_err *err);

/* "mode tile (the model's), prep grey,normalize, scale 1, trained on
 * crops, 3 outputs (...)": how images are fed, for reports. */
void cu_predictor_describe(const struct cu_predictor *p, char *buf, size_t size);
/* The model's output channels K, and all K maps: maps (K, h, w). */
int cu_predictor_outputs(const struct cu_predictor *p);
enum cu_status cu_predictor_maps(struct cu_predictor *p, const struct cu_image *img, float *maps,
                                 struct cu_err *err);

/* The inverse of cu_augment_apply(plane, s, t): plane back to how it was. */
void cu_tta_invert(float *plane, int s, int t, float *scratch);

/* ---- the whole command ---- */

struct cu_predict_run {
    const char *model;
    const char *const *inputs; /* image files, folders of images, DSB folders */
    int n_inputs;
    const char *out_dir;        /* created if missing (one level) */
    const char *device;         /* backend spec, NULL = default */
    struct cu_predict_opts opts;
    int probabilities, instances, overlay; /* extra outputs per image */
    int maps;                   /* <id>_maps.tif: every output map of the model, float32, a page each */
    int prob_png, prob_tif;     /* formats of the probabilities (png when neither is set) */
    int labels_tif;             /* labels as a 32-bit TIFF instead of a 16-bit PNG */
    int measure, rois, geojson; /* nuclei table (+ nuclei_summary.csv), ImageJ ROIs, GeoJSON */
    double pixel_size_um;       /* > 0: micrometres per pixel for every image (--pixel-size) */
    const char *submission;     /* Kaggle CSV path, or NULL */
    FILE *progress;             /* progress bar (stderr) or NULL */
    FILE *report;               /* summary lines (stdout) or NULL */
    FILE *notes;                /* notes on changed outputs (stderr) or NULL */
};

/* Predicts every image of every input and writes the outputs (predict.h's
 * header and `clunet predict --help` describe them). Each file is written
 * atomically; the first failure stops the run with one line in err. */
enum cu_status clunet_predict(const struct cu_predict_run *r, struct cu_err *err);

#endif
