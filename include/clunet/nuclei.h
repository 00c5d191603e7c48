/* nuclei.h: what the nuclei recipe adds to an image before the network
 * and to the truth before the loss, shared by training and prediction.
 *
 * Preprocessing (cu_prep_image, flags CU_PREP_*), in place on a (3, h, w)
 * image in [0, 1]:
 *   CU_PREP_GREY       the mean of the three planes into all three; when
 *                      that grey image's mean is above 0.5 (a bright
 *                      background: brightfield, stained tissue) it is
 *                      inverted, so nuclei are always brighter than their
 *                      surroundings.
 *   CU_PREP_NORMALIZE  per plane, the 1st and 99.8th percentiles (of a
 *                      4096-bin histogram) stretched to 0 and 1, clipped;
 *                      a plane whose percentiles coincide is left alone.
 *                      Training no longer sets it (`--normalize` is the
 *                      image reader's, image.h); predict still applies it
 *                      for models whose metadata names it.
 * Model files record the flags (metadata "prep": "grey", "grey,normalize",
 * "" for none), so predict applies what training applied.
 *
 * Targets (cu_targets_from_labels): from an instance label image (0 =
 * background), one byte per pixel with
 *   bit 0 (CU_T_BODY)    the pixel belongs to a nucleus;
 *   bit 1 (CU_T_CONTOUR) it belongs to nucleus k and an 8-neighbour (inside
 *                        the image) does not: the nucleus's inner rim;
 *   bit 2 (CU_T_BORDER)  its 5x5 neighbourhood holds two different nuclei:
 *                        the thin band where nuclei touch or nearly touch
 *                        (gaps up to 3 pixels), background or not.
 * A K = 3 model learns [body, contour, border]; K = 1 the body alone. */
#ifndef CLUNET_NUCLEI_H
#define CLUNET_NUCLEI_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

enum { CU_PREP_GREY = 1, CU_PREP_NORMALIZE = 2 };
enum { CU_T_BODY = 1, CU_T_CONTOUR = 2, CU_T_BORDER = 4 };

void cu_prep_image(float *px, int h, int w, int flags);
/* "grey,normalize"-style names of flags into buf; parse: -1 on an unknown
 * word. */
void cu_prep_name(int flags, char *buf, size_t size);
int cu_prep_parse(const char *s);

/* bits (h, w) from labels (h, w). */
void cu_targets_from_labels(const uint32_t *labels, int h, int w, uint8_t *bits);

#endif
