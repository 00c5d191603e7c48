/* prep.c: the nuclei recipe's preprocessing (nuclei.h): greyscale with
 * inversion of bright backgrounds, per-plane percentile stretch. */
#include <stdio.h>
#include <string.h>

#include "clunet/nuclei.h"

#define BINS 4096

static float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

static int bin_of(float v) { return (int)(clamp01(v) * (BINS - 1) + 0.5f); }

/* The value below which a fraction q of the plane lies (bin centre). */
static float percentile(const unsigned *hist, size_t n, double q)
{
    double want = q * (double)n, sum = 0;
    for (int b = 0; b < BINS; b++) {
        sum += hist[b];
        if (sum >= want && sum > 0)
            return (float)b / (BINS - 1);
    }
    return 1.0f;
}

static void stretch(float *p, size_t n)
{
    unsigned local[BINS];
    memset(local, 0, sizeof local);
    for (size_t i = 0; i < n; i++)
        local[bin_of(p[i])]++;
    float lo = percentile(local, n, 0.01), hi = percentile(local, n, 0.998);
    if (!(hi > lo))
        return;
    float k = 1.0f / (hi - lo);
    for (size_t i = 0; i < n; i++)
        p[i] = clamp01((p[i] - lo) * k);
}

void cu_prep_image(float *px, int h, int w, int flags)
{
    size_t n = (size_t)h * (size_t)w;
    if (flags & CU_PREP_GREY) {
        double mean = 0;
        for (size_t i = 0; i < n; i++) {
            float g = (px[i] + px[n + i] + px[2 * n + i]) / 3.0f;
            px[i] = g;
            mean += g;
        }
        if (n && mean / (double)n > 0.5)
            for (size_t i = 0; i < n; i++)
                px[i] = 1.0f - px[i];
        if (flags & CU_PREP_NORMALIZE)
            stretch(px, n);
        memcpy(px + n, px, n * sizeof *px);
        memcpy(px + 2 * n, px, n * sizeof *px);
        return;
    }
    if (flags & CU_PREP_NORMALIZE)
        for (int c = 0; c < 3; c++)
            stretch(px + (size_t)c * n, n);
}

void cu_prep_name(int flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", flags & CU_PREP_GREY ? "grey" : "",
             (flags & CU_PREP_GREY) && (flags & CU_PREP_NORMALIZE) ? "," : "",
             flags & CU_PREP_NORMALIZE ? "normalize" : "");
}

int cu_prep_parse(const char *s)
{
    int flags = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 4 && !strncmp(s, "grey", 4))
            flags |= CU_PREP_GREY;
        else if (len == 9 && !strncmp(s, "normalize", 9))
            flags |= CU_PREP_NORMALIZE;
        else
            return -1;
        s = e ? e + 1 : s + len;
    }
    return flags;
}
