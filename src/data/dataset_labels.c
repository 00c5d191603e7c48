/* dataset_labels.c: instance labels of a sample at its original size, for
 * evaluation (dataset.h: cu_dataset_labels): DSB mask files numbered in
 * name order, label images renumbered 1..K, binary masks split into
 * 8-connected components (as skimage.measure.label(connectivity=2)).
 *
 * Not here: the metric itself (eval). */
#include "data/dataset_impl.h"

#include <stdlib.h>
#include <string.h>

/* DSB: mask k (sorted) -> label k+1; a pixel in two masks keeps the first. */
static enum cu_status dsb_labels(const struct cu_sample *s, int h, int w, uint32_t *lab, int *count,
                                 struct cu_err *err)
{
    char **names = NULL;
    int n = 0;
    enum cu_status st = cu_dir_list(s->masks, CU_DIR_IMAGES, &names, &n, err);
    memset(lab, 0, sizeof *lab * (size_t)h * (size_t)w);
    for (int k = 0; k < n && !st; k++) {
        char *p = cu_path_join(s->masks, names[k]);
        struct cu_labels m = {0};
        st = p ? cu_image_read_labels(p, &m, err) : cu_fail(err, CU_EDEVICE, "%s: out of memory", s->masks);
        if (!st && (m.h != h || m.w != w))
            st = cu_fail(err, CU_EINPUT, "%s: mask is %dx%d, its image is %dx%d", p, m.w, m.h, w, h);
        for (size_t q = 0; !st && q < (size_t)h * (size_t)w; q++)
            if (m.v[q] && !lab[q])
                lab[q] = (uint32_t)k + 1;
        cu_labels_free(&m);
        free(p);
    }
    cu_names_free(names, n);
    *count = n;
    return st;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/* 8-connected components of v != 0, numbered 1..K in raster order of
 * their first pixel. Two passes with union-find; parent has h*w+1 slots. */
static int components(uint32_t *v, int h, int w, uint32_t *parent)
{
    uint32_t next = 1;
    parent[0] = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t q = (size_t)y * (size_t)w + (size_t)x;
            if (!v[q])
                continue;
            uint32_t best = 0;
            /* already-labelled neighbours: W, NW, N, NE */
            int nb[4][2] = {{0, -1}, {-1, -1}, {-1, 0}, {-1, 1}};
            for (int k = 0; k < 4; k++) {
                int yy = y + nb[k][0], xx = x + nb[k][1];
                if (yy < 0 || xx < 0 || xx >= w)
                    continue;
                uint32_t l = v[(size_t)yy * (size_t)w + (size_t)xx];
                if (!l)
                    continue;
                l = find(parent, l);
                if (!best)
                    best = l;
                else if (l != best) {
                    uint32_t a = l < best ? l : best, b = l < best ? best : l;
                    parent[b] = a;
                    best = a;
                }
            }
            if (!best) {
                best = next;
                parent[next] = next;
                next++;
            }
            v[q] = best;
        }
    /* Roots in order of first appearance get 1..K. */
    uint32_t *num = calloc(next, sizeof *num);
    if (!num)
        return -1;
    uint32_t k = 0;
    for (size_t q = 0; q < (size_t)h * (size_t)w; q++) {
        if (!v[q])
            continue;
        uint32_t r = find(parent, v[q]);
        if (!num[r])
            num[r] = ++k;
        v[q] = num[r];
    }
    free(num);
    return (int)k;
}

/* Pairs: a label image renumbered 1..K by value, or a binary mask split
 * into components. */
static enum cu_status file_labels(const struct cu_sample *s, int h, int w, uint32_t *lab, int *count,
                                  struct cu_err *err)
{
    struct cu_labels m = {0};
    enum cu_status st = cu_image_read_labels(s->masks, &m, err);
    if (st)
        return st;
    size_t np = (size_t)h * (size_t)w;
    uint32_t *vals = NULL;
    if (m.h != h || m.w != w) {
        st = cu_fail(err, CU_EINPUT, "%s: mask is %dx%d, its image is %dx%d", s->masks, m.w, m.h, w, h);
        goto out;
    }
    vals = malloc(sizeof *vals * (np + 1));
    if (!vals) {
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory", s->masks);
        goto out;
    }
    memcpy(vals, m.v, sizeof *vals * np);
    qsort(vals, np, sizeof *vals, cmp_u32);
    size_t nu = 0;
    for (size_t q = 0; q < np; q++)
        if (vals[q] && (nu == 0 || vals[nu - 1] != vals[q]))
            vals[nu++] = vals[q];
    memcpy(lab, m.v, sizeof *lab * np);
    if (nu <= 1) { /* binary: 0 and one value */
        int k = components(lab, h, w, vals);
        if (k < 0)
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory", s->masks);
        *count = k;
    } else {
        for (size_t q = 0; q < np; q++)
            if (lab[q]) {
                uint32_t *f = bsearch(&lab[q], vals, nu, sizeof *vals, cmp_u32);
                lab[q] = (uint32_t)(f - vals) + 1;
            }
        *count = (int)nu;
    }
out:
    free(vals);
    cu_labels_free(&m);
    return st;
}

enum cu_status cu_dataset_labels(const struct cu_dataset *ds, int i, struct cu_labels *out, int *count,
                                 struct cu_err *err)
{
    const struct cu_sample *s = &ds->samples[i];
    if (!ds->has_masks)
        return cu_fail(err, CU_EUSAGE, "%s: %s has no masks", s->image, cu_layout_name(ds->layout));
    int h, w;
    enum cu_status st = cu_image_read_size(s->image, &h, &w, err);
    if (st)
        return st;
    uint32_t *lab = malloc(sizeof *lab * (size_t)h * (size_t)w);
    if (!lab)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", s->image);
    int k = 0;
    st = ds->layout == CU_LAYOUT_DSB_TRAIN ? dsb_labels(s, h, w, lab, &k, err) : file_labels(s, h, w, lab, &k, err);
    if (st) {
        free(lab);
        return st;
    }
    out->h = h, out->w = w, out->v = lab;
    *count = k;
    return CU_OK;
}
