/* train_html.c: RUN/report.html (see train_html.h). The overlays come from
 * the public predict path on best.safetensors, so they show what a user
 * gets from that file, whatever recipe trained it. */
#include "train/train_html.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/eval_report.h"
#include "clunet/fate_overlay.h"
#include "clunet/html_eval.h"
#include "io/history.h"
#include "io/run_dir.h"
#include "predict/predict_impl.h"
#include "train/train_impl.h"

/* Predicts validation sample i with p and writes its fate overlay to path;
 * fills caption k of h. */
static enum cu_status draw_one(struct cu_predictor *p, const struct cu_dataset *ds, int i, const char *path,
                               struct cu_train_html *h, int k, struct cu_err *err)
{
    struct cu_image img = {0};
    struct cu_labels truth = {0};
    struct cu_pred_image pi = {0};
    struct cu_fates f = {0};
    int32_t *t32 = NULL;
    uint8_t *rgb = NULL;
    int count;
    enum cu_status st = cu_image_read_rgb(ds->samples[i].image, &ds->input, &img, err);
    st = st ? st : cu_dataset_labels(ds, i, &truth, &count, err);
    if (!st && (truth.h != img.h || truth.w != img.w))
        st = cu_fail(err, CU_EINPUT, "%s: image and masks differ in size", ds->samples[i].image);
    size_t n = st ? 0 : (size_t)img.h * (size_t)img.w;
    if (!st && (!(t32 = malloc(sizeof *t32 * n)) || !(rgb = cu_image_rgb8(&img))))
        st = cu_fail(err, CU_EDEVICE, "report: out of memory");
    for (size_t q = 0; !st && q < n; q++)
        t32[q] = (int32_t)(truth.v[q] > INT32_MAX ? INT32_MAX : truth.v[q]);
    st = st ? st : cu_pred_image_run(p, &img, &pi, err);
    struct cu_eval_row row;
    st = st ? st : cu_eval_image(&row, ds->samples[i].id, NULL, pi.labels, t32, img.h, img.w, err);
    st = st ? st : cu_fates_compute(&f, pi.labels, t32, img.h, img.w, err);
    if (!st) {
        cu_fate_overlay_draw(rgb, rgb, pi.labels, t32, &f, img.h, img.w);
        st = cu_png_write_rgb8(path, rgb, img.h, img.w, err);
    }
    if (!st) {
        snprintf(h->id[k], sizeof h->id[k], "%s", ds->samples[i].id);
        h->dsb[k] = row.dsb.score, h->dice[k] = row.fg.dice;
        h->n_true[k] = row.dsb.n_true, h->n_pred[k] = row.dsb.n_pred;
    }
    cu_fates_free(&f);
    cu_pred_image_free(&pi);
    cu_labels_free(&truth);
    cu_image_free(&img);
    free(t32);
    free(rgb);
    return st;
}

/* Redraws the overlays with best.safetensors. */
static enum cu_status draw_overlays(struct cu_trainer *tr, struct cu_err *err)
{
    struct cu_train_html *h = &tr->html;
    const struct cu_train_data *d = &tr->data;
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/report", tr->dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cu_fail(err, CU_EIO, "%s: cannot create: %s", dir, strerror(errno));
    struct cu_predict_opts o;
    cu_predict_opts_default(&o);
    struct cu_predictor *p = NULL;
    CU_TRY(cu_predictor_new(tr->be, cu_train_path(tr, CU_RUN_BEST), &o, &p, err));
    int n = d->n_val < CU_TRAIN_HTML_IMAGES ? d->n_val : CU_TRAIN_HTML_IMAGES;
    enum cu_status st = CU_OK;
    h->n = 0;
    for (int k = 0; !st && k < n; k++) {
        /* spread over the validation set, not only its first ids */
        int i = d->order[d->val_idx[(long)k * d->n_val / n]];
        snprintf(path, sizeof path, "%s/val%d.png", dir, k);
        st = draw_one(p, d->ds, i, path, h, k, err);
        h->n += !st;
    }
    cu_predictor_free(p);
    h->epoch = st ? 0 : tr->st.best_epoch;
    return st;
}

/* The "configuration: ..." line of train.log, without its prefix. */
static void config_line(FILE *f, const struct cu_trainer *tr)
{
    const char *log = tr->log.buf ? tr->log.buf : "", *c = strstr(log, "configuration: ");
    if (!c)
        return;
    c += strlen("configuration: ");
    size_t len = strcspn(c, "\n");
    char *line = strndup(c, len);
    if (line) {
        fprintf(f, "<p>Configuration: <code>");
        cu_html_puts(f, line);
        fprintf(f, "</code></p>\n");
    }
    free(line);
}

static void epochs_table(FILE *f, const struct cu_history *hist, int best)
{
    fprintf(f, "<h2>Epochs</h2>\n<table id=\"epochs\"><thead><tr><th>epoch</th><th>train loss</th>"
               "<th>train Dice</th><th>val loss</th><th>val Dice</th><th>s</th><th>img/s</th></tr></thead><tbody>\n");
    for (int i = hist->n - 1; i >= 0; i--) {
        const struct cu_history_row *r = &hist->rows[i];
        fprintf(f, "<tr%s><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.1f</td>"
                   "<td>%.1f</td></tr>\n", r->epoch == best ? " class=\"best\"" : "", r->epoch, r->train_loss,
                r->train_dice, r->val_loss, r->val_dice, r->seconds, r->images_per_second);
    }
    fprintf(f, "</tbody></table>\n");
}

static void overlays(FILE *f, const struct cu_train_html *h)
{
    if (!h->n)
        return;
    fprintf(f, "<h2>Validation images, best model (epoch %d)</h2>\n<p class=\"legend\">", h->epoch);
    static const enum cu_fate fates[] = {CU_FATE_MATCHED, CU_FATE_SPLIT, CU_FATE_MERGED, CU_FATE_FALSE,
                                         CU_FATE_MISSED};
    for (size_t k = 0; k < sizeof fates / sizeof *fates; k++) {
        uint8_t c[3];
        cu_fate_colour(fates[k], c);
        fprintf(f, "<span><i class=\"sw\" style=\"background:#%02X%02X%02X\"></i>%s</span>", c[0], c[1], c[2],
                cu_fate_name(fates[k]));
    }
    fprintf(f, "</p>\n<div class=\"grid\">\n");
    for (int k = 0; k < h->n; k++) {
        fprintf(f, "<figure><a href=\"report/val%d.png\"><img src=\"report/val%d.png\" alt=\"val %d\"></a>"
                   "<figcaption>", k, k, k);
        cu_html_puts(f, h->id[k]);
        fprintf(f, "<br>DSB %.3f, Dice %.3f, %d true, %d found</figcaption></figure>\n", h->dsb[k], h->dice[k],
                h->n_true[k], h->n_pred[k]);
    }
    fprintf(f, "</div>\n");
}

static const char *STYLE =
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}table{border-collapse:collapse}"
    "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}th{background:#f4f4f4}"
    "tr.best{background:#e8f6ea;font-weight:bold}code{word-break:break-all}"
    ".grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;width:260px}"
    "figure img{width:260px;height:260px;object-fit:contain;background:#000}"
    "figcaption{font-size:12px;overflow:hidden;text-overflow:ellipsis}"
    ".legend span{display:inline-block;margin-right:1.5em}"
    ".sw{display:inline-block;width:14px;height:14px;vertical-align:middle;margin-right:4px;border:1px solid #555}"
    "</style>\n";

struct page_ctx {
    const struct cu_trainer *tr;
};

static int fill_page(FILE *f, void *ctx)
{
    const struct cu_trainer *tr = ((struct page_ctx *)ctx)->tr;
    const struct cu_train_state *s = &tr->st;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<title>clunet train: ");
    cu_html_puts(f, tr->dir);
    fprintf(f, "</title>\n%s</head><body>\n<h1>clunet train: <code>", STYLE);
    cu_html_puts(f, tr->dir);
    fprintf(f, "</code></h1>\n<p>Epoch %d of %d on ", s->epoch, tr->cfg.epochs);
    cu_html_puts(f, tr->caps.name);
    fprintf(f, ". This page is rewritten at the end of every epoch.</p>\n");
    config_line(f, tr);
    const struct cu_history *hist = &s->history;
    for (int i = 0; i < hist->n; i++)
        if (hist->rows[i].epoch == s->best_epoch)
            fprintf(f, "<p><b>Best epoch %d</b>: validation loss %.4f, Dice %.4f (best.safetensors).</p>\n",
                    s->best_epoch, hist->rows[i].val_loss, hist->rows[i].val_dice);
    fprintf(f, "<h2>Curves</h2>\n<img id=\"curves\" src=\"history.svg\" alt=\"loss and Dice curves\" "
               "style=\"max-width:100%%\">\n");
    overlays(f, &tr->html);
    epochs_table(f, hist, s->best_epoch);
    fprintf(f, "</body></html>\n");
    return ferror(f);
}

enum cu_status cu_train_html_update(struct cu_trainer *tr, struct cu_err *err)
{
    if (tr->rank)
        return CU_OK;
    if (tr->data.n_val > 0 && tr->st.best_epoch > 0 && tr->html.epoch != tr->st.best_epoch)
        CU_TRY(draw_overlays(tr, err));
    struct page_ctx ctx = {tr};
    return cu_run_dir_write(tr->dir, CU_RUN_REPORT, fill_page, &ctx, err);
}
