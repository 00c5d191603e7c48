/* watershed.c: the marker-based watershed that splits touching nuclei
 * (cu_watershed, include/clunet/instances.h): h-maxima markers of the
 * distance map by morphological reconstruction, then flooding from the
 * markers in order of decreasing distance, restricted to the mask. The
 * flooding runs on a bucket queue over the ranked distance values with
 * first-in-first-out ties, so the result is deterministic, plateaus are
 * split by geodesic distance, and every step is O(H*W).
 * Leaves out the distance transform (edt.c) and the compact/line-drawing
 * variants of the watershed, which labels covering the mask do not need. */
#include "clunet/instances.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

/* rec = reconstruction by dilation of the marker max(dist - hmax, 0) under
 * dist, on the mask (background is 0 in both, so it never conducts):
 * Vincent's hybrid algorithm ("Morphological grayscale reconstruction in
 * image analysis", IEEE TIP 1993): a raster and an anti-raster scan, then a
 * FIFO queue for what the scans did not reach. Clamping the marker at 0
 * changes only pixels below the plateaus, never which plateaus are maxima.
 * queue: n ints of scratch; inq: n bytes of scratch. */
static void reconstruct(float *rec, const float *dist, const uint8_t *mask, int h, int w, float hmax,
                        int32_t *queue, uint8_t *inq)
{
    size_t n = (size_t)h * (size_t)w;
    for (size_t i = 0; i < n; i++) {
        float v = mask[i] ? dist[i] - hmax : 0.0f;
        rec[i] = v > 0 ? v : 0.0f;
        inq[i] = 0;
    }
    /* forward: the neighbours above and to the left */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x;
            if (!mask[p])
                continue;
            float m = rec[p];
            if (x > 0 && rec[p - 1] > m)
                m = rec[p - 1];
            if (y > 0) {
                const float *up = rec + p - w;
                if (up[0] > m)
                    m = up[0];
                if (x > 0 && up[-1] > m)
                    m = up[-1];
                if (x + 1 < w && up[1] > m)
                    m = up[1];
            }
            rec[p] = m < dist[p] ? m : dist[p];
        }
    /* backward: below and to the right; queue the pixels that could still
     * raise a neighbour */
    size_t head = 0, count = 0;
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            size_t p = (size_t)y * w + x;
            if (!mask[p])
                continue;
            int32_t nb[4];
            int k = 0;
            if (x + 1 < w)
                nb[k++] = (int32_t)(p + 1);
            if (y + 1 < h) {
                nb[k++] = (int32_t)(p + w);
                if (x > 0)
                    nb[k++] = (int32_t)(p + w - 1);
                if (x + 1 < w)
                    nb[k++] = (int32_t)(p + w + 1);
            }
            float m = rec[p];
            for (int j = 0; j < k; j++)
                if (rec[nb[j]] > m)
                    m = rec[nb[j]];
            rec[p] = m < dist[p] ? m : dist[p];
            for (int j = 0; j < k; j++)
                if (rec[nb[j]] < rec[p] && rec[nb[j]] < dist[nb[j]] && mask[nb[j]]) {
                    queue[(head + count++) % n] = (int32_t)p;
                    inq[p] = 1;
                    break;
                }
        }
    /* propagation: a ring of n slots suffices, each pixel is queued at most
     * once at a time */
    int32_t nb[8];
    while (count) {
        int32_t p = queue[head];
        head = (head + 1) % n;
        count--;
        inq[p] = 0;
        int k = neighbours(p, h, w, nb);
        for (int j = 0; j < k; j++) {
            int32_t q = nb[j];
            if (!mask[q] || rec[q] >= rec[p] || rec[q] == dist[q])
                continue;
            rec[q] = rec[p] < dist[q] ? rec[p] : dist[q];
            if (!inq[q]) {
                queue[(head + count++) % n] = q;
                inq[q] = 1;
            }
        }
    }
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

/* Orders the mask pixels by dist: level[i] = rank of dist[i] among the
 * distinct values on the mask (0 = lowest), *n_levels levels. A two-pass
 * LSD radix sort on the float bits (mapped so that unsigned order is float
 * order), O(n). order: n ints, tmp: n ints, key: n uint32 of scratch. */
static int32_t rank_levels(int32_t *level, const float *dist, const uint8_t *mask, size_t n, int32_t *order,
                           int32_t *tmp, uint32_t *key)
{
    static const size_t nb = 1 << 16;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!mask[i])
            continue;
        uint32_t u;
        memcpy(&u, &dist[i], sizeof u);
        key[i] = (u & 0x80000000u) ? ~u : u | 0x80000000u;
        order[m++] = (int32_t)i;
    }
    size_t *cnt = calloc(nb, sizeof *cnt);
    if (!cnt)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        int shift = 16 * pass;
        memset(cnt, 0, nb * sizeof *cnt);
        for (size_t j = 0; j < m; j++)
            cnt[(key[order[j]] >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t b = 0; b < nb; b++) {
            size_t c = cnt[b];
            cnt[b] = sum;
            sum += c;
        }
        for (size_t j = 0; j < m; j++)
            tmp[cnt[(key[order[j]] >> shift) & 0xffff]++] = order[j];
        memcpy(order, tmp, m * sizeof *order);
    }
    free(cnt);
    int32_t lv = -1;
    for (size_t j = 0; j < m; j++) {
        if (j == 0 || key[order[j]] != key[order[j - 1]])
            lv++;
        level[order[j]] = lv;
    }
    return lv + 1;
}

/* Appends pixel q to the list of level l. */
static void bucket_push(int32_t *head, int32_t *tail, int32_t *next, int32_t q, int32_t l)
{
    next[q] = -1;
    if (tail[l] < 0)
        head[l] = q;
    else
        next[tail[l]] = q;
    tail[l] = q;
}

/* Grows the markers over the mask: the queued pixel of highest level hands
 * its label to its unlabelled neighbours, which join the queue at their own
 * level capped by the current one, so the flood never climbs back up and
 * the current level only falls. A bucket queue: one first-in-first-out list
 * per level (head, tail), linked through next (one entry per pixel: each
 * is queued once, when labelled). */
static void flood(int32_t *labels, const int32_t *level, int32_t n_levels, const uint8_t *mask, int h, int w,
                  int32_t *head, int32_t *tail, int32_t *next)
{
    size_t n = (size_t)h * (size_t)w;
    for (int32_t l = 0; l < n_levels; l++)
        head[l] = tail[l] = -1;
    int32_t cur = n_levels - 1;
    for (size_t i = 0; i < n; i++)
        if (labels[i])
            bucket_push(head, tail, next, (int32_t)i, level[i]);
    int32_t nb[8];
    while (cur >= 0) {
        int32_t p = head[cur];
        if (p < 0) {
            cur--;
            continue;
        }
        head[cur] = next[p];
        if (head[cur] < 0)
            tail[cur] = -1;
        int k = neighbours(p, h, w, nb);
        for (int j = 0; j < k; j++) {
            int32_t q = nb[j];
            if (!mask[q] || labels[q])
                continue;
            labels[q] = labels[p];
            int32_t l = level[q] < cur ? level[q] : cur;
            bucket_push(head, tail, next, q, l);
        }
    }
}

enum cu_status cu_watershed(int32_t *labels, int *n_out, const float *dist, const uint8_t *mask, int h, int w,
                            float hmax, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "watershed: bad image size %dx%d", w, h);
    if (!(hmax >= 0))
        return cu_fail(err, CU_EUSAGE, "watershed: h must be >= 0 (got %g)", (double)hmax);
    size_t n = (size_t)h * (size_t)w;
    /* One allocation, carved into the scratch arrays; rec doubles as the
     * radix keys once the markers are found. */
    size_t words = 6 * n + 1;
    int32_t *buf = malloc(words * sizeof *buf);
    uint8_t *inq = malloc(n);
    if (!buf || !inq) {
        free(buf);
        free(inq);
        return cu_fail(err, CU_EDEVICE, "watershed: out of host memory (%dx%d)", w, h);
    }
    float *rec = (float *)(void *)buf;
    int32_t *queue = buf + n, *level = buf + 2 * n, *order = buf + 3 * n, *tmp = buf + 4 * n, *next = buf + 5 * n;
    reconstruct(rec, dist, mask, h, w, hmax, queue, inq);
    find_markers(labels, rec, mask, h, w, queue);
    int32_t n_levels = rank_levels(level, dist, mask, n, order, tmp, (uint32_t *)(void *)rec);
    enum cu_status st = CU_OK;
    if (n_levels < 0) {
        st = cu_fail(err, CU_EDEVICE, "watershed: out of host memory (%dx%d)", w, h);
    } else {
        /* head and tail per level: levels <= n, reuse order and tmp */
        flood(labels, level, n_levels, mask, h, w, order, tmp, next);
        /* Markers were numbered by their plateau's first pixel; the
         * contract is the nucleus's first pixel. */
        int count = 0;
        st = cu_labels_filter(labels, &count, h, w, 0, err);
        if (!st)
            *n_out = count;
    }
    free(buf);
    free(inq);
    return st;
}

enum cu_status cu_watershed_from(int32_t *labels, int *n_out, const float *prio, const uint8_t *mask, int h, int w,
                                 struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "watershed: bad image size %dx%d", w, h);
    size_t n = (size_t)h * (size_t)w;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (labels[i] && !mask[i]))
            return cu_fail(err, CU_EUSAGE, "watershed: marker %d at pixel %zu lies outside the mask", (int)labels[i],
                           i);
    int32_t *buf = malloc((4 * n + 1) * sizeof *buf);
    uint32_t *key = malloc(n * sizeof *key);
    enum cu_status st = CU_OK;
    int32_t n_levels = buf && key ? rank_levels(buf, prio, mask, n, buf + n, buf + 2 * n, key) : -1;
    if (n_levels < 0) {
        st = cu_fail(err, CU_EDEVICE, "watershed: out of host memory (%dx%d)", w, h);
    } else {
        flood(labels, buf, n_levels, mask, h, w, buf + n, buf + 2 * n, buf + 3 * n);
        int count = 0;
        st = cu_labels_filter(labels, &count, h, w, 0, err);
        if (!st)
            *n_out = count;
    }
    free(buf);
    free(key);
    return st;
}
