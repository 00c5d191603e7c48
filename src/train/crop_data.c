/* crop_data.c: crop-mode training data (train_data.h): every image held at
 * native size (times --scale) after preprocessing, with its target bits;
 * an epoch's items repeat each training image by its area; a batch sample
 * is a random S x S crop of its item's image (window scale jitter,
 * reflected padding where the window leaves the image), flipped/rotated
 * and intensity-jittered; validation cuts each validation image into
 * S x S tiles.
 *
 * Items per epoch: an image of A pixels appears round(A / S^2) times,
 * clamped to 1..4, so a 1024 x 1024 image is seen four times as often as a
 * 256 x 256 one at S = 256 (large images hold many nuclei, but the DSB set
 * has few of them: full area weighting would let 16 images dominate).
 * Tiles: ceil(L / S) per axis, origins spread evenly from 0 to L - S; an
 * axis shorter than S is one centred tile, padded by reflection. */
#include "train/train_data.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/nuclei.h"
#include "clunet/progress.h"

struct loader {
    const struct cu_train_config *cfg;
    struct cu_train_data *d;
    pthread_mutex_t lock;
    int next, done, stop;
    struct cu_progress bar;
    char **msg;
    int oom;
};

/* Nearest-neighbour resize of labels (pixel centres). */
static uint32_t *resize_labels(const uint32_t *src, int sh, int sw, int dh, int dw)
{
    uint32_t *dst = malloc(sizeof *dst * (size_t)dh * (size_t)dw);
    if (!dst)
        return NULL;
    for (int y = 0; y < dh; y++) {
        int sy = (int)((y + 0.5) * sh / dh);
        sy = sy < sh ? sy : sh - 1;
        for (int x = 0; x < dw; x++) {
            int sx = (int)((x + 0.5) * sw / dw);
            sx = sx < sw ? sx : sw - 1;
            dst[(size_t)y * (size_t)dw + (size_t)x] = src[(size_t)sy * (size_t)sw + (size_t)sx];
        }
    }
    return dst;
}

static enum cu_status load_one(const struct cu_train_config *cfg, struct cu_train_data *d, int i, struct cu_err *err)
{
    struct cu_image im = {0}, sc = {0};
    struct cu_labels lb = {0};
    int count = 0;
    uint32_t *lab = NULL;
    struct cu_input_opts in;
    cu_train_input(cfg, &in); /* --channel, --normalize: as every training image is read */
    enum cu_status st = cu_image_read_rgb(d->ds->samples[i].image, &in, &im, err);
    st = st ? st : cu_dataset_labels(d->ds, i, &lb, &count, err);
    if (st)
        goto out;
    int h = im.h, w = im.w;
    lab = lb.v;
    if (cfg->scale != 1.0) {
        h = (int)lround(im.h * cfg->scale), w = (int)lround(im.w * cfg->scale);
        h = h < 1 ? 1 : h, w = w < 1 ? 1 : w;
        st = cu_image_resize(&im, h, w, &sc, err);
        if (st)
            goto out;
        cu_image_free(&im);
        im = sc;
        lab = resize_labels(lb.v, lb.h, lb.w, h, w);
        if (!lab) {
            st = cu_fail(err, CU_EIO, "%s: out of host memory", d->ds->samples[i].image);
            goto out;
        }
    }
    cu_prep_image(im.px, h, w, cu_train_prep(cfg));
    struct cu_crop_image *ci = &d->img[i];
    size_t n = (size_t)h * (size_t)w;
    ci->planes = cfg->grey ? 1 : 3;
    ci->px = malloc(sizeof *ci->px * n * (size_t)ci->planes);
    ci->bits = malloc(n);
    if (!ci->px || !ci->bits) {
        st = cu_fail(err, CU_EIO, "%s: out of host memory", d->ds->samples[i].image);
        goto out;
    }
    memcpy(ci->px, im.px, sizeof *ci->px * n * (size_t)ci->planes);
    cu_targets_from_labels(lab, h, w, ci->bits);
    ci->h = h, ci->w = w;
out:
    if (lab != lb.v)
        free(lab);
    cu_labels_free(&lb);
    cu_image_free(&im);
    return st;
}

static void *worker(void *arg)
{
    struct loader *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        int i = j->stop ? j->d->ds->n : j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->d->ds->n)
            break;
        struct cu_err e = {0};
        enum cu_status st = load_one(j->cfg, j->d, i, &e);
        char *m = st ? strdup(e.msg) : NULL;
        pthread_mutex_lock(&j->lock);
        if (st) {
            j->msg[i] = m;
            j->oom |= !m;
            j->stop |= !j->cfg->skip_bad;
        }
        cu_progress_update(&j->bar, ++j->done, NULL);
        pthread_mutex_unlock(&j->lock);
    }
    return NULL;
}

enum cu_status cu_crop_data_load(const struct cu_train_config *cfg, FILE *progress, struct cu_train_data *d,
                                 struct cu_err *err)
{
    int n = d->ds->n;
    d->img = calloc((size_t)(n > 0 ? n : 1), sizeof *d->img);
    struct loader j = {.cfg = cfg, .d = d};
    j.msg = calloc((size_t)(n > 0 ? n : 1), sizeof *j.msg);
    if (!d->img || !j.msg) {
        free(j.msg);
        return cu_fail(err, CU_EIO, "%s: out of host memory", cfg->data_dir);
    }
    pthread_mutex_init(&j.lock, NULL);
    char label[96];
    snprintf(label, sizeof label, "loading %d images at native size x %g", n, cfg->scale);
    cu_progress_start(&j.bar, progress, label, n);
    pthread_t th[2];
    int started = 0;
    for (int t = 0; t < 2; t++)
        started += pthread_create(&th[started], NULL, worker, &j) == 0;
    if (started == 0)
        worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&j.lock);
    enum cu_status st = j.oom ? cu_fail(err, CU_EIO, "%s: out of host memory", cfg->data_dir) : CU_OK;
    for (int i = 0; i < n && !st; i++) {
        if (!j.msg[i])
            continue;
        if (!cfg->skip_bad) {
            st = cu_fail(err, CU_EINPUT, "%s", j.msg[i]);
            break;
        }
        char **bad = realloc(d->ds->bad, sizeof *bad * (size_t)(d->ds->n_bad + 1));
        if (!bad) {
            st = cu_fail(err, CU_EIO, "%s: out of host memory", cfg->data_dir);
            break;
        }
        d->ds->bad = bad;
        bad[d->ds->n_bad++] = j.msg[i];
        j.msg[i] = NULL;
        d->img[i].h = 0; /* left out of items and tiles */
    }
    for (int i = 0; i < n; i++)
        free(j.msg[i]);
    free(j.msg);
    if (!st)
        cu_progress_done(&j.bar);
    return st;
}

static int tiles_along(int L, int S) { return L <= S ? 1 : (L + S - 1) / S; }

static int tile_at(int L, int S, int i)
{
    int n = tiles_along(L, S);
    if (n == 1)
        return L <= S ? -((S - L) / 2) : 0;
    return (int)(((long long)i * (L - S) + (n - 1) / 2) / (n - 1));
}

enum cu_status cu_crop_data_items(struct cu_train_data *d, struct cu_err *err)
{
    const int S = d->S;
    long ni = 0, nv = 0;
    for (int k = 0; k < d->n_train; k++) {
        const struct cu_crop_image *ci = &d->img[d->train_idx[k]];
        if (!ci->h)
            continue;
        long r = lround((double)ci->h * ci->w / ((double)S * S));
        ni += r < 1 ? 1 : r > 4 ? 4 : r;
    }
    for (int k = 0; k < d->n_val; k++) {
        const struct cu_crop_image *ci = &d->img[d->val_idx[k]];
        if (ci->h)
            nv += (long)tiles_along(ci->h, S) * tiles_along(ci->w, S);
    }
    d->items = malloc(sizeof *d->items * (size_t)(ni > 0 ? ni : 1));
    d->tiles = malloc(sizeof *d->tiles * (size_t)(nv > 0 ? nv : 1));
    if (!d->items || !d->tiles)
        return cu_fail(err, CU_EIO, "out of host memory for %ld crops", ni + nv);
    d->n_items = d->n_val_items = 0;
    for (int k = 0; k < d->n_train; k++) {
        int i = d->train_idx[k];
        const struct cu_crop_image *ci = &d->img[i];
        if (!ci->h)
            continue;
        long r = lround((double)ci->h * ci->w / ((double)S * S));
        for (long q = 0; q < (r < 1 ? 1 : r > 4 ? 4 : r); q++)
            d->items[d->n_items++] = i;
    }
    for (int k = 0; k < d->n_val; k++) {
        int i = d->val_idx[k];
        const struct cu_crop_image *ci = &d->img[i];
        if (!ci->h)
            continue;
        for (int ty = 0; ty < tiles_along(ci->h, S); ty++)
            for (int tx = 0; tx < tiles_along(ci->w, S); tx++)
                d->tiles[d->n_val_items++] = (struct cu_crop_tile){i, tile_at(ci->h, S, ty), tile_at(ci->w, S, tx)};
    }
    if (d->n_items == 0)
        return cu_fail(err, CU_EINPUT, "%s: no training images to crop", d->ds->dir);
    return CU_OK;
}

void cu_crop_data_free(struct cu_train_data *d)
{
    if (d->img && d->ds)
        for (int i = 0; i < d->ds->n; i++) {
            free(d->img[i].px);
            free(d->img[i].bits);
        }
    free(d->img);
    free(d->tiles);
    if (d->crop)
        free(d->items);
    d->img = NULL, d->tiles = NULL, d->items = NULL;
}

/* numpy 'reflect' index of q in [0, L). */
static int reflect(int q, int L)
{
    if (L == 1)
        return 0;
    int period = 2 * (L - 1), m = q % period;
    if (m < 0)
        m += period;
    return m >= L ? period - m : m;
}

/* Uniform double in [0, 1). */
static double unif(uint64_t *rng) { return (double)(cu_rand_next(rng) >> 11) * (1.0 / 9007199254740992.0); }

/* Sample k of x, y: the window of ci at (oy, ox), step s source pixels per
 * output pixel (1: a plain copy; else bilinear for the image, nearest for
 * the targets). */
static void cut(const struct cu_train_data *d, const struct cu_crop_image *ci, double oy, double ox, double s,
                float *x, float *y)
{
    const int S = d->S, K = d->K, h = ci->h, w = ci->w;
    const size_t ss = (size_t)S * (size_t)S, hw = (size_t)h * (size_t)w;
    for (int r = 0; r < S; r++)
        for (int c = 0; c < S; c++) {
            double sy = oy + (r + 0.5) * s - 0.5, sx = ox + (c + 0.5) * s - 0.5;
            size_t o = (size_t)r * (size_t)S + (size_t)c;
            int ny = reflect((int)lround(sy), h), nx = reflect((int)lround(sx), w);
            uint8_t b = ci->bits[(size_t)ny * (size_t)w + (size_t)nx];
            for (int k = 0; k < K; k++)
                y[(size_t)k * ss + o] = (b >> k) & 1 ? 1.0f : 0.0f;
            for (int p = 0; p < ci->planes; p++) {
                const float *pl = ci->px + (size_t)p * hw;
                float v;
                if (s == 1.0) {
                    v = pl[(size_t)ny * (size_t)w + (size_t)nx];
                } else {
                    int y0 = (int)floor(sy), x0 = (int)floor(sx);
                    float fy = (float)(sy - y0), fx = (float)(sx - x0);
                    int ya = reflect(y0, h), yb = reflect(y0 + 1, h), xa = reflect(x0, w), xb = reflect(x0 + 1, w);
                    v = (1 - fy) * ((1 - fx) * pl[(size_t)ya * w + xa] + fx * pl[(size_t)ya * w + xb]) +
                        fy * ((1 - fx) * pl[(size_t)yb * w + xa] + fx * pl[(size_t)yb * w + xb]);
                }
                x[(size_t)p * ss + o] = v;
            }
        }
    for (int p = ci->planes; p < 3; p++) /* grey: the same plane thrice */
        memcpy(x + (size_t)p * ss, x, ss * sizeof *x);
}

/* Brightness, contrast and gamma, the same for the three planes:
 * v' = clamp(c (v^g - 0.5) + 0.5 + b), g and c log-uniform in
 * [0.7, 1/0.7] and [0.75, 1/0.75], b uniform in [-0.1, 0.1]. */
static void intensity(float *x, size_t n, uint64_t *rng)
{
    double g = exp(log(0.7) * (2 * unif(rng) - 1)), c = exp(log(0.75) * (2 * unif(rng) - 1));
    double b = 0.2 * unif(rng) - 0.1;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] > 0 ? pow(x[i], g) : 0.0;
        v = c * (v - 0.5) + 0.5 + b;
        x[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
}

void cu_crop_gather(const struct cu_train_data *d, const int *idx, int n, uint64_t *rng, float *x, float *y)
{
    const int S = d->S, K = d->K;
    const size_t ss = (size_t)S * (size_t)S;
    for (int k = 0; k < n; k++) {
        const struct cu_crop_image *ci = &d->img[idx[k]];
        float *xk = x + 3 * ss * (size_t)k, *yk = y + (size_t)K * ss * (size_t)k;
        double s = 1.0;
        if (d->jitter > 0)
            s = exp(log(1.0 + d->jitter) * (2 * unif(rng) - 1));
        double win = S * s, oy, ox;
        oy = ci->h > win ? floor(unif(rng) * (ci->h - win + 1)) : (ci->h - win) / 2;
        ox = ci->w > win ? floor(unif(rng) * (ci->w - win + 1)) : (ci->w - win) / 2;
        if (s == 1.0)
            oy = floor(oy), ox = floor(ox);
        cut(d, ci, oy, ox, s, xk, yk);
        if (d->augment) {
            int t = (int)(cu_rand_next(rng) >> 61);
            for (int p = 0; p < 3; p++)
                cu_augment_apply(xk + (size_t)p * ss, S, t, d->scratch);
            for (int c = 0; c < K; c++)
                cu_augment_apply(yk + (size_t)c * ss, S, t, d->scratch);
        }
        if (d->intensity)
            intensity(xk, 3 * ss, rng);
    }
}

void cu_crop_gather_val(const struct cu_train_data *d, int first, int n, float *x, float *y)
{
    const size_t ss = (size_t)d->S * (size_t)d->S;
    for (int k = 0; k < n; k++) {
        const struct cu_crop_tile *t = &d->tiles[first + k];
        cut(d, &d->img[t->img], t->oy, t->ox, 1.0, x + 3 * ss * (size_t)k, y + (size_t)d->K * ss * (size_t)k);
    }
}
