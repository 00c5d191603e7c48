/* overlay.c: nucleus outlines drawn on the contrast-stretched input (see
 * include/clunet/overlay.h for the outline rule and the colours). One pass
 * over the image; each pixel looks at its (2t+1)^2 neighbourhood. Leaves
 * out PNG writing and anti-aliasing. */
#include "clunet/overlay.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define BINS 4096

/* The value below which a share q of the samples lie (histogram of BINS
 * bins on [0, 1]). */
static float percentile(const unsigned *hist, size_t total, double q)
{
    size_t want = (size_t)(q * (double)total), seen = 0;
    for (int b = 0; b < BINS; b++) {
        seen += hist[b];
        if (seen > want)
            return (float)b / (BINS - 1);
    }
    return 1.0f;
}

void cu_overlay_base(const float *px, int channels, int h, int w, uint8_t *rgb)
{
    size_t n = (size_t)h * (size_t)w, total = n * (size_t)(channels < 3 ? channels : 3);
    static unsigned hist[BINS]; /* host only, one caller at a time */
    memset(hist, 0, sizeof hist);
    for (int c = 0; c < channels && c < 3; c++)
        for (size_t q = 0; q < n; q++) {
            float v = px[(size_t)c * n + q];
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            hist[(int)(v * (BINS - 1) + 0.5f)]++;
        }
    float lo = percentile(hist, total, 0.005), hi = percentile(hist, total, 0.995);
    if (hi - lo < 1.0f / (BINS - 1)) /* flat: nothing to stretch */
        lo = 0, hi = 1;
    float scale = 255.0f / (hi - lo);
    for (size_t q = 0; q < n; q++)
        for (int c = 0; c < 3; c++) {
            float v = (px[(size_t)(c < channels ? c : 0) * n + q] - lo) * scale;
            rgb[q * 3 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
        }
}

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
            if (out != rgb)
                for (int c = 0; c < 3; c++)
                    out[3 * i + c] = rgb[3 * i + c];
        }
    return CU_OK;
}
