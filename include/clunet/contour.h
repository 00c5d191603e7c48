/* contour.h: the outline of every nucleus of a label image as a polygon on
 * pixel corners, for the ROI and GeoJSON exports.
 *
 * Corner (x, y) is the top-left corner of pixel (x, y), so pixel (x, y)
 * covers [x, x+1] x [y, y+1] (ImageJ's and QuPath's convention). The
 * outline follows pixel edges around the 8-connected part of the label
 * that holds its first pixel (top row, then leftmost), keeping the label
 * on its right (clockwise on screen, y pointing down); where two pixels
 * of the label touch only at a corner the outline passes through that
 * corner twice. Only corners where the outline turns are kept. Holes are
 * not outlined, so the polygon's area (shoelace) is the pixel count of
 * that part with its holes filled; a label in several parts (rare after
 * the watershed) is outlined by its first part only. */
#ifndef CLUNET_CONTOUR_H
#define CLUNET_CONTOUR_H

#include <stdint.h>

#include "clunet/status.h"

struct cu_outlines {
    int n;          /* nuclei (labels present) */
    int32_t *label; /* n, ascending */
    long *start;    /* n + 1: nucleus i's vertices are start[i] .. start[i+1]-1 */
    int *xy;        /* vertices as (x, y) pairs, each polygon open (first not repeated) */
};

/* Outlines every label > 0 of lab (h, w, row major). Fails only on
 * allocation (CU_EDEVICE, out of host memory). */
enum cu_status cu_outlines_trace(const int32_t *lab, int h, int w, struct cu_outlines *out, struct cu_err *err);
void cu_outlines_free(struct cu_outlines *o);

#endif
