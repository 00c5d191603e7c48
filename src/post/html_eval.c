/* html_eval.c: the eval report page (see include/clunet/html_eval.h). The
 * page is plain HTML written row by row; the only script sorts the image
 * table by the data-v value of the clicked column. */
#include "clunet/html_eval.h"

#include <stdlib.h>
#include <string.h>

#include "clunet/fate_overlay.h"
#include "io/atomic_file.h"

void cu_html_puts(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *STYLE =
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}\n"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\n"
    "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}\n"
    "th{background:#f4f4f4;position:sticky;top:0}#images th{cursor:pointer}\n"
    "td.id,th.id{text-align:left;max-width:22em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}\n"
    "img.thumb{width:96px;height:96px;object-fit:contain;background:#000;display:block}\n"
    ".summary span{display:inline-block;margin-right:2em;font-size:1.2em}\n"
    ".legend span{display:inline-block;margin-right:1.5em}\n"
    ".sw{display:inline-block;width:14px;height:14px;vertical-align:middle;margin-right:4px;border:1px solid #555}\n"
    "</style>\n";

static const char *SCRIPT =
    "<script>\n"
    "document.querySelectorAll('#images th').forEach(function(th, col) {\n"
    "  th.addEventListener('click', function() {\n"
    "    var tb = document.querySelector('#images tbody');\n"
    "    var dir = th.dataset.dir === 'asc' ? -1 : 1;\n"
    "    th.dataset.dir = dir > 0 ? 'asc' : 'desc';\n"
    "    var rows = Array.prototype.slice.call(tb.rows);\n"
    "    rows.sort(function(a, b) {\n"
    "      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;\n"
    "      var nx = parseFloat(x), ny = parseFloat(y);\n"
    "      if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);\n"
    "      return dir * String(x).localeCompare(String(y));\n"
    "    });\n"
    "    rows.forEach(function(r) { tb.appendChild(r); });\n"
    "  });\n"
    "});\n"
    "</script>\n";

/* The precision at each threshold as a line chart, 0..1 against 0.50..0.95. */
static void chart(FILE *f, const double *prec)
{
    const int W = 420, H = 220, L = 44, R = 12, T = 12, B = 36;
    double pw = W - L - R, ph = H - T - B;
    fprintf(f, "<svg id=\"precision-chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n", W, H, W, H);
    for (int k = 0; k <= 4; k++) {
        double y = T + ph * (1 - k / 4.0);
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n",
                L, W - R, y, y, L - 6, y + 4, k / 4.0);
    }
    fprintf(f, "<polyline fill=\"none\" stroke=\"#0074D9\" stroke-width=\"2\" points=\"");
    for (int t = 0; t < CU_DSB_NT; t++)
        fprintf(f, "%.1f,%.1f ", L + pw * t / (CU_DSB_NT - 1), T + ph * (1 - prec[t]));
    fprintf(f, "\"/>\n");
    for (int t = 0; t < CU_DSB_NT; t++) {
        double x = L + pw * t / (CU_DSB_NT - 1);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#0074D9\"><title>IoU &gt; %.2f: %.3f</title>"
                   "</circle><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f</text>\n",
                x, T + ph * (1 - prec[t]), cu_dsb_threshold(t), prec[t], x, H - B + 16, cu_dsb_threshold(t));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">IoU threshold</text>"
               "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" text-anchor=\"middle\">precision"
               "</text>\n</svg>\n", L + pw / 2, H - 4, T + ph / 2, T + ph / 2);
}

static void group_name(const struct cu_html_image *im, char *out, size_t cap)
{
    if (im->group[0])
        snprintf(out, cap, "%s", im->group);
    else
        snprintf(out, cap, "%dx%d", im->w, im->h);
}

/* One row per group, in order of first appearance. */
static void groups(FILE *f, const struct cu_html_eval *e)
{
    fprintf(f, "<h2>By group</h2>\n<table id=\"groups\"><thead><tr><th class=\"id\">group</th><th>images</th>"
               "<th>DSB score</th><th>Dice</th><th>true</th><th>matched</th><th>missed</th><th>false</th>"
               "<th>merged</th><th>split</th></tr></thead><tbody>\n");
    char *done = calloc((size_t)e->n + 1, 1);
    for (int i = 0; done && i < e->n; i++) {
        if (done[i])
            continue;
        char g[64], g2[64];
        group_name(&e->im[i], g, sizeof g);
        int n = 0, nt = 0;
        double dsb = 0, dice = 0;
        struct cu_fate_counts c = {0};
        for (int j = i; j < e->n; j++) {
            group_name(&e->im[j], g2, sizeof g2);
            if (strcmp(g, g2))
                continue;
            done[j] = 1;
            n++, nt += e->im[j].n_true;
            dsb += e->im[j].dsb, dice += e->im[j].dice;
            cu_fate_counts_add(&c, &e->im[j].fates);
        }
        fprintf(f, "<tr><td class=\"id\">");
        cu_html_puts(f, g);
        fprintf(f, "</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%d</td><td>%lld</td><td>%lld</td><td>%lld</td>"
                   "<td>%lld</td><td>%lld</td></tr>\n", n, dsb / n, dice / n, nt, (long long)c.matched,
                (long long)c.missed, (long long)c.false_pos, (long long)c.merged, (long long)c.split);
    }
    free(done);
    fprintf(f, "</tbody></table>\n");
}

static void legend(FILE *f)
{
    static const struct { enum cu_fate fate; const char *text; } items[] = {
        {CU_FATE_MATCHED, "matched (IoU &gt; 0.5)"},
        {CU_FATE_SPLIT, "piece of a split nucleus"},
        {CU_FATE_MERGED, "merges &#8805; 2 true nuclei"},
        {CU_FATE_FALSE, "false (no true nucleus)"},
        {CU_FATE_MISSED, "missed true nucleus"},
    };
    fprintf(f, "<p class=\"legend\">");
    for (size_t k = 0; k < sizeof items / sizeof *items; k++) {
        uint8_t c[3];
        cu_fate_colour(items[k].fate, c);
        fprintf(f, "<span><i class=\"sw\" style=\"background:#%02X%02X%02X\"></i>%s</span>", c[0], c[1], c[2],
                items[k].text);
    }
    fprintf(f, "</p>\n");
}

static const struct cu_html_image *sort_base;

static int by_dsb(const void *a, const void *b)
{
    const struct cu_html_image *x = &sort_base[*(const int *)a], *y = &sort_base[*(const int *)b];
    if (x->dsb != y->dsb)
        return x->dsb < y->dsb ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void image_row(FILE *f, int rank, const struct cu_html_image *im)
{
    const struct cu_fate_counts *c = &im->fates;
    fprintf(f, "<tr><td data-v=\"%d\">%d</td><td data-v=\"%d\"><a href=\"", rank, rank, rank);
    cu_html_puts(f, im->image_file);
    fprintf(f, "\"><img class=\"thumb\" loading=\"lazy\" alt=\"image\" src=\"");
    cu_html_puts(f, im->image_file);
    fprintf(f, "\"></a></td><td data-v=\"%d\"><a href=\"", rank);
    cu_html_puts(f, im->overlay_file);
    fprintf(f, "\"><img class=\"thumb\" loading=\"lazy\" alt=\"overlay\" src=\"");
    cu_html_puts(f, im->overlay_file);
    fprintf(f, "\"></a></td><td class=\"id\" data-v=\"");
    cu_html_puts(f, im->id);
    fprintf(f, "\" title=\"");
    cu_html_puts(f, im->id);
    fprintf(f, "\">");
    cu_html_puts(f, im->id);
    fprintf(f, "</td><td data-v=\"%lld\">%dx%d</td>", (long long)im->w * im->h, im->w, im->h);
    fprintf(f, "<td data-v=\"%d\">%d</td><td data-v=\"%d\">%d</td>", im->n_true, im->n_true, im->n_pred, im->n_pred);
    long long v[5] = {c->matched, c->missed, c->false_pos, c->merged, c->split};
    for (int k = 0; k < 5; k++)
        fprintf(f, "<td data-v=\"%lld\">%lld</td>", v[k], v[k]);
    fprintf(f, "<td data-v=\"%.6f\">%.3f</td><td data-v=\"%.6f\">%.3f</td><td data-v=\"%.6f\">%.3f</td></tr>\n",
            im->dice, im->dice, im->iou, im->iou, im->dsb, im->dsb);
}

static void images(FILE *f, const struct cu_html_eval *e)
{
    fprintf(f, "<h2>Images, worst DSB score first</h2>\n");
    legend(f);
    fprintf(f, "<table id=\"images\"><thead><tr><th>#</th><th>image</th><th>overlay</th><th class=\"id\">id</th>"
               "<th>size</th><th>true</th><th>pred</th><th>matched</th><th>missed</th><th>false</th>"
               "<th>merged</th><th>split</th><th>Dice</th><th>IoU</th><th>DSB</th></tr></thead><tbody>\n");
    int *order = malloc(sizeof *order * (size_t)(e->n ? e->n : 1));
    for (int i = 0; order && i < e->n; i++)
        order[i] = i;
    if (order) {
        sort_base = e->im;
        qsort(order, (size_t)e->n, sizeof *order, by_dsb);
    }
    for (int i = 0; i < e->n; i++)
        image_row(f, i + 1, &e->im[order ? order[i] : i]);
    free(order);
    fprintf(f, "</tbody></table>\n");
}

static void summary(FILE *f, const struct cu_html_eval *e)
{
    struct cu_fate_counts c = {0};
    long long nt = 0, np = 0;
    for (int i = 0; i < e->n; i++) {
        cu_fate_counts_add(&c, &e->im[i].fates);
        nt += e->im[i].n_true, np += e->im[i].n_pred;
    }
    fprintf(f, "<h1>clunet eval</h1>\n<p>");
    if (e->model) {
        fprintf(f, "model <code>");
        cu_html_puts(f, e->model);
    } else {
        fprintf(f, "predictions <code>");
        cu_html_puts(f, e->pred_dir ? e->pred_dir : "");
    }
    fprintf(f, "</code> on <code>");
    cu_html_puts(f, e->data);
    fprintf(f, "</code>: %d images, %lld true nuclei, %lld predicted.</p>\n", e->n, nt, np);
    fprintf(f, "<p class=\"summary\"><span>Dice <b>%.4f</b></span><span>IoU <b>%.4f</b></span>"
               "<span>DSB score <b>%.4f</b></span></p>\n", e->dice, e->iou, e->dsb);
    fprintf(f, "<p>Nuclei: %lld matched, %lld missed, %lld false, %lld merged predictions, %lld split true "
               "nuclei (a split nucleus also counts as missed and a merging prediction as false).</p>\n",
            (long long)c.matched, (long long)c.missed, (long long)c.false_pos, (long long)c.merged,
            (long long)c.split);
    fprintf(f, "<h2>Precision at each IoU threshold</h2>\n");
    chart(f, e->precision);
}

enum cu_status cu_html_eval_write(const char *path, const struct cu_html_eval *e, struct cu_err *err)
{
    struct cu_atomic a;
    CU_TRY(cu_atomic_begin(&a, path, err));
    FILE *f = a.f;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>clunet eval: ");
    cu_html_puts(f, e->data);
    fprintf(f, "</title>\n%s</head><body>\n", STYLE);
    summary(f, e);
    groups(f, e);
    images(f, e);
    fprintf(f, "%s</body></html>\n", SCRIPT);
    return cu_atomic_commit(&a, err);
}
