/* train_data.c: the trainer's dataset, split and random stream on top of
 * dataset.h (see train_data.h). */
#include "train/train_data.h"

#include <stdlib.h>

enum cu_status cu_train_data_load(const struct cu_train_config *cfg, struct cu_comm *comm, FILE *progress,
                                  struct cu_train_data *d, struct cu_err *err)
{
    struct cu_dataset_opts o = {.size = cfg->image_size, .need_masks = 1, .skip_bad = cfg->skip_bad, .threads = 2,
                                .progress = progress};
    cu_train_input(cfg, &o.input);
    d->S = cfg->image_size;
    d->K = cu_train_outputs(cfg);
    d->augment = cfg->augment;
    d->crop = cfg->crop;
    d->intensity = cfg->intensity;
    d->jitter = cfg->scale_jitter;
    enum cu_status st = cfg->crop ? cu_dataset_scan(cfg->data_dir, &o, &d->ds, err)
                                  : cu_dataset_open_shared(cfg->data_dir, &o, comm, &d->ds, err);
    if (!st && cfg->crop)
        st = cu_crop_data_load(cfg, progress, d, err);
    if (st)
        return st;
    d->n = d->ds->n;
    d->layout = cu_layout_name(d->ds->layout);
    d->order = malloc((size_t)(d->n > 0 ? d->n : 1) * sizeof(int));
    d->scratch = malloc((size_t)cfg->image_size * (size_t)cfg->image_size * sizeof(float));
    if (!d->order || !d->scratch)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", cfg->data_dir);
    cu_split_make(d->n, cfg->val_split, cfg->split_seed >= 0, (uint64_t)cfg->split_seed, d->order, &d->n_train);
    d->n_val = d->n - d->n_train;
    d->train_idx = d->order;
    d->val_idx = d->order + d->n_train;
    if (cfg->crop)
        return cu_crop_data_items(d, err);
    d->items = d->train_idx;
    d->n_items = d->n_train;
    d->n_val_items = d->n_val;
    return CU_OK;
}

void cu_train_data_free(struct cu_train_data *d)
{
    cu_crop_data_free(d);
    cu_dataset_free(d->ds);
    free(d->order);
    free(d->scratch);
    d->ds = NULL;
    d->order = NULL;
    d->scratch = NULL;
}

void cu_train_data_gather(const struct cu_train_data *d, const int *idx, int n, uint64_t *rng, float *x, float *y)
{
    if (d->crop) {
        cu_crop_gather(d, idx, n, rng, x, y);
        return;
    }
    cu_dataset_gather(d->ds, idx, n, x, y);
    if (rng && d->augment)
        cu_augment_batch(x, 3, y, 1, n, d->ds->size, rng, d->scratch);
}

void cu_train_data_gather_val(const struct cu_train_data *d, int first, int n, float *x, float *y)
{
    if (d->crop)
        cu_crop_gather_val(d, first, n, x, y);
    else
        cu_dataset_gather(d->ds, d->val_idx + first, n, x, y);
}

uint64_t cu_train_rng_for_epoch(uint64_t seed, int epoch)
{
    uint64_t s = seed ^ ((uint64_t)epoch * 0xD1B54A32D192ED03ull);
    return cu_rand_next(&s);
}

void cu_train_shuffle(uint64_t *rng, int *a, int n)
{
    /* j = floor(u * (i+1)) from the top 32 bits: bias below (i+1)/2^32. */
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(((cu_rand_next(rng) >> 32) * (uint64_t)(i + 1)) >> 32);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
