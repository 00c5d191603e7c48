/* instances.h: from a probability map to a label image of separate nuclei,
 * on the host (no backend). Holds thresholding, connected components, the
 * exact Euclidean distance transform, the marker-based watershed that splits
 * touching nuclei, and the small-object filter. Leaves out image I/O and
 * scoring (metrics.h) and drawing (overlay.h).
 *
 * Layouts: every image is H*W values, row-major (index y*W + x). A mask is
 * uint8_t, 0 = background, anything else = foreground. A label image is
 * int32_t, 0 = background, 1..N = nuclei; one label per pixel, so nuclei
 * never overlap.
 *
 * The method (cu_instances_from_prob):
 *  1. mask = prob > threshold (strictly; NaN is background).
 *  2. Without watershed: the 8-connected components of the mask.
 *     With watershed:
 *     a. d = exact Euclidean distance of each mask pixel to the nearest
 *        background pixel of the image (Felzenszwalb-Huttenlocher, two 1-D
 *        passes on squared distances). Pixels outside the image are not
 *        background, as in scipy.ndimage.distance_transform_edt, so a
 *        nucleus cut by the border keeps its peak at the border. A mask with
 *        no background at all gets d = H + W everywhere (one plateau).
 *     b. markers = the h-maxima of d: the regional maxima (8-connected
 *        plateaus with no higher 8-neighbour in the mask) of the
 *        morphological reconstruction by dilation of d - h under d. A peak
 *        becomes its own nucleus only when it rises more than h pixels of
 *        distance above the saddle that joins it to a higher peak, so a neck
 *        between two touching disks splits them, and the small ripples of a
 *        digitised ellipse do not. Every mask component holds at least one
 *        marker, so no foreground is lost.
 *     c. flooding from the markers: a priority queue (buckets over the
 *        ranked values of d) pops the pixel of largest d first, ties first
 *        in first out, and hands its label to each unlabelled 8-neighbour in
 *        the mask; labels therefore cover the mask exactly, with no
 *        watershed line between touching nuclei, and each nucleus is one
 *        8-connected region inside one component of step 2.
 *  3. min_size: nuclei of fewer than min_size pixels are removed (set to 0).
 *  4. Labels are renumbered 1..N in row-major order of each nucleus's first
 *     pixel, so the result does not depend on the order of the steps.
 *
 * Parameters (struct cu_inst_opts, defaults from cu_inst_opts_default):
 *  threshold 0.5, watershed on, h 1.0 pixel, min_size 10 pixels.
 *  h was chosen on true masks: the union of the true nuclei of every 5th
 *  stage1_train image (101 images) re-split and scored against the truth
 *  gives a mean DSB score of 0.760 with plain components, and with the
 *  watershed 0.516 (h 0), 0.853 (0.5), 0.879 (1), 0.869 (1.5), 0.853 (2),
 *  0.834 (3), 0.803 (6); h = 1 stays best when the masks are first blurred
 *  (sigma 1-3 px) to imitate a network's soft output (docs/postprocessing.md).
 *  A larger h merges more; h = 0 splits at every ripple of the distance map.
 *
 * Cost: O(H*W) time for every step; about 0.07 s of CPU for a 1388x1040
 * map with ~360 nuclei (tests/bench_postproc.c).
 *
 * Errors: only out of host memory (CU_EDEVICE, as backend.c reports host
 * memory) and bad arguments (CU_EUSAGE). *n_out is set only on success;
 * after a failure the output arrays may be partly written. */
#ifndef CLUNET_INSTANCES_H
#define CLUNET_INSTANCES_H

#include <stdint.h>

#include "clunet/status.h"

struct cu_inst_opts {
    float threshold; /* foreground where prob > threshold */
    int watershed;   /* 0: plain 8-connected components */
    float h;         /* h-maxima height, pixels of distance (>= 0) */
    int min_size;    /* nuclei with fewer pixels are removed (0: keep all) */
    /* three-map models only (cu_instances_from_maps): */
    float seed_threshold; /* markers where the seed value > this; < 0: threshold */
    float border_weight;  /* weight of the border map in the seed value (1) */
};

void cu_inst_opts_default(struct cu_inst_opts *o);

/* mask (H,W) = prob (H,W) > threshold, as 0/1. */
void cu_mask_threshold(uint8_t *mask, const float *prob, int h, int w, float threshold);

/* labels (H,W) = 8-connected components of mask, numbered 1..n in row-major
 * order of their first pixel; *n_out = n. Two pixels touching only at a
 * corner belong to the same nucleus. */
enum cu_status cu_label_components(int32_t *labels, int *n_out, const uint8_t *mask, int h, int w,
                                   struct cu_err *err);

/* dist (H,W) = Euclidean distance from each mask pixel to the nearest
 * background pixel in the image (0 on background); see the method, 2a. */
enum cu_status cu_distance_transform(float *dist, const uint8_t *mask, int h, int w, struct cu_err *err);

/* labels (H,W) = marker-based watershed of dist restricted to mask, markers
 * the h-maxima of dist (method 2b, 2c); *n_out = number of nuclei, numbered
 * 1..n in row-major order of their first pixel. */
enum cu_status cu_watershed(int32_t *labels, int *n_out, const float *dist, const uint8_t *mask, int h, int w,
                            float hmax, struct cu_err *err);

/* Watershed from given markers: labels holds the markers on entry (> 0,
 * inside mask; 0 elsewhere) and the flooded nuclei on return; flooding
 * pops the queued pixel of highest prio first (as method 2c). Mask pixels
 * that no marker reaches stay 0. Renumbered as cu_watershed; *n_out. */
enum cu_status cu_watershed_from(int32_t *labels, int *n_out, const float *prio, const uint8_t *mask, int h, int w,
                                 struct cu_err *err);

/* Instances from the three maps of a K = 3 model (each (H,W), in [0,1]):
 * body (nucleus), contour (its rim), border (where two nuclei touch).
 *  1. mask = body > threshold.
 *  2. seed value s = body - contour - border_weight * border; markers =
 *     the 8-connected components of s > seed_threshold inside the mask
 *     (seed_threshold < 0, the default: threshold). A heavier border cuts
 *     touching nuclei apart where the border map is faint; a lower seed
 *     threshold keeps the faint nuclei's markers (docs/postprocessing.md).
 *  3. watershed from the markers inside the mask, highest s first.
 *  4. mask components no marker reached become nuclei of their own.
 *  5. min_size, renumbering (as method 3, 4).
 * Without o->watershed, plain components of the mask. mask_out (may be
 * NULL) receives the mask. */
enum cu_status cu_instances_from_maps(int32_t *labels, int *n_out, uint8_t *mask_out, const float *body,
                                      const float *contour, const float *border, int h, int w,
                                      const struct cu_inst_opts *o, struct cu_err *err);

/* Removes nuclei of fewer than min_size pixels and renumbers the rest 1..n
 * in row-major order of their first pixel; labels must be >= 0. *n_out = n. */
enum cu_status cu_labels_filter(int32_t *labels, int *n_out, int h, int w, int min_size, struct cu_err *err);

/* The whole method above: labels (H,W) from prob (H,W); *n_out nuclei.
 * mask (H,W) may be NULL; if given it receives the thresholded mask (before
 * min_size). */
enum cu_status cu_instances_from_prob(int32_t *labels, int *n_out, uint8_t *mask, const float *prob, int h, int w,
                                      const struct cu_inst_opts *o, struct cu_err *err);

#endif
