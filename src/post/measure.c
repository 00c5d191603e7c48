/* measure.c: regionprops-exact measurements of every label (measure.h).
 * Three passes over the image: (1) which labels exist; (2) area, sums,
 * bounding box, intensities, probability, and the number of row runs;
 * (3) central moments, the perimeter's border pattern, and the run ends
 * that the convex hull starts from (hull.c). Everything accumulates in
 * double. Leaves out writing (measure_csv.c). */
#include "clunet/measure.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cu_measure_free(struct cu_measure_table *t)
{
    if (!t)
        return;
    free(t->nuc);
    free(t->istore);
    memset(t, 0, sizeof *t);
}

struct moments {
    double srr, scc, src; /* central second moments (rows, columns, mixed) */
};

/* skimage's perimeter weight of a border pixel with n4 border 4-neighbours
 * and nd border diagonal neighbours (code 1 + 2 n4 + 10 nd). */
static double perimeter_weight(int n4, int nd)
{
    int code = 1 + 2 * n4 + 10 * nd;
    switch (code) {
    case 5: case 7: case 15: case 17: case 25: case 27:
        return 1.0;
    case 21: case 33:
        return sqrt(2.0);
    case 13: case 23:
        return (1.0 + sqrt(2.0)) / 2.0;
    default:
        return 0.0;
    }
}

/* 1 where a pixel of a label has a 4-neighbour (or the image's edge)
 * outside its label. */
static void border_map(const int32_t *lab, int h, int w, uint8_t *b)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t q = (size_t)y * (size_t)w + (size_t)x;
            int32_t l = lab[q];
            b[q] = l > 0 && (x == 0 || y == 0 || x == w - 1 || y == h - 1 || lab[q - 1] != l ||
                             lab[q + 1] != l || lab[q - (size_t)w] != l || lab[q + (size_t)w] != l);
        }
}

/* The perimeter contribution of border pixel (x, y) of label l. */
static double border_pixel(const int32_t *lab, const uint8_t *b, int h, int w, int x, int y, int32_t l)
{
    int n4 = 0, nd = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int xx = x + dx, yy = y + dy;
            if ((!dx && !dy) || xx < 0 || yy < 0 || xx >= w || yy >= h)
                continue;
            size_t q = (size_t)yy * (size_t)w + (size_t)xx;
            if (b[q] && lab[q] == l)
                *(dx && dy ? &nd : &n4) += 1;
        }
    return perimeter_weight(n4, nd);
}

/* Pass 2 for one pixel of nucleus u. */
static void accumulate(struct cu_nucleus *u, int x, int y, size_t q, size_t plane, const float *img, int nc,
                       const float *prob, double *sx, double *sy)
{
    if (u->area == 0)
        u->x0 = u->x1 = x, u->y0 = u->y1 = y;
    u->area++;
    *sx += x, *sy += y;
    u->x0 = x < u->x0 ? x : u->x0, u->x1 = x > u->x1 ? x : u->x1;
    u->y0 = y < u->y0 ? y : u->y0, u->y1 = y > u->y1 ? y : u->y1;
    for (int c = 0; c < nc; c++) {
        double v = img[(size_t)c * plane + q];
        u->imean[c] += v;
        u->imin[c] = v < u->imin[c] ? v : u->imin[c];
        u->imax[c] = v > u->imax[c] ? v : u->imax[c];
    }
    if (prob)
        u->mean_prob += prob[q];
}

static enum cu_status oom(struct cu_err *err)
{
    return cu_fail(err, CU_EDEVICE, "measurements: out of host memory");
}

enum cu_status cu_measure(const int32_t *lab, int h, int w, const float *img, int nc, const float *prob,
                          struct cu_measure_table *out, struct cu_err *err)
{
    memset(out, 0, sizeof *out);
    size_t plane = (size_t)h * (size_t)w;
    int32_t maxl = 0;
    for (size_t q = 0; q < plane; q++)
        maxl = lab[q] > maxl ? lab[q] : maxl;
    int *slot = calloc((size_t)maxl + 1, sizeof *slot);
    if (!slot)
        return oom(err);
    for (size_t q = 0; q < plane; q++)
        if (lab[q] > 0)
            slot[lab[q]] = 1;
    int n = 0;
    for (int32_t l = 1; l <= maxl; l++)
        slot[l] = slot[l] ? n++ : -1;
    out->n = n, out->nc = nc;
    out->nuc = calloc((size_t)n + 1, sizeof *out->nuc);
    out->istore = calloc(3 * (size_t)n * (size_t)nc + 1, sizeof *out->istore);
    double *sums = calloc(2 * (size_t)n + 1, sizeof *sums);
    struct moments *mo = calloc((size_t)n + 1, sizeof *mo);
    long *runs = calloc((size_t)n + 1, sizeof *runs);
    uint8_t *border = malloc(plane + 1);
    enum cu_status st = CU_OK;
    if (!out->nuc || !out->istore || !sums || !mo || !runs || !border) {
        st = oom(err);
        goto done;
    }
    for (int32_t l = 1; l <= maxl; l++) {
        if (slot[l] < 0)
            continue;
        struct cu_nucleus *u = &out->nuc[slot[l]];
        u->label = l;
        u->imean = out->istore + 3 * (size_t)slot[l] * (size_t)nc;
        u->imin = u->imean + nc, u->imax = u->imin + nc;
        for (int c = 0; c < nc; c++)
            u->imin[c] = DBL_MAX, u->imax[c] = -DBL_MAX;
    }
    /* pass 2: sums, box, intensities, row runs */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t q = (size_t)y * (size_t)w + (size_t)x;
            int32_t l = lab[q];
            if (l <= 0)
                continue;
            int s = slot[l];
            accumulate(&out->nuc[s], x, y, q, plane, img, nc, prob, &sums[2 * s], &sums[2 * s + 1]);
            if (x == 0 || lab[q - 1] != l)
                runs[s]++;
        }
    long total_runs = 0;
    for (int s = 0; s < n; s++) {
        struct cu_nucleus *u = &out->nuc[s];
        u->cx = sums[2 * s] / (double)u->area, u->cy = sums[2 * s + 1] / (double)u->area;
        for (int c = 0; c < nc; c++)
            u->imean[c] /= (double)u->area;
        u->mean_prob /= (double)u->area;
        u->x1++, u->y1++;
        long r = runs[s];
        runs[s] = total_runs; /* now the first run end slot of s */
        total_runs += r;
    }
    /* pass 3: moments, perimeter, the two ends of every run */
    int *ends = malloc(sizeof *ends * (size_t)(4 * total_runs + 1));
    long *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!ends || !fill) {
        free(ends), free(fill);
        st = oom(err);
        goto done;
    }
    border_map(lab, h, w, border);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t q = (size_t)y * (size_t)w + (size_t)x;
            int32_t l = lab[q];
            if (l <= 0)
                continue;
            int s = slot[l];
            struct cu_nucleus *u = &out->nuc[s];
            double dx = x - u->cx, dy = y - u->cy;
            mo[s].srr += dy * dy, mo[s].scc += dx * dx, mo[s].src += dx * dy;
            if (border[q])
                u->perimeter += border_pixel(lab, border, h, w, x, y, l);
            if (x == 0 || lab[q - 1] != l) {
                int *e = ends + 4 * (runs[s] + fill[s]++);
                e[0] = x, e[1] = y, e[2] = x, e[3] = y;
            }
            if (x == w - 1 || lab[q + 1] != l) {
                int *e = ends + 4 * (runs[s] + fill[s] - 1);
                e[2] = x;
            }
        }
    for (int s = 0; s < n && !st; s++) {
        struct cu_nucleus *u = &out->nuc[s];
        double a = mo[s].scc / (double)u->area, c = mo[s].srr / (double)u->area, b = mo[s].src / (double)u->area;
        double mid = (a + c) / 2, rad = sqrt((a - c) * (a - c) / 4 + b * b);
        double l1 = mid + rad, l2 = mid - rad;
        l1 = l1 > 0 ? l1 : 0, l2 = l2 > 0 ? l2 : 0;
        u->eccentricity = l1 == 0 ? 0 : sqrt(1 - l2 / l1);
        u->eq_diameter = sqrt(4.0 * (double)u->area / 3.14159265358979323846);
        u->convex_area = cu_hull_pixel_count(ends + 4 * runs[s], 2 * fill[s]);
        if (u->convex_area < 0)
            st = oom(err);
        else
            u->solidity = (double)u->area / (double)u->convex_area;
    }
    free(ends), free(fill);
done:
    free(slot), free(sums), free(mo), free(runs), free(border);
    if (st)
        cu_measure_free(out);
    return st;
}
