/* test_nuclei.c: the nuclei recipe's pieces on hand-made inputs:
 *   - targets (nuclei.h) of two touching squares and a lone one: every
 *     body, contour and border bit checked against the definitions,
 *     written out independently here pixel by pixel;
 *   - preprocessing: grey + inversion of a bright background, percentile
 *     stretch;
 *   - cu_instances_from_maps on two touching discs: maps made from their
 *     own targets (blurred, as a network's soft output) give two nuclei,
 *     each covering its disc; without the border/contour maps the same
 *     mask gives one (so the test can fail);
 *   - cu_watershed_from: markers flood their own regions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/instances.h"
#include "clunet/nuclei.h"
#include "testutil.h"

#define H 12
#define W 14

/* label at (y, x) or 0 outside */
static uint32_t at(const uint32_t *lab, int y, int x)
{
    return y < 0 || y >= H || x < 0 || x >= W ? 0 : lab[y * W + x];
}

static void test_targets(void)
{
    uint32_t lab[H * W] = {0};
    /* nucleus 1: rows 2..6, cols 1..4; nucleus 2 touches it: rows 2..6,
     * cols 5..8; nucleus 3 alone: rows 8..10, cols 11..13 (on the edge) */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            if (y >= 2 && y <= 6 && x >= 1 && x <= 4)
                lab[y * W + x] = 1;
            if (y >= 2 && y <= 6 && x >= 5 && x <= 8)
                lab[y * W + x] = 2;
            if (y >= 8 && y <= 10 && x >= 11)
                lab[y * W + x] = 3;
        }
    uint8_t bits[H * W];
    cu_targets_from_labels(lab, H, W, bits);
    int bad = 0, n_border = 0, n_contour = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint32_t k = lab[y * W + x];
            int rim = 0, labels[2] = {0, 0}, distinct = 0;
            for (int dy = -2; dy <= 2; dy++)
                for (int dx = -2; dx <= 2; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W)
                        continue;
                    uint32_t q = at(lab, yy, xx);
                    if (abs(dy) <= 1 && abs(dx) <= 1 && k && q != k)
                        rim = 1;
                    if (q && distinct == 0)
                        labels[distinct++] = (int)q;
                    else if (q && distinct == 1 && (int)q != labels[0])
                        labels[distinct++] = (int)q;
                }
            uint8_t want = (k ? CU_T_BODY : 0) | (rim ? CU_T_CONTOUR : 0) | (distinct == 2 ? CU_T_BORDER : 0);
            bad += bits[y * W + x] != want;
            n_border += (want & CU_T_BORDER) != 0;
            n_contour += (want & CU_T_CONTOUR) != 0;
        }
    TU_CHECK(bad == 0, "targets: %d of %d pixels differ from the definitions", bad, H * W);
    /* spot checks that pin the definitions themselves */
    TU_CHECK((bits[4 * W + 4] & CU_T_BORDER) && (bits[4 * W + 5] & CU_T_BORDER) && (bits[4 * W + 3] & CU_T_BORDER),
             "targets: the columns where 1 and 2 touch (and one beside) are border");
    TU_CHECK(!(bits[9 * W + 12] & CU_T_BORDER) && (bits[9 * W + 12] & CU_T_BODY) && !(bits[9 * W + 12] & CU_T_CONTOUR),
             "targets: the lone nucleus's inner pixel is body only (its image-edge side is no contour)");
    TU_CHECK((bits[8 * W + 12] & CU_T_CONTOUR) && !(bits[9 * W + 13] & CU_T_CONTOUR),
             "targets: a rim next to background is contour, one on the image edge is not");
    TU_CHECK(bits[0] == 0 && n_border > 0 && n_contour > 0, "targets: background far from nuclei is 0 (%d border, %d "
                                                            "contour pixels)", n_border, n_contour);
}

static void test_prep(void)
{
    enum { N = 100 };
    float px[3 * N];
    for (int i = 0; i < N; i++) { /* bright background 0.9, ten dark pixels */
        float v = i < 10 ? 0.2f : 0.9f;
        px[i] = v, px[N + i] = v, px[2 * N + i] = v;
    }
    px[N + 0] = 0.5f; /* one pixel coloured: grey is the mean */
    cu_prep_image(px, 10, 10, CU_PREP_GREY);
    float g0 = 1.0f - (0.2f + 0.5f + 0.2f) / 3.0f;
    TU_CHECK(fabsf(px[0] - g0) < 1e-6f && fabsf(px[50] - 0.1f) < 1e-6f && px[N] == px[0] && px[2 * N + 50] == px[50],
             "prep grey: mean of the planes, inverted on a bright background, in all three planes (%g %g)",
             (double)px[0], (double)px[50]);
    float q[3 * N];
    for (int i = 0; i < 3 * N; i++)
        q[i] = 0.25f + 0.5f * (float)(i % N) / (N - 1); /* 0.25..0.75 per plane */
    cu_prep_image(q, 10, 10, CU_PREP_NORMALIZE);
    TU_CHECK(q[0] == 0.0f && q[N - 1] == 1.0f && q[N / 2] > 0.4f && q[N / 2] < 0.6f && q[2 * N] == 0.0f,
             "prep normalize: 1st..99.8th percentile stretched to 0..1 per plane (%g %g %g)", (double)q[0],
             (double)q[N / 2], (double)q[N - 1]);
    char name[40];
    cu_prep_name(CU_PREP_GREY | CU_PREP_NORMALIZE, name, sizeof name);
    TU_CHECK(!strcmp(name, "grey,normalize") && cu_prep_parse(name) == 3 && cu_prep_parse("") == 0 &&
                 cu_prep_parse("gray") == -1,
             "prep names: \"%s\" round-trips, unknown words are refused", name);
}

/* 3x3 box blur of a 0/1 plane into a soft map. */
static void blur(const float *src, float *dst, int h, int w)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float s = 0;
            int n = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                        s += src[yy * w + xx], n++;
                }
            dst[y * w + x] = s / (float)n;
        }
}

static void test_touching_discs(void)
{
    enum { DH = 40, DW = 60 };
    static uint32_t lab[DH * DW];
    static uint8_t bits[DH * DW];
    static float plane[3][DH * DW], maps[3][DH * DW], zero[DH * DW];
    static int32_t out[DH * DW];
    /* two discs of radius 10 whose centres are 19 apart: they touch */
    for (int y = 0; y < DH; y++)
        for (int x = 0; x < DW; x++) {
            double d1 = hypot(y - 20, x - 20), d2 = hypot(y - 20, x - 39);
            lab[y * DW + x] = d1 <= 10 ? 1 : d2 <= 10 ? 2 : 0;
        }
    cu_targets_from_labels(lab, DH, DW, bits);
    for (int i = 0; i < DH * DW; i++)
        for (int c = 0; c < 3; c++)
            plane[c][i] = (bits[i] >> c) & 1 ? 1.0f : 0.0f;
    for (int c = 0; c < 3; c++)
        blur(plane[c], maps[c], DH, DW);
    struct cu_inst_opts o;
    cu_inst_opts_default(&o);
    struct cu_err err = {0};
    int n = 0;
    tu_ok(cu_instances_from_maps(out, &n, NULL, maps[0], maps[1], maps[2], DH, DW, &o, &err), &err, "from_maps");
    TU_CHECK(n == 2, "two touching discs: %d nuclei (want 2)", n);
    int agree = 0, total = 0;
    for (int i = 0; i < DH * DW; i++)
        if (lab[i]) {
            total++;
            agree += out[i] == (int32_t)lab[i]; /* first pixel in row-major order is disc 1's */
        }
    TU_CHECK(agree >= total * 95 / 100, "two touching discs: %d of %d true pixels carry their own disc's label",
             agree, total);
    int n1 = 0;
    tu_ok(cu_instances_from_maps(out, &n1, NULL, maps[0], zero, zero, DH, DW, &o, &err), &err, "from_maps body");
    TU_CHECK(n1 == 1, "the same body map without contour and border: %d nucleus (the maps are what splits)", n1);
    o.watershed = 0;
    tu_ok(cu_instances_from_maps(out, &n1, NULL, maps[0], maps[1], maps[2], DH, DW, &o, &err), &err, "no split");
    TU_CHECK(n1 == 1, "--no-split: plain components of the body mask: %d", n1);

    /* A faint border (0.3 of the map above) and no contour, as a model
     * unsure of a touching line predicts: body - border stays near 0.7
     * across the neck, so the default seeds (> 0.5) join the discs; a
     * border weight of 3 (0.1 there) or a seed threshold of 0.8 cuts them. */
    static float faint[DH * DW];
    for (int i = 0; i < DH * DW; i++)
        faint[i] = 0.3f * maps[2][i];
    cu_inst_opts_default(&o);
    tu_ok(cu_instances_from_maps(out, &n1, NULL, maps[0], zero, faint, DH, DW, &o, &err), &err, "faint");
    TU_CHECK(n1 == 1, "faint border, border weight 1, seeds > 0.5: the discs merge (%d nuclei)", n1);
    o.border_weight = 3;
    tu_ok(cu_instances_from_maps(out, &n1, NULL, maps[0], zero, faint, DH, DW, &o, &err), &err, "faint, weight 3");
    TU_CHECK(n1 == 2, "faint border, border weight 3: two nuclei (%d)", n1);
    o.border_weight = 1, o.seed_threshold = 0.8f;
    tu_ok(cu_instances_from_maps(out, &n1, NULL, maps[0], zero, faint, DH, DW, &o, &err), &err, "faint, seed 0.8");
    TU_CHECK(n1 == 2, "faint border, seeds > 0.8: two nuclei (%d)", n1);
    int mask_px = 0;
    static uint8_t mask[DH * DW];
    tu_ok(cu_instances_from_maps(out, &n1, mask, maps[0], zero, faint, DH, DW, &o, &err), &err, "mask");
    for (int i = 0; i < DH * DW; i++)
        mask_px += mask[i] != (maps[0][i] > 0.5f);
    TU_CHECK(mask_px == 0, "the seed threshold leaves the mask (body > 0.5) alone: %d pixels differ", mask_px);
    o.border_weight = -1;
    TU_CHECK(cu_instances_from_maps(out, &n1, NULL, maps[0], zero, faint, DH, DW, &o, &err) == CU_EUSAGE,
             "a negative border weight is refused");
}

static void test_watershed_from(void)
{
    enum { N = 7 };
    uint8_t mask[N] = {1, 1, 1, 1, 1, 0, 1};
    float prio[N] = {1, 2, 3, 2, 1, 0, 1};
    int32_t lab[N] = {0, 5, 0, 9, 0, 0, 0};
    struct cu_err err = {0};
    int n = 0;
    tu_ok(cu_watershed_from(lab, &n, prio, mask, 1, N, &err), &err, "watershed_from");
    TU_CHECK(n == 2 && lab[0] == 1 && lab[1] == 1 && lab[3] == 2 && lab[4] == 2 && lab[5] == 0 && lab[6] == 0 &&
                 (lab[2] == 1 || lab[2] == 2),
             "watershed from markers: %d regions [%d %d %d %d %d %d %d]; unreached mask stays 0", n, lab[0], lab[1],
             lab[2], lab[3], lab[4], lab[5], lab[6]);
    int32_t bad[N] = {0, 0, 0, 0, 0, 3, 0};
    TU_CHECK(cu_watershed_from(bad, &n, prio, mask, 1, N, &err) == CU_EUSAGE, "a marker outside the mask is refused");
}

int main(void)
{
    test_targets();
    test_prep();
    test_touching_discs();
    test_watershed_from();
    return tu_finish();
}
