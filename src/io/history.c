/* history.c: history.csv and history.svg of a run (see history.h). The SVG
 * is written by hand: two plot panels with "nice" tick steps (1, 2, 5 x
 * 10^k), polylines with point markers, and a legend; no scripts or fonts
 * beyond a generic sans-serif, so any browser or rsvg renders it. */
#include "io/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cu_history_free(struct cu_history *h)
{
    free(h->rows);
    h->rows = NULL;
    h->n = h->cap = 0;
}

enum cu_status cu_history_add(struct cu_history *h, const struct cu_history_row *row, struct cu_err *err)
{
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 32;
        struct cu_history_row *rows = realloc(h->rows, (size_t)cap * sizeof *rows);
        if (!rows)
            return cu_fail(err, CU_EDEVICE, "history: out of memory");
        h->rows = rows;
        h->cap = cap;
    }
    h->rows[h->n++] = *row;
    return CU_OK;
}

void cu_history_truncate(struct cu_history *h, int n)
{
    if (n >= 0 && n < h->n)
        h->n = n;
}

int cu_history_write_csv(FILE *f, const struct cu_history *h)
{
    int bad = fprintf(f, "%s\n", CU_HISTORY_HEADER) < 0;
    for (int i = 0; i < h->n; i++) {
        const struct cu_history_row *r = &h->rows[i];
        bad |= fprintf(f, "%d,%.9g,%.9g,%.9g,%.9g,%.3f,%.2f\n", r->epoch, r->train_loss, r->train_dice, r->val_loss,
                       r->val_dice, r->seconds, r->images_per_second) < 0;
    }
    return bad;
}

enum cu_status cu_history_parse(struct cu_history *h, const char *text, const char *what, struct cu_err *err)
{
    h->n = 0;
    size_t hl = strlen(CU_HISTORY_HEADER);
    if (strncmp(text, CU_HISTORY_HEADER, hl) != 0 || (text[hl] != '\n' && text[hl] != '\0'))
        return cu_fail(err, CU_EINPUT, "%s: history does not start with the header %s", what, CU_HISTORY_HEADER);
    const char *p = text + hl;
    for (int line = 2; *p; line++) {
        if (*p == '\n')
            p++;
        if (!*p)
            break;
        struct cu_history_row r;
        int used = 0;
        if (sscanf(p, "%d,%lf,%lf,%lf,%lf,%lf,%lf%n", &r.epoch, &r.train_loss, &r.train_dice, &r.val_loss,
                   &r.val_dice, &r.seconds, &r.images_per_second, &used) != 7 ||
            (p[used] != '\n' && p[used] != '\0') || r.epoch != h->n + 1)
            return cu_fail(err, CU_EINPUT, "%s: history line %d is malformed", what, line);
        enum cu_status st = cu_history_add(h, &r, err);
        if (st)
            return st;
        p += used;
    }
    return CU_OK;
}

/* ---- SVG ---- */

#define SVG_W 980
#define SVG_H 420
#define PANEL_W 400
#define PANEL_H 290
#define PANEL_TOP 70
#define PANEL_LEFT0 80
#define PANEL_LEFT1 560

/* A tick step of 1, 2 or 5 x 10^k giving about `want` intervals over range. */
static double nice_step(double range, int want)
{
    if (!(range > 0))
        return 1;
    double raw = range / want;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return m * mag;
}

struct axis {
    double lo, hi, step;
};

static struct axis axis_for(double lo, double hi, int want, int integer)
{
    if (!(hi > lo))
        hi = lo + 1;
    double step = nice_step(hi - lo, want);
    if (integer && step < 1)
        step = 1;
    struct axis a = {floor(lo / step) * step, ceil(hi / step) * step, step};
    if (!(a.hi > a.lo))
        a.hi = a.lo + step;
    return a;
}

struct panel {
    double left;
    struct axis x, y;
};

static double px(const struct panel *p, double x) { return p->left + (x - p->x.lo) / (p->x.hi - p->x.lo) * PANEL_W; }

static double py(const struct panel *p, double y)
{
    return PANEL_TOP + PANEL_H - (y - p->y.lo) / (p->y.hi - p->y.lo) * PANEL_H;
}

static void tick_label(char *buf, size_t n, double v, double step)
{
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 6)
        decimals = 6;
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, n, "%.*f", decimals, v);
}

static void draw_axes(FILE *f, const struct panel *p, const char *title, const char *ylabel)
{
    double x0 = p->left, y0 = PANEL_TOP, x1 = p->left + PANEL_W, y1 = PANEL_TOP + PANEL_H;
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">%s</text>\n",
            (x0 + x1) / 2, PANEL_TOP - 14, title);
    char lab[32];
    for (double v = p->y.lo; v <= p->y.hi + p->y.step * 1e-6; v += p->y.step) {
        double y = py(p, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", x0, y, x1, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", x0 - 5, y, x0, y);
        tick_label(lab, sizeof lab, v, p->y.step);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">%s</text>\n", x0 - 8, y + 4,
                lab);
    }
    for (double v = p->x.lo; v <= p->x.hi + p->x.step * 1e-6; v += p->x.step) {
        double x = px(p, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n", x, y1, x, y1 + 5);
        tick_label(lab, sizeof lab, v, p->x.step);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">%s</text>\n", x, y1 + 19,
                lab);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000\"/>\n", x0, y0,
            PANEL_W, PANEL_H);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">epoch</text>\n", (x0 + x1) / 2,
            y1 + 40);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
            "transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
            x0 - 50, (y0 + y1) / 2, x0 - 50, (y0 + y1) / 2, ylabel);
}

static double row_value(const struct cu_history_row *r, int which)
{
    switch (which) {
    case 0: return r->train_loss;
    case 1: return r->val_loss;
    case 2: return r->train_dice;
    default: return r->val_dice;
    }
}

static void draw_series(FILE *f, const struct panel *p, const struct cu_history *h, int which, const char *color,
                        int dashed)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", color,
            dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (int i = 0; i < h->n; i++) {
        double v = row_value(&h->rows[i], which);
        if (isfinite(v))
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(p, h->rows[i].epoch), py(p, v));
    }
    fprintf(f, "\"/>\n");
    for (int i = 0; i < h->n; i++) {
        double v = row_value(&h->rows[i], which);
        if (isfinite(v))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(p, h->rows[i].epoch), py(p, v),
                    color);
    }
}

static void draw_legend(FILE *f, const struct panel *p, int bottom)
{
    static const char *names[] = {"train", "validation"};
    static const char *colors[] = {"#1f77b4", "#d62728"};
    double x = p->left + PANEL_W - 130, y = bottom ? PANEL_TOP + PANEL_H - 56 : PANEL_TOP + 10;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"120\" height=\"46\" fill=\"#fff\" fill-opacity=\"0.85\" "
               "stroke=\"#999\"/>\n",
            x, y);
    for (int i = 0; i < 2; i++) {
        double ly = y + 15 + 18 * i;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                x + 8, ly, x + 38, ly, colors[i], i ? " stroke-dasharray=\"6 4\"" : "");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n", x + 46, ly + 4, names[i]);
    }
}

/* Escapes &, <, > for text content. */
static void put_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

int cu_history_write_svg(FILE *f, const struct cu_history *h, const char *title)
{
    double max_loss = 0;
    int last = 1;
    for (int i = 0; i < h->n; i++) {
        for (int k = 0; k < 2; k++)
            if (isfinite(row_value(&h->rows[i], k)) && row_value(&h->rows[i], k) > max_loss)
                max_loss = row_value(&h->rows[i], k);
        if (h->rows[i].epoch > last)
            last = h->rows[i].epoch;
    }
    struct axis ex = axis_for(last > 1 ? 1 : 0, last, 8, 1);
    if (last > 1)
        ex.lo = ex.lo < 1 ? 0 : ex.lo;
    struct panel loss = {PANEL_LEFT0, ex, axis_for(0, max_loss > 0 ? max_loss : 1, 5, 0)};
    struct panel dice = {PANEL_LEFT1, ex, {0, 1, 0.2}};

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(f, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">", SVG_W / 2);
    put_text(f, title ? title : "clunet train");
    fprintf(f, "</text>\n");
    draw_axes(f, &loss, "Loss", "loss");
    draw_axes(f, &dice, "Dice", "Dice coefficient");
    draw_series(f, &loss, h, 0, "#1f77b4", 0);
    draw_series(f, &loss, h, 1, "#d62728", 1);
    draw_series(f, &dice, h, 2, "#1f77b4", 0);
    draw_series(f, &dice, h, 3, "#d62728", 1);
    draw_legend(f, &loss, 0); /* loss falls: its top right is empty */
    draw_legend(f, &dice, 1); /* Dice rises: its bottom right is */
    fprintf(f, "</svg>\n");
    return ferror(f) != 0;
}
