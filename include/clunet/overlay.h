/* overlay.h: a picture of what was found: every nucleus of a label image
 * outlined in its own colour on the input image, shown contrast-stretched
 * at full brightness (faint fluorescence nuclei stay visible under their
 * outlines). Host only; leaves out PNG writing (png_io) and any legend.
 *
 * Layouts: rgb and out are 8-bit RGB, H*W*3 bytes, row-major, channels
 * interleaved; labels int32_t H*W (0 background, positive = nucleus).
 *
 * Outline: the pixels of a nucleus that have a pixel of another label
 * (background included) within Chebyshev distance `thickness` (1: its
 * 8-neighbourhood, a line 1-2 px wide; 2: its 5x5 neighbourhood). Pixels
 * on the image border count as outline too, so cut nuclei stay closed.
 * Colour of label l: hue = frac(0.1 + 0.618034 l) (the golden-ratio walk,
 * so neighbouring labels get far-apart hues), saturation 0.85, value 1.
 * Everything else is the input as given (cu_overlay_base makes it).
 *
 * Base picture: the image's samples (all channels) stretched linearly so
 * that their 0.5th percentile is 0 and their 99.5th is 255 (clamped
 * outside), so a faint image fills the whole range; an image whose
 * percentiles meet is shown unstretched. */
#ifndef CLUNET_OVERLAY_H
#define CLUNET_OVERLAY_H

#include <stdint.h>

#include "clunet/status.h"

/* The RGB colour of label l (> 0), see above. */
void cu_overlay_colour(int32_t l, uint8_t rgb[3]);

/* Whether pixel (y, x) lies on the outline of its label (the rule above,
 * with thickness t); call it only for pixels of a nucleus. */
int cu_overlay_on_outline(const int32_t *labels, int h, int w, int y, int x, int t);

/* The base picture (above) of a planar float image px (channels 1..4 of
 * h*w values in [0, 1]; channel 0 stands for missing ones) into rgb
 * (h*w*3, interleaved). */
void cu_overlay_base(const float *px, int channels, int h, int w, uint8_t *rgb);

/* out (H,W,3) = rgb with outlines; out may equal rgb. thickness 1 or 2
 * (others: CU_EUSAGE). */
enum cu_status cu_overlay_draw(uint8_t *out, const uint8_t *rgb, const int32_t *labels, int h, int w,
                               int thickness, struct cu_err *err);

#endif
