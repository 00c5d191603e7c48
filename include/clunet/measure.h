/* measure.h: per-nucleus measurements of a label image, defined exactly as
 * scikit-image 0.19's regionprops defines them (checked against it on
 * committed fixtures, tests/test_measure.c), and the convex-hull pixel
 * count that solidity needs.
 *
 * Coordinates: x = column, y = row, pixel (x, y) has its centre at (x, y).
 *   area            pixels of the label
 *   centroid        mean x and mean y of those pixels
 *   bbox            x0, y0 (first column/row) and x1, y1 (one past the last),
 *                   regionprops' bbox (min_row, min_col, max_row, max_col)
 *   eq_diameter     sqrt(4 area / pi), the diameter of a disc of that area
 *   perimeter       regionprops' perimeter (4-neighbourhood): the border pixels
 *                   (a 4-neighbour outside the label) are each weighted by the
 *                   pattern of border pixels around them: 1 for a straight run,
 *                   sqrt(2) for a diagonal step, (1 + sqrt(2)) / 2 for a corner
 *   eccentricity    sqrt(1 - l2 / l1), l1 >= l2 the eigenvalues of the inertia
 *                   tensor from the central second moments (0 when l1 = 0)
 *   convex_area     pixel centres inside or on the convex hull of the midpoints
 *                   of the label pixels' edges (skimage's convex_hull_image
 *                   with offset coordinates)
 *   solidity        area / convex_area
 *   intensity       mean, min and max of each image channel over the label
 *   mean_prob       mean of the probability map over the label
 * Holes and every part of a label in several parts count as the label. */
#ifndef CLUNET_MEASURE_H
#define CLUNET_MEASURE_H

#include <stdint.h>

#include "clunet/status.h"

struct cu_nucleus {
    int32_t label;
    long area, convex_area;
    double cx, cy;
    int x0, y0, x1, y1;
    double eq_diameter, perimeter, eccentricity, solidity;
    double mean_prob;
    double *imean, *imin, *imax; /* nc values each, into the table's storage */
};

struct cu_measure_table {
    int n, nc;               /* nuclei (labels present), image channels */
    struct cu_nucleus *nuc;  /* ascending label */
    double *istore;          /* 3 * n * nc intensity values */
};

/* Measures every label > 0 of labels (h, w, row major). img: nc planes of
 * h*w floats (CHW; nc may be 0 and img NULL); prob: h*w or NULL (mean_prob
 * is then 0). Negative labels are treated as background. Fails only on
 * allocation (CU_EDEVICE, out of host memory). */
enum cu_status cu_measure(const int32_t *labels, int h, int w, const float *img, int nc, const float *prob,
                          struct cu_measure_table *out, struct cu_err *err);
void cu_measure_free(struct cu_measure_table *t);

/* skimage's convex_area of one label from its hull candidates: pts holds n
 * pixels as (x, y) pairs, at least the first and last pixel of every run of
 * the label in every row. Returns the number of pixel centres inside or on
 * the hull, -1 when out of memory. */
long cu_hull_pixel_count(const int *pts, long n);

#endif
