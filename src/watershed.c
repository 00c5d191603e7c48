/* watershed.c: the marker-based watershed that splits touching nuclei
 * (cu_watershed, include/clunet/instances.h): h-maxima markers of the
 * distance map by morphological reconstruction, then flooding from the
 * markers in order of decreasing distance, restricted to the mask. Both
 * steps run on one binary max-heap with first-in-first-out ties, so the
 * result is deterministic and plateaus are split by geodesic distance.
 * Leaves out the distance transform (edt.c) and the compact/line-drawing
 * variants of the watershed, which labels covering the mask do not need. */
#include "clunet/instances.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct hnode {
    float key;
    int32_t idx;
    uint64_t seq; /* push order: equal keys pop first in, first out */
};

struct heap {
    struct hnode *a;
    size_t n, cap;
    uint64_t seq;
};

/* a pops before b: larger key, then earlier push. */
static int before(const struct hnode *a, const struct hnode *b)
{
    return a->key > b->key || (a->key == b->key && a->seq < b->seq);
}

static int heap_push(struct heap *hp, float key, int32_t idx)
{
    if (hp->n == hp->cap) {
        size_t cap = hp->cap ? 2 * hp->cap : 1024;
        struct hnode *a = realloc(hp->a, cap * sizeof *a);
        if (!a)
            return -1;
        hp->a = a;
        hp->cap = cap;
    }
    struct hnode x = {key, idx, hp->seq++};
    size_t i = hp->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&x, &hp->a[parent]))
            break;
        hp->a[i] = hp->a[parent];
        i = parent;
    }
    hp->a[i] = x;
    return 0;
}

static struct hnode heap_pop(struct heap *hp)
{
    struct hnode top = hp->a[0], x = hp->a[--hp->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= hp->n)
            break;
        if (c + 1 < hp->n && before(&hp->a[c + 1], &hp->a[c]))
            c++;
        if (!before(&hp->a[c], &x))
            break;
        hp->a[i] = hp->a[c];
        i = c;
    }
    if (hp->n)
        hp->a[i] = x;
    return top;
}

/* The 8-neighbours of p inside the image, written to nb; returns how many. */
static int neighbours(int32_t p, int h, int w, int32_t nb[8])
{
    int y = p / w, x = p % w, k = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int yy = y + dy, xx = x + dx;
            if ((dy || dx) && yy >= 0 && yy < h && xx >= 0 && xx < w)
                nb[k++] = yy * w + xx;
        }
    return k;
}

/* rec = reconstruction by dilation of (dist - hmax) under dist, on the
 * mask: the largest value reachable from any pixel q as
 * min(dist[q] - hmax, dist along the path). A widest-path problem, solved
 * Dijkstra-style: pop the largest tentative value, raise its neighbours. */
static int reconstruct(float *rec, const float *dist, const uint8_t *mask, int h, int w, float hmax,
                       struct heap *hp)
{
    size_t n = (size_t)h * (size_t)w;
    for (size_t i = 0; i < n; i++) {
        rec[i] = mask[i] ? dist[i] - hmax : 0.0f;
        if (mask[i] && heap_push(hp, rec[i], (int32_t)i))
            return -1;
    }
    int32_t nb[8];
    while (hp->n) {
        struct hnode t = heap_pop(hp);
        if (t.key < rec[t.idx])
            continue; /* stale: raised after this push */
        int k = neighbours(t.idx, h, w, nb);
        for (int j = 0; j < k; j++) {
            int32_t q = nb[j];
            if (!mask[q])
                continue;
            float c = t.key < dist[q] ? t.key : dist[q];
            if (c > rec[q]) {
                rec[q] = c;
                if (heap_push(hp, c, q))
                    return -1;
            }
        }
    }
    return 0;
}

/* labels = the regional maxima of rec on the mask (8-connected plateaus of
 * equal value with no higher neighbour in the mask), numbered 1.. in
 * row-major order; 0 elsewhere. queue: n ints of scratch. */
static void find_markers(int32_t *labels, const float *rec, const uint8_t *mask, int h, int w, int32_t *queue)
{
    size_t n = (size_t)h * (size_t)w;
    memset(labels, 0, n * sizeof *labels);
    /* -1 marks "visited, not a maximum"; positive values are markers. */
    int32_t count = 0;
    int32_t nb[8];
    for (size_t s = 0; s < n; s++) {
        if (!mask[s] || labels[s])
            continue;
        float v = rec[s];
        size_t head = 0, tail = 0;
        int is_max = 1;
        queue[tail++] = (int32_t)s;
        labels[s] = -1;
        while (head < tail) {
            int32_t p = queue[head++];
            int k = neighbours(p, h, w, nb);
            for (int j = 0; j < k; j++) {
                int32_t q = nb[j];
                if (!mask[q])
                    continue;
                if (rec[q] > v)
                    is_max = 0;
                else if (rec[q] == v && labels[q] == 0) {
                    labels[q] = -1;
                    queue[tail++] = q;
                }
            }
        }
        if (is_max) {
            count++;
            for (size_t i = 0; i < tail; i++)
                labels[queue[i]] = count;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0)
            labels[i] = 0;
}

/* Grows the markers over the mask: the queued pixel of largest distance
 * hands its label to its unlabelled neighbours. A pixel's key is capped by
 * the key it was reached from, so the flood never climbs back up. */
static int flood(int32_t *labels, const float *dist, const uint8_t *mask, int h, int w, struct heap *hp)
{
    size_t n = (size_t)h * (size_t)w;
    for (size_t i = 0; i < n; i++)
        if (labels[i] && heap_push(hp, dist[i], (int32_t)i))
            return -1;
    int32_t nb[8];
    while (hp->n) {
        struct hnode t = heap_pop(hp);
        int k = neighbours(t.idx, h, w, nb);
        for (int j = 0; j < k; j++) {
            int32_t q = nb[j];
            if (!mask[q] || labels[q])
                continue;
            labels[q] = labels[t.idx];
            if (heap_push(hp, t.key < dist[q] ? t.key : dist[q], q))
                return -1;
        }
    }
    return 0;
}

enum cu_status cu_watershed(int32_t *labels, int *n_out, const float *dist, const uint8_t *mask, int h, int w,
                            float hmax, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "watershed: bad image size %dx%d", w, h);
    if (!(hmax >= 0))
        return cu_fail(err, CU_EUSAGE, "watershed: h must be >= 0 (got %g)", (double)hmax);
    size_t n = (size_t)h * (size_t)w;
    float *rec = malloc(n * sizeof *rec);
    int32_t *queue = malloc(n * sizeof *queue);
    struct heap hp = {0};
    enum cu_status st = CU_OK;
    if (!rec || !queue || reconstruct(rec, dist, mask, h, w, hmax, &hp)) {
        st = cu_fail(err, CU_EDEVICE, "watershed: out of host memory (%dx%d)", w, h);
        goto out;
    }
    find_markers(labels, rec, mask, h, w, queue);
    hp.n = 0;
    if (flood(labels, dist, mask, h, w, &hp)) {
        st = cu_fail(err, CU_EDEVICE, "watershed: out of host memory (%dx%d)", w, h);
        goto out;
    }
    /* Markers were numbered by their plateau's first pixel; the contract is
     * the nucleus's first pixel. */
    int count = 0;
    st = cu_labels_filter(labels, &count, h, w, 0, err);
    if (!st)
        *n_out = count;
out:
    free(rec);
    free(queue);
    free(hp.a);
    return st;
}
