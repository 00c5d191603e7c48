/* test_measure.c: clunet's nuclei table and summary (measure.c, hull.c,
 * nuclei_csv.c) against scikit-image's regionprops on the committed
 * fixtures of tools/make_measure_fixtures.py (datasets/measure/): each
 * case's label image, RGB intensities and probability map go through
 * cu_measure and cu_nuclei_csv_write (pixel size 0.5 um), and every column
 * of the written CSV must match the expected CSV, looked up by name; the
 * same for the summary. A second part checks hand-computed hull counts.
 *
 * Tolerances: integer columns (label, area, bounding box, convex_area,
 * count) must be equal. Other columns: relative 2e-9, because clunet
 * writes 10 significant digits (at most 5e-10 relative rounding) and both
 * sides compute in double from the same float inputs (differences of
 * ~1e-15). Eccentricity: absolute 1e-6, because sqrt(1 - l2/l1) of a
 * nearly round shape turns rounding of 1e-16 in l2/l1 into 1e-8. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/export.h"
#include "clunet/image.h"
#include "clunet/measure.h"
#include "testutil.h"

#define MAXCOL 64
#define MAXROW 256

struct csv {
    int ncol, nrow;
    char *head[MAXCOL];
    char *cell[MAXROW][MAXCOL];
    char *text;
};

/* Splits a file of plain (unquoted) CSV; 0 on success. */
static int csv_read(const char *path, struct csv *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->text = calloc((size_t)n + 1, 1);
    if (fread(c->text, 1, (size_t)n, f) != (size_t)n)
        n = -1;
    fclose(f);
    if (n < 0)
        return -1;
    char *line = c->text;
    for (int r = -1; line && *line && r < MAXROW; r++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        int k = 0;
        for (char *p = line; p && k < MAXCOL; k++) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (r < 0)
                c->head[k] = p;
            else
                c->cell[r][k] = p;
            p = comma ? comma + 1 : NULL;
        }
        if (r < 0)
            c->ncol = k;
        else
            c->nrow = r + 1;
        line = next;
    }
    return 0;
}

static int csv_col(const struct csv *c, const char *name)
{
    for (int k = 0; k < c->ncol; k++)
        if (!strcmp(c->head[k], name))
            return k;
    return -1;
}

static int exact_column(const char *name)
{
    static const char *ints[] = {"label", "area", "bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1", "convex_area",
                                 "width", "height", "count"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!strcmp(name, ints[i]))
            return 1;
    return 0;
}

/* Every column of want, by name, in got; returns the number of mismatches. */
static int compare(const char *what, const struct csv *got, const struct csv *want)
{
    int bad = 0;
    TU_CHECK(got->nrow == want->nrow, "%s: %d rows (regionprops: %d)", what, got->nrow, want->nrow);
    TU_CHECK(got->ncol == want->ncol, "%s: %d columns (expected %d)", what, got->ncol, want->ncol);
    for (int k = 0; k < want->ncol; k++) {
        int g = csv_col(got, want->head[k]);
        if (!TU_CHECK(g >= 0, "%s: column %s present", what, want->head[k]))
            continue;
        double worst = 0;
        int worst_row = -1;
        for (int r = 0; r < want->nrow && r < got->nrow; r++) {
            if (!want->cell[r][k] || !got->cell[r][g])
                continue;
            if (!strcmp(want->head[k], "image")) {
                bad += !TU_CHECK(!strcmp(got->cell[r][g], want->cell[r][k]), "%s: image %s", what, want->cell[r][k]);
                continue;
            }
            double a = strtod(got->cell[r][g], NULL), b = strtod(want->cell[r][k], NULL);
            double e = exact_column(want->head[k])           ? fabs(a - b)
                       : !strcmp(want->head[k], "eccentricity") ? fabs(a - b) / 1e-6 * 2e-9
                                                                : fabs(a - b) / fmax(fabs(b), 1e-300);
            if (e > worst || e != e)
                worst = e, worst_row = r;
        }
        int ok = exact_column(want->head[k]) ? worst == 0 : worst <= 2e-9;
        bad += !TU_CHECK(ok, "%s: %s within tolerance (worst %.3g at row %d)", what, want->head[k], worst, worst_row);
    }
    return bad;
}

static int read_case(const char *name, struct cu_labels *lb, struct cu_image *img, struct cu_image *prob)
{
    char path[512];
    struct cu_err err = {0};
    snprintf(path, sizeof path, "datasets/measure/%s_labels.png", name);
    int ok = tu_ok(cu_image_read_labels(tu_source_path(path), lb, &err), &err, path);
    snprintf(path, sizeof path, "datasets/measure/%s_image.png", name);
    ok = ok && tu_ok(cu_image_read_rgb(tu_source_path(path), NULL, img, &err), &err, path);
    snprintf(path, sizeof path, "datasets/measure/%s_prob.png", name);
    ok = ok && tu_ok(cu_image_read_rgb(tu_source_path(path), NULL, prob, &err), &err, path);
    return ok;
}

static void fixtures(const char *tmp)
{
    static const char *cases[] = {"shapes", "ellipses", "sparse"};
    struct cu_err err = {0};
    struct cu_summary *sum = NULL;
    tu_ok(cu_summary_new(&sum, &err), &err, "summary");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cu_labels lb = {0};
        struct cu_image img = {0}, prob = {0};
        if (!read_case(cases[i], &lb, &img, &prob))
            continue;
        size_t n = (size_t)lb.h * (size_t)lb.w;
        int32_t *lab = malloc(sizeof *lab * n);
        for (size_t q = 0; q < n; q++)
            lab[q] = (int32_t)lb.v[q];
        struct cu_measure_table t;
        char got_path[512], want_path[512];
        snprintf(got_path, sizeof got_path, "%s/%s_nuclei.csv", tmp, cases[i]);
        snprintf(want_path, sizeof want_path, "datasets/measure/%s_expected.csv", cases[i]);
        if (tu_ok(cu_measure(lab, lb.h, lb.w, img.px, img.c, prob.px, &t, &err), &err, "cu_measure")) {
            tu_ok(cu_nuclei_csv_write(got_path, &t, 0.5, &err), &err, got_path);
            tu_ok(cu_summary_add(sum, cases[i], lb.h, lb.w, &t, 0.5, &err), &err, "summary add");
            struct cu_csv_pair {
                struct csv got, want;
            } *p = calloc(1, sizeof *p);
            if (TU_CHECK(!csv_read(got_path, &p->got) && !csv_read(tu_source_path(want_path), &p->want),
                         "%s: both tables read", cases[i]))
                compare(cases[i], &p->got, &p->want);
            free(p->got.text), free(p->want.text), free(p);
            cu_measure_free(&t);
        }
        free(lab);
        cu_labels_free(&lb), cu_image_free(&img), cu_image_free(&prob);
    }
    char got_path[512];
    snprintf(got_path, sizeof got_path, "%s/nuclei_summary.csv", tmp);
    tu_ok(cu_summary_write(sum, got_path, &err), &err, got_path);
    struct csv *g = calloc(1, sizeof *g), *w = calloc(1, sizeof *w);
    if (TU_CHECK(!csv_read(got_path, g) && !csv_read(tu_source_path("datasets/measure/summary_expected.csv"), w),
                 "summary tables read"))
        compare("summary", g, w);
    free(g->text), free(w->text), free(g), free(w);
    cu_summary_free(sum);
}

/* Hull counts worked out by hand: a single pixel (its edge midpoints
 * form a diamond around its centre: 1), a 3x3 square given by its row
 * ends only (9), and pixels (0,0) and (2,2), whose hull holds the centre
 * (1,1) too (3). */
static void hand_hulls(void)
{
    int one[] = {5, 5};
    TU_CHECK(cu_hull_pixel_count(one, 1) == 1, "hull of one pixel: 1");
    int sq[] = {0, 0, 2, 0, 0, 1, 2, 1, 0, 2, 2, 2};
    TU_CHECK(cu_hull_pixel_count(sq, 6) == 9, "hull of a 3x3 square from its row ends: 9");
    int diag[] = {0, 0, 2, 2};
    TU_CHECK(cu_hull_pixel_count(diag, 2) == 3, "hull of (0,0), (2,2): 3");
}

int main(void)
{
    char tmp[] = "/tmp/clunet-measure-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    fixtures(tmp);
    hand_hulls();
    tu_rm_rf(tmp);
    return tu_finish();
}
