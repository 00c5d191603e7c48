/* eval_report.c: per-image rows, their means, eval.csv and eval.json (see
 * include/clunet/eval_report.h for the file layouts). JSON goes through
 * jansson so that strings and numbers are always valid JSON. Also the
 * printed table. Leaves out predicting and reading images. */
#include "clunet/eval_report.h"
#include "clunet/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

struct cu_eval_report {
    struct cu_eval_row *rows;
    size_t n, cap;
    char grouping[1024];
};

enum cu_status cu_eval_image(struct cu_eval_row *row, const char *image, const uint8_t *pred_mask,
                             const int32_t *pred, const int32_t *truth, int h, int w, struct cu_err *err)
{
    struct cu_eval_row r;
    memset(&r, 0, sizeof r);
    enum cu_status st = cu_dsb_score(&r.dsb, pred, truth, h, w, err);
    struct cu_fates f;
    if (!st)
        st = cu_fates_compute(&f, pred, truth, h, w, err);
    if (st)
        return st;
    r.fates = f.counts;
    cu_fates_free(&f);
    snprintf(r.group, sizeof r.group, "%dx%d", w, h);
    size_t n = (size_t)h * (size_t)w;
    int64_t inter = 0, np = 0, nt = 0;
    for (size_t i = 0; i < n; i++) {
        int p = pred_mask ? pred_mask[i] != 0 : pred[i] > 0, t = truth[i] > 0;
        np += p;
        nt += t;
        inter += p & t;
    }
    cu_fg_score_counts(&r.fg, inter, np, nt);
    snprintf(r.image, sizeof r.image, "%s", image);
    r.width = w;
    r.height = h;
    *row = r;
    return CU_OK;
}

enum cu_status cu_eval_report_new(struct cu_eval_report **out, struct cu_err *err)
{
    struct cu_eval_report *r = calloc(1, sizeof *r);
    if (!r)
        return cu_fail(err, CU_EDEVICE, "eval: out of host memory");
    snprintf(r->grouping, sizeof r->grouping, "size");
    *out = r;
    return CU_OK;
}

void cu_eval_report_free(struct cu_eval_report *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r);
}

enum cu_status cu_eval_report_add(struct cu_eval_report *r, const struct cu_eval_row *row, struct cu_err *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct cu_eval_row *rows = realloc(r->rows, cap * sizeof *rows);
        if (!rows)
            return cu_fail(err, CU_EDEVICE, "eval: out of host memory");
        r->rows = rows;
        r->cap = cap;
    }
    r->rows[r->n++] = *row;
    return CU_OK;
}

size_t cu_eval_report_rows(const struct cu_eval_report *r)
{
    return r->n;
}

const struct cu_eval_row *cu_eval_report_row(const struct cu_eval_report *r, size_t i)
{
    return &r->rows[i];
}

void cu_eval_report_set_grouping(struct cu_eval_report *r, const char *grouping)
{
    snprintf(r->grouping, sizeof r->grouping, "%s", grouping);
}

/* The summary of the rows of group (NULL: all rows). */
static void summarise(const struct cu_eval_report *r, const char *group, struct cu_eval_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < r->n; i++) {
        const struct cu_eval_row *row = &r->rows[i];
        if (group && strcmp(row->group, group))
            continue;
        s->images++;
        cu_fate_counts_add(&s->fates, &row->fates);
        s->true_nuclei += row->dsb.n_true;
        s->pred_nuclei += row->dsb.n_pred;
        s->dice += row->fg.dice;
        s->iou += row->fg.iou;
        s->dsb_score += row->dsb.score;
        for (int t = 0; t < CU_DSB_NT; t++)
            s->precision[t] += row->dsb.precision[t];
    }
    if (!s->images)
        return;
    s->dice /= (double)s->images;
    s->iou /= (double)s->images;
    s->dsb_score /= (double)s->images;
    for (int t = 0; t < CU_DSB_NT; t++)
        s->precision[t] /= (double)s->images;
}

void cu_eval_report_summary(const struct cu_eval_report *r, struct cu_eval_summary *s) { summarise(r, NULL, s); }

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const struct cu_eval_group *)a)->name, ((const struct cu_eval_group *)b)->name);
}

enum cu_status cu_eval_report_groups(const struct cu_eval_report *r, struct cu_eval_group **groups, size_t *n,
                                     struct cu_err *err)
{
    struct cu_eval_group *g = calloc(r->n ? r->n : 1, sizeof *g);
    if (!g)
        return cu_fail(err, CU_EDEVICE, "eval: out of host memory");
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = 0;
        while (j < k && strcmp(g[j].name, r->rows[i].group))
            j++;
        if (j == k)
            snprintf(g[k++].name, sizeof g->name, "%s", r->rows[i].group);
    }
    qsort(g, k, sizeof *g, cmp_group);
    for (size_t j = 0; j < k; j++)
        summarise(r, g[j].name, &g[j].s);
    *groups = g;
    *n = k;
    return CU_OK;
}

enum cu_status cu_eval_report_write_csv(const struct cu_eval_report *r, const char *path, struct cu_err *err)
{
    struct cu_atomic a;
    enum cu_status st = cu_atomic_begin(&a, path, err);
    if (st)
        return st;
    fprintf(a.f, "image,width,height,true_nuclei,pred_nuclei,dice,iou,dsb_score");
    for (int t = 0; t < CU_DSB_NT; t++)
        fprintf(a.f, ",p%02d", 50 + 5 * t);
    fprintf(a.f, ",group,matched,missed,false,merged,split\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct cu_eval_row *row = &r->rows[i];
        cu_csv_field(a.f, row->image);
        fprintf(a.f, ",%d,%d,%d,%d,%.6f,%.6f,%.6f", row->width, row->height, row->dsb.n_true,
                row->dsb.n_pred, row->fg.dice, row->fg.iou, row->dsb.score);
        for (int t = 0; t < CU_DSB_NT; t++)
            fprintf(a.f, ",%.6f", row->dsb.precision[t]);
        fputc(',', a.f);
        cu_csv_field(a.f, row->group);
        const struct cu_fate_counts *e = &row->fates;
        fprintf(a.f, ",%lld,%lld,%lld,%lld,%lld\n", (long long)e->matched, (long long)e->missed,
                (long long)e->false_pos, (long long)e->merged, (long long)e->split);
    }
    return cu_atomic_commit(&a, err);
}

/* A mean, or null when there is no image. */
static json_t *mean(const struct cu_eval_summary *s, double v)
{
    return s->images ? json_real(v) : json_null();
}

static json_t *fates_json(const struct cu_fate_counts *e)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "matched", (json_int_t)e->matched, "missed", (json_int_t)e->missed,
                     "false", (json_int_t)e->false_pos, "merged", (json_int_t)e->merged, "split",
                     (json_int_t)e->split);
}

/* The summary fields of s into obj; nonzero on failure. */
static int summary_json(json_t *obj, const struct cu_eval_summary *s)
{
    json_t *prec = json_object();
    int bad = !prec;
    bad |= json_object_set_new(obj, "images", json_integer(s->images)) != 0;
    bad |= json_object_set_new(obj, "dice", mean(s, s->dice)) != 0;
    bad |= json_object_set_new(obj, "iou", mean(s, s->iou)) != 0;
    bad |= json_object_set_new(obj, "dsb_score", mean(s, s->dsb_score)) != 0;
    for (int t = 0; !bad && t < CU_DSB_NT; t++) {
        char key[8];
        snprintf(key, sizeof key, "%.2f", cu_dsb_threshold(t));
        bad |= json_object_set_new(prec, key, mean(s, s->precision[t])) != 0;
    }
    bad |= json_object_set_new(obj, "precision", prec) != 0;
    bad |= json_object_set_new(obj, "true_nuclei", json_integer(s->true_nuclei)) != 0;
    bad |= json_object_set_new(obj, "pred_nuclei", json_integer(s->pred_nuclei)) != 0;
    bad |= json_object_set_new(obj, "fates", fates_json(&s->fates)) != 0;
    return bad;
}

static json_t *row_json(const struct cu_eval_row *row)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f}", "image", row->image, "group", row->group,
                          "width", row->width, "height", row->height, "true_nuclei", row->dsb.n_true, "pred_nuclei",
                          row->dsb.n_pred, "dice", row->fg.dice, "iou", row->fg.iou, "dsb_score", row->dsb.score);
    if (o && json_object_set_new(o, "fates", fates_json(&row->fates))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

enum cu_status cu_eval_report_json(const struct cu_eval_report *r, char **out, struct cu_err *err)
{
    struct cu_eval_summary s;
    cu_eval_report_summary(r, &s);
    struct cu_eval_group *g = NULL;
    size_t ng = 0;
    enum cu_status st = cu_eval_report_groups(r, &g, &ng, err);
    if (st)
        return st;
    json_t *root = json_object(), *groups = json_array(), *rows = json_array();
    int bad = !root || !groups || !rows || summary_json(root, &s);
    bad |= json_object_set_new(root, "grouping", json_string(r->grouping)) != 0;
    for (size_t j = 0; !bad && j < ng; j++) {
        json_t *o = json_object();
        bad |= !o || json_object_set_new(o, "group", json_string(g[j].name)) != 0 || summary_json(o, &g[j].s);
        bad |= json_array_append_new(groups, o) != 0;
    }
    for (size_t i = 0; !bad && i < r->n; i++)
        bad |= json_array_append_new(rows, row_json(&r->rows[i])) != 0;
    bad |= json_object_set(root, "groups", groups) != 0;
    bad |= json_object_set(root, "per_image", rows) != 0;
    char *text = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
    json_decref(groups);
    json_decref(rows);
    json_decref(root);
    free(g);
    if (!text)
        return cu_fail(err, CU_EDEVICE, "eval: out of host memory building the JSON summary");
    /* jansson's memory is malloc'd by default: the caller frees with free(). */
    *out = text;
    return CU_OK;
}

enum cu_status cu_eval_report_write_json(const struct cu_eval_report *r, const char *path, struct cu_err *err)
{
    char *text = NULL;
    enum cu_status st = cu_eval_report_json(r, &text, err);
    if (st)
        return cu_fail(err, CU_EIO, "%s: cannot build the summary", path);
    struct cu_atomic a;
    st = cu_atomic_begin(&a, path, err);
    if (!st) {
        fprintf(a.f, "%s\n", text);
        st = cu_atomic_commit(&a, err);
    }
    free(text);
    return st;
}

void cu_eval_report_print(const struct cu_eval_report *r, FILE *f, int per_image)
{
    struct cu_eval_summary s;
    cu_eval_report_summary(r, &s);
    if (per_image && r->n) {
        fprintf(f, "%-32s %13s %7s %7s %7s\n", "image", "nuclei t/p", "dice", "iou", "dsb");
        for (size_t i = 0; i < r->n; i++) {
            const struct cu_eval_row *row = &r->rows[i];
            char nuc[32];
            snprintf(nuc, sizeof nuc, "%d/%d", row->dsb.n_true, row->dsb.n_pred);
            fprintf(f, "%-32.32s %13s %7.4f %7.4f %7.4f\n", row->image, nuc, row->fg.dice, row->fg.iou,
                    row->dsb.score);
        }
    }
    if (!r->n) {
        fprintf(f, "no image scored\n");
        return;
    }
    char nuc[48];
    snprintf(nuc, sizeof nuc, "%lld/%lld", (long long)s.true_nuclei, (long long)s.pred_nuclei);
    char label[48];
    snprintf(label, sizeof label, "mean of %d image%s", s.images, s.images == 1 ? "" : "s");
    fprintf(f, "%-32s %13s %7.4f %7.4f %7.4f\n", label, nuc, s.dice, s.iou, s.dsb_score);
    fprintf(f, "precision at IoU >");
    for (int t = 0; t < CU_DSB_NT; t++)
        fprintf(f, " %5.2f", cu_dsb_threshold(t));
    fprintf(f, "\n                  ");
    for (int t = 0; t < CU_DSB_NT; t++)
        fprintf(f, " %5.3f", s.precision[t]);
    fprintf(f, "\n");
}
