/* augment.c: the seeded generator, the train/validation split, gathering a
 * host batch, and the flips/rotations of --augment (dataset.h).
 *
 * Augmentation works on the host batch before upload: 8 dihedral transforms
 * of a square plane, one per sample, the same for image and mask, so a
 * label stays on its pixel. Training batches only; validation is never
 * augmented.
 *
 * Not here: loading (dataset.c). */
#include <string.h>

#include "clunet/dataset.h"

/* Uniform in [0, n); the modulo bias is below n / 2^64, negligible. */
static uint64_t below(uint64_t *state, uint64_t n)
{
    return cu_rand_next(state) % n;
}

void cu_split_make(int n, double val_frac, int shuffle, uint64_t seed, int *order, int *n_train)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    if (shuffle) {
        uint64_t s = seed;
        for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)below(&s, (uint64_t)i + 1);
            int t = order[i];
            order[i] = order[j], order[j] = t;
        }
    }
    /* Keras: split_at = int(n * (1 - validation_split)) */
    int nt = (int)((double)n * (1.0 - val_frac));
    *n_train = nt < 0 ? 0 : nt > n ? n : nt;
}

void cu_dataset_gather(const struct cu_dataset *ds, const int *idx, int b, float *x, float *y)
{
    size_t ss = (size_t)ds->size * (size_t)ds->size;
    for (int k = 0; k < b; k++) {
        memcpy(x + 3 * ss * (size_t)k, ds->images + 3 * ss * (size_t)idx[k], 3 * ss * sizeof *x);
        if (y && ds->masks)
            memcpy(y + ss * (size_t)k, ds->masks + ss * (size_t)idx[k], ss * sizeof *y);
    }
}

void cu_augment_apply(float *plane, int s, int t, float *scratch)
{
    if (t == 0)
        return;
    int rot = t & 3, flip = t >= 4, m = s - 1;
    memcpy(scratch, plane, sizeof *plane * (size_t)s * (size_t)s);
    for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++) {
            int jj = flip ? m - j : j, a, b;
            switch (rot) { /* numpy.rot90(src, rot)[i][jj] */
            case 0: a = i, b = jj; break;
            case 1: a = jj, b = m - i; break;
            case 2: a = m - i, b = m - jj; break;
            default: a = m - jj, b = i; break;
            }
            plane[(size_t)i * (size_t)s + (size_t)j] = scratch[(size_t)a * (size_t)s + (size_t)b];
        }
}

void cu_augment_batch(float *x, int cx, float *y, int cy, int b, int s, uint64_t *rng, float *scratch)
{
    size_t ss = (size_t)s * (size_t)s;
    for (int k = 0; k < b; k++) {
        int t = (int)(cu_rand_next(rng) >> 61); /* 0..7 */
        for (int c = 0; c < cx; c++)
            cu_augment_apply(x + ((size_t)k * (size_t)cx + (size_t)c) * ss, s, t, scratch);
        for (int c = 0; y && c < cy; c++)
            cu_augment_apply(y + ((size_t)k * (size_t)cy + (size_t)c) * ss, s, t, scratch);
    }
}
