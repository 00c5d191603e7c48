/* geojson_write.c: nuclei as a GeoJSON FeatureCollection in QuPath's
 * convention (export.h): each Feature's geometry is a Polygon whose one
 * ring is the outline, closed by repeating its first vertex (counter-
 * clockwise with y pointing up, as RFC 7946 asks), in pixel coordinates;
 * its properties name it a detection and carry its measurements. */
#include <stdio.h>

#include "clunet/export.h"
#include "io/atomic_file.h"

static void measurements(FILE *f, const struct cu_nucleus *u, int nc, double um)
{
    fprintf(f, ",\"measurements\":{\"area\":%ld,\"centroid_x\":%.10g,\"centroid_y\":%.10g,"
               "\"equivalent_diameter\":%.10g,\"perimeter\":%.10g,\"eccentricity\":%.10g,\"solidity\":%.10g,"
               "\"convex_area\":%ld",
            u->area, u->cx, u->cy, u->eq_diameter, u->perimeter, u->eccentricity, u->solidity, u->convex_area);
    for (int c = 0; c < nc; c++) {
        char sfx[16] = "";
        if (nc > 1)
            snprintf(sfx, sizeof sfx, "_ch%d", c + 1);
        fprintf(f, ",\"mean_intensity%s\":%.10g,\"min_intensity%s\":%.10g,\"max_intensity%s\":%.10g", sfx,
                u->imean[c], sfx, u->imin[c], sfx, u->imax[c]);
    }
    fprintf(f, ",\"mean_probability\":%.10g", u->mean_prob);
    if (um > 0)
        fprintf(f, ",\"area_um2\":%.10g,\"equivalent_diameter_um\":%.10g,\"perimeter_um\":%.10g",
                (double)u->area * um * um, u->eq_diameter * um, u->perimeter * um);
    fputc('}', f);
}

enum cu_status cu_geojson_write(const char *path, const struct cu_outlines *o, const struct cu_measure_table *t,
                                double um, struct cu_err *err)
{
    if (t && t->n != o->n)
        return cu_fail(err, CU_EUSAGE, "%s: %d outlines but %d measured nuclei", path, o->n, t->n);
    struct cu_atomic a;
    CU_TRY(cu_atomic_begin(&a, path, err));
    FILE *f = a.f;
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int i = 0; i < o->n; i++) {
        const int *xy = o->xy + 2 * o->start[i];
        long n = o->start[i + 1] - o->start[i];
        fprintf(f, "%s\n{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[", i ? "," : "");
        for (long k = 0; k <= n; k++)
            fprintf(f, "%s[%d,%d]", k ? "," : "", xy[2 * (k % n)], xy[2 * (k % n) + 1]);
        fprintf(f, "]]},\"properties\":{\"objectType\":\"detection\",\"name\":\"%ld\"", (long)o->label[i]);
        if (t)
            measurements(f, &t->nuc[i], t->nc, um);
        fprintf(f, "}}");
    }
    fprintf(f, "\n]}\n");
    return cu_atomic_commit(&a, err);
}
