/* fate_overlay.c: outlines coloured by fate (see
 * include/clunet/fate_overlay.h). Missed true nuclei first, then the
 * predictions on top; everything else is the image itself. */
#include "clunet/fate_overlay.h"

#include <string.h>

#include "clunet/overlay.h"

void cu_fate_colour(enum cu_fate f, uint8_t rgb[3])
{
    static const uint8_t c[5][3] = {
        {0x2E, 0xCC, 0x40}, /* matched */
        {0xFF, 0x85, 0x1B}, /* split */
        {0xF0, 0x12, 0xBE}, /* merged */
        {0xFF, 0x41, 0x36}, /* false */
        {0xFF, 0xDC, 0x00}, /* missed */
    };
    memcpy(rgb, c[(unsigned)f < 5 ? f : CU_FATE_FALSE], 3);
}

void cu_fate_overlay_draw(uint8_t *out, const uint8_t *rgb, const int32_t *pred, const int32_t *truth,
                          const struct cu_fates *f, int h, int w)
{
    int t = (h >= 512 || w >= 512) ? 2 : 1;
    if (out != rgb)
        memcpy(out, rgb, (size_t)h * (size_t)w * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (truth[i] > 0 && cu_fate_of(&f->truth, truth[i]) == CU_FATE_MISSED &&
                cu_overlay_on_outline(truth, h, w, y, x, t))
                cu_fate_colour(CU_FATE_MISSED, out + 3 * i);
            if (pred[i] > 0 && cu_overlay_on_outline(pred, h, w, y, x, t)) {
                int fate = cu_fate_of(&f->pred, pred[i]);
                cu_fate_colour(fate < 0 ? CU_FATE_FALSE : (enum cu_fate)fate, out + 3 * i);
            }
        }
}
