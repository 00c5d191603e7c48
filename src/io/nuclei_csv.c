/* nuclei_csv.c: the nuclei table and the per-image summary (export.h).
 * Numbers: integers as such, the rest with 10 significant digits (%.10g),
 * enough for any measurement of an image of up to 2^28 pixels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "clunet/util.h"
#include "io/atomic_file.h"

static void channel_header(FILE *f, int nc)
{
    static const char *what[3] = {"mean_intensity", "min_intensity", "max_intensity"};
    for (int c = 0; c < nc; c++)
        for (int k = 0; k < 3; k++) {
            if (nc > 1)
                fprintf(f, ",%s_ch%d", what[k], c + 1);
            else
                fprintf(f, ",%s", what[k]);
        }
}

enum cu_status cu_nuclei_csv_write(const char *path, const struct cu_measure_table *t, double um,
                                   struct cu_err *err)
{
    struct cu_atomic a;
    CU_TRY(cu_atomic_begin(&a, path, err));
    FILE *f = a.f;
    fprintf(f, "label,area,centroid_x,centroid_y,bbox_x0,bbox_y0,bbox_x1,bbox_y1,equivalent_diameter,perimeter,"
               "eccentricity,solidity,convex_area");
    channel_header(f, t->nc);
    fprintf(f, ",mean_probability");
    if (um > 0)
        fprintf(f, ",area_um2,centroid_x_um,centroid_y_um,equivalent_diameter_um,perimeter_um");
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        const struct cu_nucleus *u = &t->nuc[i];
        fprintf(f, "%ld,%ld,%.10g,%.10g,%d,%d,%d,%d,%.10g,%.10g,%.10g,%.10g,%ld", (long)u->label, u->area, u->cx,
                u->cy, u->x0, u->y0, u->x1, u->y1, u->eq_diameter, u->perimeter, u->eccentricity, u->solidity,
                u->convex_area);
        for (int c = 0; c < t->nc; c++)
            fprintf(f, ",%.10g,%.10g,%.10g", u->imean[c], u->imin[c], u->imax[c]);
        fprintf(f, ",%.10g", u->mean_prob);
        if (um > 0)
            fprintf(f, ",%.10g,%.10g,%.10g,%.10g,%.10g", (double)u->area * um * um, u->cx * um, u->cy * um,
                    u->eq_diameter * um, u->perimeter * um);
        fputc('\n', f);
    }
    return cu_atomic_commit(&a, err);
}

/* ---- summary ---- */

struct row {
    char *id;
    int h, w, n;
    double frac, mean_area, median_area, min_area, max_area, diam, perim, ecc, sol, inten, prob, um;
};

struct cu_summary {
    struct row *rows;
    int n, cap;
};

enum cu_status cu_summary_new(struct cu_summary **out, struct cu_err *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? CU_OK : cu_fail(err, CU_EDEVICE, "nuclei_summary.csv: out of host memory");
}

void cu_summary_free(struct cu_summary *s)
{
    for (int i = 0; s && i < s->n; i++)
        free(s->rows[i].id);
    if (s)
        free(s->rows);
    free(s);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

enum cu_status cu_summary_add(struct cu_summary *s, const char *id, int h, int w, const struct cu_measure_table *t,
                              double um, struct cu_err *err)
{
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 64;
        struct row *r = realloc(s->rows, sizeof *r * (size_t)nc);
        if (!r)
            return cu_fail(err, CU_EDEVICE, "nuclei_summary.csv: out of host memory");
        s->rows = r, s->cap = nc;
    }
    struct row r = {.id = strdup(id), .h = h, .w = w, .n = t->n, .um = um};
    long *areas = malloc(sizeof *areas * ((size_t)t->n + 1));
    if (!r.id || !areas) {
        free(r.id), free(areas);
        return cu_fail(err, CU_EDEVICE, "nuclei_summary.csv: out of host memory");
    }
    double sum = 0;
    for (int i = 0; i < t->n; i++) {
        const struct cu_nucleus *u = &t->nuc[i];
        areas[i] = u->area;
        sum += (double)u->area;
        r.diam += u->eq_diameter, r.perim += u->perimeter, r.ecc += u->eccentricity, r.sol += u->solidity;
        r.inten += t->nc > 0 ? u->imean[0] : 0;
        r.prob += u->mean_prob;
    }
    r.frac = sum / ((double)h * (double)w);
    if (t->n > 0) {
        qsort(areas, (size_t)t->n, sizeof *areas, cmp_long);
        double n = t->n;
        r.mean_area = sum / n, r.diam /= n, r.perim /= n, r.ecc /= n, r.sol /= n, r.inten /= n, r.prob /= n;
        r.min_area = (double)areas[0], r.max_area = (double)areas[t->n - 1];
        r.median_area = t->n % 2 ? (double)areas[t->n / 2] : ((double)areas[t->n / 2 - 1] + (double)areas[t->n / 2]) / 2;
    }
    free(areas);
    s->rows[s->n++] = r;
    return CU_OK;
}

enum cu_status cu_summary_write(const struct cu_summary *s, const char *path, struct cu_err *err)
{
    struct cu_atomic a;
    CU_TRY(cu_atomic_begin(&a, path, err));
    FILE *f = a.f;
    fprintf(f, "image,width,height,count,area_fraction,mean_area,median_area,min_area,max_area,"
               "mean_equivalent_diameter,mean_perimeter,mean_eccentricity,mean_solidity,mean_intensity,"
               "mean_probability,pixel_size_um,mean_area_um2,mean_equivalent_diameter_um\n");
    for (int i = 0; i < s->n; i++) {
        const struct row *r = &s->rows[i];
        cu_csv_field(f, r->id);
        fprintf(f, ",%d,%d,%d,%.10g", r->w, r->h, r->n, r->frac);
        if (r->n > 0)
            fprintf(f, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g", r->mean_area, r->median_area,
                    r->min_area, r->max_area, r->diam, r->perim, r->ecc, r->sol, r->inten, r->prob);
        else
            fprintf(f, ",,,,,,,,,,");
        if (r->um > 0)
            fprintf(f, ",%.10g", r->um);
        else
            fprintf(f, ",");
        if (r->um > 0 && r->n > 0)
            fprintf(f, ",%.10g,%.10g\n", r->mean_area * r->um * r->um, r->diam * r->um);
        else
            fprintf(f, ",,\n");
    }
    return cu_atomic_commit(&a, err);
}
