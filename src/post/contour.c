/* contour.c: outlines of labels along pixel edges (contour.h). From the
 * top-left corner of a label's first pixel the walk goes east with the
 * label on its right; at every corner it looks at the two pixels ahead:
 * ahead-left in the label turns left (this joins pixels that touch
 * diagonally: 8-connectivity), else ahead-right in the label goes
 * straight, else it turns right. The walk ends back at the start corner,
 * which it can only reach heading north (nothing of the label lies above
 * or left of its first pixel). */
#include "clunet/contour.h"

#include <stdlib.h>
#include <string.h>

void cu_outlines_free(struct cu_outlines *o)
{
    if (!o)
        return;
    free(o->label), free(o->start), free(o->xy);
    memset(o, 0, sizeof *o);
}

struct walk {
    const int32_t *lab;
    int h, w;
    int32_t l;
};

static int in(const struct walk *k, int x, int y)
{
    return x >= 0 && y >= 0 && x < k->w && y < k->h && k->lab[(size_t)y * (size_t)k->w + (size_t)x] == k->l;
}

static int push(struct cu_outlines *o, long *n, long *cap, int x, int y)
{
    if (*n == *cap) {
        long nc = *cap ? 2 * *cap : 1024;
        int *t = realloc(o->xy, sizeof *t * 2 * (size_t)nc);
        if (!t)
            return -1;
        o->xy = t, *cap = nc;
    }
    o->xy[2 * *n] = x, o->xy[2 * *n + 1] = y;
    ++*n;
    return 0;
}

/* Appends the outline of k->l starting at the top-left corner of its first
 * pixel (x0, y0). */
static int trace(const struct walk *k, int x0, int y0, struct cu_outlines *o, long *n, long *cap)
{
    /* E, S, W, N; and per heading the pixel ahead-left and ahead-right of a
     * corner (cx, cy) as offsets: the four pixels around a corner are
     * (cx-1|cx, cy-1|cy). */
    static const int step[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    static const int left[4][2] = {{0, -1}, {0, 0}, {-1, 0}, {-1, -1}};
    static const int right[4][2] = {{0, 0}, {-1, 0}, {-1, -1}, {0, -1}};
    if (push(o, n, cap, x0, y0))
        return -1;
    int cx = x0, cy = y0, d = 0;
    for (;;) {
        cx += step[d][0], cy += step[d][1];
        if (cx == x0 && cy == y0)
            return 0;
        int nd;
        if (in(k, cx + left[d][0], cy + left[d][1]))
            nd = (d + 3) & 3;
        else if (in(k, cx + right[d][0], cy + right[d][1]))
            nd = d;
        else
            nd = (d + 1) & 3;
        if (nd != d && push(o, n, cap, cx, cy))
            return -1;
        d = nd;
    }
}

enum cu_status cu_outlines_trace(const int32_t *lab, int h, int w, struct cu_outlines *out, struct cu_err *err)
{
    memset(out, 0, sizeof *out);
    size_t plane = (size_t)h * (size_t)w;
    int32_t maxl = 0;
    for (size_t q = 0; q < plane; q++)
        maxl = lab[q] > maxl ? lab[q] : maxl;
    /* first pixel of every label, raster order */
    long *first = malloc(sizeof *first * ((size_t)maxl + 1));
    if (!first)
        return cu_fail(err, CU_EDEVICE, "outlines: out of host memory");
    for (int32_t l = 0; l <= maxl; l++)
        first[l] = -1;
    int n = 0;
    for (size_t q = 0; q < plane; q++)
        if (lab[q] > 0 && first[lab[q]] < 0)
            first[lab[q]] = (long)q, n++;
    out->label = malloc(sizeof *out->label * ((size_t)n + 1));
    out->start = malloc(sizeof *out->start * ((size_t)n + 1));
    long nv = 0, cap = 0;
    int bad = !out->label || !out->start;
    for (int32_t l = 1; l <= maxl && !bad; l++) {
        if (first[l] < 0)
            continue;
        struct walk k = {lab, h, w, l};
        out->label[out->n] = l;
        out->start[out->n++] = nv;
        bad = trace(&k, (int)(first[l] % w), (int)(first[l] / w), out, &nv, &cap) != 0;
    }
    free(first);
    if (bad) {
        cu_outlines_free(out);
        return cu_fail(err, CU_EDEVICE, "outlines: out of host memory");
    }
    out->start[out->n] = nv;
    return CU_OK;
}
