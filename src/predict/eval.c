/* eval.c: clunet_eval (eval.h): for each labelled image, the predicted
 * nuclei (from the model, exactly as `clunet predict` makes them, or read
 * from a folder of saved label images) against the true ones, scored with
 * eval_report.c's cu_eval_image; then the table or JSON and the two files.
 *
 * Saved predictions: DIR/<id>_labels.png or .tif (what `predict
 * --instances` writes) is used as is; else DIR/<id>.png or .tif, which is a
 * label image when it holds more than one non-zero value, and a binary mask
 * split into its 8-connected components otherwise. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/dataset.h"
#include "clunet/eval.h"
#include "clunet/eval_report.h"
#include "clunet/progress.h"
#include "predict/eval_html.h"
#include "predict/predict_impl.h"

/* uint32 labels -> int32 (metrics.h checks the range). */
static enum cu_status to_int32(const struct cu_labels *lb, int32_t *out, const char *path, struct cu_err *err)
{
    size_t n = (size_t)lb->h * (size_t)lb->w;
    for (size_t q = 0; q < n; q++) {
        if (lb->v[q] > INT32_MAX)
            return cu_fail(err, CU_EINPUT, "%s: label %u is too large", path, (unsigned)lb->v[q]);
        out[q] = (int32_t)lb->v[q];
    }
    return CU_OK;
}

/* Reads the saved prediction of id into pred (h*w): the first of
 * <id>_labels.png, <id>_labels.tif, <id>.png, <id>.tif that exists. */
static enum cu_status read_pred(const char *dir, const char *id, int h, int w, int32_t *pred, struct cu_err *err)
{
    static const char *const suffix[] = {"_labels.png", "_labels.tif", ".png", ".tif"};
    char path[4096];
    int k = 0;
    for (; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s%s", dir, id, suffix[k]);
        if (access(path, F_OK) == 0)
            break;
    }
    if (k == 4) /* name the file predict writes by default */
        snprintf(path, sizeof path, "%s/%s.png", dir, id);
    int binary_ok = k >= 2;
    struct cu_labels lb = {0};
    enum cu_status st = cu_image_read_labels(path, &lb, err);
    if (st)
        return st;
    if (lb.h != h || lb.w != w)
        st = cu_fail(err, CU_EINPUT, "%s: prediction is %dx%d, the image is %dx%d", path, lb.w, lb.h, w, h);
    if (!st)
        st = to_int32(&lb, pred, path, err);
    cu_labels_free(&lb);
    if (st || !binary_ok)
        return st;
    /* One non-zero value: a binary mask; split it into components. */
    size_t n = (size_t)h * (size_t)w;
    int32_t first = 0;
    int binary = 1;
    for (size_t q = 0; q < n && binary; q++)
        if (pred[q]) {
            if (!first)
                first = pred[q];
            binary = pred[q] == first;
        }
    if (!binary || !first)
        return CU_OK;
    uint8_t *mask = malloc(n);
    if (!mask)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    for (size_t q = 0; q < n; q++)
        mask[q] = pred[q] != 0;
    int count;
    st = cu_label_components(pred, &count, mask, h, w, err);
    free(mask);
    return st;
}

/* missed, false, merged (merging predictions) and split (split true
 * nuclei) as table columns */
static void print_errors(FILE *f, const struct cu_fate_counts *e)
{
    fprintf(f, " %6lld %6lld %6lld %6lld\n", (long long)e->missed, (long long)e->false_pos, (long long)e->merged,
            (long long)e->split);
}

static enum cu_status print_table(FILE *f, const struct cu_eval_report *rep, const char *grouping,
                                  struct cu_err *err)
{
    struct cu_eval_summary s;
    cu_eval_report_summary(rep, &s);
    fprintf(f, "%-20s %11s %6s %6s %7s %7s %7s %6s %6s %6s %6s\n", "image", "size", "true", "pred", "dice", "iou",
            "dsb", "missed", "false", "merged", "split");
    for (size_t i = 0; i < cu_eval_report_rows(rep); i++) {
        const struct cu_eval_row *r = cu_eval_report_row(rep, i);
        char size[32];
        snprintf(size, sizeof size, "%dx%d", r->width, r->height);
        fprintf(f, "%-20.20s %11s %6d %6d %7.4f %7.4f %7.4f", r->image, size, r->dsb.n_true, r->dsb.n_pred,
                r->fg.dice, r->fg.iou, r->dsb.score);
        print_errors(f, &r->fates);
    }
    fprintf(f, "%-20s %11s %6lld %6lld %7.4f %7.4f %7.4f", "mean", "", (long long)s.true_nuclei,
            (long long)s.pred_nuclei, s.dice, s.iou, s.dsb_score);
    print_errors(f, &s.fates);
    struct cu_eval_group *g = NULL;
    size_t ng = 0;
    enum cu_status st = cu_eval_report_groups(rep, &g, &ng, err);
    if (st)
        return st;
    fprintf(f, "\nby %s:\n%-20s %11s %6s %6s %7s %7s %7s %6s %6s %6s %6s\n", grouping ? grouping : "image size",
            "group", "images", "true", "pred", "dice", "iou", "dsb", "missed", "false", "merged", "split");
    for (size_t j = 0; j < ng; j++) {
        const struct cu_eval_summary *q = &g[j].s;
        fprintf(f, "%-20.20s %11d %6lld %6lld %7.4f %7.4f %7.4f", g[j].name, q->images, (long long)q->true_nuclei,
                (long long)q->pred_nuclei, q->dice, q->iou, q->dsb_score);
        print_errors(f, &q->fates);
    }
    free(g);
    fprintf(f, "(missed: true nuclei matched by no prediction at IoU > 0.5 and in no merge; false: predictions\n"
               " matching no true nucleus at IoU > 0.5 and in no split; merged: predictions holding >= 50%% of the\n"
               " pixels of each of >= 2 true nuclei; split: true nuclei holding >= 50%% of the pixels of each of\n"
               " >= 2 predictions. A split nucleus also counts as missed, a merging prediction as false.)\n");
    fprintf(f, "precision at IoU >");
    for (int t = 0; t < CU_DSB_NT; t++)
        fprintf(f, " %.2f: %.3f%s", cu_dsb_threshold(t), s.precision[t], t + 1 < CU_DSB_NT ? "," : "\n");
    fprintf(f, "%d images: Dice %.4f  IoU %.4f  DSB score %.4f\n", s.images, s.dice, s.iou, s.dsb_score);
    return CU_OK;
}

/* The folder of path ("." when it has none), malloc'd. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(len + 1);
    if (d)
        memcpy(d, path, len), d[len] = '\0';
    return d;
}

/* The grouping file: one "image_id,group" line per image (a first line
 * "image,group" is a header; blank lines and lines starting with # are
 * skipped). Every scored image must be listed. */
struct grouping {
    char **id, **group;
    int n;
};

static void grouping_free(struct grouping *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->id[i]), free(g->group[i]);
    free(g->id), free(g->group);
    memset(g, 0, sizeof *g);
}

static enum cu_status grouping_read(const char *path, struct grouping *g, struct cu_err *err)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "r");
    if (!f)
        return cu_fail(err, CU_EINPUT, "%s: cannot open the grouping file: %s", path, strerror(errno));
    char line[1024];
    int lineno = 0, cap = 0;
    enum cu_status st = CU_OK;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = cu_fail(err, CU_EINPUT, "%s: line %d is longer than %zu characters", path, lineno, sizeof line - 2);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len || line[0] == '#' || (lineno == 1 && !strcmp(line, "image,group")))
            continue;
        char *comma = strchr(line, ',');
        if (!comma || comma == line || !comma[1] || strchr(comma + 1, ',') || strlen(comma + 1) >= 64) {
            st = cu_fail(err, CU_EINPUT, "%s: line %d: expected image_id,group (a group of 1..63 characters)", path,
                         lineno);
            break;
        }
        *comma = '\0';
        if (g->n == cap) {
            cap = cap ? 2 * cap : 64;
            char **a = realloc(g->id, sizeof *a * (size_t)cap), **b = a ? realloc(g->group, sizeof *b * (size_t)cap) : NULL;
            if (a)
                g->id = a;
            if (b)
                g->group = b;
            if (!a || !b) {
                st = cu_fail(err, CU_EINPUT, "%s: out of memory", path);
                break;
            }
        }
        g->id[g->n] = strdup(line);
        g->group[g->n] = strdup(comma + 1);
        if (!g->id[g->n] || !g->group[g->n]) {
            free(g->id[g->n]), free(g->group[g->n]);
            st = cu_fail(err, CU_EINPUT, "%s: out of memory", path);
            break;
        }
        g->n++;
    }
    if (!st && ferror(f))
        st = cu_fail(err, CU_EINPUT, "%s: read error", path);
    fclose(f);
    if (st)
        grouping_free(g);
    return st;
}

static enum cu_status grouping_apply(const struct grouping *g, const char *path, struct cu_eval_row *row,
                                     struct cu_err *err)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->id[i], row->image)) {
            snprintf(row->group, sizeof row->group, "%s", g->group[i]);
            return CU_OK;
        }
    return cu_fail(err, CU_EINPUT, "%s: image %s is in no group", path, row->image);
}

/* The report files' names in dir: with --out, eval.csv and eval.json;
 * without it (the model's folder or --pred DIR, which earlier evals of
 * other datasets share) eval_<data>.csv/.json after the folder read, and
 * never over an earlier report: those are refused (CU_EUSAGE). */
static enum cu_status report_names(const struct cu_eval_run *r, const char *dir, const struct cu_dataset *ds,
                                   char *csv, char *json, size_t size, struct cu_err *err)
{
    if (r->out_dir) {
        snprintf(csv, size, "%s/eval.csv", dir);
        snprintf(json, size, "%s/eval.json", dir);
        return CU_OK;
    }
    char *real = realpath(ds->dir, NULL), name[256];
    const char *base = real ? strrchr(real, '/') : NULL;
    snprintf(name, sizeof name, "%s", base && base[1] ? base + 1 : "data");
    free(real);
    for (char *c = name; *c; c++) /* a file name that needs no quoting */
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
            *c = '_';
    snprintf(csv, size, "%s/eval_%s.csv", dir, name);
    snprintf(json, size, "%s/eval_%s.json", dir, name);
    const char *there = access(csv, F_OK) == 0 ? csv : access(json, F_OK) == 0 ? json : NULL;
    if (there)
        return cu_fail(err, CU_EUSAGE,
                       "%s: exists (an earlier eval); give --out DIR for this one's eval.csv and eval.json, or "
                       "remove it",
                       there);
    return CU_OK;
}

/* Scores sample i of ds into row; with html, adds it to the report (the
 * image is read for that when the predictions come from a folder). */
static enum cu_status eval_one(const struct cu_eval_run *r, struct cu_predictor *p, const struct cu_dataset *ds,
                               int i, struct cu_pred_image *pi, struct cu_eval_row *row, struct cu_eval_html *html,
                               const struct grouping *grp, struct cu_err *err)
{
    const struct cu_sample *s = &ds->samples[i];
    struct cu_labels truth = {0};
    struct cu_image img = {0};
    int32_t *t32 = NULL, *pred = NULL;
    const uint8_t *mask = NULL;
    int count;
    enum cu_status st = cu_dataset_labels(ds, i, &truth, &count, err);
    size_t n = st ? 0 : (size_t)truth.h * (size_t)truth.w;
    if (!st && !(t32 = malloc(sizeof *t32 * n)))
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory", s->image);
    if (!st)
        st = to_int32(&truth, t32, s->image, err);
    if (!st && p) {
        struct cu_input_opts in;
        cu_predictor_input(p, &in);
        st = cu_image_read_rgb(s->image, &in, &img, err);
        if (!st && (img.h != truth.h || img.w != truth.w))
            st = cu_fail(err, CU_EINPUT, "%s: image and masks differ in size", s->image);
        if (!st)
            st = cu_pred_image_run(p, &img, pi, err);
        if (!st) {
            pred = pi->labels;
            for (size_t q = 0; q < n; q++) /* the mask predict writes: pixels of kept nuclei */
                pi->mask[q] = pi->labels[q] > 0;
            mask = pi->mask;
        }
    } else if (!st) {
        if (!(pred = malloc(sizeof *pred * n)))
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory", s->image);
        if (!st)
            st = read_pred(r->pred_dir, s->id, truth.h, truth.w, pred, err);
    }
    if (!st)
        st = cu_eval_image(row, s->id, mask, pred, t32, truth.h, truth.w, err);
    if (!st && grp)
        st = grouping_apply(grp, r->groups, row, err);
    if (!st && html && !p)
        st = cu_image_read_rgb(s->image, &r->opts.input, &img, err); /* the flags as given */
    if (!st && html && (img.h != truth.h || img.w != truth.w))
        st = cu_fail(err, CU_EINPUT, "%s: image and masks differ in size", s->image);
    if (!st && html)
        st = cu_eval_html_add(html, row, &img, pred, t32, err);
    if (!p)
        free(pred);
    free(t32);
    cu_image_free(&img);
    cu_labels_free(&truth);
    return st;
}

static enum cu_status check_run(const struct cu_eval_run *r, struct cu_err *err)
{
    if (!r->data)
        return cu_fail(err, CU_EUSAGE, "eval: DATA is required");
    if (!r->model == !r->pred_dir)
        return cu_fail(err, CU_EUSAGE, "eval: give either MODEL or --pred DIR");
    return CU_OK;
}

enum cu_status clunet_eval(const struct cu_eval_run *r, struct cu_err *err)
{
    struct cu_dataset *ds = NULL;
    struct cu_backend *be = NULL;
    struct cu_predictor *p = NULL;
    struct cu_eval_report *rep = NULL;
    struct cu_pred_image pi = {0};
    struct cu_eval_html html = {0};
    char *out_dir = NULL;
    int created = 0, lock_fd = -1;
    struct cu_dataset_opts dopts = {.need_masks = 1, .skip_bad = r->opts.skip_bad};
    struct cu_skipped skipped = {0};
    struct grouping grp = {0};
    enum cu_status st = check_run(r, err);
    if (!st && r->groups)
        st = grouping_read(r->groups, &grp, err);
    if (!st)
        out_dir = r->out_dir ? strdup(r->out_dir) : r->model ? folder_of(r->model) : strdup(r->pred_dir);
    if (!st && !out_dir)
        st = cu_fail(err, CU_EDEVICE, "eval: out of memory");
    if (!st)
        st = cu_dataset_scan(r->data, &dopts, &ds, err);
    FILE *say = r->json ? r->progress : r->report; /* --json keeps stdout for the JSON */
    if (!st && say)
        fprintf(say, "data: %s (%s): %d image%s\n", ds->dir, cu_layout_name(ds->layout), ds->n, ds->n == 1 ? "" : "s");
    char csv[4096], json[4096];
    if (!st)
        cu_dataset_print_skipped(ds, r->progress);
    for (int i = 0; !st && i < ds->n_bad; i++) { /* samples the scan left out (--skip-bad) */
        struct cu_err line = {0};
        cu_fail(&line, CU_EINPUT, "%s", ds->bad[i]);
        st = cu_skipped_add(&skipped, &line) ? cu_fail(err, CU_EDEVICE, "eval: out of memory") : CU_OK;
    }
    if (!st)
        st = report_names(r, out_dir, ds, csv, json, sizeof csv, err);
    if (!st)
        st = cu_out_dir_prepare(out_dir, r->out_dir != NULL, &created, &lock_fd, err); /* the model's own folder
                                                                                   may be a run in training */
    if (!st)
        st = cu_eval_report_new(&rep, err);
    if (!st && r->groups)
        cu_eval_report_set_grouping(rep, r->groups);
    if (!st && r->report_dir)
        st = cu_eval_html_begin(&html, r->report_dir, err);
    if (!st && r->model)
        st = cu_backend_open(r->device, &be, err);
    if (!st && r->model)
        st = cu_predictor_new(be, r->model, &r->opts, &p, err);
    if (!st && p && say) {
        char how[256];
        cu_predictor_describe(p, how, sizeof how);
        fprintf(say, "predicting with %s\n", how);
    }
    struct cu_progress bar;
    cu_progress_start(&bar, st ? NULL : r->progress, "eval", st ? 0 : ds->n);
    for (int i = 0; !st && i < ds->n; i++) {
        struct cu_eval_row row;
        st = eval_one(r, p, ds, i, &pi, &row, r->report_dir ? &html : NULL, r->groups ? &grp : NULL, err);
        if (st == CU_EINPUT && r->opts.skip_bad) { /* listed at the end, scored without it */
            st = cu_skipped_add(&skipped, err);
            cu_progress_update(&bar, i + 1, NULL);
            continue;
        }
        if (!st)
            st = cu_eval_report_add(rep, &row, err);
        cu_progress_update(&bar, i + 1, NULL);
    }
    if (!st)
        cu_progress_done(&bar);
    if (!st)
        cu_skipped_print(&skipped, r->progress);
    if (!st && cu_eval_report_rows(rep) == 0)
        st = cu_fail(err, CU_EINPUT, "%s: no image could be scored (%d bad)", r->data, skipped.n);
    if (!st)
        st = cu_eval_report_write_csv(rep, csv, err);
    if (!st)
        st = cu_eval_report_write_json(rep, json, err);
    if (!st && r->report_dir) {
        struct cu_eval_summary sum;
        cu_eval_report_summary(rep, &sum);
        st = cu_eval_html_finish(&html, r->model, r->pred_dir, r->data, &sum, err);
    }
    if (!st && r->report && r->json) {
        char *js = NULL;
        st = cu_eval_report_json(rep, &js, err);
        if (!st)
            fprintf(r->report, "%s\n", js);
        free(js);
    } else if (!st && r->report) {
        st = print_table(r->report, rep, r->groups, err);
        if (!st)
            fprintf(r->report, "wrote %s and %s\n", csv, json);
        if (!st && r->report_dir)
            fprintf(r->report, "report: %s/index.html\n", r->report_dir);
    }
    grouping_free(&grp);
    if (out_dir)
        cu_out_dir_finish(out_dir, created, lock_fd, st != CU_OK);
    cu_pred_image_free(&pi);
    cu_eval_html_free(&html);
    cu_eval_report_free(rep);
    cu_predictor_free(p);
    cu_backend_free(be);
    cu_dataset_free(ds);
    cu_skipped_free(&skipped);
    free(out_dir);
    return st;
}
