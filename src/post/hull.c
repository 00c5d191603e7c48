/* hull.c: the convex-hull pixel count of one label, as scikit-image's
 * convex_hull_image counts it (measure.h). Each candidate pixel adds the
 * midpoints of its four edges; the hull of those points (Andrew's monotone
 * chain) is kept in doubled coordinates, so every vertex is an integer
 * and every test exact; then each row counts the pixel centres between the
 * hull's left and right boundary, both included (skimage's point-in-polygon
 * counts points on an edge or vertex as inside). */
#include "clunet/measure.h"

#include <stdint.h>
#include <stdlib.h>

struct pt {
    int64_t x, y;
};

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

static int64_t cross(struct pt o, struct pt a, struct pt b)
{
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* floor(a / b) for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Hull of p[0..n) (sorted, distinct) into h, counter-clockwise without
 * collinear points; returns its vertex count. h has room for 2 n. */
static long monotone_chain(const struct pt *p, long n, struct pt *h)
{
    long k = 0;
    for (long i = 0; i < n; i++) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    for (long i = n - 2, lo = k + 1; i >= 0; i--) {
        while (k >= lo && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    return k - 1;
}

long cu_hull_pixel_count(const int *pts, long n)
{
    if (n <= 0)
        return 0;
    struct pt *p = malloc(sizeof *p * (size_t)(4 * n + 1));
    struct pt *h = malloc(sizeof *h * (size_t)(8 * n + 2));
    if (!p || !h) {
        free(p), free(h);
        return -1;
    }
    static const int off[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    long m = 0;
    for (long i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            p[m++] = (struct pt){2 * (int64_t)pts[2 * i] + off[k][0], 2 * (int64_t)pts[2 * i + 1] + off[k][1]};
    qsort(p, (size_t)m, sizeof *p, cmp_pt);
    long u = 0;
    for (long i = 0; i < m; i++)
        if (u == 0 || cmp_pt(&p[u - 1], &p[i]) != 0)
            p[u++] = p[i];
    long nh = monotone_chain(p, u, h);
    int64_t ymin = INT64_MAX, ymax = INT64_MIN;
    for (long i = 0; i < nh; i++)
        ymin = h[i].y < ymin ? h[i].y : ymin, ymax = h[i].y > ymax ? h[i].y : ymax;
    long count = 0;
    /* rows whose centre Y = 2r lies within [ymin, ymax] */
    for (int64_t r = -floor_div(-ymin, 2); 2 * r <= ymax; r++) {
        int64_t y = 2 * r, lo = INT64_MAX, hi = INT64_MIN;
        for (long i = 0; i < nh; i++) {
            struct pt a = h[i], b = h[(i + 1) % nh];
            if (a.y == b.y) {
                if (a.y != y)
                    continue;
                int64_t x0 = a.x < b.x ? a.x : b.x, x1 = a.x < b.x ? b.x : a.x;
                lo = -floor_div(-x0, 2) < lo ? -floor_div(-x0, 2) : lo;
                hi = floor_div(x1, 2) > hi ? floor_div(x1, 2) : hi;
                continue;
            }
            if ((y < a.y && y < b.y) || (y > a.y && y > b.y))
                continue;
            /* X = a.x + (y - a.y) (b.x - a.x) / (b.y - a.y) = num / den; the
             * pixel columns c with 2c <= X and 2c >= X */
            int64_t den = b.y - a.y, num = a.x * den + (y - a.y) * (b.x - a.x);
            if (den < 0)
                den = -den, num = -num;
            int64_t c_lo = -floor_div(-num, 2 * den), c_hi = floor_div(num, 2 * den);
            lo = c_lo < lo ? c_lo : lo;
            hi = c_hi > hi ? c_hi : hi;
        }
        if (hi >= lo)
            count += (long)(hi - lo + 1);
    }
    free(p), free(h);
    return count;
}
