/* overlay.c: nucleus outlines drawn on the input image (see
 * include/clunet/overlay.h for the outline rule and the colours). One pass
 * over the image; each pixel looks at its (2t+1)^2 neighbourhood. Leaves
 * out PNG writing and anti-aliasing. */
#include "clunet/overlay.h"

#include <math.h>
#include <stddef.h>

void cu_overlay_colour(int32_t l, uint8_t rgb[3])
{
    /* Golden-ratio hue walk: consecutive labels land about 222 degrees
     * apart and no two of the first few dozen are close. */
    double hue = fmod(0.1 + 0.6180339887498949 * (double)l, 1.0) * 6.0;
    double s = 0.85, v = 1.0;
    int sector = (int)hue % 6;
    double f = hue - floor(hue);
    double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (sector) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    rgb[0] = (uint8_t)lround(255 * r);
    rgb[1] = (uint8_t)lround(255 * g);
    rgb[2] = (uint8_t)lround(255 * b);
}

int cu_overlay_on_outline(const int32_t *labels, int h, int w, int y, int x, int t)
{
    int32_t l = labels[(size_t)y * w + x];
    if (y < t || x < t || y >= h - t || x >= w - t)
        return 1; /* within t of the border: the outline closes there */
    for (int dy = -t; dy <= t; dy++)
        for (int dx = -t; dx <= t; dx++)
            if (labels[(size_t)(y + dy) * w + (x + dx)] != l)
                return 1;
    return 0;
}

enum cu_status cu_overlay_draw(uint8_t *out, const uint8_t *rgb, const int32_t *labels, int h, int w,
                               int thickness, struct cu_err *err)
{
    if (h <= 0 || w <= 0)
        return cu_fail(err, CU_EUSAGE, "overlay: bad image size %dx%d", w, h);
    if (thickness != 1 && thickness != 2)
        return cu_fail(err, CU_EUSAGE, "overlay: thickness must be 1 or 2 (got %d)", thickness);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            int32_t l = labels[i];
            if (l > 0 && cu_overlay_on_outline(labels, h, w, y, x, thickness)) {
                cu_overlay_colour(l, out + 3 * i);
                continue;
            }
            for (int c = 0; c < 3; c++)
                out[3 * i + c] = (uint8_t)lroundf(CU_OVERLAY_DIM * rgb[3 * i + c]);
        }
    return CU_OK;
}
