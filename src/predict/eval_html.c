/* eval_html.c: the pictures and the page of `clunet eval --report` (see
 * eval_html.h). Pictures are named by the image's position in the dataset
 * (img/<k>.png, img/<k>_fates.png), so no id ever needs escaping in a file
 * name. */
#include "predict/eval_html.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/fate_overlay.h"
#include "clunet/fates.h"

static enum cu_status make_dir(const char *dir, struct cu_err *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cu_fail(err, CU_EIO, "%s: cannot create the report folder: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cu_fail(err, CU_EIO, "%s: exists and is not a folder", dir);
    return CU_OK;
}

enum cu_status cu_eval_html_begin(struct cu_eval_html *h, const char *dir, struct cu_err *err)
{
    memset(h, 0, sizeof *h);
    h->dir = dir;
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/img", dir);
    CU_TRY(make_dir(dir, err));
    return make_dir(sub, err);
}

static enum cu_status grow(struct cu_eval_html *h, struct cu_err *err)
{
    if (h->n < h->cap)
        return CU_OK;
    int cap = h->cap ? 2 * h->cap : 64;
    struct cu_html_image *im = realloc(h->im, sizeof *im * (size_t)cap);
    if (!im)
        return cu_fail(err, CU_EDEVICE, "eval report: out of memory");
    h->im = im, h->cap = cap;
    return CU_OK;
}

enum cu_status cu_eval_html_add(struct cu_eval_html *h, const struct cu_eval_row *row, const struct cu_image *rgb,
                                const int32_t *pred, const int32_t *truth, struct cu_err *err)
{
    CU_TRY(grow(h, err));
    struct cu_html_image *e = &h->im[h->n];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", row->image);
    snprintf(e->group, sizeof e->group, "%s", row->group);
    e->w = row->width, e->h = row->height;
    e->n_true = row->dsb.n_true, e->n_pred = row->dsb.n_pred;
    e->dice = row->fg.dice, e->iou = row->fg.iou, e->dsb = row->dsb.score;
    snprintf(e->image_file, sizeof e->image_file, "img/%d.png", h->n);
    snprintf(e->overlay_file, sizeof e->overlay_file, "img/%d_fates.png", h->n);
    struct cu_fates f;
    CU_TRY(cu_fates_compute(&f, pred, truth, row->height, row->width, err));
    e->fates = f.counts;
    uint8_t *px = cu_image_rgb8(rgb), *ov = malloc(3 * (size_t)rgb->h * (size_t)rgb->w);
    enum cu_status st = px && ov ? CU_OK : cu_fail(err, CU_EDEVICE, "eval report: out of memory");
    char path[4096];
    if (!st) {
        snprintf(path, sizeof path, "%s/%s", h->dir, e->image_file);
        st = cu_png_write_rgb8(path, px, rgb->h, rgb->w, err);
    }
    if (!st) {
        cu_fate_overlay_draw(ov, px, pred, truth, &f, rgb->h, rgb->w);
        snprintf(path, sizeof path, "%s/%s", h->dir, e->overlay_file);
        st = cu_png_write_rgb8(path, ov, rgb->h, rgb->w, err);
    }
    free(px);
    free(ov);
    cu_fates_free(&f);
    if (!st)
        h->n++;
    return st;
}

enum cu_status cu_eval_html_finish(struct cu_eval_html *h, const char *model, const char *pred_dir,
                                   const char *data, const struct cu_eval_summary *s, struct cu_err *err)
{
    struct cu_html_eval e = {.model = model, .pred_dir = pred_dir, .data = data, .n = h->n, .im = h->im,
                             .dice = s->dice, .iou = s->iou, .dsb = s->dsb_score};
    memcpy(e.precision, s->precision, sizeof e.precision);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", h->dir);
    return cu_html_eval_write(path, &e, err);
}

void cu_eval_html_free(struct cu_eval_html *h)
{
    free(h->im);
    memset(h, 0, sizeof *h);
}
