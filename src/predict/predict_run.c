/* predict_run.c: `clunet predict` as a library call (clunet_predict):
 * gathering the images of every input, checking the output folder before
 * any work, predicting each image, and writing its files (mask,
 * probabilities, labels, overlay), the exports of exports.c, the
 * submission CSV and nuclei_summary.csv. The predictor itself is
 * predict.c; flags are cmd_predict.c's.
 *
 * Inputs: an image file (id = its name without its extension), or a folder
 * read by cu_dataset_scan (DSB2018 train/test <id>/images/<id>.png, images/
 * + masks/, or a flat folder of images). Two inputs with the same id would
 * write the same files, so that is refused before anything runs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset_impl.h"
#include "io/atomic_file.h"
#include "io/dir_lock.h"
#include "io/tmp_files.h"
#include "clunet/dataset.h"
#include "clunet/export.h"
#include "clunet/overlay.h"
#include "clunet/predict.h"
#include "clunet/progress.h"
#include "clunet/rle.h"
#include "predict/predict_impl.h"

enum cu_status cu_skipped_add(struct cu_skipped *s, struct cu_err *err)
{
    char **v = realloc(s->lines, sizeof *v * (size_t)(s->n + 1));
    char *line = v ? strdup(err->msg) : NULL;
    if (v)
        s->lines = v;
    if (!line)
        return CU_EDEVICE; /* out of memory; err keeps the image's own message */
    s->lines[s->n++] = line;
    cu_err_clear(err);
    return CU_OK;
}

void cu_skipped_print(const struct cu_skipped *s, FILE *f)
{
    if (!f || !s->n)
        return;
    fprintf(f, "skipped %d bad image%s (--skip-bad):\n", s->n, s->n > 1 ? "s" : "");
    for (int i = 0; i < s->n; i++)
        fprintf(f, "  %s\n", s->lines[i]);
}

void cu_skipped_free(struct cu_skipped *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->lines[i]);
    free(s->lines);
    memset(s, 0, sizeof *s);
}

void cu_item_list_free(struct cu_item *items, int n)
{
    for (int i = 0; items && i < n; i++)
        free(items[i].id), free(items[i].path);
    free(items);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct cu_item *)a)->id, ((const struct cu_item *)b)->id);
}

/* File name without folder and without its image extension (.png, .tif,
 * .tiff, .jpg, .jpeg). */
static char *id_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (cu_is_image_name(base))
        len = (size_t)(strrchr(base, '.') - base);
    char *id = malloc(len + 1);
    if (id)
        memcpy(id, base, len), id[len] = '\0';
    return id;
}

static enum cu_status push1(struct cu_item **items, int *n, int *cap, char *id, const char *path, int page,
                            struct cu_err *err)
{
    char *p = strdup(path);
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        struct cu_item *t = realloc(*items, sizeof *t * (size_t)nc);
        if (t)
            *items = t, *cap = nc;
    }
    if (!id || !p || *n == *cap) {
        free(id), free(p);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    }
    (*items)[(*n)++] = (struct cu_item){id, p, page};
    return CU_OK;
}

/* One item per page to predict (see cu_item_list). A file whose header
 * cannot be read is one item: reading it reports what is wrong. */
static enum cu_status push(struct cu_item **items, int *n, int *cap, char *id, const char *path, int page,
                           struct cu_err *err)
{
    struct cu_raw_image r;
    struct cu_err ignore = {0};
    int pages = page < 0 && id && !cu_image_probe(path, &r, &ignore) ? r.pages : 1;
    if (pages <= 1)
        return push1(items, n, cap, id, path, page < 0 ? 0 : page, err);
    enum cu_status st = CU_OK;
    for (int k = 0; k < pages && !st; k++) {
        size_t len = strlen(id) + 16;
        char *pid = malloc(len);
        if (pid)
            snprintf(pid, len, "%s_p%d", id, k + 1);
        st = push1(items, n, cap, pid, path, k, err);
    }
    free(id);
    return st;
}

enum cu_status cu_item_list(const char *const *inputs, int n_inputs, int page, FILE *note, FILE *say,
                            struct cu_item **out, int *n_out, struct cu_err *err)
{
    struct cu_item *items = NULL;
    int n = 0, cap = 0;
    enum cu_status st = CU_OK;
    for (int k = 0; k < n_inputs && !st; k++) {
        struct stat sb;
        if (stat(inputs[k], &sb) != 0) {
            st = cu_fail(err, CU_EINPUT, "%s: %s", inputs[k], strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            struct cu_dataset *ds = NULL;
            struct cu_dataset_opts o = {0};
            st = cu_dataset_scan(inputs[k], &o, &ds, err);
            if (!st && say)
                fprintf(say, "data: %s (%s): %d image%s\n", ds->dir, cu_layout_name(ds->layout), ds->n,
                        ds->n == 1 ? "" : "s");
            if (!st)
                cu_dataset_print_skipped(ds, note);
            for (int i = 0; !st && i < ds->n; i++)
                st = push(&items, &n, &cap, strdup(ds->samples[i].id), ds->samples[i].image, page, err);
            cu_dataset_free(ds);
        } else {
            st = push(&items, &n, &cap, id_of(inputs[k]), inputs[k], page, err);
        }
    }
    if (!st && n == 0)
        st = cu_fail(err, CU_EUSAGE, "no input images");
    if (!st) {
        qsort(items, (size_t)n, sizeof *items, cmp_item);
        for (int i = 1; i < n && !st; i++)
            if (!strcmp(items[i].id, items[i - 1].id))
                st = cu_fail(err, CU_EUSAGE, "%s and %s have the same id %s (their outputs would collide)",
                             items[i - 1].path, items[i].path, items[i].id);
    }
    if (st) {
        cu_item_list_free(items, n);
        return st;
    }
    *out = items;
    *n_out = n;
    return CU_OK;
}

enum cu_status cu_out_dir_prepare(const char *dir, int lock, int *created, int *lock_fd, struct cu_err *err)
{
    *lock_fd = -1;
    *created = mkdir(dir, 0777) == 0;
    if (!*created && errno != EEXIST)
        return cu_fail(err, CU_EIO, "%s: cannot create the output folder: %s", dir, strerror(errno));
    if (lock)
        CU_TRY(cu_dir_lock(dir, lock_fd, err)); /* one writer at a time */
    if (*lock_fd >= 0) { /* a signal that stops the run removes it too */
        char path[4096];
        snprintf(path, sizeof path, "%s/.lock", dir);
        cu_tmp_files_add(path);
    }
    /* A probe file now, so that an unwritable folder fails before the work. */
    size_t len = strlen(dir) + 32;
    char *probe = malloc(len);
    if (!probe)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", dir);
    snprintf(probe, len, "%s/.clunet-probe-XXXXXX", dir);
    int fd = mkstemp(probe);
    enum cu_status st = CU_OK;
    if (fd < 0)
        st = cu_fail(err, CU_EIO, "%s: cannot write to the output folder: %s", dir, strerror(errno));
    else
        close(fd), unlink(probe);
    free(probe);
    return st;
}

void cu_out_dir_finish(const char *dir, int created, int lock_fd, int failed)
{
    if (lock_fd >= 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/.lock", dir);
        cu_tmp_files_drop(path);
    }
    cu_dir_unlock(dir, lock_fd);
    if (failed && created) /* a failure before the first output leaves no folder behind */
        rmdir(dir);        /* (only when empty) */
}

/* "<dir>/<id><suffix>" into buf. */
static const char *out_path(char *buf, size_t size, const char *dir, const char *id, const char *suffix)
{
    snprintf(buf, size, "%s/%s%s", dir, id, suffix);
    return buf;
}

/* <id>_labels.png (16-bit), or <id>_labels.tif (32-bit) when asked or when
 * the nuclei do not fit 16 bits (with a note). */
static enum cu_status write_labels(const struct cu_predict_run *r, const char *id, const struct cu_pred_image *pi,
                                   int h, int w, struct cu_err *err)
{
    char path[4096];
    size_t n = (size_t)h * (size_t)w;
    if (r->labels_tif || pi->n > 65535) {
        if (!r->labels_tif && r->notes)
            fprintf(r->notes, "clunet: %s: %d nuclei do not fit a 16-bit PNG; wrote %s_labels.tif (32-bit) instead\n",
                    id, pi->n, id);
        /* labels are 0..n, never negative: the same bits as uint32 */
        return cu_tiff_write_u32(out_path(path, sizeof path, r->out_dir, id, "_labels.tif"),
                                 (const uint32_t *)pi->labels, h, w, err);
    }
    uint16_t *lab = malloc(sizeof *lab * n);
    if (!lab)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", id);
    for (size_t q = 0; q < n; q++)
        lab[q] = (uint16_t)pi->labels[q];
    enum cu_status st = cu_png_write_gray16(out_path(path, sizeof path, r->out_dir, id, "_labels.png"), lab, h, w, err);
    free(lab);
    return st;
}

/* Every output of one predicted image. */
static enum cu_status write_outputs(const struct cu_predict_run *r, const char *id, const struct cu_image *img,
                                    const struct cu_pred_image *pi, struct cu_err *err)
{
    int h = img->h, w = img->w;
    size_t n = (size_t)h * (size_t)w;
    char path[4096];
    uint8_t *buf = malloc(n * 3);
    if (!buf)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", id);
    for (size_t q = 0; q < n; q++)
        buf[q] = pi->labels[q] > 0 ? 255 : 0;
    enum cu_status st = cu_png_write_gray8(out_path(path, sizeof path, r->out_dir, id, ".png"), buf, h, w, err);
    if (!st && r->probabilities && (r->prob_png || !r->prob_tif)) {
        for (size_t q = 0; q < n; q++) {
            float v = pi->prob[q];
            buf[q] = (uint8_t)((v > 0 ? v < 1 ? v : 1 : 0) * 255.0f + 0.5f);
        }
        st = cu_png_write_gray8(out_path(path, sizeof path, r->out_dir, id, "_prob.png"), buf, h, w, err);
    }
    if (!st && r->probabilities && r->prob_tif)
        st = cu_tiff_write_f32(out_path(path, sizeof path, r->out_dir, id, "_prob.tif"), pi->prob, h, w, err);
    if (!st && r->maps)
        st = cu_tiff_write_f32_pages(out_path(path, sizeof path, r->out_dir, id, "_maps.tif"), pi->prob, pi->K, h, w,
                                     err);
    if (!st && r->instances)
        st = write_labels(r, id, pi, h, w, err);
    if (!st && r->overlay) {
        cu_overlay_base(img->px, img->c, h, w, buf);
        st = cu_overlay_draw(buf, buf, pi->labels, h, w, h > 1024 || w > 1024 ? 2 : 1, err);
        if (!st)
            st = cu_png_write_rgb8(out_path(path, sizeof path, r->out_dir, id, "_overlay.png"), buf, h, w, err);
    }
    free(buf);
    return st;
}

/* The outputs of every image, checked before anything is written. */
static enum cu_status check_names(const struct cu_predict_run *r, const struct cu_item *items, int n,
                                  struct cu_err *err)
{
    struct cu_out_kind kinds[12];
    int nk = 0;
    kinds[nk++] = (struct cu_out_kind){".png", "mask"};
    if (r->probabilities && (r->prob_png || !r->prob_tif))
        kinds[nk++] = (struct cu_out_kind){"_prob.png", "probabilities"};
    if (r->probabilities && r->prob_tif)
        kinds[nk++] = (struct cu_out_kind){"_prob.tif", "probabilities"};
    if (r->maps)
        kinds[nk++] = (struct cu_out_kind){"_maps.tif", "maps"};
    if (r->instances) /* the TIFF also when the nuclei do not fit 16 bits */
        kinds[nk++] = (struct cu_out_kind){"_labels.png", "labels"},
        kinds[nk++] = (struct cu_out_kind){"_labels.tif", "labels"};
    if (r->overlay)
        kinds[nk++] = (struct cu_out_kind){"_overlay.png", "overlay"};
    if (r->measure)
        kinds[nk++] = (struct cu_out_kind){"_nuclei.csv", "nuclei table"};
    if (r->rois)
        kinds[nk++] = (struct cu_out_kind){"_rois.zip", "ROI set"};
    if (r->geojson)
        kinds[nk++] = (struct cu_out_kind){".geojson", "GeoJSON"};
    return cu_out_names_check(items, n, r->out_dir, kinds, nk, r->submission, err);
}

/* A temporary file beside the submission now, so that an unwritable place
 * fails before the work. */
static enum cu_status probe_submission(const char *path, struct cu_err *err)
{
    struct cu_atomic a;
    enum cu_status st = cu_atomic_begin(&a, path, err);
    if (!st)
        cu_atomic_abort(&a);
    return st;
}

enum cu_status clunet_predict(const struct cu_predict_run *r, struct cu_err *err)
{
    struct cu_item *items = NULL;
    int n = 0;
    struct cu_backend *be = NULL;
    struct cu_predictor *p = NULL;
    struct cu_sub *sub = NULL;
    struct cu_pred_image pi = {0};
    struct cu_summary *summary = NULL;
    long nuclei = 0;
    enum cu_status st = r->out_dir ? CU_OK : cu_fail(err, CU_EUSAGE, "--out DIR is required");
    if (!st)
        st = cu_item_list(r->inputs, r->n_inputs, r->opts.page_set ? r->opts.input.page : -1, r->progress, r->report,
                          &items, &n, err);
    int created = 0, lock_fd = -1;
    if (!st) /* before anything is made, and again once the folder exists to compare files in it */
        st = check_names(r, items, n, err);
    if (!st)
        st = cu_out_dir_prepare(r->out_dir, 1, &created, &lock_fd, err);
    if (!st && created)
        st = check_names(r, items, n, err);
    if (!st && r->submission)
        st = probe_submission(r->submission, err);
    if (!st && r->submission)
        st = cu_sub_new(&sub, err);
    if (!st && r->measure)
        st = cu_summary_new(&summary, err);
    if (!st)
        st = cu_backend_open(r->device, &be, err);
    if (!st)
        st = cu_predictor_new(be, r->model, &r->opts, &p, err);
    struct cu_input_opts in = {0};
    if (!st)
        cu_predictor_input(p, &in);
    struct cu_skipped skipped = {0};
    struct cu_progress bar;
    cu_progress_start(&bar, st ? NULL : r->progress, "predict", n);
    int done = 0;
    for (int i = 0; i < n && !st; i++) {
        struct cu_image img = {0};
        struct cu_raw_image raw = {0};
        in.page = items[i].page;
        st = cu_image_read_rgb(items[i].path, &in, &img, err);
        if (st == CU_EINPUT && r->opts.skip_bad) { /* listed at the end, the rest goes on */
            st = cu_skipped_add(&skipped, err);
            cu_progress_update(&bar, i + 1, NULL);
            continue;
        }
        /* the file's own samples (every channel) and pixel size, for the measurements */
        if (!st && (r->measure || r->geojson))
            st = cu_image_read(items[i].path, items[i].page, &raw, err);
        if (!st)
            st = cu_pred_image_run(p, &img, &pi, err);
        done += !st;
        if (!st)
            st = write_outputs(r, items[i].id, &img, &pi, err);
        if (!st)
            st = cu_predict_exports(r, items[i].id, &img, raw.data ? &raw : NULL, &pi, summary, err);
        if (!st && sub)
            st = cu_sub_add(sub, items[i].id, pi.labels, img.h, img.w, err);
        nuclei += pi.n;
        cu_image_free(&img);
        cu_raw_free(&raw);
        cu_progress_update(&bar, i + 1, NULL);
    }
    double secs = cu_progress_elapsed(&bar);
    if (!st)
        cu_progress_done(&bar);
    if (!st)
        cu_skipped_print(&skipped, r->progress);
    if (!st && done == 0 && skipped.n)
        st = cu_fail(err, CU_EINPUT, "no readable images (%d bad)", skipped.n);
    cu_skipped_free(&skipped);
    if (!st && sub)
        st = cu_sub_write(sub, r->submission, err);
    if (!st && summary) {
        char path[4096];
        st = cu_summary_write(summary, out_path(path, sizeof path, r->out_dir, "nuclei_summary", ".csv"), err);
    }
    if (!st && r->report) {
        const struct cu_unet_config *c = cu_predictor_config(p);
        char how[256];
        cu_predictor_describe(p, how, sizeof how);
        fprintf(r->report,
                "predicted %d image%s (%ld nuclei) with S=%d c=%g %s (%s) on %s in %.1f s: %.2f images/s; outputs in "
                "%s%s%s\n",
                done, done == 1 ? "" : "s", nuclei, c->image_size, c->channel_rate, cu_upsample_name(c->upsample), how,
                cu_backend_name(be), secs, secs > 0 ? done / secs : 0.0, r->out_dir, sub ? ", submission " : "",
                sub ? r->submission : "");
    }
    cu_out_dir_finish(r->out_dir, created, lock_fd, st != CU_OK);
    cu_pred_image_free(&pi);
    cu_summary_free(summary);
    cu_sub_free(sub);
    cu_predictor_free(p);
    cu_backend_free(be);
    cu_item_list_free(items, n);
    return st;
}
