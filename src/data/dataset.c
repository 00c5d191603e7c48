/* dataset.c: loading a scanned dataset into memory (dataset.h): every
 * image and union mask read once, resized to S x S as the original
 * pipeline does, by a few threads, with a progress bar.
 *
 * Threads take the next sample index from a shared counter and write only
 * their own slot of the arrays, so the result does not depend on timing.
 * On failure the reported sample is the first bad one in sorted order
 * (every lower index has been taken and finishes), also a timing-free fact.
 *
 * Not here: finding the samples (dataset_scan.c), instance labels
 * (dataset_labels.c), splitting and augmentation (augment.c). */
#include "data/dataset_impl.h"
#include "data/mask_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/progress.h"

void cu_dataset_free(struct cu_dataset *ds)
{
    if (!ds)
        return;
    for (int i = 0; i < ds->n; i++) {
        free(ds->samples[i].id);
        free(ds->samples[i].image);
        free(ds->samples[i].masks);
    }
    free(ds->samples);
    cu_names_free(ds->bad, ds->n_bad);
    cu_names_free(ds->skipped, ds->n_skipped);
    free(ds->images);
    free(ds->masks);
    free(ds->height);
    free(ds->width);
    free(ds->dir);
    free(ds);
}

enum cu_status cu_sample_union(const struct cu_sample *s, enum cu_layout l, int h, int w, float *u,
                               struct cu_err *err)
{
    if (l == CU_LAYOUT_PAIRS) {
        memset(u, 0, sizeof *u * (size_t)h * (size_t)w);
        return cu_image_or_mask(s->masks, h, w, u, err);
    }
    char **names = NULL;
    int n = 0;
    enum cu_status st = cu_dir_list(s->masks, CU_DIR_IMAGES, &names, &n, err);
    if (!st && n == 0)
        st = cu_fail(err, CU_EINPUT, "%s: no mask files (PNG, TIFF or JPEG)", s->masks);
    if (!st)
        st = cu_mask_cache_union(s->masks, names, n, h, w, u, err);
    cu_names_free(names, n);
    return st;
}

enum cu_status cu_dataset_union(const struct cu_dataset *ds, int i, struct cu_image *out, struct cu_err *err)
{
    int h, w;
    enum cu_status st = cu_image_read_size(ds->samples[i].image, &h, &w, err);
    struct cu_image u = {0};
    if (!st && !ds->has_masks)
        st = cu_fail(err, CU_EUSAGE, "%s: %s has no masks", ds->samples[i].image, cu_layout_name(ds->layout));
    if (!st)
        st = cu_image_new(&u, 1, h, w, err);
    if (!st)
        st = cu_sample_union(&ds->samples[i], ds->layout, h, w, u.px, err);
    if (st)
        cu_image_free(&u);
    else
        *out = u;
    return st;
}

/* Reads sample i into its slots: image (3,S,S), mask (1,S,S) = union
 * resized then > 0.5 (the peer's `resize(union) > 0.5`). */
static enum cu_status load_one(struct cu_dataset *ds, int i, struct cu_err *err)
{
    const struct cu_sample *s = &ds->samples[i];
    size_t ss = (size_t)ds->size * (size_t)ds->size;
    struct cu_image im = {0}, u = {0};
    enum cu_status st = cu_image_read_rgb(s->image, &ds->input, &im, err);
    if (!st)
        st = cu_resize(im.px, 3, im.h, im.w, ds->images + 3 * ss * (size_t)i, ds->size, ds->size, err);
    if (!st) {
        ds->height[i] = im.h, ds->width[i] = im.w;
    }
    if (!st && ds->has_masks) {
        st = cu_image_new(&u, 1, im.h, im.w, err);
        if (!st)
            st = cu_sample_union(s, ds->layout, im.h, im.w, u.px, err);
        if (!st)
            st = cu_resize_mask(u.px, im.h, im.w, ds->masks + ss * (size_t)i, ds->size, ds->size, err);
    }
    cu_image_free(&u);
    cu_image_free(&im);
    return st;
}

struct job {
    struct cu_dataset *ds;
    int skip_bad;
    pthread_mutex_t lock;
    int next, done, stop;
    struct cu_progress bar;
    char **msg; /* n: failure line per sample, NULL if fine */
    int oom;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int i = j->stop ? j->ds->n : j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->ds->n)
            break;
        struct cu_err e = {0};
        enum cu_status st = load_one(j->ds, i, &e);
        char *m = st ? strdup(e.msg) : NULL;
        pthread_mutex_lock(&j->lock);
        if (st) {
            j->msg[i] = m;
            j->oom |= !m;
            j->stop |= !j->skip_bad;
        }
        cu_progress_update(&j->bar, ++j->done, NULL);
        pthread_mutex_unlock(&j->lock);
    }
    return NULL;
}

/* Drops the failed samples (skip_bad), moving their lines to ds->bad. */
static enum cu_status compact(struct cu_dataset *ds, char **msg, struct cu_err *err)
{
    size_t ss = (size_t)ds->size * (size_t)ds->size;
    int nbad = 0, k = 0;
    for (int i = 0; i < ds->n; i++)
        nbad += msg[i] != NULL;
    if (!nbad)
        return CU_OK;
    char **bad = realloc(ds->bad, sizeof *bad * (size_t)(ds->n_bad + nbad));
    if (!bad)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    ds->bad = bad;
    for (int i = 0; i < ds->n; i++) {
        if (msg[i]) {
            ds->bad[ds->n_bad++] = msg[i];
            msg[i] = NULL;
            free(ds->samples[i].id), free(ds->samples[i].image), free(ds->samples[i].masks);
            continue;
        }
        if (k != i) {
            ds->samples[k] = ds->samples[i];
            ds->height[k] = ds->height[i], ds->width[k] = ds->width[i];
            memmove(ds->images + 3 * ss * (size_t)k, ds->images + 3 * ss * (size_t)i, 3 * ss * sizeof(float));
            if (ds->masks)
                memmove(ds->masks + ss * (size_t)k, ds->masks + ss * (size_t)i, ss * sizeof(float));
        }
        k++;
    }
    ds->n = k;
    if (k == 0)
        return cu_fail(err, CU_EINPUT, "%s: no usable images (%d bad)", ds->dir, ds->n_bad);
    return CU_OK;
}

enum cu_status cu_dataset_load(struct cu_dataset *ds, const struct cu_dataset_opts *o, struct cu_err *err)
{
    if (o->size < 1 || o->size > 8192)
        return cu_fail(err, CU_EUSAGE, "image size %d: must be 1..8192", o->size);
    size_t ss = (size_t)o->size * (size_t)o->size, n = (size_t)ds->n;
    free(ds->images), free(ds->masks), free(ds->height), free(ds->width);
    ds->size = o->size;
    ds->input = o->input;
    ds->images = malloc(sizeof(float) * 3 * ss * n);
    ds->masks = ds->has_masks ? malloc(sizeof(float) * ss * n) : NULL;
    ds->height = calloc(n, sizeof(int));
    ds->width = calloc(n, sizeof(int));
    struct job j = {.ds = ds, .skip_bad = o->skip_bad};
    j.msg = calloc(n, sizeof *j.msg);
    if (!ds->images || (ds->has_masks && !ds->masks) || !ds->height || !ds->width || !j.msg) {
        free(j.msg);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory for %zu images at %dx%d", ds->dir, n, o->size, o->size);
    }
    pthread_mutex_init(&j.lock, NULL);
    char label[64];
    snprintf(label, sizeof label, "loading %d images at %dx%d", ds->n, o->size, o->size);
    cu_progress_start(&j.bar, o->progress, label, ds->n);
    int nt = o->threads > 0 ? o->threads : 2;
    pthread_t th[16];
    int started = 0;
    for (int t = 0; t < nt && t < 16; t++)
        started += pthread_create(&th[started], NULL, worker, &j) == 0;
    if (started == 0)
        worker(&j); /* no threads available: load here */
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&j.lock);
    enum cu_status st = CU_OK;
    if (j.oom)
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory", ds->dir);
    for (int i = 0; i < ds->n && !st && !o->skip_bad; i++)
        if (j.msg[i])
            st = cu_fail(err, CU_EINPUT, "%s", j.msg[i]);
    if (!st && o->skip_bad)
        st = compact(ds, j.msg, err);
    if (!st)
        cu_progress_done(&j.bar);
    else if (j.bar.tty)
        fputc('\n', o->progress); /* end the bar's line before the error */
    for (size_t i = 0; i < n; i++)
        free(j.msg[i]);
    free(j.msg);
    return st;
}

enum cu_status cu_dataset_open(const char *dir, const struct cu_dataset_opts *o, struct cu_dataset **out,
                               struct cu_err *err)
{
    struct cu_dataset *ds = NULL;
    enum cu_status st = cu_dataset_scan(dir, o, &ds, err);
    if (st)
        return st;
    if (o->progress)
        fprintf(o->progress, "data: %s: %s, %d images%s\n", ds->dir, cu_layout_name(ds->layout), ds->n,
                ds->n_bad ? " (some bad ones skipped, listed below)" : "");
    cu_dataset_print_skipped(ds, o->progress);
    st = cu_dataset_load(ds, o, err);
    if (!st && o->progress && ds->n_bad) {
        fprintf(o->progress, "data: skipped %d bad image%s (--skip-bad):\n", ds->n_bad, ds->n_bad > 1 ? "s" : "");
        for (int i = 0; i < ds->n_bad; i++)
            fprintf(o->progress, "  %s\n", ds->bad[i]);
    }
    if (st) {
        cu_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CU_OK;
}
