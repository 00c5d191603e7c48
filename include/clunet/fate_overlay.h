/* fate_overlay.h: a picture of what became of each nucleus (fates.h): the
 * image at full brightness, every predicted nucleus outlined in the colour
 * of its fate and every missed true nucleus outlined in its own colour, so
 * that a person sees at a glance where a model fails. Host only.
 *
 * Colours (also the legend of `clunet eval --report`): matched green
 * #2ECC40, piece of a split orange #FF851B, merging magenta #F012BE, false
 * red #FF4136; missed true nuclei yellow #FFDC00 (drawn under the
 * predictions' outlines). Outlines as overlay.h's rule with thickness 1,
 * or 2 for images of 512 pixels or more on a side. */
#ifndef CLUNET_FATE_OVERLAY_H
#define CLUNET_FATE_OVERLAY_H

#include <stdint.h>

#include "clunet/fates.h"

/* The colour of a fate (CU_FATE_MISSED: the missed true nuclei's). */
void cu_fate_colour(enum cu_fate f, uint8_t rgb[3]);

/* out (H,W,3) = rgb with the outlines above; out may equal rgb. pred and
 * truth are the label images f was computed from. */
void cu_fate_overlay_draw(uint8_t *out, const uint8_t *rgb, const int32_t *pred, const int32_t *truth,
                          const struct cu_fates *f, int h, int w);

#endif
