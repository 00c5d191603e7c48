/* test_instances.c: probability map -> nuclei. Checks the exact distance
 * transform against brute force, 8-connectivity, the watershed on drawn
 * shapes (two touching disks -> 2, with plain components 1; three in a row
 * -> 3; ellipses stay 1), min_size, that labels cover exactly the mask and
 * are numbered by first pixel, and the time for a 1388x1040 image.
 * Leaves out real images (the predict end-to-end test covers them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clunet/instances.h"
#include "testutil.h"

struct img {
    int h, w;
    float *prob;
    int32_t *lab;
    uint8_t *mask;
};

static struct img img_new(int h, int w)
{
    struct img m = {h, w, calloc((size_t)h * w, sizeof(float)), calloc((size_t)h * w, sizeof(int32_t)),
                    calloc((size_t)h * w, 1)};
    return m;
}

static void img_free(struct img *m)
{
    free(m->prob);
    free(m->lab);
    free(m->mask);
}

/* An ellipse of semi-axes a, b rotated by angle theta, centre (cy, cx). */
static void ellipse(struct img *m, double cy, double cx, double a, double b, double theta)
{
    double c = cos(theta), s = sin(theta);
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++) {
            double dy = y - cy, dx = x - cx;
            double u = (dx * c + dy * s) / a, v = (-dx * s + dy * c) / b;
            if (u * u + v * v <= 1.0)
                m->prob[(size_t)y * m->w + x] = 0.9f;
        }
}

static void disk(struct img *m, double cy, double cx, double r)
{
    ellipse(m, cy, cx, r, r, 0);
}

/* The shapes below are checked with the library's default h. */
#define DEFAULT_H (-1.0f)

static int run(struct img *m, int watershed, float h, int min_size)
{
    struct cu_inst_opts o;
    cu_inst_opts_default(&o);
    o.watershed = watershed;
    if (h >= 0)
        o.h = h;
    o.min_size = min_size;
    struct cu_err err = {0};
    int n = -1;
    tu_ok(cu_instances_from_prob(m->lab, &n, m->mask, m->prob, m->h, m->w, &o, &err), &err, "instances");
    return n;
}

/* Labels cover exactly the mask, lie in 1..n, each label is present, and
 * labels appear in row-major order of first pixel. */
static int labels_valid(const struct img *m, int n, int exact_cover)
{
    size_t np = (size_t)m->h * m->w;
    int32_t next = 1;
    for (size_t i = 0; i < np; i++) {
        int32_t l = m->lab[i];
        if (exact_cover && (l > 0) != (m->mask[i] != 0))
            return 0;
        if (!exact_cover && l > 0 && !m->mask[i])
            return 0;
        if (l < 0 || l > n || l > next)
            return 0;
        if (l == next)
            next++;
    }
    return next == n + 1;
}

static int label_at(const struct img *m, int y, int x)
{
    return m->lab[(size_t)y * m->w + x];
}

static void test_edt(void)
{
    uint64_t rng = 99;
    int bad = 0;
    for (int trial = 0; trial < 20; trial++) {
        int h = 5 + trial % 11, w = 3 + (trial * 7) % 13;
        uint8_t *mask = malloc((size_t)h * w);
        float *d = malloc((size_t)h * w * sizeof *d);
        for (int i = 0; i < h * w; i++)
            mask[i] = tu_rand_uniform(&rng, 0, 1) < 0.85f; /* few background pixels: long distances */
        struct cu_err err = {0};
        tu_ok(cu_distance_transform(d, mask, h, w, &err), &err, "edt");
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double best = INFINITY;
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < w; xx++)
                        if (!mask[yy * w + xx])
                            best = fmin(best, sqrt((double)(y - yy) * (y - yy) + (double)(x - xx) * (x - xx)));
                if (!mask[y * w + x])
                    best = 0;
                if (best == INFINITY)
                    best = h + w;
                /* float result of an exact sqrt: relative 1e-6 */
                if (fabs(d[y * w + x] - best) > 1e-6 * fmax(1, best))
                    bad++;
            }
        free(mask);
        free(d);
    }
    TU_CHECK(bad == 0, "distance transform equals brute force on 20 random masks (%d pixels differ)", bad);
    uint8_t full[6] = {1, 1, 1, 1, 1, 1};
    float d[6];
    struct cu_err err = {0};
    tu_ok(cu_distance_transform(d, full, 2, 3, &err), &err, "edt full");
    TU_CHECK(d[0] == 5.0f && d[5] == 5.0f, "all-foreground mask: distance H+W everywhere");
}

static void test_components(void)
{
    struct img m = img_new(5, 6);
    m.prob[0] = m.prob[7] = m.prob[14] = 1; /* diagonal (0,0) (1,1) (2,2) */
    m.prob[4] = 1;                           /* (0,4): two columns from (0,2)? no: alone */
    m.prob[29] = 1;                          /* (4,5) */
    int n = run(&m, 0, 0, 0);
    TU_CHECK(n == 3 && label_at(&m, 0, 0) == 1 && label_at(&m, 2, 2) == 1 && label_at(&m, 0, 4) == 2 &&
                 label_at(&m, 4, 5) == 3,
             "8-connectivity joins a diagonal line; separate pixels stay apart (n=%d)", n);
    TU_CHECK(labels_valid(&m, n, 1), "components cover the mask, numbered by first pixel");
    n = run(&m, 1, DEFAULT_H, 0);
    TU_CHECK(n == 3 && label_at(&m, 0, 0) == label_at(&m, 2, 2), "watershed keeps the diagonal line whole (n=%d)", n);
    img_free(&m);
}

static void test_disks(void)
{
    struct img m = img_new(40, 60);
    disk(&m, 20, 20, 10);
    disk(&m, 20, 36, 10); /* centres 16 apart: overlapping, a neck of ~12 px */
    int n_cc = run(&m, 0, 0, 0);
    TU_CHECK(n_cc == 1, "two touching disks: 1 connected component (got %d)", n_cc);
    int n = run(&m, 1, DEFAULT_H, 0);
    TU_CHECK(n == 2, "two touching disks: 2 nuclei with watershed (got %d)", n);
    TU_CHECK(labels_valid(&m, n, 1), "two disks: labels cover exactly the mask");
    TU_CHECK(label_at(&m, 20, 20) != label_at(&m, 20, 36) && label_at(&m, 20, 27) == label_at(&m, 20, 20) &&
                 label_at(&m, 20, 29) == label_at(&m, 20, 36),
             "two disks: split at the neck (x 28)");
    int area[3] = {0};
    for (int i = 0; i < m.h * m.w; i++)
        area[m.lab[i]]++;
    TU_CHECK(abs(area[1] - area[2]) <= area[1] / 20, "two disks: halves of equal area within 5%% (%d, %d)", area[1],
             area[2]);
    img_free(&m);

    m = img_new(30, 80);
    disk(&m, 15, 15, 9);
    disk(&m, 15, 30, 9);
    disk(&m, 15, 45, 9);
    n = run(&m, 1, DEFAULT_H, 0);
    TU_CHECK(n == 3 && run(&m, 0, 0, 0) == 1, "three touching disks in a row: 3 nuclei (got %d), 1 component", n);
    run(&m, 1, DEFAULT_H, 0);
    TU_CHECK(labels_valid(&m, n, 1) && label_at(&m, 15, 15) == 1 && label_at(&m, 15, 30) == 2 &&
                 label_at(&m, 15, 45) == 3,
             "three disks: labels 1,2,3 from left to right, covering the mask");
    img_free(&m);
}

static void test_ellipses(void)
{
    /* aspect ratios 1.5 to 3, several angles, several sizes: each stays one
     * nucleus (its distance ridge has ripples well under h) */
    static const double shapes[][3] = {{25, 10, 0.52}, {18, 6, 0}, {12, 8, 1.2}, {30, 10, 2.3}, {9, 3, 0.8},
                                       {20, 14, 0.3}};
    int bad = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        struct img m = img_new(80, 80);
        ellipse(&m, 40.3, 39.6, shapes[k][0], shapes[k][1], shapes[k][2]);
        int n = run(&m, 1, DEFAULT_H, 0);
        if (n != 1 || !labels_valid(&m, n, 1)) {
            bad++;
            tu_check(0, "ellipse %gx%g at %g rad: %d nuclei", shapes[k][0], shapes[k][1], shapes[k][2], n);
        }
        img_free(&m);
    }
    TU_CHECK(bad == 0, "6 single ellipses each stay 1 nucleus (no over-segmentation)");
}

static void test_min_size(void)
{
    struct img m = img_new(40, 40);
    m.prob[0] = 1;                                     /* 1 px speck, first in raster order */
    m.prob[5 * 40 + 30] = m.prob[5 * 40 + 31] = 1;     /* 2 px speck */
    disk(&m, 20, 20, 6);                               /* ~113 px */
    for (int y = 35; y < 38; y++)                      /* 3x3 = 9 px */
        for (int x = 2; x < 5; x++)
            m.prob[y * 40 + x] = 1;
    for (int y = 34; y < 38; y++)                      /* 4x3 = 12 px */
        for (int x = 30; x < 33; x++)
            m.prob[y * 40 + x] = 1;
    int n0 = run(&m, 1, DEFAULT_H, 0);
    int n = run(&m, 1, DEFAULT_H, 10);
    TU_CHECK(n0 == 5 && n == 2, "min_size 10 keeps the disk and the 12-px block: %d -> %d nuclei", n0, n);
    TU_CHECK(labels_valid(&m, n, 0) && label_at(&m, 20, 20) == 1 && label_at(&m, 35, 31) == 2 &&
                 label_at(&m, 0, 0) == 0 && label_at(&m, 36, 3) == 0,
             "min_size: specks cleared, survivors renumbered 1..2");
    n = run(&m, 0, 0, 12);
    TU_CHECK(n == 2, "min_size 12 keeps a 12-px object (>= min_size), plain components (got %d)", n);
    img_free(&m);
}

/* Number of 8-connected regions of equal non-zero label (BFS). */
static int count_regions(const int32_t *lab, int h, int w)
{
    int n = h * w, regions = 0;
    char *seen = calloc((size_t)n, 1);
    int *stack = malloc((size_t)n * sizeof *stack);
    for (int s = 0; s < n; s++) {
        if (!lab[s] || seen[s])
            continue;
        regions++;
        int top = 0;
        stack[top++] = s;
        seen[s] = 1;
        while (top) {
            int p = stack[--top], y = p / w, x = p % w;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx, q = yy * w + xx;
                    if (yy < 0 || yy >= h || xx < 0 || xx >= w || seen[q] || lab[q] != lab[p])
                        continue;
                    seen[q] = 1;
                    stack[top++] = q;
                }
        }
    }
    free(seen);
    free(stack);
    return regions;
}

/* Random maps on odd sizes (1x1, single rows and columns included): the
 * labels cover the mask exactly, each nucleus is one 8-connected region,
 * and each watershed nucleus lies inside one connected component. */
static void test_random_maps(void)
{
    static const int sizes[][2] = {{1, 1}, {1, 17}, {23, 1}, {2, 2}, {9, 13}, {37, 23}, {64, 51}};
    uint64_t rng = 4242;
    int bad_cover = 0, bad_connected = 0, bad_nested = 0, trials = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int rep = 0; rep < 8; rep++, trials++) {
            int h = sizes[k][0], w = sizes[k][1];
            struct img m = img_new(h, w);
            /* blobs (random disks) for half the trials, noise for the rest */
            if (rep % 2)
                tu_fill_uniform(m.prob, (size_t)h * w, &rng, 0, 1);
            else
                for (int d = 0; d < 6; d++)
                    disk(&m, tu_rand_uniform(&rng, 0, (float)h), tu_rand_uniform(&rng, 0, (float)w),
                         tu_rand_uniform(&rng, 1, 12));
            int n_cc = run(&m, 0, 0, 0);
            int32_t *cc = malloc((size_t)h * w * sizeof *cc);
            memcpy(cc, m.lab, (size_t)h * w * sizeof *cc);
            int n = run(&m, 1, DEFAULT_H, 0);
            bad_cover += !labels_valid(&m, n, 1) || n < n_cc;
            bad_connected += count_regions(m.lab, h, w) != n;
            int32_t *owner = calloc((size_t)n + 1, sizeof *owner);
            for (int i = 0; i < h * w; i++) {
                if (!m.lab[i])
                    continue;
                if (!owner[m.lab[i]])
                    owner[m.lab[i]] = cc[i];
                else if (owner[m.lab[i]] != cc[i])
                    bad_nested++;
            }
            free(owner);
            free(cc);
            img_free(&m);
        }
    TU_CHECK(bad_cover == 0, "%d random maps: watershed labels cover the mask exactly, n >= components (%d bad)",
             trials, bad_cover);
    TU_CHECK(bad_connected == 0, "%d random maps: every nucleus is one 8-connected region (%d bad)", trials,
             bad_connected);
    TU_CHECK(bad_nested == 0, "%d random maps: every nucleus lies inside one component (%d bad pixels)", trials,
             bad_nested);
}

/* A 1388x1040 map (the largest DSB2018 size) with ~400 nuclei, some
 * touching: the whole post-processing, timed. */
static void test_speed(void)
{
    struct img m = img_new(1040, 1388);
    uint64_t rng = 7;
    for (int k = 0; k < 400; k++) {
        double cy = tu_rand_uniform(&rng, 0, 1040), cx = tu_rand_uniform(&rng, 0, 1388);
        double a = tu_rand_uniform(&rng, 5, 20), b = a * tu_rand_uniform(&rng, 0.5f, 1.0f);
        double y0 = fmax(0, cy - a - 1), y1 = fmin(1040, cy + a + 1), x0 = fmax(0, cx - a - 1),
               x1 = fmin(1388, cx + a + 1);
        double th = tu_rand_uniform(&rng, 0, 3.14159f);
        for (int y = (int)y0; y < (int)y1; y++)
            for (int x = (int)x0; x < (int)x1; x++) {
                double dy = y - cy, dx = x - cx, u = (dx * cos(th) + dy * sin(th)) / a,
                       v = (-dx * sin(th) + dy * cos(th)) / b;
                if (u * u + v * v <= 1)
                    m.prob[(size_t)y * 1388 + x] = 0.8f;
            }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    int n = run(&m, 1, DEFAULT_H, 10);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int valid = labels_valid(&m, n, 0);
    int n_cc = run(&m, 0, 0, 10);
    /* CPU time of this process, so that other jobs on a shared machine do
     * not count. Bound: about 0.1 s measured in a -O2 build; 2 s leaves room
     * for ASan/UBSan (about 3x) and slower machines. */
    TU_CHECK(s < 2.0, "1388x1040, %d nuclei (%d components): post-processing took %.3f s (bound 2 s)", n, n_cc, s);
    TU_CHECK(n > n_cc && valid, "1388x1040: watershed splits touching nuclei, labels valid");
    img_free(&m);
}

int main(void)
{
    test_edt();
    test_components();
    test_disks();
    test_ellipses();
    test_min_size();
    test_random_maps();
    test_speed();
    return tu_finish();
}
