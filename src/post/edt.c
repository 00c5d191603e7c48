/* edt.c: the exact Euclidean distance transform of a binary mask
 * (cu_distance_transform, include/clunet/instances.h), by Felzenszwalb and
 * Huttenlocher's lower envelope of parabolas ("Distance Transforms of
 * Sampled Functions", 2012): a 1-D pass down every column, then one along
 * every row, on squared distances. O(H*W). Leaves out anisotropic spacing
 * and the feature (nearest-pixel) transform, which nothing here needs. */
#include "clunet/instances.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* d[q] = min over sites p with finite f[p] of (q - p)^2 + f[p], for q in
 * 0..n-1; INFINITY where f has no finite site. v (n ints) and z (n + 1
 * doubles) are scratch. Squared distances are integers below 2^53, so
 * doubles keep them exact for any image that fits in memory. */
static void edt_1d(double *d, const double *f, int n, int *v, double *z)
{
    int k = -1;
    for (int q = 0; q < n; q++) {
        if (f[q] == INFINITY)
            continue;
        double s = -INFINITY;
        while (k >= 0) {
            int p = v[k];
            s = ((f[q] + (double)q * q) - (f[p] + (double)p * p)) / (2.0 * (q - p));
            if (s > z[k])
                break;
            k--;
        }
        k++;
        v[k] = q;
        z[k] = k == 0 ? -INFINITY : s;
        z[k + 1] = INFINITY;
    }
    if (k < 0) {
        for (int q = 0; q < n; q++)
            d[q] = INFINITY;
        return;
    }
    int j = 0;
    for (int q = 0; q < n; q++) {
        while (z[j + 1] < q)
            j++;
        double t = q - v[j];
        d[q] = t * t + f[v[j]];
    }
}

enum cu_status cu_distance_transform(float *dist, const uint8_t *mask, int h, int w, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "distance transform: bad image size %dx%d", w, h);
    size_t n = (size_t)h * (size_t)w;
    int m = h > w ? h : w;
    double *g = malloc(n * sizeof *g);          /* column pass result */
    double *line = malloc(2 * (size_t)m * sizeof *line); /* f, then d */
    double *z = malloc(((size_t)m + 1) * sizeof *z);
    int *v = malloc((size_t)m * sizeof *v);
    enum cu_status st = CU_OK;
    if (!g || !line || !z || !v) {
        st = cu_fail(err, CU_EDEVICE, "distance transform: out of host memory (%dx%d)", w, h);
        goto out;
    }
    double *f = line, *d = line + m;
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++)
            f[y] = mask[(size_t)y * w + x] ? INFINITY : 0.0;
        edt_1d(d, f, h, v, z);
        for (int y = 0; y < h; y++)
            g[(size_t)y * w + x] = d[y];
    }
    /* No background anywhere: every pixel is equally deep, one plateau. */
    float none = (float)(h + w);
    for (int y = 0; y < h; y++) {
        edt_1d(d, g + (size_t)y * w, w, v, z);
        for (int x = 0; x < w; x++)
            dist[(size_t)y * w + x] = d[x] == INFINITY ? none : (float)sqrt(d[x]);
    }
out:
    free(g);
    free(line);
    free(z);
    free(v);
    return st;
}
